//! Several authorities compared on the same incidents: `carepath compare`.
//!
//! Authorities share questions through the common vocabulary
//! (`protocols/common/`), and each asks questions of its own. The rows of
//! the comparison are incident classes over the *shared* questions (those
//! at least two of the compared protocols ask, matched by id and kind, the
//! setting among them); an authority's own questions vary inside a row, so
//! for each row an authority gives the set of levels and police responses
//! its own questions can still lead to (one, usually), and names them.
//! Each authority's level and police response are read from the compiled
//! decision its rule pack ships (`decision`), the diagram an app follows,
//! so the comparison says what each authority's apps say.
//!
//! Classes are enumerated over the shared questions in the order the packs
//! ask them, each question taking a value when some authority asks it (by
//! its own "asked when", read three-valued over the shared answers) and
//! "not asked" when some authority may not; a class is kept when at least
//! two authorities cover it (a setting an authority does not have, or an
//! option it does not list, it does not cover). Classes that every
//! authority handles alike within are one row, described as a condition in
//! the language's syntax, and rows are sorted by how far the authorities'
//! police involvement is apart.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::behaviour::{MergedQuestion, describe, disjunction};
use crate::emit::pack::{NoLevel, QuestionKind, Response, RulePack};
use crate::eval::expr::{Known, Val};
use crate::eval::{Engine, rank};

/// The value of [`Comparison::format`].
pub const FORMAT: &str = "carepath-compare/1";

/// Several authorities' protocols on the same incidents: `carepath compare
/// --format json` prints one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Always `carepath-compare/1`.
    #[schemars(extend("const" = "carepath-compare/1"))]
    pub format: String,
    /// The protocols compared, in the order of each row's `by_authority`.
    pub authorities: Vec<Authority>,
    /// The questions the rows are over: those at least two of the
    /// protocols ask (the setting first).
    pub shared: Vec<SharedQuestion>,
    /// Per protocol, the questions only it asks: they vary inside a row,
    /// and a row says which of them its outcome depends on.
    pub own: Vec<OwnQuestions>,
    /// Each setting, and which protocols cover it.
    pub settings: Vec<SettingCover>,
    pub summary: CompareSummary,
    /// The rows, most disagreement first.
    pub rows: Vec<Row>,
}

/// One protocol compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// What the caller compared, in words (a file name).
    pub label: String,
    /// The protocol's id.
    pub protocol: String,
    pub title: String,
    /// The authorities whose protocol it is.
    pub authorities: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// The pack's `source.sha256`.
    pub source_sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SharedQuestion {
    pub id: String,
    /// The protocols that ask it.
    pub asked_by: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnQuestions {
    pub protocol: String,
    pub questions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingCover {
    pub id: String,
    pub covered_by: Vec<String>,
}

/// What a reader takes in first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareSummary {
    /// Incident classes over the shared questions that at least two
    /// protocols cover.
    pub incident_classes: u64,
    /// Of those, the classes every protocol that covers them gives the
    /// same police response (whatever its own questions).
    pub same_police: u64,
    /// The classes where some protocol's police response is certainly
    /// more than another's.
    pub police_differs: u64,
    /// The rest: the responses may differ, depending on a protocol's own
    /// questions, or one cannot be ranked (not stated, no level).
    pub police_may_differ: u64,
    /// Classes only one protocol covers, left out of the rows.
    pub covered_once: u64,
}

/// Incident classes every protocol handles alike within.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The incidents, as a condition over the shared questions in the
    /// protocol language (absent: every incident). A question that is not
    /// asked is not tested: its "asked when" follows from the rest.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub when: Option<String>,
    pub incident_classes: u64,
    /// How many steps of police involvement (none < judgement < advice <
    /// report < prompt < emergency) lie certainly between the most and the
    /// least involving protocol; 0 when they agree or may agree.
    pub police_apart: u8,
    /// An incident of the row: the setting and the shared questions'
    /// answers.
    pub witness: Map<String, Value>,
    /// One per protocol, in the order of `authorities`.
    pub by_authority: Vec<Handled>,
}

/// How one protocol handles a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handled {
    pub protocol: String,
    /// Why the protocol does not cover the row (a setting it does not have,
    /// an answer it does not list); `outcomes` is then empty.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_covered: Option<String>,
    /// What it decides; more than one when its own questions decide
    /// between them.
    pub outcomes: Vec<Outcome>,
    /// Its own questions that decide between the outcomes, for the row's
    /// witness.
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub police: Option<Response>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub police_by: Option<String>,
    /// Why there is no level, when there is none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub no_level: Option<NoLevel>,
}

/// The comparison as JSON: two-space indentation, a final newline.
pub fn to_json(c: &Comparison) -> String {
    super::pretty(c)
}

/// The JSON Schema of the comparison, as committed in
/// `schema/carepath-compare-1.schema.json`.
pub fn schema_json() -> String {
    super::pretty(&schemars::schema_for!(Comparison))
}

// ------------------------------------------------------------ the packs

/// A branch of a compiled decision node, read into the engine's values.
struct Branch {
    /// Yes/no (bit 0 no, bit 1 yes) and options (bit per option index).
    values: Vec<u64>,
    /// Counts and amounts: from, and below (engine units).
    range: Option<(i64, Option<i64>)>,
    not_asked: bool,
    to: Target,
}

#[derive(Clone, Copy)]
enum Target {
    Node(usize),
    End(usize),
    Impossible,
}

struct Node {
    question: usize,
    branches: Vec<Branch>,
}

/// One protocol, ready to walk.
struct Side<'p> {
    pack: &'p RulePack,
    engine: Engine,
    nodes: Vec<Node>,
    /// Per setting option (the pack's order): where the walk starts.
    starts: Vec<Target>,
    ends: Vec<Outcome>,
    /// Per pack question: its shared index, when shared.
    shared_of: Vec<Option<usize>>,
    /// The setting question, when the pack has one.
    setting: Option<usize>,
}

fn target(node: Option<u32>, outcome: Option<u32>) -> Target {
    match (node, outcome) {
        (Some(n), _) => Target::Node(n as usize),
        (None, Some(o)) => Target::End(o as usize),
        _ => Target::Impossible,
    }
}

fn units(kind: QuestionKind, n: &serde_json::Number) -> i64 {
    let x = n.as_f64().unwrap_or(0.0);
    if kind == QuestionKind::Amount {
        (x * 100.0).round() as i64
    } else {
        x as i64
    }
}

impl<'p> Side<'p> {
    fn new(pack: &'p RulePack, label: &str) -> Result<Side<'p>, String> {
        let engine = Engine::new(pack.clone()).map_err(|e| format!("cannot use {label}: {e}"))?;
        let decision = match &pack.decision {
            Some(d) => d.clone(),
            None => engine.compiled_decision().ok_or_else(|| {
                format!("{label} has no compiled decision (its rules are too intertwined), so it cannot be compared")
            })?,
        };
        let index = |id: &str| pack.questions.iter().position(|q| q.id == id);
        let mut nodes = Vec::with_capacity(decision.nodes.len());
        for n in &decision.nodes {
            let q = index(&n.question)
                .ok_or_else(|| format!("{label}: the decision asks an unknown question"))?;
            let question = &pack.questions[q];
            let branches = n
                .branches
                .iter()
                .map(|b| {
                    let mut values = vec![0u64; question.options.len().max(2).div_ceil(64)];
                    for v in &b.answers {
                        let bit = match v {
                            Value::Bool(x) => Some(usize::from(*x)),
                            Value::String(id) => question.options.iter().position(|o| o.id == *id),
                            _ => None,
                        };
                        if let Some(bit) = bit {
                            values[bit / 64] |= 1 << (bit % 64);
                        }
                    }
                    let range = b.at_least.as_ref().map(|from| {
                        (
                            units(question.kind, from),
                            b.below.as_ref().map(|x| units(question.kind, x)),
                        )
                    });
                    Branch {
                        values,
                        range,
                        not_asked: b.not_asked,
                        to: target(b.node, b.outcome),
                    }
                })
                .collect();
            nodes.push(Node {
                question: q,
                branches,
            });
        }
        let setting = pack
            .questions
            .iter()
            .position(|q| q.kind == QuestionKind::Setting);
        let starts = pack
            .settings
            .iter()
            .map(|s| {
                decision
                    .starts
                    .iter()
                    .find(|x| x.setting == s.id)
                    .map_or(Target::Impossible, |x| target(x.node, x.outcome))
            })
            .collect();
        let ends = decision
            .outcomes
            .iter()
            .map(|o| Outcome {
                level: o.level.clone(),
                level_title: o.level.as_ref().and_then(|l| {
                    pack.levels
                        .iter()
                        .find(|x| x.id == *l)
                        .map(|x| x.title.clone())
                }),
                police: o.police.as_ref().map(|p| p.response),
                police_by: o.police.as_ref().and_then(|p| p.by.clone()),
                no_level: o.no_level,
            })
            .collect::<Vec<_>>();
        if ends.len() > 64 {
            return Err(format!(
                "{label} has more than 64 outcomes in its compiled decision"
            ));
        }
        Ok(Side {
            pack,
            engine,
            nodes,
            starts,
            ends,
            shared_of: vec![None; pack.questions.len()],
            setting,
        })
    }
}

/// What one side makes of a shared question in a class.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seen {
    /// The side does not have the question.
    Absent,
    /// It asks it, and reads this value.
    Asked(Val),
    /// It does not ask it here.
    NotAsked,
    /// Whether it asks depends on its own questions: this value if it does.
    Either(Val),
    /// It asks it, and cannot take the class's answer.
    CannotTake,
}

// ------------------------------------------------------------ comparing

/// Compare protocols (`packs`, each with a label for people) on the
/// questions they share. An error when fewer than two are given or a pack
/// cannot be walked.
pub fn compare(packs: &[(&RulePack, &str)]) -> Result<Comparison, String> {
    if packs.len() < 2 {
        return Err("give at least two protocols to compare".to_string());
    }
    let mut sides: Vec<Side> = packs
        .iter()
        .map(|(p, label)| Side::new(p, label))
        .collect::<Result<_, _>>()?;
    // Shared questions, in the order the packs first ask them (the
    // setting first, as every pack asks it).
    let kind_key = |k: QuestionKind| match k {
        QuestionKind::Setting => 0u8,
        QuestionKind::YesNo => 1,
        QuestionKind::OneOf | QuestionKind::Scale => 2,
        QuestionKind::Count => 3,
        QuestionKind::Amount => 4,
    };
    let mut askers: BTreeMap<(String, u8), Vec<usize>> = BTreeMap::new();
    let mut order: Vec<(String, u8)> = Vec::new();
    for (s, side) in sides.iter().enumerate() {
        for q in &side.pack.questions {
            let k = (q.id.clone(), kind_key(q.kind));
            let list = askers.entry(k.clone()).or_default();
            if list.is_empty() {
                order.push(k);
            }
            list.push(s);
        }
    }
    order.sort_by_key(|k| k.1 != 0);
    let mut shared: Vec<MergedQuestion> = Vec::new();
    let mut maybe_skipped: Vec<bool> = Vec::new();
    for k in &order {
        let list = &askers[k];
        if list.len() < 2 && k.1 != 0 {
            continue;
        }
        let m = shared.len();
        let mut q = MergedQuestion {
            id: k.0.clone(),
            kind: QuestionKind::YesNo,
            options: Vec::new(),
            starts: Vec::new(),
            side: vec![None; sides.len()],
        };
        let mut skipped = false;
        for &s in list {
            let side = &mut sides[s];
            let qi = side
                .pack
                .questions
                .iter()
                .position(|x| x.id == k.0 && kind_key(x.kind) == k.1)
                .expect("listed");
            let pq = &side.pack.questions[qi];
            q.kind = pq.kind;
            q.side[s] = Some(qi);
            side.shared_of[qi] = Some(m);
            skipped |= pq.asked_when.is_some();
            for o in &pq.options {
                if !q.options.contains(&o.id) {
                    q.options.push(o.id.clone());
                }
            }
            for c in side.engine.cells()[qi].iter().flatten() {
                if let Val::Num(n) = c {
                    q.starts.push(*n);
                }
            }
        }
        q.starts.sort_unstable();
        q.starts.dedup();
        shared.push(q);
        maybe_skipped.push(skipped);
    }

    let mut run = Run {
        sides: &sides,
        shared: &shared,
        maybe_skipped: &maybe_skipped,
        known: sides
            .iter()
            .map(|s| vec![Known::Unknown; s.pack.questions.len()])
            .collect(),
        seen: vec![vec![Seen::Absent; shared.len()]; sides.len()],
        point: Vec::with_capacity(shared.len()),
        groups: FxHashMap::default(),
        group_order: Vec::new(),
        covered_once: 0,
        memo: sides
            .iter()
            .map(|s| vec![(0u32, 0u64); s.nodes.len()])
            .collect(),
        generation: 0,
    };
    run.classes(0);
    let Run {
        groups,
        group_order,
        covered_once,
        ..
    } = run;

    let full: Vec<u64> = shared
        .iter()
        .zip(&maybe_skipped)
        .map(|(q, skipped)| {
            let n = q.classes() + usize::from(*skipped);
            if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
        })
        .collect();
    let mut summary = CompareSummary {
        covered_once,
        ..CompareSummary::default()
    };
    let mut rows: Vec<Row> = Vec::new();
    for label in group_order {
        let points = &groups[&label];
        let count = points.len() as u64;
        summary.incident_classes += count;
        let (apart, possible) = spread(&sides, &label);
        if apart > 0 {
            summary.police_differs += count;
        } else if possible == Some(0) {
            summary.same_police += count;
        } else {
            summary.police_may_differ += count;
        }
        let cubes = merge(points.iter().map(|p| cube(p)).collect());
        let when = condition(&cubes, &shared, &full);
        let first = &points[0];
        rows.push(Row {
            when,
            incident_classes: count,
            police_apart: apart,
            witness: witness(first, &shared),
            by_authority: sides
                .iter()
                .zip(&label)
                .map(|(side, l)| handled(side, l, first, &shared))
                .collect(),
        });
    }
    rows.sort_by(|a, b| {
        let key = |r: &Row| {
            let (_, possible) = spread_of_row(r);
            (
                std::cmp::Reverse(r.police_apart),
                std::cmp::Reverse(possible),
                std::cmp::Reverse(r.incident_classes),
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.when.cmp(&b.when))
    });

    let setting_q = shared.iter().position(|q| q.kind == QuestionKind::Setting);
    let settings = match setting_q {
        Some(m) => shared[m]
            .options
            .iter()
            .map(|id| SettingCover {
                id: id.clone(),
                covered_by: sides
                    .iter()
                    .filter(|s| s.pack.settings.iter().any(|x| x.id == *id))
                    .map(|s| s.pack.protocol.id.clone())
                    .collect(),
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Comparison {
        format: FORMAT.to_string(),
        authorities: sides
            .iter()
            .zip(packs)
            .map(|(s, (_, label))| Authority {
                label: label.to_string(),
                protocol: s.pack.protocol.id.clone(),
                title: s.pack.protocol.title.value.clone(),
                authorities: s
                    .pack
                    .protocol
                    .authorities
                    .iter()
                    .map(|a| a.value.clone())
                    .collect(),
                version: s.pack.protocol.version.as_ref().map(|v| v.value.clone()),
                source_sha256: s.pack.source.sha256.clone(),
            })
            .collect(),
        shared: shared
            .iter()
            .map(|q| SharedQuestion {
                id: q.id.clone(),
                asked_by: q
                    .side
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.is_some())
                    .map(|(s, _)| sides[s].pack.protocol.id.clone())
                    .collect(),
            })
            .collect(),
        own: sides
            .iter()
            .map(|s| OwnQuestions {
                protocol: s.pack.protocol.id.clone(),
                questions: s
                    .pack
                    .questions
                    .iter()
                    .zip(&s.shared_of)
                    .filter(|(_, m)| m.is_none())
                    .map(|(q, _)| q.id.clone())
                    .collect(),
            })
            .collect(),
        settings,
        summary,
        rows,
    })
}

/// How one side handles a class: not covered (and why: the shared
/// question it cannot take, or the setting it lacks), or the outcomes it
/// can reach.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Label {
    /// A shared question whose answer it does not list.
    CannotTake(usize),
    /// A setting it does not have.
    NoSetting,
    /// Its "asked when" conditions rule the class out.
    CannotOccur,
    Ends(u64),
}

/// The enumeration of classes.
struct Run<'a, 'p> {
    sides: &'a [Side<'p>],
    shared: &'a [MergedQuestion],
    maybe_skipped: &'a [bool],
    /// Per side, per own question: what is known of its answer.
    known: Vec<Vec<Known>>,
    /// Per side, per shared question: what the side makes of the class.
    seen: Vec<Vec<Seen>>,
    /// The class so far: per shared question, a class, or its `classes()`
    /// for "not asked".
    point: Vec<u32>,
    groups: FxHashMap<Vec<Label>, Vec<Vec<u32>>>,
    group_order: Vec<Vec<Label>>,
    covered_once: u64,
    /// Per side, per node: (generation, ends reachable).
    memo: Vec<Vec<(u32, u64)>>,
    generation: u32,
}

impl Run<'_, '_> {
    /// The value side `s` reads for class `c` of shared question `m`, or
    /// `None` when it does not list the answer.
    fn value(&self, s: usize, m: usize, c: u32) -> Option<Val> {
        let q = &self.shared[m];
        local_value(q, &self.sides[s].pack.questions[q.side[s]?], c)
    }

    fn classes(&mut self, m: usize) {
        if m == self.shared.len() {
            self.leaf();
            return;
        }
        let q = &self.shared[m];
        // Whether each side that has the question asks it here.
        let mut asks_somewhere = false;
        let mut may_skip = false;
        let asked: Vec<Option<Option<bool>>> = (0..self.sides.len())
            .map(|s| {
                let qi = q.side[s]?;
                let a = match self.sides[s].engine.asked_when(qi) {
                    None => Some(true),
                    Some(e) => e.eval3(&self.known[s]),
                };
                asks_somewhere |= a != Some(false);
                may_skip |= a != Some(true);
                Some(a)
            })
            .collect();
        let definitely = asked.contains(&Some(Some(true)));
        let n = q.classes() as u32;
        let mut choices: Vec<u32> = Vec::new();
        if asks_somewhere {
            choices.extend(0..n);
        }
        if !definitely && may_skip && self.maybe_skipped[m] {
            choices.push(n);
        }
        for c in choices {
            for (s, a) in asked.iter().enumerate() {
                let Some(a) = a else { continue };
                let qi = q.side[s].expect("has it");
                let (seen, known) = if c == n {
                    (Seen::NotAsked, Known::Is(None))
                } else {
                    match (a, self.value(s, m, c)) {
                        (Some(false), _) => (Seen::NotAsked, Known::Is(None)),
                        (_, None) => (Seen::CannotTake, Known::Unknown),
                        (Some(true), Some(v)) => (Seen::Asked(v), Known::Is(Some(v))),
                        (None, Some(v)) => (Seen::Either(v), Known::Unknown),
                    }
                };
                self.seen[s][m] = seen;
                self.known[s][qi] = known;
            }
            self.point.push(c);
            self.classes(m + 1);
            self.point.pop();
        }
        for s in 0..self.sides.len() {
            if let Some(qi) = q.side[s] {
                self.seen[s][m] = Seen::Absent;
                self.known[s][qi] = Known::Unknown;
            }
        }
    }

    fn leaf(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        let label: Vec<Label> = (0..self.sides.len()).map(|s| self.label(s)).collect();
        let covering = label.iter().filter(|l| matches!(l, Label::Ends(_))).count();
        if covering < 2 {
            self.covered_once += u64::from(covering == 1);
            return;
        }
        let point = self.point.clone();
        match self.groups.get_mut(&label) {
            Some(points) => points.push(point),
            None => {
                self.group_order.push(label.clone());
                self.groups.insert(label, vec![point]);
            }
        }
    }

    fn label(&mut self, s: usize) -> Label {
        let side = &self.sides[s];
        for (m, seen) in self.seen[s].iter().enumerate() {
            if *seen == Seen::CannotTake {
                return Label::CannotTake(m);
            }
        }
        let start = match side.setting {
            Some(q) => match side.shared_of[q].map(|m| self.seen[s][m]) {
                Some(Seen::Asked(Val::Opt(o))) => side.starts[o as usize],
                _ => return Label::NoSetting,
            },
            None => side.starts.first().copied().unwrap_or(Target::Impossible),
        };
        match self.reach(s, start) {
            0 => Label::CannotOccur,
            mask => Label::Ends(mask),
        }
    }

    /// The ends side `s` can reach from `t` in the current class.
    fn reach(&mut self, s: usize, t: Target) -> u64 {
        let n = match t {
            Target::End(e) => return 1 << e,
            Target::Impossible => return 0,
            Target::Node(n) => n,
        };
        if self.memo[s][n].0 == self.generation {
            return self.memo[s][n].1;
        }
        let side = &self.sides[s];
        let node = &side.nodes[n];
        let mut next: Vec<Target> = Vec::new();
        match side.shared_of[node.question].map(|m| self.seen[s][m]) {
            // An own question: any answer.
            None => next.extend(node.branches.iter().map(|b| b.to)),
            Some(Seen::Asked(v)) => next.extend(branch(node, v)),
            Some(Seen::NotAsked) => {
                next.extend(node.branches.iter().filter(|b| b.not_asked).map(|b| b.to))
            }
            Some(Seen::Either(v)) => {
                next.extend(branch(node, v));
                next.extend(node.branches.iter().filter(|b| b.not_asked).map(|b| b.to));
            }
            Some(Seen::Absent | Seen::CannotTake) => {}
        }
        let mut mask = 0;
        for t in next {
            mask |= self.reach(s, t);
        }
        self.memo[s][n] = (self.generation, mask);
        mask
    }
}

/// The value a pack's own question `pq` reads for class `c` of the merged
/// question `q`; `None` when it does not list the answer (an option it
/// lacks, a number below its minimum).
fn local_value(q: &MergedQuestion, pq: &crate::emit::pack::Question, c: u32) -> Option<Val> {
    match q.kind {
        QuestionKind::YesNo => Some(Val::Bool(c == 1)),
        QuestionKind::Count | QuestionKind::Amount => {
            let n = q.starts[c as usize];
            (n >= pq.minimum.unwrap_or(0)).then_some(Val::Num(n))
        }
        _ => pq
            .options
            .iter()
            .position(|o| o.id == q.options[c as usize])
            .map(|o| Val::Opt(o as u32)),
    }
}

/// Where value `v` goes at `node`.
fn branch(node: &Node, v: Val) -> Option<Target> {
    node.branches
        .iter()
        .find(|b| {
            !b.not_asked
                && match v {
                    Val::Bool(x) => b.values[0] & (1 << usize::from(x)) != 0,
                    Val::Opt(o) => b
                        .values
                        .get(o as usize / 64)
                        .is_some_and(|w| w & (1 << (o % 64)) != 0),
                    Val::Num(n) => b
                        .range
                        .is_some_and(|(from, below)| n >= from && below.is_none_or(|x| n < x)),
                }
        })
        .map(|b| b.to)
}

/// The ranks of police involvement of the outcomes in `mask`: `None` when
/// one cannot be ranked.
fn ranks(side: &Side, mask: u64) -> Option<(u8, u8)> {
    let mut lo = u8::MAX;
    let mut hi = 0;
    for (e, end) in side.ends.iter().enumerate() {
        if mask & (1 << e) == 0 {
            continue;
        }
        let r = end.police.and_then(rank)?;
        lo = lo.min(r);
        hi = hi.max(r);
    }
    (lo <= hi).then_some((lo, hi))
}

/// How far apart the protocols certainly are (the most police one must
/// give less the least police one may give), and how far they may be
/// (`None` when some outcome cannot be ranked).
fn spread(sides: &[Side], label: &[Label]) -> (u8, Option<u8>) {
    let mut max_lo = 0u8;
    let mut min_hi = u8::MAX;
    let mut max_hi = 0u8;
    let mut min_lo = u8::MAX;
    let mut rankable = true;
    for (side, l) in sides.iter().zip(label) {
        let Label::Ends(mask) = l else { continue };
        match ranks(side, *mask) {
            Some((lo, hi)) => {
                max_lo = max_lo.max(lo);
                min_hi = min_hi.min(hi);
                max_hi = max_hi.max(hi);
                min_lo = min_lo.min(lo);
            }
            None => rankable = false,
        }
    }
    let apart = max_lo.saturating_sub(min_hi);
    let possible = rankable.then(|| max_hi.saturating_sub(min_lo));
    (apart, possible)
}

/// [`spread`]'s second half, for a row already made.
fn spread_of_row(r: &Row) -> (u8, u8) {
    let mut max_hi = 0u8;
    let mut min_lo = u8::MAX;
    for h in &r.by_authority {
        for o in &h.outcomes {
            if let Some(x) = o.police.and_then(rank) {
                max_hi = max_hi.max(x);
                min_lo = min_lo.min(x);
            }
        }
    }
    (r.police_apart, max_hi.saturating_sub(min_lo))
}

/// A class as a cube: per shared question, the one class it takes (bit
/// `classes()` for "not asked").
fn cube(point: &[u32]) -> Vec<u64> {
    point.iter().map(|c| 1u64 << c).collect()
}

/// Merge cubes that differ in one question only, question by question,
/// until nothing merges: each merge keeps exactly the same classes.
fn merge(mut cubes: Vec<Vec<u64>>) -> Vec<Vec<u64>> {
    let questions = cubes.first().map_or(0, Vec::len);
    loop {
        let before = cubes.len();
        for m in 0..questions {
            let mut buckets: FxHashMap<Vec<u64>, u64> = FxHashMap::default();
            let mut order: Vec<Vec<u64>> = Vec::new();
            for mut c in cubes.drain(..) {
                let set = std::mem::take(&mut c[m]);
                match buckets.get_mut(&c) {
                    Some(x) => *x |= set,
                    None => {
                        order.push(c.clone());
                        buckets.insert(c, set);
                    }
                }
            }
            cubes = order
                .into_iter()
                .map(|mut c| {
                    let set = buckets[&c];
                    c[m] = set;
                    c
                })
                .collect();
        }
        if cubes.len() == before {
            break;
        }
    }
    cubes.sort();
    cubes
}

/// Cubes as one condition: each a conjunction, joined by `or`; `None` when
/// one cube is every class.
fn condition(cubes: &[Vec<u64>], shared: &[MergedQuestion], full: &[u64]) -> Option<String> {
    let described: Vec<Vec<String>> = cubes
        .iter()
        .map(|cube| {
            cube.iter()
                .enumerate()
                .filter_map(|(m, set)| test(&shared[m], *set, full[m]))
                .collect()
        })
        .collect();
    disjunction(&described)
}

/// The test a set of classes of `q` is (bit `classes()` is "not asked"):
/// none for every class, or for "not asked" alone (its "asked when" follows
/// from the other answers); answers together with "not asked" as the
/// negation of the answers left out, which holds when the question is not
/// asked.
fn test(q: &MergedQuestion, set: u64, full: u64) -> Option<String> {
    if set == full {
        return None;
    }
    let n = q.classes() as u32;
    let values: BTreeSet<u32> = (0..n).filter(|c| set & (1 << c) != 0).collect();
    let not_asked = set & (1 << n) != 0;
    if values.is_empty() {
        return None;
    }
    if !not_asked {
        return describe(q, &values);
    }
    let rest: BTreeSet<u32> = (0..n).filter(|c| !values.contains(c)).collect();
    describe(q, &rest).map(|t| format!("not ({t})"))
}

/// The shared answers of a class, as `carepath decide` takes them.
fn witness(point: &[u32], shared: &[MergedQuestion]) -> Map<String, Value> {
    let mut out = Map::new();
    for (q, c) in shared.iter().zip(point) {
        if *c as usize >= q.classes() {
            continue;
        }
        let v = match q.kind {
            QuestionKind::YesNo => json!(*c == 1),
            QuestionKind::Count => json!(q.starts[*c as usize]),
            QuestionKind::Amount => {
                let n = q.starts[*c as usize];
                if n % 100 == 0 {
                    json!(n / 100)
                } else {
                    json!(n as f64 / 100.0)
                }
            }
            _ => json!(q.options[*c as usize]),
        };
        out.insert(q.id.clone(), v);
    }
    out
}

fn handled(side: &Side, label: &Label, point: &[u32], shared: &[MergedQuestion]) -> Handled {
    let protocol = side.pack.protocol.id.clone();
    match label {
        Label::CannotTake(_) | Label::NoSetting | Label::CannotOccur => {
            let why = match label {
                Label::CannotTake(m) => {
                    format!(
                        "does not list the answer to {} the row gives",
                        shared[*m].id
                    )
                }
                Label::NoSetting => {
                    let setting = shared
                        .iter()
                        .zip(point)
                        .find(|(q, _)| q.kind == QuestionKind::Setting)
                        .map(|(q, c)| q.options[*c as usize].clone())
                        .unwrap_or_default();
                    format!("does not cover the setting {setting}")
                }
                _ => "asks its questions so that such an incident cannot occur".to_string(),
            };
            Handled {
                protocol,
                not_covered: Some(why),
                outcomes: Vec::new(),
                depends_on: Vec::new(),
            }
        }
        Label::Ends(mask) => {
            let outcomes: Vec<Outcome> = side
                .ends
                .iter()
                .enumerate()
                .filter(|(e, _)| mask & (1 << e) != 0)
                .map(|(_, o)| o.clone())
                .collect();
            let depends_on = if outcomes.len() > 1 {
                own_questions_that_matter(side, point, shared)
            } else {
                Vec::new()
            };
            Handled {
                protocol,
                not_covered: None,
                outcomes,
                depends_on,
            }
        }
    }
}

/// The own questions of `side` at which, in the class `point`, different
/// answers lead to different outcomes.
fn own_questions_that_matter(side: &Side, point: &[u32], shared: &[MergedQuestion]) -> Vec<String> {
    // Re-walk without the enumeration's state: what the side reads of each
    // shared question, from the point alone (asked unless "not asked").
    let read = |qi: usize| -> Option<Option<Val>> {
        let m = side.shared_of[qi]?;
        let q = &shared[m];
        let c = point[m];
        if c as usize >= q.classes() {
            return Some(None);
        }
        Some(local_value(q, &side.pack.questions[qi], c))
    };
    let start = match side.setting.and_then(read) {
        Some(Some(Val::Opt(o))) => side.starts[o as usize],
        _ => side.starts.first().copied().unwrap_or(Target::Impossible),
    };
    let mut memo: Vec<Option<u64>> = vec![None; side.nodes.len()];
    let mut matters: BTreeSet<usize> = BTreeSet::new();
    fn go(
        side: &Side,
        t: Target,
        read: &dyn Fn(usize) -> Option<Option<Val>>,
        memo: &mut Vec<Option<u64>>,
        matters: &mut BTreeSet<usize>,
    ) -> u64 {
        let n = match t {
            Target::End(e) => return 1 << e,
            Target::Impossible => return 0,
            Target::Node(n) => n,
        };
        if let Some(m) = memo[n] {
            return m;
        }
        let node = &side.nodes[n];
        let mask = match read(node.question) {
            None => {
                let masks: Vec<u64> = node
                    .branches
                    .iter()
                    .map(|b| go(side, b.to, read, memo, matters))
                    .filter(|m| *m != 0)
                    .collect();
                if masks.windows(2).any(|w| w[0] != w[1]) {
                    matters.insert(node.question);
                }
                masks.iter().fold(0, |a, m| a | m)
            }
            Some(Some(v)) => match branch(node, v) {
                Some(t) => go(side, t, read, memo, matters),
                None => node
                    .branches
                    .iter()
                    .filter(|b| b.not_asked)
                    .map(|b| go(side, b.to, read, memo, matters))
                    .fold(0, |a, m| a | m),
            },
            Some(None) => node
                .branches
                .iter()
                .filter(|b| b.not_asked)
                .map(|b| go(side, b.to, read, memo, matters))
                .fold(0, |a, m| a | m),
        };
        memo[n] = Some(mask);
        mask
    }
    go(side, start, &read, &mut memo, &mut matters);
    matters
        .into_iter()
        .map(|q| side.pack.questions[q].id.clone())
        .collect()
}
