//! Stage 5, evaluate: a rule pack and an incident's answers -> the decision,
//! with the route to follow, whom to contact and why.
//!
//! `read.rs` reads a pack's text (depth, byte-order mark, format, integrity
//! digest); `engine.rs` checks its references and compiles its JsonLogic
//! conditions (`expr.rs`); `verify.rs` checks what else the compiler
//! guarantees (types, routes, cycles); `decide.rs` validates answers,
//! decides, explains, and says which question to ask next, judging partial
//! answers on the pack's decision diagram (`diagram.rs`).

pub mod batch;
pub mod decide;
mod diagram;
pub mod engine;
pub mod expr;
pub mod json;
mod read;
mod verify;

pub use decide::{AnswerError, Answers, Decision, Route, police_for, rank, response_words};
pub use engine::{Engine, LoadError, Outcome};
pub use read::{Integrity, json_depth};
