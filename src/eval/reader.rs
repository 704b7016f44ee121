//! Reading one answer for a question: what the pack says of each question
//! (its kind, its options, its range) laid out so that reading an answers
//! object touches no text of the pack for ids of up to 16 bytes.
//!
//! Reading answers is most of deciding from an answers object: each answer
//! names its question by id and, for a one-of or scale question, its option
//! by id. Each id is kept as a [`Key`] (its length and two words of its
//! bytes), so that finding it is a few integer comparisons.

use serde_json::{Number, Value};

use super::expr::Val;
use super::json::Flat;
use crate::emit::pack::{Question, QuestionKind};

/// An id as its length and two words of its bytes: ids of up to 16 bytes
/// with the same key are the same text; longer ones are compared in full
/// once their keys agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    len: usize,
    head: u64,
    tail: u64,
}

impl Key {
    /// The key of `s`: the first and last eight bytes when it has at least
    /// eight (overlapping when it has fewer than 16); four and four, or
    /// each byte, when shorter.
    #[inline(always)]
    pub fn of(s: &str) -> Key {
        let s = s.as_bytes();
        let n = s.len();
        let (head, tail) = match (s.first_chunk::<8>(), s.last_chunk::<8>()) {
            (Some(first), Some(last)) => (u64::from_le_bytes(*first), u64::from_le_bytes(*last)),
            _ => match (s.first_chunk::<4>(), s.last_chunk::<4>()) {
                (Some(first), Some(last)) => (
                    u32::from_le_bytes(*first) as u64 | (u32::from_le_bytes(*last) as u64) << 32,
                    0,
                ),
                _ => match (s.first(), s.last()) {
                    (Some(first), Some(last)) => (
                        *first as u64 | (s[n / 2] as u64) << 8 | (*last as u64) << 16,
                        0,
                    ),
                    _ => (0, 0),
                },
            },
        };
        Key { len: n, head, tail }
    }
}

/// An id of the pack, ready to be found.
#[derive(Debug)]
struct Id {
    key: Key,
    /// The whole id, compared only when it is longer than 16 bytes.
    text: Box<str>,
}

impl Id {
    fn new(text: &str) -> Id {
        Id {
            key: Key::of(text),
            text: text.into(),
        }
    }

    /// Whether `given`, whose key is `key`, is this id.
    #[inline(always)]
    fn is(&self, key: Key, given: &str) -> bool {
        self.key == key && (key.len <= 16 || same_middle(self.text.as_bytes(), given.as_bytes()))
    }
}

/// Whether two texts of the same length, more than 16 bytes, agree
/// between their first and last eight bytes, compared a word at a time
/// (ids are short: a call to compare them would cost more than the
/// comparison).
#[inline(always)]
fn same_middle(a: &[u8], b: &[u8]) -> bool {
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 8;
    while i + 8 < a.len() {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    true
}

/// How a question's answer is read.
#[derive(Clone, Copy, Debug)]
enum Kind {
    YesNo,
    /// A setting, one-of or scale question: its options are
    /// `Reader::options[start..end]`, in the pack's order.
    Options {
        start: u32,
        end: u32,
    },
    Count {
        minimum: i64,
    },
    Amount,
}

/// What is wrong with an answer ([`Engine::value`](super::Engine::value)
/// words it).
#[derive(Clone, Copy, Debug)]
pub enum Wrong {
    /// Not the kind of value the question takes.
    Kind,
    /// Not one of the question's options.
    Option,
    /// A number out of the question's range.
    Number,
}

/// Every question of a pack, ready to read answers for.
#[derive(Debug)]
pub struct Reader {
    ids: Vec<Id>,
    kinds: Vec<Kind>,
    options: Vec<Id>,
}

impl Reader {
    pub fn new(questions: &[Question]) -> Reader {
        let mut options = Vec::new();
        let kinds = questions
            .iter()
            .map(|q| match q.kind {
                QuestionKind::YesNo => Kind::YesNo,
                QuestionKind::Setting | QuestionKind::OneOf | QuestionKind::Scale => {
                    let start = options.len() as u32;
                    options.extend(q.options.iter().map(|o| Id::new(&o.id)));
                    Kind::Options {
                        start,
                        end: options.len() as u32,
                    }
                }
                QuestionKind::Count => Kind::Count {
                    minimum: q.minimum.unwrap_or(0),
                },
                QuestionKind::Amount => Kind::Amount,
            })
            .collect();
        Reader {
            ids: questions.iter().map(|q| Id::new(&q.id)).collect(),
            kinds,
            options,
        }
    }

    /// Whether `id` is question `q`'s id (`false` past the last question).
    #[inline(always)]
    pub fn is_question(&self, q: usize, id: &str) -> bool {
        self.ids
            .get(q)
            .is_some_and(|known| known.is(Key::of(id), id))
    }

    /// One answer read for question `q`: `None` for `null`, else the
    /// answer, or only what is wrong with it. The question's kind says
    /// what to ask of the value.
    #[inline(always)]
    pub fn value(&self, q: usize, v: &impl Answer) -> Result<Option<Val>, Wrong> {
        if v.null() {
            return Ok(None);
        }
        Ok(Some(match self.kinds[q] {
            Kind::YesNo => Val::Bool(v.yes_no().ok_or(Wrong::Kind)?),
            Kind::Options { start, end } => {
                let s = v.text().ok_or(Wrong::Kind)?;
                let key = Key::of(s);
                match self.options[start as usize..end as usize]
                    .iter()
                    .position(|o| o.is(key, s))
                {
                    Some(i) => Val::Opt(i as u32),
                    None => return Err(Wrong::Option),
                }
            }
            Kind::Count { minimum } => match v.number().ok_or(Wrong::Kind)?.as_i64() {
                Some(c) if c >= minimum => Val::Num(c),
                _ => return Err(Wrong::Number),
            },
            Kind::Amount => Val::Num(pence(v.number().ok_or(Wrong::Kind)?).ok_or(Wrong::Number)?),
        }))
    }
}

/// An answer as JSON, as [`Reader::value`] reads it: a parsed [`Value`],
/// or a [`Flat`] value read straight from text.
pub trait Answer {
    fn null(&self) -> bool;
    fn yes_no(&self) -> Option<bool>;
    fn text(&self) -> Option<&str>;
    fn number(&self) -> Option<&Number>;
}

impl Answer for Value {
    #[inline(always)]
    fn null(&self) -> bool {
        self.is_null()
    }

    #[inline(always)]
    fn yes_no(&self) -> Option<bool> {
        self.as_bool()
    }

    #[inline(always)]
    fn text(&self) -> Option<&str> {
        self.as_str()
    }

    #[inline(always)]
    fn number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
}

impl Answer for Flat<'_> {
    #[inline(always)]
    fn null(&self) -> bool {
        matches!(self, Flat::Null)
    }

    #[inline(always)]
    fn yes_no(&self) -> Option<bool> {
        match self {
            Flat::Bool(b) => Some(*b),
            _ => None,
        }
    }

    #[inline(always)]
    fn text(&self) -> Option<&str> {
        match self {
            Flat::Str(s) => Some(s),
            _ => None,
        }
    }

    #[inline(always)]
    fn number(&self) -> Option<&Number> {
        match self {
            Flat::Num(n) => Some(n),
            _ => None,
        }
    }
}

/// An amount in pounds as pence: `None` when it is negative, has more than
/// two decimal places, or is too large to count in pence exactly.
fn pence(n: &Number) -> Option<i64> {
    let pounds = n.as_f64().unwrap_or(-1.0);
    let pence = (pounds * 100.0).round();
    if pounds < 0.0 || (pence - pounds * 100.0).abs() > 1e-6 || pence > 9e15 {
        return None;
    }
    Some(pence as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids of every length up to 40, and each with one byte changed or one
    /// added: found exactly when they are the same text.
    #[test]
    fn ids_are_found_exactly_when_they_are_the_same_text() {
        for n in 0..40 {
            let a: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let id = Id::new(&a);
            let found = |s: &str| id.is(Key::of(s), s);
            assert!(found(&a.clone()), "{a}");
            for i in 0..n {
                let mut b = a.clone().into_bytes();
                b[i] = b'-';
                let b = String::from_utf8(b).expect("ascii");
                assert!(!found(&b), "{a} / {b}");
            }
            assert!(!found(&format!("{a}x")), "{a}x");
            assert!(!found(&format!("x{a}")), "x{a}");
            if n > 0 {
                assert!(!found(&a[1..]), "{a} / {}", &a[1..]);
                assert!(!found(&a[..n - 1]), "{a} / {}", &a[..n - 1]);
            }
        }
    }

    /// Short ids that share bytes at the places a short key reads.
    #[test]
    fn short_ids_differ_by_their_keys() {
        let ids = [
            "", "a", "b", "ab", "ba", "aa", "abc", "acc", "aac", "abcd", "abce", "abcde",
        ];
        for x in ids {
            for y in ids {
                assert_eq!(Id::new(x).is(Key::of(y), y), x == y, "{x:?} / {y:?}");
            }
        }
    }
}
