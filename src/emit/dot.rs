//! The flowchart: incident -> the questions that decide the level
//! (diamonds) -> the levels (coloured by police response) -> each route (a
//! cluster, titled with the settings that follow it) -> its outcomes, with a
//! legend.
//!
//! [`flowchart`] lays out nothing: it says what is drawn ([`Flowchart`]).
//! [`to_dot`] writes that as DOT with graphviz-rust for Graphviz to lay out;
//! `svg.rs` draws it itself when Graphviz is not installed.

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use crate::analysis::Space;
use crate::analysis::decide::{ChartTarget, Outcome};
use crate::analysis::domain::Cells;
use crate::model::summary;
use crate::model::{
    Citation, CondTiming, ContactRef, DecideOn, Entry, Level, LevelId, Model, NodeKind, QuestionId,
    QuestionKind, Response, Step,
};

/// Characters per line of a wrapped label.
pub const WRAP: usize = 28;

/// What a flowchart shows, before layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Flowchart {
    pub id: String,
    pub title: String,
    pub nodes: Vec<ChartNode>,
    pub edges: Vec<ChartEdge>,
    /// Titles of the clusters nodes may belong to: settings without a
    /// route, each route, then the legend.
    pub clusters: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartNode {
    /// A DOT id: ASCII letters, digits and underscores only.
    pub id: String,
    pub shape: Shape,
    /// The text, unwrapped; lines are broken at `\n` only where the source
    /// has them.
    pub label: String,
    /// A fill colour, `#rrggbb`.
    pub fill: &'static str,
    /// Citations and notes, shown on hover.
    pub tooltip: String,
    pub cluster: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Start,
    Question,
    Level,
    /// A level whose police response is a judgement: drawn as a level with a
    /// dashed outline, as the legend shows.
    Judgement,
    /// A procedure that runs alongside the level.
    Procedure,
    Step,
    Decision,
    Outcome,
    /// Something the protocol leaves undecided, or a legend entry.
    Note,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartEdge {
    pub from: usize,
    pub to: usize,
    pub label: String,
    /// From a level into a setting's route.
    pub dashed: bool,
}

/// The fill colour for a police response: green to red as police
/// involvement grows, lavender for a judgement, grey where the document does
/// not say.
pub fn police_colour(p: Response) -> &'static str {
    match p {
        Response::None => "#d8f0d2",
        Response::Judgement => "#e6dcf5",
        Response::Advice => "#d6ecf5",
        Response::Report => "#fde7b0",
        Response::Prompt => "#fbcf9f",
        Response::Emergency => "#f6c3bd",
        Response::Unstated => "#e4e4e4",
    }
}

/// The police responses a level can end in, in words, with the settings or
/// rules they are for; and the response that colours it (the most police,
/// `Unstated` only when nothing else is stated).
fn level_police(model: &Model, l: LevelId) -> (String, Response) {
    let level: &Level = model.level(l);
    let mut parts: Vec<String> = Vec::new();
    let mut all: Vec<Response> = Vec::new();
    let words = |p: &crate::model::Police| -> String {
        match (p.response, p.by) {
            (Response::Judgement, Some(a)) => format!(
                "{} judges whether to involve the police",
                model.actors[a.index()].title
            ),
            (r, _) => r.words().to_string(),
        }
    };
    for p in &level.police {
        all.push(p.response);
        let w = words(p);
        if p.settings.is_empty() {
            parts.push(w);
        } else {
            let names: Vec<&str> = p
                .settings
                .iter()
                .map(|s| model.settings[s.index()].meta.id.as_str())
                .collect();
            parts.push(format!("{}: {w}", names.join(", ")));
        }
    }
    for r in model.rules.iter().filter(|r| r.level == l && r.decides()) {
        for p in &r.police {
            all.push(p.response);
            let what = r.title.as_deref().unwrap_or(&r.meta.id);
            let part = format!("{}: {}", what, words(p));
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
    }
    let colour = all
        .iter()
        .copied()
        .filter(|r| r.rank().is_some())
        .max_by_key(|r| r.rank())
        .unwrap_or(Response::Unstated);
    (parts.join("; "), colour)
}

/// A step's label: its text, the condition it is taken under, the actions
/// that are not simply done every time (conditional, in doubt, with a
/// fallback), and its timings.
fn step_label(model: &Model, text: &str, s: &Step) -> String {
    let mut label = String::new();
    if let Some(c) = &s.only_when {
        label.push_str(&format!("Only if {}:\n", summary::condition(model, c)));
    }
    label.push_str(text);
    let name = |c: &ContactRef| match c {
        ContactRef::Contact(c) => model.contacts[c.index()].title.clone(),
        ContactRef::Actor(a) => model.actors[a.index()].title.clone(),
    };
    for a in &s.actions {
        if a.when.is_none() && !a.in_doubt && a.targets.iter().all(|t| t.len() < 2) {
            continue;
        }
        let whom: Vec<String> = a
            .targets
            .iter()
            .map(|chain| {
                let mut names = chain.iter().map(name);
                let first = names.next().unwrap_or_default();
                names.fold(first, |acc, n| format!("{acc}, or if not available {n}"))
            })
            .collect();
        let mut line = format!("{} {}", a.kind.keyword(), whom.join("; "));
        if a.in_doubt {
            line.push_str(" if in doubt");
        }
        if let Some(c) = &a.when {
            line.push_str(&format!(" if {}", summary::condition(model, c)));
        }
        if let Some(first) = line.get(..1) {
            line = first.to_uppercase() + &line[1..];
        }
        label.push_str(&format!("\n{line}"));
    }
    let timing: Vec<String> = s.timing.iter().map(|t| timing_words(model, t)).collect();
    if !timing.is_empty() {
        label.push_str(&format!("\n({})", timing.join(", ")));
    }
    label
}

/// A timing in words with its condition or qualifier.
fn timing_words(model: &Model, t: &CondTiming) -> String {
    let mut s = t.timing.to_string();
    if let Some(c) = &t.when {
        s.push_str(&format!(" if {}", summary::condition(model, c)));
    }
    if let Some(q) = &t.qualifier {
        s.push_str(&format!(", {q}"));
    }
    s
}

const GREY: &str = "#eeeeee";
const WHITE: &str = "#ffffff";

/// The flowchart of a checked protocol, from its decision space.
pub fn flowchart(space: &mut Space<'_>) -> Flowchart {
    let model = space.model;
    let mut chart = Flowchart {
        id: model.header.id.clone(),
        title: chart_title(model),
        nodes: Vec::new(),
        edges: Vec::new(),
        clusters: Vec::new(),
    };
    let add = |chart: &mut Flowchart, node: ChartNode| {
        chart.nodes.push(node);
        chart.nodes.len() - 1
    };
    let start = add(
        &mut chart,
        ChartNode {
            id: "incident".into(),
            shape: Shape::Start,
            label: "Incident".into(),
            fill: GREY,
            tooltip: String::new(),
            cluster: None,
        },
    );
    let levels: Vec<usize> = model
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (words, colour) = level_police(model, LevelId(i as u32));
            let judged = Model::police_for(&l.police, None)
                .is_some_and(|p| p.response == Response::Judgement);
            add(
                &mut chart,
                ChartNode {
                    id: format!("level_{i}"),
                    shape: if judged {
                        Shape::Judgement
                    } else {
                        Shape::Level
                    },
                    label: format!("{}\n({words})", l.title),
                    fill: police_colour(colour),
                    tooltip: tooltip(model, &l.meta.cites, l.meaning.iter().chain(&l.meta.notes)),
                    cluster: None,
                },
            )
        })
        .collect();

    // Procedures that run alongside the level, each entered from the
    // incident when its condition holds.
    let procedures: Vec<usize> = model
        .procedures
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let response = Model::police_for(&p.police, None).map(|x| x.response);
            let mut label = format!("Alongside the level: {}", p.title);
            if let Some(r) = response {
                label.push_str(&format!("\n({})", r.words()));
            }
            let n = add(
                &mut chart,
                ChartNode {
                    id: format!("procedure_{i}"),
                    shape: Shape::Procedure,
                    label,
                    fill: response.map(police_colour).unwrap_or(WHITE),
                    tooltip: tooltip(model, &p.meta.cites, p.meta.notes.iter()),
                    cluster: None,
                },
            );
            chart.edges.push(ChartEdge {
                dashed: true,
                ..edge(
                    start,
                    n,
                    &format!("if {}", summary::condition(model, &p.when)),
                )
            });
            n
        })
        .collect();

    // The questions that decide the level.
    let mut undecided: Option<usize> = None;
    let mut conflict: Option<usize> = None;
    match space.chart() {
        Some(decision) => {
            let base = chart.nodes.len();
            for (i, n) in decision.nodes.iter().enumerate() {
                let q = model.question(n.question);
                add(
                    &mut chart,
                    ChartNode {
                        id: format!("question_{i}"),
                        shape: Shape::Question,
                        label: q.text.clone(),
                        fill: WHITE,
                        tooltip: tooltip(model, &q.meta.cites, q.meta.notes.iter()),
                        cluster: None,
                    },
                );
            }
            let mut target = |chart: &mut Flowchart, t: ChartTarget| match t {
                ChartTarget::Node(i) => base + i,
                ChartTarget::Outcome(o) => match space.level_of(o) {
                    Some(l) => levels[l.index()],
                    None if o == Outcome::Conflict => *conflict.get_or_insert_with(|| {
                        add(chart, note("conflict", "Rules disagree (a conflict)"))
                    }),
                    None => *undecided.get_or_insert_with(|| {
                        add(
                            chart,
                            note("undecided", "No rule applies: the protocol does not say"),
                        )
                    }),
                },
            };
            let root = target(&mut chart, decision.root);
            chart.edges.push(edge(start, root, ""));
            for (i, n) in decision.nodes.iter().enumerate() {
                let cells = &space.domain.cells[n.question.index()];
                for (cs, t) in &n.branches {
                    let to = target(&mut chart, *t);
                    let label = answers_label(model, n.question, cells, cs);
                    chart.edges.push(edge(base + i, to, &label));
                }
            }
        }
        None => {
            let too_big = add(
                &mut chart,
                note(
                    "too_large",
                    "The questions that decide the level are too intertwined to draw; see the rules",
                ),
            );
            chart.edges.push(edge(start, too_big, ""));
            for &l in &levels {
                chart.edges.push(edge(too_big, l, ""));
            }
        }
    }

    // The routes, a cluster each, titled with the settings that follow it
    // (one route often serves several settings: it is drawn once).
    for (si, setting) in model.settings.iter().enumerate() {
        if let Some(why) = &setting.no_route {
            chart.clusters.push(setting.title.clone());
            let cluster = chart.clusters.len() - 1;
            add(
                &mut chart,
                ChartNode {
                    cluster: Some(cluster),
                    ..note(&format!("s{si}_no_route"), &format!("No route: {why}"))
                },
            );
        }
    }
    // A fragment's nodes are drawn once, in a cluster of their own, however
    // many routes use it.
    let mut shared: std::collections::HashMap<(usize, String), usize> =
        std::collections::HashMap::new();
    let mut fragment_cluster: std::collections::HashMap<usize, usize> =
        std::collections::HashMap::new();
    for (ri, route) in model.routes.iter().enumerate() {
        let settings: Vec<&str> = route
            .settings
            .iter()
            .map(|s| model.settings[s.index()].title.as_str())
            .collect();
        chart
            .clusters
            .push(format!("{}\nfor: {}", route.title, settings.join("; ")));
        let cluster = chart.clusters.len() - 1;
        // Chart node of each route node, and whether this route drew it.
        let mut at: Vec<(usize, bool)> = Vec::with_capacity(route.nodes.len());
        for (ni, n) in route.nodes.iter().enumerate() {
            if let Some(f) = n.fragment
                && let Some(&i) = shared.get(&(f.index(), n.meta.id.clone()))
            {
                at.push((i, false));
                continue;
            }
            let (shape, fill, label) = match &n.kind {
                NodeKind::Step(s) => (Shape::Step, WHITE, step_label(model, &n.text, s)),
                NodeKind::Decision(d) => {
                    let mut label = n.text.clone();
                    if let Some(DecideOn::Condition(c)) = &d.on {
                        label.push_str(&format!("\n(yes if {})", summary::condition(model, c)));
                    }
                    for (a, c) in &d.always {
                        label.push_str(&format!(
                            "\n(always {} if {})",
                            d.answers[*a as usize].label(),
                            summary::condition(model, c)
                        ));
                    }
                    (Shape::Decision, WHITE, label)
                }
                NodeKind::Outcome(_) => (Shape::Outcome, GREY, n.text.clone()),
            };
            let (id, in_cluster) = match n.fragment {
                Some(f) => {
                    let c = *fragment_cluster.entry(f.index()).or_insert_with(|| {
                        chart.clusters.push(format!(
                            "Shared steps: {}",
                            model.fragments[f.index()].title
                        ));
                        chart.clusters.len() - 1
                    });
                    // Numbered within the fragment: its nodes sit at
                    // different places in each route that uses it.
                    let k = shared.keys().filter(|(g, _)| *g == f.index()).count();
                    (format!("f{}_n{k}", f.index()), c)
                }
                None => (format!("r{ri}_n{ni}"), cluster),
            };
            let i = add(
                &mut chart,
                ChartNode {
                    id,
                    shape,
                    label,
                    fill,
                    tooltip: tooltip(model, &n.meta.cites, n.meta.notes.iter()),
                    cluster: Some(in_cluster),
                },
            );
            if let Some(f) = n.fragment {
                shared.insert((f.index(), n.meta.id.clone()), i);
            }
            at.push((i, true));
        }
        for (ni, n) in route.nodes.iter().enumerate() {
            let (from, drew) = at[ni];
            if !drew {
                // A shared node's edges were drawn with it.
                continue;
            }
            match &n.kind {
                NodeKind::Step(s) => {
                    if let Some(next) = s.next {
                        chart.edges.push(edge(from, at[next.index()].0, ""));
                    }
                }
                NodeKind::Decision(d) => {
                    for b in &d.branches {
                        let label = d.answers[b.answer as usize].label().to_string();
                        chart.edges.push(edge(from, at[b.target.index()].0, &label));
                    }
                }
                NodeKind::Outcome(_) => {}
            }
        }
        for s in &route.starts {
            let (from, label) = match s.entry {
                Entry::Level(l) => (levels[l.index()], String::new()),
                Entry::Procedure(p) => (procedures[p.index()], String::new()),
                Entry::Rule(r) => {
                    let rule = model.rule(r);
                    (
                        levels[rule.level.index()],
                        format!("if by {}", rule.title.as_deref().unwrap_or(&rule.meta.id)),
                    )
                }
            };
            chart.edges.push(ChartEdge {
                dashed: true,
                ..edge(from, at[s.node.index()].0, &label)
            });
        }
    }

    // The legend.
    chart.clusters.push("Police response".into());
    let legend = chart.clusters.len() - 1;
    let mut used: Vec<Response> = Vec::new();
    let lists = model
        .levels
        .iter()
        .map(|l| &l.police)
        .chain(model.rules.iter().map(|r| &r.police))
        .chain(model.procedures.iter().map(|p| &p.police));
    for list in lists {
        used.extend(list.iter().map(|p| p.response));
    }
    for (i, p) in Response::ALL
        .into_iter()
        .enumerate()
        .filter(|(_, p)| used.contains(p))
    {
        let words = match p {
            Response::Judgement => "a judgement whether to involve the police (dashed outline)",
            _ => p.words(),
        };
        let mut words = words.to_string();
        if let Some(first) = words.get(..1) {
            words = first.to_uppercase() + &words[1..];
        }
        add(
            &mut chart,
            ChartNode {
                id: format!("legend_{i}"),
                shape: Shape::Note,
                label: words,
                fill: police_colour(p),
                tooltip: String::new(),
                cluster: Some(legend),
            },
        );
    }
    chart
}

fn chart_title(model: &Model) -> String {
    let h = &model.header;
    let mut title = h.title.value.clone();
    let authorities: Vec<&str> = h.authorities.iter().map(|a| a.value.as_str()).collect();
    if !authorities.is_empty() {
        title.push('\n');
        title.push_str(&authorities.join(", "));
    }
    if let Some(v) = &h.version {
        title.push_str(&format!("\nversion {}", v.value));
    }
    title
}

fn note(id: &str, label: &str) -> ChartNode {
    ChartNode {
        id: id.into(),
        shape: Shape::Note,
        label: label.into(),
        fill: GREY,
        tooltip: String::new(),
        cluster: None,
    }
}

fn edge(from: usize, to: usize, label: &str) -> ChartEdge {
    ChartEdge {
        from,
        to,
        label: label.into(),
        dashed: false,
    }
}

/// Citations, then notes, one per line.
fn tooltip<'a>(
    model: &Model,
    cites: &[Citation],
    notes: impl Iterator<Item = &'a String>,
) -> String {
    let mut lines = Vec::new();
    let c = model.cite_text(cites);
    if !c.is_empty() {
        lines.push(format!("Source: {c}"));
    }
    lines.extend(notes.cloned());
    lines.join("\n")
}

/// The answers of a branch: `yes`, `Class A, Class B`, `3 or more`.
fn answers_label(model: &Model, q: QuestionId, cells: &Cells, cs: &[u32]) -> String {
    let question = model.question(q);
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if Some(c) == cells.not_asked() {
            parts.push("not asked".into());
            i += 1;
            continue;
        }
        match &question.kind {
            QuestionKind::YesNo => parts.push(if c == 1 { "yes" } else { "no" }.into()),
            QuestionKind::OneOf(choices) | QuestionKind::Scale(choices) => {
                parts.push(choices[c as usize].label().to_string());
            }
            QuestionKind::Count { .. } | QuestionKind::Amount { .. } => {
                // A run of adjacent intervals is one range.
                let mut j = i;
                while j + 1 < cs.len()
                    && cs[j + 1] == cs[j] + 1
                    && Some(cs[j + 1]) != cells.not_asked()
                {
                    j += 1;
                }
                let lo = cells.starts[c as usize];
                let text = |n: i64| summary::number(model, q, n);
                parts.push(match cells.upper(cs[j]) {
                    None => format!("{} or more", text(lo)),
                    Some(hi) if hi == lo => text(lo),
                    Some(hi) => format!("{} to {}", text(lo), text(hi)),
                });
                i = j;
            }
        }
        i += 1;
    }
    parts.join(", ")
}

/// Wrap text at about `width` characters a line, keeping the source's own
/// line breaks.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let len = line.chars().count();
            if len > 0 && len + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A DOT quoted string: quotes and backslashes escaped, line breaks as
/// `\n` (centred lines), other control characters dropped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn attr(name: &str, value: &str) -> Attribute {
    Attribute(Id::Plain(name.into()), Id::Escaped(quoted(value)))
}

fn plain(name: &str, value: &str) -> Attribute {
    Attribute(Id::Plain(name.into()), Id::Plain(value.into()))
}

fn node_stmt(n: &ChartNode) -> Stmt {
    let (shape, style) = match n.shape {
        Shape::Start => ("oval", "filled"),
        Shape::Question => ("diamond", "filled"),
        Shape::Level => ("box", "rounded,filled,bold"),
        Shape::Judgement => ("box", "rounded,filled,bold,dashed"),
        Shape::Procedure => ("box", "filled,dashed"),
        Shape::Step => ("box", "filled"),
        Shape::Decision => ("diamond", "filled"),
        Shape::Outcome => ("doubleoctagon", "filled"),
        Shape::Note => ("note", "filled"),
    };
    let mut attributes = vec![
        attr("label", &wrap(&n.label, WRAP).join("\n")),
        plain("shape", shape),
        attr("style", style),
        attr("fillcolor", n.fill),
    ];
    if !n.tooltip.is_empty() {
        attributes.push(attr("tooltip", &n.tooltip));
    }
    Stmt::Node(Node::new(NodeId(Id::Plain(n.id.clone()), None), attributes))
}

/// The flowchart as a graphviz-rust graph.
pub fn to_graph(chart: &Flowchart) -> Graph {
    let mut stmts = vec![
        Stmt::GAttribute(GraphAttributes::Graph(vec![
            attr("label", &chart.title),
            plain("labelloc", "t"),
            plain("fontsize", "18"),
            attr("fontname", "Helvetica"),
            plain("rankdir", "TB"),
            plain("nodesep", "0.3"),
            plain("ranksep", "0.45"),
            plain("newrank", "true"),
        ])),
        Stmt::GAttribute(GraphAttributes::Node(vec![
            attr("fontname", "Helvetica"),
            plain("fontsize", "11"),
            plain("margin", "0.12"),
        ])),
        Stmt::GAttribute(GraphAttributes::Edge(vec![
            attr("fontname", "Helvetica"),
            plain("fontsize", "10"),
            attr("color", "#555555"),
        ])),
    ];
    stmts.extend(
        chart
            .nodes
            .iter()
            .filter(|n| n.cluster.is_none())
            .map(node_stmt),
    );
    for (ci, title) in chart.clusters.iter().enumerate() {
        let mut inner = vec![
            Stmt::Attribute(attr("label", title)),
            Stmt::Attribute(attr("style", "rounded")),
            Stmt::Attribute(attr("color", "#999999")),
            Stmt::Attribute(plain("fontsize", "14")),
        ];
        let members: Vec<&ChartNode> = chart
            .nodes
            .iter()
            .filter(|n| n.cluster == Some(ci))
            .collect();
        inner.extend(members.iter().map(|n| node_stmt(n)));
        // The legend reads left to right, least police involvement first.
        if members.len() > 1 && members.iter().all(|n| n.id.starts_with("legend_")) {
            inner.push(Stmt::Subgraph(Subgraph {
                id: Id::Plain(format!("legend_row_{ci}")),
                stmts: vec![
                    Stmt::Attribute(plain("rank", "same")),
                    Stmt::Edge(Edge {
                        ty: EdgeTy::Chain(
                            members
                                .iter()
                                .map(|n| Vertex::N(NodeId(Id::Plain(n.id.clone()), None)))
                                .collect(),
                        ),
                        attributes: vec![plain("style", "invis")],
                    }),
                ],
            }));
        }
        stmts.push(Stmt::Subgraph(Subgraph {
            id: Id::Plain(format!("cluster_{ci}")),
            stmts: inner,
        }));
    }
    // Levels side by side, between the decision and the routes.
    let levels: Vec<Stmt> = chart
        .nodes
        .iter()
        .filter(|n| matches!(n.shape, Shape::Level | Shape::Judgement))
        .map(|n| Stmt::Node(Node::new(NodeId(Id::Plain(n.id.clone()), None), Vec::new())))
        .collect();
    if !levels.is_empty() {
        let mut inner = vec![Stmt::Attribute(plain("rank", "same"))];
        let ids: Vec<Vertex> = chart
            .nodes
            .iter()
            .filter(|n| matches!(n.shape, Shape::Level | Shape::Judgement))
            .map(|n| Vertex::N(NodeId(Id::Plain(n.id.clone()), None)))
            .collect();
        inner.extend(levels);
        // Least serious on the left.
        if ids.len() > 1 {
            inner.push(Stmt::Edge(Edge {
                ty: EdgeTy::Chain(ids),
                attributes: vec![plain("style", "invis")],
            }));
        }
        stmts.push(Stmt::Subgraph(Subgraph {
            id: Id::Plain("levels".into()),
            stmts: inner,
        }));
    }
    for e in &chart.edges {
        let mut attributes = Vec::new();
        if !e.label.is_empty() {
            attributes.push(attr("label", &wrap(&e.label, WRAP).join("\n")));
        }
        if e.dashed {
            attributes.push(attr("style", "dashed"));
        }
        let v = |i: usize| Vertex::N(NodeId(Id::Plain(chart.nodes[i].id.clone()), None));
        stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(v(e.from), v(e.to)),
            attributes,
        }));
    }
    Graph::DiGraph {
        id: Id::Escaped(quoted(&chart.id)),
        strict: false,
        stmts,
    }
}

/// The flowchart as DOT text, ending with a newline.
pub fn to_dot(chart: &Flowchart) -> String {
    let mut ctx = PrinterContext::default();
    let mut out = to_graph(chart).print(&mut ctx);
    out.push('\n');
    out
}
