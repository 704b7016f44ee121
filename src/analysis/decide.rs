//! The decision space: every possible incident, and the level it gets.
//!
//! Each rule's condition is a boolean diagram. The space builds only
//! diagrams that stay small or saturate however many rules there are:
//!
//! - per level, where some rule of that level matches (a union) and where
//!   two or more do (a count up to two);
//! - per level, where a rule that would overrule it matches: a more serious
//!   level (most-serious) or another level (no-overlap);
//! - where no rule matches;
//! - first-match: for each rule, where an earlier rule matches.
//!
//! It never builds the product of two such diagrams (for sparse rule sets,
//! products are what grow out of hand). A question about several diagrams
//! at once, such as "is there a possible incident in this example's region
//! where a more serious rule matches?", is one search through them together
//! that stops at the first answer.
//!
//! Whether a rule ever decides is such a search, per rule:
//!
//! - most serious wins: somewhere it matches, nothing more serious matches
//!   and no other rule of its level does;
//! - first match wins: somewhere it matches, no earlier rule does;
//! - must not overlap: somewhere it matches, no other rule of its level does.

use std::sync::Arc;

use crate::analysis::domain::Domain;
use crate::analysis::mdd::{FALSE, Mdd, NodeId, Op, Step, is_terminal, terminal, value};
use crate::model::{LevelId, Model, Policy, QuestionId, RuleId};

/// What an incident is decided as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// No rule matches.
    Nothing,
    Level(LevelId),
    /// Rules of different levels match (no-overlap only).
    Conflict,
}

/// A protocol's answer space with its diagrams.
pub struct Space<'m> {
    pub model: &'m Model,
    pub domain: Domain,
    pub mdd: Mdd,
    /// The possible incidents ("asked when" respected).
    pub valid: NodeId,
    /// Every question's id, shared by the witnesses of this space.
    pub question_ids: Arc<[String]>,
    /// Each rule's condition (not restricted to possible incidents). Only
    /// rules that decide (not `may`, which suggests) take part in the
    /// diagrams below.
    pub rules: Vec<NodeId>,
    /// Each procedure's condition.
    pub procedures: Vec<NodeId>,
    /// Per level: where some rule of that level matches.
    pub by_level: Vec<NodeId>,
    /// Per level: where a rule that overrules it matches (most-serious: a
    /// more serious level; no-overlap: any other level; first-match: unused).
    pub rivals: Vec<NodeId>,
    /// Where no rule matches.
    pub nothing: NodeId,
    /// First-match: for each rule, where an earlier rule matches.
    earlier: Vec<NodeId>,
    /// Per level: 0, 1 or 2 ("two or more") rules of that level match.
    counts: Vec<NodeId>,
    deciding: Option<Vec<bool>>,
}

impl<'m> Space<'m> {
    /// The space with questions tested in the order they are declared.
    pub fn new(model: &'m Model) -> Space<'m> {
        Space::with_order(model, None)
    }

    /// The space with the safety questions tested first ([`safety_order`]).
    pub fn safety_first(model: &'m Model) -> Space<'m> {
        let order = safety_order(model);
        Space::with_order(model, Some(&order))
    }

    /// The space the question diagram is drawn from ([`drawing_order`]):
    /// the safety questions first, the others where they are drawn fewest
    /// times.
    pub fn for_drawing(model: &'m Model) -> Space<'m> {
        let order = drawing_order(model);
        Space::with_order(model, Some(&order))
    }

    /// The space with questions tested in `order` (every question once), or
    /// in declared order.
    pub fn with_order(model: &'m Model, order: Option<&[usize]>) -> Space<'m> {
        let domain = Domain::new(model);
        let mut mdd = Mdd::new(domain.sizes());
        if let Some(order) = order {
            mdd = mdd.with_order(order);
        }
        let valid = domain.valid(&mut mdd, model);
        let rules: Vec<NodeId> = model
            .rules
            .iter()
            .map(|r| domain.cond(&mut mdd, &r.when))
            .collect();
        let procedures: Vec<NodeId> = model
            .procedures
            .iter()
            .map(|p| domain.cond(&mut mdd, &p.when))
            .collect();
        let breadth: Vec<usize> = model.rules.iter().map(|r| r.when.atoms().len()).collect();
        let levels = model.levels.len();
        let broad = |l: usize| broad_first(model, LevelId(l as u32), &breadth, &rules);
        let by_level: Vec<NodeId> = (0..levels)
            .map(|l| mdd.accumulate(Op::Or, broad(l), FALSE))
            .collect();
        let policy = model.header.policy.value;
        let mut rivals = vec![FALSE; levels];
        match policy {
            Policy::MostSerious => {
                let mut above = FALSE;
                for l in (0..levels).rev() {
                    rivals[l] = above;
                    above = mdd.apply(Op::Or, above, by_level[l]);
                }
            }
            Policy::NoOverlap => {
                for (l, rival) in rivals.iter_mut().enumerate() {
                    let others = (0..levels)
                        .filter(|o| *o != l)
                        .map(|o| by_level[o])
                        .collect();
                    *rival = mdd.accumulate(Op::Or, others, FALSE);
                }
            }
            Policy::FirstMatch => {}
        }
        let counts: Vec<NodeId> = if policy == Policy::FirstMatch {
            Vec::new()
        } else {
            (0..levels)
                .map(|l| mdd.accumulate(Op::Count2, broad(l), terminal(0)))
                .collect()
        };
        let any = mdd.accumulate(Op::Or, by_level.clone(), FALSE);
        let nothing = mdd.not(any);
        let mut earlier = Vec::new();
        if policy == Policy::FirstMatch {
            let mut so_far = FALSE;
            for (r, rule) in rules.iter().zip(&model.rules) {
                earlier.push(so_far);
                if rule.decides() {
                    so_far = mdd.apply(Op::Or, so_far, *r);
                }
            }
        }
        Space {
            model,
            domain,
            mdd,
            valid,
            question_ids: model.questions.iter().map(|q| q.meta.id.clone()).collect(),
            rules,
            procedures,
            by_level,
            rivals,
            nothing,
            earlier,
            counts,
            deciding: None,
        }
    }

    /// The level an outcome gives (the `otherwise` level when no rule
    /// matches); `None` for no level or a conflict.
    pub fn level_of(&self, o: Outcome) -> Option<LevelId> {
        match o {
            Outcome::Nothing => self.model.header.otherwise.as_ref().map(|o| o.value),
            Outcome::Level(l) => Some(l),
            Outcome::Conflict => None,
        }
    }

    /// Where rule `r` decides the incident: it matches and nothing
    /// overrules it under the policy (under no-overlap, where another
    /// level matches too there is a conflict, not a decision).
    pub fn decided_by_rule(&mut self, r: RuleId) -> NodeId {
        let rule = self.model.rule(r);
        if !rule.decides() {
            return FALSE;
        }
        let cond = self.rules[r.index()];
        let against = match self.model.header.policy.value {
            Policy::FirstMatch => self.earlier[r.index()],
            Policy::MostSerious | Policy::NoOverlap => self.rivals[rule.level.index()],
        };
        let not = self.mdd.not(against);
        self.mdd.apply(Op::And, cond, not)
    }

    /// Where incidents are decided at level `l`: by one of its rules, or
    /// by `otherwise` where no rule matches.
    pub fn decided_at(&mut self, l: LevelId) -> NodeId {
        let rules: Vec<RuleId> = rules_of(self.model, l).collect();
        let mut parts: Vec<NodeId> = rules.into_iter().map(|r| self.decided_by_rule(r)).collect();
        if self.level_of(Outcome::Nothing) == Some(l) {
            parts.push(self.nothing);
        }
        self.mdd.fold(Op::Or, parts, FALSE)
    }

    /// The deciding rules that match one incident (a cell per question).
    pub fn matching_at(&self, cells: &[u32]) -> Vec<RuleId> {
        (0..self.rules.len())
            .filter(|r| self.model.rules[*r].decides())
            .filter(|r| self.mdd.eval(self.rules[*r], cells) == 1)
            .map(|r| RuleId(r as u32))
            .collect()
    }

    /// What one incident is decided as, under the policy.
    pub fn outcome_at(&self, cells: &[u32]) -> Outcome {
        let matching = self.matching_at(cells);
        let level = |r: &RuleId| self.model.rule(*r).level;
        match self.model.header.policy.value {
            _ if matching.is_empty() => Outcome::Nothing,
            Policy::MostSerious => matching
                .iter()
                .map(level)
                .max()
                .map_or(Outcome::Nothing, Outcome::Level),
            Policy::FirstMatch => Outcome::Level(level(&matching[0])),
            Policy::NoOverlap => {
                let first = level(&matching[0]);
                if matching.iter().all(|r| level(r) == first) {
                    Outcome::Level(first)
                } else {
                    Outcome::Conflict
                }
            }
        }
    }

    /// Every outcome of some possible incident, except conflicts (which the
    /// analysis finds pair by pair).
    pub fn outcomes(&mut self) -> Vec<Outcome> {
        let mut out = Vec::new();
        if self.overlap(&[self.nothing]) {
            out.push(Outcome::Nothing);
        }
        if self.model.header.policy.value == Policy::FirstMatch {
            let deciding = self.deciding().to_vec();
            for (r, d) in deciding.iter().enumerate() {
                if *d {
                    out.push(Outcome::Level(self.model.rules[r].level));
                }
            }
        } else {
            for l in 0..self.by_level.len() {
                let roots = [self.by_level[l], self.rivals[l], self.valid];
                if self.mdd.find(&roots, &|v| v == [1, 0, 1]).is_some() {
                    out.push(Outcome::Level(LevelId(l as u32)));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// A possible incident in `region` that is not decided as level `l`.
    pub fn wrong_level(&mut self, region: NodeId, l: LevelId) -> Option<Vec<Step>> {
        let valid = self.valid;
        let otherwise_is_l = self.level_of(Outcome::Nothing) == Some(l);
        if self.model.header.policy.value == Policy::FirstMatch {
            // The first matching rule is one of another level...
            for r in 0..self.rules.len() {
                if self.model.rules[r].level == l || !self.model.rules[r].decides() {
                    continue;
                }
                let roots = [region, valid, self.rules[r], self.earlier[r]];
                let path = self.mdd.find(&roots, &|v| v == [1, 1, 1, 0]);
                if path.is_some() {
                    return path;
                }
            }
            // ...or no rule matches and `otherwise` is not `l`.
            if !otherwise_is_l {
                return self
                    .mdd
                    .find(&[region, valid, self.nothing], &|v| v == [1, 1, 1]);
            }
            return None;
        }
        // Decided as `l` exactly where a rule of `l` matches and no rival
        // does, or (when `l` is the otherwise level) where no rule matches.
        let li = l.index();
        let roots = [
            region,
            valid,
            self.by_level[li],
            self.rivals[li],
            self.nothing,
        ];
        self.mdd.find(&roots, &|v| {
            let is_l = (v[2] == 1 && v[3] == 0) || (otherwise_is_l && v[4] == 1);
            v[0] == 1 && v[1] == 1 && !is_l
        })
    }

    /// Whether some possible incident satisfies all of `diagrams` (at most
    /// four).
    pub fn overlap(&self, diagrams: &[NodeId]) -> bool {
        let mut roots = diagrams.to_vec();
        roots.push(self.valid);
        if roots.contains(&FALSE) {
            return false;
        }
        self.mdd
            .find(&roots, &|v| v.iter().all(|x| *x == 1))
            .is_some()
    }

    /// Per rule, whether it decides some possible incident under the
    /// policy (see the module's documentation).
    pub fn deciding(&mut self) -> &[bool] {
        if self.deciding.is_none() {
            let d = self.compute_deciding();
            self.deciding = Some(d);
        }
        self.deciding.as_deref().unwrap_or_default()
    }

    fn compute_deciding(&self) -> Vec<bool> {
        let model = self.model;
        (0..model.rules.len())
            .map(|r| match model.header.policy.value {
                _ if !model.rules[r].decides() => false,
                Policy::FirstMatch => {
                    let roots = [self.rules[r], self.valid, self.earlier[r]];
                    self.mdd.find(&roots, &|v| v == [1, 1, 0]).is_some()
                }
                // Matching (so the count is at least one), the count is
                // exactly one, and no more serious level matches. Under
                // no-overlap other levels do not overrule: they conflict,
                // which is a finding of its own.
                Policy::MostSerious => {
                    let l = model.rules[r].level.index();
                    let roots = [self.rules[r], self.valid, self.rivals[l], self.counts[l]];
                    self.mdd.find(&roots, &|v| v == [1, 1, 0, 1]).is_some()
                }
                Policy::NoOverlap => {
                    let l = model.rules[r].level.index();
                    let roots = [self.rules[r], self.valid, self.counts[l]];
                    self.mdd.find(&roots, &|v| v == [1, 1, 1]).is_some()
                }
            })
            .collect()
    }

    /// The level diagram: a terminal per incident saying what it is decided
    /// as (0 nothing, `1 + l` level `l`, `1 + levels` a conflict). Built on
    /// request: it can be far larger than the diagrams above.
    pub fn level_diagram(&mut self) -> NodeId {
        let model = self.model;
        let levels = model.levels.len();
        let coded = |mdd: &mut Mdd, n: NodeId, code: u32, tag: u64| {
            mdd.relabel(n, tag, &move |v| if v == 1 { code } else { 0 })
        };
        // Each level's union, its terminals coded as the level.
        let mut coded_levels = || -> Vec<NodeId> {
            (0..levels)
                .map(|l| {
                    let tag = 1 << 40 | l as u64;
                    coded(&mut self.mdd, self.by_level[l], 1 + l as u32, tag)
                })
                .collect()
        };
        match model.header.policy.value {
            Policy::MostSerious => {
                let top_first: Vec<NodeId> = coded_levels().into_iter().rev().collect();
                self.mdd.accumulate(Op::Otherwise, top_first, terminal(0))
            }
            Policy::FirstMatch => {
                let in_order: Vec<NodeId> = (0..self.rules.len())
                    .filter(|r| model.rules[*r].decides())
                    .map(|r| {
                        let code = 1 + model.rules[r].level.0;
                        coded(&mut self.mdd, self.rules[r], code, r as u64)
                    })
                    .collect();
                self.mdd.fold(Op::Otherwise, in_order, terminal(0))
            }
            Policy::NoOverlap => {
                let each = coded_levels();
                let conflict = 1 + levels as u32;
                self.mdd
                    .accumulate(Op::Agree { conflict }, each, terminal(0))
            }
        }
    }
}

/// The decision as a flowchart: each node asks one question and branches
/// on its answers; every path ends in what the incident is decided as. It
/// is the level diagram restricted to possible incidents, so it asks the
/// questions in the protocol's order, only where the answer matters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chart {
    pub root: ChartTarget,
    pub nodes: Vec<ChartNode>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChartNode {
    pub question: QuestionId,
    /// The cells of each branch (answers that lead to the same place are
    /// one branch), in cell order; "not asked" cells of questions that are
    /// asked here are left out.
    pub branches: Vec<(Vec<u32>, ChartTarget)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChartTarget {
    Node(usize),
    Outcome(Outcome),
}

impl Space<'_> {
    /// The decision flowchart, or `None` when it needs more diagram nodes
    /// than the budget allows.
    pub fn chart(&mut self) -> Option<Chart> {
        const IMPOSSIBLE: u32 = 0x7fff_fff0;
        let levels = self.model.levels.len() as u32;
        let decided = self.level_diagram();
        let mask = self.mdd.relabel(self.valid, 1 << 50, &|v| {
            if v == 0 { IMPOSSIBLE } else { 0 }
        });
        let root = self.mdd.apply(Op::Otherwise, mask, decided);
        if self.mdd.exhausted() {
            return None;
        }
        // An incident no rule decides goes to the `otherwise` level, if
        // there is one, exactly like one a rule gives that level: one ending,
        // so the branches that reach it are drawn once.
        let otherwise = self.model.header.otherwise.as_ref().map(|o| o.value);
        let outcome = |v: u32| match v {
            0 => otherwise.map_or(Outcome::Nothing, Outcome::Level),
            v if v <= levels => Outcome::Level(LevelId(v - 1)),
            _ => Outcome::Conflict,
        };
        // Bottom up (children first, without recursion), each diagram node
        // becomes a chart target: impossible answers are left out, a
        // question whose possible answers all lead to the same place is
        // skipped, and equal chart nodes are shared.
        let mdd = &self.mdd;
        let mut done: rustc_hash::FxHashMap<NodeId, ChartTarget> = Default::default();
        let mut shared: rustc_hash::FxHashMap<ChartNode, usize> = Default::default();
        let mut nodes: Vec<ChartNode> = Vec::new();
        let mut stack = vec![(root, false)];
        while let Some((n, expanded)) = stack.pop() {
            if done.contains_key(&n) {
                continue;
            }
            if is_terminal(n) {
                done.insert(n, ChartTarget::Outcome(outcome(value(n))));
                continue;
            }
            let kids = mdd.children(n);
            if !expanded {
                stack.push((n, true));
                for k in kids.iter().rev() {
                    if *k != terminal(IMPOSSIBLE) && !done.contains_key(k) {
                        stack.push((*k, false));
                    }
                }
                continue;
            }
            let mut branches: Vec<(Vec<u32>, ChartTarget)> = Vec::new();
            for (cell, kid) in kids.iter().enumerate() {
                if *kid == terminal(IMPOSSIBLE) {
                    continue;
                }
                let t = done[kid];
                match branches.iter_mut().find(|(_, bt)| *bt == t) {
                    Some((cells, _)) => cells.push(cell as u32),
                    None => branches.push((vec![cell as u32], t)),
                }
            }
            let t = if let [(_, only)] = branches.as_slice() {
                *only
            } else {
                let node = ChartNode {
                    question: QuestionId(mdd.var(n) as u32),
                    branches,
                };
                let next = nodes.len();
                let i = *shared.entry(node.clone()).or_insert(next);
                if i == next {
                    nodes.push(node);
                }
                ChartTarget::Node(i)
            };
            done.insert(n, t);
        }
        // Number the nodes from the root down, as they are read.
        let root = done[&root];
        let mut order: Vec<usize> = Vec::new();
        let mut number = vec![usize::MAX; nodes.len()];
        if let ChartTarget::Node(r) = root {
            number[r] = 0;
            order.push(r);
        }
        let mut i = 0;
        while i < order.len() {
            for (_, t) in &nodes[order[i]].branches {
                if let ChartTarget::Node(k) = *t
                    && number[k] == usize::MAX
                {
                    number[k] = order.len();
                    order.push(k);
                }
            }
            i += 1;
        }
        let renumber = |t: ChartTarget| match t {
            ChartTarget::Node(k) => ChartTarget::Node(number[k]),
            o => o,
        };
        let root = renumber(root);
        let nodes: Vec<ChartNode> = order
            .iter()
            .map(|&k| ChartNode {
                question: nodes[k].question,
                branches: nodes[k]
                    .branches
                    .iter()
                    .map(|(c, t)| (c.clone(), renumber(*t)))
                    .collect(),
            })
            .collect();
        Some(Chart { root, nodes })
    }
}

/// Each question's rank: the keys of the deciding rules that test it
/// (level, then the rule's own police response, then `must` over `should`),
/// best first. Lists compare entry by entry, so a question many serious
/// rules test comes before one only one of them tests.
fn question_ranks(model: &Model) -> Vec<Vec<(usize, u8, bool)>> {
    let mut ranks: Vec<Vec<(usize, u8, bool)>> = vec![Vec::new(); model.questions.len()];
    for (r, rule) in model.rules.iter().enumerate() {
        if !rule.decides() {
            continue;
        }
        let police = model
            .rule_police(RuleId(r as u32), None)
            .and_then(|p| p.response.rank())
            .unwrap_or(0);
        let must = rule.strength == crate::syntax::ast::Strength::Must;
        let key = (rule.level.index(), police, must);
        for atom in rule.when.atoms() {
            ranks[atom.question.index()].push(key);
        }
    }
    for r in &mut ranks {
        r.sort_by(|a, b| b.cmp(a));
    }
    ranks
}

/// The order the question diagram tests the questions in: the questions
/// that decide the most serious levels first, so that a reader (and a
/// carer following the diagram) meets "is anyone at risk of immediate
/// serious harm?" before "how much was stolen?".
///
/// Each question is ranked by the rules that test it ([`question_ranks`]);
/// ties keep the asking order. A question is placed after the questions
/// its "asked when" condition tests, so the diagram never asks it before
/// it can be asked.
///
/// Any order is exact: the diagram is the reduced decision diagram of the
/// same function, whatever the order, and every incident ends at the same
/// outcome (`tests/oracle.rs` follows every incident down it). The order
/// changes only how many question nodes are drawn and where.
pub fn safety_order(model: &Model) -> Vec<usize> {
    let n = model.questions.len();
    let ranks = question_ranks(model);
    let asking: Vec<usize> = model.asking_order().map(|q| q.index()).collect();
    let mut by_rank = asking.clone();
    // Stable: ties keep the asking order.
    by_rank.sort_by(|a, b| ranks[*b].cmp(&ranks[*a]));
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    fn place(model: &Model, q: usize, placed: &mut [bool], order: &mut Vec<usize>) {
        if placed[q] {
            return;
        }
        placed[q] = true;
        if let Some(asked) = &model.questions[q].asked_when {
            for a in asked.atoms() {
                place(model, a.question.index(), placed, order);
            }
        }
        order.push(q);
    }
    for q in by_rank {
        place(model, q, &mut placed, &mut order);
    }
    for q in 0..n {
        place(model, q, &mut placed, &mut order);
    }
    order
}

/// The safety questions: those tested by the rules of the best rank (the
/// most serious level, then the most urgent police response, then `must`),
/// by question index.
pub fn safety_questions(model: &Model) -> Vec<bool> {
    let ranks = question_ranks(model);
    let best = ranks.iter().filter_map(|r| r.first()).max();
    ranks
        .iter()
        .map(|r| best.is_some() && r.first() == best)
        .collect()
}

/// How many diagram nodes [`drawing_order`] may build, over all its tries,
/// looking for a better drawing.
pub const DRAWING_BUDGET: usize = 2_000_000;

/// The order the question diagram is drawn in: [`safety_order`], then
/// improved for the reader. Neighbouring questions swap places wherever
/// that draws fewer questions more than once, then fewer question nodes,
/// until no swap helps (greedy passes of adjacent exchanges, as in
/// variable sifting). Two kinds of swap are never tried: one that puts a
/// safety question (of the rules with the best rank: the most serious
/// level, the most urgent police response) behind one that is not, and one
/// that puts a question before a question its "asked when" tests. So the
/// safety questions stay first.
///
/// Each try builds the diagrams once: a fraction of a millisecond to a few
/// milliseconds for the seed protocols. The search stops when the tries
/// have built [`DRAWING_BUDGET`] diagram nodes in all, so a protocol of
/// thousands of rules is not held up by its picture; a protocol whose
/// diagram is too large to draw keeps [`safety_order`].
pub fn drawing_order(model: &Model) -> Vec<usize> {
    let mut order = safety_order(model);
    let safety = safety_questions(model);
    let safety = |q: usize| safety[q];
    let spent = std::cell::Cell::new(0usize);
    let cost = |order: &[usize]| -> Option<(usize, usize)> {
        let mut space = Space::with_order(model, Some(order));
        let chart = space.chart();
        spent.set(spent.get() + space.mdd.node_count());
        let chart = chart?;
        let mut drawn = vec![0usize; model.questions.len()];
        for n in &chart.nodes {
            drawn[n.question.index()] += 1;
        }
        let repeats = drawn.iter().map(|d| d.saturating_sub(1)).sum();
        Some((repeats, chart.nodes.len()))
    };
    let Some(mut now) = cost(&order) else {
        return order;
    };
    // Whether `after`'s "asked when" tests `before`, which must then stay
    // in front of it.
    let gates = |before: usize, after: usize| {
        model.questions[after]
            .asked_when
            .as_ref()
            .is_some_and(|a| a.atoms().iter().any(|x| x.question.index() == before))
    };
    let mut improved = true;
    while improved && now.0 + now.1 > 0 {
        improved = false;
        for i in 0..order.len().saturating_sub(1) {
            if spent.get() > DRAWING_BUDGET {
                return order;
            }
            // A safety question never goes behind one that is not.
            if (safety(order[i]) && !safety(order[i + 1])) || gates(order[i], order[i + 1]) {
                continue;
            }
            order.swap(i, i + 1);
            match cost(&order) {
                Some(c) if c < now => {
                    now = c;
                    improved = true;
                }
                _ => order.swap(i, i + 1),
            }
        }
    }
    order
}

/// An order of the questions that keeps together those the rules test
/// together: each question where it is first tested, reading the rules (and
/// "asked when" conditions, before the question they govern) in order; then
/// the questions no rule tests.
pub fn grouped_order(model: &Model) -> Vec<usize> {
    let n = model.questions.len();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut place = |q: usize, order: &mut Vec<usize>| {
        if !placed[q] {
            placed[q] = true;
            order.push(q);
        }
    };
    for rule in &model.rules {
        for atom in rule.when.atoms() {
            let q = atom.question.index();
            if let Some(asked) = &model.questions[q].asked_when {
                for a in asked.atoms() {
                    place(a.question.index(), &mut order);
                }
            }
            place(q, &mut order);
        }
    }
    for q in 0..n {
        place(q, &mut order);
    }
    order
}

/// The diagrams of the rules of level `l`, those testing fewest questions
/// first: accumulated in this order, unions and counts reach "everything" or
/// "two or more" early, after which the rest cost nothing.
fn broad_first(model: &Model, l: LevelId, breadth: &[usize], rules: &[NodeId]) -> Vec<NodeId> {
    let mut of_level: Vec<RuleId> = rules_of(model, l).collect();
    of_level.sort_by_key(|r| (breadth[r.index()], *r));
    of_level.iter().map(|r| rules[r.index()]).collect()
}

/// The rules that decide level `l` (not those that only suggest it), in
/// order.
pub fn rules_of(model: &Model, l: LevelId) -> impl Iterator<Item = RuleId> + '_ {
    model
        .rules
        .iter()
        .enumerate()
        .filter(move |(_, r)| r.level == l && r.decides())
        .map(|(i, _)| RuleId(i as u32))
}
