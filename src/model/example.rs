//! What an example with answers means.
//!
//! "First occasion of possession of Class B or C drugs" listed under Level 1
//! describes an incident where those things happened and nothing else did.
//! So an example's answers fix the questions it mentions (possibly to a set,
//! `drug-class in {class-b, class-c}`), and every other question that applies
//! takes its *baseline* answer: no, the first option of a list, the lowest
//! point of a scale, the smallest count, an amount of 0. The rules must put
//! every incident so described at the example's level.

use std::collections::BTreeSet;

use crate::model::types::*;

/// The answer a question has in an example that does not mention it.
pub fn baseline(kind: &QuestionKind) -> Answer {
    match kind {
        QuestionKind::YesNo => Answer::Bool(false),
        QuestionKind::OneOf(_) | QuestionKind::Scale(_) => Answer::Option(0),
        QuestionKind::Count { from } => Answer::Number(*from),
        QuestionKind::Amount { .. } => Answer::Number(0),
    }
}

/// Constants each question is compared with anywhere in the model: rules,
/// "asked when" conditions, examples, factor lists, accepted findings.
pub fn constants(model: &Model) -> Vec<BTreeSet<i64>> {
    let mut out = vec![BTreeSet::new(); model.questions.len()];
    model.for_each_atom(|a| {
        let set = &mut out[a.question.index()];
        match &a.test {
            Test::Compare(_, c) => {
                set.insert(*c);
            }
            Test::Within { values, .. } => set.extend(values.iter().copied()),
            Test::Bool(_) | Test::Options(_) => {}
        }
    });
    out
}

/// Answers worth trying for a question: every answer of a yes/no or list
/// question; for counts and amounts the smallest value and each constant with
/// its neighbours, which between them show every way a comparison can go.
pub fn representatives(kind: &QuestionKind, constants: &BTreeSet<i64>) -> Vec<Answer> {
    match kind {
        QuestionKind::YesNo => vec![Answer::Bool(false), Answer::Bool(true)],
        QuestionKind::OneOf(c) | QuestionKind::Scale(c) => {
            (0..c.len() as u32).map(Answer::Option).collect()
        }
        QuestionKind::Count { .. } | QuestionKind::Amount { .. } => {
            let min = match kind {
                QuestionKind::Count { from } => *from,
                _ => 0,
            };
            let mut vals: BTreeSet<i64> = BTreeSet::from([min]);
            for &c in constants {
                for v in [c - 1, c, c + 1] {
                    if v >= min {
                        vals.insert(v);
                    }
                }
            }
            vals.into_iter().map(Answer::Number).collect()
        }
    }
}
