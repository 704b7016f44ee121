//! Rendering the human report of a generated protocol with a diagnostic on
//! almost every line (`support/noisy.rs`): the text and the number of
//! diagnostics both grow with N, so the time per N must stay flat. The
//! protocol is checked once, outside the timing. Run with
//! `cargo bench --bench report`.

#[path = "support/noisy.rs"]
mod noisy;

use carepath::diagnostic::Diagnostic;
use carepath::diagnostic::render::{HumanStyle, render_human};
use carepath::model::{ReadError, Workspace};
use divan::counter::ItemsCount;
use noisy::many_diagnostics;

fn main() {
    divan::main();
}

fn checked(questions: usize) -> (Workspace, Vec<Diagnostic>) {
    let mut ws = Workspace::new();
    let mut none = |_: &std::path::Path| Err(ReadError::NotFound);
    let root = ws.add_source("noisy.carepath", &many_diagnostics(questions), &mut none);
    let mut diags = carepath::diagnostic::Diagnostics::new();
    diags.extend(ws.diagnostics());
    diags.extend(carepath::check(&ws, root).diagnostics);
    let diags = diags.sorted(&ws.sources);
    assert!(diags.len() + 1 >= questions, "a diagnostic per question");
    (ws, diags)
}

/// Every diagnostic rendered as `carepath check` prints it, with colour.
#[divan::bench(args = [1_000, 2_000, 4_000, 8_000, 16_000], sample_count = 10)]
fn human_report(bencher: divan::Bencher, questions: usize) {
    let (ws, diags) = checked(questions);
    let style = HumanStyle {
        color: true,
        width: 100,
    };
    bencher.counter(ItemsCount::new(diags.len())).bench(|| {
        diags
            .iter()
            .map(|d| render_human(d, &ws.sources, style).len())
            .sum::<usize>()
    });
}
