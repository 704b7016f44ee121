//! Graph helpers shared by the stages that check graphs (imports, routes,
//! factor lists in the model and in a rule pack).

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

/// A cycle inside a strongly connected component, as the nodes met going
/// round it once from `start` and back: edges are followed in the order of
/// their weights (the order they were written), preferring the way back to
/// `start`. Returns the path and the weight of the first edge taken.
pub fn cycle_from<N, E: Copy + Ord>(
    graph: &DiGraph<N, E>,
    component: &[NodeIndex],
    start: NodeIndex,
) -> Option<(Vec<NodeIndex>, E)> {
    let mut path = vec![start];
    let mut at = start;
    let mut first = None;
    loop {
        let mut edges: Vec<(E, NodeIndex)> = graph
            .edges(at)
            .filter(|e| component.contains(&e.target()))
            .map(|e| (*e.weight(), e.target()))
            .collect();
        edges.sort();
        let (weight, next) = edges
            .iter()
            .find(|(_, t)| *t == start)
            .or_else(|| edges.iter().find(|(_, t)| !path.contains(t)))
            .copied()?;
        first.get_or_insert(weight);
        path.push(next);
        if next == start {
            return first.map(|w| (path, w));
        }
        at = next;
    }
}

/// Every circle closed by a back edge in a depth-first walk of the nodes
/// `0..n`, whose edges `edges(node)` gives in order. The walk keeps its own
/// stack, so long chains cannot overflow the thread's. `found` gets each
/// circle as the nodes from where the back edge returns, round to that node
/// again (so the last edge is the one that closes it).
pub fn circles(n: usize, edges: impl Fn(usize) -> Vec<usize>, mut found: impl FnMut(&[usize])) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnPath,
        Done,
    }
    let mut state = vec![State::New; n];
    for start in 0..n {
        if state[start] != State::New {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>, usize)> = vec![(start, edges(start), 0)];
        state[start] = State::OnPath;
        while let Some((node, out, next)) = stack.last_mut() {
            let Some(&t) = out.get(*next) else {
                state[*node] = State::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match state[t] {
                State::New => {
                    state[t] = State::OnPath;
                    stack.push((t, edges(t), 0));
                }
                State::OnPath => {
                    let from = stack.iter().position(|(x, _, _)| *x == t).unwrap_or(0);
                    let mut path: Vec<usize> = stack[from..].iter().map(|(x, _, _)| *x).collect();
                    path.push(t);
                    found(&path);
                }
                State::Done => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_way_round() {
        let mut g: DiGraph<&str, usize> = DiGraph::new();
        let a = g.add_node("a");
        let b = g.add_node("b");
        let c = g.add_node("c");
        g.add_edge(a, b, 0);
        g.add_edge(b, c, 0);
        g.add_edge(c, a, 0);
        let (path, first) = cycle_from(&g, &[a, b, c], a).expect("a cycle");
        assert_eq!(path, vec![a, b, c, a]);
        assert_eq!(first, 0);
    }

    #[test]
    fn circles_are_found_once_each_with_the_edge_that_closes_them() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3 -> 3, 4 alone.
        let edges = [vec![1], vec![2], vec![0, 3], vec![3], vec![]];
        let mut found = Vec::new();
        super::circles(5, |n| edges[n].clone(), |p| found.push(p.to_vec()));
        assert_eq!(found, vec![vec![0, 1, 2, 0], vec![3, 3]]);
        let mut none = Vec::new();
        super::circles(
            3,
            |n| if n < 2 { vec![n + 1] } else { vec![] },
            |p| none.push(p.to_vec()),
        );
        assert!(none.is_empty());
    }
}
