//! The compiled decision a rule pack ships (`decision`): walked as an app
//! would walk it, from the pack's JSON alone, it gives the level and police
//! response `carepath decide` gives, and it stops at the question
//! `next_question` asks. The exhaustive check over every incident of every
//! protocol is in `equivalence.rs`; here, the seed packs on sampled
//! incidents, the diagram's shape, and a pack whose diagram was edited.

use carepath::emit::pack::{CompiledDecision, QuestionKind, RulePack};
use carepath::eval::batch::Brief;
use carepath::eval::expr::Val;
use carepath::eval::{Answers, Engine, Integrity};
use serde_json::{Map, Value, json};

use crate::support::PROTOCOLS;

/// Where an app's walk of the shipped diagram ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shipped {
    /// An outcome: the level (or none) and the police response with who
    /// judges (actor id).
    Outcome(Option<String>, Option<(String, Option<String>)>),
    /// A question the answers do not answer.
    Open(String),
}

/// Walk `decision` for an answers object in a setting, written only from
/// the pack format's documentation: start at the setting's start, follow
/// the branch that lists each answer, until an outcome.
pub fn walk_shipped(
    decision: &CompiledDecision,
    object: &Map<String, Value>,
    setting: &str,
) -> Result<Shipped, String> {
    let start = decision
        .starts
        .iter()
        .find(|s| s.setting == setting)
        .ok_or_else(|| format!("no start for setting `{setting}`"))?;
    let (mut node, mut outcome) = (start.node, start.outcome);
    let mut met: Vec<&str> = Vec::new();
    loop {
        if let Some(o) = outcome {
            let o = decision
                .outcomes
                .get(o as usize)
                .ok_or("an outcome out of range")?;
            let police = o.police.as_ref().map(|p| {
                (
                    serde_json::to_value(p.response)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    p.by.clone(),
                )
            });
            return Ok(Shipped::Outcome(o.level.clone(), police));
        }
        let n = &decision.nodes[node.ok_or("a branch with no target")? as usize];
        if met.contains(&n.question.as_str()) {
            return Err(format!("question `{}` met twice", n.question));
        }
        met.push(&n.question);
        let answer = object.get(&n.question).filter(|v| !v.is_null());
        let Some(answer) = answer else {
            return Ok(Shipped::Open(n.question.clone()));
        };
        let branch = n
            .branches
            .iter()
            .find(|b| {
                b.answers.contains(answer)
                    || answer.as_f64().is_some_and(|x| {
                        b.at_least
                            .as_ref()
                            .and_then(|n| n.as_f64())
                            .is_some_and(|l| l <= x)
                            && b.below
                                .as_ref()
                                .and_then(|n| n.as_f64())
                                .is_none_or(|u| x < u)
                    })
            })
            .ok_or_else(|| format!("no branch of `{}` for {answer}", n.question))?;
        (node, outcome) = (branch.node, branch.outcome);
    }
}

fn seed_pack(id: &str) -> (String, Engine) {
    let path = format!("{}/out/{id}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("a committed rule pack");
    let engine = Engine::from_json(&text).expect("the pack loads");
    (text, engine)
}

/// xorshift64*, so that every run draws the same incidents.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// An answer as an answers object has it.
fn answer_json(pack: &RulePack, q: usize, v: Val) -> Value {
    let question = &pack.questions[q];
    match v {
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
    }
}

/// A possible incident in setting `si`, drawn from the answer classes
/// ("asked when" tests earlier questions only), as an answers object.
fn incident(engine: &Engine, si: usize, state: &mut u64) -> Map<String, Value> {
    let n = engine.pack.questions.len();
    let mut values: Vec<Option<Val>> = vec![None; n];
    let mut object = Map::new();
    for q in 0..n {
        if engine.pack.questions[q].kind == QuestionKind::Setting {
            values[q] = Some(Val::Opt(si as u32));
            continue;
        }
        if !engine.asked_when(q).is_none_or(|c| c.eval(&values)) {
            continue;
        }
        let choices: Vec<Val> = engine.cells()[q].iter().flatten().copied().collect();
        let v = choices[(next(state) % choices.len() as u64) as usize];
        values[q] = Some(v);
        object.insert(
            engine.pack.questions[q].id.clone(),
            answer_json(&engine.pack, q, v),
        );
    }
    object
}

/// The actor id whose title `decide` printed.
fn actor_id(engine: &Engine, title: Option<&str>) -> Option<String> {
    let title = title?;
    Some(
        engine
            .pack
            .actors
            .iter()
            .find(|a| a.title == title)
            .map_or(title.to_string(), |a| a.id.clone()),
    )
}

#[test]
fn the_shipped_decision_gives_the_level_and_police_that_decide_gives() {
    let mut state = 0x5eed_c0de;
    for id in PROTOCOLS {
        let (_, engine) = seed_pack(id);
        let decision = engine.pack.decision.as_ref().expect("a compiled decision");
        let mut decided = 0;
        for (si, setting) in engine.pack.settings.iter().enumerate() {
            for _ in 0..400 {
                let object = incident(&engine, si, &mut state);
                let walked = walk_shipped(decision, &object, &setting.id)
                    .unwrap_or_else(|e| panic!("{id}: {e} for {object:?}"));
                let answers = engine.answers(&object).expect("a possible incident");
                let decided_as = engine.decide(&answers, &setting.id);
                assert_eq!(
                    engine.brief(&object, &setting.id),
                    decided_as.as_ref().map(Brief::of).map_err(Clone::clone),
                    "{id} in {}: brief for {object:?}",
                    setting.id
                );
                let refused = decided_as.as_ref().err().cloned();
                let expected = match decided_as {
                    Ok(mut d) => {
                        decided += 1;
                        // Every decision, with and without its explanation,
                        // is one the published schema describes.
                        if decided % 7 == 0 {
                            d.explanation = Some(engine.explanation(&answers, &setting.id));
                        }
                        let json = serde_json::to_value(&d).expect("a decision serialises");
                        crate::support::assert_valid_decision(&json, id);
                        Shipped::Outcome(
                            Some(d.level.id.to_string()),
                            Some((
                                serde_json::to_value(d.police.response)
                                    .expect("a word")
                                    .as_str()
                                    .expect("a word")
                                    .to_string(),
                                actor_id(&engine, d.police.by),
                            )),
                        )
                    }
                    Err(e) => Shipped::Outcome(None, None).clone_with_error(e),
                };
                assert_eq!(
                    walked.without_reason(),
                    expected,
                    "{id} in {}: {object:?}",
                    setting.id
                );
                // The public path from the answers object, which walks the
                // engine's own copy of the diagram.
                if let Ok(reached) = engine.level_of(&object, &setting.id) {
                    assert_eq!(
                        Shipped::Outcome(
                            Some(reached.level.id.clone()),
                            Some((
                                serde_json::to_value(reached.police)
                                    .expect("a word")
                                    .as_str()
                                    .expect("a word")
                                    .to_string(),
                                actor_id(&engine, reached.by),
                            )),
                        ),
                        expected,
                        "{id}: level_of for {object:?}"
                    );
                } else {
                    assert_eq!(expected, Shipped::Outcome(None, None), "{id}: {object:?}");
                    // The same refusal, with the same accepted findings.
                    assert_eq!(
                        engine.level_of(&object, &setting.id).err(),
                        refused,
                        "{id}: level_of for {object:?}"
                    );
                }
            }
        }
        assert!(decided > 100, "{id}: only {decided} incidents decided");
    }
}

impl Shipped {
    /// An undecided incident: no level, whatever the reason.
    fn clone_with_error(self, e: Vec<carepath::eval::AnswerError>) -> Shipped {
        assert!(
            matches!(e.as_slice(), [carepath::eval::AnswerError::NoLevel { .. }]),
            "a complete incident is decided or has no level: {e:?}"
        );
        self
    }

    fn without_reason(self) -> Shipped {
        match self {
            Shipped::Outcome(None, _) => Shipped::Outcome(None, None),
            other => other,
        }
    }
}

/// An app that asks only the question the shipped diagram stops at, one at
/// a time, asks only questions that apply to the incident and reaches the
/// level and police response of the whole incident. While the level is
/// open, `next_question` (which looks for a question that can change the
/// level) never asks one before where the diagram stops: the questions
/// before it can change neither the level nor the police response.
#[test]
fn asking_where_the_shipped_decision_stops_reaches_the_decision() {
    let mut state = 0xa5_4ed;
    for id in PROTOCOLS {
        let (_, engine) = seed_pack(id);
        let decision = engine.pack.decision.as_ref().expect("a compiled decision");
        let mut asked_total = 0;
        for (si, setting) in engine.pack.settings.iter().enumerate() {
            for _ in 0..100 {
                let full = incident(&engine, si, &mut state);
                let whole = walk_shipped(decision, &full, &setting.id).expect("walks");
                let mut object = Map::new();
                if let Some(sq) = engine.setting_question() {
                    object.insert(engine.pack.questions[sq].id.clone(), json!(setting.id));
                }
                loop {
                    let walked = walk_shipped(decision, &object, &setting.id)
                        .unwrap_or_else(|e| panic!("{id}: {e}"));
                    let Shipped::Open(q) = walked else {
                        assert_eq!(walked, whole, "{id}: {object:?}");
                        break;
                    };
                    let answers: Answers = engine.answers(&object).expect("answers so far");
                    let level_open = !engine.open_questions(&answers).is_empty();
                    if let Some(next) = engine.next_question(&answers).filter(|_| level_open) {
                        let at = |id: &str| engine.question_index(id).expect("a question");
                        assert!(at(&next.id) >= at(&q), "{id}: `{}` before `{q}`", next.id);
                    }
                    let answer = full.get(&q).cloned().unwrap_or_else(|| {
                        panic!("{id}: asked `{q}`, which the incident does not ask: {object:?}")
                    });
                    object.insert(q, answer);
                    asked_total += 1;
                }
            }
        }
        assert!(
            asked_total > 100,
            "{id}: only {asked_total} questions asked"
        );
    }
}

#[test]
fn every_branch_leads_to_a_later_question_and_none_mixes_not_asked_with_answers() {
    for id in PROTOCOLS {
        let (_, engine) = seed_pack(id);
        let d = engine.pack.decision.as_ref().expect("a compiled decision");
        let order = |q: &str| {
            engine
                .question_index(q)
                .unwrap_or_else(|| panic!("{id}: no question `{q}`"))
        };
        assert_eq!(d.starts.len(), engine.pack.settings.len(), "{id}");
        for n in &d.nodes {
            assert!(
                n.branches.len() >= 2,
                "{id}: `{}` with one branch",
                n.question
            );
            for b in &n.branches {
                assert!(
                    b.node.is_some() != b.outcome.is_some(),
                    "{id}: a branch needs exactly one target"
                );
                if let Some(next) = b.node {
                    assert!(
                        order(&d.nodes[next as usize].question) > order(&n.question),
                        "{id}"
                    );
                }
                if let Some(o) = b.outcome {
                    assert!((o as usize) < d.outcomes.len(), "{id}");
                }
                // A node asks a question that applies to every incident
                // reaching it.
                assert!(!b.not_asked, "{id}: `{}` may not be asked here", n.question);
            }
        }
    }
}

#[test]
fn a_pack_whose_compiled_decision_was_edited_is_refused() {
    let (text, _) = seed_pack("dorset");
    let mut v: Value = serde_json::from_str(&text).expect("JSON");
    // Send an outcome to another level.
    let outcomes = v["decision"]["outcomes"].as_array_mut().expect("outcomes");
    let first = outcomes[0]["level"].clone();
    outcomes[1]["level"] = first;
    let edited = serde_json::to_string(&v).expect("JSON");
    let e = Engine::from_json_with(&edited, Integrity::AllowModified)
        .err()
        .expect("refused");
    assert!(e.to_string().contains("compiled decision"), "{e}");
    // Without it, the pack still decides, by its rules.
    v.as_object_mut().expect("object").remove("decision");
    let without = serde_json::to_string(&v).expect("JSON");
    let engine = Engine::from_json_with(&without, Integrity::AllowModified).expect("loads");
    let answers = engine
        .answers(&crate::support::quiet_dorset())
        .expect("answers");
    let d = engine.decide(&answers, "residential").expect("decided");
    assert_eq!(d.level.id, "level-1");
}

/// `level_of` reads an answers object straight into the compiled decision's
/// classes; whatever it is given, it must answer as the full path does.
/// Incidents with answers left out (in any order), answers of the wrong
/// kind, unknown options and questions, `null`s and answers to questions
/// that are not asked: the same errors as [`Engine::answers`] when the
/// answers are wrong; when they are right, the level and police response
/// of `decide`, or the refusal of `decide` when it gives no level, and a
/// level only where every completion of the answers has it.
#[test]
fn level_of_answers_partial_and_wrong_answers_as_the_full_path_does() {
    let mut state = 0x01e7_e10f;
    for id in PROTOCOLS {
        let (_, engine) = seed_pack(id);
        let mut settled = 0;
        for (si, setting) in engine.pack.settings.iter().enumerate() {
            for _ in 0..300 {
                let full = incident(&engine, si, &mut state);
                let mut object: Vec<(String, Value)> = full
                    .iter()
                    .filter(|_| !next(&mut state).is_multiple_of(3))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                // Sometimes out of order.
                if next(&mut state).is_multiple_of(2) {
                    object.reverse();
                }
                let q = (next(&mut state) % engine.pack.questions.len() as u64) as usize;
                let question = engine.pack.questions[q].id.clone();
                match next(&mut state) % 8 {
                    0 => object.push((question, json!("not-an-option"))),
                    1 => object.push((question, json!(7.5))),
                    2 => object.push((question, Value::Null)),
                    3 => object.push(("no-such-question".into(), json!(true))),
                    4 => {
                        // An answer to a question, asked or not.
                        let choices: Vec<Val> =
                            engine.cells()[q].iter().flatten().copied().collect();
                        let v = choices[(next(&mut state) % choices.len() as u64) as usize];
                        object.retain(|(k, _)| *k != question);
                        object.push((question, answer_json(&engine.pack, q, v)));
                    }
                    _ => {}
                }
                let object: Map<String, Value> = object.into_iter().collect();
                // The brief form, read straight from the answers where it
                // can be, is that of the whole decision, errors and all.
                let whole = engine
                    .answers(&object)
                    .and_then(|a| engine.decide(&a, &setting.id).map(|d| Brief::of(&d)));
                assert_eq!(
                    engine.brief(&object, &setting.id),
                    whole,
                    "{id} in {}: brief for {object:?}",
                    setting.id
                );
                let reached = engine.level_of(&object, &setting.id);
                let answers = match engine.answers(&object) {
                    Err(e) => {
                        assert_eq!(reached.err(), Some(e), "{id}: {object:?}");
                        continue;
                    }
                    Ok(answers) => answers,
                };
                match (reached, engine.decide(&answers, &setting.id)) {
                    (Ok(r), Ok(d)) => {
                        settled += 1;
                        assert_eq!(
                            (&r.level.id, r.police, r.by),
                            (&d.level.id.to_string(), d.police.response, d.police.by),
                            "{id} in {}: {object:?}",
                            setting.id
                        );
                    }
                    (Ok(r), Err(e)) => {
                        // Only a procedure can still be open; the level is
                        // that of the whole incident.
                        settled += 1;
                        assert!(
                            matches!(e.as_slice(), [carepath::eval::AnswerError::Missing { .. }]),
                            "{id}: {e:?} for {object:?}"
                        );
                        if object
                            .iter()
                            .all(|(k, v)| v.is_null() || full.get(k) == Some(v))
                        {
                            let whole = engine
                                .decide(&engine.answers(&full).expect("valid"), &setting.id)
                                .expect("a complete incident that has this level");
                            assert_eq!(r.level.id, whole.level.id, "{id}: {object:?}");
                        }
                    }
                    (Err(mine), Err(theirs)) => {
                        if let [carepath::eval::AnswerError::NoLevel { .. }] = theirs.as_slice() {
                            assert_eq!(mine, theirs, "{id}: {object:?}");
                        }
                    }
                    (Err(e), Ok(d)) => {
                        panic!("{id}: level_of refused {e:?} where decide gave {d:?}")
                    }
                }
            }
        }
        assert!(settled > 50, "{id}: only {settled} settled");
    }
}
