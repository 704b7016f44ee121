//! Witnesses: the concrete incident that shows a finding.
//!
//! A witness comes from a path through the decision diagrams: the questions
//! tested on the path have an answer (or are not asked, because their "asked
//! when" condition fails), and the questions off the path do not matter and
//! are shown as "any". Every witness is a possible incident.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::diagnostic::{WitnessAnswer, WitnessData};

use crate::analysis::decide::Space;
use crate::analysis::mdd::Step;
use crate::model::summary;
use crate::model::{Answer, Model, QuestionId, QuestionKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Given {
    /// Any answer will do.
    Any,
    /// The question is not asked in this incident.
    NotAsked,
    Answer(Answer),
}

/// One answer (or "any", or "not asked") per question, in question order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    pub answers: Vec<Given>,
}

impl Witness {
    pub fn from_path(space: &Space<'_>, path: &[Step]) -> Witness {
        let mut answers = vec![Given::Any; space.model.questions.len()];
        for &(var, cell) in path {
            answers[var] = match space.domain.answer(QuestionId(var as u32), cell) {
                Some(a) => Given::Answer(a),
                None => Given::NotAsked,
            };
        }
        Witness { answers }
    }

    /// The answers in the language's own syntax, as an example's `given`
    /// writes them, so that a witness can be pasted into the protocol:
    /// `drugs == possession and drug-class == class-b` and, if some
    /// questions do not matter, `(any answer to the other questions)`.
    pub fn text(&self, model: &Model) -> String {
        let mut parts = Vec::new();
        let mut any = false;
        for (i, g) in self.answers.iter().enumerate() {
            let q = QuestionId(i as u32);
            match g {
                // Any setting is the usual case; only a setting that
                // matters is worth saying.
                Given::Any if model.question(q).is_setting => {}
                Given::Any => any = true,
                Given::NotAsked => {}
                Given::Answer(a) => parts.push(format!(
                    "{} == {}",
                    model.question(q).meta.id,
                    summary::answer(model, q, *a)
                )),
            }
        }
        match (parts.is_empty(), any) {
            (true, _) => "any incident".to_string(),
            (false, true) => format!(
                "{} (any answer to the other questions)",
                parts.join(" and ")
            ),
            (false, false) => parts.join(" and "),
        }
    }

    /// The witness for a finding: the answers that matter, with the
    /// question ids shared by every witness of the analysis.
    pub fn data(&self, model: &Model, ids: &Arc<[String]>) -> WitnessData {
        let answers = self
            .answers
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let q = QuestionId(i as u32);
                let a = match g {
                    Given::Any => return None,
                    Given::NotAsked => WitnessAnswer::NotAsked,
                    Given::Answer(a) => WitnessAnswer::Value(answer_json(model, q, *a)),
                };
                Some((i as u32, a))
            })
            .collect();
        WitnessData {
            questions: ids.clone(),
            answers,
        }
    }
}

/// An answer as JSON: booleans, option ids, whole numbers, amounts in pounds.
pub fn answer_json(model: &Model, q: QuestionId, a: Answer) -> Value {
    match (a, &model.question(q).kind) {
        (Answer::Bool(b), _) => json!(b),
        (Answer::Option(_), _) => json!(summary::answer(model, q, a)),
        (Answer::Number(n), QuestionKind::Amount { .. }) => {
            if n % 100 == 0 {
                json!(n / 100)
            } else {
                json!(n as f64 / 100.0)
            }
        }
        (Answer::Number(n), _) => json!(n),
    }
}
