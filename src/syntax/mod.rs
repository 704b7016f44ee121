//! Stage 1, parse: text to a syntax tree with spans.
//!
//! The grammar is `grammar/carepath.pest`; pest is confined to this module
//! and nothing outside it sees a pest pair. A file with a syntax error yields
//! one diagnostic (pest stops at the first); every other check happens in
//! later stages, which keep going after an error.

pub mod ast;
mod depth;
mod expected;
mod parse;

pub use depth::MAX_NESTING;
pub use parse::decode_string;

use crate::diagnostic::Diagnostic;
use crate::source::FileId;

/// Parse one file into its syntax tree.
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Diagnostic> {
    depth::check_nesting(file, text)?;
    parse::parse_file(file, text)
}
