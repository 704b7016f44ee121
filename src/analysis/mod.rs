//! Stage 3, analyse: findings about a checked model.
//!
//! The decision space (`decide.rs`, over the finite answer space of
//! `domain.rs`, with the decision diagrams of `mdd.rs`) gives exact findings
//! with witness incidents (`findings.rs`): conflicts, rules that never
//! decide, gaps, misclassified examples, unreachable levels. Route graphs are
//! checked with petgraph (`routes.rs`). Accepted findings are marked
//! (`accept.rs`).

pub mod accept;
pub mod decide;
pub mod domain;
mod findings;
pub mod mdd;
mod routes;
pub mod witness;

use std::collections::BTreeSet;

use crate::diagnostic::Diagnostic;
use crate::model::Model;

pub use decide::{Outcome, Space};

/// Every finding about a model, and which `accept gap` lines matched a gap.
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    pub used_gap_accepts: BTreeSet<usize>,
}

/// Analyse a model: the decision space under its policy, and its routes.
pub fn analyse(model: &Model) -> Analysis {
    let mut space = Space::new(model);
    let found = findings::decision_findings(&mut space);
    let mut diagnostics = found.diagnostics;
    diagnostics.extend(routes::route_findings(model));
    Analysis {
        diagnostics,
        used_gap_accepts: found.used_accepts,
    }
}
