//! The finite answer space of a protocol.
//!
//! Each question's answers fall into a few *cells* that no condition in the
//! protocol can tell apart: yes and no; each option of a list; for counts and
//! amounts, the intervals between the constants the protocol compares them
//! with. A question that is asked only sometimes has one more cell, "not
//! asked". Every incident is one cell per question, so every finding can be
//! exact and come with a concrete witness.

use std::collections::BTreeSet;

use crate::analysis::mdd::{FALSE, Mdd, NodeId, Op, TRUE};
use crate::model::{Answer, Atom, CmpOp, Cond, Model, QuestionId, QuestionKind, Test};

/// The cells of one question.
#[derive(Clone, Debug)]
pub struct Cells {
    /// Cells that are answers: options, yes/no, or intervals.
    pub answers: u32,
    /// The first value of each interval, for counts and amounts.
    pub starts: Vec<i64>,
    /// Whether there is a last cell meaning "not asked".
    pub conditional: bool,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    YesNo,
    Options,
    Numbers,
}

impl Cells {
    pub fn total(&self) -> u32 {
        self.answers + u32::from(self.conditional)
    }

    /// The "not asked" cell, if the question has one.
    pub fn not_asked(&self) -> Option<u32> {
        self.conditional.then_some(self.answers)
    }

    /// A representative answer of a cell (the first value of an interval),
    /// or `None` for "not asked".
    pub fn answer(&self, cell: u32) -> Option<Answer> {
        if cell >= self.answers {
            return None;
        }
        Some(match self.kind {
            Kind::YesNo => Answer::Bool(cell == 1),
            Kind::Options => Answer::Option(cell),
            Kind::Numbers => Answer::Number(self.starts[cell as usize]),
        })
    }

    /// The cell an answer falls in (`None` is "not asked").
    pub fn cell(&self, answer: Option<Answer>) -> Option<u32> {
        match (answer, self.kind) {
            (None, _) => self.not_asked(),
            (Some(Answer::Bool(b)), Kind::YesNo) => Some(u32::from(b)),
            (Some(Answer::Option(o)), Kind::Options) => (o < self.answers).then_some(o),
            (Some(Answer::Number(n)), Kind::Numbers) => {
                if n < self.starts[0] {
                    return None;
                }
                Some(match self.starts.binary_search(&n) {
                    Ok(i) => i as u32,
                    Err(i) => i as u32 - 1,
                })
            }
            _ => None,
        }
    }

    /// The last value of a number cell, if the interval is bounded.
    pub fn upper(&self, cell: u32) -> Option<i64> {
        (self.kind == Kind::Numbers)
            .then(|| self.starts.get(cell as usize + 1).map(|next| next - 1))
            .flatten()
    }
}

/// The cells of every question, and diagrams built over them.
pub struct Domain {
    pub cells: Vec<Cells>,
}

impl Domain {
    pub fn new(model: &Model) -> Domain {
        let cuts = cuts(model);
        let cells = model
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let conditional = q.asked_when.is_some();
                match &q.kind {
                    QuestionKind::YesNo => Cells {
                        answers: 2,
                        starts: Vec::new(),
                        conditional,
                        kind: Kind::YesNo,
                    },
                    QuestionKind::OneOf(c) | QuestionKind::Scale(c) => Cells {
                        answers: c.len() as u32,
                        starts: Vec::new(),
                        conditional,
                        kind: Kind::Options,
                    },
                    QuestionKind::Count { from } => numbers(*from, &cuts[i], conditional),
                    QuestionKind::Amount { .. } => numbers(0, &cuts[i], conditional),
                }
            })
            .collect();
        Domain { cells }
    }

    pub fn sizes(&self) -> Vec<u32> {
        self.cells.iter().map(Cells::total).collect()
    }

    /// The cells of `q` where `atom` holds.
    pub fn atom_cells<'a>(&'a self, atom: &'a Atom) -> impl Fn(u32) -> bool + 'a {
        let cells = &self.cells[atom.question.index()];
        move |c| cells.answer(c).is_some_and(|a| atom.test.holds(a))
    }

    /// A condition as a boolean diagram.
    pub fn cond(&self, mdd: &mut Mdd, c: &Cond) -> NodeId {
        match c {
            Cond::Atom(a) => mdd.literal(a.question.index(), self.atom_cells(a)),
            Cond::Not(x) => {
                let x = self.cond(mdd, x);
                mdd.not(x)
            }
            Cond::And(xs) => {
                let parts = xs.iter().map(|x| self.cond(mdd, x)).collect();
                mdd.fold(Op::And, parts, TRUE)
            }
            Cond::Or(xs) => {
                let parts = xs.iter().map(|x| self.cond(mdd, x)).collect();
                mdd.fold(Op::Or, parts, FALSE)
            }
        }
    }

    /// The possible incidents: a question that is asked only when its
    /// condition holds is "not asked" exactly when the condition fails.
    pub fn valid(&self, mdd: &mut Mdd, model: &Model) -> NodeId {
        let mut parts = Vec::new();
        for (i, q) in model.questions.iter().enumerate() {
            let Some(c) = &q.asked_when else { continue };
            let Some(not_asked) = self.cells[i].not_asked() else {
                continue;
            };
            let holds = self.cond(mdd, c);
            let asked = mdd.literal(i, |cell| cell != not_asked);
            let fails = mdd.not(holds);
            let skipped = mdd.not(asked);
            let both = mdd.apply(Op::And, holds, asked);
            let neither = mdd.apply(Op::And, fails, skipped);
            parts.push(mdd.apply(Op::Or, both, neither));
        }
        mdd.fold(Op::And, parts, TRUE)
    }

    /// The question's answer in a cell, for messages and witnesses.
    pub fn answer(&self, q: QuestionId, cell: u32) -> Option<Answer> {
        self.cells[q.index()].answer(cell)
    }
}

fn numbers(min: i64, cuts: &BTreeSet<i64>, conditional: bool) -> Cells {
    let mut starts = vec![min];
    starts.extend(cuts.iter().copied().filter(|c| *c > min));
    Cells {
        answers: starts.len() as u32,
        starts,
        conditional,
        kind: Kind::Numbers,
    }
}

/// For each question, the values where some comparison of it changes its
/// result.
fn cuts(model: &Model) -> Vec<BTreeSet<i64>> {
    let mut out = vec![BTreeSet::new(); model.questions.len()];
    model.for_each_atom(|a| {
        let set = &mut out[a.question.index()];
        match &a.test {
            Test::Compare(op, c) => match op {
                CmpOp::Eq | CmpOp::Ne => {
                    set.insert(*c);
                    set.insert(c.saturating_add(1));
                }
                CmpOp::Lt | CmpOp::Ge => {
                    set.insert(*c);
                }
                CmpOp::Le | CmpOp::Gt => {
                    set.insert(c.saturating_add(1));
                }
            },
            Test::Within { values, .. } => {
                for v in values {
                    set.insert(*v);
                    set.insert(v.saturating_add(1));
                }
            }
            Test::Bool(_) | Test::Options(_) => {}
        }
    });
    out
}
