//! The rule pack must be enough: for every protocol in `protocols/` and
//! every incident of its answer space, deciding from the committed rule pack
//! (`out/<id>.json`, through the evaluator) gives what deciding from the
//! source model gives, and what any JsonLogic library gives when it
//! evaluates the pack's conditions and combines them as the pack says. In
//! every setting, not only the level: the police response (each deciding
//! rule's own for the setting, else its level's, the most police of them),
//! the procedures that apply, with their responses, and the levels `may`
//! rules suggest. The JsonLogic reading takes all of that from the pack's
//! JSON as its documentation tells an app to (`effect`, `police` lists,
//! `procedures`), the model reading from the model.
//!
//! Incidents are enumerated exhaustively, but not one by one: the search
//! goes question by question and stops as soon as every rule, procedure and
//! "asked when" condition is settled (three-valued, on both sides), since
//! then every completion is decided alike; it evaluates one completion
//! there, once per setting the answers leave open, and counts the
//! incidents it stands for. The counts add up to the number of possible
//! incidents of the model's decision diagram.
//!
//! Every condition of every pack (each one with a `*_text` beside it: rules,
//! procedures, "asked when", route steps, actions, timings and decisions,
//! accepted findings, factor lists, examples' answers) is also read by a
//! strict JsonLogic evaluator written here, which refuses to order `null`,
//! to look it up with `in`, or to treat anything but a boolean as one: on
//! every incident the search decides, it must give each condition the value
//! the JsonLogic library gives it. So the packs mean the same to a library
//! that coerces `null` as JavaScript does and to a port that does not.
//!
//! On small generated protocols, the questions the evaluator says are still
//! open, the next question it asks, and when `decide` says answers are
//! missing, are checked against a brute-force oracle over every incident:
//! for the level, and once it is settled, for the procedures that apply.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{self, PROTOCOLS};
use crate::synth;
use carepath::analysis::domain::Domain;
use carepath::analysis::mdd::{Mdd, NodeId, is_terminal, value};
use carepath::analysis::{Outcome as ModelOutcome, Space};
use carepath::eval::decision::PoliceRef;
use carepath::eval::expr::{Known, Val};
use carepath::eval::{AnswerError, Answers, Decision, Engine, Integrity, Outcome};
use carepath::model::{
    Answer, Cond, Model, Policy, QuestionId, QuestionKind, RuleId, SettingId, Workspace,
};
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

// ------------------------------------------------------------ a strict JsonLogic

/// JsonLogic as strictly as a typed port may read it, written here from
/// the JsonLogic documentation (<https://jsonlogic.com/operations.html>),
/// not from Carepath's reader. Where JavaScript's JsonLogic coerces, this
/// refuses, with an error: ordering (`<`, `<=`, `>`, `>=`) anything but two
/// numbers, `in` with anything but a string, number or boolean looked up
/// in a list, `!`, `and` and `or` over anything but booleans, and any
/// operator a rule pack has no use for. `===` and `!==` are strict
/// equality, defined for every pair of values (numbers by value, so `3`
/// and `3.0` are equal). `and` and `or` stop at the first false or true,
/// as JsonLogic's do. A `var` not in the data is `null`.
mod strict {
    use serde_json::{Map, Value};

    /// The value of a condition: true or false, or why it is refused.
    pub fn eval(logic: &Value, data: &Map<String, Value>) -> Result<bool, String> {
        let (op, args) = operator(logic)?;
        match op {
            "and" | "or" => {
                if args.is_empty() {
                    return Err(format!("`{op}` of nothing in {logic}"));
                }
                let stop = op == "or";
                for a in &args {
                    if eval(a, data)? == stop {
                        return Ok(stop);
                    }
                }
                Ok(!stop)
            }
            "!" => match args.as_slice() {
                [one] => Ok(!eval(one, data)?),
                _ => Err(format!("`!` of {} things in {logic}", args.len())),
            },
            "===" | "!==" => {
                let [a, b] = two(op, &args, logic)?;
                let same = equal(&value(a, data)?, &value(b, data)?);
                Ok(same == (op == "==="))
            }
            "<" | "<=" | ">" | ">=" => {
                let [a, b] = two(op, &args, logic)?;
                let (a, b) = (value(a, data)?, value(b, data)?);
                let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
                    return Err(format!("refused: `{op}` orders {a} and {b} in {logic}"));
                };
                Ok(match op {
                    "<" => x < y,
                    "<=" => x <= y,
                    ">" => x > y,
                    _ => x >= y,
                })
            }
            "in" => {
                let [a, b] = two(op, &args, logic)?;
                let needle = value(a, data)?;
                if !(needle.is_string() || needle.is_number() || needle.is_boolean()) {
                    return Err(format!("refused: `in` looks up {needle} in {logic}"));
                }
                match value(b, data)? {
                    Value::Array(items) => Ok(items.iter().any(|i| equal(i, &needle))),
                    other => Err(format!(
                        "refused: `in` looks in {other}, not a list, in {logic}"
                    )),
                }
            }
            other => Err(format!("refused: operator `{other}` in {logic}")),
        }
    }

    /// The one operator of a JsonLogic object and its arguments (a single
    /// argument may be written without the list).
    fn operator(logic: &Value) -> Result<(&str, Vec<&Value>), String> {
        let Some((op, args)) = logic
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(format!("refused: {logic} is not a test"));
        };
        let args = match args {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        Ok((op.as_str(), args))
    }

    fn two<'a>(op: &str, args: &[&'a Value], logic: &Value) -> Result<[&'a Value; 2], String> {
        match args {
            [a, b] => Ok([*a, *b]),
            _ => Err(format!("`{op}` of {} things in {logic}", args.len())),
        }
    }

    /// An operand: a `var` looked up, or a constant (a list of constants
    /// for `in`).
    fn value(v: &Value, data: &Map<String, Value>) -> Result<Value, String> {
        match v {
            Value::Object(o) => match (o.len(), o.get("var")) {
                (1, Some(Value::String(name))) => {
                    Ok(data.get(name).cloned().unwrap_or(Value::Null))
                }
                _ => Err(format!("refused: {v} as an operand")),
            },
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                Err(format!("refused: {v} as a list of constants"))
            }
            other => Ok(other.clone()),
        }
    }

    /// Strict equality: the same type and value (numbers by value).
    fn equal(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            _ => a == b,
        }
    }
}

/// Every condition of a rule pack's JSON: each member with a `*_text`
/// beside it (`when`, `asked_when`, `only_when`, `applies_when`, `given`),
/// wherever it is, with where it is, for messages.
fn pack_conditions(raw: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, at: &str, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    let here = format!("{at}/{k}");
                    match o.get(&format!("{k}_text")) {
                        Some(_) => out.push((here, x.clone())),
                        None => walk(x, &here, out),
                    }
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(x, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(raw, "", &mut out);
    out
}

// ------------------------------------------------------------ the JsonLogic side

/// A police response as the three readings give it: the response's word,
/// and who judges (an actor's title) for a judgement. Where several
/// deciding rules give a judgement by different people, any of them may be
/// named: `by` holds every one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PoliceSaid {
    response: String,
    by: BTreeSet<Option<String>>,
}

impl PoliceSaid {
    /// The most police of some responses (`unstated` only if nothing
    /// else is said), as `(response, who judges)`.
    fn most(options: &[(String, Option<String>, bool)]) -> PoliceSaid {
        let top = options
            .iter()
            .filter_map(|(r, _, _)| RANKED.iter().position(|x| x == r))
            .max()
            .map_or("unstated", |i| RANKED[i]);
        PoliceSaid {
            response: top.to_string(),
            by: options
                .iter()
                .filter(|(r, _, _)| r == top)
                .map(|(_, by, _)| by.clone())
                .collect(),
        }
    }

    /// Whether the evaluator's response is this one.
    fn admits(&self, p: &PoliceRef) -> bool {
        keyword(p.response) == self.response
            && (self.by.contains(&p.by.map(str::to_string))
                || (self.by.is_empty() && p.by.is_none()))
    }
}

/// Police responses from least to most police, as the format documents
/// them; `unstated` compares with nothing.
const RANKED: [&str; 6] = [
    "none",
    "judgement",
    "advice",
    "report",
    "prompt",
    "emergency",
];

fn keyword(r: carepath::emit::pack::Response) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("a response is a word")
}

/// A procedure that applies, with its police response (the response's
/// word and who judges), if it has one.
type ProcedureSaid = (String, Option<(String, Option<String>)>);

/// What one incident is decided as in one setting, besides the level: the
/// police response, the procedures that apply (each with its response) and
/// the levels `may` rules suggest. `None` where there is no level.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Beside {
    police: PoliceSaid,
    /// The responses the most police was chosen from.
    choices: BTreeSet<String>,
    /// Whether the response chosen is one given for the setting by name
    /// (`police report for foster`).
    named: bool,
    procedures: Vec<ProcedureSaid>,
    suggestions: Vec<String>,
}

impl Beside {
    /// From the police responses of the deciding rules (or the level), as
    /// `(response, who judges, whether it names the setting)`.
    fn new(
        options: &[(String, Option<String>, bool)],
        procedures: Vec<ProcedureSaid>,
        suggestions: Vec<String>,
    ) -> Beside {
        let police = PoliceSaid::most(options);
        Beside {
            choices: options.iter().map(|(r, _, _)| r.clone()).collect(),
            named: options
                .iter()
                .any(|(r, _, named)| *named && *r == police.response),
            police,
            procedures,
            suggestions,
        }
    }
}

/// Whether each rule's and each procedure's `when` holds, by JsonLogic.
struct Held {
    rules: Vec<bool>,
    procedures: Vec<bool>,
}

/// The pack's conditions read by an independent JsonLogic library, and its
/// policy applied as the format documents it.
struct JsonLogicPack {
    engine: datalogic_rs::Engine,
    rules: Vec<datalogic_rs::Logic>,
    rule_ids: Vec<String>,
    rule_level: Vec<String>,
    /// Whether each rule decides; `"effect": "suggests"` rules do not.
    decides: Vec<bool>,
    /// Each rule's own police responses, as the pack lists them.
    rule_police: Vec<Value>,
    rank: BTreeMap<String, u64>,
    level_police: BTreeMap<String, Value>,
    procedures: Vec<(String, datalogic_rs::Logic, Value)>,
    /// Actor id to title: who judges is shown by title.
    actors: BTreeMap<String, String>,
    policy: String,
    otherwise: Option<String>,
    /// Every condition of the pack (see [`pack_conditions`]).
    conditions: Vec<PackCondition>,
    /// Every question a condition tests.
    vars: Vec<String>,
    read_at: std::cell::RefCell<ReadAt>,
}

/// A condition of a pack, as written and compiled by the library, with the
/// questions it tests (indices into [`JsonLogicPack::vars`]).
struct PackCondition {
    at: String,
    logic: Value,
    compiled: datalogic_rs::Logic,
    vars: Vec<usize>,
}

/// An answer, as far as the reading of a condition depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum AnswerKey {
    Missing,
    Null,
    Bool(bool),
    /// The bits of the number as a float.
    Number(u64),
    /// An option id, interned.
    Text(u32),
    Other,
}

/// Per condition, the answers to the questions it tests for which it has
/// been read both ways: its value depends on nothing else, so an incident
/// that agrees on them is read alike and needs no second reading.
#[derive(Default)]
struct ReadAt {
    texts: rustc_hash::FxHashMap<String, u32>,
    seen: Vec<rustc_hash::FxHashSet<Vec<AnswerKey>>>,
}

impl ReadAt {
    fn key(&mut self, v: Option<&Value>) -> AnswerKey {
        match v {
            None => AnswerKey::Missing,
            Some(Value::Null) => AnswerKey::Null,
            Some(Value::Bool(b)) => AnswerKey::Bool(*b),
            Some(Value::Number(n)) => AnswerKey::Number(n.as_f64().map_or(u64::MAX, f64::to_bits)),
            Some(Value::String(t)) => {
                let next = self.texts.len() as u32;
                AnswerKey::Text(match self.texts.get(t.as_str()) {
                    Some(i) => *i,
                    None => *self.texts.entry(t.clone()).or_insert(next),
                })
            }
            Some(_) => AnswerKey::Other,
        }
    }
}

/// The question ids a JsonLogic condition looks up.
fn vars_of(logic: &Value, out: &mut Vec<String>) {
    match logic {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("var", Value::String(name)) if !out.contains(name) => out.push(name.clone()),
                    _ => vars_of(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| vars_of(v, out)),
        _ => {}
    }
}

impl JsonLogicPack {
    fn new(raw: &Value) -> JsonLogicPack {
        let engine = datalogic_rs::Engine::new();
        let mut all_vars: Vec<String> = Vec::new();
        let conditions: Vec<PackCondition> = pack_conditions(raw)
            .into_iter()
            .map(|(at, logic)| {
                let compiled = engine
                    .compile(&logic)
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                let mut names = Vec::new();
                vars_of(&logic, &mut names);
                let vars = names
                    .into_iter()
                    .map(|n| match all_vars.iter().position(|v| *v == n) {
                        Some(i) => i,
                        None => {
                            all_vars.push(n);
                            all_vars.len() - 1
                        }
                    })
                    .collect();
                PackCondition {
                    at,
                    logic,
                    compiled,
                    vars,
                }
            })
            .collect();
        let read_at = std::cell::RefCell::new(ReadAt {
            texts: Default::default(),
            seen: vec![Default::default(); conditions.len()],
        });
        let rules = raw["rules"].as_array().expect("rules");
        let compile = |what: &str, v: &Value| {
            engine
                .compile(&v["when"])
                .unwrap_or_else(|e| panic!("{what} `{}`: {e}", v["id"]))
        };
        let compiled = rules.iter().map(|r| compile("rule", r)).collect();
        let procedures = raw["procedures"]
            .as_array()
            .expect("procedures")
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().expect("id").to_string(),
                    compile("procedure", p),
                    p.get("police").cloned().unwrap_or(json!([])),
                )
            })
            .collect();
        let levels = raw["levels"].as_array().expect("levels");
        JsonLogicPack {
            rules: compiled,
            rule_ids: rules
                .iter()
                .map(|r| r["id"].as_str().expect("id").to_string())
                .collect(),
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
            // A rule without responses of its own leaves `police` out.
            rule_police: rules
                .iter()
                .map(|r| r.get("police").cloned().unwrap_or(json!([])))
                .collect(),
            rank: levels
                .iter()
                .map(|l| {
                    (
                        l["id"].as_str().expect("id").to_string(),
                        l["rank"].as_u64().expect("rank"),
                    )
                })
                .collect(),
            level_police: levels
                .iter()
                .map(|l| {
                    (
                        l["id"].as_str().expect("id").to_string(),
                        l["police"].clone(),
                    )
                })
                .collect(),
            procedures,
            actors: raw["actors"]
                .as_array()
                .expect("actors")
                .iter()
                .map(|a| {
                    (
                        a["id"].as_str().expect("id").to_string(),
                        a["title"].as_str().expect("title").to_string(),
                    )
                })
                .collect(),
            policy: raw["policy"]["kind"].as_str().expect("policy").to_string(),
            otherwise: raw["policy"]["otherwise"].as_str().map(str::to_string),
            conditions,
            vars: all_vars,
            read_at,
            engine,
        }
    }

    /// Every condition of the pack for an answers object, by the library
    /// (which coerces `null` as JavaScript does) and by the strict
    /// evaluator: the first that the strict one refuses, or that the two
    /// read differently. A condition already read for the same answers to
    /// the questions it tests is not read again. Returns how many were.
    fn strictly(&self, data: &Map<String, Value>) -> Result<u64, String> {
        use datalogic_rs::EvalInput;
        let mut read_at = self.read_at.borrow_mut();
        let keys: Vec<AnswerKey> = self.vars.iter().map(|v| read_at.key(data.get(v))).collect();
        let mut key: Vec<AnswerKey> = Vec::new();
        let mut fresh: Vec<usize> = Vec::new();
        for (c, condition) in self.conditions.iter().enumerate() {
            key.clear();
            key.extend(condition.vars.iter().map(|v| keys[*v]));
            if !read_at.seen[c].contains(key.as_slice()) {
                read_at.seen[c].insert(key.clone());
                fresh.push(c);
            }
        }
        if fresh.is_empty() {
            return Ok(0);
        }
        let arena = datalogic_rs::bumpalo::Bump::new();
        let shown = Value::Object(data.clone());
        let value = (&shown)
            .into_arena_value(&arena)
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
        for c in &fresh {
            let PackCondition {
                at,
                logic,
                compiled,
                ..
            } = &self.conditions[*c];
            let lenient = self
                .engine
                .evaluate(compiled, value, &arena)
                .map_err(|e| format!("{at} on {shown}: the library fails: {e}"))?
                .as_bool()
                .ok_or_else(|| format!("{at} on {shown}: the library gives no true or false"))?;
            let strict = strict::eval(logic, data).map_err(|e| format!("{at} on {shown}: {e}"))?;
            if strict != lenient {
                return Err(format!(
                    "{at} on {shown}: {strict} read strictly, {lenient} by the library"
                ));
            }
        }
        Ok(fresh.len() as u64)
    }

    /// Every rule's and procedure's `when` for an answers object, which is
    /// converted for the library once.
    fn held(&self, data: &Value) -> Held {
        use datalogic_rs::EvalInput;
        let arena = datalogic_rs::bumpalo::Bump::new();
        let value = data
            .into_arena_value(&arena)
            .unwrap_or_else(|e| panic!("{data}: {e}"));
        let eval = |what: &str, i: usize, logic: &datalogic_rs::Logic| {
            let result = self
                .engine
                .evaluate(logic, value, &arena)
                .unwrap_or_else(|e| panic!("{what} {i} on {data}: {e}"));
            result.as_bool().unwrap_or_else(|| {
                panic!("{what} {i} on {data} gave {result:?}, not true or false")
            })
        };
        Held {
            rules: (self.rules.iter().enumerate())
                .map(|(r, logic)| eval("rule", r, logic))
                .collect(),
            procedures: (self.procedures.iter().enumerate())
                .map(|(p, (_, logic, _))| eval("procedure", p, logic))
                .collect(),
        }
    }

    /// The deciding rules that hold.
    fn holding(&self, held: &Held) -> Vec<usize> {
        (0..self.rules.len())
            .filter(|r| self.decides[*r] && held.rules[*r])
            .collect()
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

    /// Of a `police` list, the response for `setting`: the one listing it,
    /// else the one listing no setting; with who judges, and whether it
    /// names the setting.
    fn police_for(&self, list: &Value, setting: &str) -> Option<(String, Option<String>, bool)> {
        let list = list.as_array().expect("a police list");
        let names = |p: &&Value| {
            p["settings"]
                .as_array()
                .expect("settings")
                .iter()
                .any(|s| s == setting)
        };
        let every = |p: &&Value| p["settings"].as_array().is_some_and(Vec::is_empty);
        let named = list.iter().find(names);
        let p = named.or_else(|| list.iter().find(every))?;
        let by = p
            .get("by")
            .and_then(Value::as_str)
            .map(|a| self.actors.get(a).cloned().unwrap_or_else(|| a.to_string()));
        Some((
            p["response"].as_str().expect("response").to_string(),
            by,
            named.is_some(),
        ))
    }

    /// Everything beside the level, for an answers object whose deciding
    /// rules that hold are `holding` and whose level is `level`: the
    /// deciding rules (the policy's), their police responses for the
    /// setting (each its own, else its level's; the level's when no rule
    /// decides) and the most police of them; the procedures whose `when`
    /// holds; and the `may` rules that hold and name another level.
    fn beside(&self, held: &Held, level: &str, setting: &str) -> Beside {
        let holding = self.holding(held);
        let deciding: Vec<usize> = match self.policy.as_str() {
            "first-match" => holding.iter().take(1).copied().collect(),
            _ => holding
                .iter()
                .filter(|r| self.rule_level[**r] == level)
                .copied()
                .collect(),
        };
        let level_police = self.police_for(&self.level_police[level], setting);
        let mut options: Vec<(String, Option<String>, bool)> = deciding
            .iter()
            .filter_map(|r| {
                self.police_for(&self.rule_police[*r], setting)
                    .or_else(|| level_police.clone())
            })
            .collect();
        if deciding.is_empty() {
            options.extend(level_police);
        }
        let procedures = (self.procedures.iter().enumerate())
            .filter(|(p, _)| held.procedures[*p])
            .map(|(_, (id, _, police))| {
                let p = self.police_for(police, setting);
                (id.clone(), p.map(|(r, by, _)| (r, by)))
            })
            .collect();
        let suggestions = (0..self.rules.len())
            .filter(|r| held.rules[*r] && !self.decides[*r] && self.rule_level[*r] != level)
            .map(|r| self.rule_ids[r].clone())
            .collect();
        Beside::new(&options, procedures, suggestions)
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
    /// Model procedure -> pack procedure.
    pp: Vec<usize>,
    /// Per model question and cell: the pack's compiled answer.
    vals: Vec<Vec<Option<Val>>>,
}

/// What the decisions compared had, to show that the generated protocols
/// exercise every construct.
#[derive(Default)]
struct Seen {
    /// Police responses decided.
    responses: BTreeSet<String>,
    /// Decisions whose police response is not their level's.
    own_police: u64,
    /// Decisions whose response is one given for their setting by name.
    named: u64,
    with_procedures: u64,
    procedures_with_police: u64,
    with_suggestions: u64,
    /// Decisions where deciding rules give different responses, so the
    /// most police of them counts.
    several_responses: u64,
}

impl Seen {
    /// One decision's police response, procedures and suggestions.
    fn saw(&mut self, model: &Model, space: &Space<'_>, full: &[u32], s: SettingId, m: &Beside) {
        let levels_own = space
            .level_of(space.outcome_at(full))
            .and_then(|l| Model::police_for(&model.level(l).police, Some(s)))
            .map(|p| p.response.keyword());
        self.responses.insert(m.police.response.clone());
        self.own_police += u64::from(levels_own != Some(m.police.response.as_str()));
        self.several_responses += u64::from(m.choices.len() > 1);
        self.named += u64::from(m.named);
        self.with_procedures += u64::from(!m.procedures.is_empty());
        self.procedures_with_police += u64::from(m.procedures.iter().any(|(_, p)| p.is_some()));
        self.with_suggestions += u64::from(!m.suggestions.is_empty());
    }

    fn add(&mut self, other: &Seen) {
        self.responses.extend(other.responses.iter().cloned());
        self.own_police += other.own_police;
        self.named += other.named;
        self.with_procedures += other.with_procedures;
        self.procedures_with_police += other.procedures_with_police;
        self.with_suggestions += other.with_suggestions;
        self.several_responses += other.several_responses;
    }

    fn describe(&self) -> String {
        format!(
            "responses {:?}; {} decisions with a rule's own response, {} with a response named for the setting, {} with several responses; {} with procedures ({} with a response), {} with suggestions",
            self.responses,
            self.own_police,
            self.named,
            self.several_responses,
            self.with_procedures,
            self.procedures_with_police,
            self.with_suggestions
        )
    }

    fn assert_interesting(&self) {
        for r in crate::oracle::RESPONSES {
            assert!(self.responses.contains(r), "no decision says police {r}");
        }
        assert!(self.own_police > 0, "no rule's own police response decides");
        assert!(self.named > 0, "no response named for a setting decides");
        assert!(
            self.several_responses > 0,
            "never several responses to choose from"
        );
        assert!(self.with_procedures > 0, "no procedure applies");
        assert!(
            self.procedures_with_police > 0,
            "no procedure has a response"
        );
        assert!(self.with_suggestions > 0, "no `may` rule suggests");
    }
}

/// An incident's answers at one end of their intervals, as read so far:
/// checked by the evaluator, the deciding rules JsonLogic finds holding,
/// and the level all three agree on.
struct Read<'a> {
    object: &'a Map<String, Value>,
    checked: &'a Answers,
    /// For the object as it is (in its setting).
    jl_held: &'a Held,
    level: &'a Said,
    end: &'a str,
}

#[derive(Default)]
struct Tally {
    leaves: u64,
    /// Incidents decided three ways: a leaf in each setting it stands for.
    decided: u64,
    incidents: u128,
    nodes: u64,
    /// Decisions compared with a walk of the shipped compiled decision.
    walked: u64,
    /// Conditions and answers objects whose value was checked, strictly
    /// and by the library: one per condition per object.
    strict: u64,
    /// Of those, the readings done: a condition is read once for each
    /// answer to the questions it tests.
    strict_read: u64,
    problems: Vec<String>,
    seen: Seen,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.leaves += other.leaves;
        self.incidents += other.incidents;
        self.decided += other.decided;
        self.nodes += other.nodes;
        self.walked += other.walked;
        self.strict += other.strict;
        self.strict_read += other.strict_read;
        self.seen.add(&other.seen);
    }

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
        // A pack edited on purpose keeps its rules' edits, not a compiled
        // decision that no longer agrees with them.
        let pack_text = match integrity {
            Integrity::Verify => pack_text.to_string(),
            Integrity::AllowModified => {
                let mut v: Value = serde_json::from_str(pack_text).expect("JSON");
                v.as_object_mut().expect("a pack").remove("decision");
                v.to_string()
            }
        };
        let engine =
            Engine::from_json_with(&pack_text, integrity).unwrap_or_else(|e| panic!("{id}: {e}"));
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
        let pp: Vec<usize> = model
            .procedures
            .iter()
            .map(|p| {
                engine
                    .pack
                    .procedures
                    .iter()
                    .position(|x| x.id == p.meta.id)
                    .unwrap_or_else(|| panic!("{id}: the pack has no procedure `{}`", p.meta.id))
            })
            .collect();
        assert_eq!(
            pp.len(),
            engine.pack.procedures.len(),
            "{id}: procedure count"
        );
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
            pp,
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
        self.run_part(0, 1)
    }

    /// Part `part` of `parts` of the search: the answers to the first
    /// question branched on are dealt out among the parts, so that each
    /// part can run on a thread of its own.
    fn run_part(&self, part: usize, parts: usize) -> Tally {
        let n = self.model.questions.len();
        let mut cells: Vec<Option<u32>> = vec![None; n];
        let mut known: Vec<Known> = vec![Known::Unknown; n];
        let mut tally = Tally::default();
        self.search(&mut cells, &mut known, &mut tally, Some((part, parts)));
        tally
    }

    /// `split`, at the root only: which part of the answers to the first
    /// question branched on to search (see [`Three::run_part`]).
    fn search(
        &self,
        cells: &mut Vec<Option<u32>>,
        known: &mut Vec<Known>,
        tally: &mut Tally,
        split: Option<(usize, usize)>,
    ) {
        let (part, parts) = split.unwrap_or((0, 1));
        if split.is_none() || part == 0 {
            tally.nodes += 1;
        }
        let domain = &self.space.domain;
        let model = self.model;
        // Every rule's and procedure's condition, and every "asked when",
        // three-valued, read both ways.
        let conditions: Vec<&Cond> = model
            .rules
            .iter()
            .map(|r| &r.when)
            .chain(model.procedures.iter().map(|p| &p.when))
            .collect();
        let read: Vec<Option<bool>> = conditions
            .iter()
            .map(|c| kleene(c, domain, cells))
            .collect();
        let packed: Vec<Option<bool>> = (0..model.rules.len())
            .map(|r| self.engine.rule_condition(self.pr[r]).eval3(known))
            .chain(
                (0..model.procedures.len())
                    .map(|p| self.engine.procedure_condition(self.pp[p]).eval3(known)),
            )
            .collect();
        let rules = model.rules.len();
        for (what, range) in [("rules", 0..rules), ("procedures", rules..read.len())] {
            if read[range.clone()] != packed[range.clone()] {
                tally.problem(format!(
                    "{}: for the answers so far {}, the {what} read {:?} from the model but {:?} from the pack",
                    self.id,
                    self.describe(cells),
                    &read[range.clone()],
                    &packed[range]
                ));
                return;
            }
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
            read.iter().all(Option::is_some) && asked.iter().flatten().all(Option::is_some);
        if settled {
            if part == 0 {
                self.leaf(cells, &asked, tally);
            }
            return;
        }

        // The first question, in order, that something still open tests.
        let mut open: BTreeSet<usize> = BTreeSet::new();
        for (c, v) in conditions.iter().zip(&read) {
            if v.is_none() {
                open.extend(c.atoms().iter().map(|a| a.question.index()));
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
        for (i, cell) in choices.into_iter().enumerate() {
            if i % parts != part {
                continue;
            }
            cells[q] = Some(cell);
            known[self.pq[q]] = Known::Is(self.vals[q][cell as usize]);
            self.search(cells, known, tally, None);
        }
        cells[q] = None;
        known[self.pq[q]] = Known::Unknown;
    }

    /// Everything is settled: every completion is decided alike. Count them,
    /// and decide one three ways (at the first value of each interval and
    /// again at the last); and, in each setting the answers leave possible,
    /// everything else a decision says.
    fn leaf(&self, cells: &[Option<u32>], asked: &[Option<Option<bool>>], tally: &mut Tally) {
        let domain = &self.space.domain;
        let mut count: u128 = 1;
        let mut full: Vec<u32> = cells
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
        // The setting decides the police response even where no condition
        // tests it: every setting, unless the answers so far fix one.
        let settings: Vec<u32> = match self.model.setting_question().map(QuestionId::index) {
            Some(q) if cells[q].is_none() => (0..domain.cells[q].answers).collect(),
            Some(q) => vec![full[q]],
            None => Vec::new(),
        };
        if let (Some(q), Some(first)) = (self.model.setting_question(), settings.first()) {
            full[q.index()] = *first;
        }
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
        // What the model says beside the level, in each setting.
        let besides: Vec<(u32, Option<Beside>)> = settings
            .iter()
            .map(|s| {
                let mut full = full.clone();
                if let Some(q) = self.model.setting_question() {
                    full[q.index()] = *s;
                }
                (*s, self.model_beside(&full, self.setting_id(*s)))
            })
            .collect();
        tally.decided += besides.len().max(1) as u64;
        for (s, m) in &besides {
            if let Some(m) = m {
                tally
                    .seen
                    .saw(self.model, &self.space, &full, self.setting_id(*s), m);
            }
        }

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
            // (3) Any JsonLogic library, from the pack's text; and every
            // condition of the pack, strictly too.
            tally.strict += self.jl.conditions.len() as u64;
            match self.jl.strictly(&object) {
                Ok(read) => tally.strict_read += read,
                Err(e) => tally.problem(format!("{}: {e}", self.id)),
            }
            let jl_held = self.jl.held(&shown);
            let jl_rules = self.jl.holding(&jl_held);
            let jl_level = self.jl.decide(&jl_rules);
            if pack_level != model_level || jl_level != model_level {
                tally.problem(format!(
                    "{}: incident {shown} (cells {here}, {count} incidents): the model decides {model_level:?}, the evaluator {pack_level:?}, JsonLogic {jl_level:?}",
                    self.id
                ));
                continue;
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
                continue;
            }
            // The whole decision in each setting: police, procedures and
            // suggestions, besides the level. Where the setting is open, no
            // condition settled here tests it, so the rules that hold are
            // those above.
            let read = Read {
                object: &object,
                checked: &checked,
                jl_held: &jl_held,
                level: &model_level,
                end,
            };
            for (s, model_beside) in &besides {
                self.beside_three(&read, *s, model_beside, tally);
            }
        }
    }

    fn setting_id(&self, cell: u32) -> SettingId {
        let q = self.model.setting_question().expect("a setting question");
        let id = &self.model.question(q).kind.choices()[cell as usize].id;
        self.model
            .setting_id(id)
            .expect("the setting question's options are the settings")
    }

    /// Everything beside the level in setting `s` (the setting question's
    /// cell), from the pack: by JsonLogic at both ends of the answers'
    /// intervals, and by the evaluator's `decide` (which reads the answers
    /// as the rules do, checked at both ends) at the first.
    fn beside_three(
        &self,
        read: &Read<'_>,
        s: u32,
        model_beside: &Option<Beside>,
        tally: &mut Tally,
    ) {
        let q = self.model.setting_question().expect("a setting question");
        let setting = self.model.question(q).kind.choices()[s as usize].id.clone();
        // The answers in this setting, for messages.
        let shown = || {
            let mut object = read.object.clone();
            object.insert(self.model.question(q).meta.id.clone(), json!(setting));
            Value::Object(object)
        };
        // Where the setting is open, no condition settled here tests it:
        // the rules and procedures JsonLogic found holding in the answers'
        // own setting hold in this one.
        let jl_beside = match read.level {
            Said::Level(l) => Some(self.jl.beside(read.jl_held, l, &setting)),
            _ => None,
        };
        if jl_beside != *model_beside {
            tally.problem(format!(
                "{}: incident {} in `{setting}`: the model gives {model_beside:?}, JsonLogic {jl_beside:?}",
                self.id,
                shown()
            ));
        }
        if read.end != "first" {
            return;
        }
        // The answers as checked, in this setting.
        let mut answers = read.checked.clone();
        answers.values[self.pq[q.index()]] = Some(self.vals[q.index()][s as usize]);
        let decided = self.engine.decide(&answers, &setting);
        let agrees = match (model_beside, &decided) {
            (None, Err(e)) => matches!(e.as_slice(), [AnswerError::NoLevel { .. }]),
            (Some(m), Ok(d)) => {
                Said::Level(d.level.id.to_string()) == *read.level
                    && m.police.admits(&d.police)
                    && m.procedures == procedures_of(d)
                    && m.suggestions == d.suggestions.iter().map(|r| r.id).collect::<Vec<_>>()
            }
            _ => false,
        };
        if !agrees {
            let pack = match &decided {
                Ok(d) => format!(
                    "level {}, police {:?} by {:?}, procedures {:?}, suggestions {:?}",
                    d.level.id,
                    keyword(d.police.response),
                    d.police.by,
                    procedures_of(d),
                    d.suggestions.iter().map(|r| &r.id).collect::<Vec<_>>()
                ),
                Err(e) => format!("{e:?}"),
            };
            tally.problem(format!(
                "{}: incident {} in `{setting}`: the model gives {model_beside:?}, the evaluator {pack}",
                self.id,
                shown()
            ));
        }
        // The compiled decision the pack ships, walked from the answers
        // object as an app walks it, reaches the same level and police
        // response.
        if let Some(compiled) = &self.engine.pack.decision {
            let Value::Object(object) = shown() else {
                unreachable!("answers are an object")
            };
            let word = |r: carepath::emit::pack::Response| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
            };
            let expected = match &decided {
                Ok(d) => (Some(d.level.id.to_string()), word(d.police.response)),
                Err(_) => (None, None),
            };
            let walked = match crate::compiled::walk_shipped(compiled, &object, &setting) {
                Ok(crate::compiled::Shipped::Outcome(level, police)) => {
                    Ok((level, police.map(|p| p.0)))
                }
                Ok(open) => Err(format!("stopped at {open:?}")),
                Err(e) => Err(e),
            };
            if walked.as_ref() != Ok(&expected) {
                tally.problem(format!(
                    "{}: incident {} in `{setting}`: the shipped decision gives {walked:?}, `decide` {expected:?}",
                    self.id,
                    Value::Object(object)
                ));
            }
            tally.walked += 1;
        }
    }

    /// Everything but the level, from the model: the deciding rules under
    /// the policy; each one's police response for the setting (its own,
    /// else its level's; the level's when no rule decides) and the most
    /// police of them; the procedures that apply, with theirs; the `may`
    /// rules that hold and name another level. `None` where the incident
    /// gets no level.
    fn model_beside(&self, full: &[u32], setting: SettingId) -> Option<Beside> {
        let model = self.model;
        let space = &self.space;
        let level = space.level_of(space.outcome_at(full))?;
        let matching = space.matching_at(full);
        let deciding: Vec<RuleId> = match model.header.policy.value {
            Policy::FirstMatch => matching.into_iter().take(1).collect(),
            _ => matching
                .into_iter()
                .filter(|r| model.rule(*r).level == level)
                .collect(),
        };
        let word = |p: &carepath::model::Police| {
            (
                p.response.keyword().to_string(),
                p.by.map(|a| model.actors[a.index()].title.clone()),
                !p.settings.is_empty(),
            )
        };
        let mut options: Vec<(String, Option<String>, bool)> = deciding
            .iter()
            .filter_map(|r| model.rule_police(*r, Some(setting)).map(word))
            .collect();
        if deciding.is_empty() {
            options.extend(Model::police_for(&model.level(level).police, Some(setting)).map(word));
        }
        let procedures = model
            .procedures
            .iter()
            .enumerate()
            .filter(|(p, _)| space.mdd.eval(space.procedures[*p], full) == 1)
            .map(|(_, x)| {
                (
                    x.meta.id.clone(),
                    Model::police_for(&x.police, Some(setting))
                        .map(word)
                        .map(|(r, by, _)| (r, by)),
                )
            })
            .collect();
        let suggestions = model
            .rules
            .iter()
            .enumerate()
            .filter(|(r, rule)| {
                !rule.decides() && rule.level != level && space.mdd.eval(space.rules[*r], full) == 1
            })
            .map(|(_, rule)| rule.meta.id.clone())
            .collect();
        Some(Beside::new(&options, procedures, suggestions))
    }
}

/// The procedures of a decision, each with its police response.
fn procedures_of(d: &Decision) -> Vec<ProcedureSaid> {
    d.procedures
        .iter()
        .map(|p| {
            (
                p.id.to_string(),
                p.police
                    .as_ref()
                    .map(|x| (keyword(x.response), x.by.map(str::to_string))),
            )
        })
        .collect()
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
        // The search in parts, a thread each, every thread reading the
        // protocol and the pack for itself.
        let parts = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
        let mut tally = Tally::default();
        std::thread::scope(|scope| {
            let threads: Vec<_> = (0..parts)
                .map(|part| {
                    let (path, pack_text) = (&path, &pack_text);
                    scope.spawn(move || {
                        let (ws, root) = load(path, Path::new("protocols"));
                        let model = model_of(&ws, root, id);
                        Three::new(id, &model, pack_text, pack_text).run_part(part, parts)
                    })
                })
                .collect();
            for t in threads {
                let part = t.join().expect("the search ends");
                tally.add(&part);
                tally.problems.extend(part.problems);
            }
        });
        tally.problems.truncate(20);
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
            "{id:>12}: {} questions, {} rules, {} procedures: {} leaves stand for {} possible incidents ({} cell combinations), {} decided in a setting; {} search nodes; {} conditions checked strictly {} times ({} readings); {:.2?}",
            model.questions.len(),
            model.rules.len(),
            model.procedures.len(),
            tally.leaves,
            tally.incidents,
            product,
            tally.decided,
            tally.nodes,
            three.jl.conditions.len(),
            tally.strict,
            tally.strict_read,
            start.elapsed()
        );
        // Every condition is read strictly: at least the rules, the
        // procedures and the "asked when" conditions are found.
        let asked = model
            .questions
            .iter()
            .filter(|q| q.asked_when.is_some())
            .count();
        assert!(
            three.jl.conditions.len() >= model.rules.len() + model.procedures.len() + asked,
            "{id}: only {} conditions found",
            three.jl.conditions.len()
        );
        assert!(tally.strict_read > 0, "{id}: nothing was read strictly");
        assert!(
            tally.leaves > 0 && tally.incidents > 0,
            "{id}: nothing was enumerated"
        );
        assert!(
            tally.walked > 0,
            "{id}: no decision was compared with the shipped compiled decision"
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

/// The search finds a difference beside the level too: a pack whose police
/// responses, procedures or `may` rules say something else than the model,
/// read by the evaluator and JsonLogic alike, or by JsonLogic alone.
#[test]
fn a_rule_pack_that_differs_beside_the_level_is_caught() {
    // A generated protocol with procedures, `may` rules and rules' own
    // police responses.
    let (what, text) = (0..40)
        .map(|seed| {
            let what = format!("most-serious, seed {seed}");
            (what, small_protocol(seed, "most-serious", true, true))
        })
        .find(|(_, t)| {
            t.contains("strength may") && t.contains("procedure proc-") && t.contains("\n  police ")
        })
        .expect("a generated protocol with every construct");
    let (model, s) = small(&text, &what);
    let pack_text = carepath::emit::pack_json(&s.engine.pack);
    let raw: Value = serde_json::from_str(&pack_text).expect("JSON");
    let caught = |tally: Tally, needle: &str| tally.problems.iter().any(|p| p.contains(needle));
    assert!(
        Three::new(&what, &model, &pack_text, &pack_text)
            .run()
            .problems
            .is_empty(),
        "{what}: the pack as built differs"
    );

    // Every level's police response replaced, for JsonLogic only.
    let mut police = raw.clone();
    for level in police["levels"].as_array_mut().expect("levels") {
        for p in level["police"].as_array_mut().expect("police") {
            p["response"] = json!(if p["response"] == "emergency" {
                "none"
            } else {
                "emergency"
            });
            p.as_object_mut().expect("a response").remove("by");
        }
    }
    let tally = Three::new(&what, &model, &pack_text, &police.to_string()).run();
    assert!(
        caught(tally, "the model gives"),
        "other police responses went unnoticed"
    );

    // Each rule's own responses taken away, for both.
    let mut own = raw.clone();
    for rule in own["rules"].as_array_mut().expect("rules") {
        rule.as_object_mut().expect("a rule").remove("police");
    }
    let own = own.to_string();
    let tally = Three::edited(&what, &model, &own, &own).run();
    assert!(
        caught(tally, "the model gives"),
        "rules' own police responses taken away went unnoticed"
    );

    // A procedure's condition negated, for both.
    let mut procedure = raw.clone();
    let when = &mut procedure["procedures"][0]["when"];
    *when = json!({ "!": [when.clone()] });
    let procedure = procedure.to_string();
    let tally = Three::edited(&what, &model, &procedure, &procedure).run();
    assert!(
        caught(tally, "the procedures read"),
        "a procedure's condition negated went unnoticed"
    );

    // `may` rules taken as deciding, for JsonLogic only.
    let mut effect = raw.clone();
    for rule in effect["rules"].as_array_mut().expect("rules") {
        rule["effect"] = json!("decides");
    }
    let tally = Three::new(&what, &model, &pack_text, &effect.to_string()).run();
    assert!(
        caught(tally, "JsonLogic"),
        "`may` rules read as deciding went unnoticed"
    );
}

/// Generated protocols have what the five do not: amounts (compared in
/// pounds and pence), counts compared every way, scales, conditions on
/// questions not asked, and every policy; and, with the second model of
/// decisions, conditions on the setting, `may` rules, police responses per
/// rule and per setting, and procedures. Their packs, too, decide every
/// incident as their models do, and as the JsonLogic library does: the
/// level, and in every setting the police response, the procedures and the
/// suggestions.
#[test]
fn generated_rule_packs_decide_as_their_sources_do() {
    let mut failures = Vec::new();
    let mut amounts = 0;
    let mut total = Tally::default();
    let start = std::time::Instant::now();
    for decisions in [false, true] {
        for seed in 0..12 {
            for policy in ["most-serious", "first-match", "no-overlap"] {
                for otherwise in [false, true] {
                    let what = format!(
                        "{policy}, otherwise {otherwise}, seed {seed}, decisions {decisions}"
                    );
                    let text = small_protocol(seed, policy, otherwise, decisions);
                    amounts += text.matches("amount").count();
                    let (model, s) = small(&text, &what);
                    let pack_text = carepath::emit::pack_json(&s.engine.pack);
                    let tally = Three::new(&what, &model, &pack_text, &pack_text).run();
                    assert!(tally.leaves > 0, "{what}: nothing was enumerated");
                    if !tally.problems.is_empty() && failures.is_empty() {
                        failures.push(format!("the first protocol that fails, {what}:\n{text}"));
                    }
                    failures.extend(tally.problems.iter().map(|p| format!("{what}: {p}")));
                    total.add(&tally);
                }
            }
        }
    }
    eprintln!(
        "generated: 144 protocols, {} leaves for {} incidents, {} decided in a setting, conditions checked strictly {} times ({} readings), {:.2?}; {}",
        total.leaves,
        total.incidents,
        total.decided,
        total.strict,
        total.strict_read,
        start.elapsed(),
        total.seen.describe()
    );
    assert!(amounts > 0, "the generated protocols have amounts");
    failures.truncate(40);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    total.seen.assert_interesting();
}

/// A condition without its guard: `{"and": [{"!==": [q, null]}, test]}`
/// as `test`, everywhere in `v`, which is what the compiler wrote for
/// `>` and `in` before every test was guarded.
fn unguarded(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(parts)) = o.get("and")
                && let [guard, test] = parts.as_slice()
                && guard
                    .get("!==")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.len() == 2 && a[0].get("var").is_some() && a[1].is_null())
            {
                return unguarded(test);
            }
            Value::Object(o.iter().map(|(k, x)| (k.clone(), unguarded(x))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(unguarded).collect()),
        other => other.clone(),
    }
}

/// The search reads every condition strictly, so a pack whose tests of
/// questions that may not be asked are unguarded is caught; and the same
/// pack with its guards passes.
#[test]
fn a_rule_pack_with_unguarded_tests_is_caught_by_the_strict_reading() {
    let what = "the strict protocol";
    let (model, built) = support::compile_in_memory("strict.carepath", STRICT, what);
    let pack_text = carepath::emit::pack_json(&built);
    let raw: Value = serde_json::from_str(&pack_text).expect("JSON");
    let tally = Three::new(what, &model, &pack_text, &pack_text).run();
    assert!(tally.problems.is_empty(), "{:?}", tally.problems);
    assert!(tally.strict_read > 0, "nothing was read strictly");
    let stripped = unguarded(&raw);
    assert_ne!(stripped, raw, "the pack has guards to take away");
    let tally = Three::new(what, &model, &pack_text, &stripped.to_string()).run();
    assert!(
        tally
            .problems
            .iter()
            .any(|p| p.contains("refused: `>` orders null and 3")),
        "unguarded tests went unnoticed: {:?}",
        tally.problems
    );
}

/// The strict evaluator refuses what a strict port may refuse, so that
/// reading a pack with it shows the pack never asks for it.
#[test]
fn the_strict_evaluator_refuses_null_where_javascript_would_coerce_it() {
    let data: Map<String, Value> =
        serde_json::from_value(json!({"n": null, "s": "x", "b": true})).expect("an object");
    for refused in [
        json!({"<": [{"var": "n"}, 3]}),
        json!({"<=": [{"var": "missing"}, 3]}),
        json!({">": [{"var": "n"}, 3]}),
        json!({">=": [{"var": "n"}, 0]}),
        json!({">": [{"var": "s"}, 3]}),
        json!({"in": [{"var": "n"}, [1, 2]]}),
        json!({"in": [{"var": "s"}, "xyz"]}),
        json!({"!": [{"var": "b"}]}),
        json!({"and": [{"var": "b"}]}),
        json!({"or": []}),
        json!({"==": [{"var": "n"}, null]}),
        json!({"var": "b"}),
    ] {
        assert!(
            strict::eval(&refused, &data).is_err(),
            "{refused} was not refused"
        );
    }
    // What a pack writes is read, and `and` stops at the guard.
    for (logic, expected) in [
        (json!({"===": [{"var": "n"}, 3]}), false),
        (json!({"!==": [{"var": "n"}, null]}), false),
        (json!({"!==": [{"var": "s"}, null]}), true),
        (
            json!({"and": [{"!==": [{"var": "n"}, null]}, {">": [{"var": "n"}, 3]}]}),
            false,
        ),
        (
            json!({"!": [{"and": [{"!==": [{"var": "n"}, null]}, {"in": [{"var": "n"}, [1]]}]}]}),
            true,
        ),
        (json!({"in": [{"var": "s"}, ["x", "y"]]}), true),
        (
            json!({"or": [{"===": [{"var": "b"}, true]}, {"<": [{"var": "n"}, 1]}]}),
            true,
        ),
        (json!({"===": [3, 3.0]}), true),
    ] {
        assert_eq!(strict::eval(&logic, &data), Ok(expected), "{logic}");
    }
}

/// Counts, amounts and a scale asked only when `a`, tested every way that
/// needs a guard, and with `not`.
const STRICT: &str = r#"protocol strict {
  title "Strict"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}
setting home "Children's home" { no route "routes are not part of this test" }
question a "Did it happen?" { answer yes or no }
question n "How many times?" { answer count from 0
  asked when a }
question m "What did it cost?" { answer amount "£"
  asked when a }
question s "How bad was it?" { answer scale { none < some < lots }
  asked when a }
level low "Low" { police none }
level high "High" { police emergency }
rule more-than { when n > 3 then high }
rule at-least { when n >= 2 then high }
rule listed { when n in { 1, 7 } then high }
rule costly { when m >= 10.50 then high }
rule bad { when s >= some then high }
rule not-more { when not n > 3 then low }
rule not-listed { when a and n not in { 5 } then low }
"#;

/// A test of a question that is not asked is false (and `not` of it true)
/// whether or not the evaluator coerces `null`: counts and amounts ordered
/// and listed, options listed, on questions asked only sometimes. Before
/// the guards, `{">": [{"var": "n"}, 3]}` relied on JavaScript reading
/// `null > 3` as false, and a strict evaluator refused it.
#[test]
fn tests_of_questions_not_asked_are_false_for_a_strict_evaluator_too() {
    let text = STRICT;
    let (_, built) = support::compile_in_memory("strict.carepath", text, "strict");
    let raw = serde_json::to_value(&built).expect("JSON");
    let jl = JsonLogicPack::new(&raw);
    let engine = Engine::new(built).expect("the pack loads");
    let cases: Vec<(Value, [bool; 7])> = vec![
        // Not asked, left out or given as `null`: every test is false, and
        // `not` of one true.
        (
            json!({"a": false}),
            [false, false, false, false, false, true, false],
        ),
        (
            json!({"a": false, "n": null, "m": null, "s": null}),
            [false, false, false, false, false, true, false],
        ),
        (
            json!({"a": true, "n": 4, "m": 10.5, "s": "some"}),
            [true, true, false, true, true, false, true],
        ),
        (
            json!({"a": true, "n": 1, "m": 3, "s": "none"}),
            [false, false, true, false, false, true, true],
        ),
        (
            json!({"a": true, "n": 5, "m": 0.01, "s": "lots"}),
            [true, true, false, false, true, false, false],
        ),
    ];
    for (answers, expected) in cases {
        let data: Map<String, Value> = serde_json::from_value(answers.clone()).expect("an object");
        let checked = engine.answers(&data).expect("valid answers");
        let flat: Vec<Option<Val>> = checked.values.iter().map(|v| v.flatten()).collect();
        let held = jl.held(&answers);
        for (r, rule) in engine.pack.rules.iter().enumerate() {
            let strict = strict::eval(&rule.when, &data)
                .unwrap_or_else(|e| panic!("rule `{}` on {answers}: {e}", rule.id));
            assert_eq!(
                strict, expected[r],
                "rule `{}` on {answers}, strictly",
                rule.id
            );
            assert_eq!(
                held.rules[r], expected[r],
                "rule `{}` on {answers}, by the library",
                rule.id
            );
            assert_eq!(
                engine.rule_condition(r).eval(&flat),
                expected[r],
                "rule `{}` on {answers}, by the evaluator",
                rule.id
            );
        }
        let read = jl.strictly(&data).unwrap_or_else(|e| panic!("{e}"));
        assert!(read > 0, "{answers}: nothing was read strictly");
    }
    // The form the compiler used to write for `n > 3` is what the strict
    // evaluator refuses.
    let old = json!({">": [{"var": "n"}, 3]});
    let not_asked: Map<String, Value> =
        serde_json::from_value(json!({"a": false})).expect("an object");
    assert!(strict::eval(&old, &not_asked).is_err());
}

// ------------------------------------------------------------ the next question

/// A small generated protocol, with some questions asked only when an
/// earlier one is answered a certain way, and (under `no-overlap`) every
/// conflict accepted so that it checks. With `decisions`, it has what the
/// second model of decisions adds: rules, procedures and "asked when"
/// conditions that test the setting, `may` rules, police responses per rule
/// and per setting, and procedures.
fn small_protocol(seed: u64, policy: &'static str, otherwise: bool, decisions: bool) -> String {
    let mut rng = synth::Rng::new(seed * 7919 + 13);
    // What `decisions` adds draws from here, so that without it the
    // protocol is what it always was.
    let mut more = synth::Rng::new(seed * 104_729 + 7);
    let questions = 5 + (seed % 2) as usize;
    let rules = 6 + rng.below(5) as usize;
    let shape = synth::Shape {
        questions,
        rules,
        levels: 3,
        min_tests: 1,
        max_tests: 3,
        narrow: seed.is_multiple_of(3),
        policy,
        otherwise,
        seed,
    };
    let text = if decisions {
        synth::protocol_with(
            &shape,
            &synth::Decisions {
                setting_tests: 3,
                may: 4,
                rule_police: 2,
                setting_police: true,
                procedures: 1 + (seed % 2) as usize,
            },
        )
    } else {
        synth::protocol(&shape)
    };
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
            } else if decisions && more.below(5) == 0 {
                out.push_str("  asked when setting == foster\n");
            }
            current = None;
        }
    }
    if policy == "no-overlap" {
        // Each rule's level, and whether it decides (`may` rules do not,
        // so they conflict with nothing).
        let mut levels: Vec<(String, bool)> = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(l) = line.strip_prefix("then ") {
                levels.push((l.to_string(), true));
            } else if line == "strength may" {
                levels.last_mut().expect("a rule").1 = false;
            }
        }
        for a in 0..levels.len() {
            for b in a + 1..levels.len() {
                if levels[a].0 != levels[b].0 && levels[a].1 && levels[b].1 {
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
    /// Every possible incident (a cell per question), its decision (by the
    /// model) with its police response (by the independent JsonLogic
    /// reading of the pack), and whether each procedure applies.
    incidents: Vec<(Vec<u32>, Verdict, Vec<bool>)>,
}

/// What an incident is decided as: the level (or none) and, with a level,
/// the police response. Partial answers settle a decision only when they
/// settle both: two incidents of one level can differ in the response.
type Verdict = (Said, Option<PoliceSaid>);

fn small(text: &str, what: &str) -> (Model, Small) {
    let (model, pack) = support::compile_in_memory("synthetic.carepath", text, what);
    let engine = Engine::new(pack).unwrap_or_else(|e| panic!("{what}: {e}"));
    let raw: Value =
        serde_json::from_str(&carepath::emit::pack_json(&engine.pack)).expect("the pack as JSON");
    let jl = JsonLogicPack::new(&raw);
    let incidents = {
        let space = Space::new(&model);
        let domain = Domain::new(&model);
        let police = |cells: &[u32], said: &Said| -> Option<PoliceSaid> {
            let Said::Level(level) = said else {
                return None;
            };
            let answers: Vec<Option<Answer>> = (0..cells.len())
                .map(|q| domain.cells[q].answer(cells[q]))
                .collect();
            let setting = match model.setting_question() {
                Some(q) => match answers[q.index()] {
                    Some(Answer::Option(o)) => engine.pack.settings[o as usize].id.clone(),
                    other => panic!("{what}: the setting answered {other:?}"),
                },
                None => engine.pack.settings[0].id.clone(),
            };
            let held = jl.held(&Value::Object(answers_object(&model, &answers)));
            Some(jl.beside(&held, level, &setting).police)
        };
        let sizes = space.domain.sizes();
        let mut out = Vec::new();
        let mut cells = vec![0u32; sizes.len()];
        'all: loop {
            if space.mdd.eval(space.valid, &cells) == 1 {
                let procedures = space
                    .procedures
                    .iter()
                    .map(|p| space.mdd.eval(*p, &cells) == 1)
                    .collect();
                let said = model_said(&space, &cells);
                let police = police(&cells, &said);
                out.push((cells.clone(), (said, police), procedures));
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
    /// level or the police response.
    Open,
    /// `next_question`: while the level or police response is open, the
    /// first open question that applies (else the first open one); once
    /// both are settled, the first question whose answer can change which
    /// procedures apply (those that apply first); `None` when all are
    /// settled.
    Next,
    /// `decide`: answers are missing exactly when more than one outcome
    /// (level and police response) is possible, and then the missing ones
    /// are the open questions; with the outcome settled, exactly when which
    /// procedures apply is not, and then
    /// the missing ones are the questions that can change it; otherwise
    /// the one possible outcome, with its procedures.
    Decide,
}

#[derive(Default)]
struct Report {
    sets: usize,
    open_sets: usize,
    /// Sets with the level settled and the procedures not.
    procedure_sets: usize,
    problems: Vec<String>,
    first_failing: Option<String>,
}

impl Report {
    fn assert_clean(mut self, what: &str) {
        eprintln!(
            "{what}: {} partial answer sets, {} with the level or police response still open, {} with both settled and procedures open, {} problems",
            self.sets,
            self.open_sets,
            self.procedure_sets,
            self.problems.len()
        );
        assert!(
            self.open_sets > 0,
            "no partial answer set left the level open"
        );
        assert!(
            self.procedure_sets > 0,
            "no partial answer set settled the level and left procedures open"
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
/// every policy, with and without `otherwise`, with and without the second
/// model of decisions), checked against the brute-force oracle: every
/// possible incident that agrees with them.
fn against_the_oracle(check: Check) -> Report {
    let mut report = Report::default();
    for decisions in [false, true] {
        for policy in ["most-serious", "first-match", "no-overlap"] {
            for otherwise in [false, true] {
                for seed in 1..=8u64 {
                    let what = format!(
                        "{policy}, otherwise {otherwise}, seed {seed}, decisions {decisions}"
                    );
                    let text = small_protocol(seed, policy, otherwise, decisions);
                    let (model, s) = small(&text, &what);
                    let before = report.problems.len();
                    oracle_sets(check, &what, &model, &s, seed, &mut report);
                    if report.problems.len() > before && report.first_failing.is_none() {
                        report.first_failing = Some(format!("{what}:\n{text}"));
                    }
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
    for (cells, (expect, _), _) in &s.incidents {
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
        let (base, _, _) = &s.incidents[rng.below(s.incidents.len() as u64) as usize];
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
        let agree: Vec<&(Vec<u32>, Verdict, Vec<bool>)> = s
            .incidents
            .iter()
            .filter(|(c, _, _)| (0..n).all(|q| !shown[q] || c[q] == base[q]))
            .collect();
        let outcomes: BTreeSet<&Verdict> = agree.iter().map(|(_, o, _)| o).collect();
        if outcomes.len() > 1 {
            report.open_sets += 1;
        }
        // Two incidents that differ in q's answer (and maybe in its
        // dependents'), and in nothing else, decided apart: by level, or
        // (`procedures`) by the procedures that apply.
        let can_change = |q: usize, procedures: bool| {
            // Per group, q's answer and the incident's place in `agree`.
            let mut groups: HashMap<Vec<u32>, Vec<(u32, usize)>> = HashMap::new();
            for (i, (c, _, _)) in agree.iter().enumerate() {
                let mut key = c.clone();
                for (r, d) in dependents[q].iter().enumerate() {
                    if *d {
                        key[r] = u32::MAX;
                    }
                }
                groups.entry(key).or_default().push((c[q], i));
            }
            let apart = |i: usize, j: usize| {
                if procedures {
                    agree[i].2 != agree[j].2
                } else {
                    agree[i].1 != agree[j].1
                }
            };
            groups.values().any(|g| {
                g.iter()
                    .any(|(a, i)| g.iter().any(|(b, j)| a != b && apart(*i, *j)))
            })
        };
        let expected_open: Vec<usize> = (0..n)
            .filter(|q| !shown[*q] && can_change(*q, false))
            .collect();
        // A question applies when every agreeing incident asks it.
        let applies = |q: usize| {
            let not_asked = domain.cells[q].not_asked();
            agree.iter().all(|(c, _, _)| Some(c[q]) != not_asked)
        };
        // Once the level is settled: the questions whose answers can
        // change which procedures apply, those that apply first.
        let procedure_sets: BTreeSet<&Vec<bool>> = agree.iter().map(|(_, _, p)| p).collect();
        let mut procedure_open: Vec<usize> = if procedure_sets.len() > 1 {
            (0..n)
                .filter(|q| !shown[*q] && can_change(*q, true))
                .collect()
        } else {
            Vec::new()
        };
        procedure_open.sort_by_key(|q| (!applies(*q), *q));
        if outcomes.len() == 1 && !procedure_open.is_empty() {
            report.procedure_sets += 1;
        }

        match check {
            Check::Open => {
                let open = ids(&engine.open_questions(&partial));
                if open != ids(&expected_open) {
                    report.problems.push(format!(
                        "{context}: open questions {open:?}, but these can change the decision: {:?} (outcomes {outcomes:?})",
                        ids(&expected_open)
                    ));
                }
            }
            Check::Next => {
                let expected = if outcomes.len() > 1 {
                    expected_open
                        .iter()
                        .find(|q| applies(**q))
                        .or(expected_open.first())
                } else {
                    procedure_open.first()
                }
                .map(|q| model.questions[*q].meta.id.clone());
                let next = engine.next_question(&partial).map(|q| q.id.clone());
                if outcomes.len() > 1 && next.is_none() {
                    report.problems.push(format!(
                        "{context}: next question {next:?} with outcomes {outcomes:?}"
                    ));
                } else if next != expected {
                    report.problems.push(format!(
                        "{context}: next question {next:?}, expected {expected:?} (open: {:?}; open for procedures: {:?})",
                        ids(&expected_open),
                        ids(&procedure_open)
                    ));
                }
            }
            Check::Decide => {
                let result = engine.decide(&partial, &setting);
                // The procedures that apply, when that is settled.
                let applying: Option<Vec<String>> = match procedure_sets.iter().next() {
                    Some(p) if procedure_sets.len() == 1 => Some(
                        p.iter()
                            .enumerate()
                            .filter(|(_, a)| **a)
                            .map(|(i, _)| model.procedures[i].meta.id.clone())
                            .collect(),
                    ),
                    _ => None,
                };
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
                    // The level is settled, and there is one.
                    (Ok(d), _) => {
                        let level = Said::Level(d.level.id.to_string());
                        let procedures: Vec<String> =
                            d.procedures.iter().map(|p| p.id.to_string()).collect();
                        let agrees = outcomes.iter().any(|(said, police)| {
                            *said == level && police.as_ref().is_some_and(|p| p.admits(&d.police))
                        });
                        if !agrees {
                            Some(format!("expected {outcomes:?}"))
                        } else if applying.as_ref() != Some(&procedures) {
                            Some(format!(
                                "with procedures {procedures:?}, expected the questions {:?} to be missing",
                                ids(&procedure_open)
                            ))
                        } else {
                            None
                        }
                    }
                    (Err(e), _) => match (e.as_slice(), outcomes.first().map(|o| &o.0)) {
                        ([AnswerError::NoLevel { .. }], Some(Said::Undecided | Said::Conflict)) => {
                            None
                        }
                        ([AnswerError::Missing { questions }], Some(Said::Level(_)))
                            if !procedure_open.is_empty() && *questions == ids(&procedure_open) =>
                        {
                            None
                        }
                        ([AnswerError::Missing { .. }], Some(Said::Level(_)))
                            if !procedure_open.is_empty() =>
                        {
                            Some(format!("the procedures wait on {:?}", ids(&procedure_open)))
                        }
                        _ => Some(format!(
                            "expected {outcomes:?} with procedures {applying:?}"
                        )),
                    },
                };
                if let Some(p) = problem {
                    let got = match &result {
                        Ok(d) => format!(
                            "level {} with procedures {:?}",
                            d.level.id,
                            d.procedures.iter().map(|p| &p.id).collect::<Vec<_>>()
                        ),
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
fn the_open_questions_are_those_whose_answer_can_change_the_decision() {
    against_the_oracle(Check::Open).assert_clean("open questions");
}

#[test]
fn the_next_question_is_the_first_open_one_that_applies() {
    against_the_oracle(Check::Next).assert_clean("next question");
}

#[test]
fn decide_says_answers_are_missing_exactly_when_the_decision_is_open() {
    against_the_oracle(Check::Decide).assert_clean("decide");
}
