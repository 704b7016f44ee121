//! Parse and lower a generated protocol of about 1 MB (thousands of
//! questions and rules). Divan reports the throughput in bytes per second.

mod support;

use carepath::model::{ReadError, Workspace};
use divan::counter::BytesCount;
use support::synth::{Shape, protocol};

fn main() {
    divan::main();
}

fn megabyte() -> String {
    protocol(&Shape {
        questions: 2_000,
        rules: 5_000,
        levels: 4,
        min_tests: 1,
        max_tests: 4,
        narrow: false,
        policy: "most-serious",
        otherwise: true,
        seed: 7,
    })
}

fn no_files(_: &std::path::Path) -> Result<String, ReadError> {
    Err(ReadError::NotFound)
}

#[divan::bench(sample_count = 20)]
fn parse_only(bencher: divan::Bencher) {
    let text = megabyte();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        carepath::syntax::parse(carepath::source::FileId(0), divan::black_box(&text)).is_ok()
    });
}

#[divan::bench(sample_count = 20)]
fn parse_and_lower(bencher: divan::Bencher) {
    let text = megabyte();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let mut ws = Workspace::new();
        let root = ws.add_source("synthetic.carepath", divan::black_box(&text), &mut no_files);
        let lowered = carepath::model::lower(&ws, root);
        assert!(lowered.model.is_some());
    });
}
