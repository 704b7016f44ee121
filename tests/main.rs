//! Every integration test, in one test binary: linking one binary instead
//! of one per file is most of what a cold `cargo test` costs.
//!
//! Each module is one area of the command or the library; `support` holds
//! what they share.

mod support;

#[path = "../benches/support/synth.rs"]
mod synth;

mod batch;
mod build;
mod cli;
mod compare;
mod compiled;
mod corpus;
mod decide;
mod diff;
mod diff_oracle;
mod diff_picture;
mod docs;
mod equivalence;
mod fmt;
mod handbook;
mod lsp;
mod oracle;
mod pack_details;
mod reliability;
mod robustness;
mod seeds;
mod tamper;
mod terminal;
mod ui;
mod walk;
