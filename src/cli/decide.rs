//! `carepath decide`: which level, which route, whom to contact, for one
//! incident's answers, or for each line of a stream of them (a batch).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use carepath::diagnostic::Diagnostics;
use carepath::emit::{self, SourceText};
use carepath::eval::batch::{self, Brief, Form, Reported, Stopped};
use carepath::eval::decision::SettledBy;
use carepath::eval::{AnswerError, Decision, Engine, Integrity, json};
use clap::ValueEnum;
use serde_json::{Map, Value};

use super::Status;
use super::input::{describe, expand, load, read_text};
use super::output::{self, StdoutStream, errln, outln};
use super::report::{self, ErrorFormat};
use super::{terminal_safe, terminal_safe_lines};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people.
    #[default]
    Human,
    /// One JSON object: the decision, or the errors; in a batch, one
    /// compact object a line (JSON Lines).
    Json,
}

/// How much of a batch's input is read at a time.
const INPUT_BUFFER: usize = 64 * 1024;

#[derive(clap::Args)]
pub struct Args {
    /// A rule pack (`out/<id>.json`) or a protocol (`.carepath`).
    #[arg(value_name = "PACK.json|FILE.carepath")]
    input: PathBuf,
    /// The setting: where the child lives (e.g. `residential`); may be left
    /// out when the protocol has only one.
    #[arg(long)]
    setting: Option<String>,
    /// A JSON file of answers (`-` for standard input): an object from
    /// question id to `true`/`false`, an option id or a number. `null` is
    /// the same as leaving the question out: where the question applies and
    /// the decision depends on it, that is a missing answer. Each key once:
    /// a key given twice is refused. A `.jsonl` or `.ndjson` file is a
    /// batch: one such object a line.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// One answer, as `question=value` (e.g. `drugs=possession`); repeat for
    /// more questions, each once. These override `--answers`.
    #[arg(long = "answer", value_name = "QUESTION=VALUE")]
    answer: Vec<String>,
    /// Decide many incidents: `--answers` holds one answers object a line
    /// (JSON Lines; `-` reads them from standard input), and one line is
    /// printed for each, in order: the decision as compact JSON, or
    /// `{"line": N, "errors": [...]}`. A line's setting is `--setting`, else
    /// its own `setting` answer, else the protocol's only setting. Exit
    /// status 0 when every line is decided, 1 when any is not.
    #[arg(long, requires = "answers", conflicts_with_all = ["interactive", "answer"])]
    batch: bool,
    /// How to print the decision [default: human; a batch prints JSON Lines].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Print only the level's id, the police response, the ids of the
    /// procedures alongside and of the deciding rules (JSON only).
    #[arg(long, conflicts_with = "explain")]
    brief: bool,
    /// Also list every rule's condition and whether it held.
    #[arg(long)]
    explain: bool,
    /// Ask the questions that matter one by one on standard input, until
    /// the level, the police response and the procedures are settled.
    #[arg(long, conflicts_with = "answers")]
    interactive: bool,
    /// Use a rule pack that was changed after `carepath build` wrote it, or
    /// made by another tool: without this, a pack whose integrity digest is
    /// missing or does not match its content is refused. The pack is still
    /// checked for everything the compiler guarantees (types, routes,
    /// cycles). Rebuilding the pack with `carepath build` is the better fix.
    #[arg(long)]
    allow_modified: bool,
}

pub fn run(args: Args) -> Status {
    let engine = match engine(&args) {
        Ok(e) => e,
        Err(status) => return status,
    };
    if let Some(path) = args
        .answers
        .as_deref()
        .filter(|p| args.batch || is_lines(p))
    {
        return run_batch(&args, &engine, path);
    }
    let format = args.format.unwrap_or_default();
    if args.brief && format == Format::Human {
        errln!("error: `--brief` is a JSON form: add `--format json`, or decide a batch");
        return Status::Usage;
    }
    let setting = match (&args.setting, engine.pack.settings.as_slice()) {
        (Some(s), _) => s.clone(),
        (None, [only]) => only.id.clone(),
        (None, all) => {
            let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
            errln!(
                "error: say which setting with --setting: one of {}",
                terminal_safe(&ids.join(", "))
            );
            return Status::Usage;
        }
    };
    let mut given = Map::new();
    if let Some(path) = &args.answers {
        match read_answers(path) {
            Ok(m) => given = m,
            Err(message) => {
                errln!("error: {}", terminal_safe(&message));
                return Status::Usage;
            }
        }
    }
    let typed = match typed_answers(&args.answer) {
        Ok(t) => t,
        Err(message) => {
            errln!("error: {}", terminal_safe(&message));
            return Status::Usage;
        }
    };
    let mut errors = Vec::new();
    for (q, v) in typed {
        match engine.parse_answer(q, v) {
            Ok(v) => {
                given.insert(q.to_string(), v);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return bad_answers(format, &errors);
    }
    if args.interactive {
        match ask(&engine, &mut given, &setting) {
            Ok(()) => {}
            Err(message) => {
                errln!("error: {}", terminal_safe(&message));
                return Status::Usage;
            }
        }
    }
    let decided = engine.decide_given(&given, &setting).and_then(|mut d| {
        if args.explain {
            // Answers that are decided are valid.
            let answers = engine.answers(&given)?;
            d.explanation = Some(engine.explanation(&answers, &setting));
        }
        Ok(d)
    });
    match decided {
        Ok(d) => {
            if args.brief {
                let brief = serde_json::to_string_pretty(&Brief::of(&d));
                outln!("{}", brief.unwrap_or_default());
            } else {
                print(format, &d);
            }
            Status::Ok
        }
        Err(errors) => bad_answers(format, &errors),
    }
}

/// A file of JSON Lines, by its name: one answers object a line.
fn is_lines(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"))
}

/// `--answer question=value` pairs, split, each question once: a second
/// answer to the same question is refused with both values, since which
/// one was meant cannot be known (taking the last would decide on a guess).
fn typed_answers(pairs: &[String]) -> Result<Vec<(&str, &str)>, String> {
    let mut typed: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let Some((q, v)) = pair.split_once('=') else {
            return Err(format!(
                "`--answer {pair}` should be written `question=value`"
            ));
        };
        let q = q.trim();
        if let Some((_, first)) = typed.iter().find(|(seen, _)| *seen == q) {
            return Err(format!(
                "`{q}` is answered twice with --answer: `{}` and `{}`; give each question one answer",
                first.trim(),
                v.trim()
            ));
        }
        typed.push((q, v));
    }
    Ok(typed)
}

/// Decide each line of `path` (JSON Lines), printing one line for each.
fn run_batch(args: &Args, engine: &Engine, path: &Path) -> Status {
    let refused = if args.format == Some(Format::Human) {
        Some("a batch prints JSON Lines, one decision a line: leave out `--format human`")
    } else if !args.answer.is_empty() {
        Some("`--answer` gives one incident's answers; in a batch each line gives its own")
    } else if args.interactive {
        Some("`--interactive` asks about one incident; a batch reads every answer from its lines")
    } else {
        None
    };
    if let Some(why) = refused {
        errln!("error: {why}");
        return Status::Usage;
    }
    if let Some(s) = &args.setting
        && !engine.pack.settings.iter().any(|x| x.id == *s)
    {
        let ids: Vec<&str> = engine.pack.settings.iter().map(|s| s.id.as_str()).collect();
        errln!(
            "error: there is no setting `{}`: the settings are {}",
            terminal_safe(s),
            terminal_safe(&ids.join(", "))
        );
        return Status::Usage;
    }
    let options = batch::Options {
        setting: args.setting.as_deref(),
        form: if args.brief {
            Form::Brief
        } else {
            Form::Full {
                explain: args.explain,
            }
        },
    };
    let report = if path == Path::new("-") {
        let input = BufReader::with_capacity(INPUT_BUFFER, std::io::stdin().lock());
        batch::run(engine, input, StdoutStream::new(), &options)
    } else {
        match File::open(path) {
            Ok(file) => {
                let input = BufReader::with_capacity(INPUT_BUFFER, file);
                batch::run(engine, input, StdoutStream::new(), &options)
            }
            Err(e) => {
                errln!(
                    "error: cannot read {}: {}",
                    terminal_safe(&path.display().to_string()),
                    describe(&e)
                );
                return Status::Usage;
            }
        }
    };
    match &report.stopped {
        Some(Stopped::Read { line, error }) => {
            let name = if path == Path::new("-") {
                "standard input".to_string()
            } else {
                path.display().to_string()
            };
            errln!(
                "error: cannot read {} at line {line}: {}",
                terminal_safe(&name),
                describe(error)
            );
            return Status::Usage;
        }
        // Recorded by the writer: a closed pipe ends quietly with the
        // status of the lines decided so far, another error gives status 2
        // when the run finishes.
        Some(Stopped::Write(_)) | None => {}
    }
    if report.all_decided() {
        Status::Ok
    } else {
        Status::Errors
    }
}

/// Load a rule pack (refusing one changed since it was built, unless
/// `--allow-modified`), or compile a protocol into one.
fn engine(args: &Args) -> Result<Engine, Status> {
    let path = args.input.as_path();
    if path.extension().is_some_and(|e| e == "carepath") {
        let (inputs, problems) = expand(&[path.to_path_buf()]);
        let (ws, roots, read_problems) = load(&inputs);
        let problems: Vec<_> = problems.into_iter().chain(read_problems).collect();
        if !problems.is_empty() {
            report::io_problems(ErrorFormat::Human, &problems);
            return Err(Status::Usage);
        }
        let root = roots[0];
        let checked = carepath::check(&ws, root);
        let mut diags = Diagnostics::new();
        diags.extend(ws.diagnostics());
        diags.extend(checked.diagnostics.iter().cloned());
        let Some(model) = checked.model.filter(|m| m.is_protocol()) else {
            let sorted = diags.sorted(&ws.sources);
            report::diagnostics(ErrorFormat::Human, &ws.sources, &sorted);
            eprintln!("error: {} is not a protocol that compiles", path.display());
            return Err(Status::Usage);
        };
        let file = ws.sources.get(root);
        let texts = [SourceText {
            path: file.name(),
            text: &file.text,
        }];
        let pack = emit::rule_pack(&model, &texts, &checked.diagnostics);
        Engine::new(pack).map_err(|e| {
            eprintln!("error: {e}");
            Status::Usage
        })
    } else {
        let text = read_text(path).map_err(|e| {
            eprintln!("error: cannot read {}: {e}", path.display());
            Status::Usage
        })?;
        let integrity = if args.allow_modified {
            Integrity::AllowModified
        } else {
            Integrity::Verify
        };
        Engine::from_json_with(&text, integrity).map_err(|e| {
            eprintln!("error: cannot use {}: {e}", path.display());
            Status::Usage
        })
    }
}

/// One incident's answers object, read strictly (`carepath::eval::json`):
/// a key given twice or a top level that is not an object is refused.
fn read_answers(path: &Path) -> Result<Map<String, Value>, String> {
    let text = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read answers from standard input: {}", describe(&e)))?;
        bytes
    } else {
        read_text(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .into_bytes()
    };
    let name = if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    json::answers_object(&text).map_err(|e| format!("{name}: {e}"))
}

/// Ask the questions that matter, one at a time, until the level is
/// settled. Prompts go to standard error, so the decision alone is on
/// standard output.
fn ask(engine: &Engine, given: &mut Map<String, Value>, setting: &str) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        let answers = engine.answers(given).map_err(|e| join(&e))?;
        let answers = engine
            .with_setting(&answers, setting)
            .map_err(|e| e.to_string())?;
        let Some(q) = engine.next_question(&answers) else {
            return Ok(());
        };
        let choices: Vec<String> = match q.kind {
            emit::pack::QuestionKind::YesNo => vec!["yes".into(), "no".into()],
            _ => q
                .options
                .iter()
                .map(|o| format!("{} ({})", o.id, o.title))
                .collect(),
        };
        errln!("\n{}", terminal_safe(&q.text));
        if choices.is_empty() {
            let what = match q.kind {
                emit::pack::QuestionKind::Amount => "an amount in pounds".to_string(),
                _ => format!("a whole number of at least {}", q.minimum.unwrap_or(0)),
            };
            errln!("  answer with {what}");
        } else {
            for c in &choices {
                errln!("  - {}", terminal_safe(c));
            }
        }
        loop {
            output::err(&format!("{}> ", terminal_safe(&q.id)));
            let Some(line) = lines.next() else {
                return Err(format!("no answer to `{}`: the input ended", q.id));
            };
            let line = line.map_err(|e| format!("cannot read the answer: {e}"))?;
            match engine.parse_answer(&q.id, &line) {
                Ok(v) => {
                    given.insert(q.id.clone(), v);
                    break;
                }
                Err(e) => {
                    errln!("  {}; try again", terminal_safe(&e.to_string()));
                }
            }
        }
    }
}

fn join(errors: &[AnswerError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn bad_answers(format: Format, errors: &[AnswerError]) -> Status {
    match format {
        Format::Human => {
            for e in errors {
                errln!("error: {}", terminal_safe(&e.to_string()));
                // The protocol's own words on why it leaves this incident
                // undecided, so a gap is never a bare error.
                if let AnswerError::NoLevel { accepted, .. } = e {
                    for reason in accepted {
                        errln!("  the protocol accepts this: {}", terminal_safe(reason));
                    }
                }
            }
        }
        Format::Json => {
            let errors: Vec<Reported<AnswerError>> = errors.iter().map(Reported::new).collect();
            let out = serde_json::json!({ "errors": errors });
            outln!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
    Status::Errors
}

fn print(format: Format, d: &Decision) {
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(d).unwrap_or_default());
        return;
    }
    let mut out = String::new();
    let cite = |c: &[emit::pack::Citation]| -> String {
        if c.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                c.iter()
                    .map(|c| c.section.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    };
    let notes = |out: &mut String, indent: &str, notes: &[String]| {
        for n in notes {
            out.push_str(&format!("{indent}note: {n}\n"));
        }
    };
    out.push_str(&format!(
        "Level: {}{}\n",
        d.level.title,
        cite(d.level.cites)
    ));
    let from: Vec<String> = d
        .police
        .from
        .iter()
        .filter(|f| **f != "level")
        .map(|f| format!("`{f}`"))
        .collect();
    let from = if from.is_empty() {
        String::new()
    } else {
        format!(" (by rule {})", from.join(", "))
    };
    out.push_str(&format!("Police: {}{from}\n", d.police.words));
    // A procedure's own police response is part of the headline: "no police
    // involvement" for the level must not hide "tell the police promptly"
    // for the drugs found alongside it.
    for p in &d.procedures {
        if let Some(police) = &p.police {
            out.push_str(&format!(
                "Police, alongside ({}): {}\n",
                p.title, police.words
            ));
        }
    }
    if d.by_otherwise {
        out.push_str("Decided by: no rule applies, so the protocol's `otherwise` level\n");
    }
    for r in &d.deciding {
        out.push_str(&format!(
            "Decided by: rule `{}`{} ({})\n",
            r.id,
            cite(r.cites),
            strength(r.strength)
        ));
    }
    for r in &d.overruled {
        out.push_str(&format!(
            "Also applies, overruled: rule `{}`{} gives `{}`\n",
            r.id,
            cite(r.cites),
            r.level
        ));
    }
    for r in &d.suggestions {
        out.push_str(&format!(
            "Consider: `{}`, which rule `{}`{} says {} apply; the protocol leaves it to judgement\n",
            r.level,
            r.id,
            cite(r.cites),
            strength(r.strength)
        ));
    }
    notes(&mut out, "", d.level.notes);
    for r in d.deciding.iter().chain(&d.suggestions) {
        for n in r.notes {
            out.push_str(&format!("note (rule `{}`): {n}\n", r.id));
        }
    }
    for a in &d.accepted {
        out.push_str(&format!(
            "Left open by the document: {}{}\n",
            a.reason,
            cite(a.cites)
        ));
    }
    for p in &d.procedures {
        out.push_str(&format!("\nAlongside: {}{}\n", p.title, cite(p.cites)));
        if let Some(police) = &p.police {
            out.push_str(&format!("Police: {}\n", police.words));
        }
        notes(&mut out, "", p.notes);
        if let Some(route) = &p.route {
            route_lines(&mut out, route, &cite);
        }
    }
    if let Some(route) = &d.route {
        out.push_str(&format!("\nRoute for `{}`: {}\n", d.setting, route.title));
        route_lines(&mut out, route, &cite);
    } else if let Some(why) = &d.no_route {
        out.push_str(&format!("\nNo route for `{}`: {why}\n", d.setting));
    }
    for c in &d.checklists {
        out.push_str(&format!("\nChecklist: {}\n", c.title));
        for item in &c.items {
            let by = if item.by.is_empty() {
                String::new()
            } else {
                format!(" ({})", item.by.join(", "))
            };
            out.push_str(&format!("  - {}{by}\n", item.text));
        }
    }
    if let Some(explanation) = &d.explanation {
        out.push_str("\nWhy: every rule, and whether it held\n");
        for r in explanation {
            let mark = match r.held {
                Some(true) => "held",
                Some(false) => "failed",
                None => "not settled",
            };
            out.push_str(&format!(
                "  {mark:>11}  `{}` -> {}: {}\n",
                r.rule, r.level, r.when
            ));
            for t in &r.tests {
                let mark = match t.held {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "?",
                };
                out.push_str(&format!("               {mark:>3}  {}\n", t.test));
            }
        }
    }
    output::out(&terminal_safe_lines(&out));
}

fn strength(s: emit::pack::Strength) -> &'static str {
    match s {
        emit::pack::Strength::Must => "must",
        emit::pack::Strength::Should => "should",
        emit::pack::Strength::May => "may",
    }
}

/// A route as the incident goes through it, numbered in order: who acts,
/// whom to contact (with fallbacks and conditions), timing, and each
/// decision with its answer or, when staff decide, its branches by the titles
/// they lead to and the factors to weigh.
fn route_lines(
    out: &mut String,
    route: &carepath::eval::Route,
    cite: &dyn Fn(&[emit::pack::Citation]) -> String,
) {
    for (i, s) in route.steps.iter().enumerate() {
        out.push_str(&format!("{:>3}. {}{}\n", i + 1, s.text, cite(s.cites)));
        if let Some(c) = &s.only_if {
            out.push_str(&format!("     only if: {c}\n"));
        }
        if !s.by.is_empty() {
            out.push_str(&format!("     by: {}\n", s.by.join(", ")));
        }
        for a in &s.actions {
            let whom: Vec<String> = a
                .targets
                .iter()
                .map(|chain| {
                    chain
                        .iter()
                        .map(|c| {
                            let how: Vec<&str> = [&c.phone, &c.web, &c.email]
                                .into_iter()
                                .flatten()
                                .copied()
                                .collect();
                            if how.is_empty() {
                                c.title.to_string()
                            } else {
                                format!("{} ({})", c.title, how.join(", "))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", or if not available, ")
                })
                .collect();
            let verb = match a.kind {
                emit::pack::ActionKind::Contact => "contact",
                emit::pack::ActionKind::Consult => "consult",
                emit::pack::ActionKind::Inform => "inform",
                emit::pack::ActionKind::Report => "report to",
            };
            let mut line = format!("     {verb}: {}", whom.join("; "));
            if a.in_doubt {
                line.push_str(" (in cases of doubt)");
            }
            if let Some(c) = &a.only_if {
                line.push_str(&format!(" (if {c})"));
            }
            out.push_str(&line);
            out.push('\n');
        }
        if !s.timing.is_empty() {
            out.push_str(&format!("     when: {}\n", s.timing.join("; ")));
        }
        for f in &s.weigh {
            out.push_str(&format!(
                "     weigh ({}): {}\n",
                f.title,
                f.items.join("; ")
            ));
        }
        match (s.answer, s.settled_by) {
            (Some(answer), by) => {
                let title = s
                    .branches
                    .iter()
                    .find(|b| b.answer == answer)
                    .map_or(answer, |b| b.title);
                let why = match by {
                    Some(SettledBy::Document) => "the protocol fixes this answer",
                    _ => "from the answers given",
                };
                out.push_str(&format!("     answer: {title} ({why})\n"));
            }
            (None, _) if !s.branches.is_empty() => {
                out.push_str("     to decide:\n");
                for b in &s.branches {
                    out.push_str(&format!("       {} -> {}\n", b.title, b.to_text));
                }
            }
            _ => {}
        }
        if let Some(again) = &s.then_again {
            out.push_str(&format!("     then back to `{again}`\n"));
        }
        for n in s.notes {
            out.push_str(&format!("     note: {n}\n"));
        }
    }
}
