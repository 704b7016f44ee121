//! Hostile text (control and escape characters, bidirectional overrides) is
//! shown as text in every human report, never passed to the terminal.
