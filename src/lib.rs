//! Carepath: a language and compiler for police-involvement protocols.
//!
//! The pipeline, one module per stage (see `ARCHITECTURE.md`):
//!
//! | stage | module |
//! |---|---|
//! | parse: text -> syntax tree | [`syntax`] |
//! | lower: syntax tree -> checked model | [`model`] |
//! | analyse: model -> findings | [`analysis`] |
//! | emit: model -> rule pack, schema, flowchart | [`emit`] |
//! | evaluate: rule pack + answers -> decision | [`eval`] |
//! | review: two rule packs -> what changed | [`review`] |
//!
//! Every stage is a pure function; problems are [`diagnostic::Diagnostic`]
//! values collected across a run. Only the command-line front end touches
//! files: to compile from disk or memory, load files into a
//! [`model::Workspace`] with a reader of your own, then call [`check`].

pub mod analysis;
pub mod diagnostic;
pub mod editor;
pub mod emit;
pub mod eval;
mod graph;
pub mod model;
pub mod review;
pub mod source;
pub mod syntax;

use diagnostic::Diagnostic;
use model::{Model, Workspace};
use source::FileId;

/// The outcome of checking one root file.
pub struct Checked {
    /// The model, when the file has no errors.
    pub model: Option<Model>,
    /// Every error and warning, in the order found.
    pub diagnostics: Vec<Diagnostic>,
}

/// Check one file of a workspace (a protocol, or a library on its own):
/// lower it to the model, analyse the model, and mark the findings the
/// protocol accepts. Loading problems are in [`Workspace::diagnostics`],
/// reported once for the whole workspace.
pub fn check(ws: &Workspace, root: FileId) -> Checked {
    let lowered = model::lower(ws, root);
    let mut diagnostics = lowered.diagnostics;
    if let Some(model) = &lowered.model {
        let analysis = analysis::analyse(model);
        diagnostics.extend(analysis.diagnostics);
        analysis::accept::apply(model, &mut diagnostics, &analysis.used_gap_accepts);
    }
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        model: if failed { None } else { lowered.model },
        diagnostics,
    }
}
