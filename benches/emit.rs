//! Emitting a generated 10,000-rule protocol over 40 questions: the rule
//! pack (built and serialised) and the flowchart (the decision chart from
//! the analysis, then DOT). The protocol is lowered once, outside the
//! timing. Run with `cargo bench --bench emit`.

mod support;

use carepath::analysis::Space;
use carepath::emit::{self, SourceText};
use carepath::model::{Model, ReadError, Workspace};
use support::synth::ten_thousand_rules;

fn source() -> String {
    ten_thousand_rules()
}

fn model(text: &str) -> Model {
    let mut ws = Workspace::new();
    let mut none = |_: &std::path::Path| Err(ReadError::NotFound);
    let root = ws.add_source("synthetic.carepath", text, &mut none);
    carepath::model::lower(&ws, root)
        .model
        .expect("generated protocols lower cleanly")
}

#[divan::bench(sample_count = 10)]
fn rule_pack_10k(bencher: divan::Bencher) {
    let text = source();
    let model = model(&text);
    let files = [SourceText {
        path: "synthetic.carepath".into(),
        text: &text,
    }];
    bencher.bench_local(|| emit::pack_json(&emit::rule_pack(&model, &files, &[])));
}

#[divan::bench(sample_count = 10)]
fn flowchart_dot_10k(bencher: divan::Bencher) {
    let text = source();
    let model = model(&text);
    bencher.bench_local(|| {
        let mut space = Space::for_drawing(&model);
        (
            emit::dot::to_dot(&emit::dot::picture(&model)),
            emit::dot::to_dot(&emit::dot::question_diagram(&mut space)),
        )
    });
}

fn main() {
    divan::main();
}
