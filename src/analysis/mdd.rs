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
    /// Count matches of one level: 0 with `x` is `x`; two non-zero values
    /// are `multi`.
    Unique {
        multi: u32,
    },
    /// No-overlap combination of two levels' results: 0 with `x` is `x`,
    /// equal levels stay, different ones are `conflict`. Values are level
    /// codes (see `decide.rs`).
    Agree {
        conflict: u32,
    },
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
            Op::Unique { multi } => match (a, b) {
                (0, x) | (x, 0) => x,
                _ => multi,
            },
            Op::Agree { conflict } => match (a, b) {
                (0, x) | (x, 0) => x,
                (x, y) if x == y => x,
                _ => conflict,
            },
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
            Op::Unique { multi } => {
                if a == terminal(0) {
                    Some(b)
                } else if b == terminal(0) {
                    Some(a)
                } else if a == terminal(multi) || b == terminal(multi) {
                    Some(terminal(multi))
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
        }
    }
}

/// The diagrams of one protocol: variables are questions, in order.
pub struct Mdd {
    /// Cells of each variable.
    domains: Vec<u32>,
    /// Per node: its variable and where its children start in `kids`.
    nodes: Vec<(u32, u32)>,
    kids: Vec<NodeId>,
    unique: FxHashMap<Box<[u32]>, NodeId>,
    memo: FxHashMap<(Op, NodeId, NodeId), NodeId>,
    relabel_memo: FxHashMap<(NodeId, u64), NodeId>,
}

/// One step of a path: a variable and the cell taken.
pub type Step = (usize, u32);

impl Mdd {
    pub fn new(domains: Vec<u32>) -> Mdd {
        Mdd {
            domains,
            nodes: Vec::new(),
            kids: Vec::new(),
            unique: FxHashMap::default(),
            memo: FxHashMap::default(),
            relabel_memo: FxHashMap::default(),
        }
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

    fn children(&self, n: NodeId) -> &[NodeId] {
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

    pub fn apply(&mut self, op: Op, a: NodeId, b: NodeId) -> NodeId {
        if let Some(r) = op.shortcut(a, b) {
            return r;
        }
        if is_terminal(a) && is_terminal(b) {
            return terminal(op.eval(value(a), value(b)));
        }
        if let Some(&r) = self.memo.get(&(op, a, b)) {
            return r;
        }
        let var = self.var(a).min(self.var(b));
        let n = self.domains[var];
        let mut kids = Vec::with_capacity(n as usize);
        for c in 0..n {
            let (ca, cb) = (self.cofactor(a, var, c), self.cofactor(b, var, c));
            kids.push(self.apply(op, ca, cb));
        }
        let r = self.mk(var, &kids);
        self.memo.insert((op, a, b), r);
        r
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

    /// Replace terminal values: `map(v)` for each terminal `v`.
    pub fn relabel(&mut self, n: NodeId, tag: u64, map: &impl Fn(u32) -> u32) -> NodeId {
        if is_terminal(n) {
            return terminal(map(value(n)));
        }
        if let Some(&r) = self.relabel_memo.get(&(n, tag)) {
            return r;
        }
        let var = self.var(n);
        let kids: Vec<NodeId> = self.children(n).to_vec();
        let mapped: Vec<NodeId> = kids.iter().map(|k| self.relabel(*k, tag, map)).collect();
        let r = self.mk(var, &mapped);
        self.relabel_memo.insert((n, tag), r);
        r
    }

    pub fn not(&mut self, n: NodeId) -> NodeId {
        self.relabel(n, u64::MAX, &|v| u32::from(v == 0))
    }

    /// A path through the product of `roots` to terminals that `accept`
    /// takes, as the cells chosen for the variables tested on the way;
    /// variables not on the path do not matter.
    pub fn find(&self, roots: &[NodeId], accept: &impl Fn(&[u32]) -> bool) -> Option<Vec<Step>> {
        let mut failed: FxHashSet<Vec<NodeId>> = FxHashSet::default();
        let mut path = Vec::new();
        self.find_from(roots, accept, &mut failed, &mut path)
            .then_some(path)
    }

    fn find_from(
        &self,
        roots: &[NodeId],
        accept: &impl Fn(&[u32]) -> bool,
        failed: &mut FxHashSet<Vec<NodeId>>,
        path: &mut Vec<Step>,
    ) -> bool {
        let var = roots
            .iter()
            .map(|r| self.var(*r))
            .min()
            .unwrap_or(usize::MAX);
        if var == usize::MAX {
            let values: Vec<u32> = roots.iter().map(|r| value(*r)).collect();
            return accept(&values);
        }
        if failed.contains(roots) {
            return false;
        }
        for c in 0..self.domains[var] {
            let next: Vec<NodeId> = roots.iter().map(|r| self.cofactor(*r, var, c)).collect();
            path.push((var, c));
            if self.find_from(&next, accept, failed, path) {
                return true;
            }
            path.pop();
        }
        failed.insert(roots.to_vec());
        false
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
            let var = nodes
                .iter()
                .map(|r| self.var(*r))
                .min()
                .unwrap_or(usize::MAX);
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
