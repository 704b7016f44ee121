//! The command-line front end: one file per subcommand. This is the only
//! part of Carepath that touches the file system.

mod build;
mod check;
mod compare;
mod decide;
mod diff;
mod fmt;
mod input;
mod lsp;
mod output;
mod publish;
mod report;
mod schema;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Text from a protocol, a pack or a path, made safe to print on a
/// terminal: every human report passes such text through these.
pub use carepath::diagnostic::text::{terminal_safe, terminal_safe_lines};

/// Carepath compiles police-involvement protocols for children in care:
/// it checks them, finds rules that conflict or never apply, and builds the
/// flowchart and the JSON rule pack that other apps load.
#[derive(Parser)]
#[command(name = "carepath", version, about, long_about = None)]
#[command(propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check protocols and report every error and warning.
    ///
    /// Exit status: 0 when there are no errors, 1 when there are, 2 when a
    /// file cannot be read or the command is used wrongly.
    Check(check::Args),
    /// Check protocols, then write each one's rule pack (`<id>.json`), its
    /// two pictures, each as DOT and SVG, and its handbook page: the
    /// picture a board reads (`<id>.dot`, `<id>.svg`: the levels side by
    /// side, least to most serious, each with its police response and the
    /// rules that put an incident there, the procedures alongside, and each
    /// setting's route below; it fits one A3 page), the exact question
    /// diagram (`<id>-questions.dot`, `<id>-questions.svg`: each question
    /// drawn once where the structure allows, the safety questions first),
    /// and the handbook page (`<id>.html`): one self-contained file to read,
    /// print or open on a phone, with the levels, criteria, routes, contacts
    /// and a "try an incident" panel that agrees with `decide`.
    ///
    /// A protocol's files are replaced together or not at all: a protocol
    /// with errors, or whose files cannot all be written, leaves its
    /// previous files as they were. Builds into the same folder take turns.
    /// SVG is drawn by Graphviz `dot` when it is installed, else by a
    /// built-in renderer. Exit status as for `check`; 2 also when a file
    /// cannot be written.
    Build(build::Args),
    /// Decide an incident: its level, the deciding rules, the route for the
    /// setting, whom to contact and what to complete.
    ///
    /// Exit status: 0 with a decision, 1 without one (bad or missing
    /// answers, or an incident the protocol does not decide), 2 when
    /// the rule pack or protocol cannot be used or the command is misused.
    Decide(decide::Args),
    /// Compare two versions of a protocol: what each element of the newer
    /// one adds, removes, changes or renames, with the citations on both
    /// sides. Either side is a protocol (`.carepath`), a rule pack
    /// (`.json`), or, with `--from` (and `--to`), the file at a git
    /// revision.
    ///
    /// Both what changed in the text and what changed in behaviour: every
    /// region of incidents whose level, police response, procedures or
    /// route changes, with an example incident and the rules behind it.
    ///
    /// Exit status: 0 when every incident is handled alike (a change in
    /// text alone, such as a reworded or renamed rule, is 0), 1 when
    /// behaviour differs (with `--fail-on more-police`, only when some
    /// incident moves to more police involvement), 2 when a side cannot be
    /// read, compiled or compared or the command is misused.
    Diff(diff::Args),
    /// Compare authorities: the same incidents in several protocols, as a
    /// table of incident classes (over the questions at least two of them
    /// share, such as the common vocabulary) against each protocol's level
    /// and police response, most disagreement first. Questions only one
    /// protocol asks vary within a row, and are named where they decide.
    ///
    /// Exit status: 0 with a comparison, 2 when a protocol or pack cannot
    /// be read, compiled or compared, or fewer than two are given.
    Compare(compare::Args),
    /// Rewrite protocols in the canonical layout: indentation, spacing,
    /// blank lines, long conditions broken before `and` and `or`, comments
    /// kept where they were.
    ///
    /// Only files that change are rewritten (each replaced whole, never
    /// left half-written), and each is named. A file with syntax errors is
    /// left as it is and its errors reported as `check` reports them.
    /// `--check` writes nothing and lists the files that would change; `-`
    /// or `--stdin` formats standard input to standard output.
    ///
    /// Exit status: 0 when every file is formatted (with `--check`: already
    /// was), 1 when a file has syntax errors or, with `--check`, would
    /// change, 2 when a file cannot be read or written or the command is
    /// misused.
    Fmt(fmt::Args),
    /// Print the JSON Schema of the rule pack format (`schema pack`, the
    /// default), of a decision (`schema decision`), of a review (`schema
    /// diff`) or of a comparison of authorities (`schema compare`).
    Schema(schema::Args),
    /// Serve editors over the Language Server Protocol on standard input
    /// and output: the diagnostics of `check` as you type, hover with
    /// titles and citations, go to definition, references, completion,
    /// rename and the outline of a file.
    ///
    /// Exit status: 0 after the editor's `shutdown` and `exit`, 1 when
    /// input ends or `exit` comes without `shutdown`.
    Lsp(lsp::Args),
}

/// What a run ended with. The numbers are the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok = 0,
    Errors = 1,
    Usage = 2,
}

impl Status {
    /// The status of a run: usage and I/O problems first, then errors.
    pub fn of(problems: usize, errors: usize) -> Status {
        if problems > 0 {
            Status::Usage
        } else if errors > 0 {
            Status::Errors
        } else {
            Status::Ok
        }
    }
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help, version and usage errors, written like every other output
        // so that `carepath --help | head` or `> /dev/full` is handled.
        Err(e) => {
            let terminal = if e.use_stderr() {
                std::io::stderr().is_terminal()
            } else {
                std::io::stdout().is_terminal()
            };
            let text = if terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            if e.use_stderr() {
                output::err(&text);
            } else {
                output::out(&text);
            }
            let status = if e.exit_code() == 0 {
                Status::Ok
            } else {
                Status::Usage
            };
            return output::finish(status).into();
        }
    };
    let status = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Build(args) => build::run(args),
        Command::Decide(args) => decide::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Lsp(args) => lsp::run(args),
    };
    output::finish(status).into()
}
