//! Reliability of the command: closed pipes, full devices, interrupted and
//! concurrent builds, and answers that must not give a confident decision.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use carepath::eval::{AnswerError, Engine};
use serde_json::json;

use crate::support::{PROTOCOLS, run_carepath, scratch, text};

fn carepath() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carepath"));
    c.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    c
}

/// Run with `stdin` as input and standard output going to `stdout`.
fn run_with(args: &[&str], stdin: &str, stdout: Stdio, stderr: Stdio) -> Output {
    run_carepath(args, stdin, stdout, stderr)
}

/// A pipe whose reading end is already closed, as after `| head` exits.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer.into()
}

fn dev_full() -> Stdio {
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux")
        .into()
}

fn no_panic(o: &Output) {
    let err = text(&o.stderr);
    assert_ne!(o.status.code(), Some(101), "panicked: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

// --- `null` answers -----------------------------------------------------

fn dorset() -> Engine {
    Engine::from_json(&fs::read_to_string("out/dorset.json").expect("pack")).expect("loads")
}

#[test]
fn null_for_a_question_that_applies_is_a_missing_answer_not_a_no() {
    let engine = dorset();
    let every_null: serde_json::Map<String, serde_json::Value> = engine
        .pack
        .questions
        .iter()
        .map(|q| (q.id.clone(), serde_json::Value::Null))
        .collect();
    let answers = engine
        .answers(&every_null)
        .expect("null is not a bad answer");
    let errors = engine
        .decide(&answers, "residential")
        .expect_err("no decision from no answers");
    let [AnswerError::Missing { questions }] = errors.as_slice() else {
        panic!("{errors:?}");
    };
    assert!(questions.contains(&"serious-harm-risk".to_string()));

    // One safety question left `null` among "no" answers: still missing.
    let mut given = json!({
        "serious-harm-risk": null, "substantial-damage-risk": false,
        "significant-disorder-risk": false, "assault": false, "damage": "none",
        "theft": "none", "drugs": "none", "sexual-abuse": "none", "weapon": false,
        "repeated-behaviour": false, "victim": false, "prolonged": false,
        "dealing-concern": false
    });
    let answers = engine
        .answers(given.as_object().expect("object"))
        .expect("valid");
    assert_eq!(
        engine.decide(&answers, "residential").expect_err("missing"),
        vec![AnswerError::Missing {
            questions: vec!["serious-harm-risk".into()]
        }]
    );

    // `null` where the other answers show the question is not asked: fine.
    given["serious-harm-risk"] = false.into();
    given["injury"] = serde_json::Value::Null;
    let answers = engine
        .answers(given.as_object().expect("object"))
        .expect("valid");
    let d = engine.decide(&answers, "residential").expect("decided");
    assert_eq!(d.level.id, "level-1");
}

#[test]
fn null_answers_on_the_command_line_fail_with_the_missing_answers_named() {
    let o = run_with(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "residential",
            "--answers",
            "-",
        ],
        r#"{"serious-harm-risk": null, "assault": null, "weapon": null}"#,
        Stdio::piped(),
        Stdio::piped(),
    );
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not answered") && err.contains("serious-harm-risk"),
        "{err}"
    );
    assert!(!text(&o.stdout).contains("Level"), "{}", text(&o.stdout));
}

// --- closed pipes and full devices --------------------------------------

#[test]
fn a_closed_pipe_ends_quietly() {
    let decide = [
        "decide",
        "out/west-sussex.json",
        "--setting",
        "residential",
        "--answer",
        "harm-risk=yes",
    ];
    let o = run_with(&decide, "", closed_pipe(), Stdio::piped());
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");

    let o = run_with(&["schema"], "", closed_pipe(), Stdio::piped());
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0));

    let o = run_with(&["--help"], "", closed_pipe(), Stdio::piped());
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0));

    // Human `check` writes its report to standard error.
    let o = run_with(
        &["check", "tests/ui/unknown-level.carepath"],
        "",
        Stdio::piped(),
        closed_pipe(),
    );
    no_panic(&o);
    assert_eq!(o.status.code(), Some(1), "the file has errors");

    let out = scratch("closed-pipe-build");
    let o = run_with(
        &[
            "build",
            "protocols/",
            "--no-svg",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        "",
        closed_pipe(),
        closed_pipe(),
    );
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0));
    for id in PROTOCOLS {
        assert!(out.join(format!("{id}.json")).is_file(), "{id}");
    }
}

#[test]
fn a_full_device_is_an_error_that_says_what_could_not_be_written() {
    let cases: [&[&str]; 4] = [
        &[
            "decide",
            "out/west-sussex.json",
            "--setting",
            "residential",
            "--answer",
            "harm-risk=yes",
        ],
        &["check", "--error-format", "json", "protocols/"],
        &["schema"],
        &["decide", "--help"],
    ];
    for args in cases {
        let o = run_with(args, "", dev_full(), Stdio::piped());
        no_panic(&o);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("cannot write to standard output") && err.contains("no space"),
            "{args:?}: {err}"
        );
    }
    // Standard error full: nothing can be said, but the status says it.
    let o = run_with(
        &["check", "tests/ui/unknown-level.carepath"],
        "",
        Stdio::piped(),
        dev_full(),
    );
    no_panic(&o);
    assert_eq!(o.status.code(), Some(2));
}

// --- builds: all or nothing, one at a time, no litter ----------------

/// A copy of `protocols/` with a revision mark in West Sussex's title, so
/// that which revision a file came from can be read off it.
fn protocols_at(revision: &str, dir: &Path) {
    copy_tree(Path::new("protocols"), dir);
    let ws = dir.join("west-sussex.carepath");
    let text = fs::read_to_string(&ws).expect("west sussex");
    let marked = text.replacen("title \"", &format!("title \"[{revision}] "), 1);
    assert_ne!(text, marked);
    fs::write(&ws, marked).expect("written");
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("folder");
    for e in fs::read_dir(from).expect("readable") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).expect("copied");
        }
    }
}

/// Which revision each file of West Sussex's set comes from, by its
/// revision mark.
fn revisions(out: &Path) -> Vec<String> {
    ["json", "dot", "svg"]
        .iter()
        .filter_map(|ext| fs::read_to_string(out.join(format!("west-sussex.{ext}"))).ok())
        .map(|t| {
            if t.contains("[rev-a]") {
                "rev-a".to_string()
            } else if t.contains("[rev-b]") {
                "rev-b".to_string()
            } else {
                "neither".to_string()
            }
        })
        .collect()
}

/// Which of the reference builds each file of every protocol's set in
/// `out` is identical to: per protocol, the references its files match.
fn same_as(out: &Path, refs: &[(&str, &Path)]) -> Vec<(String, Vec<String>)> {
    PROTOCOLS
        .iter()
        .map(|id| {
            let matches = ["json", "dot", "svg"]
                .iter()
                .filter_map(|ext| fs::read(out.join(format!("{id}.{ext}"))).ok())
                .map(|bytes| {
                    refs.iter()
                        .filter(|(_, dir)| {
                            fs::read(dir.join(format!("{id}.{}", ext_of(&bytes))))
                                .is_ok_and(|r| r == bytes)
                        })
                        .map(|(name, _)| name.to_string())
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .collect();
            (id.to_string(), matches)
        })
        .collect()
}

/// The kind of output file these bytes are.
fn ext_of(bytes: &[u8]) -> &'static str {
    match bytes.first() {
        Some(b'{') => "json",
        Some(b'<') => "svg",
        _ => "dot",
    }
}

fn litter(out: &Path) -> Vec<String> {
    fs::read_dir(out)
        .expect("out")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn build(src: &Path, out: &Path, extra: &[&str]) -> Output {
    carepath()
        .arg("build")
        .arg(src)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("carepath runs")
}

#[test]
fn concurrent_builds_into_one_folder_never_leave_a_mixed_set() {
    let dir = scratch("concurrent-builds");
    let (a, b, out) = (dir.join("a"), dir.join("b"), dir.join("out"));
    protocols_at("rev-a", &a);
    protocols_at("rev-b", &b);
    for round in 0..30 {
        let spawn = |src: &Path| {
            carepath()
                .arg("build")
                .arg(src)
                .arg("--out")
                .arg(&out)
                .arg("--no-svg")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("carepath runs")
        };
        let (mut first, mut second) = if round % 2 == 0 {
            (spawn(&a), spawn(&b))
        } else {
            (spawn(&b), spawn(&a))
        };
        assert!(first.wait().expect("ends").success());
        assert!(second.wait().expect("ends").success());
        let revs = revisions(&out);
        assert_eq!(revs.len(), 2, "round {round}: {revs:?}");
        assert_eq!(revs[0], revs[1], "round {round}: a mixed set");
        assert!(litter(&out).is_empty(), "{:?}", litter(&out));
    }
}

#[test]
fn an_interrupted_build_leaves_a_whole_set_and_no_temporaries() {
    let dir = scratch("interrupted-builds");
    let (a, b, out) = (dir.join("a"), dir.join("b"), dir.join("out"));
    protocols_at("rev-a", &a);
    protocols_at("rev-b", &b);
    assert!(build(&a, &out, &["--no-svg"]).status.success());
    // Interrupt builds of alternating revisions at times spread over the
    // length of a build.
    let whole = {
        let t = std::time::Instant::now();
        assert!(build(&b, &out, &["--no-svg"]).status.success());
        t.elapsed()
    };
    for i in 0..24u32 {
        let src = if i % 2 == 0 { &a } else { &b };
        let child = carepath()
            .arg("build")
            .arg(src)
            .arg("--out")
            .arg(&out)
            .arg("--no-svg")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("carepath runs");
        std::thread::sleep(whole * i / 20);
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let status = child.wait_with_output().expect("ends").status;
        assert!(
            status.success() || status.code() == Some(130) || status.code().is_none(),
            "{status:?}"
        );
        let revs = revisions(&out);
        assert_eq!(revs.len(), 2, "{revs:?}");
        assert_eq!(revs[0], revs[1], "try {i}: a mixed set");
        assert!(litter(&out).is_empty(), "try {i}: {:?}", litter(&out));
    }
}

#[test]
fn temporaries_left_by_a_killed_build_are_cleared_by_the_next() {
    let dir = scratch("stale-temporaries");
    let out = dir.join("out");
    assert!(
        build(Path::new("protocols"), &out, &["--no-svg"])
            .status
            .success()
    );
    let pack = fs::read(out.join("dorset.json")).expect("pack");
    // Killed while writing: a half temporary. Killed while renaming: the
    // new pack in place, the old one kept as a backup, the DOT not yet
    // renamed.
    fs::write(out.join(".dorset.json.999999.tmp"), &pack[..100]).expect("written");
    fs::write(out.join(".stockport.dot.999999.tmp"), "digraph {").expect("written");
    fs::rename(
        out.join("wiltshire.dot"),
        out.join(".wiltshire.dot.999998.bak"),
    )
    .expect("moved");
    fs::write(out.join("notes.txt"), "kept").expect("written");
    fs::write(out.join(".keep"), "kept").expect("written");
    let o = build(Path::new("protocols"), &out, &["--no-svg"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(litter(&out), vec![".keep".to_string()]);
    assert!(out.join("notes.txt").exists());
    assert!(out.join("wiltshire.dot").exists());
}

#[test]
fn a_set_no_longer_written_in_full_loses_its_stale_member() {
    let out = scratch("set-members").join("out");
    assert!(
        build(Path::new("protocols"), &out, &["--no-svg"])
            .status
            .success()
    );
    fs::write(out.join("dorset.svg"), "<svg>an older revision</svg>").expect("written");
    assert!(
        build(Path::new("protocols"), &out, &["--no-svg"])
            .status
            .success()
    );
    assert!(
        !out.join("dorset.svg").exists(),
        "an SVG from another revision must not stay beside the new pack"
    );
}

/// A small file system that fills up, where the machine lets a test mount
/// one (as root on Linux).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        let dir = scratch(name);
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(Tmpfs(dir))
        } else {
            eprintln!("note: cannot mount a tmpfs here; the full-disk build test did not run");
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_build_into_a_full_disk_keeps_every_previous_set_whole() {
    let Some(fs_) = Tmpfs::mount("full-disk", "8m") else {
        return;
    };
    let dir = scratch("full-disk-src");
    let (a, b) = (dir.join("a"), dir.join("b"));
    protocols_at("rev-a", &a);
    protocols_at("rev-b", &b);
    let out = fs_.0.join("out");
    let first = build(&a, &out, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    // Fill the disk, leaving too little for the next build.
    let filler = fs_.0.join("filler");
    let mut f = fs::File::create(&filler).expect("filler");
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    drop(f);
    let chunk = 40_000;
    let len = fs::metadata(&filler).expect("filler").len();
    fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .expect("filler")
        .set_len(len.saturating_sub(chunk))
        .expect("shrunk");

    let o = build(&b, &out, &[]);
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains("no space left"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot read"), "{stderr}");
    assert!(stdout.contains("not written"), "{stdout}");
    assert!(litter(&out).is_empty(), "{:?}", litter(&out));
    // Each protocol's files are all the first build's, or all the second's.
    let (ref_a, ref_b) = (dir.join("ref-a"), dir.join("ref-b"));
    assert!(build(&a, &ref_a, &[]).status.success());
    assert!(build(&b, &ref_b, &[]).status.success());
    for (id, matches) in same_as(&out, &[("a", &ref_a), ("b", &ref_b)]) {
        assert_eq!(matches.len(), 3, "{id}: {matches:?}");
        assert!(
            matches.iter().all(|m| m == &matches[0]) && !matches[0].is_empty(),
            "{id}'s set is mixed: {matches:?}"
        );
    }
    // Every protocol's set is whole: each table row names all its files or
    // says it was not written.
    for id in PROTOCOLS {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id} has a row: {stdout}"));
        assert!(
            line.contains("not written") || line.matches(&format!("{id}.")).count() == 3,
            "{line}"
        );
    }
}

// --- amounts that could be misread --------------------------------------

#[test]
fn an_amount_with_a_separator_is_refused_with_the_accepted_forms() {
    let dir = scratch("amount-forms");
    let file = dir.join("p.carepath");
    fs::write(
        &file,
        r#"protocol p {
  title "P"
  authority "A"
  source "S"
  policy most-serious
  otherwise low
}
setting home "Home" { no route "not needed here" }
question value "What was the damage worth?" { answer amount }
level low "Low" { police none }
level high "High" { police report }
rule costly { when value >= 100 then high }
"#,
    )
    .expect("written");
    let file = file.to_str().expect("utf-8");
    let decide = |answer: &str| {
        carepath()
            .args(["decide", file, "--answer", &format!("value={answer}")])
            .output()
            .expect("runs")
    };
    for bad in [
        "1,50", "1,500", "1 500", "1_500", "1e3", "-5", "£", "1.505", "",
    ] {
        let o = decide(bad);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{bad}: {err}");
        assert!(
            err.contains("150.50") && err.contains("£150.50"),
            "{bad}: {err}"
        );
    }
    for (good, level) in [
        ("150", "High"),
        ("£150.50", "High"),
        ("99.99", "Low"),
        ("0.5", "Low"),
    ] {
        let o = decide(good);
        assert!(o.status.success(), "{good}: {}", text(&o.stderr));
        assert!(
            text(&o.stdout).starts_with(&format!("Level: {level}")),
            "{good}"
        );
    }
}

// --- folder walks and the build table -------------------------------

#[test]
fn a_folder_walk_does_not_follow_links_out_of_the_tree() {
    let dir = scratch("walk-links");
    let proj = dir.join("proj");
    copy_tree(Path::new("protocols"), &proj);
    std::os::unix::fs::symlink("/etc/passwd", proj.join("passwd.carepath")).expect("link");
    std::os::unix::fs::symlink(proj.join("dorset.carepath"), proj.join("again.carepath"))
        .expect("link inside");
    let o = carepath().arg("check").arg(&proj).output().expect("runs");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("root:"), "printed the linked file: {err}");
    assert!(
        err.contains("passwd.carepath") && err.contains("link to a file outside"),
        "{err}"
    );
}

#[test]
fn every_protocol_found_gets_a_row_in_the_build_table() {
    let dir = scratch("build-rows");
    // An import that fails.
    let broken_import = dir.join("import");
    copy_tree(Path::new("protocols"), &broken_import);
    let dorset = broken_import.join("dorset.carepath");
    let text_ = fs::read_to_string(&dorset).expect("dorset");
    fs::write(
        &dorset,
        text_.replacen("common/incident.carepath", "common/missing.carepath", 1),
    )
    .expect("written");
    let o = build(&broken_import, &dir.join("out1"), &["--no-svg"]);
    let out = text(&o.stdout);
    let row = out
        .lines()
        .find(|l| l.starts_with("dorset"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("not built"), "{row}");
    assert_eq!(out.lines().count(), 1 + PROTOCOLS.len(), "{out}");

    // A syntax error in a shared library: every protocol that imports it
    // says so.
    let broken_library = dir.join("library");
    copy_tree(Path::new("protocols"), &broken_library);
    let lib = broken_library.join("common/incident.carepath");
    let mut t = fs::read_to_string(&lib).expect("library");
    t.push_str("\nthis is not a definition {\n");
    fs::write(&lib, t).expect("written");
    let o = build(&broken_library, &dir.join("out2"), &["--no-svg"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    for id in PROTOCOLS {
        let row = out
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id}: {out}"));
        assert!(row.contains("not built") || row.contains(".json"), "{row}");
    }
    assert!(
        out.contains("common/incident.carepath"),
        "the rows name the library: {out}"
    );
}

/// `decide` waits for nothing it does not need: a sanity bound that the
/// interrupt handler installed by `build` does not change how other
/// commands end on Ctrl-C.
#[test]
fn an_interrupt_ends_an_interactive_decide() {
    let mut child = carepath()
        .args([
            "decide",
            "out/dorset.json",
            "--setting",
            "residential",
            "--interactive",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("ends");
    assert!(!status.success(), "{status:?}");
}
