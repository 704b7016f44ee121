//! `carepath schema`: the JSON Schema of the rule pack format, of the
//! decision `carepath decide --format json` prints, of the review
//! `carepath diff --format json` prints, or of the comparison `carepath
//! compare --format json` prints.

use super::Status;
use super::output;

/// Which format's schema to print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// The rule pack (`carepath build` writes `<id>.json`).
    #[default]
    Pack,
    /// A decision (`carepath decide --format json`, and each line of a
    /// batch).
    Decision,
    /// A review of two versions (`carepath diff --format json`).
    Diff,
    /// A comparison of authorities (`carepath compare --format json`).
    Compare,
}

#[derive(clap::Args)]
pub struct Args {
    /// The format: `pack`, `decision`, `diff` or `compare`.
    #[arg(value_enum, default_value_t = Which::Pack)]
    which: Which,
}

pub fn run(args: Args) -> Status {
    output::out(&match args.which {
        Which::Pack => carepath::emit::schema_json(),
        Which::Decision => carepath::eval::decision::schema_json(),
        Which::Diff => carepath::review::schema_json(),
        Which::Compare => carepath::review::authorities::schema_json(),
    });
    Status::Ok
}
