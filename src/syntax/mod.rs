//! Stage 1, parse: text to a syntax tree with spans.
//!
//! The grammar is `grammar/carepath.pest`; pest is confined to this module
//! and nothing outside it sees a pest pair. A file with syntax errors yields
//! one diagnostic for each (parsing starts again at the next definition
//! after each error) and no tree; every other check happens in later
//! stages, which keep going after an error.

pub mod ast;
mod depth;
mod expected;
pub mod format;
mod parse;

pub use depth::MAX_NESTING;
pub use format::format;
pub use parse::decode_string;

use crate::diagnostic::Diagnostic;
use crate::source::FileId;

/// Parse one file into its syntax tree, or report every syntax error in it.
pub fn parse(file: FileId, text: &str) -> Result<ast::File, Vec<Diagnostic>> {
    depth::check_nesting(file, text).map_err(|d| vec![d])?;
    parse::parse_file(file, text)
}
