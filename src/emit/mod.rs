//! Stage 4, emit: a checked model (and its findings) as the products people
//! take away: the JSON rule pack apps load (`pack.rs`, conditions in
//! JsonLogic by `jsonlogic.rs`), its JSON Schema, and the flowchart a board
//! reads, as DOT (`dot.rs`) and, when Graphviz is not installed, as SVG drawn
//! by a small renderer of its own (`svg.rs`).

mod build;
pub mod digest;
pub mod dot;
pub mod handbook;
pub mod jsonlogic;
pub mod pack;
pub mod svg;

pub use build::{SourceText, rule_pack};

/// The rule pack as JSON: two-space indentation, a final newline.
pub fn pack_json(pack: &pack::RulePack) -> String {
    let mut out = serde_json::to_string_pretty(pack).expect("a rule pack serialises");
    out.push('\n');
    out
}

/// The rule pack as JSON, exactly as [`pack_json`] writes it, once that
/// very text has been read back by the engine (`Engine::from_json`, which
/// verifies the digest and checks everything the compiler guarantees): a
/// pack that would not load is an error here, not a file written.
pub fn checked_pack_json(pack: &pack::RulePack) -> Result<String, crate::eval::LoadError> {
    let text = pack_json(pack);
    crate::eval::Engine::from_json(&text)?;
    Ok(text)
}

/// The JSON Schema of the rule pack format, as committed in
/// `schema/carepath-rulepack-3.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(pack::RulePack);
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    out.push('\n');
    out
}
