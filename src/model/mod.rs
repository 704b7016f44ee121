//! Stage 2, lower: syntax trees to the checked model.
//!
//! [`Workspace`] loads the files of a run and follows imports (the caller
//! supplies file reading); [`lower`] binds names, checks types and
//! properties, and returns a [`Model`] when there are no errors.

mod checks;
mod cond;
pub mod example;
mod lower;
mod routes;
pub(crate) mod scope;
pub mod summary;
mod types;
pub mod workspace;

pub use example::baseline;
pub use lower::{Lowered, lower};
pub use types::*;
pub use workspace::{ReadError, Reader, Workspace, normalize as normalize_path};
