//! `carepath schema`: the JSON Schema of the rule pack format, or of the
//! decision `carepath decide --format json` prints.

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
}

#[derive(clap::Args)]
pub struct Args {
    /// The format: `pack` or `decision`.
    #[arg(value_enum, default_value_t = Which::Pack)]
    which: Which,
}

pub fn run(args: Args) -> Status {
    output::out(&match args.which {
        Which::Pack => carepath::emit::schema_json(),
        Which::Decision => carepath::eval::decision::schema_json(),
    });
    Status::Ok
}
