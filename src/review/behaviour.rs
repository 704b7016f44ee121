//! The behavioural comparison: which incidents two versions handle
//! differently, exactly, over the answer space of both.
//!
//! Questions are matched by id (a question only one version asks is not
//! asked on the other), and each question's classes of answers are merged
//! from both sides (options: the union; counts and amounts: the union of
//! the thresholds either side compares with), so that one incident class
//! means the same thing to both versions. An incident is a fact per
//! question; each version sees the answers to the questions it asks (its
//! "asked when" conditions decide which), so a question one version asks
//! and the other does not is read by the one and ignored by the other.
//!
//! The space is split question by question, in an order that respects both
//! versions' "asked when" conditions, only on the questions some condition
//! still open on either side tests: a branch stops as soon as every rule
//! and procedure of both versions is settled, which settles the level, the
//! police response, the procedures and the route entry on each side
//! (three-valued evaluation, as the engine judges partial answers). So the
//! search visits the product of what the two versions tell apart, not the
//! product of every question's classes. Each stop is decided by each
//! side's [`Engine`] on a complete incident (the witness), so what is
//! reported is what `carepath decide` says. Stops that end in the same
//! pair of handlings are merged into regions, described as conditions in
//! the language's syntax.
//!
//! An incident class is counted once per combination of answer classes of
//! the questions asked on either side (a question neither side asks
//! counts once, as "not asked").

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::emit::pack::{Citation, PolicyKind, QuestionKind, Response, RulePack};
use crate::eval::engine::{number, parse_condition};
use crate::eval::expr::{self, Expr, Known, Val};
use crate::eval::{Engine, LoadError, Outcome, rank};

/// The behavioural section of a review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Why behaviour was not compared, when it was not (a side that the
    /// engine refuses, say); the other members are then empty.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub not_compared: Option<String>,
    pub summary: BehaviourSummary,
    /// Questions only the old version asks (the new one does not read
    /// their answers).
    pub only_old_asks: Vec<String>,
    /// Questions only the new version asks.
    pub only_new_asks: Vec<String>,
    /// What every incident handled differently has in common, as a
    /// condition in the protocol language (absent when nothing is): each
    /// region's `when` holds in addition to it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shared_when: Option<String>,
    /// The regions of incidents handled differently, most police added
    /// first.
    pub regions: Vec<Region>,
    /// Each version's document examples run against the other's rules.
    pub examples: Vec<ExampleCheck>,
}

/// What a board reads first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BehaviourSummary {
    /// Incident classes over both versions' questions, in every setting.
    pub incident_classes: u64,
    /// Of those, the ones the two versions handle differently.
    pub changed: u64,
    /// Moved to more police involvement.
    pub more_police: u64,
    /// Moved to less police involvement.
    pub less_police: u64,
    /// Police involvement changed where one side's cannot be ranked (the
    /// document does not say, or no level is given).
    pub police_not_comparable: u64,
    /// Same police involvement; the level, the procedures or the route
    /// changed.
    pub same_police: u64,
    /// Nothing an incident can see changes.
    pub neutral: bool,
}

/// Which way a region moves police involvement. Involvement is the most
/// police of the level's response and the responses of the procedures that
/// apply, ranked none < judgement < advice < report < prompt < emergency.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    MorePolice,
    LessPolice,
    /// One side's involvement cannot be ranked (unstated, or no level).
    NotComparable,
    SamePolice,
}

/// What differs in a region.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Aspect {
    Level,
    Police,
    Procedures,
    Route,
}

/// Incidents both versions handle alike within, differently across.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The incidents, as a condition in the protocol language, in addition
    /// to the behaviour's `shared_when` (absent: every incident, or every
    /// one `shared_when` holds for).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub when: Option<String>,
    /// How many incident classes the region holds.
    pub incident_classes: u64,
    pub direction: Direction,
    pub changes: Vec<Aspect>,
    /// An incident of the region: `setting` and `answers` as `carepath
    /// decide --setting S --answers FILE` takes them (each version reads
    /// the answers to the questions it asks: `old_answers` and
    /// `new_answers`).
    pub witness: Witness,
    pub old: Handled,
    pub new: Handled,
}

/// An incident, as each side is given it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Witness {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub setting: Option<String>,
    pub old_answers: Map<String, Value>,
    pub new_answers: Map<String, Value>,
}

/// How one version handles an incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handling {
    pub outcome: HandlingKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub police: Option<Response>,
    /// Who judges, for a judgement.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub police_by: Option<String>,
    /// The procedures that apply, with their own police response.
    pub procedures: Vec<ProcedureHandling>,
    /// Where the level's route starts: `route` at `step`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub route: Option<String>,
    /// The question whose answer this version cannot take (an option or a
    /// setting it does not have, a number below its minimum).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unanswerable: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureHandling {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub police: Option<Response>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub route: Option<String>,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum HandlingKind {
    /// A level is given.
    Decided,
    /// No rule applies and there is no `otherwise`.
    Undecided,
    /// Rules of different levels apply (`no-overlap`).
    Conflict,
    /// This version cannot take one of the answers.
    Unanswerable,
}

/// A handling with the rules that give it, for a witness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handled {
    #[serde(flatten)]
    pub handling: Handling,
    /// The rules that decide the witness, with their citations (none when
    /// the level is the `otherwise`).
    pub rules: Vec<DecidingRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecidingRule {
    pub id: String,
    pub cites: Vec<Citation>,
}

/// Which side a document example belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Which {
    Old,
    New,
}

/// A document example run against the other version's rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleCheck {
    pub title: String,
    /// The version whose document gives the example.
    pub of: Which,
    /// The level it is an example of there.
    pub level: String,
    /// The levels the other version gives the example's incidents (`no
    /// level`, `conflict`, `cannot be answered` where it gives none). An
    /// example gives some answers only, so its incidents can take other
    /// levels on its own side too (with a weapon, say).
    pub other_levels: Vec<String>,
    /// Whether the other version gives some incident of the example
    /// another level than its own version gives it.
    pub moved: bool,
    /// An incident of the example the two versions place at different
    /// levels, when it moved.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub witness: Option<Witness>,
    pub cites: Vec<Citation>,
}

impl Behaviour {
    /// Whether some incident is handled differently.
    pub fn differs(&self) -> bool {
        self.summary.changed > 0
    }

    fn not_compared(reason: String) -> Behaviour {
        Behaviour {
            not_compared: Some(reason),
            summary: BehaviourSummary::default(),
            only_old_asks: Vec::new(),
            only_new_asks: Vec::new(),
            shared_when: None,
            regions: Vec::new(),
            examples: Vec::new(),
        }
    }
}

/// What the structural comparison found renamed, old id to new id, by
/// kind: behaviour matches a renamed question, option, setting, level,
/// procedure, actor, route or route step with its new self, so a rename
/// alone is behaviour-neutral.
#[derive(Clone, Debug, Default)]
pub struct Renames {
    pub questions: BTreeMap<String, String>,
    /// By the question's new id, then the option's old id.
    pub options: BTreeMap<(String, String), String>,
    pub settings: BTreeMap<String, String>,
    pub levels: BTreeMap<String, String>,
    pub procedures: BTreeMap<String, String>,
    pub actors: BTreeMap<String, String>,
    pub routes: BTreeMap<String, String>,
    /// By the route's new id, then the step's old id.
    pub steps: BTreeMap<(String, String), String>,
}

impl Renames {
    fn id<'a>(map: &'a BTreeMap<String, String>, id: &'a str) -> &'a str {
        map.get(id).map_or(id, String::as_str)
    }

    /// The new id of an option (a setting, for the setting question) of the
    /// question the new version calls `question`.
    fn option<'a>(&'a self, kind: QuestionKind, question: &str, id: &'a str) -> &'a str {
        if kind == QuestionKind::Setting {
            return Renames::id(&self.settings, id);
        }
        self.options
            .get(&(question.to_owned(), id.to_owned()))
            .map_or(id, String::as_str)
    }

    /// A route entry (`route at step`, or `route`) in the new names.
    fn route(&self, entry: &mut String) {
        let (route, step) = match entry.split_once(" at ") {
            Some((r, s)) => (r, Some(s)),
            None => (entry.as_str(), None),
        };
        let route = Renames::id(&self.routes, route).to_owned();
        let renamed = match step {
            Some(step) => {
                let step = self
                    .steps
                    .get(&(route.clone(), step.to_owned()))
                    .map_or(step, String::as_str);
                format!("{route} at {step}")
            }
            None => route,
        };
        *entry = renamed;
    }

    /// An old version's handling in the new version's names.
    fn handling(&self, mut h: Handling) -> Handling {
        let rename = |map: &BTreeMap<String, String>, id: &mut String| {
            if let Some(to) = map.get(id.as_str()) {
                id.clone_from(to);
            }
        };
        if let Some(l) = &mut h.level {
            rename(&self.levels, l);
        }
        if let Some(a) = &mut h.police_by {
            rename(&self.actors, a);
        }
        if let Some(r) = &mut h.route {
            self.route(r);
        }
        for p in &mut h.procedures {
            rename(&self.procedures, &mut p.id);
            if let Some(r) = &mut p.route {
                self.route(r);
            }
        }
        h
    }
}

/// Compare what two packs do with every incident.
pub fn compare(old: &RulePack, new: &RulePack) -> Behaviour {
    compare_renamed(old, new, &Renames::default())
}

/// [`compare`], with the old version's `renames` read as the new names.
pub fn compare_renamed(old: &RulePack, new: &RulePack, renames: &Renames) -> Behaviour {
    compare_loaded(load_both(old, new), renames)
}

/// Both sides' engines, loaded side by side: loading a large pack (its
/// conditions compiled, its decision rebuilt and checked) is most of the
/// comparison's time.
pub(crate) fn load_both(
    old: &RulePack,
    new: &RulePack,
) -> (Result<Engine, LoadError>, Result<Engine, LoadError>) {
    std::thread::scope(|scope| {
        let first = scope.spawn(|| Engine::new(old.clone()));
        let second = Engine::new(new.clone());
        let first = first
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (first, second)
    })
}

/// [`compare_renamed`] on engines [`load_both`] loaded.
pub(crate) fn compare_loaded(
    engines: (Result<Engine, LoadError>, Result<Engine, LoadError>),
    renames: &Renames,
) -> Behaviour {
    let (old, new) = match engines {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) => return Behaviour::not_compared(format!("the old version: {e}")),
        (_, Err(e)) => return Behaviour::not_compared(format!("the new version: {e}")),
    };
    match Space::renamed(&old, &new, renames.clone()) {
        Ok(space) => space.behaviour(),
        Err(e) => Behaviour::not_compared(e),
    }
}

/// A question of both versions, matched by id.
#[derive(Debug)]
pub(crate) struct MergedQuestion {
    pub id: String,
    pub kind: QuestionKind,
    /// Option ids: the old version's, then those only the new one has.
    pub options: Vec<String>,
    /// Counts and amounts: the starts of the merged classes.
    pub starts: Vec<i64>,
    /// The question's index on each side.
    pub side: Vec<Option<usize>>,
}

impl MergedQuestion {
    pub fn classes(&self) -> usize {
        match self.kind {
            QuestionKind::YesNo => 2,
            QuestionKind::Count | QuestionKind::Amount => self.starts.len(),
            _ => self.options.len(),
        }
    }
}

/// What is fixed of a question on the way down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Cell {
    Unknown,
    /// Asked by neither side.
    Skipped,
    Is(u32),
}

/// The merged answer space of two (or more) engines.
pub(crate) struct Space<'e> {
    pub engines: Vec<&'e Engine>,
    pub questions: Vec<MergedQuestion>,
    /// Per engine, per own question: its merged index.
    to_merged: Vec<Vec<usize>>,
    /// Per engine, per own question, per own option: the merged option's
    /// index (through the renames, for the first engine).
    merged_options: Vec<Vec<Vec<u32>>>,
    /// Per engine: its deciding rules (pack indices).
    deciding: Vec<Vec<usize>>,
    /// Per engine, per rule: whether it has a police response or a route
    /// start of its own (so that which rule of a level decides can change
    /// the handling).
    shapes: Vec<Vec<bool>>,
    /// Per merged question: whether some "asked when" tests it.
    tested_by_asked: Vec<bool>,
    /// Per merged question, per engine: whether some class cannot be
    /// taken there.
    has_foreign: Vec<Vec<bool>>,
    /// When two versions differ only in some rules (see [`Space::twins`]):
    /// per side, the deciding rules without a twin on the other side.
    untwinned: Option<[Vec<usize>; 2]>,
    /// Incident classes below a partial incident, by the cells that
    /// matter to counting.
    counted: std::cell::RefCell<rustc_hash::FxHashMap<(usize, Vec<Cell>), u64>>,
    /// Handlings by side, setting and the rules and procedures that hold.
    handled: std::cell::RefCell<rustc_hash::FxHashMap<HandledKey, Handling>>,
    /// The first engine's renamed ids (two-way comparisons only).
    renames: Renames,
}

/// A remembered handling's key: the side, the setting, and which rules and
/// procedures hold (all a handling depends on).
type HandledKey = (usize, Option<Val>, Vec<bool>);

/// One side's view of a partial incident.
struct View {
    known: Vec<Known>,
    /// A merged question whose answer this side cannot take.
    foreign: Option<usize>,
}

/// A stop of the search: a partial incident every completion of which each
/// side handles alike.
pub(crate) struct Leaf {
    pub cells: Vec<Cell>,
    pub count: u64,
    /// A complete incident of the leaf: per merged question, a class or
    /// "not asked" (`None`).
    pub witness: Vec<Option<u32>>,
}

impl<'e> Space<'e> {
    /// The merged space of two engines, the first engine's questions,
    /// levels, procedures and actors read through `renames`.
    pub fn renamed(
        first: &'e Engine,
        second: &'e Engine,
        renames: Renames,
    ) -> Result<Space<'e>, String> {
        Space::with_renames(vec![first, second], renames)
    }

    /// Merge the questions of `engines` by id (the first engine's through
    /// `renames`); an error when they cannot be put in one order (one
    /// version asks `a` only after `b`, another `b` only after `a`).
    fn with_renames(engines: Vec<&'e Engine>, renames: Renames) -> Result<Space<'e>, String> {
        let mut questions: Vec<MergedQuestion> = Vec::new();
        let mut by_key: BTreeMap<(String, u8), usize> = BTreeMap::new();
        let mut to_merged: Vec<Vec<usize>> = Vec::new();
        let mut merged_options: Vec<Vec<Vec<u32>>> = Vec::new();
        for (s, e) in engines.iter().enumerate() {
            let mut mine = Vec::new();
            let mut options = Vec::new();
            for (qi, q) in e.pack.questions.iter().enumerate() {
                let kind_key = match q.kind {
                    QuestionKind::Setting => 0,
                    QuestionKind::YesNo => 1,
                    QuestionKind::OneOf | QuestionKind::Scale => 2,
                    QuestionKind::Count => 3,
                    QuestionKind::Amount => 4,
                };
                let id = if s == 0 {
                    Renames::id(&renames.questions, &q.id)
                } else {
                    &q.id
                };
                let m = *by_key.entry((id.to_owned(), kind_key)).or_insert_with(|| {
                    questions.push(MergedQuestion {
                        id: id.to_owned(),
                        kind: q.kind,
                        options: Vec::new(),
                        starts: Vec::new(),
                        side: vec![None; engines.len()],
                    });
                    questions.len() - 1
                });
                let mq = &mut questions[m];
                mq.side[s] = Some(qi);
                let mut indices = Vec::with_capacity(q.options.len());
                for o in &q.options {
                    let o = if s == 0 {
                        renames.option(q.kind, id, &o.id)
                    } else {
                        &o.id
                    };
                    let at = match mq.options.iter().position(|x| x == o) {
                        Some(at) => at,
                        None => {
                            mq.options.push(o.to_owned());
                            mq.options.len() - 1
                        }
                    };
                    indices.push(at as u32);
                }
                options.push(indices);
                for c in e.cells()[qi].iter().flatten() {
                    if let Val::Num(n) = c {
                        mq.starts.push(*n);
                    }
                }
                mine.push(m);
            }
            to_merged.push(mine);
            merged_options.push(options);
        }
        for q in &mut questions {
            q.starts.sort_unstable();
            q.starts.dedup();
        }
        let mut space = Space {
            deciding: engines
                .iter()
                .map(|e| {
                    (0..e.pack.rules.len())
                        .filter(|r| e.rule_decides(*r))
                        .collect()
                })
                .collect(),
            shapes: engines
                .iter()
                .map(|e| {
                    e.pack
                        .rules
                        .iter()
                        .map(|rule| {
                            !rule.police.is_empty()
                                || e.pack.routes.iter().any(|route| {
                                    route
                                        .starts
                                        .iter()
                                        .any(|st| st.rule.as_deref() == Some(rule.id.as_str()))
                                })
                        })
                        .collect()
                })
                .collect(),
            engines,
            questions,
            to_merged,
            merged_options,
            tested_by_asked: Vec::new(),
            has_foreign: Vec::new(),
            untwinned: None,
            counted: Default::default(),
            handled: Default::default(),
            renames,
        };
        space.order()?;
        let n = space.questions.len();
        let mut tested = vec![false; n];
        for (s, e) in space.engines.iter().enumerate() {
            for q in 0..e.pack.questions.len() {
                if let Some(c) = e.asked_when(q) {
                    for (t, _) in c.tests() {
                        tested[space.to_merged[s][t]] = true;
                    }
                }
            }
        }
        space.tested_by_asked = tested;
        space.has_foreign = (0..n)
            .map(|m| {
                (0..space.engines.len())
                    .map(|s| {
                        (0..space.questions[m].classes() as u32)
                            .any(|c| space.side_value(s, m, c).is_none())
                    })
                    .collect()
            })
            .collect();
        if space.engines.len() == 2 {
            space.untwinned = space.twins();
        }
        Ok(space)
    }

    /// Condition `e` of side `s` over the merged questions and options, so
    /// that two sides' conditions compare as values.
    fn translate(&self, s: usize, e: &Expr) -> Expr {
        let q_of = |q: usize| self.to_merged[s][q];
        let val = |q: usize, v: &Val| match v {
            Val::Opt(o) => Val::Opt(self.merged_options[s][q][*o as usize]),
            v => *v,
        };
        match e {
            Expr::Test { q, test } => Expr::Test {
                q: q_of(*q),
                test: match test {
                    expr::Test::Is(v) => expr::Test::Is(val(*q, v)),
                    expr::Test::In(vs) => expr::Test::In(vs.iter().map(|v| val(*q, v)).collect()),
                    t => t.clone(),
                },
            },
            Expr::Not(x) => Expr::Not(Box::new(self.translate(s, x))),
            Expr::And(xs) => Expr::And(xs.iter().map(|x| self.translate(s, x)).collect()),
            Expr::Or(xs) => Expr::Or(xs.iter().map(|x| self.translate(s, x)).collect()),
        }
    }

    /// When the two versions are the same but for some deciding rules
    /// (same policy, levels and their police, settings, procedures, route
    /// starts, questions asked alike; the rules both have, by content, in
    /// the same order): the rules of each side that the other does not
    /// have (by content, not id: a renamed rule is the same rule, unless
    /// a route starts from it, which the routes' comparison sees). Where
    /// all of those are false, both sides hold the same rules,
    /// so they handle every incident alike and the search stops there.
    fn twins(&self) -> Option<[Vec<usize>; 2]> {
        let (a, b) = (self.engines[0], self.engines[1]);
        let (pa, pb) = (&a.pack, &b.pack);
        let same_levels = pa.levels.len() == pb.levels.len()
            && pa
                .levels
                .iter()
                .zip(&pb.levels)
                .all(|(x, y)| x.id == y.id && x.police == y.police);
        let settings = |p: &RulePack| p.settings.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        let routes = |p: &RulePack| {
            p.routes
                .iter()
                .map(|r| (r.id.clone(), r.settings.clone(), r.starts.clone()))
                .collect::<Vec<_>>()
        };
        let procedures = |s: usize| {
            let e = self.engines[s];
            (0..e.pack.procedures.len())
                .map(|p| {
                    let x = &e.pack.procedures[p];
                    (
                        x.id.clone(),
                        x.police.clone(),
                        self.translate(s, e.procedure_condition(p)),
                    )
                })
                .collect::<Vec<_>>()
        };
        let asked = |s: usize| {
            let e = self.engines[s];
            let mut out: Vec<(usize, Option<Expr>)> = (0..e.pack.questions.len())
                .map(|q| {
                    (
                        self.to_merged[s][q],
                        e.asked_when(q).map(|c| self.translate(s, c)),
                    )
                })
                .collect();
            out.sort_by_key(|x| x.0);
            out
        };
        let same = pa.policy.kind == pb.policy.kind
            && pa.policy.otherwise == pb.policy.otherwise
            && same_levels
            && settings(pa) == settings(pb)
            && routes(pa) == routes(pb)
            && procedures(0) == procedures(1)
            && asked(0) == asked(1);
        if !same {
            return None;
        }
        let key = |s: usize, r: usize| {
            let e = self.engines[s];
            let rule = &e.pack.rules[r];
            (
                rule.level.clone(),
                rule.police.clone(),
                self.translate(s, e.rule_condition(r)),
            )
        };
        let keys: [Vec<_>; 2] = [0, 1].map(|s| {
            self.deciding[s]
                .iter()
                .map(|r| key(s, *r))
                .collect::<Vec<_>>()
        });
        // Whether each rule has a twin: looked up by level and condition
        // (a protocol has thousands of rules), then compared in full.
        let twinned: [Vec<bool>; 2] = [0, 1].map(|s| {
            let other = &keys[1 - s];
            let mut by_key: rustc_hash::FxHashMap<(&str, &Expr), Vec<usize>> =
                rustc_hash::FxHashMap::default();
            for (i, k) in other.iter().enumerate() {
                by_key.entry((k.0.as_str(), &k.2)).or_default().push(i);
            }
            keys[s]
                .iter()
                .map(|k| {
                    by_key
                        .get(&(k.0.as_str(), &k.2))
                        .is_some_and(|at| at.iter().any(|&i| other[i] == *k))
                })
                .collect::<Vec<_>>()
        });
        // The rules both have, in the same order on both sides.
        let order = |s: usize| {
            keys[s]
                .iter()
                .zip(&twinned[s])
                .filter(|(_, t)| **t)
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        if order(0) != order(1) {
            return None;
        }
        Some([0, 1].map(|s| {
            self.deciding[s]
                .iter()
                .zip(&twinned[s])
                .filter(|(_, t)| !**t)
                .map(|(r, _)| *r)
                .collect()
        }))
    }

    /// Put the merged questions in an order every side's "asked when"
    /// conditions respect (a condition tests only earlier questions), the
    /// first side's order where that allows.
    fn order(&mut self) -> Result<(), String> {
        let n = self.questions.len();
        let mut before: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
        for (s, e) in self.engines.iter().enumerate() {
            for q in 0..e.pack.questions.len() {
                if let Some(c) = e.asked_when(q) {
                    for (t, _) in c.tests() {
                        before[self.to_merged[s][q]].insert(self.to_merged[s][t]);
                    }
                }
            }
        }
        let mut placed = vec![false; n];
        let mut order: Vec<usize> = Vec::with_capacity(n);
        while order.len() < n {
            let next = (0..n).find(|q| !placed[*q] && before[*q].iter().all(|b| placed[*b]));
            let Some(q) = next else {
                let stuck: Vec<&str> = (0..n)
                    .filter(|q| !placed[*q])
                    .map(|q| self.questions[q].id.as_str())
                    .collect();
                return Err(format!(
                    "the versions ask questions in orders that contradict each other (one asks a question only after another that the other asks only after it): {}",
                    stuck.join(", ")
                ));
            };
            placed[q] = true;
            order.push(q);
        }
        let mut new_index = vec![0; n];
        for (i, q) in order.iter().enumerate() {
            new_index[*q] = i;
        }
        let mut qs: Vec<Option<MergedQuestion>> = std::mem::take(&mut self.questions)
            .into_iter()
            .map(Some)
            .collect();
        self.questions = order
            .iter()
            .map(|q| qs[*q].take().expect("each once"))
            .collect();
        for m in &mut self.to_merged {
            for x in m.iter_mut() {
                *x = new_index[*x];
            }
        }
        Ok(())
    }

    /// Side `s`'s own question index of merged question `m`.
    fn own(&self, s: usize, m: usize) -> Option<usize> {
        self.questions[m].side[s]
    }

    /// Class `c` of merged question `m` as side `s` reads it; `None` when it
    /// cannot take it (or does not have the question).
    pub fn side_value(&self, s: usize, m: usize, c: u32) -> Option<Val> {
        let q = self.own(s, m)?;
        self.value_on(s, q, m, c)
    }

    fn value_on(&self, s: usize, q: usize, m: usize, c: u32) -> Option<Val> {
        let mq = &self.questions[m];
        let question = &self.engines[s].pack.questions[q];
        match mq.kind {
            QuestionKind::YesNo => Some(Val::Bool(c == 1)),
            QuestionKind::Count | QuestionKind::Amount => {
                let n = mq.starts[c as usize];
                (n >= question.minimum.unwrap_or(0)).then_some(Val::Num(n))
            }
            _ => self.merged_options[s][q]
                .iter()
                .position(|o| *o == c)
                .map(|i| Val::Opt(i as u32)),
        }
    }

    /// Side `s`'s view of partial incident `cells`.
    fn view(&self, s: usize, cells: &[Cell]) -> View {
        let e = self.engines[s];
        let n = e.pack.questions.len();
        let mut known = vec![Known::Unknown; n];
        let mut foreign = None;
        for q in 0..n {
            let m = self.to_merged[s][q];
            let asked = match e.asked_when(q) {
                None => Some(true),
                Some(c) => c.eval3(&known),
            };
            known[q] = match (cells[m], asked) {
                (_, Some(false)) | (Cell::Skipped, _) => Known::Is(None),
                (Cell::Is(c), Some(true)) => match self.value_on(s, q, m, c) {
                    Some(v) => Known::Is(Some(v)),
                    None => {
                        foreign.get_or_insert(m);
                        Known::Unknown
                    }
                },
                _ => Known::Unknown,
            };
        }
        View { known, foreign }
    }

    /// The deciding rules of side `s` still open that can change its
    /// handling of the incidents agreeing with `known`: under `first-match`
    /// those before the first rule that holds; under `most-serious` those
    /// at or above the level of the rules that hold (a rule of the same
    /// level can still add its police response or route); under
    /// `no-overlap` every open rule, unless two that hold already conflict.
    /// With `level_only`, only the rules that can still change the level.
    fn open_rules(&self, s: usize, known: &[Known], level_only: bool) -> Vec<usize> {
        let e = self.engines[s];
        let mut open = Vec::new();
        let mut holding = Vec::new();
        let mut top: Option<usize> = None;
        let mut levels_differ = false;
        for &r in &self.deciding[s] {
            match e.rule_condition(r).eval3(known) {
                None => open.push(r),
                Some(true) => {
                    let l = e.rule_level(r);
                    if e.pack.policy.kind == PolicyKind::FirstMatch {
                        return open;
                    }
                    levels_differ |= top.is_some_and(|t| t != l);
                    top = top.max(Some(l));
                    holding.push(r);
                }
                Some(false) => {}
            }
        }
        match e.pack.policy.kind {
            PolicyKind::FirstMatch => open,
            PolicyKind::MostSerious => {
                // A rule of the level already reached changes the handling
                // only through a police response or a route start of its
                // own, or by adding the level's response beside a holding
                // rule's own; otherwise which of them decides is the same.
                let shaped = |r: usize| self.shapes[s][r];
                let top_shaped = top
                    .is_some_and(|t| holding.iter().any(|r| e.rule_level(*r) == t && shaped(*r)));
                open.into_iter()
                    .filter(|r| {
                        top.is_none_or(|t| {
                            let l = e.rule_level(*r);
                            l > t || (!level_only && l == t && (top_shaped || shaped(*r)))
                        })
                    })
                    .collect()
            }
            PolicyKind::NoOverlap if levels_differ => Vec::new(),
            PolicyKind::NoOverlap => open,
        }
    }

    /// Whether merged question `m` is asked on some side, given `cells`
    /// (`None` while open).
    fn asked_anywhere(&self, views: &[View], m: usize) -> Option<bool> {
        let mut open = false;
        for (s, e) in self.engines.iter().enumerate() {
            let Some(q) = self.own(s, m) else { continue };
            match e
                .asked_when(q)
                .map_or(Some(true), |c| c.eval3(&views[s].known))
            {
                Some(true) => return Some(true),
                None => open = true,
                Some(false) => {}
            }
        }
        if open { None } else { Some(false) }
    }

    /// Walk the space below `cells`, restricted by `within` (a condition
    /// over one side's answers), and call `leaf` at every stop.
    /// With `levels_only`, stop where each side's level is settled (police,
    /// procedures and routes are not looked at).
    pub fn walk(
        &self,
        within: Option<(usize, &Expr)>,
        levels_only: bool,
        leaf: &mut dyn FnMut(Leaf),
    ) {
        let mut cells = vec![Cell::Unknown; self.questions.len()];
        self.walk_below(&mut cells, within, levels_only, leaf);
    }

    fn walk_below(
        &self,
        cells: &mut Vec<Cell>,
        within: Option<(usize, &Expr)>,
        levels_only: bool,
        leaf: &mut dyn FnMut(Leaf),
    ) {
        let n = self.questions.len();
        let views: Vec<View> = (0..self.engines.len())
            .map(|s| self.view(s, cells))
            .collect();
        if within.is_none()
            && !levels_only
            && let Some(untwinned) = &self.untwinned
            && (0..2).all(|s| {
                views[s].foreign.is_none()
                    && untwinned[s].iter().all(|r| {
                        self.engines[s].rule_condition(*r).eval3(&views[s].known) == Some(false)
                    })
            })
        {
            // Both sides hold the same rules here: handled alike.
            let count = self.count(cells, 0);
            leaf(Leaf {
                cells: cells.clone(),
                count,
                witness: Vec::new(),
            });
            return;
        }
        let mut relevant = vec![false; n];
        let mut settled = true;
        let mark = |s: usize, e: &Expr, relevant: &mut Vec<bool>| {
            for (t, _) in e.tests() {
                relevant[self.to_merged[s][t]] = true;
            }
        };
        if let Some((s, c)) = within {
            match c.eval3(&views[s].known) {
                Some(false) => return,
                Some(true) => {}
                None => {
                    settled = false;
                    mark(s, c, &mut relevant);
                }
            }
        }
        for (s, e) in self.engines.iter().enumerate() {
            let view = &views[s];
            if view.foreign.is_some() {
                continue;
            }
            for r in self.open_rules(s, &view.known, levels_only) {
                settled = false;
                mark(s, e.rule_condition(r), &mut relevant);
            }
            let procedures = if levels_only {
                0
            } else {
                e.pack.procedures.len()
            };
            for p in 0..procedures {
                let c = e.procedure_condition(p);
                if c.eval3(&view.known).is_none() {
                    settled = false;
                    mark(s, c, &mut relevant);
                }
            }
            for q in 0..e.pack.questions.len() {
                if view.known[q] != Known::Unknown {
                    continue;
                }
                let m = self.to_merged[s][q];
                // The setting settles police and routes; an answer a side
                // cannot take changes its handling.
                if Some(q) == e.setting_question() || self.has_foreign[m][s] {
                    settled = false;
                    relevant[m] = true;
                }
                if let Some(c) = e.asked_when(q)
                    && c.eval3(&view.known).is_none()
                {
                    settled = false;
                    mark(s, c, &mut relevant);
                }
            }
        }
        // Where nothing more is worth splitting on: the incidents here,
        // counted and decided as one.
        let settle = |cells: &mut Vec<Cell>, leaf: &mut dyn FnMut(Leaf)| {
            let count = self.count(cells, 0);
            let witness = self.complete(cells);
            leaf(Leaf {
                cells: cells.clone(),
                count,
                witness,
            });
        };
        if settled {
            settle(cells, leaf);
            return;
        }
        let Some(m) = (0..n).find(|m| relevant[*m] && cells[*m] == Cell::Unknown) else {
            // An open condition always tests a question not yet fixed; were
            // it not so, the incidents here are still counted and decided.
            settle(cells, leaf);
            return;
        };
        match self.asked_anywhere(&views, m) {
            Some(false) => {
                cells[m] = Cell::Skipped;
                self.walk_below(cells, within, levels_only, leaf);
            }
            _ => {
                for c in 0..self.questions[m].classes() as u32 {
                    cells[m] = Cell::Is(c);
                    self.walk_below(cells, within, levels_only, leaf);
                }
            }
        }
        cells[m] = Cell::Unknown;
    }

    /// The incident classes that agree with `cells`: a question asked on
    /// some side counts its classes, one asked nowhere counts once.
    fn count(&self, cells: &mut [Cell], from: usize) -> u64 {
        // Only the cells that "asked when" conditions test, and which
        // others are still open, matter to the count.
        let key: Vec<Cell> = cells
            .iter()
            .enumerate()
            .map(|(m, c)| match c {
                Cell::Is(_) if !self.tested_by_asked[m] => Cell::Is(0),
                c => *c,
            })
            .collect();
        if let Some(n) = self.counted.borrow().get(&(from, key.clone())) {
            return *n;
        }
        let n = self.count_below(cells, from);
        self.counted.borrow_mut().insert((from, key), n);
        n
    }

    fn count_below(&self, cells: &mut [Cell], from: usize) -> u64 {
        let mut total: u64 = 1;
        for m in from..cells.len() {
            if cells[m] != Cell::Unknown {
                continue;
            }
            let views: Vec<View> = (0..self.engines.len())
                .map(|s| self.view(s, cells))
                .collect();
            match self.asked_anywhere(&views, m) {
                Some(false) => continue,
                _ if self.tested_by_asked[m] => {
                    let mut sum: u64 = 0;
                    for c in 0..self.questions[m].classes() as u32 {
                        cells[m] = Cell::Is(c);
                        sum = sum.saturating_add(self.count(cells, m + 1));
                    }
                    cells[m] = Cell::Unknown;
                    return total.saturating_mul(sum);
                }
                _ => total = total.saturating_mul(self.questions[m].classes() as u64),
            }
        }
        total
    }

    /// A complete incident that agrees with `cells`: every open question
    /// asked on some side gets the first class every side that asks it
    /// can take.
    fn complete(&self, cells: &[Cell]) -> Vec<Option<u32>> {
        let mut fixed = cells.to_vec();
        for m in 0..fixed.len() {
            if fixed[m] != Cell::Unknown {
                continue;
            }
            let views: Vec<View> = (0..self.engines.len())
                .map(|s| self.view(s, &fixed))
                .collect();
            if self.asked_anywhere(&views, m) == Some(false) {
                fixed[m] = Cell::Skipped;
                continue;
            }
            let takes = |c: u32| {
                (0..self.engines.len()).all(|s| {
                    self.own(s, m).is_none_or(|q| {
                        let asked = self.engines[s]
                            .asked_when(q)
                            .is_none_or(|e| e.eval3(&views[s].known) != Some(false));
                        !asked || self.side_value(s, m, c).is_some()
                    })
                })
            };
            let c = (0..self.questions[m].classes() as u32)
                .find(|c| takes(*c))
                .unwrap_or(0);
            fixed[m] = Cell::Is(c);
        }
        fixed
            .iter()
            .map(|c| match c {
                Cell::Is(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Side `s`'s answers to a complete incident, as JSON, with the setting
    /// it is decided in; `Err` with the merged question it cannot take.
    pub fn answers(
        &self,
        s: usize,
        incident: &[Option<u32>],
    ) -> Result<(Map<String, Value>, Option<String>), usize> {
        let cells: Vec<Cell> = incident
            .iter()
            .map(|c| c.map_or(Cell::Skipped, Cell::Is))
            .collect();
        let view = self.view(s, &cells);
        if let Some(m) = view.foreign {
            return Err(m);
        }
        let e = self.engines[s];
        let mut out = Map::new();
        let mut setting = None;
        for (q, k) in view.known.iter().enumerate() {
            let question = &e.pack.questions[q];
            let Known::Is(Some(v)) = k else { continue };
            let value = match *v {
                Val::Bool(b) => json!(b),
                Val::Opt(o) => json!(question.options[o as usize].id),
                Val::Num(n) if question.kind == QuestionKind::Amount => {
                    if n % 100 == 0 {
                        json!(n / 100)
                    } else {
                        json!(n as f64 / 100.0)
                    }
                }
                Val::Num(n) => json!(n),
            };
            if question.kind == QuestionKind::Setting {
                setting = value.as_str().map(str::to_owned);
            }
            out.insert(question.id.clone(), value);
        }
        if setting.is_none() && e.pack.settings.len() == 1 {
            setting = Some(e.pack.settings[0].id.clone());
        }
        Ok((out, setting))
    }

    /// [`Space::handle`] without the rules, remembered by what decides it:
    /// the setting, and which rules and procedures hold.
    fn handling(&self, s: usize, incident: &[Option<u32>]) -> Handling {
        let e = self.engines[s];
        let cells: Vec<Cell> = incident
            .iter()
            .map(|c| c.map_or(Cell::Skipped, Cell::Is))
            .collect();
        let view = self.view(s, &cells);
        if view.foreign.is_some() {
            let h = self.handle(s, incident).handling;
            return if s == 0 { self.renames.handling(h) } else { h };
        }
        let holds = |c: &Expr| c.eval3(&view.known) == Some(true);
        let mut key: Vec<bool> = (0..e.pack.rules.len())
            .map(|r| holds(e.rule_condition(r)))
            .collect();
        key.extend((0..e.pack.procedures.len()).map(|p| holds(e.procedure_condition(p))));
        let setting = e.setting_question().and_then(|q| match view.known[q] {
            Known::Is(v) => v,
            Known::Unknown => None,
        });
        let memo_key = (s, setting, key);
        if let Some(h) = self.handled.borrow().get(&memo_key) {
            return h.clone();
        }
        let h = self.handle(s, incident).handling;
        let h = if s == 0 { self.renames.handling(h) } else { h };
        self.handled.borrow_mut().insert(memo_key, h.clone());
        h
    }

    /// How side `s` handles a complete incident, as `carepath decide`
    /// decides it, with the rules that decide it.
    pub fn handle(&self, s: usize, incident: &[Option<u32>]) -> Handled {
        let e = self.engines[s];
        let unanswerable = |m: usize| Handled {
            handling: Handling {
                outcome: HandlingKind::Unanswerable,
                level: None,
                police: None,
                police_by: None,
                procedures: Vec::new(),
                route: None,
                unanswerable: Some(self.questions[m].id.clone()),
            },
            rules: Vec::new(),
        };
        let (answers, setting) = match self.answers(s, incident) {
            Ok(a) => a,
            Err(m) => return unanswerable(m),
        };
        let no_level = |kind: HandlingKind| Handled {
            handling: Handling {
                outcome: kind,
                level: None,
                police: None,
                police_by: None,
                procedures: Vec::new(),
                route: None,
                unanswerable: None,
            },
            rules: Vec::new(),
        };
        let Some(setting) = setting else {
            return no_level(HandlingKind::Undecided);
        };
        let values: Vec<Option<Val>> = {
            let cells: Vec<Cell> = incident
                .iter()
                .map(|c| c.map_or(Cell::Skipped, Cell::Is))
                .collect();
            self.view(s, &cells)
                .known
                .iter()
                .map(|k| match k {
                    Known::Is(v) => *v,
                    Known::Unknown => None,
                })
                .collect()
        };
        match e.outcome(&values) {
            Outcome::Undecided => return no_level(HandlingKind::Undecided),
            Outcome::Conflict => return no_level(HandlingKind::Conflict),
            Outcome::Level(_) => {}
        }
        let decided = e
            .answers(&answers)
            .map_err(|_| ())
            .and_then(|a| e.decide(&a, &setting).map_err(|_| ()));
        let Ok(d) = decided else {
            return no_level(HandlingKind::Undecided);
        };
        let route_of = |r: &crate::eval::Route<'_>| match r.steps.first() {
            Some(step) => format!("{} at {}", r.id, step.id),
            None => r.id.to_string(),
        };
        Handled {
            handling: Handling {
                outcome: HandlingKind::Decided,
                level: Some(d.level.id.to_string()),
                police: Some(d.police.response),
                police_by: d.police.by.map(str::to_owned),
                procedures: d
                    .procedures
                    .iter()
                    .map(|p| ProcedureHandling {
                        id: p.id.to_string(),
                        police: p.police.as_ref().map(|x| x.response),
                        route: p.route.as_ref().map(route_of),
                    })
                    .collect(),
                route: d.route.as_ref().map(route_of),
                unanswerable: None,
            },
            rules: d
                .deciding
                .iter()
                .map(|r| DecidingRule {
                    id: r.id.to_string(),
                    cites: r.cites.to_vec(),
                })
                .collect(),
        }
    }

    /// The condition a set of classes of merged question `m` is, in the
    /// language's syntax; `None` when it is every class.
    pub fn describe(&self, m: usize, classes: &BTreeSet<u32>) -> Option<String> {
        describe(&self.questions[m], classes)
    }

    /// The tests every leaf makes: per question that each leaf tests, the
    /// classes they take, where that is not every class. Every incident of
    /// the leaves is in it, so a region of them can leave these tests out.
    pub fn shared_tests<'c>(
        &self,
        leaves: impl IntoIterator<Item = &'c [Cell]>,
    ) -> BTreeMap<usize, BTreeSet<u32>> {
        let mut shared: Option<BTreeMap<usize, BTreeSet<u32>>> = None;
        for cells in leaves {
            let tested = |m: usize| match cells.get(m) {
                Some(Cell::Is(c)) => Some(*c),
                _ => None,
            };
            match &mut shared {
                None => {
                    shared = Some(
                        (0..cells.len())
                            .filter_map(|m| tested(m).map(|c| (m, BTreeSet::from([c]))))
                            .collect(),
                    );
                }
                Some(tests) => {
                    tests.retain(|m, set| match tested(*m) {
                        Some(c) => {
                            set.insert(c);
                            true
                        }
                        None => false,
                    });
                }
            }
        }
        let mut shared = shared.unwrap_or_default();
        shared.retain(|m, set| set.len() < self.questions[*m].classes());
        shared
    }

    /// Tests as one conjunction (`None` when there are none, or one cannot
    /// be put in words).
    pub fn conjunction(&self, tests: &BTreeMap<usize, BTreeSet<u32>>) -> Option<String> {
        let parts: Vec<String> = tests
            .iter()
            .map(|(m, set)| self.describe(*m, set))
            .collect::<Option<_>>()?;
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    /// A region of leaves as one condition, in addition to the `shared`
    /// tests: the leaves' tests as cubes without those they share, merged
    /// where two differ in one question only, each cube a conjunction, the
    /// cubes joined by `or`.
    pub fn region_condition(
        &self,
        leaves: &[&[Cell]],
        shared: &BTreeMap<usize, BTreeSet<u32>>,
    ) -> Option<String> {
        let mut cubes: Vec<BTreeMap<usize, BTreeSet<u32>>> = leaves
            .iter()
            .map(|cells| {
                cells
                    .iter()
                    .enumerate()
                    .filter_map(|(m, c)| match c {
                        Cell::Is(c) => Some((m, BTreeSet::from([*c]))),
                        _ => None,
                    })
                    .filter(|(m, set)| shared.get(m) != Some(set))
                    .collect()
            })
            .collect();
        // Within the shared tests, a question's classes are those shared.
        merge_cubes(&mut cubes, |m| {
            shared
                .get(&m)
                .map_or_else(|| self.questions[m].classes(), BTreeSet::len)
        });
        let described: Vec<Vec<String>> = cubes
            .iter()
            .map(|cube| {
                cube.iter()
                    .filter_map(|(m, set)| self.describe(*m, set))
                    .collect()
            })
            .collect();
        disjunction(&described)
    }

    /// The witness of a complete incident, for the first two sides.
    pub fn witness(&self, incident: &[Option<u32>]) -> Witness {
        let (old_answers, old_setting) = self.answers(0, incident).unwrap_or_default();
        let (new_answers, new_setting) = self.answers(1, incident).unwrap_or_default();
        Witness {
            setting: old_setting.or(new_setting),
            old_answers,
            new_answers,
        }
    }

    /// The behavioural comparison of the first two sides.
    fn behaviour(&self) -> Behaviour {
        // Few pairs of handlings differ: a list is enough.
        let mut groups: Vec<((Handling, Handling), Vec<Leaf>)> = Vec::new();
        let mut total: u64 = 0;
        self.walk(None, false, &mut |leaf| {
            total = total.saturating_add(leaf.count);
            if leaf.witness.is_empty() {
                // Handled alike (see `twins`).
                return;
            }
            let old = self.handling(0, &leaf.witness);
            let new = self.handling(1, &leaf.witness);
            if old != new {
                let key = (old, new);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, leaves)) => leaves.push(leaf),
                    None => groups.push((key, vec![leaf])),
                }
            }
        });
        let mut summary = BehaviourSummary {
            incident_classes: total,
            ..BehaviourSummary::default()
        };
        let shared = self.shared_tests(
            groups
                .iter()
                .flat_map(|(_, leaves)| leaves.iter().map(|l| l.cells.as_slice())),
        );
        let mut regions: Vec<Region> = Vec::new();
        for ((old, new), leaves) in groups {
            let count = leaves.iter().fold(0u64, |a, l| a.saturating_add(l.count));
            let direction = direction(&old, &new);
            summary.changed = summary.changed.saturating_add(count);
            let slot = match direction {
                Direction::MorePolice => &mut summary.more_police,
                Direction::LessPolice => &mut summary.less_police,
                Direction::NotComparable => &mut summary.police_not_comparable,
                Direction::SamePolice => &mut summary.same_police,
            };
            *slot = slot.saturating_add(count);
            let cells: Vec<&[Cell]> = leaves.iter().map(|l| l.cells.as_slice()).collect();
            let witness = &leaves[0].witness;
            regions.push(Region {
                when: self.region_condition(&cells, &shared),
                incident_classes: count,
                direction,
                changes: aspects(&old, &new),
                witness: self.witness(witness),
                old: self.handle(0, witness),
                new: self.handle(1, witness),
            });
        }
        regions.sort_by(|a, b| {
            (a.direction, std::cmp::Reverse(a.incident_classes))
                .cmp(&(b.direction, std::cmp::Reverse(b.incident_classes)))
        });
        summary.neutral = summary.changed == 0;
        let asks = |s: usize| -> Vec<String> {
            self.questions
                .iter()
                .filter(|q| q.side[s].is_some() && q.side[1 - s].is_none())
                .map(|q| q.id.clone())
                .collect()
        };
        Behaviour {
            not_compared: None,
            summary,
            only_old_asks: asks(0),
            only_new_asks: asks(1),
            shared_when: self.conjunction(&shared),
            regions,
            examples: self.examples(),
        }
    }

    /// Each side's examples with a condition, run against the other side.
    fn examples(&self) -> Vec<ExampleCheck> {
        let mut out = Vec::new();
        for (s, of) in [(0, Which::Old), (1, Which::New)] {
            let e = self.engines[s];
            let other = 1 - s;
            for level in &e.pack.levels {
                for ex in &level.examples {
                    let Some(given) = &ex.given else { continue };
                    let Ok(cond) = parse_on(e, given) else {
                        continue;
                    };
                    let mut levels: BTreeSet<String> = BTreeSet::new();
                    let mut witness: Option<Vec<Option<u32>>> = None;
                    let mut moved = false;
                    self.walk(Some((s, &cond)), true, &mut |leaf| {
                        let own = level_name(&self.handling(s, &leaf.witness));
                        let name = level_name(&self.handling(other, &leaf.witness));
                        if name != own {
                            moved = true;
                            witness.get_or_insert_with(|| leaf.witness.clone());
                        }
                        levels.insert(name);
                    });
                    out.push(ExampleCheck {
                        title: ex.title.clone(),
                        of,
                        level: level.id.clone(),
                        other_levels: levels.into_iter().collect(),
                        moved,
                        witness: witness.map(|w| self.witness(&w)),
                        cites: ex.cites.clone(),
                    });
                }
            }
        }
        out
    }
}

/// Conjunctions of tests as one condition, joined by `or` (each
/// conjunction of several tests in brackets when there are several), the
/// tests every conjunction has said once, before the rest (`a and (b or
/// c)`); `None` when one of them tests nothing, so the whole is every
/// incident.
pub(crate) fn disjunction(described: &[Vec<String>]) -> Option<String> {
    if described.iter().any(Vec::is_empty) {
        return None;
    }
    let common: Vec<&String> = match described {
        [first, rest @ ..] if !rest.is_empty() => first
            .iter()
            .filter(|t| rest.iter().all(|parts| parts.contains(t)))
            .collect(),
        _ => Vec::new(),
    };
    if !common.is_empty() {
        let rest: Vec<Vec<String>> = described
            .iter()
            .map(|parts| {
                parts
                    .iter()
                    .filter(|t| !common.contains(t))
                    .cloned()
                    .collect()
            })
            .collect();
        let common = common
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" and ");
        // A conjunction of the common tests alone holds wherever any does.
        return Some(match disjunction(&rest) {
            None => common,
            Some(rest) => format!("{common} and ({rest})"),
        });
    }
    let several = described.len() > 1;
    Some(
        described
            .iter()
            .map(|parts| {
                let text = parts.join(" and ");
                if several && parts.len() > 1 {
                    format!("({text})")
                } else {
                    text
                }
            })
            .collect::<Vec<_>>()
            .join(" or "),
    )
}

/// The condition a set of classes of a merged question is, in the
/// language's syntax; `None` when it is every class.
pub(crate) fn describe(q: &MergedQuestion, classes: &BTreeSet<u32>) -> Option<String> {
    let n = q.classes() as u32;
    if classes.len() as u32 >= n {
        return None;
    }
    let id = &q.id;
    Some(match q.kind {
        QuestionKind::YesNo => {
            if classes.contains(&1) {
                id.clone()
            } else {
                format!("{id} == no")
            }
        }
        QuestionKind::Count | QuestionKind::Amount => {
            let num = |x: i64| number(q.kind, x);
            let mut runs: Vec<(u32, u32)> = Vec::new();
            for c in classes {
                match runs.last_mut() {
                    Some((_, end)) if *end == *c => *end = c + 1,
                    _ => runs.push((*c, c + 1)),
                }
            }
            let parts: Vec<String> = runs
                .iter()
                .map(|(a, b)| {
                    let lo = q.starts[*a as usize];
                    let hi = (*b < n).then(|| q.starts[*b as usize]);
                    match hi {
                        Some(h) if h == lo + 1 => format!("{id} == {}", num(lo)),
                        Some(h) if *a == 0 => format!("{id} < {}", num(h)),
                        Some(h) => format!("{id} >= {} and {id} < {}", num(lo), num(h)),
                        None => format!("{id} >= {}", num(lo)),
                    }
                })
                .collect();
            if parts.len() == 1 {
                parts[0].clone()
            } else {
                format!("({})", parts.join(" or "))
            }
        }
        _ => {
            let name = |c: &u32| q.options[*c as usize].clone();
            let is_scale = q.kind == QuestionKind::Scale;
            let set: Vec<u32> = classes.iter().copied().collect();
            match set.as_slice() {
                [one] => format!("{id} == {}", name(one)),
                _ if set.len() as u32 == n - 1 && !is_scale => {
                    let missing = (0..n).find(|i| !classes.contains(i)).unwrap_or(0);
                    format!("{id} != {}", name(&missing))
                }
                [first, .., last]
                    if is_scale && *last == n - 1 && (*last - *first + 1) as usize == set.len() =>
                {
                    format!("{id} >= {}", name(first))
                }
                [first, .., last]
                    if is_scale && *first == 0 && (*last + 1) as usize == set.len() =>
                {
                    format!("{id} <= {}", name(last))
                }
                _ => format!(
                    "{id} in {{{}}}",
                    set.iter().map(name).collect::<Vec<_>>().join(", ")
                ),
            }
        }
    })
}

/// A handling's level, or what it gives instead, in words.
fn level_name(h: &Handling) -> String {
    match h.outcome {
        HandlingKind::Decided => h.level.clone().unwrap_or_default(),
        HandlingKind::Undecided => "no level".into(),
        HandlingKind::Conflict => "conflict".into(),
        HandlingKind::Unanswerable => "cannot be answered".into(),
    }
}

/// An example's condition, read by side `e`'s engine.
fn parse_on(e: &Engine, given: &Value) -> Result<Expr, String> {
    parse_condition(&e.pack, &|name: &str| e.question_index(name), given)
}

/// Merge cubes that differ in the classes of one question only, and drop a
/// question whose classes a cube holds all of, until nothing merges.
///
/// Each pass takes one question at a time and buckets the cubes that test
/// it by the rest of their tests; a bucket becomes one cube holding the
/// union of its classes. The cubes are disjoint pieces of one region, so
/// every merge keeps exactly the same incidents. Then equal cubes are
/// kept once.
fn merge_cubes(cubes: &mut Vec<BTreeMap<usize, BTreeSet<u32>>>, classes: impl Fn(usize) -> usize) {
    loop {
        let before: BTreeSet<BTreeMap<usize, BTreeSet<u32>>> = cubes.iter().cloned().collect();
        let questions: BTreeSet<usize> = cubes.iter().flat_map(|c| c.keys().copied()).collect();
        for m in questions {
            let mut buckets: BTreeMap<BTreeMap<usize, BTreeSet<u32>>, BTreeSet<u32>> =
                BTreeMap::new();
            let mut rest: Vec<BTreeMap<usize, BTreeSet<u32>>> = Vec::new();
            for mut cube in cubes.drain(..) {
                match cube.remove(&m) {
                    Some(set) => buckets.entry(cube).or_default().extend(set),
                    None => rest.push(cube),
                }
            }
            for (mut cube, set) in buckets {
                if set.len() < classes(m) {
                    cube.insert(m, set);
                }
                rest.push(cube);
            }
            let unique: BTreeSet<_> = rest.into_iter().collect();
            cubes.extend(unique);
        }
        let after: BTreeSet<BTreeMap<usize, BTreeSet<u32>>> = cubes.iter().cloned().collect();
        if after == before {
            return;
        }
    }
}

/// The most police of a handling: its level's response and its
/// procedures', ranked; `None` when it gives no level or none can be
/// ranked.
fn involvement(h: &Handling) -> Option<u8> {
    if h.outcome != HandlingKind::Decided {
        return None;
    }
    h.police
        .iter()
        .chain(h.procedures.iter().filter_map(|p| p.police.as_ref()))
        .filter_map(|r| rank(*r))
        .max()
}

fn direction(old: &Handling, new: &Handling) -> Direction {
    match (involvement(old), involvement(new)) {
        (Some(a), Some(b)) if b > a => Direction::MorePolice,
        (Some(a), Some(b)) if b < a => Direction::LessPolice,
        (Some(_), Some(_)) => Direction::SamePolice,
        _ if old.outcome == new.outcome
            && old.police == new.police
            && old
                .procedures
                .iter()
                .map(|p| p.police)
                .eq(new.procedures.iter().map(|p| p.police)) =>
        {
            Direction::SamePolice
        }
        _ => Direction::NotComparable,
    }
}

fn aspects(old: &Handling, new: &Handling) -> Vec<Aspect> {
    let mut out = Vec::new();
    if old.outcome != new.outcome || old.level != new.level || old.unanswerable != new.unanswerable
    {
        out.push(Aspect::Level);
    }
    if old.police != new.police || old.police_by != new.police_by {
        out.push(Aspect::Police);
    }
    let ids = |h: &Handling| -> Vec<(String, Option<Response>)> {
        h.procedures
            .iter()
            .map(|p| (p.id.clone(), p.police))
            .collect()
    };
    if ids(old) != ids(new) {
        out.push(Aspect::Procedures);
    }
    let routes = |h: &Handling| -> Vec<Option<String>> {
        std::iter::once(h.route.clone())
            .chain(h.procedures.iter().map(|p| p.route.clone()))
            .collect()
    };
    if routes(old) != routes(new) {
        out.push(Aspect::Route);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Cube = BTreeMap<usize, BTreeSet<u32>>;

    /// The points of a space of `sizes` a cube holds (a question it does
    /// not test takes every class).
    fn points(cube: &Cube, sizes: &[u32]) -> BTreeSet<Vec<u32>> {
        let mut out = BTreeSet::from([Vec::new()]);
        for (m, n) in sizes.iter().enumerate() {
            out = out
                .into_iter()
                .flat_map(|p| {
                    (0..*n)
                        .filter(|c| cube.get(&m).is_none_or(|s| s.contains(c)))
                        .map(move |c| {
                            let mut q = p.clone();
                            q.push(c);
                            q
                        })
                })
                .collect();
        }
        out
    }

    #[test]
    fn merged_cubes_hold_exactly_the_points_they_were_made_of() {
        let sizes = [3u32, 2, 4, 2];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let all = points(&Cube::new(), &sizes);
        let mut merged_some = false;
        for _ in 0..300 {
            // A random region: each point in it with probability 1/2, or
            // 7/8 so that whole questions fall away.
            let keep = if next() % 2 == 0 { 2 } else { 8 };
            let region: BTreeSet<Vec<u32>> =
                all.iter().filter(|_| next() % keep != 0).cloned().collect();
            let mut cubes: Vec<Cube> = region
                .iter()
                .map(|p| {
                    p.iter()
                        .enumerate()
                        .map(|(m, c)| (m, BTreeSet::from([*c])))
                        .collect()
                })
                .collect();
            merge_cubes(&mut cubes, |m| sizes[m] as usize);
            let mut covered = BTreeSet::new();
            for cube in &cubes {
                for p in points(cube, &sizes) {
                    assert!(covered.insert(p), "cubes overlap: {cubes:?}");
                }
            }
            assert_eq!(covered, region, "{cubes:?}");
            merged_some |= cubes.len() < region.len();
        }
        assert!(merged_some, "no region merged at all");
    }

    #[test]
    fn tests_every_conjunction_has_are_said_once() {
        let c = |parts: &[&[&str]]| {
            let parts: Vec<Vec<String>> = parts
                .iter()
                .map(|p| p.iter().map(|t| t.to_string()).collect())
                .collect();
            disjunction(&parts)
        };
        assert_eq!(c(&[&["a", "b"]]).as_deref(), Some("a and b"));
        assert_eq!(c(&[&["a"], &["b"]]).as_deref(), Some("a or b"));
        assert_eq!(
            c(&[&["s", "a"], &["s", "b", "c"]]).as_deref(),
            Some("s and (a or (b and c))")
        );
        assert_eq!(
            c(&[&["s", "t", "a"], &["t", "s", "b"]]).as_deref(),
            Some("s and t and (a or b)")
        );
        // `s or (s and b)` is `s`.
        assert_eq!(c(&[&["s"], &["s", "b"]]).as_deref(), Some("s"));
        assert_eq!(c(&[&["s"], &[]]), None);
    }
}
