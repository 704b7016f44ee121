//! Stage 5, evaluate: a rule pack and an incident's answers -> the decision,
//! with the route to follow, whom to contact and why.
//!
//! `read.rs` reads a pack's text (depth, byte-order mark, format, integrity
//! digest); `engine.rs` checks its references and compiles its JsonLogic
//! conditions (`expr.rs`); `verify.rs` checks what else the compiler
//! guarantees (types, routes, cycles); `decide.rs` validates answers,
//! decides, explains, and says which question to ask next, judging partial
//! answers on the pack's decision diagram (`diagram.rs`) and walking the
//! compiled decision a pack ships (`compiled.rs`); `decision.rs` is the
//! decision's format; `reader.rs` reads one answer for a question;
//! `classes.rs` reads answers into answer classes and `clauses.rs` tests
//! every rule on them a word at a time;
//! `json.rs` reads answers objects strictly and
//! `batch.rs` decides a stream of them, one line each.

pub mod batch;
mod classes;
mod clauses;
mod compiled;
pub mod decide;
pub mod decision;
mod diagram;
pub mod engine;
pub mod expr;
pub mod json;
mod read;
mod reader;
mod verify;

pub use decide::{AnswerError, Answers, police_for, rank, response_words};
pub use decision::{Decision, Route, Steps};
pub use engine::{Engine, LoadError, Outcome};
pub use read::{Integrity, json_depth};
