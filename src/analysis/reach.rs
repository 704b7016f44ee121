//! Which incidents reach each node of a route, and conditions on steps,
//! actions and timings that none of them meets.
//!
//! Incidents enter a route where their level (or the rule that decides
//! them, or a procedure) starts, in the settings the route serves. From
//! there they flow along the graph: a step passes on everything (taken or
//! skipped, the route goes on to `then`); a decision settled `on` a
//! question or condition splits its incidents between the branches by the
//! answer, an answer the document fixes sends its incidents one way, and
//! whatever is left to staff may go down any branch. The sets are decision
//! diagrams over the analysis's answer space, grown to a fixed point (a
//! route may loop), so a condition that no incident reaching it meets is
//! found exactly, with the path and an incident that reaches the node.

use std::collections::VecDeque;

use crate::analysis::decide::Space;
use crate::analysis::mdd::{FALSE, NodeId, Op};
use crate::analysis::witness::Witness;
use crate::diagnostic::{Code, Diagnostic, FindingData};
use crate::model::{
    Atom, Cond, DecideOn, Entry, Node, NodeKind, QuestionKind, Route, SettingId, Test,
};

/// Route condition findings for every route of the space's model.
pub fn condition_findings(space: &mut Space<'_>) -> Vec<Diagnostic> {
    let model = space.model;
    let mut out = Vec::new();
    for route in &model.routes {
        if space.mdd.exhausted() {
            break;
        }
        let reach = reach(space, route);
        check_route(space, route, &reach, &mut out);
    }
    if space.mdd.exhausted() {
        out.clear();
    }
    out
}

/// Per node, the incidents that reach it, and for each the node it is
/// first reached from (for a path).
struct Reach {
    at: Vec<NodeId>,
    from: Vec<Option<usize>>,
}

fn reach(space: &mut Space<'_>, route: &Route) -> Reach {
    let model = space.model;
    let n = route.nodes.len();
    let mut at = vec![FALSE; n];
    let mut from: Vec<Option<usize>> = vec![None; n];
    // The settings the route serves.
    let in_settings = match model.setting_question() {
        Some(q) => {
            let settings: Vec<SettingId> = route.settings.clone();
            space
                .mdd
                .literal(q.index(), |c| settings.iter().any(|s| s.0 == c))
        }
        None => crate::analysis::mdd::TRUE,
    };
    // Rule starts take the incidents their rule decides from the level's.
    let mut work: VecDeque<usize> = VecDeque::new();
    for start in &route.starts {
        let region = match start.entry {
            Entry::Rule(r) => space.decided_by_rule(r),
            Entry::Procedure(p) => space.procedures[p.index()],
            Entry::Level(l) => {
                let mut region = space.decided_at(l);
                let taken: Vec<_> = route
                    .starts
                    .iter()
                    .filter_map(|s| match s.entry {
                        Entry::Rule(r) if model.rule(r).level == l => Some(r),
                        _ => None,
                    })
                    .collect();
                for r in taken {
                    let by_rule = space.decided_by_rule(r);
                    let not = space.mdd.not(by_rule);
                    region = space.mdd.apply(Op::And, region, not);
                }
                region
            }
        };
        let region = space.mdd.apply(Op::And, region, in_settings);
        let region = space.mdd.apply(Op::And, region, space.valid);
        let i = start.node.index();
        let grown = space.mdd.apply(Op::Or, at[i], region);
        if grown != at[i] {
            at[i] = grown;
            work.push_back(i);
        }
    }
    while let Some(i) = work.pop_front() {
        if space.mdd.exhausted() {
            break;
        }
        for (to, region) in flows(space, &route.nodes[i], at[i]) {
            let to = to.index();
            let grown = space.mdd.apply(Op::Or, at[to], region);
            if grown != at[to] {
                at[to] = grown;
                from[to].get_or_insert(i);
                work.push_back(to);
            }
        }
    }
    Reach { at, from }
}

/// Where the incidents at a node go, and which.
fn flows(space: &mut Space<'_>, node: &Node, here: NodeId) -> Vec<(crate::model::NodeId, NodeId)> {
    match &node.kind {
        NodeKind::Step(s) => s.next.map(|n| vec![(n, here)]).unwrap_or_default(),
        NodeKind::Outcome(_) => Vec::new(),
        NodeKind::Decision(d) => {
            // Fixed answers first, then what settles it, then staff.
            let mut left = here;
            let mut by_answer = vec![FALSE; d.answers.len()];
            for (a, c) in &d.always {
                let c = space.domain.cond(&mut space.mdd, c);
                let taken = space.mdd.apply(Op::And, left, c);
                by_answer[*a as usize] = space.mdd.apply(Op::Or, by_answer[*a as usize], taken);
                let not = space.mdd.not(c);
                left = space.mdd.apply(Op::And, left, not);
            }
            match &d.on {
                Some(DecideOn::Condition(c)) => {
                    let c = space.domain.cond(&mut space.mdd, c);
                    let yes = space.mdd.apply(Op::And, left, c);
                    let not = space.mdd.not(c);
                    let no = space.mdd.apply(Op::And, left, not);
                    by_answer[0] = space.mdd.apply(Op::Or, by_answer[0], yes);
                    by_answer[1] = space.mdd.apply(Op::Or, by_answer[1], no);
                    left = FALSE;
                }
                Some(DecideOn::Question(q)) => {
                    let yes_no = space.model.question(*q).kind == QuestionKind::YesNo;
                    let mut answered = FALSE;
                    for (a, slot) in by_answer.iter_mut().enumerate() {
                        let test = if yes_no {
                            Test::Bool(a == 0)
                        } else {
                            Test::Options(vec![a as u32])
                        };
                        let atom = Cond::Atom(Atom {
                            question: *q,
                            test,
                            span: node.meta.span,
                        });
                        let c = space.domain.cond(&mut space.mdd, &atom);
                        let part = space.mdd.apply(Op::And, left, c);
                        *slot = space.mdd.apply(Op::Or, *slot, part);
                        answered = space.mdd.apply(Op::Or, answered, c);
                    }
                    // Where the question is not asked, staff decide.
                    let not = space.mdd.not(answered);
                    left = space.mdd.apply(Op::And, left, not);
                }
                None => {}
            }
            d.branches
                .iter()
                .map(|b| {
                    let region = space.mdd.apply(Op::Or, by_answer[b.answer as usize], left);
                    (b.target, region)
                })
                .collect()
        }
    }
}

fn check_route(space: &mut Space<'_>, route: &Route, reach: &Reach, out: &mut Vec<Diagnostic>) {
    let model = space.model;
    for (i, node) in route.nodes.iter().enumerate() {
        let here = reach.at[i];
        if here == FALSE {
            // Unreachable steps are a finding of their own (`routes.rs`).
            continue;
        }
        let mut conditions: Vec<(&Cond, String)> = Vec::new();
        if let NodeKind::Step(s) = &node.kind {
            if let Some(c) = &s.only_when {
                conditions.push((c, "the step is taken only when".into()));
            }
            for a in &s.actions {
                if let Some(c) = &a.when {
                    conditions.push((c, format!("its `{}` is done only when", a.kind.keyword())));
                }
            }
            for t in &s.timing {
                if let Some(c) = &t.when {
                    conditions.push((c, format!("its timing `{}` holds only when", t.timing)));
                }
            }
        }
        if let NodeKind::Decision(d) = &node.kind {
            if let Some(DecideOn::Condition(c)) = &d.on {
                conditions.push((c, "it is settled `yes` only when".into()));
            }
            for t in &d.timing {
                if let Some(c) = &t.when {
                    conditions.push((c, format!("its timing `{}` holds only when", t.timing)));
                }
            }
            for (a, c) in &d.always {
                conditions.push((
                    c,
                    format!(
                        "its answer is fixed as `{}` only when",
                        d.answers[*a as usize].id
                    ),
                ));
            }
        }
        for (cond, what) in conditions {
            let c = space.domain.cond(&mut space.mdd, cond);
            let meets = space.mdd.apply(Op::And, here, c);
            if meets != FALSE {
                continue;
            }
            let Some(steps) = space.mdd.find(&[here], &|v| v[0] == 1) else {
                continue;
            };
            let w = Witness::from_path(space, &steps);
            let path = path_to(route, reach, i);
            let text = crate::model::summary::condition(model, cond);
            let entries: Vec<&str> = route
                .starts
                .iter()
                .filter(|s| route.nodes[s.node.index()].meta.id == path[0])
                .map(|s| model.entry_id(s.entry))
                .collect();
            let way = format!("start {} → {}", entries.join(", "), path.join(" → "));
            out.push(
                Diagnostic::new(
                    Code::NeverHolds,
                    node.meta.span,
                    format!(
                        "in route `{}`, `{}` is reached, but {what} `{text}`, which no incident that reaches it meets: for example {}",
                        route.meta.id,
                        node.meta.id,
                        w.text(model)
                    ),
                )
                .with_label("condition never met here")
                .with_help(format!(
                    "the incidents that reach it come by {way}; change the condition, or where the route sends them"
                ))
                .with_finding(FindingData {
                    rules: Vec::new(),
                    witness: Some(w.data(model, &space.question_ids)),
                    path,
                    subject: vec![route.meta.id.clone(), node.meta.id.clone()],
                    accepted: None,
                    accept: None,
                }),
            );
        }
    }
}

/// The nodes from a start to node `i`, by the way incidents first reached
/// each.
fn path_to(route: &Route, reach: &Reach, i: usize) -> Vec<String> {
    let mut path = vec![route.nodes[i].meta.id.clone()];
    let mut at = i;
    while let Some(prev) = reach.from[at] {
        if path.len() > route.nodes.len() {
            break;
        }
        path.push(route.nodes[prev].meta.id.clone());
        at = prev;
    }
    path.reverse();
    path
}
