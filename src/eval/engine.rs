//! A loaded rule pack, checked and compiled: answers are validated and
//! decided here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use super::classes::{self, Classes};
use super::compiled::{self, Compiled, End, PoliceKeys, PoliceTable};
use super::diagram::{self, Diagram, Restricted};
use super::expr::{self, Cmp, Expr, Known, Lookup, Test, Val};
use super::read::{self, Integrity};
use super::reader::Reader;
use crate::emit::pack::{self, PolicyKind, QuestionKind, RulePack};

/// A rule pack that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// What an incident is decided as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// A level (index into the pack's levels): by a rule, or by `otherwise`.
    Level(usize),
    /// No rule applies and the protocol has no `otherwise`.
    Undecided,
    /// Rules of different levels apply (`no-overlap` protocols).
    Conflict,
}

/// An outcome with the police response that comes with it: what partial
/// answers must settle before a decision can be given, since two incidents
/// of one level can differ in the response (a rule of the level with a
/// response of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Verdict {
    pub outcome: Outcome,
    /// The police response, as a key of the pack's police table (a greater
    /// key is more police); 0 without a level.
    pub police: u32,
}

impl Verdict {
    /// What an end of the compiled decision decides.
    pub(super) fn of(end: End) -> Verdict {
        match end {
            End::Level { level, key } => Verdict {
                outcome: Outcome::Level(level),
                police: key,
            },
            End::Undecided => Verdict {
                outcome: Outcome::Undecided,
                police: 0,
            },
            End::Conflict => Verdict {
                outcome: Outcome::Conflict,
                police: 0,
            },
        }
    }
}

/// What settles a route decision from the answers.
pub enum On {
    /// A question's answer (index into the pack's questions).
    Question(usize),
    /// A condition: yes when it holds.
    Cond(Expr),
}

/// A route node's conditions, compiled.
pub struct NodeConds {
    pub only_when: Option<Expr>,
    /// Per action, when it is taken.
    pub actions: Vec<Option<Expr>>,
    /// Per timing, when it holds.
    pub timing: Vec<Option<Expr>>,
    pub on: Option<On>,
    /// Answers the document fixes: answer index and when.
    pub always: Vec<(usize, Expr)>,
    /// The node's links and names resolved to indices when the pack is
    /// read, so that walking a route compares no ids.
    pub links: NodeLinks,
}

impl NodeConds {
    /// Whether one of the node's actions or timings has a condition of its
    /// own: what a walk keeps of a node (see `Met::holds`).
    pub fn conditioned(&self) -> bool {
        self.actions.iter().chain(&self.timing).any(Option::is_some)
    }
}

/// A route node's references as indices (see [`NodeConds::links`]): a walk
/// meets every step of a route per decision, and looking each id up by
/// comparing text was most of deciding.
pub struct NodeLinks {
    /// The node after this one, in its route.
    pub next: Option<usize>,
    /// Per branch: the node it leads to, and its answer among the node's.
    pub branches: Vec<(Option<usize>, Option<usize>)>,
    /// Per `by`: the actor, when the pack defines it.
    pub by: Vec<Option<usize>>,
    /// Per action, per target chain: each contact.
    pub targets: Vec<Vec<Vec<Party>>>,
    /// Per timing: its words when its condition is settled (the text, and
    /// the document's qualifier after a comma), built once.
    pub timing_words: Vec<String>,
    /// Per factor list to weigh: the list, when the pack defines it.
    pub weigh: Vec<Option<usize>>,
    /// Per checklist to complete: the checklist, when the pack defines it.
    pub complete: Vec<Option<usize>>,
}

/// Whom an action's target names.
#[derive(Clone, Copy, Debug)]
pub enum Party {
    /// A contact (index into the pack's contacts).
    Contact(usize),
    /// An actor (index into the pack's actors).
    Actor(usize),
    /// Neither (the reader refuses such a pack; kept as its id).
    Unknown,
}

/// Most next questions an engine remembers (see `Engine::remember_next`).
const NEXT_MEMO_LIMIT: usize = 1 << 16;

/// A rule pack ready to decide.
pub struct Engine {
    pub pack: RulePack,
    /// Question ids to indices.
    lookup: rustc_hash::FxHashMap<Box<str>, usize>,
    /// How each question's answer is read (see `reader.rs`).
    reader: Reader,
    asked: Vec<Option<Expr>>,
    /// Every rule's condition, by the pack's rule index.
    rules: Vec<Expr>,
    rule_level: Vec<usize>,
    /// The rules that decide (not those that only suggest): their
    /// conditions and levels, and their indices in the pack.
    deciding: Vec<Expr>,
    deciding_level: Vec<usize>,
    deciding_rule: Vec<usize>,
    /// Per rule (by the pack's index): whether it decides.
    decides: Vec<bool>,
    procedures: Vec<Expr>,
    /// Each accepted finding's region, when it names one.
    accepted: Vec<Option<Expr>>,
    /// Per route, per node: its conditions, compiled.
    route_conds: Vec<Vec<NodeConds>>,
    /// Per route: how many actions and timings its nodes that have a
    /// condition on one have in all (what a walk keeps of them).
    route_holds: Vec<usize>,
    otherwise: Option<usize>,
    factors: Vec<Option<Expr>>,
    /// Per factor list: the lists it includes, when the pack defines them.
    factor_includes: Vec<Vec<Option<usize>>>,
    /// Per checklist, per item: who completes it, as actors when the pack
    /// defines them.
    checklist_by: Vec<Vec<Vec<Option<usize>>>>,
    /// Per question: the answers worth trying (one per class of answers no
    /// condition tells apart), and `None` for "not asked" if it can be.
    cells: Vec<Vec<Option<Val>>>,
    /// How answers are read into those classes (see `classes.rs`).
    classes: Classes,
    /// The decision diagram, built the first time partial answers need it;
    /// `None` when it is too large (see `diagram.rs`).
    diagram: OnceLock<Option<Diagram>>,
    /// Which procedures apply, as a diagram of the same kind, built the
    /// first time partial answers leave a procedure open; `None` when the
    /// pack has no procedures or too many (see [`Diagram::procedures`]).
    procedure_diagram: OnceLock<Option<Diagram<u64>>>,
    /// The police responses as keys, for the compiled decision.
    police: PoliceTable,
    /// Per setting: the keys of the responses levels and rules name.
    setting_police: Vec<SettingPolice>,
    /// Per actor: a judgement by them in words, built once.
    judges: Vec<String>,
    /// Per setting: where its routes start (see [`Starts`]).
    starts: Vec<Starts>,
    /// The compiled decision (see `compiled.rs`), built when the pack is
    /// read if it ships one, else on first use.
    compiled: OnceLock<Option<Compiled>>,
    /// The next question worth asking, remembered per pair of places where
    /// walks of the decision and procedures diagrams stop (see
    /// `Engine::next_key`): partial answers that stop at the same places
    /// leave the same incidents open, so they have the same next question,
    /// and the exact search runs once per pair rather than once per call.
    next_memo: Mutex<rustc_hash::FxHashMap<u64, Option<usize>>>,
}

impl Engine {
    /// Read a rule pack from JSON text, as `carepath build` wrote it: one
    /// whose integrity digest is missing or does not match is refused (see
    /// [`Engine::from_json_with`]).
    pub fn from_json(text: &str) -> Result<Engine, LoadError> {
        Engine::from_json_with(text, Integrity::Verify)
    }

    /// Read a rule pack from JSON text. Everything [`Engine::new`] checks
    /// is checked first, then, under [`Integrity::Verify`], that the pack
    /// is unchanged since it was built.
    pub fn from_json_with(text: &str, integrity: Integrity) -> Result<Engine, LoadError> {
        let (pack, sealed) = read::rule_pack(text)?;
        let engine = Engine::compile(pack)?;
        if integrity == Integrity::Verify {
            sealed?;
        }
        // After the digest: a pack changed by hand is named as changed
        // before anything it was changed into.
        engine.check_decision()?;
        Ok(engine)
    }

    /// Check a rule pack's internal references, compile its conditions and
    /// check everything else the compiler guarantees (`verify.rs`). The
    /// integrity digest is not looked at: a pack in memory is taken as it is.
    pub fn new(pack: RulePack) -> Result<Engine, LoadError> {
        let engine = Engine::compile(pack)?;
        engine.check_decision()?;
        Ok(engine)
    }

    /// A pack's shipped compiled decision must be the one its rules give.
    fn check_decision(&self) -> Result<(), LoadError> {
        match &self.pack.decision {
            Some(shipped) if self.compiled_decision().as_ref() != Some(shipped) => Err(LoadError(
                "the rule pack's compiled decision (`decision`) does not agree with its rules: \
                 rebuild the pack from its protocol with `carepath build` (a pack edited on \
                 purpose can remove its `decision` and be decided by its rules alone)"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// Everything [`Engine::new`] checks but the compiled decision.
    fn compile(pack: RulePack) -> Result<Engine, LoadError> {
        if pack.format != pack::FORMAT {
            return Err(LoadError(format!(
                "unsupported rule pack format `{}`",
                pack.format
            )));
        }
        let index = |what: &str, ids: Vec<&str>| -> Result<BTreeMap<String, usize>, LoadError> {
            let mut map = BTreeMap::new();
            for (i, id) in ids.into_iter().enumerate() {
                if map.insert(id.to_string(), i).is_some() {
                    return Err(LoadError(format!("{what} `{id}` is defined twice")));
                }
            }
            Ok(map)
        };
        let questions = index(
            "question",
            pack.questions.iter().map(|q| q.id.as_str()).collect(),
        )?;
        let levels = index("level", pack.levels.iter().map(|l| l.id.as_str()).collect())?;
        let rule_ids = index("rule", pack.rules.iter().map(|r| r.id.as_str()).collect())?;
        let procedure_ids = index(
            "procedure",
            pack.procedures.iter().map(|p| p.id.as_str()).collect(),
        )?;
        let settings = index(
            "setting",
            pack.settings.iter().map(|s| s.id.as_str()).collect(),
        )?;
        let actors = index("actor", pack.actors.iter().map(|a| a.id.as_str()).collect())?;
        let contacts = index(
            "contact",
            pack.contacts.iter().map(|c| c.id.as_str()).collect(),
        )?;
        let checklists = index(
            "checklist",
            pack.checklists.iter().map(|c| c.id.as_str()).collect(),
        )?;
        let factors = index(
            "factor list",
            pack.factors.iter().map(|f| f.id.as_str()).collect(),
        )?;
        let documents = index(
            "document",
            pack.documents.iter().map(|d| d.id.as_str()).collect(),
        )?;
        for (i, l) in pack.levels.iter().enumerate() {
            if l.rank as usize != i {
                return Err(LoadError(format!(
                    "level `{}` has rank {} but is listed at position {i}; levels are listed least serious first",
                    l.id, l.rank
                )));
            }
        }
        let known = |map: &BTreeMap<String, usize>, what: &str, id: &str, at: &str| {
            map.get(id).copied().ok_or_else(|| {
                LoadError(format!(
                    "{at} names {what} `{id}`, which the rule pack does not define"
                ))
            })
        };

        // Conditions.
        let question_of = |name: &str| questions.get(name).copied();
        let cond = |v: &Value, at: &str| {
            parse_condition(&pack, &question_of, v).map_err(|e| LoadError(format!("{at}: {e}")))
        };
        let asked = pack
            .questions
            .iter()
            .map(|q| {
                q.asked_when
                    .as_ref()
                    .map(|c| cond(c, &format!("question `{}`, asked_when", q.id)))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let rules = pack
            .rules
            .iter()
            .map(|r| cond(&r.when, &format!("rule `{}`", r.id)))
            .collect::<Result<Vec<_>, _>>()?;
        let rule_level = pack
            .rules
            .iter()
            .map(|r| known(&levels, "level", &r.level, &format!("rule `{}`", r.id)))
            .collect::<Result<Vec<_>, _>>()?;
        let procedures = pack
            .procedures
            .iter()
            .map(|p| cond(&p.when, &format!("procedure `{}`", p.id)))
            .collect::<Result<Vec<_>, _>>()?;
        let accepted = pack
            .accepted_findings
            .iter()
            .map(|f| {
                f.applies_when
                    .as_ref()
                    .map(|c| cond(c, &format!("accepted finding \"{}\"", f.message)))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut route_conds = Vec::with_capacity(pack.routes.len());
        for r in &pack.routes {
            let mut nodes = Vec::with_capacity(r.nodes.len());
            for n in &r.nodes {
                let at = format!("route `{}`, step `{}`", r.id, n.id);
                let opt = |c: &Option<Value>, what: &str| -> Result<Option<Expr>, LoadError> {
                    c.as_ref()
                        .map(|c| cond(c, &format!("{at}, {what}")))
                        .transpose()
                };
                let on = match &n.on {
                    None => None,
                    Some(o) => match (&o.question, &o.when) {
                        (Some(q), None) => Some(On::Question(questions.get(q).copied().ok_or_else(
                            || LoadError(format!("{at} is settled on question `{q}`, which the rule pack does not define")),
                        )?)),
                        (None, Some(c)) => Some(On::Cond(cond(c, &format!("{at}, on"))?)),
                        _ => {
                            return Err(LoadError(format!(
                                "{at} is settled `on` neither or both of a question and a condition"
                            )));
                        }
                    },
                };
                nodes.push(NodeConds {
                    only_when: opt(&n.only_when, "only_when")?,
                    actions: n
                        .actions
                        .iter()
                        .map(|a| opt(&a.when, "action"))
                        .collect::<Result<_, _>>()?,
                    timing: n
                        .timing
                        .iter()
                        .map(|t| opt(&t.when, "timing"))
                        .collect::<Result<_, _>>()?,
                    on,
                    always: n
                        .always
                        .iter()
                        .map(|a| {
                            let i = n.answers.iter().position(|x| x.id == a.answer).unwrap_or(0);
                            cond(&a.when, &format!("{at}, always")).map(|e| (i, e))
                        })
                        .collect::<Result<_, _>>()?,
                    links: node_links(&pack, r, n),
                });
            }
            route_conds.push(nodes);
        }
        let deciding_rule: Vec<usize> = (0..pack.rules.len())
            .filter(|r| pack.rules[*r].effect == pack::Effect::Decides)
            .collect();
        let deciding: Vec<Expr> = deciding_rule.iter().map(|r| rules[*r].clone()).collect();
        let deciding_level: Vec<usize> = deciding_rule.iter().map(|r| rule_level[*r]).collect();
        let otherwise = pack
            .policy
            .otherwise
            .as_ref()
            .map(|o| known(&levels, "level", o, "the policy's `otherwise`"))
            .transpose()?;
        let factor_conds = pack
            .factors
            .iter()
            .map(|f| {
                f.applies_when
                    .as_ref()
                    .map(|c| cond(c, &format!("factor list `{}`", f.id)))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        for l in &pack.levels {
            for e in &l.examples {
                if let Some(g) = &e.given {
                    cond(g, &format!("example \"{}\" of level `{}`", e.title, l.id))?;
                }
            }
        }

        // References between the other elements.
        for f in &pack.factors {
            for i in &f.includes {
                known(
                    &factors,
                    "factor list",
                    i,
                    &format!("factor list `{}`", f.id),
                )?;
            }
        }
        for c in &pack.checklists {
            if let Some(f) = &c.follows {
                known(
                    &checklists,
                    "checklist",
                    f,
                    &format!("checklist `{}`", c.id),
                )?;
            }
            for item in &c.items {
                for a in &item.by {
                    known(
                        &actors,
                        "actor",
                        a,
                        &format!("checklist `{}`, item `{}`", c.id, item.id),
                    )?;
                }
            }
        }
        for r in &pack.routes {
            let nodes = index(
                &format!("route `{}`: step", r.id),
                r.nodes.iter().map(|n| n.id.as_str()).collect(),
            )?;
            for s in &r.settings {
                known(&settings, "setting", s, &format!("route `{}`", r.id))?;
            }
            for s in &r.starts {
                let at = format!("route `{}`", r.id);
                match (&s.level, &s.procedure, &s.rule) {
                    (Some(l), None, None) => {
                        known(&levels, "level", l, &at)?;
                    }
                    (None, Some(p), None) => {
                        known(&procedure_ids, "procedure", p, &at)?;
                    }
                    (None, None, Some(r)) => {
                        known(&rule_ids, "rule", r, &at)?;
                    }
                    _ => {
                        return Err(LoadError(format!(
                            "{at} has a start that names not exactly one of a level, a procedure and a rule"
                        )));
                    }
                }
                known(&nodes, "step", &s.node, &format!("route `{}`, start", r.id))?;
            }
            for n in &r.nodes {
                let at = format!("route `{}`, step `{}`", r.id, n.id);
                if let Some(next) = &n.next {
                    known(&nodes, "step", next, &at)?;
                }
                for b in &n.branches {
                    known(&nodes, "step", &b.to, &at)?;
                    if !n.answers.iter().any(|a| a.id == b.answer) {
                        return Err(LoadError(format!(
                            "{at} has a branch for `{}`, which is not one of its answers",
                            b.answer
                        )));
                    }
                }
                for b in &n.by {
                    known(&actors, "actor", &b.actor, &at)?;
                    for s in &b.settings {
                        known(&settings, "setting", s, &at)?;
                    }
                }
                for c in n.actions.iter().flat_map(|a| &a.targets).flatten() {
                    if !contacts.contains_key(c) && !actors.contains_key(c) {
                        return Err(LoadError(format!(
                            "{at} names contact `{c}`, which the rule pack does not define"
                        )));
                    }
                }
                if let Some(q) = n.on.as_ref().and_then(|o| o.question.as_ref()) {
                    let qi = known(&questions, "question", q, &at)?;
                    let question = &pack.questions[qi];
                    let want: Vec<&str> = match question.kind {
                        QuestionKind::YesNo => vec!["yes", "no"],
                        QuestionKind::Count | QuestionKind::Amount => Vec::new(),
                        _ => question.options.iter().map(|o| o.id.as_str()).collect(),
                    };
                    let have: Vec<&str> = n.answers.iter().map(|a| a.id.as_str()).collect();
                    if want.is_empty() || want != have {
                        return Err(LoadError(format!(
                            "{at} is settled on question `{q}`, but its answers are not that question's answers"
                        )));
                    }
                }
                for a in &n.always {
                    if !n.answers.iter().any(|x| x.id == a.answer) {
                        return Err(LoadError(format!(
                            "{at} fixes the answer `{}`, which is not one of its answers",
                            a.answer
                        )));
                    }
                }
                for c in &n.complete {
                    known(&checklists, "checklist", c, &at)?;
                }
                for f in &n.weigh {
                    known(&factors, "factor list", f, &at)?;
                }
            }
        }
        // Who judges, and the settings a police response is for.
        let police_lists = pack
            .levels
            .iter()
            .map(|l| (format!("level `{}`", l.id), &l.police))
            .chain(
                pack.rules
                    .iter()
                    .map(|r| (format!("rule `{}`", r.id), &r.police)),
            )
            .chain(
                pack.procedures
                    .iter()
                    .map(|p| (format!("procedure `{}`", p.id), &p.police)),
            );
        for (at, list) in police_lists {
            for p in list {
                if let Some(by) = &p.by {
                    known(&actors, "actor", by, &at)?;
                }
                for s in &p.settings {
                    known(&settings, "setting", s, &at)?;
                }
            }
        }
        let mut cites: Vec<&pack::Citation> = Vec::new();
        cites.extend(pack.rules.iter().flat_map(|r| &r.cites));
        cites.extend(pack.procedures.iter().flat_map(|p| &p.cites));
        cites.extend(pack.levels.iter().flat_map(|l| &l.cites));
        cites.extend(pack.questions.iter().flat_map(|q| &q.cites));
        for c in cites {
            known(&documents, "document", &c.document, "a citation")?;
        }

        super::verify::check(&pack)?;
        let cells = cells(&pack, &asked, &rules, &procedures, &factor_conds);
        let police = PoliceTable::new(&pack, &deciding_rule, &deciding_level);
        let decides = (0..pack.rules.len())
            .map(|r| deciding_rule.binary_search(&r).is_ok())
            .collect();
        let classes = Classes::new(&cells, &asked, &rules, &procedures);
        let lookup = questions
            .iter()
            .map(|(id, q)| (id.as_str().into(), *q))
            .collect();
        let judges = pack
            .actors
            .iter()
            .map(|a| judgement_words(&a.title))
            .collect();
        let factor_includes = pack
            .factors
            .iter()
            .map(|f| f.includes.iter().map(|i| factor_index(&pack, i)).collect())
            .collect();
        let checklist_by = pack
            .checklists
            .iter()
            .map(|c| {
                c.items
                    .iter()
                    .map(|i| i.by.iter().map(|a| actor_index(&pack, a)).collect())
                    .collect()
            })
            .collect();
        let starts = pack
            .settings
            .iter()
            .map(|s| Starts::of(&pack, &s.id))
            .collect();
        let reader = Reader::new(&pack.questions);
        let route_holds = route_conds
            .iter()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter(|n| n.conditioned())
                    .map(|n| n.actions.len() + n.timing.len())
                    .sum()
            })
            .collect();
        let setting_police = pack
            .settings
            .iter()
            .map(|s| SettingPolice::of(&pack, &police, &s.id))
            .collect();
        Ok(Engine {
            pack,
            setting_police,
            lookup,
            reader,
            starts,
            asked,
            rules,
            rule_level,
            deciding,
            deciding_level,
            decides,
            deciding_rule,
            procedures,
            accepted,
            route_conds,
            route_holds,
            otherwise,
            factors: factor_conds,
            factor_includes,
            checklist_by,
            cells,
            classes,
            diagram: OnceLock::new(),
            procedure_diagram: OnceLock::new(),
            police,
            judges,
            compiled: OnceLock::new(),
            next_memo: Mutex::default(),
        })
    }

    /// The compiled decision, built on first use; `None` when it is too
    /// large.
    pub(super) fn compiled(&self) -> Option<&Compiled> {
        self.compiled
            .get_or_init(|| Compiled::build(&self.source(), &self.police_keys()))
            .as_ref()
    }

    /// The next question remembered for a key of `Engine::next_key`.
    pub(super) fn remembered_next(&self, key: u64) -> Option<Option<usize>> {
        self.next_memo.lock().ok()?.get(&key).copied()
    }

    /// Remember the next question for a key of `Engine::next_key`, while
    /// fewer than `NEXT_MEMO_LIMIT` are remembered (a pack's diagrams can
    /// have many nodes; the memory stays bounded).
    pub(super) fn remember_next(&self, key: u64, next: Option<usize>) {
        if let Ok(mut memo) = self.next_memo.lock()
            && memo.len() < NEXT_MEMO_LIMIT
        {
            memo.insert(key, next);
        }
    }

    /// What the decision diagrams are built from.
    fn source(&self) -> diagram::Source<'_> {
        diagram::Source {
            cells: &self.cells,
            rules: &self.deciding,
            rule_level: &self.deciding_level,
            asked: &self.asked,
            policy: self.pack.policy.kind,
            otherwise: self.otherwise,
            levels: self.pack.levels.len(),
        }
    }

    /// The police responses of the rules and levels, as keys.
    fn police_keys(&self) -> PoliceKeys<'_> {
        PoliceKeys {
            rule: &self.police.rule,
            level: &self.police.level,
            keys: self.police.values.len() as u32,
            setting: self.setting_question(),
            settings: self.pack.settings.len(),
        }
    }

    /// The compiled decision in the rule pack's form, as `carepath build`
    /// ships it; `None` when it is too large.
    pub fn compiled_decision(&self) -> Option<pack::CompiledDecision> {
        self.compiled()
            .map(|c| compiled::to_pack(c, &self.pack, &self.cells, &self.police))
    }

    /// The police table of the compiled decision.
    pub(super) fn police_table(&self) -> &PoliceTable {
        &self.police
    }

    /// A judgement by actor `a` (an index into the pack's actors), in
    /// words.
    pub(super) fn judgement_by(&self, a: usize) -> &str {
        &self.judges[a]
    }

    /// Where the routes of setting `si` start.
    pub(super) fn starts(&self, si: usize) -> &Starts {
        &self.starts[si]
    }

    /// The police responses the levels and rules name for setting `si`.
    pub(super) fn setting_police(&self, si: usize) -> &SettingPolice {
        &self.setting_police[si]
    }

    pub fn question_index(&self, id: &str) -> Option<usize> {
        self.lookup.get(id).copied()
    }

    pub fn rule_level(&self, rule: usize) -> usize {
        self.rule_level[rule]
    }

    pub fn rule_condition(&self, rule: usize) -> &Expr {
        &self.rules[rule]
    }

    /// The rules that decide (rather than suggest), as pack indices.
    pub(super) fn deciding_rule_indices(&self) -> &[usize] {
        &self.deciding_rule
    }

    /// Whether rule `rule` (a pack index) decides, rather than suggests.
    pub fn rule_decides(&self, rule: usize) -> bool {
        self.decides[rule]
    }

    pub fn procedure_condition(&self, p: usize) -> &Expr {
        &self.procedures[p]
    }

    /// The compiled conditions of node `node` of route `route`.
    pub fn node_conds(&self, route: usize, node: usize) -> &NodeConds {
        &self.route_conds[route][node]
    }

    /// How many actions and timings of route `route` a walk keeps (see
    /// [`Met::holds`](super::decision::Met)).
    pub(super) fn route_holds(&self, route: usize) -> usize {
        self.route_holds[route]
    }

    /// The region of accepted finding `i`, when it names one.
    pub fn accepted_condition(&self, i: usize) -> Option<&Expr> {
        self.accepted[i].as_ref()
    }

    /// The setting question's index, when the pack has settings.
    pub fn setting_question(&self) -> Option<usize> {
        self.pack
            .questions
            .first()
            .filter(|q| q.kind == QuestionKind::Setting)
            .map(|_| 0)
    }

    pub fn asked_when(&self, q: usize) -> Option<&Expr> {
        self.asked[q].as_ref()
    }

    pub fn factor_condition(&self, f: usize) -> Option<&Expr> {
        self.factors[f].as_ref()
    }

    /// Who completes each item of checklist `c` (see `checklist_by`).
    pub(super) fn checklist_by(&self, c: usize) -> &[Vec<Option<usize>>] {
        &self.checklist_by[c]
    }

    /// The factor lists that list `f` includes (`None` for one the pack
    /// does not define).
    pub(super) fn factor_includes(&self, f: usize) -> &[Option<usize>] {
        &self.factor_includes[f]
    }

    /// How answers are read into their classes.
    pub(super) fn reader(&self) -> &Reader {
        &self.reader
    }

    pub(super) fn classes(&self) -> &Classes {
        &self.classes
    }

    /// The answers worth trying for each question (see [`Engine::cells`]).
    pub fn cells(&self) -> &[Vec<Option<Val>>] {
        &self.cells
    }

    /// The deciding rules that hold for complete answers (a value, or
    /// `None` for "not asked", per question), as pack rule indices.
    pub fn matching(&self, answers: &[Option<Val>]) -> Vec<usize> {
        (0..self.deciding.len())
            .filter(|r| self.deciding[*r].eval(answers))
            .map(|r| self.deciding_rule[r])
            .collect()
    }

    /// What complete answers are decided as, under the pack's policy. Only
    /// rules that decide take part; a `may` rule only suggests.
    pub fn outcome(&self, answers: &[Option<Val>]) -> Outcome {
        let policy = self.pack.policy.kind;
        let mut best: Option<usize> = None;
        for (r, e) in self.deciding.iter().enumerate() {
            if !e.eval(answers) {
                continue;
            }
            let l = self.deciding_level[r];
            match policy {
                PolicyKind::FirstMatch => return Outcome::Level(l),
                PolicyKind::MostSerious => best = Some(best.map_or(l, |b| b.max(l))),
                PolicyKind::NoOverlap => match best {
                    Some(b) if b != l => return Outcome::Conflict,
                    _ => best = Some(l),
                },
            }
        }
        match best.or(self.otherwise) {
            Some(l) => Outcome::Level(l),
            None => Outcome::Undecided,
        }
    }

    /// The outcome and police response, if the known answers settle them
    /// whatever the unknown ones are (judged rule by rule, so `None` does
    /// not prove them open). With the setting unknown, every setting must
    /// give the same.
    fn settled(&self, known: &[Known]) -> Option<Verdict> {
        let settings = match self.setting_question().map(|sq| known[sq]) {
            Some(Known::Is(Some(Val::Opt(si)))) => si as usize..si as usize + 1,
            Some(_) => 0..self.pack.settings.len(),
            None => 0..1,
        };
        let mut found: Option<Verdict> = None;
        for si in settings {
            let v = self.settled_in(known, si)?;
            if found.is_some_and(|f| f != v) {
                return None;
            }
            found = Some(v);
        }
        found
    }

    /// [`Engine::settled`] in setting `si`: the police response is that of
    /// the rules that decide (see `PoliceTable`), so under `most-serious`
    /// and `no-overlap` a rule still open at the deciding level with more
    /// police than those that hold leaves the response open.
    fn settled_in(&self, known: &[Known], si: usize) -> Option<Verdict> {
        let policy = self.pack.policy.kind;
        let level = |(l, police): (usize, u32)| Verdict {
            outcome: Outcome::Level(l),
            police,
        };
        // Of the rules that hold, the greatest level with the greatest key;
        // of those open, each one's.
        let mut top: Option<(usize, u32)> = None;
        let mut levels_differ = false;
        let mut open: Vec<(usize, u32)> = Vec::new();
        for (r, e) in self.deciding.iter().enumerate() {
            let here = (self.deciding_level[r], self.police.rule[r][si]);
            match e.eval3(known) {
                Some(true) => {
                    if policy == PolicyKind::FirstMatch {
                        return Some(level(here));
                    }
                    levels_differ |= top.is_some_and(|t| t.0 != here.0);
                    top = top.max(Some(here));
                }
                None => {
                    if policy == PolicyKind::FirstMatch {
                        return None;
                    }
                    open.push(here);
                }
                Some(false) => {}
            }
        }
        match policy {
            PolicyKind::FirstMatch => {}
            PolicyKind::MostSerious => {
                if open.iter().any(|o| top.is_none_or(|t| *o > t)) {
                    return None;
                }
            }
            PolicyKind::NoOverlap => {
                if levels_differ {
                    return Some(Verdict {
                        outcome: Outcome::Conflict,
                        police: 0,
                    });
                }
                if open
                    .iter()
                    .any(|o| top.is_none_or(|t| o.0 != t.0 || o.1 > t.1))
                {
                    return None;
                }
            }
        }
        Some(match (top, self.otherwise) {
            (Some(t), _) => level(t),
            (None, Some(o)) => level((o, self.police.level[o][si])),
            (None, None) => Verdict {
                outcome: Outcome::Undecided,
                police: 0,
            },
        })
    }

    /// Whether the answers are consistent with "asked when" conditions:
    /// `Some(false)` when one is broken, `None` while one is open.
    fn consistent(&self, known: &[Known]) -> Option<bool> {
        let mut open = false;
        for (q, cond) in self.asked.iter().enumerate() {
            let (Some(cond), Known::Is(v)) = (cond, known[q]) else {
                continue;
            };
            match cond.eval3(known) {
                Some(asked) if asked != v.is_some() => return Some(false),
                None => open = true,
                _ => {}
            }
        }
        (!open).then_some(true)
    }

    /// What is known from `given` answers: each question answered, known not
    /// to be asked, or unknown.
    pub fn known(&self, given: &[Option<Val>], answered: &[bool]) -> Vec<Known> {
        let mut known: Vec<Known> = (0..given.len())
            .map(|q| {
                if answered[q] {
                    Known::Is(given[q])
                } else {
                    Known::Unknown
                }
            })
            .collect();
        self.infer_not_asked(&mut known);
        known
    }

    /// Mark the unknown questions that the known answers show are not
    /// asked. An "asked when" tests only earlier questions (the reader
    /// checks it), so one pass in order finds them all.
    pub(super) fn infer_not_asked(&self, known: &mut [Known]) {
        for q in 0..known.len() {
            if known[q] == Known::Unknown
                && let Some(c) = &self.asked[q]
                && c.eval3(known) == Some(false)
            {
                known[q] = Known::Is(None);
            }
        }
    }

    /// The first unknown question that an open rule or "asked when" needs.
    fn next_open(&self, known: &[Known]) -> Option<usize> {
        self.next_open_outside(known, &vec![false; known.len()])
    }

    /// Every outcome some completion of `known` can have, stopping once
    /// `limit` are found (see [`Partial::possible`]).
    pub fn possible(&self, known: &[Known], limit: usize) -> BTreeSet<Verdict> {
        self.partial(known.to_vec()).possible(limit)
    }

    /// Whether the answer to `q` can still change the outcome (see
    /// [`Partial::matters`]).
    pub fn matters(&self, known: &[Known], q: usize) -> bool {
        self.partial(known.to_vec()).matters(q)
    }

    /// Partial answers (what is known, as [`Engine::known`] gives it), to
    /// judge what they leave open.
    pub fn partial(&self, known: Vec<Known>) -> Partial<'_> {
        Partial {
            engine: self,
            known,
            restricted: None,
        }
    }

    /// Partial answers judged by search alone, to test the diagram against.
    #[cfg(test)]
    pub(super) fn partial_by_search(&self, known: Vec<Known>) -> Partial<'_> {
        Partial {
            engine: self,
            known,
            restricted: Some(None),
        }
    }

    /// Whether the decision diagram can be built (building it if need be).
    #[cfg(test)]
    pub(super) fn has_diagram(&self) -> bool {
        self.diagram().is_some()
    }

    /// The key under which the next question of partial answers (read
    /// into answer classes, the questions they show are not asked given
    /// theirs) is remembered: where walks of the decision diagram and of
    /// the procedures diagram stop. Below those places each diagram is a
    /// function of the questions still open, so answers that stop at the
    /// same places, and know nothing past the first place's question but
    /// what they force ("not asked" where an "asked when" fails), leave
    /// the same incidents open with the same outcomes, and the next
    /// question is the same. That covers answers given in the order
    /// questions are asked; `None` for others (they are judged afresh),
    /// before the decision diagram is built, and when either diagram is too
    /// large to build.
    pub(super) fn next_key(&self, class: &[u32]) -> Option<u64> {
        let cell = |q: usize| Some(class[q]).filter(|c| *c != classes::UNSET);
        // Only once the exact search has built the decision diagram: answers
        // that the compiled decision alone judges need neither diagram.
        let (decision, dq) = self.diagram.get()?.as_ref()?.stop(cell)?;
        let (procedures, pq) = if self.procedures.is_empty() {
            (0, None)
        } else {
            self.procedure_diagram()?.stop(cell)?
        };
        let first = dq.unwrap_or(usize::MAX).min(pq.unwrap_or(usize::MAX));
        let forced = (first.saturating_add(1)..class.len()).all(|q| {
            class[q] == classes::UNSET
                || (Some(class[q]) == self.classes.not_asked(q)
                    && self.classes.asked(q, class) == Some(false))
        });
        forced.then_some((u64::from(decision) << 32) | u64::from(procedures))
    }

    /// The decision diagram, built on first use; `None` when it is too
    /// large.
    fn diagram(&self) -> Option<&Diagram> {
        self.diagram
            .get_or_init(|| Diagram::build(&self.source(), &self.police_keys()))
            .as_ref()
    }

    /// The procedures diagram, built on first use.
    pub(super) fn procedure_diagram(&self) -> Option<&Diagram<u64>> {
        self.procedure_diagram
            .get_or_init(|| Diagram::procedures(&self.source(), &self.procedures))
            .as_ref()
    }

    /// The search that judges partial answers when the diagram cannot:
    /// every outcome some completion of `known` has, into `out`, stopping
    /// once `limit` are found. It tries the answer classes of the questions
    /// that open conditions test, question by question, until the outcome
    /// is settled. Gives up (returns `false`) after `steps` steps.
    fn search(
        &self,
        known: &mut Vec<Known>,
        limit: usize,
        out: &mut BTreeSet<Verdict>,
        steps: &mut usize,
    ) -> bool {
        if out.len() >= limit {
            return true;
        }
        if *steps == 0 {
            return false;
        }
        *steps -= 1;
        match self.consistent(known) {
            Some(false) => return true,
            Some(true) => {
                if let Some(o) = self.settled(known) {
                    out.insert(o);
                    return true;
                }
            }
            None => {}
        }
        let Some(q) = self.next_open(known) else {
            // Nothing open is tested: settled() cannot be None here.
            if let Some(o) = self.settled(known) {
                out.insert(o);
            }
            return true;
        };
        for c in 0..self.cells[q].len() {
            known[q] = Known::Is(self.cells[q][c]);
            let finished = self.search(known, limit, out, steps);
            known[q] = Known::Unknown;
            if !finished {
                return false;
            }
        }
        true
    }

    /// Every outcome some completion of `known` has, by search to the end.
    fn search_all(&self, known: &mut Vec<Known>, limit: usize) -> BTreeSet<Verdict> {
        let mut out = BTreeSet::new();
        let mut unbounded = usize::MAX;
        self.search(known, limit, &mut out, &mut unbounded);
        out
    }

    /// [`Partial::matters`] by search, for `q` unknown; `skip` holds `q`
    /// and its dependents.
    fn matters_below(&self, known: &mut Vec<Known>, q: usize, skip: &[bool]) -> bool {
        let mut union = BTreeSet::new();
        let mut possible_answers = 0;
        let mut next: Option<usize> = None;
        for c in 0..self.cells[q].len() {
            known[q] = Known::Is(self.cells[q][c]);
            // Two outcomes per answer are enough: with two, any other
            // possible answer differs from one of them.
            let p = self.search_all(known, 2);
            if !p.is_empty() {
                possible_answers += 1;
                union.extend(p);
            }
            if let Some(r) = self.next_open_outside(known, skip) {
                next = Some(next.map_or(r, |n| n.min(r)));
            }
        }
        known[q] = Known::Unknown;
        if union.len() < 2 || possible_answers < 2 {
            return false;
        }
        // Settle the other questions that still matter, one at a time, so
        // that both answers to `q` are judged in one and the same incident.
        let Some(r) = next else {
            return true;
        };
        for c in 0..self.cells[r].len() {
            known[r] = Known::Is(self.cells[r][c]);
            let differs = self.matters_below(known, q, skip);
            known[r] = Known::Unknown;
            if differs {
                return true;
            }
        }
        false
    }

    /// The questions asked only depending on `q`, directly or through
    /// others (a flag per question; `q` itself is not flagged).
    pub(crate) fn dependents(&self, q: usize) -> Vec<bool> {
        let mut dep = vec![false; self.asked.len()];
        dep[q] = true;
        loop {
            let mut changed = false;
            for (r, cond) in self.asked.iter().enumerate() {
                if dep[r] {
                    continue;
                }
                if cond
                    .as_ref()
                    .is_some_and(|c| c.tests().iter().any(|(t, _)| dep[*t]))
                {
                    dep[r] = true;
                    changed = true;
                }
            }
            if !changed {
                dep[q] = false;
                return dep;
            }
        }
    }

    /// Like `next_open`, for questions not in `skip`.
    fn next_open_outside(&self, known: &[Known], skip: &[bool]) -> Option<usize> {
        // The first unknown question `e` tests, if before `best`.
        fn first(e: &Expr, known: &[Known], skip: &[bool], best: &mut Option<usize>) {
            match e {
                Expr::Test { q, .. } => {
                    if known[*q] == Known::Unknown && !skip[*q] && best.is_none_or(|b| *q < b) {
                        *best = Some(*q);
                    }
                }
                Expr::Not(x) => first(x, known, skip, best),
                Expr::And(xs) | Expr::Or(xs) => {
                    for x in xs {
                        first(x, known, skip, best);
                    }
                }
            }
        }
        let mut best: Option<usize> = None;
        let mut consider = |e: &Expr| {
            if e.eval3(known).is_none() {
                first(e, known, skip, &mut best);
            }
        };
        for e in &self.deciding {
            consider(e);
        }
        for (r, c) in self.asked.iter().enumerate() {
            if let (Some(c), Known::Is(_)) = (c, known[r]) {
                consider(c);
            }
        }
        // With every rule settled, the police response can still wait on
        // the setting.
        best.or_else(|| {
            self.setting_question()
                .filter(|sq| known[*sq] == Known::Unknown && !skip[*sq])
        })
    }

    /// The test held by each atom of a condition, for explanations.
    pub fn describe_test(&self, q: usize, test: &Test) -> String {
        let question = &self.pack.questions[q];
        let val = |v: &Val| match v {
            Val::Bool(true) => "yes".to_string(),
            Val::Bool(false) => "no".to_string(),
            Val::Opt(o) => question.options[*o as usize].id.clone(),
            Val::Num(n) => number(question.kind, *n),
        };
        let id = &question.id;
        match test {
            Test::Is(v) => format!("{id} == {}", val(v)),
            Test::In(vs) => format!(
                "{id} in {{ {} }}",
                vs.iter().map(val).collect::<Vec<_>>().join(", ")
            ),
            Test::Cmp(op, n) => format!("{id} {} {}", op.symbol(), number(question.kind, *n)),
            Test::Answered => format!("{id} is asked"),
        }
    }
}

/// Steps the search may take to judge partial answers before the decision
/// diagram is built instead: enough for answers that settle the outcome or
/// leave it plainly open, far too few to try every class of a count
/// compared with many thresholds.
const SEARCH_STEPS: usize = 64;

/// Partial answers, judged against every possible incident that agrees
/// with them: on the decision diagram (`diagram.rs`) when it can be built
/// and every known answer is one of its answer classes, else by search.
pub struct Partial<'e> {
    engine: &'e Engine,
    known: Vec<Known>,
    /// The diagram below the known answers: not yet looked for (`None`),
    /// not to be had (`Some(None)`), or found.
    restricted: Option<Option<Restricted<'e>>>,
}

impl<'e> Partial<'e> {
    /// The diagram below the known answers; built first if `build`.
    fn restricted(&mut self, build: bool) -> Option<&mut Restricted<'e>> {
        if self.restricted.is_none() {
            let engine = self.engine;
            let diagram = if build {
                engine.diagram()
            } else {
                engine.diagram.get()?.as_ref()
            };
            self.restricted = Some(diagram.and_then(|d| d.restrict(&self.known, &engine.cells)));
        }
        self.restricted.as_mut().and_then(Option::as_mut)
    }

    /// Judge on the decision diagram from the start, building it if need
    /// be (which questions matter needs it anyway), rather than try a
    /// short search first.
    pub fn with_diagram(mut self) -> Partial<'e> {
        self.restricted(true);
        self
    }

    /// Every outcome some completion of the known answers has, stopping
    /// once `limit` are found. A short search first: answers that settle
    /// the outcome, or plainly leave it open, need no diagram.
    pub fn possible(&mut self, limit: usize) -> BTreeSet<Verdict> {
        if let Some(r) = self.restricted(false) {
            return r.possible(limit);
        }
        let mut out = BTreeSet::new();
        let mut steps = SEARCH_STEPS;
        if self
            .engine
            .search(&mut self.known, limit, &mut out, &mut steps)
        {
            return out;
        }
        if let Some(r) = self.restricted(true) {
            return r.possible(limit);
        }
        self.engine.search_all(&mut self.known, limit)
    }

    /// Whether the answer to `q` can still change the outcome: some
    /// completion of the known answers has two answers to `q` with
    /// different outcomes. The questions asked only because of `q`'s answer
    /// (its dependents, such as "how serious is the injury?" after "was
    /// there an assault?") go with it: they may be answered differently,
    /// or not asked, on each side.
    pub fn matters(&mut self, q: usize) -> bool {
        if self.known[q] != Known::Unknown {
            return false;
        }
        let mut skip = self.engine.dependents(q);
        if let Some(r) = self.restricted(true) {
            return r.matters(q, &skip);
        }
        skip[q] = true;
        self.engine.matters_below(&mut self.known, q, &skip)
    }

    /// Whether every possible incident that agrees with the known answers
    /// asks `q` (an answer to one question asked only with it implies it
    /// is).
    pub fn applies(&mut self, q: usize) -> bool {
        let engine = self.engine;
        match engine.asked[q].as_ref().map(|c| c.eval3(&self.known)) {
            None | Some(Some(true)) => true,
            Some(Some(false)) => false,
            Some(None) => {
                if let Some(unasked) = engine.cells[q].iter().position(Option::is_none)
                    && let Some(r) = self.restricted(true)
                {
                    return !r.possible_with(q, unasked as u32);
                }
                let was = std::mem::replace(&mut self.known[q], Known::Is(None));
                let never_unasked = engine.search_all(&mut self.known, 1).is_empty();
                self.known[q] = was;
                never_unasked
            }
        }
    }
}

/// A number as written: counts as they are, amounts in pounds and pence.
/// A JsonLogic condition of `pack`, its questions found by `question_of`.
pub(crate) fn parse_condition(
    pack: &RulePack,
    question_of: &dyn Fn(&str) -> Option<usize>,
    v: &Value,
) -> Result<Expr, String> {
    let option_of = |q: usize, id: &str| {
        pack.questions[q]
            .options
            .iter()
            .position(|o| o.id == id)
            .map(|i| i as u32)
    };
    let is_amount = |q: usize| pack.questions[q].kind == QuestionKind::Amount;
    let look = Lookup {
        question: question_of,
        option: &option_of,
        is_amount: &is_amount,
    };
    expr::parse(v, &look, 0)
}

pub fn number(kind: QuestionKind, n: i64) -> String {
    if kind == QuestionKind::Amount {
        crate::model::summary::amount(n)
    } else {
        n.to_string()
    }
}

/// The classes of answers of each question that no condition tells apart,
/// one representative each.
fn cells(
    pack: &RulePack,
    asked: &[Option<Expr>],
    rules: &[Expr],
    procedures: &[Expr],
    factors: &[Option<Expr>],
) -> Vec<Vec<Option<Val>>> {
    let mut cuts: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); pack.questions.len()];
    let conds = rules
        .iter()
        .chain(procedures)
        .chain(asked.iter().flatten())
        .chain(factors.iter().flatten());
    for e in conds {
        for (q, t) in e.tests() {
            let set = &mut cuts[q];
            match t {
                Test::Cmp(Cmp::Eq | Cmp::Ne, c) => {
                    set.insert(*c);
                    set.insert(c.saturating_add(1));
                }
                Test::Cmp(Cmp::Lt | Cmp::Ge, c) => {
                    set.insert(*c);
                }
                Test::Cmp(Cmp::Le | Cmp::Gt, c) => {
                    set.insert(c.saturating_add(1));
                }
                Test::In(vs) => {
                    for v in vs {
                        if let Val::Num(n) = v {
                            set.insert(*n);
                            set.insert(n.saturating_add(1));
                        }
                    }
                }
                Test::Is(Val::Num(n)) => {
                    set.insert(*n);
                    set.insert(n.saturating_add(1));
                }
                _ => {}
            }
        }
    }
    pack.questions
        .iter()
        .enumerate()
        .map(|(q, question)| {
            let mut out: Vec<Option<Val>> = match question.kind {
                QuestionKind::YesNo => vec![Some(Val::Bool(false)), Some(Val::Bool(true))],
                QuestionKind::Setting | QuestionKind::OneOf | QuestionKind::Scale => {
                    (0..question.options.len() as u32)
                        .map(|o| Some(Val::Opt(o)))
                        .collect()
                }
                QuestionKind::Count | QuestionKind::Amount => {
                    let low = question.minimum.unwrap_or(0);
                    let mut starts = vec![low];
                    starts.extend(cuts[q].iter().copied().filter(|c| *c > low));
                    starts.into_iter().map(|n| Some(Val::Num(n))).collect()
                }
            };
            if asked[q].is_some() {
                out.push(None);
            }
            out
        })
        .collect()
}

/// A route and the node it starts at (`None` when the pack names no node
/// of the route, which a checked pack never does).
pub(super) type Start = (usize, Option<usize>);

/// Where a setting's routes start: for each rule, level and procedure (by
/// its index in the pack), the first route of the setting with a start for
/// it, and that start's node.
#[derive(Debug)]
pub(super) struct Starts {
    pub rule: Vec<Option<Start>>,
    pub level: Vec<Option<Start>>,
    pub procedure: Vec<Option<Start>>,
}

impl Starts {
    fn of(pack: &RulePack, setting: &str) -> Starts {
        let find = |pick: &dyn Fn(&pack::Start) -> bool| -> Option<Start> {
            let ri = pack.routes.iter().position(|r| {
                r.settings.iter().any(|s| s == setting) && r.starts.iter().any(pick)
            })?;
            let route = &pack.routes[ri];
            let start = route.starts.iter().find(|s| pick(s))?;
            Some((ri, route.nodes.iter().position(|n| n.id == start.node)))
        };
        let is = |of: &Option<String>, id: &str| of.as_deref() == Some(id);
        Starts {
            rule: pack
                .rules
                .iter()
                .map(|r| find(&|s| is(&s.rule, &r.id)))
                .collect(),
            level: pack
                .levels
                .iter()
                .map(|l| find(&|s| is(&s.level, &l.id)))
                .collect(),
            procedure: pack
                .procedures
                .iter()
                .map(|p| find(&|s| is(&s.procedure, &p.id)))
                .collect(),
        }
    }
}

/// Per setting: the police response each level and rule names for it, as
/// its key in the police table, found when the pack is read so that a
/// decision compares no setting ids or actors.
#[derive(Debug)]
pub(super) struct SettingPolice {
    /// Per level: `None` when the level names no response for the setting,
    /// else the response's key (`None` when it is not in the table).
    pub level: Vec<Option<Option<u32>>>,
    /// Per rule, the same for the rule's own response.
    pub rule: Vec<Option<Option<u32>>>,
}

impl SettingPolice {
    fn of(pack: &RulePack, table: &PoliceTable, setting: &str) -> SettingPolice {
        let key = |list: &[pack::Police]| {
            super::decide::police_for(list, setting).map(|p| table.key_of(p))
        };
        SettingPolice {
            level: pack.levels.iter().map(|l| key(&l.police)).collect(),
            rule: pack.rules.iter().map(|r| key(&r.police)).collect(),
        }
    }
}

/// A judgement by the actor titled `who`, in the words `decide` prints.
pub(super) fn judgement_words(who: &str) -> String {
    format!("{who} judges whether to involve the police")
}

/// Node `n` of route `r`'s references as indices (see [`NodeLinks`]).
fn node_links(pack: &RulePack, r: &pack::Route, n: &pack::RouteNode) -> NodeLinks {
    let node = |id: &str| r.nodes.iter().position(|m| m.id == id);
    let actor = |id: &str| actor_index(pack, id);
    NodeLinks {
        next: n.next.as_deref().and_then(node),
        branches: n
            .branches
            .iter()
            .map(|b| (node(&b.to), n.answers.iter().position(|a| a.id == b.answer)))
            .collect(),
        by: n.by.iter().map(|b| actor(&b.actor)).collect(),
        targets: n
            .actions
            .iter()
            .map(|a| {
                a.targets
                    .iter()
                    .map(|chain| {
                        chain
                            .iter()
                            .map(|c| match pack.contacts.iter().position(|x| x.id == *c) {
                                Some(i) => Party::Contact(i),
                                None => actor(c).map_or(Party::Unknown, Party::Actor),
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect(),
        timing_words: n
            .timing
            .iter()
            .map(|t| match &t.qualifier {
                Some(q) => format!("{}, {q}", t.text),
                None => t.text.clone(),
            })
            .collect(),
        weigh: n.weigh.iter().map(|f| factor_index(pack, f)).collect(),
        complete: n
            .complete
            .iter()
            .map(|c| pack.checklists.iter().position(|x| x.id == *c))
            .collect(),
    }
}

/// The index of the factor list `id`, when the pack defines it.
fn factor_index(pack: &RulePack, id: &str) -> Option<usize> {
    pack.factors.iter().position(|f| f.id == id)
}

/// The index of the actor `id`, when the pack defines it.
fn actor_index(pack: &RulePack, id: &str) -> Option<usize> {
    pack.actors.iter().position(|a| a.id == id)
}
