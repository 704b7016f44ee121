//! Answers read straight into their classes (the *cells* of
//! [`Engine::cells`](super::Engine::cells)), for the compiled decision.
//!
//! The compiled decision branches on classes of answers, so an app's
//! answers object only has to be turned into one class per question to be
//! walked. [`Classes`] holds what that takes, worked out when the pack is
//! read: the class of each yes/no answer and option, the starts of each
//! number's classes to search, and every "asked when" condition rewritten
//! as a test of classes. A class is a set of answers that no condition of
//! the pack tells apart, so a condition holds for an answer exactly when
//! it holds for the answer's class: reading classes loses nothing.

use super::clauses::Clauses;
use super::expr::{Expr, Known, Val, all3, any3};

/// No class yet: the question has no answer.
pub const UNSET: u32 = u32::MAX;

/// Given as `null` while an answers object is read (so that a key given
/// twice is noticed), which is no answer once it has been read.
pub const GIVEN_NULL: u32 = u32::MAX - 1;

/// How many questions [`with_scratch`] keeps on the stack.
const ON_STACK: usize = 64;

/// A condition over classes: each test is the set of the question's classes
/// in which it holds.
#[derive(Debug)]
pub enum ClassExpr {
    /// A test of a question of at most 64 classes, kept in the node: bit
    /// `c` of `holds` says whether it holds in class `c`.
    Word {
        q: usize,
        holds: u64,
    },
    /// Bit `c` of `holds` says whether the test holds in class `c`.
    Test {
        q: usize,
        holds: Box<[u64]>,
    },
    /// Tests of questions of at most 64 classes (as [`ClassExpr::Word`]),
    /// all of which hold (`all`), or one of which does: most conditions,
    /// tested in one loop.
    Words {
        all: bool,
        tests: Box<[(usize, u64)]>,
    },
    Not(Box<ClassExpr>),
    And(Box<[ClassExpr]>),
    Or(Box<[ClassExpr]>),
}

impl ClassExpr {
    /// `e` over the classes `cells` (per question, each class's
    /// representative answer, `None` for "not asked").
    pub fn new(e: &Expr, cells: &[Vec<Option<Val>>]) -> ClassExpr {
        match e {
            Expr::Test { q, test } => {
                let classes = &cells[*q];
                let mut holds = vec![0u64; classes.len().div_ceil(64)].into_boxed_slice();
                for (c, v) in classes.iter().enumerate() {
                    if test.holds(*v) {
                        holds[c / 64] |= 1 << (c % 64);
                    }
                }
                match *holds {
                    [word] => ClassExpr::Word { q: *q, holds: word },
                    _ => ClassExpr::Test { q: *q, holds },
                }
            }
            Expr::Not(e) => match ClassExpr::new(e, cells) {
                // Classes past the question's last are never tested.
                ClassExpr::Word { q, holds } => ClassExpr::Word { q, holds: !holds },
                e => ClassExpr::Not(Box::new(e)),
            },
            Expr::And(es) => ClassExpr::of_all(true, es, cells),
            Expr::Or(es) => ClassExpr::of_all(false, es, cells),
        }
    }

    /// `es` all held (`all`) or one of them.
    fn of_all(all: bool, es: &[Expr], cells: &[Vec<Option<Val>>]) -> ClassExpr {
        let es: Box<[ClassExpr]> = es.iter().map(|e| ClassExpr::new(e, cells)).collect();
        let words: Option<Box<[(usize, u64)]>> = es
            .iter()
            .map(|e| match e {
                ClassExpr::Word { q, holds } => Some((*q, *holds)),
                _ => None,
            })
            .collect();
        match (words, all) {
            (Some(tests), _) => ClassExpr::Words { all, tests },
            (None, true) => ClassExpr::And(es),
            (None, false) => ClassExpr::Or(es),
        }
    }

    /// Three-valued, as [`Expr::eval3`]: `None` when a question it needs has
    /// no class yet ([`UNSET`]).
    pub fn eval3(&self, class: &[u32]) -> Option<bool> {
        match self {
            ClassExpr::Word { q, holds } => match class[*q] {
                UNSET => None,
                c => Some(holds >> (c % 64) & 1 == 1),
            },
            ClassExpr::Test { q, holds } => match class[*q] {
                UNSET => None,
                c => Some(holds[c as usize / 64] >> (c % 64) & 1 == 1),
            },
            ClassExpr::Words { all, tests } => {
                let mut open = false;
                for (q, holds) in tests.iter() {
                    match class[*q] {
                        UNSET => open = true,
                        // One that does not hold settles "all"; one that
                        // holds settles "one of".
                        c if (holds >> (c % 64) & 1 == 1) != *all => return Some(!*all),
                        _ => {}
                    }
                }
                (!open).then_some(*all)
            }
            ClassExpr::Not(e) => e.eval3(class).map(|b| !b),
            ClassExpr::And(es) => all3(es.iter().map(|e| e.eval3(class))),
            ClassExpr::Or(es) => any3(es.iter().map(|e| e.eval3(class))),
        }
    }
}

/// What reading answers into classes takes, per pack.
#[derive(Debug)]
pub struct Classes {
    /// Per question: the starts of a count's or amount's classes, in
    /// order (empty for other questions).
    starts: Vec<Box<[i64]>>,
    /// Per question: the class of "not asked", when it can be.
    not_asked: Vec<Option<u32>>,
    /// The questions asked only when a condition holds, in asking order,
    /// with the condition over classes.
    asked: Box<[(usize, ClassExpr)]>,
    /// Per question: its "asked when" (an index into `asked`).
    asked_at: Vec<Option<usize>>,
    /// Per question: whether an "asked when" tests it.
    tested_by_asked: Vec<bool>,
    /// Every rule's condition, in the pack's order.
    pub rules: Box<[ClassExpr]>,
    /// The same conditions as clauses over a word of tests, when they fit
    /// (see `clauses.rs`).
    pub clauses: Option<Clauses>,
    /// The procedures' conditions.
    pub procedures: Box<[ClassExpr]>,
}

impl Classes {
    pub fn new(
        cells: &[Vec<Option<Val>>],
        asked: &[Option<Expr>],
        rules: &[Expr],
        procedures: &[Expr],
    ) -> Classes {
        let over_classes = |es: &[Expr]| es.iter().map(|e| ClassExpr::new(e, cells)).collect();
        let mut asked_at = vec![None; cells.len()];
        let mut tested_by_asked = vec![false; cells.len()];
        for (i, (q, c)) in asked
            .iter()
            .enumerate()
            .filter_map(|(q, c)| Some((q, c.as_ref()?)))
            .enumerate()
        {
            asked_at[q] = Some(i);
            for (t, _) in c.tests() {
                tested_by_asked[t] = true;
            }
        }
        let rules: Box<[ClassExpr]> = over_classes(rules);
        let sizes: Vec<usize> = cells.iter().map(Vec::len).collect();
        Classes {
            asked_at,
            tested_by_asked,
            clauses: Clauses::new(&rules, &sizes),
            rules,
            procedures: over_classes(procedures),
            starts: cells
                .iter()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| match c {
                            Some(Val::Num(n)) => Some(*n),
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
            not_asked: cells
                .iter()
                .map(|cs| cs.iter().position(Option::is_none).map(|c| c as u32))
                .collect(),
            asked: asked
                .iter()
                .enumerate()
                .filter_map(|(q, c)| c.as_ref().map(|c| (q, ClassExpr::new(c, cells))))
                .collect(),
        }
    }

    /// The class of answer `v` to question `q`: yes/no and option classes
    /// are in the order of their values, a number's class is the last that
    /// starts at or below it.
    #[inline]
    pub fn class_of(&self, q: usize, v: Val) -> Option<u32> {
        match v {
            Val::Bool(b) => Some(b as u32),
            Val::Opt(o) => Some(o),
            Val::Num(n) => self.starts[q]
                .partition_point(|s| *s <= n)
                .checked_sub(1)
                .map(|c| c as u32),
        }
    }

    /// The class of each answer known (`None` for "not asked"), and
    /// [`UNSET`] for each answer unknown, into `class`: `false` when an
    /// answer is of no class (a number below every class).
    pub fn of_known(&self, known: &[Known], class: &mut [u32]) -> bool {
        for (q, k) in known.iter().enumerate() {
            class[q] = match k {
                Known::Unknown => UNSET,
                Known::Is(None) => match self.not_asked[q] {
                    Some(c) => c,
                    None => return false,
                },
                Known::Is(Some(v)) => match self.class_of(q, *v) {
                    Some(c) => c,
                    None => return false,
                },
            };
        }
        true
    }

    /// Whether question `q` is asked, given the classes so far: `None`
    /// while that is open.
    pub fn asked(&self, q: usize, class: &[u32]) -> Option<bool> {
        match self.asked_at[q] {
            None => Some(true),
            Some(i) => self.asked[i].1.eval3(class),
        }
    }

    /// The class of "not asked" of question `q`, when it can be.
    pub fn not_asked(&self, q: usize) -> Option<u32> {
        self.not_asked[q]
    }

    /// Whether some "asked when" tests question `q`.
    pub fn tested_by_asked(&self, q: usize) -> bool {
        self.tested_by_asked[q]
    }

    /// Check that every answered question is asked, given the answers to
    /// everything its condition tests, and give the questions the answers
    /// show are not asked their "not asked" class. `false` when an answer
    /// is to a question that is not asked, or whose asking the answers
    /// leave open. An "asked when" tests only earlier questions, so one
    /// pass in order settles each condition before it is needed.
    pub fn settle_asked(&self, class: &mut [u32]) -> bool {
        for (q, cond) in self.asked.iter() {
            let held = cond.eval3(class);
            match class[*q] {
                UNSET => {
                    if held == Some(false)
                        && let Some(c) = self.not_asked[*q]
                    {
                        class[*q] = c;
                    }
                }
                _ if held != Some(true) => return false,
                _ => {}
            }
        }
        true
    }
}

/// Run `f` on a scratch array of `n` classes, all [`UNSET`], kept on the
/// stack when the pack is small enough.
#[inline]
pub fn with_scratch<T>(n: usize, f: impl FnOnce(&mut [u32]) -> T) -> T {
    if n <= ON_STACK {
        let mut scratch = [UNSET; ON_STACK];
        f(&mut scratch[..n])
    } else {
        f(&mut vec![UNSET; n])
    }
}
