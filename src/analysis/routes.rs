//! Route graph checks: steps and outcomes nothing leads to, paths that stop
//! before an outcome, loops with no way out, and decisions whose branches do
//! not cover their answers. Each route is a petgraph graph, one node per
//! step, decision or outcome.

use std::collections::VecDeque;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diagnostic::{Code, Diagnostic, FindingData, join_and};
use crate::model::{Model, NodeKind, Route};

fn kind_word(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Step(_) => "step",
        NodeKind::Decision(_) => "decision",
        NodeKind::Outcome(_) => "outcome",
    }
}

fn data(route: &Route, node: usize, path: Vec<String>) -> FindingData {
    FindingData {
        rules: Vec::new(),
        witness: None,
        path,
        subject: vec![route.meta.id.clone(), route.nodes[node].meta.id.clone()],
        accepted: None,
        accept: None,
    }
}

pub fn route_findings(model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for route in &model.routes {
        check_route(model, route, &mut out);
    }
    out
}

fn check_route(model: &Model, route: &Route, out: &mut Vec<Diagnostic>) {
    let model_level = |e: crate::model::Entry| model.entry_id(e).to_string();
    let r = &route.meta.id;
    // Edge weights number the edges in the order they are written.
    let mut g: DiGraph<usize, usize> = DiGraph::new();
    let ids: Vec<NodeIndex> = (0..route.nodes.len()).map(|i| g.add_node(i)).collect();
    for (i, n) in route.nodes.iter().enumerate() {
        match &n.kind {
            NodeKind::Step(s) => {
                if let Some(next) = s.next {
                    g.add_edge(ids[i], ids[next.index()], 0);
                }
            }
            NodeKind::Decision(d) => {
                for (k, b) in d.branches.iter().enumerate() {
                    g.add_edge(ids[i], ids[b.target.index()], k);
                }
            }
            NodeKind::Outcome(_) => {}
        }
    }

    // Breadth first from every start, remembering how each node was reached.
    let mut from: Vec<Option<Option<usize>>> = vec![None; route.nodes.len()];
    let mut queue = VecDeque::new();
    for s in &route.starts {
        let n = s.node.index();
        if from[n].is_none() {
            from[n] = Some(None);
            queue.push_back(n);
        }
    }
    while let Some(n) = queue.pop_front() {
        for e in g.edges(ids[n]) {
            let t = g[e.target()];
            if from[t].is_none() {
                from[t] = Some(Some(n));
                queue.push_back(t);
            }
        }
    }
    // The way from a start to a node, as node ids.
    let path_to = |n: usize| -> Vec<String> {
        let mut p = vec![n];
        let mut at = n;
        while let Some(Some(prev)) = from[at] {
            p.push(prev);
            at = prev;
        }
        p.reverse();
        p.iter().map(|i| route.nodes[*i].meta.id.clone()).collect()
    };
    // The same, as a person reads it: `start level-2 → report → decide`.
    let shown = |path: &[String]| -> String {
        let first = route
            .nodes
            .iter()
            .position(|n| Some(&n.meta.id) == path.first());
        let level = route
            .starts
            .iter()
            .find(|s| Some(s.node.index()) == first)
            .map(|s| format!("start {} → ", model_level(s.entry)))
            .unwrap_or_default();
        format!("{level}{}", path.join(" → "))
    };

    for (i, n) in route.nodes.iter().enumerate() {
        let what = kind_word(&n.kind);
        if from[i].is_none() {
            out.push(
                Diagnostic::new(
                    Code::UnreachableStep,
                    n.meta.span,
                    format!(
                        "{what} `{}` of route `{r}` cannot be reached from any start",
                        n.meta.id
                    ),
                )
                .with_label("nothing leads here")
                .with_help(format!(
                    "lead to it with `then {}` or a branch, start a level at it, or remove it",
                    n.meta.id
                ))
                .with_finding(data(route, i, Vec::new())),
            );
            continue;
        }
        let stops = g.edges(ids[i]).next().is_none();
        if stops && !matches!(n.kind, NodeKind::Outcome(_)) {
            let path = path_to(i);
            out.push(
                Diagnostic::new(
                    Code::DeadEnd,
                    n.meta.span,
                    format!(
                        "route `{r}` stops at {what} `{}` before reaching an outcome: {}",
                        n.meta.id,
                        shown(&path)
                    ),
                )
                .with_label("the path ends here")
                .with_help(match n.kind {
                    NodeKind::Decision(_) => {
                        "give the decision a branch for each answer".to_string()
                    }
                    _ => format!(
                        "say what comes next with `then`, or make `{}` an outcome",
                        n.meta.id
                    ),
                })
                .with_finding(data(route, i, path)),
            );
        }
        if let NodeKind::Decision(d) = &n.kind {
            let missing: Vec<String> = d
                .answers
                .iter()
                .enumerate()
                .filter(|(k, _)| !d.branches.iter().any(|b| b.answer as usize == *k))
                .map(|(_, a)| format!("`{}`", a.id))
                .collect();
            if !missing.is_empty() && !d.branches.is_empty() {
                out.push(
                    Diagnostic::new(
                        Code::MissingBranch,
                        n.meta.span,
                        format!(
                            "decision `{}` of route `{r}` has no branch for {}",
                            n.meta.id,
                            join_and(&missing)
                        ),
                    )
                    .with_label("not every answer leads somewhere")
                    .with_help(format!(
                        "add a branch such as `{} -> <step>`",
                        missing[0].trim_matches('`')
                    ))
                    .with_finding(data(route, i, path_to(i))),
                );
            }
        }
    }

    // Loops that cannot be left: a strongly connected part with no edge out.
    for scc in tarjan_scc(&g) {
        let looped = scc.len() > 1 || g.contains_edge(scc[0], scc[0]);
        if !looped || from[g[scc[0]]].is_none() {
            continue;
        }
        let leaves = scc
            .iter()
            .any(|n| g.edges(*n).any(|e| !scc.contains(&e.target())));
        if leaves {
            continue;
        }
        let start = *scc.iter().min_by_key(|n| g[**n]).expect("non-empty");
        let Some((cycle, _)) = crate::graph::cycle_from(&g, &scc, start) else {
            continue;
        };
        let names: Vec<String> = cycle
            .iter()
            .map(|n| route.nodes[g[*n]].meta.id.clone())
            .collect();
        let first = g[start];
        out.push(
            Diagnostic::new(
                Code::RouteCycle,
                route.nodes[first].meta.span,
                format!("route `{r}` can go round forever: {}", names.join(" → ")),
            )
            .with_label("the loop starts here")
            .with_help(
                "give one of these steps a way out, such as a decision with a branch to an outcome",
            )
            .with_finding(data(route, first, names)),
        );
    }
}
