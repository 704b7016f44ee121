//! Conditions as JsonLogic (<https://jsonlogic.com>), standard operators
//! only, so that any JsonLogic library evaluates a rule pack's conditions.
//!
//! The data is one object of answers, keyed by question id: `true`/`false`
//! for yes/no questions, the option id for one-of and scale questions, a
//! whole number for counts and a number of pounds (at most two decimals)
//! for amounts. A question that is not asked is left out (or `null`). As in
//! the language, every test of a question that is not asked is false; only
//! `!` turns that round, so `{"!": [{"===": [{"var": "q"}, true]}]}` (`not
//! q`) holds when `q` is not asked.
//!
//! Every condition has the same value whether or not the library coerces
//! `null`. JavaScript's JsonLogic reads `null < 3` and `null >= 0` as true
//! and `null > 3` as false; a strict port may refuse to order `null`, or to
//! look it up with `in`, at all. So every test that orders an answer
//! (`<`, `<=`, `>`, `>=`), looks it up in a list (`in`), or needs it
//! answered to mean what it says (`!==` against a value) comes after the
//! guard `{"!==": [{"var": "q"}, null]}` in an `and`, which JsonLogic
//! evaluates from the left and stops at the first false: the test itself
//! never sees `null`. Only `===` against a value stands alone, since strict
//! equality with `null` is false in every reading (and the guard itself is
//! strict equality with `null`, which any reader of a rule pack evaluates).
//!
//! So `null` reads as "not asked", and a rule testing the question fails.
//! An app must therefore pass `null` (or leave a question out) only where
//! the question does not apply, that is where its `asked_when` is false for
//! the other answers. For a question that applies, a missing answer is not
//! "no": evaluating with it left out can give a lower level than the
//! incident deserves. `carepath decide` and `Engine::answers` read `null` as
//! no answer and refuse a decision that depends on it.

use serde_json::{Value, json};

use crate::analysis::witness::answer_json;
use crate::model::{Answer, Atom, CmpOp, Cond, Model, Test};

/// A condition as JsonLogic.
pub fn condition(model: &Model, c: &Cond) -> Value {
    match c {
        Cond::Atom(a) => atom(model, a),
        Cond::Not(inner) => json!({ "!": [condition(model, inner)] }),
        Cond::And(cs) => {
            json!({ "and": cs.iter().map(|c| condition(model, c)).collect::<Vec<_>>() })
        }
        Cond::Or(cs) => json!({ "or": cs.iter().map(|c| condition(model, c)).collect::<Vec<_>>() }),
    }
}

/// Every condition of a list holding (an example's answers).
pub fn all(model: &Model, atoms: &[Atom]) -> Value {
    match atoms {
        [one] => atom(model, one),
        _ => json!({ "and": atoms.iter().map(|a| atom(model, a)).collect::<Vec<_>>() }),
    }
}

fn atom(model: &Model, a: &Atom) -> Value {
    let q = model.question(a.question);
    let var = json!({ "var": q.meta.id });
    let number = |n: i64| answer_json(model, a.question, Answer::Number(n));
    match &a.test {
        Test::Bool(b) => json!({ "===": [var, b] }),
        Test::Options(set) => {
            let ids: Vec<&str> = set
                .iter()
                .map(|o| q.kind.choices()[*o as usize].id.as_str())
                .collect();
            match ids.as_slice() {
                [one] => json!({ "===": [var, one] }),
                _ => guarded(var.clone(), json!({ "in": [var, ids] })),
            }
        }
        Test::Compare(op, c) => {
            let name = match op {
                CmpOp::Eq => "===",
                CmpOp::Ne => "!==",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            let test = json!({ name: [var, number(*c)] });
            match op {
                CmpOp::Eq => test,
                _ => guarded(var, test),
            }
        }
        Test::Within { values, negated } => {
            let values: Vec<Value> = values.iter().map(|v| number(*v)).collect();
            let test = json!({ "in": [var, values] });
            guarded(
                var,
                if *negated {
                    json!({ "!": [test] })
                } else {
                    test
                },
            )
        }
    }
}

/// `test`, and the question is answered.
fn guarded(var: Value, test: Value) -> Value {
    json!({ "and": [{ "!==": [var, null] }, test] })
}
