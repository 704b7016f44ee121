//! A guard against conditions nested so deeply that a recursive parser would
//! run out of stack.
//!
//! pest and the Pratt parser recurse once per parenthesis and per `not`. A
//! hostile or machine-made file with thousands of them must give an error,
//! not a crash, so before parsing we scan the text once (skipping strings and
//! comments) and measure the deepest nesting.
//!
//! A `not` before a parenthesis stays open until that parenthesis closes (it
//! applies to the whole group), so it counts for everything inside; a `not`
//! before a test ends with the test. The same limit bounds the rule pack:
//! `emit::pack::MAX_DEPTH`, the deepest JSON a pack can have, is derived
//! from it.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Deepest nesting of parentheses plus chained `not`s a condition may have.
/// Real protocols use a handful; the limit only stops runaway input.
pub const MAX_NESTING: usize = 100;

pub fn check_nesting(file: FileId, text: &str) -> Result<(), Diagnostic> {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Open groups plus the `not`s in front of them.
    let mut depth = 0usize;
    // Per open group, the `not`s in front of it.
    let mut groups: Vec<usize> = Vec::new();
    // `not`s not yet followed by what they apply to.
    let mut nots = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                nots = 0;
            }
            b'(' => {
                depth += 1 + nots;
                groups.push(nots);
                nots = 0;
            }
            b')' => {
                if let Some(n) = groups.pop() {
                    depth -= 1 + n;
                }
                nots = 0;
            }
            b if b.is_ascii_whitespace() => {}
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
                {
                    i += 1;
                }
                if &bytes[start..i] == b"not" {
                    nots += 1;
                } else {
                    nots = 0;
                }
                if depth + nots > MAX_NESTING {
                    return Err(too_deep(file, start, i));
                }
                continue;
            }
            _ => nots = 0,
        }
        if depth + nots > MAX_NESTING {
            return Err(too_deep(file, i, i + 1));
        }
        i += 1;
    }
    Ok(())
}

fn too_deep(file: FileId, start: usize, end: usize) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        Span::new(file, start, end),
        format!("this condition is nested more than {MAX_NESTING} levels deep"),
    )
    .with_label("too deep here")
    .with_help("split the condition into several rules, or remove doubled `not`s and parentheses")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_parentheses_and_nots_but_not_strings_or_comments() {
        let f = FileId(0);
        let deep = "(".repeat(MAX_NESTING + 1);
        assert!(check_nesting(f, &deep).is_err());
        let nots = "not ".repeat(MAX_NESTING + 1);
        assert!(check_nesting(f, &nots).is_err());
        let quoted = format!("\"{deep}\" // {deep}\n");
        assert!(check_nesting(f, &quoted).is_ok());
        let shallow = "not (a and not b) or not (c)".repeat(50);
        assert!(check_nesting(f, &shallow).is_ok());
    }

    #[test]
    fn a_not_before_a_group_counts_until_the_group_closes() {
        let f = FileId(0);
        // Each level: nots, then a group whose first test would end a `not`
        // that applied to a test only.
        let level = |nots: usize| format!("{}(a or ", "not ".repeat(nots));
        let half = MAX_NESTING / 2;
        let deep = format!("{}{}a{}", level(half), level(half), "))");
        assert!(check_nesting(f, &deep).is_err());
        let fits = format!("{}{}a{}", level(half - 1), level(half - 1), "))");
        assert!(check_nesting(f, &fits).is_ok());
        // After the group closes, its `not`s no longer count.
        let after = format!(
            "{}a) or {}a)",
            level(MAX_NESTING - 1),
            level(MAX_NESTING - 1)
        );
        assert!(check_nesting(f, &after).is_ok());
    }
}
