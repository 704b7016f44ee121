//! `carepath fmt` and `syntax::format`: the layout of a messy protocol
//! (a reviewed snapshot), and for every file of the corpus, for the corpus
//! with its blank space scrambled and comments put in at random, and for
//! generated protocols: the syntax tree, the model and the rule pack are
//! the same after formatting, every comment survives in order, and
//! formatting again changes nothing. Then the command: `--check`, rewriting
//! in place (and leaving formatted files untouched), standard input,
//! syntax errors and unreadable files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use carepath::model::summary::dump;
use carepath::source::FileId;
use carepath::syntax::format;
use proptest::prelude::*;

use crate::support::{MemoryFs, compile_in_memory, run_carepath, scratch, text};
use crate::synth;

const MESSY: &str = "\u{FEFF}// A deliberately messy protocol.
import staff,foster-carer from \"common/actors.carepath\"   // who acts
import   police-999 from \"common/contacts.carepath\"
protocol messy{title \"Messy\" cite \"1.1\",\"1.2\"
policy   most-serious
  otherwise low     // when nothing matches
ask    first harm, damage
  levels low,high
}
// Questions


// two blank lines above collapse to one
question harm \"Is anyone at risk of harm?\" { answer yes or no }
question damage \"How much damage?\"{
    answer one of { none \"None\", minor \"Minor\" , // small
       major \"Major\"
    }
  asked when not harm
}
question stolen \"What was stolen worth?\" { answer amount \"pounds\"
  asked   when   damage   !=   none }
level low \"Low\" { police none
example \"Nothing\" {given not harm and damage == none}
}
level high \"High\" {
  police report
  }
rule r1 \"Harm or major damage\" {
  when harm or (damage == major and not harm) or damage in {minor,major} and harm and not harm or harm and damage != none and damage != minor
  then high
  // why this strength
  strength must
cite \"2\"


}
rule r2 { when not harm and // the usual case
  damage==none then low }
accept never-decides r2 because \"It only restates the default.\" cite \"3\"
route main \"Main\" { start high -> call
  step call \"Call\" { by staff contact police-999 when harm timing within 1 hours then done }
  outcome done \"Done\"
  // end of route
}
// last words
";

fn formatted(text: &str) -> String {
    match format(text) {
        Ok(f) => f,
        Err(diags) => panic!(
            "formats: {:?}\n{text}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    }
}

#[test]
fn a_messy_protocol_is_laid_out_canonically() {
    let out = formatted(MESSY);
    insta::assert_snapshot!(out);
    assert_eq!(formatted(&out), out, "formatting is idempotent");
    same_meaning(MESSY, &out);
}

/// The syntax tree as `Debug` prints it, without its spans: what the file
/// says, wherever it says it.
fn tree_without_spans(text: &str) -> String {
    let tree = carepath::syntax::parse(FileId(0), text).expect("parses");
    let debug = format!("{tree:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span {") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after.find('}').expect("a span's debug form closes");
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every comment of a file, in order, read independently of the formatter:
/// outside quoted text, `//` to the end of the line.
fn comments(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek().is_some_and(|&(_, c)| c == '/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                found.push(text[i..end].trim_end().to_string());
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    found
}

/// What formatting must keep: the syntax tree (spans aside) and every
/// comment in order; and a second formatting changes nothing.
fn same_meaning(before: &str, after: &str) {
    assert_eq!(
        tree_without_spans(before),
        tree_without_spans(after),
        "the syntax tree is the same\n{after}"
    );
    assert_eq!(
        comments(before),
        comments(after),
        "every comment survives in order"
    );
    assert_eq!(&formatted(after), after, "formatting is idempotent");
}

/// Every `.carepath` file of the corpus that parses, with its text.
fn corpus() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for dir in ["protocols", "protocols/common", "tests/ui", "tests/ui/lib"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "carepath") {
                let text = std::fs::read_to_string(&p).expect("corpus files are UTF-8");
                if carepath::syntax::parse(FileId(0), &text).is_ok() {
                    files.push((p, text));
                }
            }
        }
    }
    files.sort();
    assert!(files.len() >= 60, "the corpus has files: {}", files.len());
    files
}

#[test]
fn every_corpus_file_keeps_its_tree_and_comments() {
    for (path, text) in corpus() {
        let out = format(&text).unwrap_or_else(|_| panic!("{} formats", path.display()));
        same_meaning(&text, &out);
        assert!(
            out.ends_with('\n') && !out.ends_with("\n\n"),
            "{}",
            path.display()
        );
        assert!(
            !out.lines()
                .any(|l| l.ends_with(' ') || (l.contains('\t') && !l.contains('"'))),
            "{}: no trailing blanks or tabs",
            path.display()
        );
    }
}

/// A protocol compiled from `files` (its imports among them): its model
/// printed, and its rule pack as [`comparable`] gives it.
fn compiled(files: &MemoryFs, root: &str) -> (String, serde_json::Value) {
    let (ws, diags) = crate::support::check_memory(files, root);
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| &d.message)
        .collect();
    assert!(errors.is_empty(), "{root}: {errors:?}");
    let id = ws.sources.find(Path::new(root)).expect("loaded");
    let checked = carepath::check(&ws, id);
    let model = checked.model.expect("a model");
    let texts: Vec<_> = ws
        .sources
        .iter()
        .map(|(_, f)| carepath::emit::SourceText {
            path: f.path.to_string_lossy().into_owned(),
            text: &f.text,
        })
        .collect();
    let pack = carepath::emit::rule_pack(&model, &texts, &checked.diagnostics);
    let json = serde_json::to_value(&pack).expect("the pack serialises");
    (dump(&model), comparable(json))
}

/// A rule pack with what depends on the text rather than on what it says
/// taken out: the source digests (and so the pack's own), and the blank
/// space inside each condition as written (`when_text`, `given_text`, ...:
/// `in {a, b}` is written `in { a, b }` once formatted). Every condition's
/// JsonLogic, and everything else, must be the same.
fn comparable(mut pack: serde_json::Value) -> serde_json::Value {
    fn squeeze(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o.iter_mut() {
                    match v {
                        serde_json::Value::String(s) if k.ends_with("_text") => {
                            s.retain(|c| !c.is_whitespace());
                        }
                        _ => squeeze(v),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(squeeze),
            _ => {}
        }
    }
    if let Some(o) = pack.as_object_mut() {
        o.remove("source");
        o.remove("integrity");
    }
    squeeze(&mut pack);
    pack
}

#[test]
fn the_protocols_compile_to_the_same_model_and_pack_when_formatted() {
    let mut before = MemoryFs::default();
    let mut after = MemoryFs::default();
    for (path, text) in corpus() {
        if path.starts_with("protocols") {
            let rel = path.strip_prefix("protocols").expect("under protocols");
            let rel = rel.to_string_lossy().into_owned();
            after = after.with(&rel, &formatted(&text));
            before = before.with(&rel, &text);
        }
    }
    for id in crate::support::PROTOCOLS {
        let root = format!("{id}.carepath");
        let (model_before, pack_before) = compiled(&before, &root);
        let (model_after, pack_after) = compiled(&after, &root);
        assert_eq!(model_before, model_after, "{id}: the model is the same");
        assert_eq!(
            first_difference(&pack_before, &pack_after, id),
            None,
            "the rule pack is the same"
        );
    }
}

/// Where two JSON values first differ, as a path with both sides.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let Some(w) = y.get(k) else {
                    return Some(format!("{at}.{k}: only before"));
                };
                if let Some(d) = first_difference(v, w, &format!("{at}.{k}")) {
                    return Some(d);
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{at}.{k}: only after"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: {a} before, {b} after")),
    }
}

/// Blank space as the formatter would never write it, with comments.
fn scrambled_space(seed: u8, n: usize) -> String {
    match seed % 8 {
        0 => " ".repeat(1 + n % 4),
        1 => "\n".into(),
        2 => "\n\n\n".into(),
        3 => " \t ".into(),
        4 => format!(" // note {n}\n"),
        5 => format!("\n  // note {n}\n\n"),
        6 => format!("\r\n// note {n} //\t\n   "),
        _ => "\n      ".into(),
    }
}

/// `text` with every run of blank space replaced by another (a comment put
/// in one in three), quoted text and comments left alone.
fn respace(text: &str, seeds: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut chars = text.chars().peekable();
    let mut run = 0;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                out.push(c);
                while let Some(&c) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    out.push(c);
                    chars.next();
                }
            }
            c if c.is_whitespace() || c == '\u{FEFF}' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let seed = seeds[run % seeds.len()];
                let space = scrambled_space(seed, run);
                // A comment ends at the end of its line.
                let after_comment = out.rsplit('\n').next().is_some_and(|l| l.contains("//"));
                if after_comment && !space.contains('\n') {
                    out.push('\n');
                }
                out.push_str(&space);
                run += 1;
            }
            c => out.push(c),
        }
    }
    out
}

proptest! {
    // A fixed seed, so that CI tries the same cases on every run; with
    // `RngSeed::Random` here the test searches for new cases (one such
    // search found the comment before a condition that
    // `a_comment_before_a_condition_does_not_break_it` keeps fixed).
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x00ca_7e9a),
        ..ProptestConfig::default()
    })]

    /// Scrambled blank space and comments anywhere blank space may be
    /// (inside `ask first`, between a question and `==`, before a comma):
    /// the formatter gives back the same tree, every comment, and a layout
    /// it keeps.
    #[test]
    fn scrambled_files_format_to_the_same_tree(
        file in any::<prop::sample::Index>(),
        seeds in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let files = corpus();
        let (_, text) = &files[file.index(files.len())];
        let scrambled = respace(text, &seeds);
        let out = formatted(&scrambled);
        prop_assert_eq!(tree_without_spans(text), tree_without_spans(&out));
        prop_assert_eq!(comments(&scrambled), comments(&out));
        prop_assert_eq!(formatted(&out), out);
    }

    /// Generated protocols of random shapes, scrambled: the model and the
    /// rule pack are those of the text as generated.
    #[test]
    fn generated_protocols_compile_the_same_when_formatted(
        seed in any::<u64>(),
        questions in 2usize..12,
        rules in 1usize..30,
        seeds in proptest::collection::vec(any::<u8>(), 1..20),
    ) {
        let shape = synth::Shape {
            questions,
            rules,
            levels: 3,
            min_tests: 1,
            max_tests: 4,
            narrow: seed % 2 == 0,
            policy: "most-serious",
            otherwise: true,
            seed,
        };
        let more = synth::Decisions {
            setting_tests: 3,
            may: 5,
            rule_police: 4,
            setting_police: true,
            procedures: 2,
        };
        let text = synth::protocol_with(&shape, &more);
        let out = formatted(&respace(&text, &seeds));
        let (model_before, pack_before) = compile_in_memory("p.carepath", &text, "generated");
        let (model_after, pack_after) = compile_in_memory("p.carepath", &out, "formatted");
        prop_assert_eq!(dump(&model_before), dump(&model_after));
        let strip = |p: carepath::emit::pack::RulePack| {
            comparable(serde_json::to_value(&p).expect("serialises"))
        };
        prop_assert_eq!(first_difference(&strip(pack_before), &strip(pack_after), "pack"), None);
        prop_assert_eq!(formatted(&out), out);
    }
}

#[test]
fn a_file_with_syntax_errors_is_not_formatted() {
    let text = "question q \"Q\" { answer yes or no }\nrule r { when q then }\nlevel l { }\n";
    let errors = format(text).expect_err("syntax errors");
    let parsed = carepath::syntax::parse(FileId(0), text).expect_err("syntax errors");
    assert_eq!(errors.len(), 2, "every syntax error is reported");
    assert_eq!(
        errors.iter().map(|d| &d.message).collect::<Vec<_>>(),
        parsed.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

#[test]
fn a_long_condition_breaks_before_or_then_and() {
    let text = "rule r \"R\" {\n  when alpha-question and beta-question and gamma-question or delta-question and epsilon-question and not zeta-question\n  then high\n}\n";
    let out = formatted(text);
    assert_eq!(
        out,
        "rule r \"R\" {\n  when alpha-question and beta-question and gamma-question\n    or delta-question and epsilon-question and not zeta-question\n  then high\n}\n"
    );
    let short = "rule r \"R\" {\n  when a and b or c\n  then high\n}\n";
    assert_eq!(
        formatted(short),
        short,
        "a condition that fits stays on its line"
    );
}

/// A comment between a keyword and its condition goes on a line of its
/// own, and the condition after it is laid out as if the comment were not
/// there: formatting the result again changes nothing.
#[test]
fn a_comment_before_a_condition_does_not_break_it() {
    let text =
        "rule r \"R\" {\n  when // why\n  // and why not\n  a or (b and c)\n  then high\n}\n";
    let out = formatted(text);
    assert_eq!(
        out,
        "rule r \"R\" {\n  when // why\n  // and why not\n  a or (b and c)\n  then high\n}\n"
    );
    assert_eq!(formatted(&out), out);
    let keyword =
        "rule r \"R\" {\n  when // why\n  a or (b and c) // and why not\n  then high\n}\n";
    assert_eq!(formatted(keyword), keyword);
}

// ---------------------------------------------------------------- the command

fn carepath(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carepath"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("carepath runs")
}

const UGLY: &str = "question q \"Q?\"{answer yes or no}\nlevel low \"Low\" { police none }\nlevel high \"High\" { police report }\nrule r \"R\" { when q   then high } // the one rule\n";

#[test]
fn check_lists_files_that_would_change_and_writes_nothing() {
    let dir = scratch("fmt-check");
    let ugly = dir.join("ugly.carepath");
    let tidy = dir.join("tidy.carepath");
    std::fs::write(&ugly, UGLY).unwrap();
    std::fs::write(&tidy, formatted(UGLY)).unwrap();

    let out = carepath(&["fmt", "--check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("would reformat") && stdout.contains("ugly.carepath"),
        "{stdout}"
    );
    assert!(!stdout.contains("tidy.carepath"), "{stdout}");
    assert!(
        stdout.contains("line 1:") && stdout.contains("- question q \"Q?\"{answer yes or no}"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&ugly).unwrap(),
        UGLY,
        "nothing written"
    );

    let out = carepath(&["fmt", "--check", tidy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn fmt_rewrites_changed_files_in_place_and_leaves_the_rest_untouched() {
    let dir = scratch("fmt-write");
    let ugly = dir.join("ugly.carepath");
    let tidy = dir.join("tidy.carepath");
    std::fs::write(&ugly, UGLY).unwrap();
    std::fs::write(&tidy, formatted(UGLY)).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    for f in [&ugly, &tidy] {
        std::fs::File::options()
            .write(true)
            .open(f)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    let out = carepath(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("formatted") && stdout.contains("ugly.carepath"),
        "{stdout}"
    );
    assert!(!stdout.contains("tidy.carepath"), "{stdout}");
    assert!(
        text(&out.stderr).contains("formatted 1 of 2 files"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&ugly).unwrap(), formatted(UGLY));
    assert_ne!(std::fs::metadata(&ugly).unwrap().modified().unwrap(), old);
    assert_eq!(
        std::fs::metadata(&tidy).unwrap().modified().unwrap(),
        old,
        "untouched"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temporary left behind");

    let again = carepath(&["fmt", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout), "", "nothing left to change");
}

#[test]
fn stdin_is_formatted_to_stdout() {
    for args in [&["fmt", "-"][..], &["fmt", "--stdin"][..]] {
        let out = run_carepath(
            args,
            UGLY,
            std::process::Stdio::piped(),
            std::process::Stdio::piped(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), formatted(UGLY));
    }
    let check = run_carepath(
        &["fmt", "--stdin", "--check"],
        UGLY,
        std::process::Stdio::piped(),
        std::process::Stdio::piped(),
    );
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        text(&check.stdout),
        "",
        "--check prints no text to standard output"
    );
    let tidy = formatted(UGLY);
    let check = run_carepath(
        &["fmt", "--stdin", "--check"],
        &tidy,
        std::process::Stdio::piped(),
        std::process::Stdio::piped(),
    );
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn syntax_errors_are_reported_as_check_reports_them_and_the_file_is_kept() {
    let dir = scratch("fmt-syntax");
    let bad = dir.join("bad.carepath");
    let broken = "rule r { when then high }\n";
    std::fs::write(&bad, broken).unwrap();
    let out = carepath(&["fmt", bad.to_str().unwrap()]);
    let checked = carepath(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stderr);
    let first = |s: &str| s.lines().take(8).collect::<Vec<_>>().join("\n");
    assert_eq!(
        first(&report),
        first(&text(&checked.stderr)),
        "the report of `check`"
    );
    assert!(
        report.contains("not formatted for syntax errors"),
        "{report}"
    );
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), broken);

    let stdin = run_carepath(
        &["fmt", "-", "--error-format", "json"],
        broken,
        std::process::Stdio::piped(),
        std::process::Stdio::piped(),
    );
    assert_eq!(stdin.status.code(), Some(1));
    assert!(
        text(&stdin.stdout).contains("\"code\""),
        "errors as JSON, no text"
    );
}

#[test]
fn unreadable_files_and_misuse_exit_2() {
    let dir = scratch("fmt-misuse");
    let missing = dir.join("missing.carepath");
    let out = carepath(&["fmt", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no such file"),
        "{}",
        text(&out.stderr)
    );

    let out = carepath(&["fmt"]);
    assert_eq!(out.status.code(), Some(2), "no files named");

    let file = dir.join("a.carepath");
    std::fs::write(&file, UGLY).unwrap();
    let out = carepath(&["fmt", "-", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "standard input with files");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), UGLY);

    let out = carepath(&["fmt", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("--check"));
}
