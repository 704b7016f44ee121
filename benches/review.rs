//! Review: the comparison of two versions of a generated 10,000-rule
//! protocol that differ in 1% of their rules (`carepath diff`, from the two
//! rule packs), and the comparison of the five seed protocols on the
//! questions they share (`carepath compare`, from the committed packs in
//! `out/`). The packs are built once, outside the timing; the allocation
//! profiler reports the bytes each comparison allocates and holds at most
//! on the thread that runs it (the diff loads its two engines on threads
//! of their own, whose memory it does not see). Run with
//! `cargo bench --bench review`.

mod support;

use carepath::emit::pack::RulePack;
use carepath::emit::{self, SourceText};
use carepath::model::{ReadError, Workspace};
use support::synth::ten_thousand_rules;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// The rule pack of a protocol text without imports.
fn pack(text: &str) -> RulePack {
    let mut ws = Workspace::new();
    let mut none = |_: &std::path::Path| Err(ReadError::NotFound);
    let root = ws.add_source("synthetic.carepath", text, &mut none);
    let lowered = carepath::model::lower(&ws, root);
    let model = lowered.model.expect("generated protocols lower cleanly");
    let files = [SourceText {
        path: "synthetic.carepath".into(),
        text,
    }];
    emit::rule_pack(&model, &files, &lowered.diagnostics)
}

/// The generated protocol with every hundredth rule sent to the next level
/// up (the most serious to the least): 100 of its 10,000 rules changed.
fn revised(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rule = 0usize;
    for line in text.lines() {
        if line.starts_with("rule r") {
            rule += 1;
        }
        match line.strip_prefix("  then level-") {
            Some(level) if rule % 100 == 1 => {
                let level: usize = level.parse().expect("a level number");
                out.push_str(&format!("  then level-{}", (level + 1) % 4));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[divan::bench(sample_count = 10)]
fn diff_10k_rules_1_percent(bencher: divan::Bencher) {
    let text = ten_thousand_rules();
    let new_text = revised(&text);
    let (old, new) = (pack(&text), pack(&new_text));
    let changed = carepath::review::compare(&old, &new, "old", "new");
    assert_eq!(changed.structural.summary.changed, 100, "1% of the rules");
    // In this shape rules of more serious levels outrank each changed rule
    // wherever it applies, so no incident moves: the comparison proves
    // that exactly, over the incidents where the changed rules apply.
    let b = &changed.behaviour;
    assert!(
        b.not_compared.is_none() && b.summary.neutral,
        "{:?}",
        b.summary
    );
    bencher.bench_local(|| carepath::review::compare(&old, &new, "old", "new"));
}

#[divan::bench(sample_count = 10)]
fn compare_five_authorities(bencher: divan::Bencher) {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("out");
    let names = [
        "derbyshire",
        "dorset",
        "stockport",
        "west-sussex",
        "wiltshire",
    ];
    let packs: Vec<RulePack> = names
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(out.join(format!("{n}.json")))
                .expect("out/ holds the committed packs");
            serde_json::from_str(&text).expect("a committed pack reads")
        })
        .collect();
    let pairs: Vec<(&RulePack, &str)> = packs.iter().zip(names).collect();
    bencher.bench_local(|| carepath::review::authorities::compare(&pairs).expect("five packs"));
}
