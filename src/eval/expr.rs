//! Rule pack conditions, read from JsonLogic into a compiled form that is
//! evaluated over answers indexed by question, in two and three values.
//!
//! Only the JsonLogic that `carepath build` writes is accepted (see
//! `emit/jsonlogic.rs`): tests of one question's answer against constants,
//! `!`, `and` and `or`. A test of a question that is not asked is false.
//! Other JsonLogic, valid as it may be, is refused rather than guessed at:
//! a pack decides whether the police are called, so a form whose meaning
//! Carepath has not checked against the language is not followed. The
//! error says so, and how the forms Carepath reads would write the test.

use serde_json::Value;

/// An answer, compiled: numbers are whole (counts) or in pence (amounts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Bool(bool),
    /// Option index.
    Opt(u32),
    Num(i64),
}

pub use crate::model::CmpOp as Cmp;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Test {
    Is(Val),
    /// One of these option indices or numbers.
    In(Vec<Val>),
    Cmp(Cmp, i64),
    /// The question is answered (asked).
    Answered,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    Test { q: usize, test: Test },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Test {
    pub fn holds(&self, v: Option<Val>) -> bool {
        let Some(v) = v else {
            return false;
        };
        match self {
            Test::Is(x) => *x == v,
            Test::In(xs) => xs.contains(&v),
            Test::Cmp(op, c) => {
                let Val::Num(n) = v else { return false };
                match op {
                    Cmp::Eq => n == *c,
                    Cmp::Ne => n != *c,
                    Cmp::Lt => n < *c,
                    Cmp::Le => n <= *c,
                    Cmp::Gt => n > *c,
                    Cmp::Ge => n >= *c,
                }
            }
            Test::Answered => true,
        }
    }
}

/// What is known of one question's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Answered, or (`None`) known not to be asked.
    Is(Option<Val>),
    /// Not yet known.
    Unknown,
}

impl Expr {
    pub fn eval(&self, answers: &[Option<Val>]) -> bool {
        match self {
            Expr::Test { q, test } => test.holds(answers[*q]),
            Expr::Not(e) => !e.eval(answers),
            Expr::And(es) => es.iter().all(|e| e.eval(answers)),
            Expr::Or(es) => es.iter().any(|e| e.eval(answers)),
        }
    }

    /// Three-valued: `None` when the answers known so far do not settle it.
    pub fn eval3(&self, known: &[Known]) -> Option<bool> {
        match self {
            Expr::Test { q, test } => match known[*q] {
                Known::Is(v) => Some(test.holds(v)),
                Known::Unknown => None,
            },
            Expr::Not(e) => e.eval3(known).map(|b| !b),
            Expr::And(es) => all3(es.iter().map(|e| e.eval3(known))),
            Expr::Or(es) => any3(es.iter().map(|e| e.eval3(known))),
        }
    }

    /// Every test, in order.
    pub fn tests(&self) -> Vec<(usize, &Test)> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::Test { q, test } => out.push((*q, test)),
                Expr::Not(e) => stack.push(e),
                Expr::And(es) | Expr::Or(es) => stack.extend(es.iter().rev()),
            }
        }
        out
    }
}

/// Three-valued "and": false as soon as one is, true when all are, else
/// `None`.
pub fn all3(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for v in values {
        match v {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    (!unknown).then_some(true)
}

/// Three-valued "or": true as soon as one is, false when none is, else
/// `None`.
pub fn any3(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    all3(values.map(|v| v.map(|b| !b))).map(|b| !b)
}

/// How to read a question's answers: its kind and option ids.
pub struct Lookup<'a> {
    pub question: &'a dyn Fn(&str) -> Option<usize>,
    /// Option index of an option id of question `q`.
    pub option: &'a dyn Fn(usize, &str) -> Option<u32>,
    /// Whether question `q` is an amount (numbers in pounds).
    pub is_amount: &'a dyn Fn(usize) -> bool,
}

/// Read a JsonLogic condition. The error says what is wrong, in words.
pub fn parse(v: &Value, look: &Lookup<'_>, depth: usize) -> Result<Expr, String> {
    // Operators nest at most one per JSON level, so a pack the reader
    // accepts never reaches this; a pack built in memory is held to the
    // same limit.
    if depth > crate::emit::pack::MAX_DEPTH {
        return Err(format!(
            "the condition is nested more than {} deep",
            crate::emit::pack::MAX_DEPTH
        ));
    }
    let Some(obj) = v.as_object().filter(|o| o.len() == 1) else {
        return Err(match v {
            Value::Object(_) => format!(
                "expected an object with one operator, found {v}: JsonLogic reads that as data, not a condition; {READS}"
            ),
            _ => not_ours(&format!("`{v}` is a constant, not a test of an answer"), ""),
        });
    };
    let (op, args) = obj.iter().next().expect("one entry");
    let list = |args: &Value| -> Vec<Value> {
        match args {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        }
    };
    match op.as_str() {
        "and" | "or" => {
            let parts = list(args)
                .iter()
                .map(|a| parse(a, look, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            if parts.is_empty() {
                return Err(format!("`{op}` with nothing to combine"));
            }
            Ok(if op == "and" {
                Expr::And(parts)
            } else {
                Expr::Or(parts)
            })
        }
        "!" => match list(args).as_slice() {
            [one] => Ok(Expr::Not(Box::new(parse(one, look, depth + 1)?))),
            _ => Err("`!` takes one condition".into()),
        },
        "===" | "!==" | "<" | "<=" | ">" | ">=" | "in" => {
            let [var, value] = list(args).try_into().map_err(|_| {
                not_ours(
                    &format!("`{op}` takes two arguments here, a question and a value"),
                    " (write a range as two tests joined by `and`)",
                )
            })?;
            let name = var.get("var").and_then(Value::as_str).ok_or_else(|| {
                not_ours(
                    &format!(
                        "`{op}` must compare a question (`{{\"var\": ...}}`) first, found {var}"
                    ),
                    &format!(" (write {{\"{op}\": [{{\"var\": \"q\"}}, value]}})"),
                )
            })?;
            let q = (look.question)(name).ok_or_else(|| format!("unknown question `{name}`"))?;
            let number = |v: &Value| -> Result<i64, String> {
                let n = v
                    .as_f64()
                    .ok_or_else(|| format!("expected a number for `{name}`, found {v}"))?;
                Ok(if (look.is_amount)(q) {
                    (n * 100.0).round() as i64
                } else {
                    n as i64
                })
            };
            let single = |v: &Value| -> Result<Val, String> {
                match v {
                    Value::Bool(b) => Ok(Val::Bool(*b)),
                    Value::String(s) => (look.option)(q, s)
                        .map(Val::Opt)
                        .ok_or_else(|| format!("question `{name}` has no option `{s}`")),
                    Value::Number(_) => Ok(Val::Num(number(v)?)),
                    other => Err(format!("cannot compare `{name}` with {other}")),
                }
            };
            let test = match (op.as_str(), &value) {
                ("!==", Value::Null) => Test::Answered,
                ("===", Value::Number(_)) => Test::Cmp(Cmp::Eq, number(&value)?),
                ("!==", Value::Number(_)) => Test::Cmp(Cmp::Ne, number(&value)?),
                ("===", _) => Test::Is(single(&value)?),
                ("in", Value::Array(items)) => {
                    Test::In(items.iter().map(single).collect::<Result<Vec<_>, _>>()?)
                }
                ("<", _) => Test::Cmp(Cmp::Lt, number(&value)?),
                ("<=", _) => Test::Cmp(Cmp::Le, number(&value)?),
                (">", _) => Test::Cmp(Cmp::Gt, number(&value)?),
                (">=", _) => Test::Cmp(Cmp::Ge, number(&value)?),
                ("in", _) => {
                    return Err(not_ours(
                        &format!("`in` looks `{name}` up in {value}, which is not a list"),
                        &format!(" (write {{\"in\": [{{\"var\": \"{name}\"}}, [..]]}})"),
                    ));
                }
                _ => {
                    return Err(not_ours(
                        &format!("unsupported use of `{op}` with {value}"),
                        "",
                    ));
                }
            };
            Ok(Expr::Test { q, test })
        }
        "var" => {
            let name = match list(args).first() {
                Some(Value::String(name)) => name.clone(),
                _ => "q".into(),
            };
            Err(not_ours(
                "unsupported operator `var`",
                &format!(
                    " (a bare `var` is not a test; write {{\"===\": [{{\"var\": \"{name}\"}}, true]}})"
                ),
            ))
        }
        "==" | "!=" => Err(not_ours(
            &format!("unsupported operator `{op}`"),
            &format!(" (write `{op}=`, which compares without converting types)"),
        )),
        other if JSONLOGIC.contains(&other) => {
            Err(not_ours(&format!("unsupported operator `{other}`"), ""))
        }
        other => Err(format!(
            "unsupported operator `{other}`: it is not a JsonLogic operator; {READS}"
        )),
    }
}

/// What the reader takes, for its errors.
const READS: &str = "Carepath reads only the forms it writes itself: a test of one question's answer, {\"OP\": [{\"var\": \"q\"}, value]} with OP one of `===`, `!==`, `<`, `<=`, `>`, `>=` or `in` (value a list), joined by `and`, `or` and `!`";

/// The operators of JsonLogic (<https://jsonlogic.com/operations.html>).
const JSONLOGIC: [&str; 35] = [
    "var",
    "missing",
    "missing_some",
    "if",
    "?:",
    "==",
    "===",
    "!=",
    "!==",
    "!",
    "!!",
    "or",
    "and",
    ">",
    ">=",
    "<",
    "<=",
    "max",
    "min",
    "+",
    "-",
    "*",
    "/",
    "%",
    "map",
    "reduce",
    "filter",
    "all",
    "none",
    "some",
    "merge",
    "in",
    "cat",
    "substr",
    "log",
];

/// The error for valid JsonLogic that Carepath does not read: `what` is
/// wrong, `hint` (after the list of forms) how to write it instead.
fn not_ours(what: &str, hint: &str) -> String {
    format!("{what}: this condition is valid JsonLogic, but {READS}{hint}")
}
