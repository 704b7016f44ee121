//! Stage 3, analyse: findings about a checked model.
//!
//! The decision space (`decide.rs`, over the finite answer space of
//! `domain.rs`, with the decision diagrams of `mdd.rs`) gives exact findings
//! with witness incidents (`findings.rs`): conflicts, rules that never
//! decide, gaps, misclassified examples, unreachable levels. Route graphs are
//! checked with petgraph (`routes.rs`); which incidents reach each route
//! node, and conditions there that none meets, over the same diagrams
//! (`reach.rs`). Accepted findings are marked
//! (`accept.rs`).

pub mod accept;
pub mod decide;
pub mod domain;
mod findings;
pub mod mdd;
mod reach;
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
    /// Whether the decision space was too large to analyse (the diagnostics
    /// then say so instead of giving its findings).
    pub incomplete: bool,
}

/// Analyse a model: the decision space under its policy, and its routes.
///
/// Questions are first taken in the order they are declared, which keeps
/// witnesses in the document's order. When that needs more diagram nodes
/// than the budget allows, the analysis is run again with the questions
/// that rules test together placed together (`decide::grouped_order`),
/// which is often far smaller.
pub fn analyse(model: &Model) -> Analysis {
    let first = analyse_in_order(model, None);
    if first.incomplete {
        let again = analyse_in_order(model, Some(&decide::grouped_order(model)));
        if !again.incomplete {
            return again;
        }
    }
    first
}

/// Analyse a model with its questions taken in `order` (each question
/// once), or in declared order. The findings are the same in any order; only
/// the cost differs.
pub fn analyse_in_order(model: &Model, order: Option<&[usize]>) -> Analysis {
    let mut space = Space::with_order(model, order);
    let found = findings::decision_findings(&mut space);
    let mut diagnostics = found.diagnostics;
    if model.is_protocol() && !space.mdd.exhausted() {
        diagnostics.extend(reach::condition_findings(&mut space));
    }
    diagnostics.extend(routes::route_findings(model));
    Analysis {
        diagnostics,
        used_gap_accepts: found.used_accepts,
        incomplete: space.mdd.exhausted(),
    }
}
