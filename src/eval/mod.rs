//! Stage 5, evaluate: a rule pack and an incident's answers -> the decision,
//! with the route to follow, whom to contact and why.
//!
//! `engine.rs` loads a pack, checks its references and compiles its
//! JsonLogic conditions (`expr.rs`); `decide.rs` validates answers, decides,
//! explains, and says which question to ask next.

pub mod decide;
pub mod engine;
pub mod expr;

pub use decide::{AnswerError, Answers, Decision};
pub use engine::{Engine, LoadError, Outcome};
