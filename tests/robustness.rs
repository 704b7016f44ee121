//! The compiler never panics, whatever the input: random mutations of real
//! protocols (lines and tokens deleted, duplicated, swapped) and absurdly
//! deep nesting all end in diagnostics. A report of many diagnostics takes
//! time in proportion to its size.

use std::path::{Path, PathBuf};

use crate::support::{MemoryFs, check_memory};
use carepath::diagnostic::Code;
use carepath::diagnostic::render::{HumanStyle, render_human};
use proptest::prelude::*;

/// Every `.carepath` file of the repository's protocols and bad-input tests,
/// keyed by a path relative to its folder so that imports between them
/// resolve in memory.
fn corpus() -> MemoryFs {
    static CORPUS: std::sync::LazyLock<MemoryFs> = std::sync::LazyLock::new(load_corpus);
    CORPUS.clone()
}

fn load_corpus() -> MemoryFs {
    let mut fs = MemoryFs::default();
    for dir in ["protocols", "protocols/common", "tests/ui", "tests/ui/lib"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "carepath") {
                let text = std::fs::read_to_string(&p).expect("corpus files are UTF-8");
                fs.files.insert(p, text);
            }
        }
    }
    assert!(fs.files.len() >= 30, "the corpus has files");
    fs
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    DeleteToken(usize),
    DuplicateToken(usize),
    SwapTokens(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>();
    prop_oneof![
        i.prop_map(Mutation::DeleteLine),
        i.prop_map(Mutation::DuplicateLine),
        (i, i).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        i.prop_map(Mutation::DeleteToken),
        i.prop_map(Mutation::DuplicateToken),
        (i, i).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
    ]
}

/// Apply a mutation to lines or to whitespace-separated tokens.
fn apply(text: &str, m: &Mutation) -> String {
    fn edit(mut parts: Vec<String>, m: &Mutation) -> Vec<String> {
        if parts.is_empty() {
            return parts;
        }
        let n = parts.len();
        match *m {
            Mutation::DeleteLine(i) | Mutation::DeleteToken(i) => {
                parts.remove(i % n);
            }
            Mutation::DuplicateLine(i) | Mutation::DuplicateToken(i) => {
                let p = parts[i % n].clone();
                parts.insert(i % n, p);
            }
            Mutation::SwapLines(a, b) | Mutation::SwapTokens(a, b) => parts.swap(a % n, b % n),
        }
        parts
    }
    match m {
        Mutation::DeleteLine(_) | Mutation::DuplicateLine(_) | Mutation::SwapLines(..) => {
            let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
            edit(lines, m).concat()
        }
        _ => {
            let tokens: Vec<String> = text.split(' ').map(str::to_string).collect();
            edit(tokens, m).join(" ")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_protocols_never_panic(file in any::<usize>(), mutations in proptest::collection::vec(mutation(), 1..6)) {
        let fs = corpus();
        let paths: Vec<&PathBuf> = fs.files.keys().collect();
        let path = paths[file % paths.len()].clone();
        let mut text = fs.files[&path].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        let fs = fs.with(path.to_str().expect("utf-8 path"), &text);
        // Whatever happens, it happens as diagnostics.
        let _ = check_memory(&fs, path.to_str().expect("utf-8 path"));
    }
}

fn nested(condition: &str) -> Vec<Code> {
    let text = format!(
        "protocol deep {{ title \"Deep\" authority \"A\" source \"S\" policy most-serious }}\n\
         question risk \"Risk?\" {{ answer yes or no }}\n\
         level high \"High\" {{ police emergency }}\n\
         rule r {{ when {condition} then high }}\n"
    );
    let fs = MemoryFs::default().with("deep.carepath", &text);
    let (_, diags) = check_memory(&fs, "deep.carepath");
    diags.iter().map(|d| d.code).collect()
}

/// Run on a thread with a small stack, as test threads and embedding
/// applications may have: depth must be refused, not recursed into.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("thread starts")
        .join()
        .expect("no stack overflow or panic")
}

#[test]
fn ten_thousand_parentheses_are_an_error_not_a_crash() {
    let codes =
        on_small_stack(|| nested(&format!("{}risk{}", "(".repeat(10_000), ")".repeat(10_000))));
    assert_eq!(codes, vec![Code::NestingTooDeep]);
}

#[test]
fn ten_thousand_nots_are_an_error_not_a_crash() {
    let codes = on_small_stack(|| nested(&format!("{}risk", "not ".repeat(10_000))));
    assert_eq!(codes, vec![Code::NestingTooDeep]);
}

#[test]
fn ten_thousand_unclosed_parentheses_are_an_error_not_a_crash() {
    let codes = on_small_stack(|| nested(&"(".repeat(10_000)));
    assert_eq!(codes, vec![Code::NestingTooDeep]);
}

#[test]
fn nesting_within_the_limit_is_fine() {
    let depth = carepath::syntax::MAX_NESTING / 2;
    let codes =
        on_small_stack(move || nested(&format!("{}risk{}", "(".repeat(depth), ")".repeat(depth))));
    assert!(!codes.contains(&Code::NestingTooDeep), "{codes:?}");
    assert!(!codes.contains(&Code::SyntaxError), "{codes:?}");
}

#[test]
fn long_flat_conditions_do_not_recurse_deeply() {
    // 5,000 questions joined by `or`: wide, not deep.
    let qs: Vec<String> = (0..5000)
        .map(|i| format!("question q{i} \"Q{i}?\" {{ answer yes or no }}\n"))
        .collect();
    let cond: Vec<String> = (0..5000).map(|i| format!("q{i}")).collect();
    let text = format!(
        "protocol wide {{ title \"Wide\" authority \"A\" source \"S\" policy most-serious }}\n{}\
         level high \"High\" {{ police emergency }}\nrule r {{ when {} then high }}\n",
        qs.concat(),
        cond.join(" or ")
    );
    let codes = on_small_stack(move || {
        let fs = MemoryFs::default().with("wide.carepath", &text);
        let (_, diags) = check_memory(&fs, "wide.carepath");
        diags.iter().map(|d| d.code).collect::<Vec<_>>()
    });
    assert!(
        !codes
            .iter()
            .any(|c| *c == Code::SyntaxError || *c == Code::NestingTooDeep),
        "{codes:?}"
    );
}

#[test]
fn the_corpus_paths_are_relative() {
    for p in corpus().files.keys() {
        assert!(Path::new(p).is_relative());
    }
}

#[path = "../benches/support/noisy.rs"]
mod noisy;

/// A generated protocol with a diagnostic for each of `questions` questions,
/// checked.
struct Noisy {
    ws: carepath::model::Workspace,
    diags: Vec<carepath::diagnostic::Diagnostic>,
}

impl Noisy {
    fn new(questions: usize) -> Noisy {
        let text = noisy::many_diagnostics(questions);
        let fs = MemoryFs::default().with("noisy.carepath", &text);
        let (ws, diags) = check_memory(&fs, "noisy.carepath");
        assert!(diags.len() >= questions - 1, "{} diagnostics", diags.len());
        assert!(diags.iter().all(|d| !d.is_error()), "only warnings");
        Noisy { ws, diags }
    }
}

/// Each of the 10,000 warnings of a 700 KB protocol is reported with the
/// line it is about. What the report costs is measured by `cargo bench
/// --bench report` (the time per warning stays flat as the file grows: when
/// miette read the file from its start for each one, 10,000 took 40
/// seconds), not asserted here, where a busy machine would decide it.
#[test]
fn every_warning_of_a_large_protocol_is_shown_with_its_line() {
    let large = Noisy::new(10_000);
    let style = HumanStyle {
        color: false,
        width: 100,
    };
    let source = large.ws.sources.get(large.diags[0].span.file).text.clone();
    for d in &large.diags {
        let report = render_human(d, &large.ws.sources, style);
        let line = source[..d.span.start as usize].matches('\n').count() + 1;
        let shown = format!("noisy.carepath:{line}:");
        assert!(
            report.contains(&shown) && report.contains(&format!("{line} │")),
            "the report of {:?} shows no line {line}:\n{report}",
            d.code
        );
    }
}
