//! The analysis on generated protocols of 1,000, 10,000 and 100,000 rules
//! over 40 questions, each rule testing 1 to 4 questions; the protocols are
//! lowered once, outside the timing. Run with `cargo bench --bench analysis`;
//! after the timings, the peak memory of analysing each size once is printed.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use carepath::model::{Model, ReadError, Workspace};
use support::synth::{Shape, protocol};

/// Counts live and peak heap bytes.
struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Peak = Peak;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn model(rules: usize, policy: &'static str) -> Model {
    let text = protocol(&Shape {
        questions: 40,
        rules,
        levels: 4,
        min_tests: 1,
        max_tests: 4,
        narrow: false,
        policy,
        otherwise: false,
        seed: 11,
    });
    let mut ws = Workspace::new();
    let mut none = |_: &std::path::Path| Err(ReadError::NotFound);
    let root = ws.add_source("synthetic.carepath", &text, &mut none);
    carepath::model::lower(&ws, root)
        .model
        .expect("generated protocols lower cleanly")
}

fn main() {
    divan::main();
    eprintln!("\npeak heap while analysing once (the model is built before counting starts):");
    for policy in ["most-serious", "first-match"] {
        for rules in SIZES {
            let m = model(rules, policy);
            PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
            let before = LIVE.load(Ordering::Relaxed);
            let findings = carepath::analysis::analyse(&m).diagnostics.len();
            let peak = PEAK.load(Ordering::Relaxed) - before;
            eprintln!(
                "  {policy:>12} {rules:>7} rules: {:>7.1} MiB, {findings} findings",
                peak as f64 / (1 << 20) as f64
            );
        }
    }
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn most_serious(bencher: divan::Bencher, rules: usize) {
    let m = model(rules, "most-serious");
    bencher.bench(|| {
        carepath::analysis::analyse(divan::black_box(&m))
            .diagnostics
            .len()
    });
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn first_match(bencher: divan::Bencher, rules: usize) {
    let m = model(rules, "first-match");
    bencher.bench(|| {
        carepath::analysis::analyse(divan::black_box(&m))
            .diagnostics
            .len()
    });
}
