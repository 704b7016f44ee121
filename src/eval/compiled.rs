//! The compiled decision: each setting's decision diagram over the answer
//! classes of the questions, in the order they are asked, with the level and
//! police response at its ends. It is what a rule pack ships as `decision`
//! (see `pack::CompiledDecision`), so that an app reaches the level by
//! following one branch per question it meets, with no JsonLogic, and so
//! that the next question worth asking is where the walk stops.
//!
//! It is built from the pack's compiled conditions with the builder of
//! `diagram.rs`, then simplified where answers cannot occur: a question
//! whose possible answers all lead to the same place is not asked there,
//! whatever an impossible answer would do. So every node on a walk is a
//! question that applies to the incident (the walk never meets a question
//! that the answers so far leave unasked) and whose answer still matters.
//! The carepath reader rebuilds it from the rules and refuses a pack whose
//! shipped diagram differs, so the diagram and the JsonLogic always agree.

use rustc_hash::FxHashMap;

use super::classes::{Classes, UNSET};
use super::diagram::{
    Builder, NodeId, Op, Run, Source, allowed, condition, is_terminal, terminal, value,
};
use serde_json::Value;

use super::decide::{police_for, rank};
use super::expr::Val;
use crate::emit::pack::{
    CompiledDecision, DecisionBranch, DecisionNode, DecisionOutcome, DecisionStart, NoLevel,
    OutcomePolice, Police, PolicyKind, QuestionKind, Response, RulePack,
};

/// The police response of each rule and level, as keys: a greater key is
/// more police (ties broken by the order the pack first names them).
pub struct PoliceKeys<'a> {
    /// Per deciding rule, per setting: its key for incidents it decides.
    pub rule: &'a [Vec<u32>],
    /// Per level, per setting: the level's key.
    pub level: &'a [Vec<u32>],
    /// How many keys there are.
    pub keys: u32,
    /// The setting question, when the pack has one.
    pub setting: Option<usize>,
    /// How many settings there are (at least one).
    pub settings: usize,
}

/// Where a branch leads: a node, an outcome, or nowhere (answers that
/// cannot occur there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Node(u32),
    Outcome(u32),
    Impossible,
}

/// What an end of the diagram decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    /// A level, with the police key of the response.
    Level { level: usize, key: u32 },
    /// No rule applies and the protocol has no `otherwise`.
    Undecided,
    /// Rules of different levels apply under `no-overlap`.
    Conflict,
}

/// A node: the question it asks and its branches as runs of answer
/// classes (`(end, target)`: the classes from the previous end up to
/// `end`, excluded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub question: usize,
    pub runs: Vec<(u32, Target)>,
}

/// The compiled decision of a pack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Per setting (in the pack's order): where the walk starts.
    pub starts: Vec<Target>,
    /// Numbered in the order a depth-first walk from the starts meets them.
    pub nodes: Vec<Node>,
    /// The ends the diagram reaches, in a fixed order.
    pub ends: Vec<End>,
}

/// Where a walk ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walked {
    /// At an end (an index into [`Compiled::ends`]).
    End(u32),
    /// At a node (an index into [`Compiled::nodes`]) whose question has no
    /// answer yet.
    Open { question: usize, node: u32 },
    /// At an answer that cannot occur there.
    Impossible,
}

/// The values at the ends of a decision diagram whose ends are a level
/// with its police response: `1 + level * keys + key`, then no level, then
/// a conflict, then "impossible" (answers that break an "asked when"); 0
/// is "nothing yet" while rules are folded together.
#[derive(Clone, Copy, Debug)]
pub(super) struct Codes {
    keys: u32,
    levels: u32,
}

impl Codes {
    pub(super) fn new(levels: usize, keys: u32) -> Codes {
        Codes {
            keys: keys.max(1),
            levels: levels as u32,
        }
    }

    fn level(self, level: usize, key: u32) -> u32 {
        1 + level as u32 * self.keys + key
    }

    fn undecided(self) -> u32 {
        1 + self.levels * self.keys
    }

    fn conflict(self) -> u32 {
        self.undecided() + 1
    }

    pub(super) fn impossible(self) -> u32 {
        self.undecided() + 2
    }

    /// The greatest value of an end (ends are `1..=last_end`).
    pub(super) fn last_end(self) -> u32 {
        self.conflict()
    }

    /// What the end of value `v` (not "impossible") decides.
    pub(super) fn decode(self, v: u32) -> End {
        if v == self.undecided() {
            End::Undecided
        } else if v == self.conflict() {
            End::Conflict
        } else {
            End::Level {
                level: ((v - 1) / self.keys) as usize,
                key: (v - 1) % self.keys,
            }
        }
    }
}

/// The setting question and the answer class of setting `si`, when the
/// pack has settings.
fn setting_cell(s: &Source<'_>, keys: &PoliceKeys<'_>, si: usize) -> Option<(usize, u32)> {
    keys.setting.and_then(|sq| {
        s.cells[sq]
            .iter()
            .position(|c| *c == Some(Val::Opt(si as u32)))
            .map(|c| (sq, c as u32))
    })
}

/// The decision of every incident as one diagram, ends coded by `codes`:
/// each setting's decision (the level under the pack's policy and the
/// police response of the rules that decide it there, the most police of
/// them) joined under the setting question, and "impossible" where the
/// answers break an "asked when". The compiled decision is this diagram
/// simplified; the engine judges partial answers on it as it is.
pub(super) fn decision_root(
    m: &mut Builder,
    s: &Source<'_>,
    keys: &PoliceKeys<'_>,
    codes: Codes,
) -> NodeId {
    // One diagram per setting, joined under the setting question.
    let by_setting =
        |m: &mut Builder, per: &mut dyn FnMut(&mut Builder, usize) -> NodeId| match keys.setting {
            None => per(m, 0),
            Some(sq) => {
                let mut runs: Vec<Run> = Vec::new();
                for (c, cell) in s.cells[sq].iter().enumerate() {
                    let child = match cell {
                        Some(Val::Opt(i)) => per(m, *i as usize),
                        _ => terminal(0),
                    };
                    runs.push((c as u32 + 1, child));
                }
                m.mk(sq, &mut runs)
            }
        };
    let mut items = Vec::with_capacity(s.rules.len() + 1);
    for (r, (e, l)) in s.rules.iter().zip(s.rule_level).enumerate() {
        let n = condition(m, e, s.cells);
        let tagged = by_setting(m, &mut |m, si| {
            let below = match setting_cell(s, keys, si) {
                Some((sq, c)) => m.store.cofactor(n, sq, c),
                None => n,
            };
            m.tag(below, codes.level(*l, keys.rule[r][si]))
        });
        items.push(tagged);
    }
    let otherwise = by_setting(m, &mut |_, si| match s.otherwise {
        Some(o) => terminal(codes.level(o, keys.level[o][si])),
        None => terminal(codes.undecided()),
    });
    let decided = match s.policy {
        PolicyKind::FirstMatch => {
            items.push(otherwise);
            m.fold(Op::First, items, otherwise)
        }
        PolicyKind::MostSerious => {
            let level = m.fold(Op::Max, items, terminal(0));
            m.apply(Op::First, level, otherwise)
        }
        PolicyKind::NoOverlap => {
            let agree = Op::AgreeMax {
                conflict: codes.conflict(),
                keys: codes.keys,
            };
            let level = m.fold(agree, items, terminal(0));
            m.apply(Op::First, level, otherwise)
        }
    };
    let allowed = allowed(m, s);
    let ruled_out = m.not(allowed);
    let ruled_out = m.tag(ruled_out, codes.impossible());
    m.apply(Op::First, ruled_out, decided)
}

impl Compiled {
    /// The compiled decision, or `None` when the diagram needs more nodes
    /// than the builder's budget.
    pub fn build(s: &Source<'_>, keys: &PoliceKeys<'_>) -> Option<Compiled> {
        let sizes: Vec<u32> = s.cells.iter().map(|c| c.len() as u32).collect();
        let mut m = Builder::new(sizes.clone());
        let codes = Codes::new(s.levels, keys.keys);
        let impossible = codes.impossible();
        let root = decision_root(&mut m, s, keys, codes);
        if m.exhausted {
            return None;
        }

        // Simplify where answers cannot occur, bottom up.
        let mut c = Builder::new(sizes);
        let mut memo: FxHashMap<NodeId, NodeId> = FxHashMap::default();
        let mut stack = vec![(root, false)];
        while let Some((n, expanded)) = stack.pop() {
            if is_terminal(n) || memo.contains_key(&n) {
                continue;
            }
            let runs = m.store.runs(n);
            if !expanded {
                stack.push((n, true));
                stack.extend(
                    runs.iter()
                        .filter(|(_, k)| !is_terminal(*k) && !memo.contains_key(k))
                        .map(|(_, k)| (*k, false)),
                );
                continue;
            }
            let get = |k: NodeId| if is_terminal(k) { k } else { memo[&k] };
            let mut new_runs: Vec<Run> = runs.iter().map(|(end, k)| (*end, get(*k))).collect();
            let mut possible = new_runs
                .iter()
                .map(|r| r.1)
                .filter(|k| *k != terminal(impossible));
            let first = possible.next();
            let simplified = match first {
                None => terminal(impossible),
                Some(f) if possible.all(|k| k == f) => f,
                Some(_) => c.mk(m.store.var(n), &mut new_runs),
            };
            memo.insert(n, simplified);
            if c.exhausted {
                return None;
            }
        }
        let root = if is_terminal(root) { root } else { memo[&root] };

        // Number the nodes from each setting's start, depth first.
        let starts_raw: Vec<NodeId> = (0..keys.settings)
            .map(|si| match setting_cell(s, keys, si) {
                Some((sq, cell)) => c.store.cofactor(root, sq, cell),
                None => root,
            })
            .collect();
        let mut index: FxHashMap<NodeId, u32> = FxHashMap::default();
        let mut order: Vec<NodeId> = Vec::new();
        let mut ends_seen: Vec<u32> = Vec::new();
        for start in &starts_raw {
            let mut stack = vec![*start];
            while let Some(n) = stack.pop() {
                if is_terminal(n) {
                    let v = value(n);
                    if v != impossible && !ends_seen.contains(&v) {
                        ends_seen.push(v);
                    }
                    continue;
                }
                if index.contains_key(&n) {
                    continue;
                }
                index.insert(n, order.len() as u32);
                order.push(n);
                stack.extend(c.store.runs(n).iter().rev().map(|r| r.1));
            }
        }
        ends_seen.sort_unstable();
        let target = |n: NodeId| {
            if is_terminal(n) {
                let v = value(n);
                if v == impossible {
                    Target::Impossible
                } else {
                    let i = ends_seen.iter().position(|e| *e == v).unwrap_or_default();
                    Target::Outcome(i as u32)
                }
            } else {
                Target::Node(index[&n])
            }
        };
        Some(Compiled {
            starts: starts_raw.iter().map(|n| target(*n)).collect(),
            nodes: order
                .iter()
                .map(|n| Node {
                    question: c.store.var(*n),
                    runs: c
                        .store
                        .runs(*n)
                        .iter()
                        .map(|(end, k)| (*end, target(*k)))
                        .collect(),
                })
                .collect(),
            ends: ends_seen.iter().map(|v| codes.decode(*v)).collect(),
        })
    }

    /// Walk setting `si`'s diagram: `cell(q)` is the answer class of
    /// question `q`, or `None` when it has no answer.
    #[inline]
    pub fn walk(&self, si: usize, mut cell: impl FnMut(usize) -> Option<u32>) -> Walked {
        let mut at = self.starts[si];
        loop {
            match at {
                Target::Node(n) => {
                    let node = &self.nodes[n as usize];
                    let Some(c) = cell(node.question) else {
                        return Walked::Open {
                            question: node.question,
                            node: n,
                        };
                    };
                    let i = node.runs.partition_point(|r| r.0 <= c);
                    match node.runs.get(i) {
                        Some(r) => at = r.1,
                        None => return Walked::Impossible,
                    }
                }
                Target::Outcome(e) => return Walked::End(e),
                Target::Impossible => return Walked::Impossible,
            }
        }
    }
}

/// Ends of the compiled decision as a set: bit `e` for end `e` (a level
/// with its police response, no level, or a conflict).
pub type Outcomes = u64;

impl Compiled {
    /// The outcomes some completion of `class` reaches below `target`,
    /// following the answers given and, for a question without one, every
    /// class it can have there: "not asked" only where its "asked when"
    /// may not hold, an answer only where it may. A class that some
    /// "asked when" tests is tried one by one and set while the walk goes
    /// below it; the others a run at a time. `None` when the search would
    /// visit more than `budget` nodes, or the diagram has too many ends for
    /// [`Outcomes`].
    ///
    /// The set can hold an outcome that no completion has only when two
    /// questions below depend on one that is neither answered nor on the
    /// walk, in ways that exclude each other; it never misses one.
    pub fn outcomes_below(
        &self,
        target: Target,
        class: &mut [u32],
        classes: &Classes,
        budget: &mut u32,
    ) -> Option<Outcomes> {
        if self.ends.len() > Outcomes::BITS as usize {
            return None;
        }
        let n = match target {
            Target::Outcome(e) => return Some(1 << e),
            Target::Impossible => return Some(0),
            Target::Node(n) => n,
        };
        *budget = budget.checked_sub(1)?;
        let node = &self.nodes[n as usize];
        let q = node.question;
        if class[q] != UNSET {
            let i = node.runs.partition_point(|r| r.0 <= class[q]);
            return match node.runs.get(i) {
                Some(r) => self.outcomes_below(r.1, class, classes, budget),
                None => Some(0),
            };
        }
        let asked = classes.asked(q, class);
        let not_asked = classes.not_asked(q);
        let possible = |c: u32| {
            if Some(c) == not_asked {
                asked != Some(true)
            } else {
                asked != Some(false)
            }
        };
        let one_by_one = classes.tested_by_asked(q);
        let mut found = 0;
        let mut from = 0;
        for (end, below) in &node.runs {
            let run = from..*end;
            from = *end;
            if one_by_one {
                for c in run.filter(|c| possible(*c)) {
                    class[q] = c;
                    let below = self.outcomes_below(*below, class, classes, budget);
                    class[q] = UNSET;
                    found |= below?;
                }
            } else if run.clone().any(possible) {
                found |= self.outcomes_below(*below, class, classes, budget)?;
            }
        }
        Some(found)
    }
}

/// Police responses as keys (see [`PoliceKeys`]): the distinct responses
/// (with who judges) of the levels and deciding rules, ordered so that a
/// greater key is more police; `unstated` is below every other, and of two
/// of the same rank the one the pack names first is greater.
pub struct PoliceTable {
    /// Per key: the response and who judges.
    pub values: Vec<(Response, Option<String>)>,
    /// Per deciding rule, per setting.
    pub rule: Vec<Vec<u32>>,
    /// Per level, per setting.
    pub level: Vec<Vec<u32>>,
}

impl PoliceTable {
    /// The table of a pack whose deciding rules are `deciding` (pack rule
    /// indices), giving the levels `rule_level` (one per deciding rule).
    pub fn new(pack: &RulePack, deciding: &[usize], rule_level: &[usize]) -> PoliceTable {
        let settings: Vec<&str> = pack.settings.iter().map(|s| s.id.as_str()).collect();
        let unstated = Police {
            response: Response::Unstated,
            by: None,
            settings: Vec::new(),
        };
        let level_police =
            |l: usize, s: &str| police_for(&pack.levels[l].police, s).unwrap_or(&unstated);
        let level: Vec<Vec<&Police>> = (0..pack.levels.len())
            .map(|l| settings.iter().map(|s| level_police(l, s)).collect())
            .collect();
        let rule: Vec<Vec<&Police>> = deciding
            .iter()
            .zip(rule_level)
            .map(|(r, l)| {
                settings
                    .iter()
                    .map(|s| {
                        police_for(&pack.rules[*r].police, s).unwrap_or_else(|| level_police(*l, s))
                    })
                    .collect()
            })
            .collect();
        let mut named: Vec<(Response, Option<String>)> = Vec::new();
        for p in level.iter().chain(&rule).flatten() {
            let v = (p.response, p.by.clone());
            if !named.contains(&v) {
                named.push(v);
            }
        }
        // Least police first; of equal rank, the one named first last.
        let mut values: Vec<(usize, (Response, Option<String>))> =
            named.into_iter().enumerate().collect();
        values.sort_by_key(|(i, (r, _))| (rank(*r).map_or(-1, i32::from), std::cmp::Reverse(*i)));
        let values: Vec<(Response, Option<String>)> = values.into_iter().map(|(_, v)| v).collect();
        let key = |p: &Police| {
            values
                .iter()
                .position(|(r, by)| *r == p.response && *by == p.by)
                .unwrap_or_default() as u32
        };
        PoliceTable {
            rule: rule
                .iter()
                .map(|ps| ps.iter().map(|p| key(p)).collect())
                .collect(),
            level: level
                .iter()
                .map(|ps| ps.iter().map(|p| key(p)).collect())
                .collect(),
            values,
        }
    }

    /// The key of a response with who judges.
    pub fn key_of(&self, p: &Police) -> Option<u32> {
        self.values
            .iter()
            .position(|(r, by)| *r == p.response && *by == p.by)
            .map(|k| k as u32)
    }
}

/// The pack's form of a compiled decision: questions, answers and levels
/// by id, numbers as the answers object has them.
pub fn to_pack(
    c: &Compiled,
    pack: &RulePack,
    cells: &[Vec<Option<Val>>],
    police: &PoliceTable,
) -> CompiledDecision {
    let at = |t: Target| match t {
        Target::Node(n) => (Some(n), None),
        Target::Outcome(o) => (None, Some(o)),
        Target::Impossible => (None, None),
    };
    let number = |q: usize, n: i64| -> serde_json::Number {
        if pack.questions[q].kind == QuestionKind::Amount && n % 100 != 0 {
            serde_json::Number::from_f64(n as f64 / 100.0).unwrap_or_else(|| 0.into())
        } else if pack.questions[q].kind == QuestionKind::Amount {
            (n / 100).into()
        } else {
            n.into()
        }
    };
    CompiledDecision {
        starts: c
            .starts
            .iter()
            .zip(&pack.settings)
            .map(|(t, s)| {
                let (node, outcome) = at(*t);
                DecisionStart {
                    setting: s.id.clone(),
                    node,
                    outcome,
                }
            })
            .collect(),
        nodes: c
            .nodes
            .iter()
            .map(|n| {
                let q = n.question;
                let question = &pack.questions[q];
                let mut from = 0usize;
                let mut branches = Vec::new();
                for (end, t) in &n.runs {
                    let range = from..*end as usize;
                    from = *end as usize;
                    if *t == Target::Impossible {
                        continue;
                    }
                    let mut b = DecisionBranch {
                        answers: Vec::new(),
                        at_least: None,
                        below: None,
                        not_asked: false,
                        node: None,
                        outcome: None,
                    };
                    for cell in &cells[q][range.clone()] {
                        match cell {
                            Some(Val::Bool(x)) => b.answers.push(Value::Bool(*x)),
                            Some(Val::Opt(o)) => b
                                .answers
                                .push(Value::String(question.options[*o as usize].id.clone())),
                            Some(Val::Num(x)) => {
                                if b.at_least.is_none() {
                                    b.at_least = Some(number(q, *x));
                                }
                            }
                            None => b.not_asked = true,
                        }
                    }
                    if b.at_least.is_some()
                        && let Some(Some(Val::Num(next))) = cells[q].get(range.end)
                    {
                        b.below = Some(number(q, *next));
                    }
                    (b.node, b.outcome) = at(*t);
                    branches.push(b);
                }
                DecisionNode {
                    question: question.id.clone(),
                    branches,
                }
            })
            .collect(),
        outcomes: c
            .ends
            .iter()
            .map(|e| match e {
                End::Level { level, key } => {
                    let (response, by) = police.values[*key as usize].clone();
                    DecisionOutcome {
                        level: Some(pack.levels[*level].id.clone()),
                        police: Some(OutcomePolice { response, by }),
                        no_level: None,
                    }
                }
                End::Undecided | End::Conflict => DecisionOutcome {
                    level: None,
                    police: None,
                    no_level: Some(if *e == End::Conflict {
                        NoLevel::Conflict
                    } else {
                        NoLevel::Gap
                    }),
                },
            })
            .collect(),
    }
}
