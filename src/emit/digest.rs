//! The rule pack's integrity digest: SHA-256 of the pack's canonical JSON,
//! `sorted-compact-json` (described in [`super::pack`]). `carepath build`
//! seals a pack with it; a reader compares it to tell whether the pack was
//! changed afterwards.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::pack::{self, Integrity, RulePack};

/// The name of the member that holds the digest, left out of what it
/// covers.
pub const MEMBER: &str = "integrity";

/// `value` in the canonical form: object keys sorted by Unicode code point
/// at every level, no whitespace, strings and numbers as serde_json writes
/// them.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                scalar(&Value::String(k.clone()), out);
                out.push(':');
                write(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(v, out);
            }
            out.push(']');
        }
        other => scalar(other, out),
    }
}

fn scalar(value: &Value, out: &mut String) {
    out.push_str(&serde_json::to_string(value).expect("a JSON scalar serialises"));
}

/// The digest of a rule pack given as JSON: SHA-256 of its canonical form
/// without the top-level `integrity` member, lowercase hex.
pub fn digest(pack: &Value) -> String {
    let text = match pack {
        Value::Object(map) if map.contains_key(MEMBER) => {
            let mut rest = map.clone();
            rest.remove(MEMBER);
            canonical(&Value::Object(rest))
        }
        other => canonical(other),
    };
    hex(&Sha256::digest(text.as_bytes()))
}

/// The integrity member for a pack given as JSON.
pub fn integrity(pack: &Value) -> Integrity {
    Integrity {
        algorithm: pack::DIGEST_ALGORITHM.into(),
        canonical: pack::CANONICAL_FORM.into(),
        digest: digest(pack),
    }
}

/// Set `pack.integrity` to the digest of the rest of the pack. Call it
/// after the last change to the pack.
pub fn seal(pack: &mut RulePack) {
    pack.integrity = None;
    let value = serde_json::to_value(&*pack).expect("a rule pack serialises");
    pack.integrity = Some(integrity(&value));
}

/// Why a pack's digest does not show it unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsealed {
    /// There is no `integrity` member.
    Missing,
    /// The member is not an object with the three strings.
    Malformed,
    /// The algorithm or canonical form is not the one this version knows.
    Unknown {
        algorithm: String,
        canonical: String,
    },
    /// The digest differs: the pack was changed.
    Differs { recorded: String, actual: String },
}

/// Check a pack's recorded digest against its content.
pub fn check(pack: &Value) -> Result<(), Unsealed> {
    let recorded = pack.get(MEMBER).ok_or(Unsealed::Missing)?;
    let field = |name: &str| recorded.get(name).and_then(Value::as_str);
    let (Some(algorithm), Some(canonical), Some(recorded)) =
        (field("algorithm"), field("canonical"), field("digest"))
    else {
        return Err(Unsealed::Malformed);
    };
    if algorithm != pack::DIGEST_ALGORITHM || canonical != pack::CANONICAL_FORM {
        return Err(Unsealed::Unknown {
            algorithm: algorithm.into(),
            canonical: canonical.into(),
        });
    }
    let actual = digest(pack);
    if actual == recorded {
        Ok(())
    } else {
        Err(Unsealed::Differs {
            recorded: recorded.into(),
            actual,
        })
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_canonical_form_sorts_keys_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            "{ \"b\": [1, 2.5, {\"z\": null, \"a\": \"\\u00e9\\n\"}], \"a\": true }",
        )
        .expect("JSON");
        assert_eq!(
            canonical(&v),
            "{\"a\":true,\"b\":[1,2.5,{\"a\":\"é\\n\",\"z\":null}]}"
        );
    }

    #[test]
    fn the_digest_leaves_out_the_integrity_member_only() {
        let plain = json!({ "format": "x", "levels": [1, 2] });
        let mut sealed = plain.clone();
        sealed[MEMBER] = serde_json::to_value(integrity(&plain)).expect("JSON");
        assert_eq!(digest(&plain), digest(&sealed));
        assert_eq!(check(&sealed), Ok(()));
        // The digest of the empty canonical object, for reference.
        assert_eq!(
            digest(&json!({})),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let mut changed = sealed.clone();
        changed["levels"][1] = 3.into();
        assert!(matches!(check(&changed), Err(Unsealed::Differs { .. })));
        assert_eq!(check(&plain), Err(Unsealed::Missing));
        let mut odd = sealed;
        odd[MEMBER]["algorithm"] = "md5".into();
        assert!(matches!(check(&odd), Err(Unsealed::Unknown { .. })));
        odd[MEMBER] = 1.into();
        assert_eq!(check(&odd), Err(Unsealed::Malformed));
    }
}
