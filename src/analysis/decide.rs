//! The decision space: for every incident, which rule decides it.
//!
//! Each rule's condition is a boolean diagram. They are combined into one
//! *decision diagram* per the protocol's policy, whose terminals say what
//! decides an incident:
//!
//! - most serious wins: the one rule of the most serious level that matches,
//!   or "several rules of level L" when more than one of them does;
//! - first match wins: the first rule that matches;
//! - must not overlap: the level all matching rules agree on, or a conflict.
//!
//! A rule decides somewhere exactly when its terminal is reachable through
//! possible incidents, so one traversal finds every rule that never decides.

use crate::analysis::domain::Domain;
use crate::analysis::mdd::{FALSE, Mdd, NodeId, Op, TRUE, terminal};
use crate::model::{LevelId, Model, Policy, RuleId};

/// What decides an incident, as a terminal of a decision diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decider {
    /// No rule matches.
    Nothing,
    /// One rule decides.
    Rule(RuleId),
    /// Several rules of this level match, and nothing more serious (or, under
    /// no-overlap, the matching rules all give this level).
    Level(LevelId),
    /// Rules of different levels match (no-overlap only).
    Conflict,
}

/// Terminal values: 0 nothing, then one per level, one per rule, conflict.
#[derive(Clone, Copy, Debug)]
pub struct Codes {
    levels: u32,
    rules: u32,
}

impl Codes {
    pub fn level(self, l: LevelId) -> u32 {
        1 + l.0
    }

    pub fn rule(self, r: RuleId) -> u32 {
        1 + self.levels + r.0
    }

    pub fn conflict(self) -> u32 {
        1 + self.levels + self.rules
    }

    pub fn decode(self, v: u32) -> Decider {
        if v == 0 {
            Decider::Nothing
        } else if v <= self.levels {
            Decider::Level(LevelId(v - 1))
        } else if v <= self.levels + self.rules {
            Decider::Rule(RuleId(v - 1 - self.levels))
        } else {
            Decider::Conflict
        }
    }
}

/// A protocol's answer space with its diagrams.
pub struct Space<'m> {
    pub model: &'m Model,
    pub domain: Domain,
    pub mdd: Mdd,
    pub codes: Codes,
    /// The possible incidents ("asked when" respected).
    pub valid: NodeId,
    /// Each rule's condition (not restricted to possible incidents).
    pub rules: Vec<NodeId>,
    /// Per level: the one matching rule of that level, or "several".
    pub unique: Vec<NodeId>,
    /// The decision diagram under the protocol's policy.
    pub decision: NodeId,
}

impl<'m> Space<'m> {
    pub fn new(model: &'m Model) -> Space<'m> {
        let domain = Domain::new(model);
        let mut mdd = Mdd::new(domain.sizes());
        let codes = Codes {
            levels: model.levels.len() as u32,
            rules: model.rules.len() as u32,
        };
        let valid = domain.valid(&mut mdd, model);
        let rules: Vec<NodeId> = model
            .rules
            .iter()
            .map(|r| domain.cond(&mut mdd, &r.when))
            .collect();
        let as_rule = |mdd: &mut Mdd, r: usize| {
            let code = codes.rule(RuleId(r as u32));
            mdd.relabel(rules[r], r as u64, &move |v| if v == 1 { code } else { 0 })
        };
        let policy = model.header.policy.value;
        let mut unique = Vec::new();
        if policy != Policy::FirstMatch {
            for l in 0..model.levels.len() {
                let level = LevelId(l as u32);
                let of_level: Vec<NodeId> = (0..rules.len())
                    .filter(|r| model.rules[*r].level == level)
                    .map(|r| as_rule(&mut mdd, r))
                    .collect();
                let multi = codes.level(level);
                unique.push(mdd.fold(Op::Unique { multi }, of_level, terminal(0)));
            }
        }
        let decision = match policy {
            Policy::MostSerious => {
                let top_first: Vec<NodeId> = unique.iter().rev().copied().collect();
                mdd.fold(Op::Otherwise, top_first, terminal(0))
            }
            Policy::FirstMatch => {
                let in_order: Vec<NodeId> =
                    (0..rules.len()).map(|r| as_rule(&mut mdd, r)).collect();
                mdd.fold(Op::Otherwise, in_order, terminal(0))
            }
            Policy::NoOverlap => {
                let levels: Vec<NodeId> = unique
                    .iter()
                    .enumerate()
                    .map(|(l, m)| {
                        let code = codes.level(LevelId(l as u32));
                        mdd.relabel(*m, (1 << 40) | l as u64, &move |v| {
                            if v == 0 { 0 } else { code }
                        })
                    })
                    .collect();
                mdd.fold(
                    Op::Agree {
                        conflict: codes.conflict(),
                    },
                    levels,
                    terminal(0),
                )
            }
        };
        Space {
            model,
            domain,
            mdd,
            codes,
            valid,
            rules,
            unique,
            decision,
        }
    }

    pub fn decode(&self, v: u32) -> Decider {
        self.codes.decode(v)
    }

    /// The level an incident gets, given what decides it (the `otherwise`
    /// level when nothing does); `None` for no level or a conflict.
    pub fn level_of(&self, d: Decider) -> Option<LevelId> {
        match d {
            Decider::Nothing => self.model.header.otherwise.as_ref().map(|o| o.value),
            Decider::Rule(r) => Some(self.model.rule(r).level),
            Decider::Level(l) => Some(l),
            Decider::Conflict => None,
        }
    }

    /// Everything that decides some possible incident.
    pub fn deciders(&self) -> Vec<Decider> {
        let found = self.mdd.collect(&[self.decision, self.valid], &|v| {
            (v[1] == 1).then_some(v[0])
        });
        let mut out: Vec<u32> = found.into_iter().collect();
        out.sort_unstable();
        out.into_iter().map(|v| self.decode(v)).collect()
    }

    /// Whether some possible incident satisfies all of `diagrams`.
    pub fn overlap(&self, diagrams: &[NodeId]) -> bool {
        let mut roots = diagrams.to_vec();
        roots.push(self.valid);
        if roots.contains(&FALSE) {
            return false;
        }
        self.mdd
            .find(&roots, &|v| v.iter().all(|x| *x == 1))
            .is_some()
    }

    pub fn true_node(&self) -> NodeId {
        TRUE
    }
}
