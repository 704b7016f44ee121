//! Every rule's condition as clauses over one word of tests, so that a
//! decision tests all of a pack's rules on an incident's answer classes
//! with a few operations per rule.
//!
//! A rule's condition over classes ([`ClassExpr`]) is rewritten, when the
//! pack is read, as "one of these clauses holds", each clause "all of these
//! tests hold" (its disjunctive normal form; tests of one question in a
//! clause are one test of the classes in which all hold). Each distinct test
//! is a bit. For an incident, one pass over its classes gives the word of
//! the tests that hold and the word of those whose question has a class;
//! each clause is then a mask. Three-valued "and" and "or" distribute over
//! each other and obey De Morgan's laws, so the clauses give every rule the
//! value [`ClassExpr::eval3`] gives, unknowns included.
//!
//! Packs whose conditions need more than 64 distinct tests, a test of a
//! question of more than 64 classes, or too many clauses are left to
//! [`ClassExpr::eval3`].

use std::collections::BTreeMap;

use super::classes::{ClassExpr, UNSET};

/// Most clauses one condition may have before the pack is left to
/// [`ClassExpr::eval3`].
const MAX_CLAUSES: usize = 64;

/// A clause: per question, the classes in which all its tests of that
/// question hold.
type Clause = BTreeMap<usize, u64>;

/// Every rule's condition as clauses over a word of tests.
#[derive(Debug)]
pub struct Clauses {
    /// Per question that some clause tests: the question, where its
    /// classes start in `holds`, and its tests.
    tested: Vec<(usize, usize, u64)>,
    /// Per tested question, per class: the tests that hold in it.
    holds: Vec<u64>,
    /// Per rule: where its clauses are in `clauses`.
    rules: Vec<(u32, u32)>,
    /// Each clause as the tests that must all hold.
    clauses: Vec<u64>,
}

/// Which tests hold for an incident, and which are settled (their
/// question has a class).
#[derive(Clone, Copy, Debug)]
pub struct Truth {
    holds: u64,
    settled: u64,
}

impl Clauses {
    /// The clauses of `rules` over questions with `classes[q]` classes
    /// each; `None` when they do not fit (see the module's comment).
    pub fn new(rules: &[ClassExpr], classes: &[usize]) -> Option<Clauses> {
        let mut tests: Vec<(usize, u64)> = Vec::new();
        let mut ranges = Vec::with_capacity(rules.len());
        let mut clauses = Vec::new();
        for rule in rules {
            let start = clauses.len() as u32;
            for clause in dnf(rule, false)? {
                let mut mask = 0u64;
                for (q, holds) in clause {
                    let t = match tests.iter().position(|t| *t == (q, holds)) {
                        Some(t) => t,
                        None => {
                            tests.push((q, holds));
                            tests.len() - 1
                        }
                    };
                    if t >= 64 {
                        return None;
                    }
                    mask |= 1 << t;
                }
                clauses.push(mask);
            }
            ranges.push((start, clauses.len() as u32));
        }
        let mut tested = Vec::new();
        let mut holds = Vec::new();
        for (q, n) in classes.iter().enumerate() {
            let of_q = || tests.iter().enumerate().filter(|(_, (tq, _))| *tq == q);
            let mine = of_q().fold(0u64, |m, (t, _)| m | 1 << t);
            if mine == 0 {
                continue;
            }
            tested.push((q, holds.len(), mine));
            holds.extend((0..*n).map(|c| {
                of_q()
                    .filter(|(_, (_, h))| c < 64 && h >> c & 1 == 1)
                    .fold(0u64, |m, (t, _)| m | 1 << t)
            }));
        }
        Some(Clauses {
            tested,
            holds,
            rules: ranges,
            clauses,
        })
    }

    /// The tests that hold, and those settled, for answers read into
    /// classes ([`UNSET`] for a question with none).
    #[inline]
    pub fn truth(&self, class: &[u32]) -> Truth {
        let mut truth = Truth {
            holds: 0,
            settled: 0,
        };
        for &(q, start, tests) in &self.tested {
            let c = class[q];
            if c != UNSET {
                truth.holds |= self.holds[start + c as usize];
                truth.settled |= tests;
            }
        }
        truth
    }

    /// Whether rule `r` holds, three-valued: `None` when a test it needs
    /// is not settled and no clause holds.
    #[inline(always)]
    pub fn rule(&self, r: usize, truth: Truth) -> Option<bool> {
        let (start, end) = self.rules[r];
        let mut open = false;
        for clause in &self.clauses[start as usize..end as usize] {
            if clause & truth.settled & !truth.holds != 0 {
                // A settled test fails: the clause does not hold.
                continue;
            }
            if clause & !truth.settled != 0 {
                open = true;
                continue;
            }
            return Some(true);
        }
        (!open).then_some(false)
    }
}

/// `e` (negated when `not`) as clauses, each of at most one test per
/// question; `None` past [`MAX_CLAUSES`] or for a test of more than 64
/// classes.
fn dnf(e: &ClassExpr, not: bool) -> Option<Vec<Clause>> {
    let test = |q: usize, holds: u64| Clause::from([(q, if not { !holds } else { holds })]);
    // Under `not`, "all" becomes "one of" and the other way round.
    let all_of = |all: bool| all != not;
    match e {
        ClassExpr::Word { q, holds } => Some(vec![test(*q, *holds)]),
        ClassExpr::Test { .. } => None,
        ClassExpr::Words { all, tests } => {
            let each = tests.iter().map(|(q, h)| vec![test(*q, *h)]);
            combine(all_of(*all), each)
        }
        ClassExpr::Not(e) => dnf(e, !not),
        ClassExpr::And(es) => combine(
            all_of(true),
            es.iter().map(|e| dnf(e, not)).collect::<Option<Vec<_>>>()?,
        ),
        ClassExpr::Or(es) => combine(
            all_of(false),
            es.iter().map(|e| dnf(e, not)).collect::<Option<Vec<_>>>()?,
        ),
    }
}

/// Clauses of parts that all hold (`all`: each clause of the product, the
/// tests of one question merged) or one of which does (every part's
/// clauses).
fn combine(all: bool, parts: impl IntoIterator<Item = Vec<Clause>>) -> Option<Vec<Clause>> {
    if !all {
        let clauses: Vec<Clause> = parts.into_iter().flatten().collect();
        return (clauses.len() <= MAX_CLAUSES).then_some(clauses);
    }
    let mut product = vec![Clause::new()];
    for part in parts {
        let mut next = Vec::with_capacity(product.len() * part.len());
        for a in &product {
            for b in &part {
                let mut c = a.clone();
                for (q, h) in b {
                    *c.entry(*q).or_insert(u64::MAX) &= h;
                }
                next.push(c);
            }
        }
        if next.len() > MAX_CLAUSES {
            return None;
        }
        product = next;
    }
    Some(product)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random conditions over three questions of up to five classes,
    /// with every assignment of classes (and of no class): the clauses
    /// give every rule the value of its condition, unknowns included.
    #[test]
    fn clauses_give_each_rule_the_value_of_its_condition() {
        let classes = [3usize, 5, 2];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        fn random(next: &mut dyn FnMut() -> u64, classes: &[usize], depth: u32) -> ClassExpr {
            let q = next() as usize % classes.len();
            let holds = next() & ((1 << classes[q]) - 1);
            match if depth == 0 { 0 } else { next() % 6 } {
                0 | 1 => ClassExpr::Word { q, holds },
                2 => ClassExpr::Not(Box::new(random(next, classes, depth - 1))),
                3 => ClassExpr::Words {
                    all: next().is_multiple_of(2),
                    tests: (0..1 + next() % 3)
                        .map(|_| {
                            let q = next() as usize % classes.len();
                            (q, next() & ((1 << classes[q]) - 1))
                        })
                        .collect(),
                },
                4 => ClassExpr::And(
                    (0..next() % 4)
                        .map(|_| random(next, classes, depth - 1))
                        .collect(),
                ),
                _ => ClassExpr::Or(
                    (0..next() % 4)
                        .map(|_| random(next, classes, depth - 1))
                        .collect(),
                ),
            }
        }
        let rules: Vec<ClassExpr> = (0..300).map(|_| random(&mut next, &classes, 3)).collect();
        // Packs of at most 64 tests: a few rules at a time.
        let mut fitted = 0;
        for group in rules.chunks(4) {
            let Some(clauses) = Clauses::new(group, &classes) else {
                continue;
            };
            fitted += 1;
            for a in 0..=classes[0] {
                for b in 0..=classes[1] {
                    for c in 0..=classes[2] {
                        let class: Vec<u32> = [a, b, c]
                            .iter()
                            .zip(&classes)
                            .map(|(v, n)| if v == n { UNSET } else { *v as u32 })
                            .collect();
                        let truth = clauses.truth(&class);
                        for (r, rule) in group.iter().enumerate() {
                            assert_eq!(
                                clauses.rule(r, truth),
                                rule.eval3(&class),
                                "{rule:?} at {class:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(fitted > 50, "only {fitted} groups fitted");
    }
}
