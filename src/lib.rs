//! Carepath: a language and compiler for police-involvement protocols.
//!
//! The pipeline, one module per stage (see `ARCHITECTURE.md`):
//!
//! | stage | module |
//! |---|---|
//! | parse: text -> syntax tree | [`syntax`] |
//! | lower: syntax tree -> checked model | [`model`] |
//!
//! Every stage is a pure function; problems are [`diagnostic::Diagnostic`]
//! values collected across a run. Only the command-line front end touches
//! files.

pub mod diagnostic;
pub mod model;
pub mod source;
pub mod syntax;
