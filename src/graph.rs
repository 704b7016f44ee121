//! Graph helpers shared by the stages that check graphs (imports, routes).

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
}
