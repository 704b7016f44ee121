//! The decision diagram of a rule pack: for every incident (an answer class
//! per question, [`Engine::cells`](super::Engine::cells)), what it is
//! decided as under the pack's policy, with the police response of the
//! rules that decide it, or that it cannot happen (an answer that an "asked
//! when" condition rules out). It is the diagram the compiled decision
//! (`compiled.rs`) is simplified from. It is built from the pack's
//! compiled conditions alone, the way the analysis builds the model's
//! diagrams (`analysis/mdd.rs`): reduced and shared, so a question whose
//! answer cannot change the outcome on some path is not tested there, and
//! answer classes that lead to the same function of the later questions
//! lead to the same node, however many classes a count has.
//!
//! On the diagram, partial answers are judged by walks that never recurse:
//! the outcomes still possible (a walk below the answers given), and
//! whether a question's answer can still change the outcome (a walk of two
//! incidents side by side that agree everywhere except in that question
//! and the questions asked because of it). Each is bounded by the size of
//! the diagram, or of pairs of its nodes, not by the number of incidents.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};

use super::compiled::{Codes, PoliceKeys, decision_root};
use super::engine::Verdict;
use super::expr::{Expr, Known, Test, Val};
use crate::emit::pack::PolicyKind;

/// Most nodes the diagram may need while it is built. Past it, the engine
/// judges partial answers by search instead.
const BUDGET: usize = 200_000;

/// A node, or (with the top bit set) a terminal holding a value.
pub(super) type NodeId = u32;

pub(super) const TERMINAL_BIT: u32 = 1 << 31;
pub(super) const FALSE: NodeId = terminal(0);
pub(super) const TRUE: NodeId = terminal(1);
/// No node: the end of a chain in the unique table.
const NONE: NodeId = u32::MAX;

pub(super) const fn terminal(value: u32) -> NodeId {
    TERMINAL_BIT | value
}

pub(super) const fn is_terminal(n: NodeId) -> bool {
    n & TERMINAL_BIT != 0
}

pub(super) const fn value(n: NodeId) -> u32 {
    n & !TERMINAL_BIT
}

/// What the diagram is built from: a rule pack's compiled conditions.
pub struct Source<'a> {
    pub cells: &'a [Vec<Option<Val>>],
    pub rules: &'a [Expr],
    pub rule_level: &'a [usize],
    pub asked: &'a [Option<Expr>],
    pub policy: PolicyKind,
    pub otherwise: Option<usize>,
    pub levels: usize,
}

/// A node's children as runs: `(end, child)` in increasing `end`, cells
/// from the previous run's end (or 0) up to `end` (excluded) leading to
/// `child`, the last run ending at the number of cells. Two runs in a row
/// never have the same child, so a count with a thousand classes that
/// tells only two things apart is two runs.
pub(super) type Run = (u32, NodeId);

/// Nodes and their runs.
pub(super) struct Store {
    /// Cells per question.
    pub(super) sizes: Vec<u32>,
    /// Per node: its question, and where its runs start in `runs` and how
    /// many there are.
    nodes: Vec<(u32, u32, u32)>,
    runs: Vec<Run>,
}

impl Store {
    pub(super) fn var(&self, n: NodeId) -> usize {
        if is_terminal(n) {
            usize::MAX
        } else {
            self.nodes[n as usize].0 as usize
        }
    }

    pub(super) fn runs(&self, n: NodeId) -> &[Run] {
        let (_, start, len) = self.nodes[n as usize];
        &self.runs[start as usize..(start + len) as usize]
    }

    /// The runs of `n` on question `var` (at or above `n`'s): one run of
    /// every cell when `n` does not test it.
    fn runs_on<'a>(&'a self, n: NodeId, var: usize, one: &'a mut [Run; 1]) -> &'a [Run] {
        if self.var(n) == var {
            self.runs(n)
        } else {
            one[0] = (self.sizes[var], n);
            one
        }
    }

    /// `n` with question `var` (at or above `n`'s) answered with `cell`.
    pub(super) fn cofactor(&self, n: NodeId, var: usize, cell: u32) -> NodeId {
        if self.var(n) == var {
            let runs = self.runs(n);
            runs[runs.partition_point(|r| r.0 <= cell)].1
        } else {
            n
        }
    }
}

/// The runs two run lists of one question make together: `(end, a, b)`.
fn merge(a: &[Run], b: &[Run], mut each: impl FnMut(u32, NodeId, NodeId)) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let end = a[i].0.min(b[j].0);
        each(end, a[i].1, b[j].1);
        if a[i].0 == end {
            i += 1;
        }
        if b[j].0 == end {
            j += 1;
        }
    }
}

/// A diagram over a rule pack's answer classes whose ends say what `T`
/// says: the decision diagram ([`Diagram::build`]: a level with its police
/// response, no level or a conflict, as [`Codes`] gives them) or which
/// procedures apply ([`Diagram::procedures`]). Terminal value `v` is
/// `outcomes[v - 1]`, except `impossible`, for incidents no "asked when"
/// allows.
pub struct Diagram<T = Verdict> {
    store: Store,
    root: NodeId,
    outcomes: Vec<T>,
    impossible: u32,
}

/// A node on each side of the walk that asks whether a question matters.
type Pair = (NodeId, NodeId);

/// A set of outcomes, one bit per outcome code.
type Mask = u64;

/// Marks a node whose outcomes are not yet computed; no set of outcomes is
/// every bit, since a diagram is built only for fewer than 64 outcomes.
const UNSEEN: Mask = Mask::MAX;

/// How two diagrams combine, terminal by terminal. `Not` and `Tag` look at
/// their left diagram only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Op {
    And,
    Or,
    /// The left value where it is not 0, else the right one.
    First,
    Not,
    /// The value where the left diagram is true, else 0.
    Tag(u32),
    /// The greater value (0 is "no rule holds").
    Max,
    /// The values' bits together (sets of procedures).
    BitOr,
    /// Levels that hold together, for codes that carry a police key
    /// (`keys` per level): 0 with `x` is `x`; of one level, the greater
    /// key; of different levels, the conflict value, which absorbs.
    AgreeMax {
        conflict: u32,
        keys: u32,
    },
}

impl Op {
    fn eval(self, a: u32, b: u32) -> u32 {
        match self {
            Op::And => u32::from(a != 0 && b != 0),
            Op::Or => u32::from(a != 0 || b != 0),
            Op::First => {
                if a != 0 {
                    a
                } else {
                    b
                }
            }
            Op::Max => a.max(b),
            Op::BitOr => a | b,
            Op::AgreeMax { conflict, keys } => match (a, b) {
                (0, x) | (x, 0) => x,
                (x, y) if x == conflict || y == conflict => conflict,
                (x, y) if (x - 1) / keys == (y - 1) / keys => x.max(y),
                _ => conflict,
            },
            Op::Not => u32::from(a == 0),
            Op::Tag(v) => {
                if a != 0 {
                    v
                } else {
                    0
                }
            }
        }
    }

    fn unary(self) -> bool {
        matches!(self, Op::Not | Op::Tag(_))
    }

    /// A result known without looking below `a` and `b`.
    fn shortcut(self, a: NodeId, b: NodeId) -> Option<NodeId> {
        match self {
            Op::And if a == FALSE || b == FALSE => Some(FALSE),
            Op::Or if a == TRUE || b == TRUE => Some(TRUE),
            Op::And | Op::Or if a == b => Some(a),
            Op::And if a == TRUE => Some(b),
            Op::And if b == TRUE => Some(a),
            Op::Or if a == FALSE => Some(b),
            Op::Or if b == FALSE => Some(a),
            Op::First if is_terminal(a) && value(a) != 0 => Some(a),
            Op::First if a == terminal(0) => Some(b),
            Op::First if b == terminal(0) || a == b => Some(a),
            Op::Max | Op::AgreeMax { .. } | Op::BitOr if a == terminal(0) => Some(b),
            Op::Max | Op::AgreeMax { .. } | Op::BitOr if b == terminal(0) || a == b => Some(a),
            Op::AgreeMax { conflict, .. } if a == terminal(conflict) || b == terminal(conflict) => {
                Some(terminal(conflict))
            }
            _ => None,
        }
    }
}

/// Diagrams under construction: reduced (a node whose children are all
/// the same is that child) and shared (equal nodes are one node).
pub(super) struct Builder {
    pub(super) store: Store,
    /// Nodes by the hash of their question and runs, each chained to the
    /// next node of the same hash.
    unique: FxHashMap<u64, NodeId>,
    chain: Vec<NodeId>,
    memo: FxHashMap<(Op, NodeId, NodeId), NodeId>,
    pub(super) exhausted: bool,
}

impl Builder {
    pub(super) fn new(sizes: Vec<u32>) -> Builder {
        Builder {
            store: Store {
                sizes,
                nodes: Vec::new(),
                runs: Vec::new(),
            },
            unique: FxHashMap::default(),
            chain: Vec::new(),
            memo: FxHashMap::default(),
            exhausted: false,
        }
    }

    /// The node testing `var` with these runs (which may repeat a child
    /// from one run to the next).
    pub(super) fn mk(&mut self, var: usize, runs: &mut Vec<Run>) -> NodeId {
        runs.dedup_by(|later, earlier| {
            let same = later.1 == earlier.1;
            if same {
                earlier.0 = later.0;
            }
            same
        });
        if runs.len() == 1 {
            return runs[0].1;
        }
        let mut h = FxHasher::default();
        var.hash(&mut h);
        runs.hash(&mut h);
        let hash = h.finish();
        let s = &self.store;
        let mut n = self.unique.get(&hash).copied().unwrap_or(NONE);
        while n != NONE {
            if s.var(n) == var && s.runs(n) == runs.as_slice() {
                return n;
            }
            n = self.chain[n as usize];
        }
        if s.nodes.len() >= BUDGET {
            self.exhausted = true;
            return FALSE;
        }
        let id = s.nodes.len() as NodeId;
        let s = &mut self.store;
        s.nodes
            .push((var as u32, s.runs.len() as u32, runs.len() as u32));
        s.runs.extend_from_slice(runs);
        self.chain
            .push(self.unique.insert(hash, id).unwrap_or(NONE));
        id
    }

    /// True where `var`'s cell is one of those `holds` accepts.
    pub(super) fn literal(&mut self, var: usize, holds: impl Fn(usize) -> bool) -> NodeId {
        let size = self.store.sizes[var];
        let mut runs: Vec<Run> = (0..size)
            .map(|c| (c + 1, if holds(c as usize) { TRUE } else { FALSE }))
            .collect();
        self.mk(var, &mut runs)
    }

    /// True where the test holds of question `var`'s answer (`cells`, its
    /// answer classes). A test of a number can change only where a class
    /// starts at one of its constants (or one past it), so only those
    /// classes are tried: a count with thousands of classes costs a few
    /// steps per test, not thousands.
    fn test(&mut self, var: usize, test: &Test, cells: &[Option<Val>]) -> NodeId {
        // Numbers come first, in increasing order; "not asked" last.
        let numbers = if matches!(cells.first(), Some(Some(Val::Num(_)))) {
            cells.len() - usize::from(cells.last() == Some(&None))
        } else {
            0
        };
        let mut constants: Vec<i64> = Vec::new();
        match test {
            Test::Cmp(_, c) | Test::Is(Val::Num(c)) => constants.push(*c),
            Test::In(vs) => constants.extend(vs.iter().filter_map(|v| match v {
                Val::Num(n) => Some(*n),
                _ => None,
            })),
            _ => {}
        }
        let first_at_least =
            |k: i64| cells[..numbers].partition_point(|c| matches!(c, Some(Val::Num(s)) if *s < k));
        let mut starts: Vec<usize> = vec![0];
        for c in constants {
            starts.push(first_at_least(c));
            starts.push(first_at_least(c.saturating_add(1)));
        }
        starts.extend(numbers..cells.len());
        starts.sort_unstable();
        starts.dedup();
        starts.retain(|s| *s < cells.len());
        let mut runs: Vec<Run> = Vec::with_capacity(starts.len());
        for (i, start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(cells.len());
            let holds = test.holds(cells[*start]);
            runs.push((end as u32, if holds { TRUE } else { FALSE }));
        }
        self.mk(var, &mut runs)
    }

    pub(super) fn not(&mut self, a: NodeId) -> NodeId {
        self.apply(Op::Not, a, a)
    }

    pub(super) fn tag(&mut self, a: NodeId, v: u32) -> NodeId {
        self.apply(Op::Tag(v), a, a)
    }

    /// Combine two diagrams terminal by terminal, run by run, with a stack
    /// of its own (a diagram is as deep as the pack has questions).
    pub(super) fn apply(&mut self, op: Op, a: NodeId, b: NodeId) -> NodeId {
        enum Frame {
            Visit(NodeId, NodeId),
            /// Build the node of `var` for `(a, b)` from the results of
            /// its last `runs` runs (ends in `ends`).
            Build(usize, NodeId, NodeId, usize),
        }
        let mut work = vec![Frame::Visit(a, b)];
        let mut done: Vec<NodeId> = Vec::new();
        let mut ends: Vec<u32> = Vec::new();
        let mut pairs: Vec<(NodeId, NodeId)> = Vec::new();
        let mut runs: Vec<Run> = Vec::new();
        while let Some(frame) = work.pop() {
            match frame {
                Frame::Visit(a, b) => {
                    if self.exhausted {
                        done.push(FALSE);
                    } else if let Some(r) = op.shortcut(a, b) {
                        done.push(r);
                    } else if is_terminal(a) && (op.unary() || is_terminal(b)) {
                        done.push(terminal(op.eval(value(a), value(b))));
                    } else if let Some(&r) = self.memo.get(&(op, a, b)) {
                        done.push(r);
                    } else {
                        let s = &self.store;
                        pairs.clear();
                        let before = ends.len();
                        if op.unary() {
                            for (end, k) in s.runs(a) {
                                ends.push(*end);
                                pairs.push((*k, *k));
                            }
                        } else {
                            let var = s.var(a).min(s.var(b));
                            let (mut one_a, mut one_b) = ([(0, 0)], [(0, 0)]);
                            let ra = s.runs_on(a, var, &mut one_a);
                            let rb = s.runs_on(b, var, &mut one_b);
                            merge(ra, rb, |end, x, y| {
                                ends.push(end);
                                pairs.push((x, y));
                            });
                        }
                        let var = if op.unary() {
                            s.var(a)
                        } else {
                            s.var(a).min(s.var(b))
                        };
                        work.push(Frame::Build(var, a, b, ends.len() - before));
                        for (x, y) in pairs.iter().rev() {
                            work.push(Frame::Visit(*x, *y));
                        }
                    }
                }
                Frame::Build(var, a, b, count) => {
                    let start = done.len() - count;
                    let from = ends.len() - count;
                    runs.clear();
                    runs.extend(
                        ends[from..]
                            .iter()
                            .copied()
                            .zip(done[start..].iter().copied()),
                    );
                    done.truncate(start);
                    ends.truncate(from);
                    let r = self.mk(var, &mut runs);
                    self.memo.insert((op, a, b), r);
                    done.push(r);
                }
            }
        }
        done[0]
    }

    /// Combine many diagrams with an associative `op`, in order, pairing
    /// them up so that the diagrams in between stay small.
    pub(super) fn fold(&mut self, op: Op, mut items: Vec<NodeId>, empty: NodeId) -> NodeId {
        if items.is_empty() {
            return empty;
        }
        while items.len() > 1 {
            items = items
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => self.apply(op, *a, *b),
                    _ => pair[0],
                })
                .collect();
        }
        items[0]
    }
}

/// A compiled condition as a boolean diagram.
pub(super) fn condition(m: &mut Builder, e: &Expr, cells: &[Vec<Option<Val>>]) -> NodeId {
    match e {
        Expr::Test { q, test } => m.test(*q, test, &cells[*q]),
        Expr::Not(x) => {
            let n = condition(m, x, cells);
            m.not(n)
        }
        Expr::And(xs) => {
            let items = xs.iter().map(|x| condition(m, x, cells)).collect();
            m.fold(Op::And, items, TRUE)
        }
        Expr::Or(xs) => {
            let items = xs.iter().map(|x| condition(m, x, cells)).collect();
            m.fold(Op::Or, items, FALSE)
        }
    }
}

/// True for the incidents whose questions are answered exactly when they
/// are asked.
pub(super) fn allowed(m: &mut Builder, s: &Source<'_>) -> NodeId {
    let mut allowed = Vec::new();
    for (q, c) in s.asked.iter().enumerate() {
        let Some(c) = c else { continue };
        let asked = condition(m, c, s.cells);
        let answered = m.literal(q, |cell| s.cells[q][cell].is_some());
        let both = m.apply(Op::And, asked, answered);
        let not_asked = m.not(asked);
        let unanswered = m.not(answered);
        let neither = m.apply(Op::And, not_asked, unanswered);
        allowed.push(m.apply(Op::Or, both, neither));
    }
    m.fold(Op::And, allowed, TRUE)
}

impl Diagram {
    /// The decision diagram of a pack, or `None` when it needs more nodes
    /// than the budget allows (or the pack has more levels and police
    /// responses than a diagram tells apart).
    pub fn build(s: &Source<'_>, keys: &PoliceKeys<'_>) -> Option<Diagram> {
        let codes = Codes::new(s.levels, keys.keys);
        if codes.last_end() >= Mask::BITS {
            return None;
        }
        let sizes: Vec<u32> = s.cells.iter().map(|c| c.len() as u32).collect();
        let mut m = Builder::new(sizes);
        let root = decision_root(&mut m, s, keys, codes);
        let outcomes = (1..=codes.last_end())
            .map(|v| Verdict::of(codes.decode(v)))
            .collect();
        Diagram::kept(m, root, outcomes, codes.impossible())
    }
}

impl Diagram<u64> {
    /// Which of `procedures` apply, as a set (bit `p` for procedure `p`),
    /// for every incident; `None` when there are none, or more than a
    /// diagram tells apart, or it needs more nodes than the budget allows.
    pub fn procedures(s: &Source<'_>, procedures: &[Expr]) -> Option<Diagram<u64>> {
        // Terminal values: 1 with a bit above it per procedure that
        // applies, so that no set is 0 ("nothing yet").
        let sets = 1u64.checked_shl(procedures.len() as u32)?;
        if procedures.is_empty() || 2 * sets > u64::from(Mask::BITS) {
            return None;
        }
        let sizes: Vec<u32> = s.cells.iter().map(|c| c.len() as u32).collect();
        let mut m = Builder::new(sizes);
        let mut items = vec![terminal(1)];
        for (p, e) in procedures.iter().enumerate() {
            let n = condition(&mut m, e, s.cells);
            items.push(m.tag(n, 2 << p));
        }
        let applying = m.fold(Op::BitOr, items, terminal(1));
        let impossible = 2 * sets as u32;
        let allowed = allowed(&mut m, s);
        let ruled_out = m.not(allowed);
        let ruled_out = m.tag(ruled_out, impossible);
        let root = m.apply(Op::First, ruled_out, applying);
        let outcomes = (1..impossible).map(|v| u64::from(v >> 1)).collect();
        Diagram::kept(m, root, outcomes, impossible)
    }
}

impl<T: Copy + Ord> Diagram<T> {
    /// The nodes of `m` below `root`, numbered afresh; `None` when `m` ran
    /// out of its budget.
    fn kept(m: Builder, root: NodeId, outcomes: Vec<T>, impossible: u32) -> Option<Diagram<T>> {
        if m.exhausted {
            return None;
        }
        let built = &m.store;
        let mut index: FxHashMap<NodeId, NodeId> = FxHashMap::default();
        let mut order: Vec<NodeId> = Vec::new();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            if is_terminal(n) || index.contains_key(&n) {
                continue;
            }
            index.insert(n, order.len() as NodeId);
            order.push(n);
            stack.extend(built.runs(n).iter().map(|r| r.1));
        }
        let renumber = |n: NodeId| if is_terminal(n) { n } else { index[&n] };
        let mut store = Store {
            sizes: built.sizes.clone(),
            nodes: Vec::with_capacity(order.len()),
            runs: Vec::new(),
        };
        for n in &order {
            let runs = built.runs(*n);
            store.nodes.push((
                built.var(*n) as u32,
                store.runs.len() as u32,
                runs.len() as u32,
            ));
            store
                .runs
                .extend(runs.iter().map(|(end, k)| (*end, renumber(*k))));
        }
        Some(Diagram {
            store,
            root: renumber(root),
            outcomes,
            impossible,
        })
    }

    /// Where a walk from the root stops that follows the answer classes
    /// `cell` gives: the first node whose question has none, with that
    /// question, or an end (`None` for the question). Below that node the
    /// diagram is a function of the unanswered questions alone, so two sets
    /// of answers that stop at the same node (and know nothing past its
    /// question but what they force) leave the same incidents open.
    /// `None` when a class is not one of the question's.
    pub fn stop(&self, cell: impl Fn(usize) -> Option<u32>) -> Option<(NodeId, Option<usize>)> {
        let s = &self.store;
        let mut n = self.root;
        while !is_terminal(n) {
            let q = s.var(n);
            let Some(c) = cell(q) else {
                return Some((n, Some(q)));
            };
            let runs = s.runs(n);
            n = runs.get(runs.partition_point(|r| r.0 <= c))?.1;
        }
        Some((n, None))
    }

    fn terminal_mask(&self, t: NodeId) -> Mask {
        match value(t) {
            v if v == self.impossible || v == 0 => 0,
            v => 1 << (v - 1),
        }
    }

    /// The diagram below partial answers: the cell of each known answer,
    /// or `None` when one is not an answer class of its question (an
    /// answer the pack's conditions were not written for).
    pub fn restrict<'d>(
        &'d self,
        known: &[Known],
        cells: &[Vec<Option<Val>>],
    ) -> Option<Restricted<'d, T>> {
        let fixed = known
            .iter()
            .zip(cells)
            .map(|(k, cells)| match k {
                Known::Unknown => Some(None),
                Known::Is(v) => cell_of(cells, *v).map(Some),
            })
            .collect::<Option<Vec<Option<u32>>>>()?;
        Some(Restricted {
            reach: vec![UNSEEN; self.store.nodes.len()],
            d: self,
            fixed,
        })
    }
}

/// The answer class of `v` among a question's cells (see `cells` in
/// `engine.rs`: numbers are the starts of intervals, in increasing order).
pub(super) fn cell_of(cells: &[Option<Val>], v: Option<Val>) -> Option<u32> {
    let found = match v {
        Some(Val::Num(n)) => cells
            .iter()
            .rposition(|c| matches!(c, Some(Val::Num(start)) if *start <= n)),
        v => cells.iter().position(|c| *c == v),
    };
    found.map(|c| c as u32)
}

/// The diagram below some known answers.
pub struct Restricted<'d, T = Verdict> {
    d: &'d Diagram<T>,
    /// Per question: the cell of its known answer, or `None` when unknown.
    fixed: Vec<Option<u32>>,
    /// Per node: the outcomes some incident below it has (`UNSEEN` until
    /// computed).
    reach: Vec<Mask>,
}

impl<T: Copy + Ord> Restricted<'_, T> {
    /// The runs of `n` that incidents agreeing with `fixed` reach.
    fn below<'a>(d: &'a Diagram<T>, fixed: &[Option<u32>], n: NodeId) -> &'a [Run] {
        let s = &d.store;
        let runs = s.runs(n);
        match fixed[s.var(n)] {
            Some(c) => {
                let i = runs.partition_point(|r| r.0 <= c);
                &runs[i..=i]
            }
            None => runs,
        }
    }

    /// The outcomes of the incidents below `n` that agree with `fixed`.
    fn outcomes_below(
        d: &Diagram<T>,
        fixed: &[Option<u32>],
        reach: &mut [Mask],
        n: NodeId,
    ) -> Mask {
        if is_terminal(n) {
            return d.terminal_mask(n);
        }
        let mut stack = vec![(n, false)];
        while let Some((x, expanded)) = stack.pop() {
            if reach[x as usize] != UNSEEN {
                continue;
            }
            let runs = Self::below(d, fixed, x);
            if expanded {
                let mut mask = 0;
                for (_, k) in runs {
                    mask |= if is_terminal(*k) {
                        d.terminal_mask(*k)
                    } else {
                        reach[*k as usize]
                    };
                }
                reach[x as usize] = mask;
            } else {
                stack.push((x, true));
                for (_, k) in runs {
                    if !is_terminal(*k) && reach[*k as usize] == UNSEEN {
                        stack.push((*k, false));
                    }
                }
            }
        }
        reach[n as usize]
    }

    fn reach(&mut self, n: NodeId) -> Mask {
        Self::outcomes_below(self.d, &self.fixed, &mut self.reach, n)
    }

    /// The outcomes some completion of the known answers has, at most
    /// `limit` of them.
    pub fn possible(&mut self, limit: usize) -> BTreeSet<T> {
        let mask = self.reach(self.d.root);
        (0..self.d.outcomes.len())
            .filter(|c| mask & (1 << c) != 0)
            .take(limit)
            .map(|c| self.d.outcomes[c])
            .collect()
    }

    /// Whether some completion of the known answers has question `q`
    /// (unknown) answered with `cell`.
    pub fn possible_with(&self, q: usize, cell: u32) -> bool {
        let mut fixed = self.fixed.clone();
        fixed[q] = Some(cell);
        let mut reach = vec![UNSEEN; self.d.store.nodes.len()];
        Self::outcomes_below(self.d, &fixed, &mut reach, self.d.root) != 0
    }

    /// Whether the answer to `q` (unknown) can still change the outcome:
    /// two possible incidents that agree with the known answers and with
    /// each other everywhere but in `q` (answered differently) and in the
    /// questions `dependent` on it (answered freely on each side), decided
    /// differently.
    ///
    /// A depth-first walk over pairs of nodes, one per side, with its own
    /// stack. A pair is given up as soon as its two sides cannot reach two
    /// different outcomes at all, and remembered once nothing below it
    /// differs.
    pub fn matters(&mut self, q: usize, dependent: &[bool]) -> bool {
        if self.fixed[q].is_some() || self.d.store.sizes[q] < 2 {
            return false;
        }
        let root = self.d.root;
        let mut failed: FxHashSet<Pair> = FxHashSet::default();
        // Each frame: a pair, the pairs below it, the next one to try.
        let mut stack: Vec<(Pair, Vec<Pair>, usize)> = Vec::new();
        let mut pending = Some((root, root));
        loop {
            if let Some(pair) = pending.take() {
                match self.judge_pair(pair, &failed) {
                    Some(true) => return true,
                    Some(false) => {
                        failed.insert(pair);
                    }
                    None => {
                        let next = self.pairs_below(pair, q, dependent);
                        stack.push((pair, next, 0));
                    }
                }
            }
            let Some((pair, next, i)) = stack.last_mut() else {
                return false;
            };
            if *i < next.len() {
                pending = Some(next[*i]);
                *i += 1;
            } else {
                failed.insert(*pair);
                stack.pop();
            }
        }
    }

    /// `Some(true)` when the pair is two terminals of different outcomes,
    /// `Some(false)` when nothing below it can be, `None` when the walk
    /// must look below.
    fn judge_pair(&mut self, (a, b): Pair, failed: &FxHashSet<Pair>) -> Option<bool> {
        if failed.contains(&(a, b)) {
            return Some(false);
        }
        let (x, y) = (self.reach(a), self.reach(b));
        if x == 0 || y == 0 || (x == y && x.is_power_of_two()) {
            return Some(false);
        }
        if is_terminal(a) && is_terminal(b) {
            // Both possible (non-empty) and, by the test above, different.
            return Some(true);
        }
        None
    }

    /// The pairs of nodes one step below `(a, b)`, each ordered so that a
    /// pair and its mirror image are one pair.
    fn pairs_below(&self, (a, b): Pair, q: usize, dependent: &[bool]) -> Vec<Pair> {
        let s = &self.d.store;
        let var = s.var(a).min(s.var(b));
        let ordered = |x: NodeId, y: NodeId| if x <= y { (x, y) } else { (y, x) };
        let mut out: Vec<Pair> = Vec::new();
        let (mut one_a, mut one_b) = ([(0, 0)], [(0, 0)]);
        let ra = s.runs_on(a, var, &mut one_a);
        let rb = s.runs_on(b, var, &mut one_b);
        if let Some(c) = self.fixed[var] {
            out.push(ordered(s.cofactor(a, var, c), s.cofactor(b, var, c)));
        } else if var == q || dependent[var] {
            // Each side answers on its own; for `q`, differently. Per
            // side: each child, and its one cell when it has only one.
            let groups = |runs: &[Run]| -> Vec<(NodeId, Option<u32>)> {
                let mut g: Vec<(NodeId, Option<u32>)> = Vec::new();
                let mut start = 0;
                for (end, k) in runs {
                    let only = (*end == start + 1).then_some(start);
                    match g.iter_mut().find(|(x, _)| x == k) {
                        Some((_, one)) => *one = None,
                        None => g.push((*k, only)),
                    }
                    start = *end;
                }
                g
            };
            let (ga, gb) = (groups(ra), groups(rb));
            for (x, only_x) in &ga {
                for (y, only_y) in &gb {
                    if var == q && only_x.is_some() && only_x == only_y {
                        continue;
                    }
                    out.push(ordered(*x, *y));
                }
            }
            out.sort_unstable();
            out.dedup();
        } else {
            // Both sides answer alike.
            merge(ra, rb, |_, x, y| out.push(ordered(x, y)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! The diagram judges partial answers exactly as the search does (the
    //! search is what the engine falls back on when the diagram is too
    //! large), on the protocols in `protocols/` and on Dorset with rules
    //! that compare its occasion counts with thresholds of their own.

    use std::fmt::Write;
    use std::path::Path;

    use super::super::engine::Engine;
    use super::super::expr::Val;
    use crate::model::{ReadError, Workspace, lower};

    /// The engine of `protocols/<name>.carepath` with `extra` appended.
    fn engine(name: &str, extra: &str) -> Engine {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
        let path = dir.join(format!("{name}.carepath"));
        let text = std::fs::read_to_string(&path).expect("a protocol") + extra;
        let mut read = |p: &Path| std::fs::read_to_string(p).map_err(|_| ReadError::NotFound);
        let mut ws = Workspace::new();
        let root = ws.add_root(&path, &dir, text.clone(), &mut read);
        let lowered = lower(&ws, root);
        let model = lowered.model.expect("the protocol lowers");
        let files = [crate::emit::SourceText {
            path: format!("{name}.carepath"),
            text: &text,
        }];
        let pack = crate::emit::rule_pack(&model, &files, &lowered.diagnostics);
        Engine::new(pack).expect("the pack loads")
    }

    /// xorshift64*, so that every run tries the same answers.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn agree(engine: &Engine, what: &str, seed: u64, sets: usize) {
        assert!(engine.has_diagram(), "{what}: the diagram fits");
        let n = engine.pack.questions.len();
        let mut state = seed;
        let mut open = 0;
        let mut procedures_open = 0;
        let mut exact_sets = 0;
        for set in 0..sets {
            // A possible incident ("asked when" tests earlier questions),
            // of which some answers are given (none, the first time).
            let mut values: Vec<Option<Val>> = vec![None; n];
            for q in 0..n {
                let asked = engine.asked_when(q).is_none_or(|c| c.eval(&values));
                let choices: Vec<Val> = engine.cells()[q].iter().flatten().copied().collect();
                values[q] =
                    asked.then(|| choices[(next(&mut state) % choices.len() as u64) as usize]);
            }
            // A third of the answers given: protocols that ask their
            // decisive tests first are settled by most halves.
            let answered: Vec<bool> = (0..n)
                .map(|_| set > 0 && next(&mut state).is_multiple_of(3))
                .collect();
            let known = engine.known(&values, &answered);
            let context = format!("{what}: {values:?} answered {answered:?}");
            let mut diagram = engine.partial(known.clone());
            let mut search = engine.partial_by_search(known);
            let possible = diagram.possible(usize::MAX);
            assert_eq!(possible, search.possible(usize::MAX), "{context}");
            open += usize::from(possible.len() > 1);
            for q in 0..n {
                assert_eq!(diagram.matters(q), search.matters(q), "{context}: q{q}");
                assert_eq!(diagram.applies(q), search.applies(q), "{context}: q{q}");
            }
            // Which procedures apply, and what they wait on: on their own
            // diagram as by enumerating completions.
            let (on_diagram, enumerated) =
                engine.procedure_status_both_ways(&engine.known(&values, &answered));
            if !engine.pack.procedures.is_empty() {
                let (applying, open) = on_diagram.expect("the procedures diagram fits");
                let (applying_e, open_e, exact) = enumerated;
                if exact {
                    exact_sets += 1;
                    assert_eq!(applying, applying_e, "{context}: procedures that apply");
                    assert_eq!(open, open_e, "{context}: procedures wait on");
                } else {
                    // Past its limit the enumeration names every question
                    // an open procedure tests, and only the procedures
                    // that three values settle as applying.
                    assert!(
                        applying_e.iter().all(|p| applying.contains(p)),
                        "{context}: procedures that apply {applying:?}, not all of {applying_e:?}"
                    );
                    assert!(
                        open.iter().all(|q| open_e.contains(q)),
                        "{context}: procedures wait on {open:?}, not within {open_e:?}"
                    );
                }
                procedures_open += usize::from(!open.is_empty());
            }
        }
        if !engine.pack.procedures.is_empty() {
            assert!(
                procedures_open > 0 && exact_sets > 0,
                "{what}: {procedures_open} answer sets left a procedure open, {exact_sets} were enumerated exactly"
            );
        }
        // The sample must judge many open incidents, not only settled ones.
        assert!(open * 5 > sets, "{what}: only {open} of {sets} left open");
    }

    #[test]
    fn the_diagram_judges_partial_answers_as_the_search_does() {
        for (i, name) in [
            "derbyshire",
            "dorset",
            "stockport",
            "west-sussex",
            "wiltshire",
        ]
        .iter()
        .enumerate()
        {
            agree(&engine(name, ""), name, 17 + i as u64, 40);
        }
        let mut extra = String::new();
        for i in 0..12 {
            let count = ["bc-occasion", "a-occasion"][i % 2];
            let other = ["prolonged", "weapon", "theft == minor"][i % 3];
            let level = ["level-2", "level-3"][i % 2];
            let _ = writeln!(
                extra,
                "rule extra-{i} \"Threshold {i}\" {{\n  when {count} >= {} and {other}\n  then {level}\n  cite \"6.18\"\n}}",
                3 + i
            );
        }
        agree(&engine("dorset", &extra), "dorset with thresholds", 99, 40);
    }
}
