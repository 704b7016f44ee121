//! An incident's answers read from JSON text, strictly.
//!
//! `serde_json`'s own `Map` keeps the last of two equal keys and says
//! nothing, so `{"drugs": "use", "drugs": "supply"}` would be decided as
//! supply without a word. Which answer staff meant cannot be known, so a key
//! given twice (in the answers object or in any object inside it) is refused
//! here, naming the key, and so is text whose top level is not an object.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why text is not an answers object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AnswersTextError {
    /// Not JSON at all, or cut short.
    #[error("not valid JSON: {reason} at {position}")]
    NotJson { reason: String, position: Position },
    /// JSON, but not an object from question id to answer.
    #[error("the answers must be a JSON object from question id to answer, not {found}")]
    NotAnObject { found: &'static str },
    /// The same key twice in one object: which answer was meant is unknown.
    #[error("`{key}` is given twice; give each answer once")]
    DuplicateKey { key: String },
    /// Longer than [`MAX_ANSWERS_BYTES`]: no incident's answers come near
    /// it, and reading on would let one line take all the memory.
    #[error("the answers are longer than {limit} bytes")]
    TooLong { limit: usize },
}

/// The longest answers text read, in bytes: over two thousand times a
/// complete incident of the largest seed protocol (Dorset's take under 500).
pub const MAX_ANSWERS_BYTES: usize = 1 << 20;

/// Where in the answers text a problem is, both counted from 1: the line
/// within the text (always 1 for a line of a batch, whose own number the
/// batch reports) and the column in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.line == 1 {
            write!(f, "column {}", self.column)
        } else {
            write!(f, "line {} column {}", self.line, self.column)
        }
    }
}

/// Read an answers object (question id to answer) from JSON text, refusing
/// duplicate keys, a top level that is not an object, and text longer than
/// [`MAX_ANSWERS_BYTES`].
pub fn answers_object(text: &[u8]) -> Result<Map<String, Value>, AnswersTextError> {
    let mut map = Map::new();
    answers_object_into(text, &mut map)?;
    Ok(map)
}

/// [`answers_object`] into a map the caller keeps, emptied first, so that a
/// stream of incidents reuses one map's storage.
pub fn answers_object_into(
    text: &[u8],
    map: &mut Map<String, Value>,
) -> Result<(), AnswersTextError> {
    map.clear();
    if text.len() > MAX_ANSWERS_BYTES {
        return Err(AnswersTextError::TooLong {
            limit: MAX_ANSWERS_BYTES,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let outcome = (&mut de)
        .deserialize_any(TopLevel { map: &mut *map })
        .and_then(|()| de.end());
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => {
            map.clear();
            Err(classify(e))
        }
    }
}

/// A `serde_json` error as one of ours: the custom messages the visitors
/// raise carry a marker so that they are told apart from syntax errors.
fn classify(e: serde_json::Error) -> AnswersTextError {
    let full = e.to_string();
    // `serde_json` appends " at line L column C" to custom messages.
    let message = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(m, _)| m);
    if let Some(key) = message.strip_prefix(DUPLICATE) {
        return AnswersTextError::DuplicateKey { key: key.into() };
    }
    if let Some(found) = message.strip_prefix(NOT_OBJECT) {
        return AnswersTextError::NotAnObject {
            found: KINDS
                .iter()
                .find(|k| **k == found)
                .copied()
                .unwrap_or("another kind of value"),
        };
    }
    let reason = match e.classify() {
        serde_json::error::Category::Eof => "the text ends before the object does".into(),
        _ => message.to_string(),
    };
    AnswersTextError::NotJson {
        reason,
        position: Position {
            line: e.line(),
            column: e.column(),
        },
    }
}

const DUPLICATE: &str = "\u{0}duplicate key ";
const NOT_OBJECT: &str = "\u{0}not an object ";

/// What a top level that is not an object is, in words.
const KINDS: [&str; 5] = ["null", "true or false", "a number", "a string", "a list"];

/// The top level: an object, read into the caller's map.
struct TopLevel<'m> {
    map: &'m mut Map<String, Value>,
}

impl TopLevel<'_> {
    fn refuse<E: de::Error>(kind: &'static str) -> Result<(), E> {
        Err(E::custom(format_args!("{NOT_OBJECT}{kind}")))
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of answers")
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<(), A::Error> {
        fill(self.map, access)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Self::refuse("null")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Self::refuse("true or false")
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Self::refuse("a number")
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Self::refuse("a number")
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Self::refuse("a number")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Self::refuse("a string")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Self::refuse("a list")
    }
}

/// Read an object's entries into `map`, refusing a key seen before.
fn fill<'de, A: MapAccess<'de>>(
    map: &mut Map<String, Value>,
    mut access: A,
) -> Result<(), A::Error> {
    while let Some(key) = access.next_key::<String>()? {
        let value = access.next_value_seed(Strict)?;
        if map.contains_key(&key) {
            return Err(de::Error::custom(format_args!("{DUPLICATE}{key}")));
        }
        map.insert(key, value);
    }
    Ok(())
}

/// Any JSON value, with duplicate keys refused in every object inside it.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity, so this is always a number.
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = access.next_element_seed(Strict)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        fill(&mut map, access)?;
        Ok(Value::Object(map))
    }
}

/// One answer as JSON, seen without copying it: what reading answers
/// needs of a value, from a parsed [`Value`] or straight from text.
#[derive(Clone, Debug, PartialEq)]
pub enum Flat<'a> {
    Null,
    Bool(bool),
    Str(Cow<'a, str>),
    Num(Number),
    /// A list or an object, which no question takes.
    Other,
}

impl<'a> Flat<'a> {
    /// The same value, owning its text.
    pub fn into_owned(self) -> Flat<'static> {
        match self {
            Flat::Str(s) => Flat::Str(Cow::Owned(s.into_owned())),
            Flat::Null => Flat::Null,
            Flat::Bool(b) => Flat::Bool(b),
            Flat::Num(n) => Flat::Num(n),
            Flat::Other => Flat::Other,
        }
    }

    pub fn of(v: &'a Value) -> Flat<'a> {
        match v {
            Value::Null => Flat::Null,
            Value::Bool(b) => Flat::Bool(*b),
            Value::String(s) => Flat::Str(Cow::Borrowed(s)),
            Value::Number(n) => Flat::Num(n.clone()),
            Value::Array(_) | Value::Object(_) => Flat::Other,
        }
    }
}

/// Read an answers object whose values are all plain (no list or object
/// inside it) from text without building it: `each` gets every key and
/// value in order, and its `None` stops the reading. `None` for text that
/// is not such an object, or longer than [`MAX_ANSWERS_BYTES`]: the
/// caller reads that with [`answers_object`], which says what is wrong.
/// Keys given twice are the caller's to notice.
pub fn read_flat(text: &[u8], each: impl FnMut(&str, Flat<'_>) -> Option<()>) -> Option<()> {
    if text.len() > MAX_ANSWERS_BYTES {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    (&mut de).deserialize_map(FlatObject { each }).ok()?;
    de.end().ok()
}

/// The visitor of [`read_flat`]'s object.
struct FlatObject<F> {
    each: F,
}

/// Stop reading: not an error to report, only a reason to read again
/// strictly.
const STOP: &str = "stop";

impl<'de, F: FnMut(&str, Flat<'_>) -> Option<()>> Visitor<'de> for FlatObject<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of answers")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<(), A::Error> {
        while let Some(key) = access.next_key::<Key<'de>>()? {
            let value = access.next_value::<FlatValue<'de>>()?;
            if (self.each)(&key.0, value.0).is_none() {
                return Err(de::Error::custom(STOP));
            }
        }
        Ok(())
    }
}

/// A key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A plain value; a list or an object stops the reading.
struct FlatValue<'de>(Flat<'de>);

impl<'de> Deserialize<'de> for FlatValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FlatValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a plain value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<FlatValue<'de>, E> {
                Ok(FlatValue(Flat::Null))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<FlatValue<'de>, E> {
                Ok(FlatValue(Flat::Bool(b)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<FlatValue<'de>, E> {
                Ok(FlatValue(Flat::Num(n.into())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<FlatValue<'de>, E> {
                Ok(FlatValue(Flat::Num(n.into())))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<FlatValue<'de>, E> {
                // As `Strict` reads it: JSON text has no NaN or infinity.
                Number::from_f64(n)
                    .map(|n| FlatValue(Flat::Num(n)))
                    .ok_or_else(|| E::custom(STOP))
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<FlatValue<'de>, E> {
                Ok(FlatValue(Flat::Str(Cow::Borrowed(s))))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<FlatValue<'de>, E> {
                Ok(FlatValue(Flat::Str(Cow::Owned(s.to_owned()))))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_flat` reads is what the strict reader reads, for every
    /// object of plain values; anything else it leaves to the strict
    /// reader.
    #[test]
    fn flat_reading_agrees_with_the_strict_reader() {
        for text in [
            r#"{"b": true, "a": "use", "n": 2, "x": 1.5, "z": null, "m": -4}"#,
            r#"{"esc\u0061pe": "t\"ab\tle", "big": 18446744073709551615}"#,
            r#"  {}  "#,
        ] {
            let mut read = Vec::new();
            read_flat(text.as_bytes(), |k, v| {
                read.push((k.to_owned(), v.into_owned()));
                Some(())
            })
            .unwrap_or_else(|| panic!("{text}"));
            let strict = answers_object(text.as_bytes()).expect("an object");
            let expected: Vec<(String, Flat<'static>)> = strict
                .iter()
                .map(|(k, v)| (k.clone(), Flat::of(v).into_owned()))
                .collect();
            assert_eq!(read, expected, "{text}");
        }
        for text in [
            r#"{"a": [1]}"#,
            r#"{"a": {"b": 1}}"#,
            r#"[]"#,
            r#"3"#,
            r#"{"a": 1} x"#,
            r#"{"a": 1"#,
            "",
        ] {
            assert_eq!(read_flat(text.as_bytes(), |_, _| Some(())), None, "{text}");
        }
        // The caller stops it.
        assert_eq!(
            read_flat(br#"{"a": 1, "b": 2}"#, |k, _| (k == "a").then_some(())),
            None
        );
    }

    #[test]
    fn an_object_reads_as_its_entries_in_order() {
        let m = answers_object(br#"{"b": true, "a": "use", "n": 2, "x": 1.5, "z": null}"#)
            .expect("an object");
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, ["b", "a", "n", "x", "z"]);
        assert_eq!(m["n"].as_i64(), Some(2));
        assert_eq!(m["x"].as_f64(), Some(1.5));
        assert!(m["z"].is_null());
    }

    #[test]
    fn a_duplicate_key_is_named_at_any_depth() {
        for text in [
            r#"{"drugs": "use", "victim": true, "drugs": "supply"}"#,
            r#"{"a": [{"drugs": 1, "drugs": 2}]}"#,
        ] {
            assert_eq!(
                answers_object(text.as_bytes()),
                Err(AnswersTextError::DuplicateKey {
                    key: "drugs".into()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn a_top_level_that_is_not_an_object_is_named() {
        for (text, found) in [
            ("null", "null"),
            ("true", "true or false"),
            ("3", "a number"),
            ("-3", "a number"),
            ("3.5", "a number"),
            (r#""drugs""#, "a string"),
            (r#"[{"drugs": "use"}]"#, "a list"),
        ] {
            assert_eq!(
                answers_object(text.as_bytes()),
                Err(AnswersTextError::NotAnObject { found }),
                "{text}"
            );
        }
    }

    #[test]
    fn text_that_is_not_json_says_where() {
        let Err(e @ AnswersTextError::NotJson { position, .. }) =
            answers_object(b"{\"a\": true,\n \"b\": yes}")
        else {
            panic!("not JSON");
        };
        assert_eq!((position.line, position.column), (2, 7));
        assert!(e.to_string().ends_with("at line 2 column 7"), "{e}");
        let Err(e) = answers_object(b"{\"a\": yes}") else {
            panic!("not JSON");
        };
        assert!(e.to_string().ends_with("at column 7"), "{e}");
        let Err(AnswersTextError::NotJson { reason, .. }) = answers_object(b"{\"a\": true") else {
            panic!("cut short");
        };
        assert!(reason.contains("ends before"), "{reason}");
        assert!(matches!(
            answers_object(b""),
            Err(AnswersTextError::NotJson { .. })
        ));
        assert!(matches!(
            answers_object(b"{} {}"),
            Err(AnswersTextError::NotJson { .. })
        ));
    }

    #[test]
    fn a_reused_map_holds_only_the_last_object() {
        let mut m = Map::new();
        answers_object_into(br#"{"a": 1, "b": 2}"#, &mut m).expect("an object");
        answers_object_into(br#"{"c": 3}"#, &mut m).expect("an object");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["c"]);
        assert!(answers_object_into(br#"{"c": 3, "c": 4}"#, &mut m).is_err());
        assert!(m.is_empty(), "a refused object leaves nothing behind");
    }
}
