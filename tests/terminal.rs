//! Hostile text (control and escape characters, bidirectional overrides) is
//! shown as text in every human report, never passed to the terminal.
//!
//! A protocol carries escape sequences, C0 and C1 controls and
//! bidirectional formatting characters in every place a person writes text:
//! the protocol's title, question texts, option titles, comments and other
//! quoted text, and as stray characters where the grammar expects a word.
//! `carepath check` must print each of them as a visible escape (`\u{1b}`),
//! with colour and without, and leave harmless text (accents, emoji,
//! right-to-left letters) as it is.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use carepath::diagnostic::render::{HumanStyle, render_human};
use carepath::diagnostic::{Code, Diagnostic};
use carepath::source::{Sources, Span};

use crate::support::{scratch, text};

/// Each hostile piece of text and how a report must show it.
const HOSTILE: &[(&str, &str)] = &[
    // OSC: set the window title, ended by BEL.
    ("\u{1b}]0;pwned\u{7}", "\\u{1b}]0;pwned\\u{7}"),
    // CSI: clear the screen; then a colour of the protocol's own.
    ("\u{1b}[2J", "\\u{1b}[2J"),
    ("\u{1b}[31mred", "\\u{1b}[31mred"),
    ("bell\u{7}", "bell\\u{7}"),
    ("nul\u{0}", "nul\\u{0}"),
    ("del\u{7f}", "del\\u{7f}"),
    // C1 CSI: an escape sequence in one character for some terminals.
    ("\u{9b}31mcsi", "\\u{9b}31mcsi"),
    // Right-to-left override and its end; left-to-right isolate and its end.
    ("\u{202e}rlo\u{202c}", "\\u{202e}rlo\\u{202c}"),
    ("\u{2066}lri\u{2069}", "\\u{2066}lri\\u{2069}"),
    ("mark\u{200f}\u{61c}", "mark\\u{200f}\\u{61c}"),
];

/// Text that must reach the terminal unchanged.
const HARMLESS: &[&str] = &["café", "naïve", "🚓", "👩🏽‍⚖️", "مرحبا", "שלום"];

/// Everything hostile and harmless, in one piece of quoted text. Carriage
/// returns are written into the protocol on their own (in a comment and in
/// one quoted text), as the language reads one inside quotes as a space.
fn hostile() -> String {
    let mut s: Vec<&str> = HOSTILE.iter().map(|(raw, _)| *raw).collect();
    s.extend(HARMLESS);
    s.join(" ")
}

/// The escaped form of [`hostile`].
fn escaped() -> String {
    let mut s: Vec<&str> = HOSTILE.iter().map(|(_, shown)| *shown).collect();
    s.extend(HARMLESS);
    s.join(" ")
}

/// A protocol with hostile text in every place a person writes text, laid
/// out so that its warnings and errors show each of those lines: two unused
/// questions (the title, question, option and comment lines around them),
/// and an example the rules put at another level (quoted in the message and
/// the help; the level, example, rule and cite lines).
fn protocol() -> String {
    let h = hostile();
    format!(
        "protocol hostile {{ title \"Title {h}\" authority \"A\" source \"S\" policy most-serious otherwise low }}\n\
         question spare \"Question {h}\" {{ answer one of {{ a \"Option {h}\" b \"Plain\" }} }}\n\
         // Comment {h} back\r over \u{1b}]8;;http://example.invalid\u{1b}\\link\u{1b}]8;;\u{1b}\\\n\
         question also-spare \"Plain\" {{ answer yes or no }}\n\
         setting home \"Setting {h}\" {{ no route \"Reason\r{h}\" }}\n\
         question risk \"Risk?\" {{ answer yes or no }}\n\
         level low \"Level {h}\" {{ police none example \"Example {h}\" {{ given risk }} }}\n\
         level high \"High\" {{ police emergency }}\n\
         rule r \"Rule {h}\" {{ when risk then high cite \"Cite {h}\" }}\n"
    )
}

/// One file per hostile character where the grammar expects a word, so
/// that the syntax error quotes it.
fn strays() -> Vec<(String, String)> {
    ["\u{1b}", "\u{7}", "\u{0}", "\u{7f}", "\u{9b}", "\u{202e}", "\u{2066}"]
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                format!("stray-{i}.carepath"),
                format!(
                    "protocol stray {{ title \"T\" authority \"A\" source \"S\" policy most-serious otherwise low }}\n\
                     level low \"Low\" {{ police none {c}[31m }}\n"
                ),
            )
        })
        .collect()
}

/// Characters a terminal acts on, as the task of this file defines them
/// (deliberately not the library's own list): C0 controls other than the
/// line feed, DEL, C1 controls, bidirectional marks, embeddings, overrides
/// and isolates.
fn acts_on_terminal(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{9}'
            | '\u{b}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `s` without its colour codes (`ESC [ digits and semicolons m`); any other
/// escape is left in place for [`assert_inert`] to find.
fn strip_colour(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\u{1b}') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let params = after.strip_prefix('[').map(|p| {
            p.len()
                - p.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';')
                    .len()
        });
        match params {
            Some(n) if after[1 + n..].starts_with('m') => rest = &after[n + 2..],
            _ => {
                out.push('\u{1b}');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// No character of `s` is one a terminal acts on, line feeds aside.
fn assert_inert(s: &str, what: &str) {
    for (line_no, line) in s.split('\n').enumerate() {
        if let Some(c) = line.chars().find(|&c| acts_on_terminal(c)) {
            panic!("{what}, line {}: raw {:?} in {line:?}", line_no + 1, c);
        }
    }
}

fn carepath(dir: &Path, args: &[&str], colour: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carepath"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS");
    if colour {
        cmd.env("CLICOLOR_FORCE", "1");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    cmd.output().expect("carepath runs")
}

/// Write the hostile protocols to a folder of their own and check them
/// there, with colour or without; standard error as printed.
fn check_hostile(dir: &str, colour: bool) -> String {
    let dir = scratch(dir);
    let mut files = vec![("hostile.carepath".to_string(), protocol())];
    files.extend(strays());
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).expect("write protocol");
    }
    let mut args = vec!["check"];
    args.extend(files.iter().map(|(name, _)| name.as_str()));
    let out = carepath(&dir, &args, colour);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_inert(&strip_colour(&text(&out.stdout)), "standard output");
    text(&out.stderr)
}

/// What a report of the hostile protocols must show, whatever the colour.
fn assert_shown_escaped(report: &str) {
    assert_inert(report, "the report");
    let shown = escaped();
    // Every place a person writes text, on the source lines of snippets.
    for place in [
        "title \"Title ",
        "question spare \"Question ",
        "a \"Option ",
        "level low \"Level ",
        "example \"Example ",
        "rule r \"Rule ",
        "cite \"Cite ",
        "setting home \"Setting ",
    ] {
        let quoted = format!("{place}{shown}\"");
        assert!(
            report.lines().any(|l| l.contains(&quoted)),
            "no line shows {quoted:?}:\n{report}"
        );
    }
    // A carriage return inside quotes and in a comment, and an OSC 8 link.
    assert!(
        report.contains("no route \"Reason\\u{d}\\u{1b}]0;pwned"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "// Comment {shown} back\\u{{d}} over \\u{{1b}}]8;;http://example.invalid\\u{{1b}}\\link\\u{{1b}}]8;;\\u{{1b}}\\\n"
        )),
        "{report}"
    );
    // Text quoted in a message and in help.
    assert!(
        report.contains("× example \"Example \\u{1b}]0;pwned\\u{7} \\u{1b}[2J"),
        "{report}"
    );
    assert!(
        report.contains("write `accept misclassified-example \"Example \\u{1b}]0;pwned\\u{7}"),
        "{report}"
    );
    // A stray character, in the message, under the snippet, and underlined
    // where it is.
    for c in ["1b", "7", "0", "7f", "9b", "202e", "2066"] {
        let e = format!("\\u{{{c}}}");
        assert!(report.contains(&format!("found `{e}`\n")), "{e}: {report}");
        assert!(
            report.contains(&format!("unexpected `{e}`\n")),
            "{e}: {report}"
        );
        assert!(
            report.contains(&format!("{{ police none {e}[31m }}\n")),
            "{e}: {report}"
        );
    }
    for h in HARMLESS {
        assert!(report.contains(h), "{h} is shown as it is");
    }
}

#[test]
fn check_shows_hostile_text_escaped_without_colour() {
    let report = check_hostile("terminal-plain", false);
    assert!(!report.contains('\u{1b}'), "no colour: {report}");
    assert_shown_escaped(&report);
}

#[test]
fn check_shows_hostile_text_escaped_with_colour() {
    let coloured = check_hostile("terminal-colour", true);
    let report = strip_colour(&coloured);
    assert!(coloured.len() > report.len(), "colour is on");
    assert_shown_escaped(&report);
    // The colours are the renderer's own: without them the report is the
    // one printed without colour.
    assert_eq!(report, check_hostile("terminal-colour-plain", false));
}

#[test]
fn a_stray_character_is_underlined_where_it_is() {
    let report = check_hostile("terminal-underline", false);
    // `level low "Low" { police none ` is 30 characters; the label's line
    // starts with the gutter `   · ` and underlines the whole escape.
    for (escape, width) in [("\\u{1b}", 6), ("\\u{202e}", 8)] {
        let source = format!(" 2 │ level low \"Low\" {{ police none {escape}[31m }}\n");
        let at = report
            .find(&source)
            .unwrap_or_else(|| panic!("{source:?} in {report}"));
        let underline = report[at + source.len()..]
            .lines()
            .next()
            .expect("an underline");
        let marks = underline.trim_start_matches(['·', ' ']);
        let indent = underline.chars().count() - marks.chars().count();
        assert_eq!(indent, 5 + 30, "{underline:?}");
        assert_eq!(marks.chars().count(), width, "{underline:?}");
    }
}

/// The library, for text no protocol file gets to: a message, labels and
/// help written with hostile text, and a label in a file whose name is
/// hostile.
#[test]
fn render_human_escapes_messages_labels_help_and_file_names() {
    let h = hostile();
    let mut sources = Sources::new();
    let main = sources.add(PathBuf::from("main.carepath"), "question q \"Q\"\n");
    let other = sources.add(
        PathBuf::from("evil\u{1b}]0;x\u{7}\u{202e}.carepath".to_string()),
        "level low \"Low\"\n",
    );
    let d = Diagnostic::new(
        Code::UnusedQuestion,
        Span::new(main, 9, 10),
        format!("message {h}"),
    )
    .with_label(format!("label {h}"))
    .with_secondary(Span::new(main, 11, 14), format!("second {h}"))
    .with_secondary(Span::new(other, 6, 9), format!("elsewhere {h}"))
    .with_help(format!("help {h}\nnext line\tand a tab"));
    for color in [false, true] {
        let out = render_human(&d, &sources, HumanStyle { color, width: 400 });
        let out = strip_colour(&out);
        // Help may run over lines and keep its tabs; nothing else may.
        assert_inert(&out.replace('\t', " "), "the report");
        let shown = escaped();
        for part in ["message", "label", "second", "elsewhere", "help"] {
            assert!(out.contains(&format!("{part} {shown}")), "{part}: {out}");
        }
        assert!(
            out.contains("[evil\\u{1b}]0;x\\u{7}\\u{202e}.carepath:1:7]"),
            "{out}"
        );
        assert!(out.contains("next line\tand a tab"), "{out}");
    }
}

// --- `decide` and `build`: the command's own human output ------------------

/// Every character a terminal could act on, by this file's own list.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars().filter(|c| acts_on_terminal(*c)).collect()
}

const HOSTILE_PROTOCOL: &str = "protocol p {
  title \"P \u{1b}]0;pwned\u{7}\"
  authority \"A\"
  source \"S\"
  policy most-serious
  otherwise low
}
setting home \"Home \u{202e}emoh\"
question harm \"Harm?\u{1b}[2J\" { answer yes or no }
question kind \"Kind\" { answer one of { a \"A \u{9b}31m\", b \"B \u{7}\" } }
level low \"Low \u{1b}[31mred\" { police none }
level high \"High \u{1b}]8;;http://x\u{7}link\" { police emergency }
rule r { when harm and kind == a then high cite \"1\u{1b}[0m\" }
actor staff \"Staff \u{0}\"
route go \"Go \u{d}overwrite\" {
  for home
  start low, high -> act
  step act \"Act \u{1b}[1A\" {
    by staff
    then done
  }
  outcome done \"Done \u{2066}\"
}
";

#[test]
fn decide_prints_hostile_text_escaped() {
    let dir = crate::support::scratch("hostile-decide");
    let file = dir.join("p.carepath");
    std::fs::write(&file, HOSTILE_PROTOCOL).expect("written");
    let file = file.to_str().expect("utf-8");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_carepath"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs")
    };
    let check = run(&["check", file]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for answers in [["harm=yes", "kind=a"], ["harm=no", "kind=b"]] {
        let o = run(&[
            "decide",
            file,
            "--answer",
            answers[0],
            "--answer",
            answers[1],
            "--explain",
        ]);
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        );
        assert!(o.status.success(), "{err}");
        assert!(raw_controls(&out).is_empty(), "{:?}", raw_controls(&out));
        assert!(raw_controls(&err).is_empty(), "{:?}", raw_controls(&err));
        assert!(out.contains("\\u{1b}"), "the escapes are shown: {out}");
    }
    // A bad answer quoting hostile text back, and the interactive prompts.
    let o = run(&["decide", file, "--answer", "kind=\u{1b}]0;x\u{7}"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(raw_controls(&err).is_empty(), "{err:?}");
}

#[test]
fn build_and_check_print_hostile_file_names_escaped() {
    let dir = crate::support::scratch("hostile-names");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).expect("folder");
    std::fs::write(src.join("bad\u{1b}]0;pwned\u{7}.carepath"), "protocol {").expect("written");
    for args in [&["check"][..], &["build", "--no-svg", "--out"][..]] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_carepath"));
        c.args(args);
        if args[0] == "build" {
            c.arg(dir.join("out"));
        }
        let o = c.arg(&src).env("NO_COLOR", "1").output().expect("runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(raw_controls(&all).is_empty(), "{args:?}: {all:?}");
        assert!(all.contains("\\u{1b}"), "{all}");
    }
}
