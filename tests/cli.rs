//! The `carepath` command as users run it: exit codes, output formats,
//! colour, and clear messages for files that cannot be read.

use crate::support::{scratch, text};
use std::process::{Command, Output};

fn carepath(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carepath"));
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("carepath runs")
}

const GOOD: &str = r#"protocol good {
  title "A good protocol"
  authority "Example Council"
  source "Example"
  policy most-serious
  otherwise low
}
setting home "Children's home" { no route "not needed here" }
question risk "Is anyone at risk?" { answer yes or no }
level low "Low" { police none }
level high "High" { police emergency }
rule r { when risk then high }
"#;

#[test]
fn a_good_protocol_exits_0() {
    let dir = scratch("good");
    std::fs::write(dir.join("good.carepath"), GOOD).unwrap();
    let out = carepath(&["check", dir.join("good.carepath").to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("checked 1 file: 0 errors"));
}

#[test]
fn errors_exit_1() {
    let out = carepath(&["check", "tests/ui/unknown-level.carepath"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("carepath::unknown-name"), "{err}");
    assert!(err.contains("did you mean `level-3`?"), "{err}");
}

#[test]
fn warnings_exit_0_unless_denied() {
    let file = "tests/ui/unused-question.carepath";
    assert_eq!(carepath(&["check", file], &[]).status.code(), Some(0));
    let denied = carepath(&["check", file, "--deny", "warnings"], &[]);
    assert_eq!(denied.status.code(), Some(1));
    assert!(text(&denied.stderr).contains("× question `weapon` is never used"));
}

#[test]
fn a_missing_file_exits_2_with_a_clear_message() {
    let out = carepath(&["check", "no/such/protocol.carepath"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read `no/such/protocol.carepath`: no such file or folder"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn a_file_that_is_not_utf8_exits_2() {
    let dir = scratch("not-utf8");
    let file = dir.join("latin1.carepath");
    std::fs::write(&file, b"protocol p { title \"Caf\xe9\" }").unwrap();
    let out = carepath(&["check", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("it is not UTF-8 text"),
        "{}",
        text(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_exits_2() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("unreadable");
    let file = dir.join("secret.carepath");
    std::fs::write(&file, GOOD).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root can read anything; the check only means something for others.
    if std::fs::read(&file).is_ok() {
        return;
    }
    let out = carepath(&["check", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("permission denied"));
}

#[test]
fn a_folder_without_protocols_exits_2() {
    let dir = scratch("empty");
    let out = carepath(&["check", dir.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("holds no `.carepath` files"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(carepath(&["check"], &[]).status.code(), Some(2));
    assert_eq!(carepath(&["frobnicate"], &[]).status.code(), Some(2));
    assert_eq!(
        carepath(&["check", "x", "--deny", "everything"], &[])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn help_describes_the_commands() {
    let out = carepath(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    assert!(help.contains("check"), "{help}");
    let out = carepath(&["check", "--help"], &[]);
    let help = text(&out.stdout);
    assert!(help.contains("--error-format"), "{help}");
    assert!(help.contains("Exit status"), "{help}");
}

#[test]
fn json_output_has_one_object_per_diagnostic() {
    let out = carepath(
        &[
            "check",
            "tests/ui/many-errors.carepath",
            "--error-format",
            "json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    let first = &lines[0];
    assert_eq!(first["code"], "carepath::unknown-name");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "tests/ui/many-errors.carepath");
    assert_eq!(first["line"], 12);
    assert_eq!(first["column"], 15);
    assert_eq!(
        first["span"]["start"].as_u64().unwrap() + 3,
        first["span"]["end"].as_u64().unwrap()
    );
    assert_eq!(first["help"], "did you mean `risk`?");
    assert_eq!(first["labels"][0]["message"], "not defined");
    // Nothing but JSON on standard output.
    assert!(text(&out.stderr).is_empty() || !text(&out.stderr).contains('×'));
}

#[test]
fn json_reports_unreadable_files_too() {
    let out = carepath(
        &["check", "missing.carepath", "--error-format", "json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v["code"], "carepath::io-error");
    assert_eq!(v["file"], "missing.carepath");
}

#[test]
fn colour_is_used_only_when_wanted() {
    let file = "tests/ui/unknown-level.carepath";
    let forced = carepath(&["check", file], &[("CLICOLOR_FORCE", "1")]);
    assert!(
        text(&forced.stderr).contains('\u{1b}'),
        "colour when forced"
    );
    let no_color = carepath(
        &["check", file],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!text(&no_color.stderr).contains('\u{1b}'), "NO_COLOR wins");
    let piped = carepath(&["check", file], &[]);
    assert!(
        !text(&piped.stderr).contains('\u{1b}'),
        "no colour into a pipe"
    );
}

#[test]
fn a_folder_checks_every_file_below_it_and_reports_libraries_once() {
    let out = carepath(&["check", "tests/ui", "--error-format", "json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let cycles = stdout
        .lines()
        .filter(|l| l.contains("carepath::import-cycle"))
        .count();
    // Three files take part in the cycle (the test and two libraries), and
    // each is checked as a root, but the cycle is one diagnostic.
    assert_eq!(cycles, 1, "{stdout}");
}

#[cfg(unix)]
#[test]
fn imports_cannot_escape_through_a_link() {
    let dir = scratch("escape");
    let outside = scratch("escape-outside");
    std::fs::write(
        outside.join("lib.carepath"),
        "library lib { title \"Outside\" }\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.join("lib.carepath"), dir.join("lib.carepath")).unwrap();
    std::fs::write(
        dir.join("p.carepath"),
        format!("import \"lib.carepath\"\n{GOOD}"),
    )
    .unwrap();
    let out = carepath(&["check", dir.join("p.carepath").to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("carepath::import-outside-root"),
        "{}",
        text(&out.stderr)
    );
}

/// The findings of `check --error-format json` on some files, by code.
fn findings(files: &[&str]) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut args = vec!["check", "--error-format", "json"];
    args.extend_from_slice(files);
    let out = carepath(&args, &[]);
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON object per line"))
        .map(|d| (d["code"].as_str().expect("a code").to_owned(), d))
        .collect()
}

#[test]
fn planted_problems_are_each_reported_with_a_witness_or_a_path() {
    let found = findings(&[
        "tests/ui/analysis-planted.carepath",
        "tests/ui/analysis-conflict.carepath",
        "tests/ui/route-dead-end.carepath",
    ]);
    let codes: Vec<&str> = found.keys().map(String::as_str).collect();
    for want in [
        "carepath::conflict",
        "carepath::gap",
        "carepath::never-decides",
        "carepath::misclassified-example",
        "carepath::unreachable-level",
        "carepath::unreachable-step",
        "carepath::dead-end",
        "carepath::route-cycle",
        "carepath::missing-branch",
    ] {
        assert!(codes.contains(&want), "{want} not in {codes:?}");
    }
    // Each witness is an incident that shows the finding.
    let gap = &found["carepath::gap"]["witness"];
    assert_eq!(gap["risk"], false, "{gap}");
    assert_ne!(gap["damage"], "high", "{gap}");
    assert_ne!(gap["drugs"], "possession", "{gap}");
    let conflict = &found["carepath::conflict"];
    assert_eq!(conflict["witness"]["assault"], true, "{conflict}");
    assert_eq!(
        conflict["rules"],
        serde_json::json!(["minor-assault", "any-assault"])
    );
    let dead = &found["carepath::never-decides"];
    assert_eq!(dead["witness"]["drugs"], "possession", "{dead}");
    assert_eq!(dead["witness"]["drug-class"], "class-b", "{dead}");
    assert_eq!(dead["rules"], serde_json::json!(["first-b", "possession"]));
    let example = &found["carepath::misclassified-example"];
    assert_eq!(example["witness"]["drug-class"], "class-b", "{example}");
    // Route findings name the steps on the way.
    let cycle = found["carepath::route-cycle"]["path"]
        .as_array()
        .expect("a path");
    assert_eq!(cycle.first(), cycle.last(), "a cycle ends where it starts");
    let end = &found["carepath::dead-end"];
    assert_eq!(
        end["path"].as_array().and_then(|p| p.last()),
        Some(&"report".into())
    );
    assert!(
        end["message"]
            .as_str()
            .is_some_and(|m| m.contains("start level-2 → report")),
        "{end}"
    );
}
