//! Reading a rule pack's text: refused before parsing when it starts with a
//! byte-order mark or is nested deeper than any pack `carepath build`
//! writes ([`pack::MAX_DEPTH`]), parsed without serde_json's own recursion
//! limit (so every pack the compiler writes is read), its format checked,
//! and its integrity digest compared.

use serde_json::Value;

use super::engine::LoadError;
use crate::emit::digest::{self, Unsealed};
use crate::emit::pack::{self, RulePack};

/// Whether a rule pack must be exactly as `carepath build` wrote it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Integrity {
    /// Refuse a pack whose integrity digest is missing or does not match
    /// its content.
    #[default]
    Verify,
    /// Use a pack that was changed after it was built, or made by another
    /// tool. Everything the compiler guarantees is still checked; a digest
    /// that does not match is dropped (`pack.integrity` is `None`).
    AllowModified,
}

/// Read a rule pack's text. Returns the pack and whether its digest shows
/// it unchanged (the error to give when that is required).
pub(super) fn rule_pack(text: &str) -> Result<(RulePack, Result<(), LoadError>), LoadError> {
    let mut value = json(text)?;
    match value.get("format").and_then(Value::as_str) {
        Some(pack::FORMAT) => {}
        Some(old @ ("carepath-rulepack/1" | "carepath-rulepack/2")) => {
            return Err(LoadError(format!(
                "this rule pack is in the old format `{old}`, which this version of \
                 Carepath no longer reads (it reads `{}`): rebuild it from its protocol with \
                 `carepath build`; docs/rulepack-migration.md says what changed",
                pack::FORMAT
            )));
        }
        Some(other) => {
            return Err(LoadError(format!(
                "unsupported rule pack format `{other}`: this version of Carepath reads `{}`",
                pack::FORMAT
            )));
        }
        None => {
            return Err(LoadError(format!(
                "not a rule pack: there is no `format` field (expected `{}`)",
                pack::FORMAT
            )));
        }
    }
    let sealed = digest::check(&value).map_err(unsealed);
    if sealed.is_err()
        && let Value::Object(map) = &mut value
    {
        map.remove(digest::MEMBER);
    }
    let pack: RulePack = serde_json::from_value(value).map_err(|e| {
        LoadError(format!(
            "the rule pack does not follow `{}`: {e}",
            pack::FORMAT
        ))
    })?;
    Ok((pack, sealed))
}

const HOW_TO_PROCEED: &str = "Rebuild it from its protocol with `carepath build`; \
     to use an edited pack on purpose, run `carepath decide` with `--allow-modified` \
     (in Rust, `Engine::from_json_with(text, Integrity::AllowModified)`)";

fn unsealed(why: Unsealed) -> LoadError {
    LoadError(match why {
        Unsealed::Missing => format!(
            "the rule pack has no `integrity` digest, so nothing shows it is as \
             `carepath build` wrote it: it was changed afterwards or made by another tool. \
             {HOW_TO_PROCEED}"
        ),
        Unsealed::Malformed => format!(
            "the rule pack's `integrity` is not the digest `carepath build` writes \
             (an object with `algorithm`, `canonical` and `digest`), so the pack was \
             changed after it was built. {HOW_TO_PROCEED}"
        ),
        Unsealed::Unknown {
            algorithm,
            canonical,
        } => format!(
            "the rule pack's digest is `{algorithm}` over `{canonical}`, which this version \
             of Carepath cannot check (it writes `{}` over `{}`). {HOW_TO_PROCEED}",
            pack::DIGEST_ALGORITHM,
            pack::CANONICAL_FORM
        ),
        Unsealed::Differs { recorded, actual } => format!(
            "the rule pack was changed after `carepath build` wrote it: its content no longer \
             matches its integrity digest (recorded {}…, content {}…). {HOW_TO_PROCEED}",
            short(&recorded),
            short(&actual)
        ),
    })
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

/// Parse JSON text, refusing a byte-order mark and nesting deeper than
/// [`pack::MAX_DEPTH`] before parsing.
fn json(text: &str) -> Result<Value, LoadError> {
    if text.starts_with('\u{feff}') {
        return Err(LoadError(
            "the file starts with a UTF-8 byte-order mark (BOM), which JSON does not allow; \
             save it without one"
                .into(),
        ));
    }
    if let Some(at) = too_deep(text, pack::MAX_DEPTH) {
        let (line, column) = line_column(text, at);
        return Err(LoadError(format!(
            "the rule pack is nested more than {} levels deep (line {line}, column {column}); \
             `carepath build` never writes one so deep (conditions are nested at most {} deep), \
             so it was made or changed by something else",
            pack::MAX_DEPTH,
            crate::syntax::MAX_NESTING
        )));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    // The depth is bounded above, so the parser's own limit (128, too low
    // for the deepest packs) is not needed.
    de.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut de)
        .and_then(|v: Value| de.end().map(|()| v))
        .map_err(|e| LoadError(format!("the rule pack is not valid JSON: {e}")))?;
    Ok(value)
}

/// The byte offset of the first array or object that opens deeper than
/// `limit`, if any.
fn too_deep(text: &str, limit: usize) -> Option<usize> {
    scan(text, limit).err()
}

/// The deepest nesting of arrays and objects in JSON text (strings are
/// skipped): the measure [`pack::MAX_DEPTH`] bounds.
pub fn json_depth(text: &str) -> usize {
    scan(text, usize::MAX).unwrap_or(usize::MAX)
}

/// The deepest nesting, or the offset where it first exceeds `limit`.
fn scan(text: &str, limit: usize) -> Result<usize, usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(i);
                }
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(deepest)
}

fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_arrays_and_objects_but_not_strings() {
        assert_eq!(json_depth("1"), 0);
        assert_eq!(json_depth("{\"a\": [1, {\"b\": []}]}"), 4);
        assert_eq!(json_depth("[\"[[[{\\\"\", [\"]]]\"]]"), 2);
        assert_eq!(too_deep("[[[]]]", 2), Some(2));
        assert_eq!(too_deep("[[]][[]]", 2), None);
    }

    #[test]
    fn deep_and_marked_text_is_refused_before_parsing() {
        let deep = "[".repeat(100_000);
        let e = json(&deep).expect_err("too deep");
        assert!(
            e.0.contains(&format!("more than {} levels", pack::MAX_DEPTH)),
            "{e}"
        );
        assert!(e.0.contains("line 1, column"), "{e}");
        let e = json("\u{feff}{}").expect_err("BOM");
        assert!(e.0.contains("byte-order mark (BOM)"), "{e}");
        // Deeper than serde_json's default limit of 128, within ours.
        let ok = format!("{}{}", "[".repeat(300), "]".repeat(300));
        assert!(json(&ok).is_ok());
    }
}
