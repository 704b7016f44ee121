//! The rule pack must be enough: for every protocol in `protocols/` and
//! every incident of its answer space, deciding from the committed rule pack
//! (`out/<id>.json`, through the evaluator) gives what deciding from the
//! source model gives, and what any JsonLogic library gives when it
//! evaluates the pack's conditions and combines them as the pack says.
//!
//! Incidents are enumerated exhaustively, but not one by one: the search
//! goes question by question and stops as soon as every rule and every
//! "asked when" condition is settled (three-valued, on both sides), since
//! then every completion is decided alike; it evaluates one completion
//! there and counts the incidents it stands for. The counts add up to the
//! number of possible incidents of the model's decision diagram.
//!
//! On small generated protocols, the questions the evaluator says are still
//! open, the next question it asks, and when `decide` says answers are
//! missing, are checked against a brute-force oracle over every incident.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{self, PROTOCOLS};
use crate::synth;
use carepath::analysis::domain::Domain;
use carepath::analysis::mdd::{Mdd, NodeId, is_terminal, value};
use carepath::analysis::{Outcome as ModelOutcome, Space};
use carepath::eval::expr::{Known, Val};
use carepath::eval::{AnswerError, Engine, Integrity, Outcome};
use carepath::model::{Answer, Cond, Model, QuestionKind, Workspace};
use serde_json::{Map, Value, json};

/// What an incident is decided as, by level id, so that the model, the
/// evaluator and the JsonLogic reading can be compared.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Said {
    Level(String),
    Undecided,
    Conflict,
}

// ------------------------------------------------------------ loading

fn load(path: &Path, root_dir: &Path) -> (Workspace, carepath::source::FileId) {
    let text = fs::read_to_string(path).expect("the protocol is readable");
    let mut ws = Workspace::new();
    let root = ws.add_root(path, root_dir, text, &mut support::disk_reader);
    (ws, root)
}

fn model_of(ws: &Workspace, root: carepath::source::FileId, what: &str) -> Model {
    let checked = carepath::check(ws, root);
    let errors = support::error_lines(&checked.diagnostics);
    assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
    checked.model.expect("no errors, so a model")
}

// ------------------------------------------------------------ the model side

/// Kleene's three-valued reading of a model condition over some questions'
/// cells (`None` where not yet chosen): `None` when they do not settle it.
fn kleene(c: &Cond, domain: &Domain, cells: &[Option<u32>]) -> Option<bool> {
    match c {
        Cond::Atom(a) => {
            let q = a.question.index();
            cells[q].map(|cell| {
                domain.cells[q]
                    .answer(cell)
                    .is_some_and(|ans| a.test.holds(ans))
            })
        }
        Cond::Not(x) => kleene(x, domain, cells).map(|b| !b),
        Cond::And(xs) => {
            let mut open = false;
            for x in xs {
                match kleene(x, domain, cells) {
                    Some(false) => return Some(false),
                    None => open = true,
                    Some(true) => {}
                }
            }
            (!open).then_some(true)
        }
        Cond::Or(xs) => {
            let mut open = false;
            for x in xs {
                match kleene(x, domain, cells) {
                    Some(true) => return Some(true),
                    None => open = true,
                    Some(false) => {}
                }
            }
            (!open).then_some(false)
        }
    }
}

/// The model's decision for one incident, by level id.
fn model_said(space: &Space<'_>, cells: &[u32]) -> Said {
    let o = space.outcome_at(cells);
    match (o, space.level_of(o)) {
        (ModelOutcome::Conflict, _) => Said::Conflict,
        (_, Some(l)) => Said::Level(space.model.level(l).meta.id.clone()),
        (_, None) => Said::Undecided,
    }
}

/// The number of incidents (a cell per question) where a boolean diagram
/// is true.
fn count_true(mdd: &Mdd, root: NodeId, sizes: &[u32]) -> u128 {
    fn below(mdd: &Mdd, n: NodeId, sizes: &[u32], memo: &mut HashMap<NodeId, u128>) -> u128 {
        // Incidents of the questions from var(n) on.
        if let Some(c) = memo.get(&n) {
            return *c;
        }
        let var = mdd.var(n);
        let mut total = 0u128;
        for kid in mdd.children(n) {
            let from = if is_terminal(*kid) {
                sizes.len()
            } else {
                mdd.var(*kid)
            };
            let skipped: u128 = sizes[var + 1..from]
                .iter()
                .map(|s| u128::from(*s))
                .product();
            let rest = if is_terminal(*kid) {
                u128::from(value(*kid) == 1)
            } else {
                below(mdd, *kid, sizes, memo)
            };
            total += skipped * rest;
        }
        memo.insert(n, total);
        total
    }
    if is_terminal(root) {
        return if value(root) == 1 {
            sizes.iter().map(|s| u128::from(*s)).product()
        } else {
            0
        };
    }
    let above: u128 = sizes[..mdd.var(root)]
        .iter()
        .map(|s| u128::from(*s))
        .product();
    above * below(mdd, root, sizes, &mut HashMap::new())
}

// ------------------------------------------------------------ answers as JSON

/// An answer as the pack's answers object has it (written here from the
/// format's documentation, not with the compiler's own helper).
fn answer_json(model: &Model, q: usize, a: Answer) -> Value {
    let question = &model.questions[q];
    match (a, &question.kind) {
        (Answer::Bool(b), _) => json!(b),
        (Answer::Option(o), kind) => json!(kind.choices()[o as usize].id),
        (Answer::Number(n), QuestionKind::Amount { .. }) => {
            if n % 100 == 0 {
                json!(n / 100)
            } else {
                json!(n as f64 / 100.0)
            }
        }
        (Answer::Number(n), _) => json!(n),
    }
}

/// The answers object of an incident: a question not asked is left out.
fn answers_object(model: &Model, answers: &[Option<Answer>]) -> Map<String, Value> {
    let mut out = Map::new();
    for (q, a) in answers.iter().enumerate() {
        if let Some(a) = a {
            out.insert(
                model.questions[q].meta.id.clone(),
                answer_json(model, q, *a),
            );
        }
    }
    out
}

// ------------------------------------------------------------ the JsonLogic side

/// The pack's conditions read by an independent JsonLogic library, and its
/// policy applied as the format documents it.
struct JsonLogicPack {
    engine: datalogic_rs::Engine,
    rules: Vec<datalogic_rs::Logic>,
    rule_level: Vec<String>,
    /// Whether each rule decides; `"effect": "suggests"` rules do not.
    decides: Vec<bool>,
    rank: BTreeMap<String, u64>,
    policy: String,
    otherwise: Option<String>,
}

impl JsonLogicPack {
    fn new(raw: &Value) -> JsonLogicPack {
        let engine = datalogic_rs::Engine::new();
        let rules = raw["rules"].as_array().expect("rules");
        let compiled = rules
            .iter()
            .map(|r| {
                engine
                    .compile(&r["when"])
                    .unwrap_or_else(|e| panic!("rule `{}`: {e}", r["id"]))
            })
            .collect();
        JsonLogicPack {
            rules: compiled,
            rule_level: rules
                .iter()
                .map(|r| r["level"].as_str().expect("level").to_string())
                .collect(),
            decides: rules
                .iter()
                .map(|r| match r["effect"].as_str() {
                    Some("decides") => true,
                    Some("suggests") => false,
                    other => panic!("rule `{}` has effect {other:?}", r["id"]),
                })
                .collect(),
            rank: raw["levels"]
                .as_array()
                .expect("levels")
                .iter()
                .map(|l| {
                    (
                        l["id"].as_str().expect("id").to_string(),
                        l["rank"].as_u64().expect("rank"),
                    )
                })
                .collect(),
            policy: raw["policy"]["kind"].as_str().expect("policy").to_string(),
            otherwise: raw["policy"]["otherwise"].as_str().map(str::to_string),
            engine,
        }
    }

    /// The deciding rules whose `when` holds for an answers object.
    fn holding(&self, data: &Value) -> Vec<usize> {
        let mut session = self.engine.session();
        let mut out = Vec::new();
        for (r, logic) in self.rules.iter().enumerate() {
            if !self.decides[r] {
                continue;
            }
            let result = session
                .eval_borrowed(logic, data)
                .unwrap_or_else(|e| panic!("rule {r} on {data}: {e}"));
            let held = result
                .as_bool()
                .unwrap_or_else(|| panic!("rule {r} on {data} gave {result}, not true or false"));
            if held {
                out.push(r);
            }
            session.reset();
        }
        out
    }

    fn decide(&self, holding: &[usize]) -> Said {
        let levels: Vec<&String> = holding.iter().map(|r| &self.rule_level[*r]).collect();
        let chosen = match self.policy.as_str() {
            "most-serious" => levels.iter().max_by_key(|l| self.rank[l.as_str()]).copied(),
            "first-match" => levels.first().copied(),
            "no-overlap" => {
                if levels.iter().any(|l| *l != levels[0]) {
                    return Said::Conflict;
                }
                levels.first().copied()
            }
            other => panic!("unknown policy {other}"),
        };
        match chosen.or(self.otherwise.as_ref()) {
            Some(l) => Said::Level(l.clone()),
            None => Said::Undecided,
        }
    }
}

// ------------------------------------------------------------ the search

/// One protocol, read three ways.
struct Three<'m> {
    id: String,
    model: &'m Model,
    space: Space<'m>,
    engine: Engine,
    jl: JsonLogicPack,
    /// Model question -> pack question.
    pq: Vec<usize>,
    /// Model rule -> pack rule.
    pr: Vec<usize>,
    /// Per model question and cell: the pack's compiled answer.
    vals: Vec<Vec<Option<Val>>>,
}

#[derive(Default)]
struct Tally {
    leaves: u64,
    incidents: u128,
    nodes: u64,
    problems: Vec<String>,
}

impl Tally {
    fn problem(&mut self, p: String) {
        if self.problems.len() < 20 {
            self.problems.push(p);
        }
    }
}

impl<'m> Three<'m> {
    /// `pack_text` is read by the evaluator, `jsonlogic_text` by the
    /// JsonLogic library (the same text, but for the tests that show a
    /// difference is found).
    fn new(id: &str, model: &'m Model, pack_text: &str, jsonlogic_text: &str) -> Three<'m> {
        Three::with(id, model, pack_text, jsonlogic_text, Integrity::Verify)
    }

    /// Like [`Three::new`], for a pack edited on purpose (so that its
    /// integrity digest no longer matches).
    fn edited(id: &str, model: &'m Model, pack_text: &str, jsonlogic_text: &str) -> Three<'m> {
        Three::with(
            id,
            model,
            pack_text,
            jsonlogic_text,
            Integrity::AllowModified,
        )
    }

    fn with(
        id: &str,
        model: &'m Model,
        pack_text: &str,
        jsonlogic_text: &str,
        integrity: Integrity,
    ) -> Three<'m> {
        let engine =
            Engine::from_json_with(pack_text, integrity).unwrap_or_else(|e| panic!("{id}: {e}"));
        let raw: Value = serde_json::from_str(jsonlogic_text).expect("JSON");
        let space = Space::new(model);
        let pq: Vec<usize> = model
            .questions
            .iter()
            .map(|q| {
                engine
                    .question_index(&q.meta.id)
                    .unwrap_or_else(|| panic!("{id}: the pack has no question `{}`", q.meta.id))
            })
            .collect();
        assert_eq!(
            pq.len(),
            engine.pack.questions.len(),
            "{id}: question count"
        );
        let pr: Vec<usize> = model
            .rules
            .iter()
            .map(|r| {
                engine
                    .pack
                    .rules
                    .iter()
                    .position(|p| p.id == r.meta.id)
                    .unwrap_or_else(|| panic!("{id}: the pack has no rule `{}`", r.meta.id))
            })
            .collect();
        assert_eq!(pr.len(), engine.pack.rules.len(), "{id}: rule count");
        // Each cell's answer, through the evaluator's own validation.
        let vals = (0..model.questions.len())
            .map(|q| {
                let cells = &space.domain.cells[q];
                (0..cells.total())
                    .map(|cell| {
                        let a = cells.answer(cell)?;
                        let mut one = Map::new();
                        one.insert(model.questions[q].meta.id.clone(), answer_json(model, q, a));
                        let answers = engine.answers(&one).unwrap_or_else(|e| {
                            panic!("{id}: answer {a:?} to question {q} is refused: {e:?}")
                        });
                        answers.values[pq[q]].expect("given")
                    })
                    .collect()
            })
            .collect();
        Three {
            id: id.to_string(),
            model,
            engine,
            jl: JsonLogicPack::new(&raw),
            space,
            pq,
            pr,
            vals,
        }
    }

    fn describe(&self, cells: &[Option<u32>]) -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .filter_map(|(q, c)| {
                let c = (*c)?;
                let id = &self.model.questions[q].meta.id;
                Some(match self.space.domain.cells[q].answer(c) {
                    None => format!("{id}: not asked"),
                    Some(a) => format!("{id}: {}", answer_json(self.model, q, a)),
                })
            })
            .collect();
        format!("{{{}}}", parts.join(", "))
    }

    fn run(&self) -> Tally {
        let n = self.model.questions.len();
        let mut cells: Vec<Option<u32>> = vec![None; n];
        let mut known: Vec<Known> = vec![Known::Unknown; n];
        let mut tally = Tally::default();
        self.search(&mut cells, &mut known, &mut tally);
        tally
    }

    fn search(&self, cells: &mut Vec<Option<u32>>, known: &mut Vec<Known>, tally: &mut Tally) {
        tally.nodes += 1;
        let domain = &self.space.domain;
        let model = self.model;
        // Every rule and "asked when", three-valued, read both ways.
        let rules: Vec<Option<bool>> = model
            .rules
            .iter()
            .map(|r| kleene(&r.when, domain, cells))
            .collect();
        let packed: Vec<Option<bool>> = (0..rules.len())
            .map(|r| self.engine.rule_condition(self.pr[r]).eval3(known))
            .collect();
        if rules != packed {
            tally.problem(format!(
                "{}: for the answers so far {}, the rules read {:?} from the model but {:?} from the pack",
                self.id,
                self.describe(cells),
                rules,
                packed
            ));
            return;
        }
        let mut asked: Vec<Option<Option<bool>>> = Vec::with_capacity(cells.len());
        for (q, question) in model.questions.iter().enumerate() {
            let Some(c) = &question.asked_when else {
                asked.push(None);
                continue;
            };
            let m = kleene(c, domain, cells);
            let p = self
                .engine
                .asked_when(self.pq[q])
                .map(|e| e.eval3(known))
                .unwrap_or(Some(true));
            if m != p {
                tally.problem(format!(
                    "{}: for the answers so far {}, `{}` is asked: {m:?} by the model, {p:?} by the pack",
                    self.id,
                    self.describe(cells),
                    question.meta.id
                ));
                return;
            }
            // An answer the condition rules out: no incident here.
            if let (Some(is), Some(cell)) = (m, cells[q])
                && is != (Some(cell) != domain.cells[q].not_asked())
            {
                return;
            }
            asked.push(Some(m));
        }

        let settled =
            rules.iter().all(Option::is_some) && asked.iter().flatten().all(Option::is_some);
        if settled {
            self.leaf(cells, &asked, tally);
            return;
        }

        // The first question, in order, that something still open tests.
        let mut open: BTreeSet<usize> = BTreeSet::new();
        for (r, v) in rules.iter().enumerate() {
            if v.is_none() {
                open.extend(
                    model.rules[r]
                        .when
                        .atoms()
                        .iter()
                        .map(|a| a.question.index()),
                );
            }
        }
        for (q, a) in asked.iter().enumerate() {
            if let Some(None) = a {
                let c = model.questions[q].asked_when.as_ref().expect("a condition");
                open.extend(c.atoms().iter().map(|a| a.question.index()));
            }
        }
        let Some(q) = open.into_iter().find(|q| cells[*q].is_none()) else {
            tally.problem(format!(
                "{}: nothing to branch on at {}",
                self.id,
                self.describe(cells)
            ));
            return;
        };
        let qc = &domain.cells[q];
        let choices: Vec<u32> = match asked[q] {
            Some(Some(true)) | None => (0..qc.answers).collect(),
            Some(Some(false)) => qc.not_asked().into_iter().collect(),
            Some(None) => (0..qc.total()).collect(),
        };
        for cell in choices {
            cells[q] = Some(cell);
            known[self.pq[q]] = Known::Is(self.vals[q][cell as usize]);
            self.search(cells, known, tally);
        }
        cells[q] = None;
        known[self.pq[q]] = Known::Unknown;
    }

    /// Everything is settled: every completion is decided alike. Count them,
    /// and decide one three ways (at the first value of each interval and
    /// again at the last).
    fn leaf(&self, cells: &[Option<u32>], asked: &[Option<Option<bool>>], tally: &mut Tally) {
        let domain = &self.space.domain;
        let mut count: u128 = 1;
        let full: Vec<u32> = cells
            .iter()
            .enumerate()
            .map(|(q, c)| {
                let qc = &domain.cells[q];
                match (c, asked[q]) {
                    (Some(c), _) => *c,
                    (None, Some(Some(false))) => qc.not_asked().expect("a not-asked cell"),
                    (None, _) => {
                        count *= u128::from(qc.answers);
                        0
                    }
                }
            })
            .collect();
        tally.leaves += 1;
        tally.incidents += count;
        let here = self.describe(&full.iter().copied().map(Some).collect::<Vec<_>>());
        if self.space.mdd.eval(self.space.valid, &full) != 1 {
            tally.problem(format!("{}: {here} is not a possible incident", self.id));
            return;
        }
        let model_level = model_said(&self.space, &full);
        let model_rules: Vec<usize> = self
            .space
            .matching_at(&full)
            .iter()
            .map(|r| self.pr[r.index()])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();

        for end in ["first", "last"] {
            let answers: Vec<Option<Answer>> = full
                .iter()
                .enumerate()
                .map(|(q, c)| {
                    let qc = &domain.cells[q];
                    let a = qc.answer(*c)?;
                    Some(match (end, a) {
                        ("last", Answer::Number(n)) => {
                            Answer::Number(qc.upper(*c).unwrap_or(n + 1))
                        }
                        _ => a,
                    })
                })
                .collect();
            if end == "last"
                && answers
                    .iter()
                    .flatten()
                    .all(|a| !matches!(a, Answer::Number(_)))
            {
                continue;
            }
            let object = answers_object(self.model, &answers);
            let shown = Value::Object(object.clone());
            // (1) The evaluator, from the pack.
            let checked = match self.engine.answers(&object) {
                Ok(a) => a,
                Err(e) => {
                    tally.problem(format!("{}: the evaluator refuses {shown}: {e:?}", self.id));
                    continue;
                }
            };
            let flat: Vec<Option<Val>> = checked.values.iter().map(|v| v.flatten()).collect();
            let pack_rules = self.engine.matching(&flat);
            let pack_level = match self.engine.outcome(&flat) {
                Outcome::Level(l) => Said::Level(self.engine.pack.levels[l].id.clone()),
                Outcome::Undecided => Said::Undecided,
                Outcome::Conflict => Said::Conflict,
            };
            // (3) Any JsonLogic library, from the pack's text.
            let jl_rules = self.jl.holding(&shown);
            let jl_level = self.jl.decide(&jl_rules);
            if pack_level != model_level || jl_level != model_level {
                tally.problem(format!(
                    "{}: incident {shown} (cells {here}, {count} incidents): the model decides {model_level:?}, the evaluator {pack_level:?}, JsonLogic {jl_level:?}",
                    self.id
                ));
            } else if pack_rules != model_rules || jl_rules != model_rules {
                let ids = |rs: &[usize]| -> Vec<&str> {
                    rs.iter()
                        .map(|r| self.engine.pack.rules[*r].id.as_str())
                        .collect()
                };
                tally.problem(format!(
                    "{}: incident {shown}: rules holding: model {:?}, evaluator {:?}, JsonLogic {:?}",
                    self.id,
                    ids(&model_rules),
                    ids(&pack_rules),
                    ids(&jl_rules)
                ));
            }
        }
    }
}

#[test]
fn the_rule_pack_decides_every_incident_as_the_source_does() {
    let mut failures = Vec::new();
    for id in PROTOCOLS {
        let path = PathBuf::from(format!("protocols/{id}.carepath"));
        let (ws, root) = load(&path, Path::new("protocols"));
        let model = model_of(&ws, root, id);
        let pack_text =
            fs::read_to_string(format!("out/{id}.json")).expect("the committed rule pack");
        let three = Three::new(id, &model, &pack_text, &pack_text);
        let start = std::time::Instant::now();
        let tally = three.run();
        let possible = count_true(
            &three.space.mdd,
            three.space.valid,
            &three.space.domain.sizes(),
        );
        let product: u128 = three
            .space
            .domain
            .sizes()
            .iter()
            .map(|s| u128::from(*s))
            .product();
        eprintln!(
            "{id:>12}: {} questions, {} rules: {} leaves stand for {} possible incidents ({} cell combinations); {} search nodes, {:.2?}",
            model.questions.len(),
            model.rules.len(),
            tally.leaves,
            tally.incidents,
            product,
            tally.nodes,
            start.elapsed()
        );
        assert!(
            tally.leaves > 0 && tally.incidents > 0,
            "{id}: nothing was enumerated"
        );
        if tally.incidents != possible {
            failures.push(format!(
                "{id}: the search covered {} incidents, the model's diagram has {possible}",
                tally.incidents
            ));
        }
        failures.extend(tally.problems);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The search finds a difference when there is one: a rule pack whose rule
/// gives another level (read by both the evaluator and JsonLogic), and a
/// JsonLogic condition that tests another answer (read by JsonLogic only).
#[test]
fn a_rule_pack_that_decides_differently_is_caught() {
    let id = "wiltshire";
    let (ws, root) = load(
        Path::new("protocols/wiltshire.carepath"),
        Path::new("protocols"),
    );
    let model = model_of(&ws, root, id);
    let text = fs::read_to_string("out/wiltshire.json").expect("the committed rule pack");
    let raw: Value = serde_json::from_str(&text).expect("JSON");

    let mut relevelled = raw.clone();
    let lowest = raw["levels"][0]["id"].clone();
    for rule in relevelled["rules"].as_array_mut().expect("rules") {
        if rule["level"] != lowest {
            rule["level"] = lowest.clone();
            break;
        }
    }
    let relevelled = relevelled.to_string();
    let tally = Three::edited(id, &model, &relevelled, &relevelled).run();
    assert!(
        tally
            .problems
            .iter()
            .any(|p| p.contains("the model decides")),
        "a rule moved to another level went unnoticed"
    );

    let mut flipped = raw.clone();
    let when = &mut flipped["rules"][0]["when"];
    *when = json!({ "!": [when.clone()] });
    let tally = Three::new(id, &model, &text, &flipped.to_string()).run();
    assert!(
        tally.problems.iter().any(|p| p.contains("JsonLogic")),
        "a JsonLogic condition negated went unnoticed"
    );
}

/// Generated protocols have what the five do not: amounts (compared in
/// pounds and pence), counts compared every way, scales, conditions on
/// questions not asked, and every policy. Their packs, too, decide every
/// incident as their models do, and as the JsonLogic library does.
#[test]
fn generated_rule_packs_decide_as_their_sources_do() {
    let mut failures = Vec::new();
    let mut amounts = 0;
    for seed in 0..12 {
        for policy in ["most-serious", "first-match", "no-overlap"] {
            for otherwise in [false, true] {
                let what = format!("{policy}, otherwise {otherwise}, seed {seed}");
                let text = small_protocol(seed, policy, otherwise);
                amounts += text.matches("amount").count();
                let (model, s) = small(&text, &what);
                let pack_text = carepath::emit::pack_json(&s.engine.pack);
                let tally = Three::new(&what, &model, &pack_text, &pack_text).run();
                assert!(tally.leaves > 0, "{what}: nothing was enumerated");
                failures.extend(tally.problems.into_iter().map(|p| format!("{what}: {p}")));
            }
        }
    }
    assert!(amounts > 0, "the generated protocols have amounts");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------ the next question

/// A small generated protocol, with some questions asked only when an
/// earlier one is answered a certain way, and (under `no-overlap`) every
/// conflict accepted so that it checks.
fn small_protocol(seed: u64, policy: &'static str, otherwise: bool) -> String {
    let mut rng = synth::Rng::new(seed * 7919 + 13);
    let questions = 5 + (seed % 2) as usize;
    let rules = 6 + rng.below(5) as usize;
    let text = synth::protocol(&synth::Shape {
        questions,
        rules,
        levels: 3,
        min_tests: 1,
        max_tests: 3,
        narrow: seed.is_multiple_of(3),
        policy,
        otherwise,
        seed,
    });
    // What each question is, from its `answer` line, and a test of it.
    let mut tests: Vec<String> = Vec::new();
    let mut out = String::new();
    let mut current: Option<usize> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("question q") {
            current = rest.split(' ').next().and_then(|n| n.parse().ok());
        }
        out.push_str(line);
        out.push('\n');
        if let (Some(q), Some(answer)) = (current, line.trim().strip_prefix("answer ")) {
            let test = if answer.starts_with("yes or no") {
                format!("q{q}")
            } else if answer.starts_with("one of") {
                format!("q{q} != o0")
            } else if answer.starts_with("scale") {
                format!("q{q} >= s1")
            } else if answer.starts_with("count") {
                format!("q{q} >= 2")
            } else {
                format!("q{q} > 100")
            };
            tests.push(test);
            if q > 0 && rng.below(3) == 0 {
                let on = rng.below(q as u64) as usize;
                out.push_str(&format!("  asked when {}\n", tests[on]));
            }
            current = None;
        }
    }
    if policy == "no-overlap" {
        let levels: Vec<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("then ").map(str::to_string))
            .collect();
        for a in 0..levels.len() {
            for b in a + 1..levels.len() {
                if levels[a] != levels[b] {
                    out.push_str(&format!(
                        "accept conflict r{a}, r{b} because \"Generated rules overlap.\"\n"
                    ));
                }
            }
        }
    }
    out
}

struct Small {
    engine: Engine,
    /// Every possible incident (a cell per question) and its decision.
    incidents: Vec<(Vec<u32>, Said)>,
}

fn small(text: &str, what: &str) -> (Model, Small) {
    let (model, pack) = support::compile_in_memory("synthetic.carepath", text, what);
    let engine = Engine::new(pack).unwrap_or_else(|e| panic!("{what}: {e}"));
    let incidents = {
        let space = Space::new(&model);
        let sizes = space.domain.sizes();
        let mut out = Vec::new();
        let mut cells = vec![0u32; sizes.len()];
        'all: loop {
            if space.mdd.eval(space.valid, &cells) == 1 {
                out.push((cells.clone(), model_said(&space, &cells)));
            }
            for q in (0..sizes.len()).rev() {
                cells[q] += 1;
                if cells[q] < sizes[q] {
                    continue 'all;
                }
                cells[q] = 0;
            }
            break;
        }
        out
    };
    (model, Small { engine, incidents })
}

/// Per question `q`: `q` itself and the questions asked only depending on
/// its answer, directly or through others. Their answers go with `q`'s: when
/// `q` changes, they may be answered differently, or not asked.
fn dependents(model: &Model) -> Vec<Vec<bool>> {
    let n = model.questions.len();
    (0..n)
        .map(|q| {
            let mut dep = vec![false; n];
            dep[q] = true;
            loop {
                let mut changed = false;
                for (r, question) in model.questions.iter().enumerate() {
                    let tests_dep = question
                        .asked_when
                        .as_ref()
                        .is_some_and(|c| c.atoms().iter().any(|a| dep[a.question.index()]));
                    if !dep[r] && tests_dep {
                        dep[r] = true;
                        changed = true;
                    }
                }
                if !changed {
                    return dep;
                }
            }
        })
        .collect()
}

fn said(engine: &Engine, o: Outcome) -> Said {
    match o {
        Outcome::Level(l) => Said::Level(engine.pack.levels[l].id.clone()),
        Outcome::Undecided => Said::Undecided,
        Outcome::Conflict => Said::Conflict,
    }
}

/// What is checked of partial answers against the oracle.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    /// `open_questions`: exactly the questions whose answer can change the
    /// level.
    Open,
    /// `next_question`: `None` exactly when the level is settled, otherwise
    /// the first open question that applies (else the first open one).
    Next,
    /// `decide`: answers are missing exactly when more than one outcome is
    /// possible, and then the missing ones are the open questions;
    /// otherwise the one possible outcome.
    Decide,
}

#[derive(Default)]
struct Report {
    sets: usize,
    open_sets: usize,
    problems: Vec<String>,
    first_failing: Option<String>,
}

impl Report {
    fn assert_clean(mut self, what: &str) {
        eprintln!(
            "{what}: {} partial answer sets, {} with the level still open, {} problems",
            self.sets,
            self.open_sets,
            self.problems.len()
        );
        assert!(
            self.open_sets > 0,
            "no partial answer set left the level open"
        );
        self.problems.truncate(25);
        assert!(
            self.problems.is_empty(),
            "{}\n\nthe first protocol that fails, {}",
            self.problems.join("\n"),
            self.first_failing.unwrap_or_default()
        );
    }
}

/// Random partial answers of small generated protocols (several seeds,
/// every policy, with and without `otherwise`), checked against the
/// brute-force oracle: every possible incident that agrees with them.
fn against_the_oracle(check: Check) -> Report {
    let mut report = Report::default();
    for policy in ["most-serious", "first-match", "no-overlap"] {
        for otherwise in [false, true] {
            for seed in 1..=8u64 {
                let what = format!("{policy}, otherwise {otherwise}, seed {seed}");
                let text = small_protocol(seed, policy, otherwise);
                let (model, s) = small(&text, &what);
                let before = report.problems.len();
                oracle_sets(check, &what, &model, &s, seed, &mut report);
                if report.problems.len() > before && report.first_failing.is_none() {
                    report.first_failing = Some(format!("{what}:\n{text}"));
                }
            }
        }
    }
    report
}

fn oracle_sets(check: Check, what: &str, model: &Model, s: &Small, seed: u64, report: &mut Report) {
    let engine = &s.engine;
    let domain = Domain::new(model);
    let n = model.questions.len();
    let setting = engine.pack.settings[0].id.clone();
    let answer_of = |q: usize, c: u32| domain.cells[q].answer(c);
    let dependents = dependents(model);
    let ids = |qs: &[usize]| -> Vec<String> {
        qs.iter()
            .map(|q| model.questions[*q].meta.id.clone())
            .collect()
    };
    // The evaluator agrees with the model on every incident.
    for (cells, expect) in &s.incidents {
        let answers: Vec<Option<Answer>> = (0..n).map(|q| answer_of(q, cells[q])).collect();
        let a = engine
            .answers(&answers_object(model, &answers))
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let flat: Vec<Option<Val>> = a.values.iter().map(|v| v.flatten()).collect();
        assert_eq!(
            &said(engine, engine.outcome(&flat)),
            expect,
            "{what}: {cells:?}"
        );
    }
    let mut rng = synth::Rng::new(seed ^ 0x5eed);
    for _ in 0..80 {
        report.sets += 1;
        // Part of a possible incident: some questions answered. A question
        // the incident does not ask is given as `null`, which is no answer
        // at all: it says nothing about the other answers, and the engine
        // knows the question is not asked only where the other answers
        // show it.
        let (base, _) = &s.incidents[rng.below(s.incidents.len() as u64) as usize];
        // The setting is always given: it is where the child lives.
        let shown: Vec<bool> = (0..n)
            .map(|q| model.questions[q].is_setting || rng.below(2) == 0)
            .collect();
        let setting = match model.setting_question() {
            Some(q) => match answer_of(q.index(), base[q.index()]) {
                Some(Answer::Option(o)) => engine.pack.settings[o as usize].id.clone(),
                _ => setting.clone(),
            },
            None => setting.clone(),
        };
        let mut object = Map::new();
        for q in (0..n).filter(|q| shown[*q]) {
            let v = match answer_of(q, base[q]) {
                Some(a) => answer_json(model, q, a),
                None => Value::Null,
            };
            object.insert(model.questions[q].meta.id.clone(), v);
        }
        let shown: Vec<bool> = (0..n)
            .map(|q| shown[q] && answer_of(q, base[q]).is_some())
            .collect();
        let partial = engine
            .answers(&object)
            .unwrap_or_else(|e| panic!("{what}: {object:?}: {e:?}"));
        let context = format!("{what}, answers {}", Value::Object(object.clone()));

        // The oracle: every possible incident that agrees.
        let agree: Vec<&(Vec<u32>, Said)> = s
            .incidents
            .iter()
            .filter(|(c, _)| (0..n).all(|q| !shown[q] || c[q] == base[q]))
            .collect();
        let outcomes: BTreeSet<&Said> = agree.iter().map(|(_, o)| o).collect();
        if outcomes.len() > 1 {
            report.open_sets += 1;
        }
        // Two incidents that differ in q's answer (and maybe in its
        // dependents'), and in nothing else, decided apart.
        let can_change = |q: usize| {
            let mut groups: HashMap<Vec<u32>, Vec<(u32, &Said)>> = HashMap::new();
            for (c, o) in &agree {
                let mut key = c.clone();
                for (r, d) in dependents[q].iter().enumerate() {
                    if *d {
                        key[r] = u32::MAX;
                    }
                }
                groups.entry(key).or_default().push((c[q], o));
            }
            groups.values().any(|g| {
                g.iter()
                    .any(|(a, x)| g.iter().any(|(b, y)| a != b && x != y))
            })
        };
        let expected_open: Vec<usize> = (0..n).filter(|q| !shown[*q] && can_change(*q)).collect();

        match check {
            Check::Open => {
                let open = ids(&engine.open_questions(&partial));
                if open != ids(&expected_open) {
                    report.problems.push(format!(
                        "{context}: open questions {open:?}, but these can change the level: {:?} (outcomes {outcomes:?})",
                        ids(&expected_open)
                    ));
                }
            }
            Check::Next => {
                // A question applies when every agreeing incident asks it.
                let applies = |q: usize| {
                    let not_asked = domain.cells[q].not_asked();
                    agree.iter().all(|(c, _)| Some(c[q]) != not_asked)
                };
                let expected = expected_open
                    .iter()
                    .find(|q| applies(**q))
                    .or(expected_open.first())
                    .map(|q| model.questions[*q].meta.id.clone());
                let next = engine.next_question(&partial).map(|q| q.id.clone());
                if (outcomes.len() == 1) != next.is_none() {
                    report.problems.push(format!(
                        "{context}: next question {next:?} with outcomes {outcomes:?}"
                    ));
                } else if next != expected {
                    report.problems.push(format!(
                        "{context}: next question {next:?}, expected {expected:?} (open: {:?})",
                        ids(&expected_open)
                    ));
                }
            }
            Check::Decide => {
                let result = engine.decide(&partial, &setting);
                let problem = match (&result, outcomes.len()) {
                    (Err(e), 2..) => match e.as_slice() {
                        [AnswerError::Missing { questions }]
                            if *questions == ids(&expected_open) =>
                        {
                            None
                        }
                        _ => Some(format!(
                            "expected the questions {:?} to be missing",
                            ids(&expected_open)
                        )),
                    },
                    (_, 2..) => Some(format!("{outcomes:?} are possible")),
                    (_, 0) => Some("no incident agrees".to_string()),
                    (Ok(d), _) => {
                        let got = Said::Level(d.level.id.clone());
                        (!outcomes.contains(&got)).then(|| format!("expected {outcomes:?}"))
                    }
                    (Err(e), _) => match (e.as_slice(), outcomes.first()) {
                        ([AnswerError::NoLevel { .. }], Some(Said::Undecided | Said::Conflict)) => {
                            None
                        }
                        _ => Some(format!("expected {outcomes:?}")),
                    },
                };
                if let Some(p) = problem {
                    let got = match &result {
                        Ok(d) => format!("level {}", d.level.id),
                        Err(e) => format!("{e:?}"),
                    };
                    report
                        .problems
                        .push(format!("{context}: decide gives {got}, but {p}"));
                }
            }
        }
    }
}

#[test]
fn the_open_questions_are_those_whose_answer_can_change_the_level() {
    against_the_oracle(Check::Open).assert_clean("open questions");
}

#[test]
fn the_next_question_is_the_first_open_one_that_applies() {
    against_the_oracle(Check::Next).assert_clean("next question");
}

#[test]
fn decide_says_answers_are_missing_exactly_when_the_level_is_open() {
    against_the_oracle(Check::Decide).assert_clean("decide");
}
