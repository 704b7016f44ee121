//! `carepath check`: report every error and warning.

use std::path::PathBuf;

use carepath::check;
use carepath::diagnostic::Diagnostics;

use super::Status;
use super::input::{expand, load};
use super::report::{self, Counts, Deny, ErrorFormat};

/// What to check and how to report it; `build` takes the same.
#[derive(clap::Args)]
#[group(skip)]
pub struct Args {
    /// Protocol files, or folders to search for `.carepath` files.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// How to print problems.
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    /// Turn warnings into errors (`build` then writes nothing for a
    /// protocol with warnings).
    #[arg(long, value_enum)]
    pub deny: Option<Deny>,
}

pub fn run(args: Args) -> Status {
    let (inputs, mut problems) = expand(&args.paths);
    let (ws, roots, read_problems) = load(&inputs);
    problems.extend(read_problems);

    let mut diags = Diagnostics::new();
    diags.extend(ws.diagnostics());
    for &root in &roots {
        diags.extend(check(&ws, root).diagnostics);
    }
    if args.deny == Some(Deny::Warnings) {
        diags.deny_warnings();
    }
    let sorted = diags.sorted(&ws.sources);
    let mut counts = Counts::of(&sorted);
    counts.errors += problems.len();

    report::io_problems(args.error_format, &problems);
    report::diagnostics(args.error_format, &ws.sources, &sorted);
    report::summary(args.error_format, roots.len(), counts);

    Status::of(problems.len(), counts.errors)
}
