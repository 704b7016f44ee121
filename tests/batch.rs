//! Deciding a stream of incidents (`carepath decide PACK --answers
//! incidents.jsonl`, and `carepath::eval::batch`): one line out per line
//! in, in order, each the same decision `--format json` gives for that
//! incident alone, a bad line reported by its number without stopping the
//! rest; strict answers (a key or an `--answer` given twice is refused);
//! and the command ending quietly when its reader goes away.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use carepath::emit::pack::QuestionKind;
use carepath::eval::batch::{self, Brief, Form, Options, Reported, Stopped};
use carepath::eval::expr::Val;
use carepath::eval::{AnswerError, Engine, json};
use serde_json::{Map, Value, json};

use crate::support::{PROTOCOLS, quiet_dorset, run_carepath, scratch, text};
use crate::synth::Rng;

fn carepath(args: &[&str], stdin: &str) -> Output {
    run_carepath(args, stdin, Stdio::piped(), Stdio::piped())
}

fn engine(id: &str) -> Engine {
    Engine::from_json(&fs::read_to_string(format!("out/{id}.json")).expect("pack")).expect("loads")
}

/// An answer as an answers object has it.
fn answer_json(engine: &Engine, q: usize, v: Val) -> Value {
    let question = &engine.pack.questions[q];
    match v {
        Val::Bool(b) => json!(b),
        Val::Opt(o) => json!(question.options[o as usize].id),
        Val::Num(n) if question.kind == QuestionKind::Amount => json!(n as f64 / 100.0),
        Val::Num(n) => json!(n),
    }
}

/// `n` possible incidents of a pack, drawn from its answer classes: each
/// question asked (its "asked when" holds) takes one of its classes, the
/// setting included, so every line carries its own setting.
fn incidents(engine: &Engine, n: usize, seed: u64) -> Vec<Map<String, Value>> {
    let mut rng = Rng::new(seed);
    let cells = engine.cells();
    (0..n)
        .map(|_| {
            let mut vals: Vec<Option<Val>> = vec![None; cells.len()];
            for (q, classes) in cells.iter().enumerate() {
                let asked = engine.asked_when(q).is_none_or(|c| c.eval(&vals));
                let choices: Vec<Val> = classes.iter().flatten().copied().collect();
                if asked && !choices.is_empty() {
                    vals[q] = Some(choices[rng.below(choices.len() as u64) as usize]);
                }
            }
            vals.iter()
                .enumerate()
                .filter_map(|(q, v)| {
                    let v = (*v)?;
                    Some((
                        engine.pack.questions[q].id.clone(),
                        answer_json(engine, q, v),
                    ))
                })
                .collect()
        })
        .collect()
}

/// Incidents as JSON Lines.
fn lines_of(incidents: &[Map<String, Value>]) -> String {
    incidents
        .iter()
        .map(|m| format!("{}\n", Value::Object(m.clone())))
        .collect()
}

/// Run the library's stream over `input`, returning its report and the
/// lines written, each parsed.
fn stream(engine: &Engine, input: &str, options: &Options) -> (batch::Report, Vec<Value>) {
    let mut out = Vec::new();
    let report = batch::run(engine, input.as_bytes(), &mut out, options);
    let lines = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("each line out is JSON"))
        .collect();
    (report, lines)
}

const FULL: Options = Options {
    setting: None,
    form: Form::Full { explain: false },
};

const BRIEF: Options = Options {
    setting: None,
    form: Form::Brief,
};

/// The line expected for one incident: its decision as the whole or the
/// brief form, or its errors, each computed on its own.
fn expected(engine: &Engine, n: usize, answers: &Map<String, Value>, form: Form) -> Value {
    let errors = |errors: Vec<AnswerError>| {
        let reported: Vec<Reported<AnswerError>> = errors.iter().map(Reported::new).collect();
        json!({ "line": n, "errors": reported })
    };
    // Wrong answers are reported before a missing setting.
    let checked = match engine.answers(answers) {
        Ok(a) => a,
        Err(e) => return errors(e),
    };
    let setting = match engine.pack.settings.as_slice() {
        [only] => only.id.clone(),
        _ => answers["setting"].as_str().expect("a setting").to_string(),
    };
    match (engine.decide(&checked, &setting), form) {
        (Ok(mut d), Form::Full { explain }) => {
            if explain {
                d.explanation = Some(engine.explanation(&checked, &setting));
            }
            let v = serde_json::to_value(&d).expect("JSON");
            crate::support::assert_valid_decision(&v, "a decision in a batch");
            v
        }
        (Ok(d), Form::Brief) => serde_json::to_value(Brief::of(&d)).expect("JSON"),
        (Err(e), _) => errors(e),
    }
}

// --- the library ---------------------------------------------------------

#[test]
fn every_seed_pack_gives_each_line_its_own_decision_in_order() {
    for id in PROTOCOLS {
        let engine = engine(id);
        let incidents = incidents(&engine, 300, 0xba7c);
        let input = lines_of(&incidents);
        for (options, form) in [(FULL, FULL.form), (BRIEF, BRIEF.form)] {
            let (report, lines) = stream(&engine, &input, &options);
            assert!(report.stopped.is_none(), "{id}: {:?}", report.stopped);
            assert_eq!(report.lines, 300, "{id}");
            assert_eq!(lines.len(), 300, "{id}: one line out per line in");
            let mut decided = 0;
            for (i, (line, answers)) in lines.iter().zip(&incidents).enumerate() {
                assert_eq!(
                    *line,
                    expected(&engine, i + 1, answers, form),
                    "{id} line {}",
                    i + 1
                );
                decided += usize::from(line.get("errors").is_none());
            }
            assert_eq!(report.decided, decided as u64, "{id}");
            assert!(decided > 0, "{id}: some incidents are decided");
        }
    }
}

#[test]
fn the_brief_form_is_the_level_the_police_the_procedures_and_the_deciding_rules() {
    let engine = engine("dorset");
    let mut given = quiet_dorset();
    given.insert("setting".into(), "residential".into());
    given.insert("drugs".into(), "possession".into());
    given.insert("drug-class".into(), "class-b".into());
    given.insert("bc-occasion".into(), 2.into());
    given.insert("confiscated".into(), true.into());
    let (report, lines) = stream(&engine, &lines_of(&[given]), &BRIEF);
    assert!(report.all_decided());
    let brief = lines[0].as_object().expect("an object");
    let keys: Vec<&str> = brief.keys().map(String::as_str).collect();
    assert_eq!(keys, ["level", "police", "procedures", "deciding"]);
    assert_eq!(brief["level"], "level-2");
    assert_eq!(brief["deciding"], json!(["second-bc-possession"]));
    assert!(
        brief["procedures"]
            .as_array()
            .is_some_and(|p| p.contains(&json!("confiscated-substances"))),
        "{brief:?}"
    );
    let word = brief["police"].as_str().expect("a word");
    assert!(
        [
            "none",
            "judgement",
            "advice",
            "report",
            "prompt",
            "emergency",
            "unstated"
        ]
        .contains(&word),
        "{word}"
    );
}

#[test]
fn a_bad_line_is_reported_by_its_number_and_the_rest_are_decided() {
    let engine = engine("dorset");
    let good = |setting: &str| {
        let mut m = quiet_dorset();
        m.insert("setting".into(), setting.into());
        Value::Object(m).to_string()
    };
    let input = [
        good("residential"),
        "{\"weapon\": tru".to_string(),
        good("foster"),
        r#"{"setting": "foster", "weapon": false, "weapon": true}"#.to_string(),
        "[\"weapon\"]".to_string(),
        String::new(),
        r#"{"setting": "foster", "drugs": "posession"}"#.to_string(),
        r#"{"weapon": false}"#.to_string(),
        good("supported-housing"),
    ]
    .join("\n");
    let (report, lines) = stream(&engine, &input, &BRIEF);
    assert_eq!((report.lines, report.decided), (9, 3));
    assert!(!report.all_decided());
    assert_eq!(lines.len(), 9);
    for decided in [0, 2, 8] {
        assert_eq!(lines[decided]["level"], "level-1", "line {}", decided + 1);
    }
    let kind = |i: usize| lines[i]["errors"][0]["kind"].clone();
    for (i, k) in [
        (1, "not-json"),
        (3, "duplicate-key"),
        (4, "not-an-object"),
        (5, "not-json"),
        (6, "unknown-option"),
        (7, "missing"),
    ] {
        assert_eq!(lines[i]["line"], i + 1, "{:?}", lines[i]);
        assert_eq!(kind(i), k, "{:?}", lines[i]);
        assert!(lines[i]["errors"][0]["message"].is_string());
    }
    assert_eq!(lines[3]["errors"][0]["key"], "weapon");
    assert_eq!(lines[4]["errors"][0]["found"], "a list");
    // A line without a setting, in a protocol with several: the setting is
    // the answer it misses.
    assert_eq!(lines[7]["errors"][0]["questions"], json!(["setting"]));
}

#[test]
fn the_setting_is_the_option_else_the_line_s_own_else_the_only_one() {
    let dorset = engine("dorset");
    let mut quiet = quiet_dorset();
    let without = lines_of(std::slice::from_ref(&quiet));
    quiet.insert("setting".into(), "foster".into());
    let with = lines_of(std::slice::from_ref(&quiet));
    let full = |setting| Options {
        setting,
        form: Form::Full { explain: false },
    };
    let (_, lines) = stream(&dorset, &with, &full(None));
    assert_eq!(lines[0]["setting"], "foster");
    let (_, lines) = stream(&dorset, &without, &full(Some("residential")));
    assert_eq!(lines[0]["setting"], "residential");
    let (_, lines) = stream(&dorset, &with, &full(Some("residential")));
    assert_eq!(lines[0]["errors"][0]["kind"], "setting-differs");

    // West Sussex has one setting: a line need not name it.
    let ws = engine("west-sussex");
    let line = r#"{"drugs": "none", "harm-risk": true, "criminal-act": false, "victim-of-crime": false, "increasingly-threatening": false, "missing": false, "meets-home-threshold": false, "clear-emergency": false}"#;
    let (report, lines) = stream(&ws, line, &full(None));
    assert!(report.all_decided(), "{lines:?}");
    assert_eq!(lines[0]["setting"], "residential");
}

#[test]
fn line_ends_blank_lines_and_a_last_line_without_an_end_are_each_a_line() {
    let engine = engine("dorset");
    let mut quiet = quiet_dorset();
    quiet.insert("setting".into(), "foster".into());
    let good = Value::Object(quiet).to_string();
    let input = format!("{good}\r\n\n  \n{good}");
    let (report, lines) = stream(&engine, &input, &BRIEF);
    assert_eq!((report.lines, report.decided), (4, 2));
    assert_eq!(lines[0]["level"], "level-1");
    assert_eq!(lines[1]["errors"][0]["kind"], "not-json");
    assert_eq!(lines[2]["errors"][0]["kind"], "not-json");
    assert_eq!(lines[3]["level"], "level-1");
    let (report, lines) = stream(&engine, "", &BRIEF);
    assert_eq!((report.lines, lines.len()), (0, 0));
    assert!(report.all_decided() && report.stopped.is_none());
}

#[test]
fn a_line_too_long_to_be_answers_is_skipped_to_its_end_and_reported() {
    let engine = engine("dorset");
    let mut quiet = quiet_dorset();
    quiet.insert("setting".into(), "foster".into());
    let good = Value::Object(quiet).to_string();
    let huge = format!(
        "{{\"note\": \"{}\"}}",
        "x".repeat(carepath::eval::json::MAX_ANSWERS_BYTES)
    );
    let input = format!("{good}\n{huge}\n{good}\n");
    let (report, lines) = stream(&engine, &input, &BRIEF);
    assert_eq!((report.lines, report.decided), (3, 2));
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(lines[1]["errors"][0]["kind"], "too-long");
    assert_eq!(lines[2]["level"], "level-1");
}

/// A reader that gives `good` and then fails, as a disk can.
struct FailingAfter {
    good: io::Cursor<Vec<u8>>,
}

impl Read for FailingAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.good.read(buf)? {
            0 => Err(io::Error::other("the device went away")),
            n => Ok(n),
        }
    }
}

#[test]
fn input_that_cannot_be_read_stops_the_stream_after_the_lines_before_it() {
    let engine = engine("dorset");
    let input = lines_of(&incidents(&engine, 3, 7));
    let reader = BufReader::new(FailingAfter {
        good: io::Cursor::new(input.into_bytes()),
    });
    let mut out = Vec::new();
    let report = batch::run(&engine, reader, &mut out, &BRIEF);
    assert!(
        matches!(report.stopped, Some(Stopped::Read { line: 4, .. })),
        "{:?}",
        report.stopped
    );
    assert_eq!(report.lines, 3);
    assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 3);
}

/// A writer that fails at once, and a reader that counts what it gave.
struct Refusing;

impl Write for Refusing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn output_that_cannot_be_written_stops_the_reading() {
    let engine = engine("dorset");
    let one = lines_of(&incidents(&engine, 1, 11));
    // Far more output than the stream's buffer holds.
    let input = one.repeat(20_000);
    let mut reader = input.as_bytes();
    let report = batch::run(&engine, &mut reader, Refusing, &FULL);
    let Some(Stopped::Write(e)) = &report.stopped else {
        panic!("{:?}", report.stopped);
    };
    assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    assert!(
        report.lines < 20_000,
        "stopped after {} lines",
        report.lines
    );
    assert!(!reader.is_empty(), "the rest of the input is not read");
}

// --- the command -----------------------------------------------------------

fn dorset_lines(n: usize) -> String {
    lines_of(&incidents(&engine("dorset"), n, 0x5eed))
}

#[test]
fn a_jsonl_file_is_a_batch_and_each_line_is_the_single_incident_decision() {
    let dir = scratch("batch-file");
    let engine = engine("dorset");
    let incidents = incidents(&engine, 8, 3);
    for ext in ["jsonl", "ndjson"] {
        let file = dir.join(format!("incidents.{ext}"));
        fs::write(&file, lines_of(&incidents)).expect("write");
        let out = carepath(
            &[
                "decide",
                "out/dorset.json",
                "--answers",
                file.to_str().expect("utf-8"),
            ],
            "",
        );
        let printed = text(&out.stdout);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), incidents.len(), "{printed}");
        let all_decided = lines.iter().all(|l| !l.contains("\"errors\""));
        assert_eq!(out.status.code(), Some(if all_decided { 0 } else { 1 }));
        assert_eq!(text(&out.stderr), "");
        for (line, answers) in lines.iter().zip(&incidents) {
            assert!(!line.contains("\n  "), "compact: {line}");
            // The same object `--format json` prints for the incident alone.
            let single_file = dir.join("one.json");
            fs::write(&single_file, Value::Object(answers.clone()).to_string()).expect("write");
            let setting = answers["setting"].as_str().expect("a setting");
            let single = carepath(
                &[
                    "decide",
                    "out/dorset.json",
                    "--setting",
                    setting,
                    "--answers",
                    single_file.to_str().expect("utf-8"),
                    "--format",
                    "json",
                ],
                "",
            );
            let mut alone: Value = serde_json::from_slice(&single.stdout).expect("JSON");
            let batched: Value = serde_json::from_str(line).expect("JSON");
            if let Some(m) = alone.as_object_mut().filter(|m| m.contains_key("errors")) {
                m.insert("line".into(), batched["line"].clone());
            }
            assert_eq!(batched, alone);
        }
    }
}

#[test]
fn standard_input_is_a_batch_with_batch() {
    let input = dorset_lines(20);
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--answers",
            "-",
            "--batch",
            "--brief",
        ],
        &input,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert_eq!(printed.lines().count(), 20);
    for line in printed.lines() {
        let v: Value = serde_json::from_str(line).expect("JSON");
        assert!(v["level"].is_string(), "{line}");
    }
    // Without `--batch`, standard input is one incident, and twenty lines
    // of objects are not one object.
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answers",
            "-",
        ],
        &input,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not valid JSON"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn batch_exit_statuses() {
    let good = dorset_lines(5);
    let run = |args: &[&str], input: &str| {
        let mut all = vec!["decide", "out/dorset.json", "--answers", "-", "--batch"];
        all.extend_from_slice(args);
        carepath(&all, input)
    };
    assert_eq!(run(&[], &good).status.code(), Some(0));
    assert_eq!(run(&[], "").status.code(), Some(0), "nothing to decide");
    let one_bad = format!("{good}{{\"weapon\": \"maybe\"}}\n");
    let out = run(&[], &one_bad);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 6);
    assert_eq!(text(&out.stderr), "", "the errors are in their lines");

    let usage: [(&[&str], &str); 5] = [
        (&["--format", "human"], "JSON Lines"),
        (&["--setting", "castle"], "no setting `castle`"),
        (&["--answer", "weapon=yes"], "--answer"),
        (&["--interactive"], "--interactive"),
        (&["--brief", "--explain"], "--explain"),
    ];
    for (args, says) in usage {
        let out = run(args, &good);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), "", "{args:?}");
    }
    let out = carepath(&["decide", "out/dorset.json", "--batch"], "");
    assert_eq!(out.status.code(), Some(2), "a batch needs --answers");

    // An unusable pack, and input that cannot be read.
    let dir = scratch("batch-unreadable");
    let lines = dir.join("incidents.jsonl");
    fs::write(&lines, &good).expect("write");
    let lines = lines.to_str().expect("utf-8");
    let out = carepath(&["decide", "no-such-pack.json", "--answers", lines], "");
    assert_eq!(out.status.code(), Some(2));
    let out = carepath(
        &["decide", "out/dorset.json", "--answers", "no/such.jsonl"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read no/such.jsonl: no such file"),
        "{}",
        text(&out.stderr)
    );
    let folder = dir.join("folder.jsonl");
    fs::create_dir_all(&folder).expect("a folder");
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--answers",
            folder.to_str().expect("utf-8"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("at line 1"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_key_given_twice_is_refused_naming_it_in_a_file_on_standard_input_and_in_a_batch() {
    let dir = scratch("duplicate-keys");
    let twice = r#"{"weapon": false, "drugs": "none", "weapon": true}"#;
    let file = dir.join("answers.json");
    fs::write(&file, twice).expect("write");
    let decide = |answers: &str, stdin: &str| {
        carepath(
            &[
                "decide",
                "out/dorset.json",
                "--setting",
                "foster",
                "--answers",
                answers,
            ],
            stdin,
        )
    };
    for out in [
        decide(file.to_str().expect("utf-8"), ""),
        decide("-", twice),
    ] {
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains("`weapon` is given twice"), "{err}");
        assert_eq!(text(&out.stdout), "");
    }
    // A top level that is not an object says what it is.
    let out = decide("-", "[true]");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("must be a JSON object"),
        "{}",
        text(&out.stderr)
    );

    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--answers",
            "-",
            "--batch",
            "--setting",
            "foster",
        ],
        &format!("{twice}\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let line: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(line["errors"][0]["kind"], "duplicate-key");
    assert_eq!(line["errors"][0]["key"], "weapon");
}

#[test]
fn an_answer_given_twice_is_refused_with_both_values() {
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answer",
            "drugs=use",
            "--answer",
            "weapon=no",
            "--answer",
            "drugs = supply",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("`drugs` is answered twice")
            && err.contains("`use`")
            && err.contains("`supply`"),
        "{err}"
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn the_json_errors_of_one_incident_are_the_errors_of_its_batch_line() {
    let answers = r#"{"drugs": "posession", "weapon": 3}"#;
    let single = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answers",
            "-",
            "--format",
            "json",
        ],
        answers,
    );
    assert_eq!(single.status.code(), Some(1));
    let batched = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answers",
            "-",
            "--batch",
        ],
        answers,
    );
    assert_eq!(batched.status.code(), Some(1));
    let single: Value = serde_json::from_slice(&single.stdout).expect("JSON");
    let batched: Value = serde_json::from_slice(&batched.stdout).expect("JSON");
    assert_eq!(batched["line"], 1);
    assert_eq!(batched["errors"], single["errors"]);
    assert_eq!(single["errors"].as_array().map(Vec::len), Some(2));
}

// --- closed pipes ------------------------------------------------------------

#[test]
fn a_batch_piped_into_head_ends_quietly_and_stops_reading() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_carepath"))
        .args(["decide", "out/dorset.json", "--answers", "-", "--batch"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("carepath runs");
    // An input that never ends by itself: the command must stop reading
    // when no one reads its output.
    let mut stdin = child.stdin.take().expect("stdin");
    let lines = dorset_lines(50);
    let feeder = std::thread::spawn(move || while stdin.write_all(lines.as_bytes()).is_ok() {});
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    assert!(first.starts_with('{'), "{first}");
    drop(stdout); // `head -1` has what it wants and exits.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the command goes on reading after its reader left"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    feeder
        .join()
        .expect("the feeder ends when the command does");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert_eq!(err, "", "quietly");
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
}

/// A pipe whose reading end is already closed, as after `| head` exits.
fn closed_pipe() -> Stdio {
    let (reader, writer) = io::pipe().expect("a pipe");
    drop(reader);
    writer.into()
}

#[test]
fn every_command_that_prints_to_standard_output_ends_quietly_on_a_closed_pipe() {
    let out = scratch("closed-pipe-stdout");
    let out = out.to_str().expect("utf-8");
    // Incidents that are all decided, so the status is 0 however many
    // lines were read before the pipe was found closed.
    let mut quiet = quiet_dorset();
    quiet.insert("setting".into(), "foster".into());
    let jsonl = lines_of(&vec![quiet; 200]);
    let cases: [(&[&str], &str, i32); 5] = [
        (
            &["decide", "out/dorset.json", "--answers", "-", "--batch"],
            &jsonl,
            0,
        ),
        (&["check", "--error-format", "json", "protocols/"], "", 0),
        (
            &[
                "check",
                "--error-format",
                "json",
                "tests/ui/unknown-level.carepath",
            ],
            "",
            1,
        ),
        (&["build", "protocols/", "--no-svg", "--out", out], "", 0),
        (&["schema"], "", 0),
    ];
    for (args, stdin, status) in cases {
        let o = run_carepath(args, stdin, closed_pipe(), Stdio::piped());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(status), "{args:?}: {err}");
        // Nothing about the pipe: `build` still prints its usual summary.
        assert!(
            !err.contains("error:") && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}

/// The brief form reads a line straight into answer classes where it can;
/// whatever the line, it must write what the whole decision's brief form
/// (or its errors) is. Lines with answers left out, in another order, with
/// `null`s, escapes in keys, wrong answers, unknown questions, keys given
/// twice, lists and objects inside, or a setting the line does not give.
#[test]
fn brief_lines_of_partial_and_wrong_answers_are_those_of_the_whole_decision() {
    for id in PROTOCOLS {
        let engine = engine(id);
        let mut rng = Rng::new(0xb41e_f11e);
        let incidents = incidents(&engine, 300, 0x0b1e_f5ed);
        let mut lines = Vec::new();
        let mut objects = Vec::new();
        for full in &incidents {
            let mut entries: Vec<(String, Value)> = full
                .iter()
                .filter(|_| rng.below(4) != 0)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if rng.below(2) == 0 {
                entries.reverse();
            }
            let q = rng.below(engine.pack.questions.len() as u64) as usize;
            let question = engine.pack.questions[q].id.clone();
            let mut text = None;
            match rng.below(9) {
                0 => entries.push((question, json!("not-an-option"))),
                1 => entries.push((question, json!(2.5))),
                2 => entries.push((question, Value::Null)),
                3 => entries.push(("no-such-question".into(), json!(true))),
                4 => entries.push((question, json!([true]))),
                5 => {
                    // A key given twice, as text.
                    let object = Value::Object(entries.iter().cloned().collect()).to_string();
                    text = Some(match entries.first() {
                        Some((k, v)) => format!(
                            "{}, {}: {v}}}",
                            object.trim_end_matches('}'),
                            Value::String(k.clone())
                        ),
                        None => object,
                    });
                }
                6 => {
                    // The first key's first letter escaped.
                    let object = Value::Object(entries.iter().cloned().collect()).to_string();
                    text = Some(match entries.first() {
                        Some((k, _)) => object.replacen(
                            &format!("\"{k}\""),
                            &format!("\"\\u{:04x}{}\"", k.as_bytes()[0], &k[1..]),
                            1,
                        ),
                        None => object,
                    });
                }
                _ => {}
            }
            let object: Map<String, Value> = entries.into_iter().collect();
            lines.push(text.unwrap_or_else(|| Value::Object(object.clone()).to_string()));
            objects.push(object);
        }
        let input = lines.join("\n");
        let (report, out) = stream(&engine, &input, &BRIEF);
        assert_eq!(out.len(), lines.len(), "{id}");
        let mut decided = 0;
        for (i, line) in out.iter().enumerate() {
            let expected = match json::answers_object(lines[i].as_bytes()) {
                Err(e) => json!({
                    "line": i + 1,
                    "errors": [Reported::new(&batch::LineError::Text(e))]
                }),
                Ok(answers)
                    if engine.pack.settings.len() > 1
                        && answers.get("setting").and_then(Value::as_str).is_none() =>
                {
                    // The setting is missing unless an answer is wrong.
                    match engine.answers(&answers) {
                        Err(_) => expected(&engine, i + 1, &answers, Form::Brief),
                        Ok(_) => json!({
                            "line": i + 1,
                            "errors": [Reported::new(&AnswerError::Missing {
                                questions: vec!["setting".into()]
                            })]
                        }),
                    }
                }
                Ok(answers) => expected(&engine, i + 1, &answers, Form::Brief),
            };
            assert_eq!(*line, expected, "{id} line {}: {}", i + 1, lines[i]);
            decided += usize::from(line.get("errors").is_none());
        }
        assert_eq!(report.decided, decided as u64, "{id}");
        assert!(decided > 30, "{id}: only {decided} lines decided");
    }
}
