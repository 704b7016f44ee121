//! Deciding a stream of incidents end to end (`carepath::eval::batch::run`):
//! JSON Lines text in memory in, one line out per incident into a buffer,
//! as `carepath decide PACK --answers incidents.jsonl` runs it without the
//! disk.
//!
//! - `full`: the whole decision a line, as `--format json` prints it;
//! - `brief`: the brief form (`--brief`): level, police response,
//!   procedures and deciding rules.
//!
//! Each runs over 10,000 possible incidents of each committed pack in
//! `out/`, drawn from the pack's answer classes as `benches/decide.rs`
//! draws them, each line giving its own setting; the text is made once,
//! outside the timing, and the count is in incidents. Run with
//! `cargo bench --bench batch`.

mod support;

use std::sync::LazyLock;

use carepath::emit::pack::QuestionKind;
use carepath::eval::Engine;
use carepath::eval::batch::{self, Form, Options};
use carepath::eval::expr::Val;
use divan::Bencher;
use divan::counter::ItemsCount;
use serde_json::{Map, Value, json};
use support::synth::Rng;

const PACKS: [&str; 5] = [
    "derbyshire",
    "dorset",
    "stockport",
    "west-sussex",
    "wiltshire",
];

const INCIDENTS: usize = 10_000;

struct Prepared {
    engine: Engine,
    /// `INCIDENTS` answers objects, one a line.
    lines: String,
}

/// An answer as the answers object has it.
fn answer_json(engine: &Engine, q: usize, v: Val) -> Value {
    let question = &engine.pack.questions[q];
    match v {
        Val::Bool(b) => json!(b),
        Val::Opt(o) => json!(question.options[o as usize].id),
        Val::Num(n) if question.kind == QuestionKind::Amount => json!(n as f64 / 100.0),
        Val::Num(n) => json!(n),
    }
}

fn prepare(name: &str) -> Prepared {
    let text = std::fs::read_to_string(format!("{}/out/{name}.json", env!("CARGO_MANIFEST_DIR")))
        .expect("a committed rule pack");
    let engine = Engine::from_json(&text).expect("the pack loads");
    // Each question asked (its "asked when" holds of the answers before
    // it) takes one of its classes; one not asked has no answer.
    let mut rng = Rng::new(0x00ba_7c4e);
    let cells = engine.cells();
    let mut lines = String::new();
    for _ in 0..INCIDENTS {
        let mut vals: Vec<Option<Val>> = vec![None; cells.len()];
        for (q, classes) in cells.iter().enumerate() {
            let asked = engine.asked_when(q).is_none_or(|c| c.eval(&vals));
            let choices: Vec<Val> = classes.iter().flatten().copied().collect();
            if asked && !choices.is_empty() {
                vals[q] = Some(choices[rng.below(choices.len() as u64) as usize]);
            }
        }
        let object: Map<String, Value> = vals
            .iter()
            .enumerate()
            .filter_map(|(q, v)| {
                let v = (*v)?;
                Some((
                    engine.pack.questions[q].id.clone(),
                    answer_json(&engine, q, v),
                ))
            })
            .collect();
        lines.push_str(&Value::Object(object).to_string());
        lines.push('\n');
    }
    Prepared { engine, lines }
}

static PREPARED: LazyLock<Vec<(&'static str, Prepared)>> =
    LazyLock::new(|| PACKS.iter().map(|p| (*p, prepare(p))).collect());

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

fn stream(bencher: Bencher, p: &Prepared, form: Form) {
    let options = Options {
        setting: None,
        form,
    };
    // One output buffer, emptied before each run, as a pipe's reader
    // would empty it.
    let mut out: Vec<u8> = Vec::new();
    bencher.counter(ItemsCount::new(INCIDENTS)).bench_local(|| {
        out.clear();
        let report = batch::run(&p.engine, p.lines.as_bytes(), &mut out, &options);
        divan::black_box(report.decided)
    });
}

#[divan::bench(args = PACKS, sample_count = 10)]
fn full(bencher: Bencher, pack: &str) {
    stream(bencher, prepared(pack), Form::Full { explain: false });
}

#[divan::bench(args = PACKS, sample_count = 20)]
fn brief(bencher: Bencher, pack: &str) {
    stream(bencher, prepared(pack), Form::Brief);
}
