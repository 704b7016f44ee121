//! Deciding from rule packs: the five committed packs in `out/` and a
//! generated 10,000-rule pack over 40 questions.
//!
//! - `outcome`: the level of complete answers (`Engine::outcome`), over
//!   1,000 possible incidents drawn from each pack's answer classes;
//! - `decide`: the full decision for a setting (`Engine::decide`: checks
//!   that the answers settle the level, then the route, checklists and the
//!   explanation), over the same incidents;
//! - `answers_then_outcome`: from a parsed answers object to the level by
//!   the checked answers and every rule (`Engine::answers`, then
//!   `Engine::outcome`);
//! - `level_of`: from the same objects to the level and police response
//!   (`Engine::level_of`, which walks the compiled decision);
//! - `decide_from_json`, `decide_explained_from_json`: from the same objects
//!   to the full decision (`Engine::decide_given`), without and with the
//!   explanation; `answers_then_decide` the same by the checked answers
//!   (`Engine::answers`, then `Engine::decide`);
//! - `next_question_midway`: the next question of an interview half done
//!   (each incident's first half of answers, in asking order), from its
//!   answers object;
//! - `load`: reading a pack (`Engine::from_json` on its text);
//! - `outcome_10k`, `decide_10k`, `load_10k`: the same on the generated pack
//!   (`decide_10k` one decision per iteration, the incidents in turn);
//! - `next_question`: the first question of an incident with no answers yet
//!   (`Engine::next_question`), on an engine that has answered it before
//!   (its decision diagram built), and `first_question` on a fresh engine
//!   (the diagram built within the timing);
//! - `next_question_thresholds`, `first_question_thresholds`: the same on
//!   Dorset with 100 and 2,000 rules appended that compare its occasion
//!   counts with thresholds of their own (`synth::dorset_threshold_pack`),
//!   the shape that once made the first question take seconds.
//!
//! Packs and incidents are prepared once, outside the timing; the generated
//! pack is built as `carepath build` builds it (checked, then emitted). Run
//! with `cargo bench --bench decide`.

mod support;

use std::sync::LazyLock;

use carepath::emit::pack::{QuestionKind, RulePack};
use carepath::emit::{self, SourceText};
use carepath::eval::expr::Val;
use carepath::eval::{Answers, Engine};
use carepath::model::{ReadError, Workspace};
use divan::Bencher;
use divan::counter::ItemsCount;
use serde_json::{Map, Value, json};
use support::synth::{Rng, dorset_threshold_pack, ten_thousand_rules};

const PACKS: [&str; 5] = [
    "derbyshire",
    "dorset",
    "stockport",
    "west-sussex",
    "wiltshire",
];

const INCIDENTS: usize = 1_000;

struct Prepared {
    text: String,
    engine: Engine,
    setting: String,
    /// Complete answers, compiled: a value or "not asked" per question.
    complete: Vec<Vec<Option<Val>>>,
    /// The same incidents, checked from their answers objects.
    answers: Vec<Answers>,
    /// The same incidents as parsed answers objects (with the setting).
    objects: Vec<Map<String, Value>>,
    /// Each incident with only the first half (in asking order) of its
    /// answers: an interview under way.
    halves: Vec<Map<String, Value>>,
}

/// The generated pack, built as `carepath build` does: checked, then
/// emitted.
fn synthetic_pack() -> String {
    let text = ten_thousand_rules();
    let mut ws = Workspace::new();
    let mut none = |_: &std::path::Path| Err(ReadError::NotFound);
    let root = ws.add_source("synthetic.carepath", &text, &mut none);
    let checked = carepath::check(&ws, root);
    let model = checked
        .model
        .expect("the generated protocol checks cleanly");
    let files = [SourceText {
        path: "synthetic.carepath".into(),
        text: &text,
    }];
    let pack = emit::rule_pack(&model, &files, &checked.diagnostics);
    Engine::new(pack.clone()).expect("the generated pack loads");
    emit::pack_json(&pack)
}

/// An answer as the answers object has it.
fn answer_json(engine: &Engine, q: usize, v: Val) -> Value {
    let question = &engine.pack.questions[q];
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

fn prepare(name: &str) -> Prepared {
    let text = if name == "synthetic-10k" {
        synthetic_pack()
    } else {
        std::fs::read_to_string(format!("{}/out/{name}.json", env!("CARGO_MANIFEST_DIR")))
            .expect("a committed rule pack")
    };
    let engine = Engine::from_json(&text).expect("the pack loads");
    // Possible incidents, drawn from the answer classes: each question
    // asked takes one of its classes; one not asked has no answer.
    let mut rng = Rng::new(0x00de_c1de);
    let mut complete = Vec::with_capacity(INCIDENTS);
    let mut answers = Vec::with_capacity(INCIDENTS);
    let mut objects = Vec::with_capacity(INCIDENTS);
    let mut halves = Vec::with_capacity(INCIDENTS);
    let setting = engine.pack.settings[0].id.clone();
    while complete.len() < INCIDENTS {
        let mut vals: Vec<Option<Val>> = Vec::with_capacity(engine.cells().len());
        for (q, cells) in engine.cells().iter().enumerate() {
            // "Asked when" tests earlier questions only.
            let mut sofar = vals.clone();
            sofar.resize(engine.cells().len(), None);
            let asked = engine.asked_when(q).is_none_or(|c| c.eval(&sofar));
            let choices: Vec<Val> = cells.iter().flatten().copied().collect();
            if Some(q) == engine.setting_question() {
                // Every incident in the setting decided for.
                vals.push(Some(Val::Opt(0)));
                continue;
            }
            vals.push(asked.then(|| choices[rng.below(choices.len() as u64) as usize]));
        }
        let mut object = Map::new();
        for (q, v) in vals.iter().enumerate() {
            if let Some(v) = v {
                object.insert(
                    engine.pack.questions[q].id.clone(),
                    answer_json(&engine, q, *v),
                );
            }
        }
        let half: Map<String, Value> = object
            .iter()
            .take(object.len() / 2)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        halves.push(half);
        objects.push(object.clone());
        let checked = engine.answers(&object).expect("a possible incident");
        let flat: Vec<Option<Val>> = checked.values.iter().map(|v| v.flatten()).collect();
        assert_eq!(flat, vals, "{name}: the answers read back as drawn");
        complete.push(vals);
        answers.push(checked);
    }
    Prepared {
        text,
        engine,
        setting,
        complete,
        answers,
        objects,
        halves,
    }
}

static PREPARED: LazyLock<Vec<(&'static str, Prepared)>> =
    LazyLock::new(|| PACKS.iter().map(|p| (*p, prepare(p))).collect());

static SYNTHETIC: LazyLock<Prepared> = LazyLock::new(|| prepare("synthetic-10k"));

fn prepared(name: &str) -> &'static Prepared {
    &PREPARED
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a prepared pack")
        .1
}

fn main() {
    divan::main();
}

fn outcomes(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(ItemsCount::new(p.complete.len()))
        .bench_local(|| {
            for answers in &p.complete {
                divan::black_box(p.engine.outcome(divan::black_box(answers)));
            }
        });
}

fn decisions(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(ItemsCount::new(p.answers.len()))
        .bench_local(|| {
            for answers in &p.answers {
                let _ = divan::black_box(p.engine.decide(divan::black_box(answers), &p.setting));
            }
        });
}

/// The old public path from an answers object to the level: checked
/// (`Engine::answers`), then every rule evaluated (`Engine::outcome`).
fn checked_outcomes(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(ItemsCount::new(p.objects.len()))
        .bench_local(|| {
            for object in &p.objects {
                let checked = p.engine.answers(divan::black_box(object)).expect("valid");
                let flat: Vec<Option<Val>> = checked.values.iter().map(|v| v.flatten()).collect();
                divan::black_box(p.engine.outcome(&flat));
            }
        });
}

/// From an answers object to the level and police response
/// (`Engine::level_of`, checked).
fn levels_of(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(ItemsCount::new(p.objects.len()))
        .bench_local(|| {
            for object in &p.objects {
                let _ = divan::black_box(p.engine.level_of(divan::black_box(object), &p.setting));
            }
        });
}

/// From an answers object to the full decision (`Engine::decide_given`),
/// without or with the explanation.
fn decisions_of(bencher: Bencher, p: &Prepared, explain: bool) {
    bencher
        .counter(ItemsCount::new(p.objects.len()))
        .bench_local(|| {
            for object in &p.objects {
                let object = divan::black_box(object);
                if let Ok(mut d) = p.engine.decide_given(object, &p.setting) {
                    if explain {
                        let answers = p.engine.answers(object).expect("valid");
                        d.explanation = Some(p.engine.explanation(&answers, &p.setting));
                    }
                    divan::black_box(d);
                }
            }
        });
}

/// The old path from an answers object to the full decision: checked
/// (`Engine::answers`), then decided (`Engine::decide`).
fn checked_decisions(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(ItemsCount::new(p.objects.len()))
        .bench_local(|| {
            for object in &p.objects {
                let answers = p.engine.answers(divan::black_box(object)).expect("valid");
                let _ = divan::black_box(p.engine.decide(&answers, &p.setting));
            }
        });
}

/// The next question of an interview half done, from its answers object.
fn next_questions_of(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(ItemsCount::new(p.halves.len()))
        .bench_local(|| {
            for half in &p.halves {
                let answers = p.engine.answers(divan::black_box(half)).expect("valid");
                divan::black_box(p.engine.next_question(&answers).map(|q| q.id.len()));
            }
        });
}

#[divan::bench(args = PACKS)]
fn answers_then_outcome(bencher: Bencher, pack: &str) {
    checked_outcomes(bencher, prepared(pack));
}

#[divan::bench(args = PACKS)]
fn level_of(bencher: Bencher, pack: &str) {
    levels_of(bencher, prepared(pack));
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn answers_then_decide(bencher: Bencher, pack: &str) {
    checked_decisions(bencher, prepared(pack));
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn decide_from_json(bencher: Bencher, pack: &str) {
    decisions_of(bencher, prepared(pack), false);
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn decide_explained_from_json(bencher: Bencher, pack: &str) {
    decisions_of(bencher, prepared(pack), true);
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn next_question_midway(bencher: Bencher, pack: &str) {
    next_questions_of(bencher, prepared(pack));
}

fn loading(bencher: Bencher, p: &Prepared) {
    bencher
        .counter(divan::counter::BytesCount::new(p.text.len()))
        .bench_local(|| Engine::from_json(divan::black_box(&p.text)).expect("loads"));
}

#[divan::bench(args = PACKS)]
fn outcome(bencher: Bencher, pack: &str) {
    outcomes(bencher, prepared(pack));
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn decide(bencher: Bencher, pack: &str) {
    decisions(bencher, prepared(pack));
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn load(bencher: Bencher, pack: &str) {
    loading(bencher, prepared(pack));
}

#[divan::bench(sample_count = 10)]
fn outcome_10k(bencher: Bencher) {
    outcomes(bencher, &SYNTHETIC);
}

/// One decision per iteration, taking the incidents in turn: a full
/// decision on 10,000 rules takes tens of milliseconds.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn decide_10k(bencher: Bencher) {
    let p = &*SYNTHETIC;
    let mut i = 0;
    bencher.counter(ItemsCount::new(1u32)).bench_local(|| {
        i = (i + 1) % p.answers.len();
        p.engine.decide(divan::black_box(&p.answers[i]), &p.setting)
    });
}

#[divan::bench(sample_count = 10)]
fn load_10k(bencher: Bencher) {
    loading(bencher, &SYNTHETIC);
}

/// No answers yet.
fn nothing_answered(engine: &Engine) -> Answers {
    Answers {
        values: vec![None; engine.pack.questions.len()],
    }
}

fn next_questions(bencher: Bencher, engine: &Engine) {
    let empty = nothing_answered(engine);
    // The first call builds the decision diagram; time the calls after it.
    assert!(engine.next_question(&empty).is_some(), "a question to ask");
    bencher.bench_local(|| divan::black_box(engine.next_question(divan::black_box(&empty))));
}

/// The first question on a fresh engine each time: the decision diagram is
/// built within the timing, the engine outside it.
fn first_questions(bencher: Bencher, pack: &RulePack) {
    bencher
        .with_inputs(|| {
            let engine = Engine::new(pack.clone()).expect("loads");
            let empty = nothing_answered(&engine);
            (engine, empty)
        })
        .bench_local_refs(|(engine, empty)| {
            engine
                .next_question(divan::black_box(empty))
                .map(|q| q.id.len())
        });
}

#[divan::bench(args = PACKS)]
fn next_question(bencher: Bencher, pack: &str) {
    next_questions(bencher, &prepared(pack).engine);
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn first_question(bencher: Bencher, pack: &str) {
    first_questions(bencher, &prepared(pack).engine.pack);
}

const THRESHOLD_RULES: [usize; 2] = [100, 2_000];

/// Dorset with threshold rules appended, as packs and as engines.
static THRESHOLDS: LazyLock<Vec<(usize, RulePack, Engine)>> = LazyLock::new(|| {
    THRESHOLD_RULES
        .iter()
        .map(|n| {
            let pack = dorset_threshold_pack(*n);
            let engine = Engine::new(pack.clone()).expect("the pack loads");
            (*n, pack, engine)
        })
        .collect()
});

fn thresholds(n: usize) -> &'static (usize, RulePack, Engine) {
    THRESHOLDS
        .iter()
        .find(|(m, _, _)| *m == n)
        .expect("a prepared pack")
}

#[divan::bench(args = THRESHOLD_RULES)]
fn next_question_thresholds(bencher: Bencher, rules: usize) {
    next_questions(bencher, &thresholds(rules).2);
}

#[divan::bench(args = THRESHOLD_RULES, sample_count = 20)]
fn first_question_thresholds(bencher: Bencher, rules: usize) {
    first_questions(bencher, &thresholds(rules).1);
}
