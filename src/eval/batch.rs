//! Many incidents in one stream: JSON Lines in (one answers object a line),
//! one line out per line in, in the same order.
//!
//! Each line out is the incident's decision, as compact JSON (the whole
//! decision, the same object `carepath decide --format json` prints for one
//! incident, or its [`Brief`] form), or the line's errors as
//! `{"line": N, "errors": [...]}`. A bad line never stops the lines after
//! it; only failing to read the input or to write the output does.
//!
//! The stream is read a line at a time into one buffer, and written through
//! one buffered writer, so memory stays the same however many incidents
//! there are (a line longer than [`MAX_ANSWERS_BYTES`] is skipped to its
//! end and reported, not held) and there is no system call per line. The
//! caller supplies the reader and the writer: the command passes standard
//! input or a file and standard output, benchmarks and tests pass memory.

use std::fmt;
use std::io::{self, BufRead, BufWriter, Read, Write};

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::classes::with_scratch;
use super::compiled::End;
use super::json::{self, AnswersTextError, MAX_ANSWERS_BYTES};
use super::{AnswerError, Decision, Engine, Outcome};
use crate::emit::pack;

/// How each decided incident is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The whole decision, as `decide --format json` prints it; `explain`
    /// adds every rule's condition and whether it held.
    Full { explain: bool },
    /// Only the level, the police response, the procedures and the deciding
    /// rules ([`Brief`]).
    Brief,
}

/// What every line of a stream is decided with.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// The setting of every incident. Without it, each line's own answer to
    /// the setting question is used, else the protocol's only setting; a
    /// line that gives neither, in a protocol with several, is an error.
    pub setting: Option<&'a str>,
    pub form: Form,
}

/// The short form of a decision: enough to log or count incidents by level
/// and police involvement, a small fraction of the whole decision's size.
///
/// `police` is the level's response (or the deciding rules' own); a
/// procedure can involve the police on its own account (drugs told to the
/// police alongside a level handled in the home), which only the whole
/// decision shows, so a reader that acts on police involvement should look
/// at the procedures too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Brief<'d> {
    /// The level's id.
    pub level: &'d str,
    /// How the police are involved, as the pack's word for it: `none`,
    /// `judgement`, `advice`, `report`, `prompt`, `emergency`, or
    /// `unstated` where the document does not say.
    pub police: pack::Response,
    /// The ids of the procedures that run alongside the level.
    pub procedures: Vec<&'d str>,
    /// The ids of the rules that decided the level; empty when no rule
    /// applied and the level is the protocol's `otherwise`.
    pub deciding: Vec<&'d str>,
}

impl<'d> Brief<'d> {
    pub fn of(d: &Decision<'d>) -> Brief<'d> {
        Brief {
            level: d.level.id,
            police: d.police.response,
            procedures: d.procedures.iter().map(|p| p.id).collect(),
            deciding: d.deciding.iter().map(|r| r.id).collect(),
        }
    }
}

impl Engine {
    /// The brief form of the decision an answers object (as for
    /// [`Engine::answers`]) reaches in a setting: [`Brief::of`] the
    /// decision [`Engine::decide`] gives, with the same errors. Answers
    /// that reach an end of the compiled decision and settle every rule
    /// and procedure are read straight into answer classes and decided
    /// there, without building the decision.
    pub fn brief(
        &self,
        given: &Map<String, Value>,
        setting: &str,
    ) -> Result<Brief<'_>, Vec<AnswerError>> {
        if let Some(brief) = self.brief_directly(given, setting) {
            return brief;
        }
        let answers = self.answers(given)?;
        self.decide(&answers, setting).map(|d| Brief::of(&d))
    }

    #[allow(clippy::type_complexity)]
    fn brief_directly(
        &self,
        given: &Map<String, Value>,
        setting: &str,
    ) -> Option<Result<Brief<'_>, Vec<AnswerError>>> {
        self.walk_given(given, setting, None, |end, _, class, _| {
            self.brief_at(end, class)
        })
    }

    /// [`Engine::brief`] straight from a line's text, with the setting the
    /// command gives or else the line's own (or the pack's only one):
    /// nothing is built but the brief form. `None` when the full path must
    /// judge the line.
    #[allow(clippy::type_complexity)]
    fn brief_of_text(
        &self,
        text: &[u8],
        setting: Option<&str>,
    ) -> Option<Result<Brief<'_>, Vec<AnswerError>>> {
        with_scratch(self.pack.questions.len(), |class| {
            let mut next = 0;
            json::read_flat(text, |id, v| {
                self.read_class(class, &mut next, id, &v).map(|_| ())
            })?;
            let own = self.given_setting(class);
            let si = match (setting, own) {
                (Some(s), _) => self.pack.settings.iter().position(|x| x.id == s)?,
                (None, Some(si)) => si,
                (None, None) if self.pack.settings.len() == 1 => 0,
                (None, None) => return None,
            };
            self.walk_classes(si, class, |end, _, class| self.brief_at(end, class))
        })
    }

    /// The deciding rules that hold (`held`, three-valued); `None` when one
    /// is open.
    fn deciding_holding(&self, held: impl Fn(usize) -> Option<bool>) -> Option<Vec<usize>> {
        let mut holding = Vec::new();
        for &r in self.deciding_rule_indices() {
            if held(r)? {
                holding.push(r);
            }
        }
        Some(holding)
    }

    /// The brief form at an end of the compiled decision, for answers read
    /// into classes: `None` when a deciding rule or a procedure is still
    /// open, which `decide` explains.
    #[allow(clippy::type_complexity)]
    fn brief_at(&self, end: End, class: &[u32]) -> Option<Result<Brief<'_>, Vec<AnswerError>>> {
        let classes = self.classes();
        let pack = &self.pack;
        let (level, key) = match end {
            End::Level { level, key } => (level, key),
            End::Undecided => return Some(Err(self.undecided_classes(Outcome::Undecided, class))),
            End::Conflict => return Some(Err(self.undecided_classes(Outcome::Conflict, class))),
        };
        let holding = match &classes.clauses {
            Some(clauses) => {
                let truth = clauses.truth(class);
                self.deciding_holding(|r| clauses.rule(r, truth))?
            }
            None => self.deciding_holding(|r| classes.rules[r].eval3(class))?,
        };
        let mut procedures = Vec::new();
        for (p, cond) in classes.procedures.iter().enumerate() {
            if cond.eval3(class)? {
                procedures.push(pack.procedures[p].id.as_str());
            }
        }
        Some(Ok(Brief {
            level: &pack.levels[level].id,
            police: self.police_table().values[key as usize].0,
            procedures,
            deciding: self
                .deciding_of(level, &holding)
                .into_iter()
                .map(|r| pack.rules[r].id.as_str())
                .collect(),
        }))
    }
}

/// Why one incident has no decision: its text, or its answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(untagged)]
pub enum LineError {
    #[error(transparent)]
    Text(#[from] AnswersTextError),
    #[error(transparent)]
    Answer(#[from] AnswerError),
}

/// An error as JSON: its own fields (`kind` first) and its `message` in
/// words, the object `decide --format json` prints for each error.
#[derive(Serialize)]
pub struct Reported<'e, E: Serialize + fmt::Display> {
    #[serde(flatten)]
    error: &'e E,
    #[serde(serialize_with = "in_words")]
    message: &'e E,
}

impl<'e, E: Serialize + fmt::Display> Reported<'e, E> {
    pub fn new(error: &'e E) -> Self {
        Reported {
            error,
            message: error,
        }
    }
}

fn in_words<E: fmt::Display, S: Serializer>(e: &&E, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(*e)
}

/// The line written for an incident without a decision.
#[derive(Serialize)]
struct ErrorsLine<'e> {
    /// The line's number in the input, from 1.
    line: u64,
    errors: Vec<Reported<'e, LineError>>,
}

/// What a stream came to.
#[derive(Debug, Default)]
pub struct Report {
    /// Lines read (each answered by a line out, unless `stopped` says the
    /// output failed).
    pub lines: u64,
    /// Lines decided; the rest were written as errors.
    pub decided: u64,
    /// Why the stream ended before its input did.
    pub stopped: Option<Stopped>,
}

impl Report {
    /// Every line read was decided.
    pub fn all_decided(&self) -> bool {
        self.decided == self.lines
    }
}

/// A stream that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// The input could not be read past this line.
    #[error("cannot read line {line}: {error}")]
    Read { line: u64, error: io::Error },
    /// The output could not be written (for a closed pipe,
    /// `io::ErrorKind::BrokenPipe`).
    #[error("cannot write: {0}")]
    Write(io::Error),
}

/// How much output is gathered before each write to `output`.
const OUTPUT_BUFFER: usize = 64 * 1024;

/// Decide every line of `input`, writing one line to `output` for each.
pub fn run(
    engine: &Engine,
    mut input: impl BufRead,
    output: impl Write,
    options: &Options,
) -> Report {
    let mut output = BufWriter::with_capacity(OUTPUT_BUFFER, output);
    let mut report = Report::default();
    // One line's text and one answers map, reused for every line.
    let mut text = Vec::with_capacity(1024);
    let mut given = Map::new();
    loop {
        let next = next_line(&mut input, &mut text);
        let fits = match next {
            Ok(Some(fits)) => fits,
            Ok(None) => break,
            Err(error) => {
                report.stopped = Some(Stopped::Read {
                    line: report.lines + 1,
                    error,
                });
                break;
            }
        };
        report.lines += 1;
        let outcome = if fits {
            decide_line(engine, &text, &mut given, options.setting, options.form)
        } else {
            Err(vec![LineError::Text(AnswersTextError::TooLong {
                limit: MAX_ANSWERS_BYTES,
            })])
        };
        let written = match &outcome {
            Ok(d) => {
                report.decided += 1;
                serde_json::to_writer(&mut output, d)
            }
            Err(errors) => serde_json::to_writer(
                &mut output,
                &ErrorsLine {
                    line: report.lines,
                    errors: errors.iter().map(Reported::new).collect(),
                },
            ),
        };
        if let Err(e) = written
            .map_err(io::Error::from)
            .and_then(|()| output.write_all(b"\n"))
        {
            report.stopped = Some(Stopped::Write(e));
            return report;
        }
    }
    if let Err(e) = output.flush() {
        report.stopped.get_or_insert(Stopped::Write(e));
    }
    report
}

/// Read the next line into `text`, without its `\n`: `Some(true)`, or
/// `Some(false)` for a line longer than [`MAX_ANSWERS_BYTES`], which is
/// read past but not kept; `None` at the end of the input.
fn next_line(input: &mut impl BufRead, text: &mut Vec<u8>) -> io::Result<Option<bool>> {
    text.clear();
    let limit = MAX_ANSWERS_BYTES as u64 + 1;
    if Read::take(&mut *input, limit).read_until(b'\n', text)? == 0 {
        return Ok(None);
    }
    if text.last() == Some(&b'\n') {
        text.pop();
        return Ok(Some(true));
    }
    if text.len() <= MAX_ANSWERS_BYTES {
        // The last line, without a `\n`.
        return Ok(Some(true));
    }
    text.clear();
    input.skip_until(b'\n')?;
    Ok(Some(false))
}

/// One line's decision: its answers read strictly, checked, and decided
/// for the setting the options or the line give.
fn decide_line<'e>(
    engine: &'e Engine,
    text: &[u8],
    given: &mut Map<String, Value>,
    setting: Option<&str>,
    form: Form,
) -> Result<Decided<'e>, Vec<LineError>> {
    let lift = |errors: Vec<AnswerError>| -> Vec<LineError> {
        errors.into_iter().map(LineError::from).collect()
    };
    if form == Form::Brief
        && let Some(brief) = engine.brief_of_text(text, setting)
    {
        return brief.map(Decided::Brief).map_err(lift);
    }
    json::answers_object_into(text, given).map_err(|e| vec![e.into()])?;
    if form == Form::Brief
        && let Ok(setting) = line_setting(engine, given, setting)
    {
        return engine
            .brief(given, setting)
            .map(Decided::Brief)
            .map_err(lift);
    }
    let setting = match line_setting(engine, given, setting) {
        Ok(setting) => setting,
        Err(e) => {
            // Wrong answers are reported before a missing setting.
            engine.answers(given).map_err(lift)?;
            return Err(vec![e.into()]);
        }
    };
    let mut d = engine.decide_given(given, setting).map_err(lift)?;
    if form == (Form::Full { explain: true }) {
        let answers = engine.answers(given).map_err(lift)?;
        d.explanation = Some(engine.explanation(&answers, setting));
    }
    Ok(match form {
        Form::Brief => Decided::Brief(Brief::of(&d)),
        Form::Full { .. } => Decided::Full(d),
    })
}

/// The setting a line is decided for: the one the command gives, else the
/// line's own answer to the setting question, else the pack's only one.
fn line_setting<'a>(
    engine: &'a Engine,
    given: &'a Map<String, Value>,
    setting: Option<&'a str>,
) -> Result<&'a str, AnswerError> {
    match (setting, engine.pack.settings.as_slice()) {
        (Some(s), _) => Ok(s),
        (None, settings) => {
            let own = engine
                .setting_question()
                .and_then(|q| given.get(&engine.pack.questions[q].id))
                .and_then(Value::as_str);
            match (own, settings) {
                (Some(s), _) => Ok(s),
                (None, [only]) => Ok(&only.id),
                // The setting is the first question, and unanswered.
                (None, _) => Err(AnswerError::Missing {
                    questions: vec![
                        engine
                            .setting_question()
                            .map(|q| engine.pack.questions[q].id.clone())
                            .unwrap_or_else(|| "setting".into()),
                    ],
                }),
            }
        }
    }
}

/// A line's decision, in the form asked for. One is on the stack at a
/// time, so the difference in size between the forms costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
enum Decided<'e> {
    Full(Decision<'e>),
    Brief(Brief<'e>),
}
