//! Multi-valued decision diagrams: reduced, ordered and shared.
//!
//! A diagram is a function from an incident (one *cell* per question, in
//! question order) to a small number. Nodes test one question and have one
//! child per cell; terminals hold the value. Diagrams are reduced (a node
//! whose children are all the same is skipped) and shared (equal nodes are
//! one node), so two diagrams are the same function exactly when they are the
//! same node, and a question a diagram does not test on some path does not
//! matter there.
//!
//! Boolean diagrams use the terminals 0 (false) and 1 (true); decision
//! diagrams use the values of `decide.rs`.

use rustc_hash::{FxHashMap, FxHashSet};

pub type NodeId = u32;

const TERMINAL_BIT: u32 = 1 << 31;

pub const FALSE: NodeId = terminal(0);
pub const TRUE: NodeId = terminal(1);

pub const fn terminal(value: u32) -> NodeId {
    TERMINAL_BIT | value
}

pub const fn is_terminal(n: NodeId) -> bool {
    n & TERMINAL_BIT != 0
}

pub const fn value(n: NodeId) -> u32 {
    n & !TERMINAL_BIT
}

/// How two diagrams combine, terminal by terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    And,
    Or,
    /// The left value where it is not 0, else the right one: "the first
    /// that says something".
    Otherwise,
    /// No-overlap combination of two levels' results: 0 with `x` is `x`,
    /// equal levels stay, different ones are `conflict`. Values are level
    /// codes (see `decide.rs`).
    Agree {
        conflict: u32,
    },
    /// Counting up to two: 0, 1, or 2 for "two or more".
    Count2,
}

impl Op {
    fn eval(self, a: u32, b: u32) -> u32 {
        match self {
            Op::And => u32::from(a != 0 && b != 0),
            Op::Or => u32::from(a != 0 || b != 0),
            Op::Otherwise => {
                if a != 0 {
                    a
                } else {
                    b
                }
            }
            Op::Agree { conflict } => match (a, b) {
                (0, x) | (x, 0) => x,
                (x, y) if x == y => x,
                _ => conflict,
            },
            Op::Count2 => (a + b).min(2),
        }
    }

    /// A result known without looking below `a` and `b`.
    fn shortcut(self, a: NodeId, b: NodeId) -> Option<NodeId> {
        match self {
            Op::And => {
                if a == FALSE || b == FALSE {
                    Some(FALSE)
                } else if a == TRUE || a == b {
                    Some(b)
                } else if b == TRUE {
                    Some(a)
                } else {
                    None
                }
            }
            Op::Or => {
                if a == TRUE || b == TRUE {
                    Some(TRUE)
                } else if a == FALSE || a == b {
                    Some(b)
                } else if b == FALSE {
                    Some(a)
                } else {
                    None
                }
            }
            Op::Otherwise => {
                if is_terminal(a) && value(a) != 0 {
                    Some(a)
                } else if a == terminal(0) {
                    Some(b)
                } else if b == terminal(0) {
                    Some(a)
                } else {
                    None
                }
            }
            Op::Agree { conflict } => {
                if a == terminal(0) {
                    Some(b)
                } else if b == terminal(0) {
                    Some(a)
                } else if a == terminal(conflict) || b == terminal(conflict) {
                    Some(terminal(conflict))
                } else {
                    None
                }
            }
            Op::Count2 => {
                if a == terminal(0) {
                    Some(b)
                } else if b == terminal(0) {
                    Some(a)
                } else if a == terminal(2) || b == terminal(2) {
                    Some(terminal(2))
                } else {
                    None
                }
            }
        }
    }
}

/// The diagrams of one protocol: variables are questions, in order.
pub struct Mdd {
    /// Cells of each variable.
    domains: Vec<u32>,
    /// Each variable's place in the order diagrams test them: by default
    /// the variable's own number (questions in declared order).
    place: Vec<u32>,
    /// Per node: its variable and where its children start in `kids`.
    nodes: Vec<(u32, u32)>,
    kids: Vec<NodeId>,
    unique: FxHashMap<Box<[u32]>, NodeId>,
    memo: FxHashMap<(Op, NodeId, NodeId), NodeId>,
    relabel_memo: FxHashMap<(NodeId, u64), NodeId>,
    /// Most nodes the store may hold; past it, building stops (see
    /// [`Mdd::exhausted`]).
    budget: usize,
    exhausted: bool,
}

/// Nodes a store may hold by default: a few hundred megabytes at most.
pub const DEFAULT_BUDGET: usize = 500_000;

/// One step of a path: a variable and the cell taken.
pub type Step = (usize, u32);

/// The most diagrams `find` searches together.
pub const MAX_ROOTS: usize = 5;

impl Mdd {
    pub fn new(domains: Vec<u32>) -> Mdd {
        Mdd {
            place: (0..domains.len() as u32).collect(),
            domains,
            nodes: Vec::new(),
            kids: Vec::new(),
            unique: FxHashMap::default(),
            memo: FxHashMap::default(),
            relabel_memo: FxHashMap::default(),
            budget: DEFAULT_BUDGET,
            exhausted: false,
        }
    }

    /// A store whose diagrams test the variables in `order` (a permutation
    /// of the variables), rather than by number.
    pub fn with_order(mut self, order: &[usize]) -> Mdd {
        debug_assert_eq!(order.len(), self.domains.len());
        for (place, var) in order.iter().enumerate() {
            self.place[*var] = place as u32;
        }
        self
    }

    /// Of these nodes, the variable tested first (`usize::MAX` when all are
    /// terminals).
    fn first_var(&self, nodes: &[NodeId]) -> usize {
        nodes
            .iter()
            .filter(|n| !is_terminal(**n))
            .map(|n| self.var(*n))
            .min_by_key(|v| self.place[*v])
            .unwrap_or(usize::MAX)
    }

    /// A store that may hold at most `budget` nodes.
    pub fn with_budget(mut self, budget: usize) -> Mdd {
        self.budget = budget;
        self
    }

    /// Whether a diagram needed more nodes than the budget allows. Once it
    /// is, every diagram built afterwards is meaningless (building returns
    /// at once), and the caller must discard what it computed.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn domain(&self, var: usize) -> u32 {
        self.domains[var]
    }

    /// The variable a node tests; terminals test none (sorted after all).
    pub fn var(&self, n: NodeId) -> usize {
        if is_terminal(n) {
            usize::MAX
        } else {
            self.nodes[n as usize].0 as usize
        }
    }

    pub fn children(&self, n: NodeId) -> &[NodeId] {
        let (var, start) = self.nodes[n as usize];
        let len = self.domains[var as usize] as usize;
        &self.kids[start as usize..start as usize + len]
    }

    /// The diagram `n` with variable `var` fixed to `cell`, where `var` is
    /// at or above `n`'s variable.
    pub fn cofactor(&self, n: NodeId, var: usize, cell: u32) -> NodeId {
        if self.var(n) == var {
            self.children(n)[cell as usize]
        } else {
            n
        }
    }

    /// The node testing `var` with these children, reduced and shared.
    pub fn mk(&mut self, var: usize, kids: &[NodeId]) -> NodeId {
        debug_assert_eq!(kids.len(), self.domains[var] as usize);
        if kids.iter().all(|k| *k == kids[0]) {
            return kids[0];
        }
        if self.nodes.len() >= self.budget {
            self.exhausted = true;
            return FALSE;
        }
        let mut key = Vec::with_capacity(kids.len() + 1);
        key.push(var as u32);
        key.extend_from_slice(kids);
        let key = key.into_boxed_slice();
        if let Some(&n) = self.unique.get(&key) {
            return n;
        }
        let id = self.nodes.len() as NodeId;
        assert!(id < TERMINAL_BIT, "decision diagram too large");
        self.nodes.push((var as u32, self.kids.len() as u32));
        self.kids.extend_from_slice(kids);
        self.unique.insert(key, id);
        id
    }

    /// True where `var`'s cell is one of those `holds` accepts.
    pub fn literal(&mut self, var: usize, holds: impl Fn(u32) -> bool) -> NodeId {
        let kids: Vec<NodeId> = (0..self.domains[var])
            .map(|c| if holds(c) { TRUE } else { FALSE })
            .collect();
        self.mk(var, &kids)
    }

    /// Combine two diagrams terminal by terminal.
    ///
    /// The walk keeps its own stack rather than recursing: a diagram may
    /// be as deep as the protocol has questions, thousands of them, and the
    /// caller's stack may be small.
    pub fn apply(&mut self, op: Op, a: NodeId, b: NodeId) -> NodeId {
        enum Frame {
            Visit(NodeId, NodeId),
            Build(usize, NodeId, NodeId),
        }
        let mut work = vec![Frame::Visit(a, b)];
        let mut done: Vec<NodeId> = Vec::new();
        while let Some(frame) = work.pop() {
            match frame {
                Frame::Visit(a, b) => {
                    if self.exhausted {
                        done.push(FALSE);
                    } else if let Some(r) = op.shortcut(a, b) {
                        done.push(r);
                    } else if is_terminal(a) && is_terminal(b) {
                        done.push(terminal(op.eval(value(a), value(b))));
                    } else if let Some(&r) = self.memo.get(&(op, a, b)) {
                        done.push(r);
                    } else {
                        let var = self.first_var(&[a, b]);
                        work.push(Frame::Build(var, a, b));
                        for c in (0..self.domains[var]).rev() {
                            let (ca, cb) = (self.cofactor(a, var, c), self.cofactor(b, var, c));
                            work.push(Frame::Visit(ca, cb));
                        }
                    }
                }
                Frame::Build(var, a, b) => {
                    let start = done.len() - self.domains[var] as usize;
                    let r = self.mk(var, &done[start..]);
                    done.truncate(start);
                    self.memo.insert((op, a, b), r);
                    done.push(r);
                }
            }
        }
        debug_assert_eq!(done.len(), 1);
        done[0]
    }

    /// Combine many diagrams with `op`, pairing them up so that the
    /// intermediate diagrams stay balanced.
    pub fn fold(&mut self, op: Op, mut items: Vec<NodeId>, empty: NodeId) -> NodeId {
        if items.is_empty() {
            return empty;
        }
        while items.len() > 1 {
            let mut next = Vec::with_capacity(items.len().div_ceil(2));
            for pair in items.chunks(2) {
                next.push(match pair {
                    [a, b] => self.apply(op, *a, *b),
                    [a] => *a,
                    _ => unreachable!("chunks of two"),
                });
            }
            items = next;
        }
        items[0]
    }

    /// Combine many diagrams with `op` one after another, into a running
    /// result. When the running result saturates (everything, or "two or
    /// more"), the remaining steps are shortcuts; so order the broadest
    /// diagrams first.
    pub fn accumulate(&mut self, op: Op, items: Vec<NodeId>, empty: NodeId) -> NodeId {
        items
            .into_iter()
            .fold(empty, |acc, x| self.apply(op, acc, x))
    }

    /// Replace terminal values: `map(v)` for each terminal `v`. Like
    /// [`Mdd::apply`], the walk keeps its own stack.
    pub fn relabel(&mut self, n: NodeId, tag: u64, map: &impl Fn(u32) -> u32) -> NodeId {
        enum Frame {
            Visit(NodeId),
            Build(NodeId),
        }
        let mut work = vec![Frame::Visit(n)];
        let mut done: Vec<NodeId> = Vec::new();
        while let Some(frame) = work.pop() {
            match frame {
                Frame::Visit(n) => {
                    if self.exhausted {
                        done.push(FALSE);
                    } else if is_terminal(n) {
                        done.push(terminal(map(value(n))));
                    } else if let Some(&r) = self.relabel_memo.get(&(n, tag)) {
                        done.push(r);
                    } else {
                        work.push(Frame::Build(n));
                        for &k in self.children(n).iter().rev() {
                            work.push(Frame::Visit(k));
                        }
                    }
                }
                Frame::Build(n) => {
                    let var = self.var(n);
                    let start = done.len() - self.domains[var] as usize;
                    let r = self.mk(var, &done[start..]);
                    done.truncate(start);
                    self.relabel_memo.insert((n, tag), r);
                    done.push(r);
                }
            }
        }
        debug_assert_eq!(done.len(), 1);
        done[0]
    }

    pub fn not(&mut self, n: NodeId) -> NodeId {
        self.relabel(n, u64::MAX, &|v| u32::from(v == 0))
    }

    /// A path through the product of `roots` (at most five diagrams) to
    /// terminals that `accept` takes, as the cells chosen for the variables
    /// tested on the way; variables not on the path do not matter.
    ///
    /// A depth-first search with its own stack, which remembers the
    /// combinations of nodes below which nothing is accepted.
    pub fn find(&self, roots: &[NodeId], accept: &impl Fn(&[u32]) -> bool) -> Option<Vec<Step>> {
        assert!(
            roots.len() <= MAX_ROOTS,
            "find takes at most {MAX_ROOTS} diagrams"
        );
        let n = roots.len();
        let mut start = [TRUE; MAX_ROOTS];
        start[..n].copy_from_slice(roots);
        let mut failed: FxHashSet<[NodeId; MAX_ROOTS]> = FxHashSet::default();
        // Each frame: the nodes, the variable they branch on, the next cell
        // to try. `path` holds the step into each frame but the first, and
        // into `pending` when there is one.
        let mut stack: Vec<([NodeId; MAX_ROOTS], usize, u32)> = Vec::new();
        let mut path: Vec<Step> = Vec::new();
        let mut pending = Some(start);
        loop {
            if let Some(nodes) = pending.take() {
                let var = self.first_var(&nodes[..n]);
                if var == usize::MAX {
                    let mut values = [0u32; MAX_ROOTS];
                    for (v, r) in values.iter_mut().zip(&nodes[..n]) {
                        *v = value(*r);
                    }
                    if accept(&values[..n]) {
                        return Some(path);
                    }
                    path.pop();
                } else if failed.contains(&nodes) {
                    path.pop();
                } else {
                    stack.push((nodes, var, 0));
                }
            }
            let (nodes, var, next) = stack.last_mut()?;
            if *next < self.domains[*var] {
                let c = *next;
                *next += 1;
                let mut child = *nodes;
                for r in child[..n].iter_mut() {
                    *r = self.cofactor(*r, *var, c);
                }
                path.push((*var, c));
                pending = Some(child);
            } else {
                failed.insert(*nodes);
                stack.pop();
                path.pop();
            }
        }
    }

    /// Every value `pick` returns for some path through the product of
    /// `roots`; `pick` sees the terminal values at the end of a path.
    pub fn collect(
        &self,
        roots: &[NodeId],
        pick: &impl Fn(&[u32]) -> Option<u32>,
    ) -> FxHashSet<u32> {
        let mut seen: FxHashSet<Vec<NodeId>> = FxHashSet::default();
        let mut out = FxHashSet::default();
        let mut stack = vec![roots.to_vec()];
        while let Some(nodes) = stack.pop() {
            let var = self.first_var(&nodes);
            if var == usize::MAX {
                let values: Vec<u32> = nodes.iter().map(|r| value(*r)).collect();
                if let Some(v) = pick(&values) {
                    out.insert(v);
                }
                continue;
            }
            if !seen.insert(nodes.clone()) {
                continue;
            }
            for c in 0..self.domains[var] {
                stack.push(nodes.iter().map(|r| self.cofactor(*r, var, c)).collect());
            }
        }
        out
    }

    /// The value of a diagram for one incident (a cell per variable).
    pub fn eval(&self, mut n: NodeId, cells: &[u32]) -> u32 {
        while !is_terminal(n) {
            let var = self.var(n);
            n = self.children(n)[cells[var] as usize];
        }
        value(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagrams_are_reduced_and_shared() {
        let mut m = Mdd::new(vec![3, 2]);
        let a = m.literal(0, |c| c == 1);
        let b = m.literal(0, |c| c == 1);
        assert_eq!(a, b);
        let all = m.literal(1, |_| true);
        assert_eq!(all, TRUE);
        let x = m.literal(1, |c| c == 0);
        let and = m.apply(Op::And, a, x);
        let or = m.apply(Op::Or, a, x);
        for (c0, c1) in [(0, 0), (1, 0), (1, 1), (2, 1)] {
            assert_eq!(m.eval(and, &[c0, c1]), u32::from(c0 == 1 && c1 == 0));
            assert_eq!(m.eval(or, &[c0, c1]), u32::from(c0 == 1 || c1 == 0));
        }
        let not_a = m.not(a);
        let back = m.not(not_a);
        assert_eq!(back, a);
    }

    #[test]
    fn building_stops_at_the_budget() {
        let mut m = Mdd::new(vec![2; 30]).with_budget(20);
        let mut acc = FALSE;
        for v in 0..30 {
            let lit = m.literal(v, |c| c == 1);
            let pair = if v > 0 {
                m.literal(v - 1, |c| c == 0)
            } else {
                TRUE
            };
            let term = m.apply(Op::And, lit, pair);
            acc = m.apply(Op::Or, acc, term);
        }
        assert!(m.exhausted());
        assert!(m.node_count() <= 20);
    }

    #[test]
    fn find_returns_a_path_the_predicate_accepts() {
        let mut m = Mdd::new(vec![2, 2, 2]);
        let a = m.literal(0, |c| c == 1);
        let c = m.literal(2, |c| c == 0);
        let f = m.apply(Op::And, a, c);
        let path = m.find(&[f], &|v| v[0] == 1).expect("satisfiable");
        assert_eq!(path, vec![(0, 1), (2, 0)]);
        let nf = m.not(f);
        assert!(m.find(&[f, nf], &|v| v[0] == 1 && v[1] == 1).is_none());
    }
}
