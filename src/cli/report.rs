//! Printing diagnostics: miette reports on standard error, or one JSON
//! object per line on standard output.

use std::io::IsTerminal;

use carepath::diagnostic::Diagnostic;
use carepath::diagnostic::render::{HumanStyle, render_human, to_json};
use carepath::source::{Sources, display_path};
use clap::ValueEnum;

use super::input::IoProblem;
use super::output::{self, errln, outln};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// Reports with source snippets, for people.
    #[default]
    Human,
    /// One JSON object per line on standard output, for tools.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Treat warnings as errors.
    Warnings,
}

/// Colour on a terminal (or when `CLICOLOR_FORCE` is set), and never when
/// `NO_COLOR` is set.
fn style() -> HumanStyle {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    let no_color = set("NO_COLOR");
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    HumanStyle {
        color: !no_color && (set("CLICOLOR_FORCE") || std::io::stderr().is_terminal()),
        width,
    }
}

pub fn diagnostics(format: ErrorFormat, sources: &Sources, diags: &[Diagnostic]) {
    match format {
        ErrorFormat::Human => {
            let style = style();
            for d in diags {
                let mut text = render_human(d, sources, style);
                text.push('\n');
                output::err(&text);
            }
        }
        ErrorFormat::Json => {
            for d in diags {
                outln!("{}", to_json(d, sources));
            }
        }
    }
}

/// A file that could not be read: a plain line, or a JSON object.
pub fn io_problems(format: ErrorFormat, problems: &[IoProblem]) {
    for p in problems {
        match format {
            ErrorFormat::Human => errln!("error: {}", super::terminal_safe(&p.to_string())),
            ErrorFormat::Json => outln!(
                "{}",
                serde_json::json!({
                    "code": "carepath::io-error",
                    "severity": "error",
                    "message": p.to_string(),
                    "file": display_path(&p.path),
                })
            ),
        }
    }
}

/// How many errors, warnings and accepted findings a run reported.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub accepted: usize,
}

impl Counts {
    pub fn of(diags: &[Diagnostic]) -> Counts {
        let accepted = diags.iter().filter(|d| d.is_accepted()).count();
        let errors = diags.iter().filter(|d| d.is_error()).count();
        Counts {
            errors,
            warnings: diags.len() - errors - accepted,
            accepted,
        }
    }
}

/// The last line of a human report.
pub fn summary(format: ErrorFormat, files: usize, counts: Counts) {
    if format == ErrorFormat::Human {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let accepted = if counts.accepted > 0 {
            format!(", {} accepted", counts.accepted)
        } else {
            String::new()
        };
        errln!(
            "checked {}: {}, {}{accepted}",
            plural(files, "file"),
            plural(counts.errors, "error"),
            plural(counts.warnings, "warning")
        );
    }
}
