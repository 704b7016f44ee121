//! `carepath fmt`: rewrite protocol files in the canonical layout.
//!
//! Formatting itself is `carepath::syntax::format`, a pure function; this
//! file finds the files, reads them, and replaces each one that changes
//! through a temporary beside it, renamed over it once written and synced,
//! so a file is never left half-written and an unchanged file is never
//! touched (its modification time stays, so build tools see no change).

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use carepath::diagnostic::Diagnostics;
use carepath::source::{Sources, display_path};
use carepath::syntax::format::format_file;

use super::Status;
use super::input::{IoProblem, describe, expand, read_text};
use super::output::{errln, outln};
use super::report::{self, Counts, ErrorFormat};
use super::terminal_safe;

#[derive(clap::Args)]
pub struct Args {
    /// Protocol files, or folders to search for `.carepath` files; `-`
    /// reads standard input and writes the result to standard output.
    #[arg(value_name = "FILE|DIR", required_unless_present = "stdin")]
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not in the canonical layout,
    /// with their first difference, and exit with status 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// Read a protocol from standard input and write it formatted to
    /// standard output (as editors expect).
    #[arg(long, conflicts_with = "paths")]
    pub stdin: bool,
    /// How to print syntax errors.
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
}

pub fn run(args: Args) -> Status {
    let dash = Path::new("-");
    if args.stdin || args.paths.iter().any(|p| p == dash) {
        if args.paths.len() > 1 {
            errln!("error: `-` (standard input) cannot be formatted together with files");
            return Status::Usage;
        }
        return run_stdin(&args);
    }

    let (inputs, mut problems) = expand(&args.paths);
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let mut changed = 0;
    let mut unparsed = 0;
    for input in &inputs {
        let text = match read_text(&input.path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(IoProblem::new(&input.path, e.to_string()));
                continue;
            }
        };
        let id = sources.add(input.path.clone(), text.as_str());
        let formatted = match format_file(id, &text) {
            Ok(f) => f,
            Err(errors) => {
                unparsed += 1;
                diags.extend(errors);
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        let shown = terminal_safe(&display_path(&input.path)).to_string();
        if args.check {
            outln!("would reformat {shown}");
            outln!("{}", first_difference(&text, &formatted));
        } else {
            match replace(&input.path, &formatted) {
                Ok(()) => outln!("formatted {shown}"),
                Err(e) => {
                    changed -= 1;
                    problems.push(IoProblem::writing(&input.path, describe(&e)));
                }
            }
        }
    }

    let sorted = diags.sorted(&sources);
    let counts = Counts::of(&sorted);
    report::io_problems(args.error_format, &problems);
    report::diagnostics(args.error_format, &sources, &sorted);
    if args.error_format == ErrorFormat::Human {
        let files = inputs.len();
        let plural = if files == 1 { "" } else { "s" };
        let verb = if args.check {
            "would reformat"
        } else {
            "formatted"
        };
        let errors = if unparsed > 0 {
            format!(", {unparsed} not formatted for syntax errors")
        } else {
            String::new()
        };
        errln!("{verb} {changed} of {files} file{plural}{errors}");
    }
    if !problems.is_empty() {
        Status::Usage
    } else if counts.errors > 0 || (args.check && changed > 0) {
        Status::Errors
    } else {
        Status::Ok
    }
}

/// Standard input to standard output; with `--check`, only the status and
/// the first difference.
fn run_stdin(args: &Args) -> Status {
    let mut bytes = Vec::new();
    if let Err(e) = io::stdin().lock().read_to_end(&mut bytes) {
        errln!("error: cannot read standard input: {}", describe(&e));
        return Status::Usage;
    }
    let Ok(text) = String::from_utf8(bytes) else {
        errln!("error: cannot read standard input: it is not UTF-8 text");
        return Status::Usage;
    };
    let mut sources = Sources::new();
    let id = sources.add(PathBuf::from("<stdin>"), text.as_str());
    match format_file(id, &text) {
        Ok(formatted) if args.check => {
            if formatted == text {
                Status::Ok
            } else {
                errln!("would reformat <stdin>");
                errln!("{}", first_difference(&text, &formatted));
                Status::Errors
            }
        }
        Ok(formatted) => {
            super::output::out(&formatted);
            Status::Ok
        }
        Err(errors) => {
            let mut diags = Diagnostics::new();
            diags.extend(errors);
            report::diagnostics(args.error_format, &sources, &diags.sorted(&sources));
            Status::Errors
        }
    }
}

/// The first line that formatting changes, as it is and as it would be.
fn first_difference(old: &str, new: &str) -> String {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    let mut n = 1;
    loop {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => n += 1,
            (None, None) => {
                return "  the file's line endings or final line break differ".to_string();
            }
            (a, b) => {
                let show = |l: Option<&str>| {
                    l.map_or("(end of file)".to_string(), |l| {
                        terminal_safe(l).to_string()
                    })
                };
                return format!("  line {n}:\n  - {}\n  + {}", show(a), show(b));
            }
        }
    }
}

/// Replace a file's contents: write a hidden temporary in the same folder
/// (so the rename cannot cross file systems), sync it, give it the file's
/// permissions, then rename it over the file. A link is followed, so the
/// file it leads to is rewritten and the link stays a link.
fn replace(path: &Path, text: &str) -> io::Result<()> {
    let target = fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.fmt.tmp", std::process::id()));
    let result = (|| {
        let permissions = fs::metadata(&target)?.permissions();
        let mut file = fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        fs::set_permissions(&tmp, permissions)?;
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
