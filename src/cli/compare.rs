//! `carepath compare`: several authorities' protocols on the same
//! incidents, as a table of incident classes against authorities.

use std::path::PathBuf;

use carepath::emit::pack::RulePack;
use carepath::eval::Integrity;
use carepath::review::authorities;
use carepath::review::render;
use carepath::source::display_path;

use super::Status;
use super::diff::{compile_protocol, read_pack};
use super::input::{expand, load, read_text};
use super::output::{self, errln};
use super::terminal_safe;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people, on a terminal.
    #[default]
    Human,
    /// One JSON object (`carepath schema compare` prints its schema).
    Json,
    /// Markdown: a table for a review meeting's papers.
    Markdown,
}

#[derive(clap::Args)]
pub struct Args {
    /// Protocols (`.carepath`), folders of protocols (libraries in them
    /// are skipped), or rule packs (`.json`); at least two protocols in
    /// all.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How to print the comparison.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Show only the first N rows (the most disagreement first); the
    /// summary still counts every incident class. JSON always has every
    /// row.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

pub fn run(args: Args) -> Status {
    let mut packs: Vec<(RulePack, String)> = Vec::new();
    let (protocol_paths, pack_paths): (Vec<PathBuf>, Vec<PathBuf>) = args
        .paths
        .iter()
        .cloned()
        .partition(|p| p.is_dir() || p.extension().is_none_or(|e| e != "json"));
    if !protocol_paths.is_empty() {
        let (inputs, mut problems) = expand(&protocol_paths);
        let (ws, roots, read_problems) = load(&inputs);
        problems.extend(read_problems);
        if let Some(p) = problems.first() {
            errln!("error: {}", terminal_safe(&p.to_string()));
            return Status::Usage;
        }
        for root in roots {
            let label = display_path(&ws.sources.get(root).path);
            match compile_protocol(&ws, root, &label) {
                Ok(Some((pack, _))) => packs.push((pack, label)),
                // Libraries in a folder are skipped.
                Ok(None) => {}
                Err(message) => {
                    errln!("error: {}", terminal_safe(&message));
                    return Status::Usage;
                }
            }
        }
    }
    for path in pack_paths {
        let label = display_path(&path);
        let read = read_text(&path)
            .map_err(|e| format!("cannot read {label}: {e}"))
            .and_then(|text| read_pack(&text, &label, Integrity::Verify));
        match read {
            Ok(pack) => packs.push((pack, label)),
            Err(message) => {
                errln!("error: {}", terminal_safe(&message));
                return Status::Usage;
            }
        }
    }
    let refs: Vec<(&RulePack, &str)> = packs.iter().map(|(p, l)| (p, l.as_str())).collect();
    let comparison = match authorities::compare(&refs) {
        Ok(c) => c,
        Err(message) => {
            errln!("error: {}", terminal_safe(&message));
            return Status::Usage;
        }
    };
    output::out(&match args.format {
        Format::Human => render::compare_human(&comparison, args.limit),
        Format::Json => authorities::to_json(&comparison),
        Format::Markdown => render::compare_markdown(&comparison, args.limit),
    });
    Status::Ok
}
