//! The two pictures of a protocol, before layout.
//!
//! - [`picture`], the main one, draws what the documents draw: the levels
//!   side by side, least to most serious, each headed by its police response
//!   in words and colour and listing the rules that put an incident there
//!   ("if any of these"), the procedures that run alongside, and below them
//!   each setting's route (steps, who, timings, contacts, decisions with
//!   labelled branches). A board reads it on one page.
//! - [`question_diagram`], the secondary one, is the exact decision: the
//!   reduced, shared decision diagram drawn as a DAG, each question a
//!   diamond, the questions that decide the most serious levels first.
//!
//! Neither lays anything out: they say what is drawn ([`Flowchart`]).
//! [`to_dot`] writes that as DOT with graphviz-rust for Graphviz to lay out;
//! `svg.rs` draws it itself when Graphviz is not installed.

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Port, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use crate::analysis::Space;
use crate::analysis::decide::{ChartTarget, Outcome};
use crate::analysis::domain::Cells;
use crate::model::summary;
use crate::model::{
    Citation, CondTiming, ContactRef, DecideOn, Entry, LevelId, Model, NodeKind, Police, Policy,
    QuestionId, QuestionKind, Response, Step, Strength,
};

/// Characters per line of a wrapped step, decision or question.
pub const WRAP: usize = 30;
/// Characters per line of an entry in a level's list: a column is wider
/// than a step, so a rule's title takes two or three lines, not six.
pub const WRAP_ITEM: usize = 70;
/// The size of body text, in points. Every text in both pictures is at
/// least this size; with Dorset's picture fitted to A3 it prints at about
/// 6 pt or more (`tests/build.rs` measures it).
pub const FONT: f64 = 10.0;
/// The size of a level's title and a cluster's title.
pub const FONT_HEAD: f64 = 12.0;
/// The size of the picture's title.
pub const FONT_TITLE: f64 = 16.0;

/// What a picture shows, before layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Flowchart {
    pub id: String,
    pub title: String,
    pub nodes: Vec<ChartNode>,
    pub edges: Vec<ChartEdge>,
    /// Titles of the clusters nodes may belong to: each route, then each
    /// fragment its routes share.
    pub clusters: Vec<String>,
    /// Pairs of nodes, the second drawn below the first (an invisible edge
    /// for Graphviz): the clusters of steps that several routes share are
    /// stacked, not set side by side, so that the picture keeps to A3's
    /// proportions.
    pub below: Vec<(usize, usize)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartNode {
    /// A DOT id: ASCII letters, digits and underscores only.
    pub id: String,
    pub shape: Shape,
    /// The text, unwrapped; lines are broken at `\n` only where the source
    /// has them. For a [`Shape::Column`], its heading.
    pub label: String,
    /// A column's list, under its heading.
    pub items: Vec<Item>,
    /// A fill colour, `#rrggbb` (a column's heading only).
    pub fill: &'static str,
    /// Citations and notes, shown on hover.
    pub tooltip: String,
    pub cluster: Option<usize>,
}

/// A line of a column's list.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// What the entries below it are ("If any of these applies").
    Heading(String),
    /// A rule, a procedure or a setting without a route: what it says, in
    /// the document's words, then smaller the condition, strength and
    /// citations; filled when it has a police response of its own.
    Entry {
        text: String,
        detail: String,
        fill: Option<&'static str>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Start,
    Question,
    Level,
    /// A level whose police response is a judgement: drawn with a dashed
    /// outline (and said in words in its heading).
    Judgement,
    /// A box with a heading and a list: a level with its rules, the
    /// procedures, the settings without a route.
    Column {
        dashed: bool,
    },
    Step,
    Decision,
    Outcome,
    /// Something the protocol leaves undecided.
    Note,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartEdge {
    pub from: usize,
    /// The entry of the `from` column the edge leaves from (a rule or a
    /// procedure with a route start of its own).
    pub from_item: Option<usize>,
    pub to: usize,
    pub label: String,
    /// The label is drawn by the edge's start, not at its middle: in
    /// Graphviz a middle label takes a rank of its own, which doubles the
    /// height of every route; a decision's branch reads as well at the
    /// decision.
    pub at_tail: bool,
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

/// A police response list in words, each with the settings it is for; and
/// the response that colours it (the most police, `Unstated` only when
/// nothing else is stated).
fn police_words(model: &Model, list: &[Police]) -> (String, Response) {
    let mut parts: Vec<String> = Vec::new();
    for p in list {
        let w = match (p.response, p.by) {
            (Response::Judgement, Some(a)) => format!(
                "{} judges whether to involve the police",
                model.actors[a.index()].title
            ),
            (r, _) => r.words().to_string(),
        };
        if p.settings.is_empty() {
            parts.push(w);
        } else {
            let names: Vec<&str> = p
                .settings
                .iter()
                .map(|s| model.settings[s.index()].title.as_str())
                .collect();
            parts.push(format!("{}: {w}", names.join(", ")));
        }
    }
    let colour = list
        .iter()
        .map(|p| p.response)
        .filter(|r| r.rank().is_some())
        .max_by_key(|r| r.rank())
        .unwrap_or(Response::Unstated);
    (parts.join("; "), colour)
}

/// A step's label: the condition it is taken under, its text, the actions
/// that name a phone number or address or are not simply done every time
/// (conditional, in doubt, with a fallback), who takes it (unless it is
/// `usual`, whom the route's title names), and its timings.
fn step_label(model: &Model, text: &str, s: &Step, usual: &str) -> String {
    let mut label = String::new();
    if let Some(c) = &s.only_when {
        label.push_str(&format!("Only if {}:\n", condition_text(model, c)));
    }
    label.push_str(text);
    let reach = |c: &ContactRef| match c {
        ContactRef::Contact(c) => Some(&model.contacts[c.index()])
            .filter(|c| c.phone.is_some() || c.web.is_some() || c.email.is_some()),
        ContactRef::Actor(_) => None,
    };
    let name = |c: &ContactRef| match c {
        ContactRef::Contact(i) => {
            let contact = &model.contacts[i.index()];
            let how: Vec<&str> = [&contact.phone, &contact.web, &contact.email]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            if how.is_empty() {
                contact.title.clone()
            } else {
                how.join(", ")
            }
        }
        ContactRef::Actor(a) => model.actors[a.index()].title.clone(),
    };
    for a in &s.actions {
        let reachable = a.targets.iter().flatten().any(|t| reach(t).is_some());
        if !reachable && a.when.is_none() && !a.in_doubt && a.targets.iter().all(|t| t.len() < 2) {
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
            line.push_str(&format!(" if {}", condition_text(model, c)));
        }
        label.push_str(&format!("\n{}", capitalised(&line)));
    }
    let who = actors(model, &s.by);
    if !who.is_empty() && who != usual {
        label.push_str(&format!("\nWho: {who}"));
    }
    let timing: Vec<String> = s.timing.iter().map(|t| timing_words(model, t)).collect();
    if !timing.is_empty() {
        label.push_str(&format!("\nWhen: {}", timing.join(", ")));
    }
    label
}

/// Who acts. An actor named for some settings only is not qualified with
/// them: its title says who it is (a foster carer is in foster care), and
/// the settings' titles would double the box.
fn actors(model: &Model, by: &[crate::model::ByActor]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for b in by {
        let title = model.actors[b.actor.index()].title.as_str();
        if !names.contains(&title) {
            names.push(title);
        }
    }
    names.join("; ")
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A condition as the protocol writes it (the rule pack's `when_text`).
fn condition_text(model: &Model, c: &crate::model::Cond) -> String {
    model
        .written(c)
        .map_or_else(|| summary::condition(model, c), str::to_string)
}

/// A timing in words with its condition or qualifier.
fn timing_words(model: &Model, t: &CondTiming) -> String {
    let mut s = t.timing.to_string();
    if let Some(c) = &t.when {
        s.push_str(&format!(" if {}", condition_text(model, c)));
    }
    if let Some(q) = &t.qualifier {
        s.push_str(&format!(", {q}"));
    }
    s
}

const GREY: &str = "#eeeeee";
const WHITE: &str = "#ffffff";
/// Route decisions: pale yellow, so they stand out from the steps.
const DECISION: &str = "#fff6d5";

fn add(chart: &mut Flowchart, node: ChartNode) -> usize {
    chart.nodes.push(node);
    chart.nodes.len() - 1
}

/// The rules of level `l` in the order the column lists them: those that
/// decide, `must` before `should`, each in the protocol's order. Under
/// first-match the protocol's order is the ranking, so it is kept.
fn ranked_rules(model: &Model, l: LevelId) -> Vec<usize> {
    let mut rules: Vec<usize> = (0..model.rules.len())
        .filter(|r| model.rules[*r].level == l && model.rules[*r].decides())
        .collect();
    if model.header.policy.value != Policy::FirstMatch {
        rules.sort_by_key(|r| (model.rules[*r].strength != Strength::Must, *r));
    }
    rules
}

/// `[should · 6.9; Appendix A]`: how strongly the rule applies, and where
/// the document says it.
fn strength_and_cites(model: &Model, rule: &crate::model::Rule) -> String {
    let cites = model.cite_text(&rule.meta.cites);
    if cites.is_empty() {
        format!("[{}]", strength_word(rule.strength))
    } else {
        format!("[{} · {cites}]", strength_word(rule.strength))
    }
}

fn strength_word(s: Strength) -> &'static str {
    match s {
        Strength::Must => "must",
        Strength::Should => "should",
        Strength::May => "may",
    }
}

/// The main picture of a checked protocol: what its documents draw.
pub fn picture(model: &Model) -> Flowchart {
    let mut chart = Flowchart {
        id: model.header.id.clone(),
        title: chart_title(model),
        nodes: Vec::new(),
        edges: Vec::new(),
        clusters: Vec::new(),
        below: Vec::new(),
    };
    let policy = model.header.policy.value;
    let heading = match policy {
        Policy::MostSerious => "If any of these applies (a level further right wins):",
        Policy::FirstMatch => "If this is the first rule, in the numbered order, that applies:",
        Policy::NoOverlap => "If any of these applies:",
    };
    // Under first-match the numbers run across the levels: they are the
    // order the rules are tried in.
    let mut number = 0;
    // Per rule, the column and entry it is drawn as.
    let mut rule_at: Vec<Option<(usize, usize)>> = vec![None; model.rules.len()];
    let mut levels: Vec<usize> = Vec::new();
    let first_match_numbers: Vec<usize> = {
        let mut n = vec![0; model.rules.len()];
        let mut k = 0;
        for (r, rule) in model.rules.iter().enumerate() {
            if rule.decides() {
                k += 1;
                n[r] = k;
            }
        }
        n
    };
    for (li, l) in model.levels.iter().enumerate() {
        let (words, colour) = police_words(model, &l.police);
        let judged =
            Model::police_for(&l.police, None).is_some_and(|p| p.response == Response::Judgement);
        let mut items = vec![Item::Heading(heading.into())];
        if policy != Policy::FirstMatch {
            number = 0;
        }
        let index = chart.nodes.len();
        for r in ranked_rules(model, LevelId(li as u32)) {
            let rule = &model.rules[r];
            number += 1;
            let n = if policy == Policy::FirstMatch {
                first_match_numbers[r]
            } else {
                number
            };
            let when = condition_text(model, &rule.when);
            let text = format!(
                "{n}. {} {}",
                rule.title.as_deref().unwrap_or(&format!("if {when}")),
                strength_and_cites(model, rule)
            );
            let (own, own_colour) = police_words(model, &rule.police);
            let mut detail = Vec::new();
            if rule.title.is_some() {
                detail.push(format!("if {when}"));
            }
            if !own.is_empty() {
                detail.push(format!("Police: {own}"));
            }
            rule_at[r] = Some((index, items.len()));
            items.push(Item::Entry {
                text,
                detail: detail.join("\n"),
                fill: (!rule.police.is_empty()).then(|| police_colour(own_colour)),
            });
        }
        if let Some(o) = &model.header.otherwise
            && o.value.index() == li
        {
            let cites = model.cite_text(&model.header.policy.cites);
            items.push(Item::Entry {
                text: "Otherwise: when no rule applies".into(),
                detail: cites,
                fill: None,
            });
        }
        let may: Vec<usize> = (0..model.rules.len())
            .filter(|r| model.rules[*r].level.index() == li && !model.rules[*r].decides())
            .collect();
        if !may.is_empty() {
            items.push(Item::Heading(
                "May also be considered (suggests, does not decide):".into(),
            ));
            for r in may {
                let rule = &model.rules[r];
                let when = condition_text(model, &rule.when);
                let text = format!(
                    "{} {}",
                    rule.title.clone().unwrap_or(format!("if {when}")),
                    strength_and_cites(model, rule)
                );
                let detail = if rule.title.is_some() {
                    format!("if {when}")
                } else {
                    String::new()
                };
                rule_at[r] = Some((index, items.len()));
                items.push(Item::Entry {
                    text,
                    detail,
                    fill: None,
                });
            }
        }
        let node = add(
            &mut chart,
            ChartNode {
                id: format!("level_{li}"),
                shape: Shape::Column { dashed: judged },
                label: format!("{}\nPolice: {words}", l.title),
                items,
                fill: police_colour(colour),
                tooltip: tooltip(model, &l.meta.cites, l.meaning.iter().chain(&l.meta.notes)),
                cluster: None,
            },
        );
        levels.push(node);
    }

    // Procedures that run alongside the level, one column.
    let mut procedure_at: Vec<(usize, usize)> = Vec::new();
    if !model.procedures.is_empty() {
        let index = chart.nodes.len();
        let mut items = vec![Item::Heading("Whatever the level, if:".into())];
        let mut notes: Vec<String> = Vec::new();
        for p in &model.procedures {
            let (words, colour) = police_words(model, &p.police);
            let mut detail = vec![format!("if {}", condition_text(model, &p.when))];
            let cites = model.cite_text(&p.meta.cites);
            if !cites.is_empty() {
                detail.push(cites.clone());
            }
            if !words.is_empty() {
                detail.push(format!("Police: {words}"));
            }
            procedure_at.push((index, items.len()));
            items.push(Item::Entry {
                text: p.title.clone(),
                detail: detail.join("\n"),
                fill: (!p.police.is_empty()).then(|| police_colour(colour)),
            });
            if !cites.is_empty() {
                notes.push(format!("{}: source {cites}", p.title));
            }
            notes.extend(p.meta.notes.iter().cloned());
        }
        add(
            &mut chart,
            ChartNode {
                id: "procedures".into(),
                shape: Shape::Column { dashed: false },
                label: "Procedures that run alongside the level".into(),
                items,
                fill: GREY,
                tooltip: notes.join("\n"),
                cluster: None,
            },
        );
    }

    // Settings without a route, one column.
    let no_route: Vec<Item> = model
        .settings
        .iter()
        .filter_map(|s| {
            s.no_route.as_ref().map(|_| Item::Entry {
                text: s.title.clone(),
                detail: String::new(),
                fill: None,
            })
        })
        .collect();
    if !no_route.is_empty() {
        add(
            &mut chart,
            ChartNode {
                id: "no_route".into(),
                shape: Shape::Column { dashed: false },
                label: "Settings without a route (the protocol gives no steps for them)".into(),
                items: no_route,
                fill: GREY,
                // Why, on hover: the reasons are paragraphs, and the page
                // is for the routes the protocol does give.
                tooltip: model
                    .settings
                    .iter()
                    .filter_map(|s| s.no_route.as_ref().map(|why| format!("{}: {why}", s.title)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                cluster: None,
            },
        );
    }

    // The routes, a cluster each, titled with the settings that follow it
    // (one route often serves several settings: it is drawn once).
    routes(model, &mut chart, &levels, &procedure_at, &rule_at);
    stack_fragments(&mut chart);
    chart
}

/// Stack the clusters of steps shared by the routes of a procedure (their
/// nodes' ids start `f`): the last node of each above the first node of the
/// next.
fn stack_fragments(chart: &mut Flowchart) {
    let members = |c: usize| -> Vec<usize> {
        (0..chart.nodes.len())
            .filter(|i| chart.nodes[*i].cluster == Some(c))
            .collect()
    };
    // Only those entered from the procedures alone: steps shared in the
    // middle of routes stay where the routes lead into them.
    let procedures = chart.nodes.iter().position(|n| n.id == "procedures");
    let shared: Vec<usize> = (0..chart.clusters.len())
        .filter(|c| {
            let inside = members(*c);
            inside
                .first()
                .is_some_and(|i| chart.nodes[*i].id.starts_with('f'))
                && chart
                    .edges
                    .iter()
                    .filter(|e| inside.contains(&e.to) && !inside.contains(&e.from))
                    .all(|e| Some(e.from) == procedures)
        })
        .collect();
    for pair in shared.windows(2) {
        let (upper, lower) = (members(pair[0]), members(pair[1]));
        // A node of the upper cluster nothing leaves from, and a node of
        // the lower one nothing in it leads to.
        let sink = upper
            .iter()
            .rev()
            .find(|i| !chart.edges.iter().any(|e| e.from == **i));
        let source = lower.iter().find(|i| {
            !chart
                .edges
                .iter()
                .any(|e| e.to == **i && lower.contains(&e.from))
        });
        if let (Some(&a), Some(&b)) = (sink, source) {
            chart.below.push((a, b));
        }
    }
}

fn start_node() -> ChartNode {
    ChartNode {
        id: "incident".into(),
        shape: Shape::Start,
        label: "Incident".into(),
        items: Vec::new(),
        fill: GREY,
        tooltip: String::new(),
        cluster: None,
    }
}

/// Each route as a cluster, its entries joined to the levels, rules and
/// procedures that start it; a fragment's nodes drawn once, in a cluster of
/// their own, however many routes use it.
fn routes(
    model: &Model,
    chart: &mut Flowchart,
    levels: &[usize],
    procedure_at: &[(usize, usize)],
    rule_at: &[Option<(usize, usize)>],
) {
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
        // Who takes most of the route's own steps, and most of each
        // fragment's: named once in the cluster's title, not in every box.
        let mut tally: std::collections::HashMap<Option<usize>, Vec<(String, usize)>> =
            std::collections::HashMap::new();
        for n in &route.nodes {
            let by = match &n.kind {
                NodeKind::Step(s) => &s.by,
                NodeKind::Decision(d) => &d.by,
                NodeKind::Outcome(_) => continue,
            };
            let who = actors(model, by);
            let counts = tally.entry(n.fragment.map(|f| f.index())).or_default();
            match counts.iter_mut().find(|(w, _)| *w == who) {
                Some((_, k)) => *k += 1,
                None => counts.push((who, 1)),
            }
        }
        let most: std::collections::HashMap<Option<usize>, String> = tally
            .into_iter()
            .map(|(f, counts)| {
                let best = counts
                    .iter()
                    .rev()
                    .max_by_key(|(_, k)| *k)
                    .map(|(w, _)| w.clone())
                    .unwrap_or_default();
                (f, best)
            })
            .collect();
        let usual = |f: Option<crate::model::FragmentId>| -> &str {
            most.get(&f.map(|f| f.index())).map_or("", String::as_str)
        };
        let by = |who: &str| {
            if who.is_empty() {
                String::new()
            } else {
                format!("; steps by {who} unless a box says who")
            }
        };
        chart.clusters.push(format!(
            "{}\nfor: {}{}",
            route.title,
            settings.join("; "),
            by(usual(None))
        ));
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
                NodeKind::Step(s) => (
                    Shape::Step,
                    WHITE,
                    step_label(model, &n.text, s, usual(n.fragment)),
                ),
                NodeKind::Decision(d) => {
                    let mut label = n.text.clone();
                    if let Some(DecideOn::Condition(c)) = &d.on {
                        label.push_str(&format!("\n(yes if {})", condition_text(model, c)));
                    }
                    for (a, c) in &d.always {
                        label.push_str(&format!(
                            "\n(always {} if {})",
                            d.answers[*a as usize].label(),
                            condition_text(model, c)
                        ));
                    }
                    let who = actors(model, &d.by);
                    if !who.is_empty() && who != usual(n.fragment) {
                        label.push_str(&format!("\nWho decides: {who}"));
                    }
                    let timing: Vec<String> =
                        d.timing.iter().map(|t| timing_words(model, t)).collect();
                    if !timing.is_empty() {
                        label.push_str(&format!("\nWhen: {}", timing.join(", ")));
                    }
                    (Shape::Decision, DECISION, label)
                }
                NodeKind::Outcome(_) => (Shape::Outcome, GREY, n.text.clone()),
            };
            let (id, in_cluster) = match n.fragment {
                Some(f) => {
                    let c = *fragment_cluster.entry(f.index()).or_insert_with(|| {
                        chart.clusters.push(format!(
                            "Shared steps: {}{}",
                            model.fragments[f.index()].title,
                            by(usual(Some(f)))
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
                chart,
                ChartNode {
                    id,
                    shape,
                    label,
                    items: Vec::new(),
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
                        chart.edges.push(ChartEdge {
                            at_tail: true,
                            ..edge(from, at[b.target.index()].0, &label)
                        });
                    }
                }
                NodeKind::Outcome(_) => {}
            }
        }
        for s in &route.starts {
            let (from, from_item, label) = match s.entry {
                Entry::Level(l) => (levels[l.index()], None, String::new()),
                Entry::Procedure(p) => {
                    let (node, item) = procedure_at[p.index()];
                    (node, Some(item), String::new())
                }
                Entry::Rule(r) => {
                    let rule = model.rule(r);
                    match rule_at[r.index()] {
                        Some((node, item)) => (node, Some(item), String::new()),
                        None => (
                            levels[rule.level.index()],
                            None,
                            format!("if by {}", rule.title.as_deref().unwrap_or(&rule.meta.id)),
                        ),
                    }
                }
            };
            chart.edges.push(ChartEdge {
                dashed: true,
                from_item,
                ..edge(from, at[s.node.index()].0, &label)
            });
        }
    }
}

/// How the question diagram orders its questions, in words, for its
/// title.
pub const QUESTION_ORDER: &str = "The questions that decide the most serious levels are asked first. \
Any order gives the same decision for every incident; the order only changes the drawing.";

/// The secondary picture: the exact decision as a diagram of questions,
/// each question node drawn once and shared by every path that reaches it
/// (a DAG, not a tree), ending at the levels. `space` should test the
/// questions safety first ([`Space::safety_first`]).
pub fn question_diagram(space: &mut Space<'_>) -> Flowchart {
    let model = space.model;
    let mut chart = Flowchart {
        id: format!("{}-questions", model.header.id),
        title: format!(
            "{}\nThe exact decision, question by question. {QUESTION_ORDER}",
            chart_title(model)
        ),
        nodes: Vec::new(),
        edges: Vec::new(),
        clusters: Vec::new(),
        below: Vec::new(),
    };
    let start = add(&mut chart, start_node());
    let levels: Vec<usize> = model
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (words, colour) = police_words(model, &l.police);
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
                    label: format!("{}\nPolice: {words}", l.title),
                    items: Vec::new(),
                    fill: police_colour(colour),
                    tooltip: tooltip(model, &l.meta.cites, l.meaning.iter().chain(&l.meta.notes)),
                    cluster: None,
                },
            )
        })
        .collect();
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
                        items: Vec::new(),
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
    chart
}

fn chart_title(model: &Model) -> String {
    let h = &model.header;
    let mut title = h.title.value.clone();
    let authorities: Vec<&str> = h.authorities.iter().map(|a| a.value.as_str()).collect();
    // One line where it fits: every line of the title is a line less for
    // the picture on the page.
    if !authorities.is_empty() {
        title.push_str(" — ");
        title.push_str(&authorities.join(", "));
    }
    if let Some(v) = &h.version {
        title.push_str(&format!(", version {}", v.value));
    }
    title
}

fn note(id: &str, label: &str) -> ChartNode {
    ChartNode {
        id: id.into(),
        shape: Shape::Note,
        label: label.into(),
        items: Vec::new(),
        fill: GREY,
        tooltip: String::new(),
        cluster: None,
    }
}

fn edge(from: usize, to: usize, label: &str) -> ChartEdge {
    ChartEdge {
        from,
        from_item: None,
        to,
        label: label.into(),
        at_tail: false,
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

/// A box's lines: wrapped at [`WRAP`], or wider (up to half as wide
/// again) where that would take more than five lines, so that a long step
/// does not make its whole row tall.
pub fn box_lines(text: &str) -> Vec<String> {
    let lines = wrap(text, WRAP);
    if lines.len() <= 5 {
        return lines;
    }
    let chars = text.chars().count();
    wrap(text, (chars / 5).clamp(WRAP, WRAP * 3 / 2))
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

pub(crate) fn attr(name: &str, value: &str) -> Attribute {
    Attribute(Id::Plain(name.into()), Id::Escaped(quoted(value)))
}

pub(crate) fn plain(name: &str, value: &str) -> Attribute {
    Attribute(Id::Plain(name.into()), Id::Plain(value.into()))
}

/// Text for a Graphviz HTML-like label: the XML specials escaped, control
/// characters dropped.
pub(crate) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Wrapped lines as HTML, left-aligned.
pub(crate) fn html_lines(text: &str, width: usize) -> String {
    wrap(text, width)
        .iter()
        .map(|l| html(l))
        .collect::<Vec<_>>()
        .join(r#"<BR ALIGN="LEFT"/>"#)
        + r#"<BR ALIGN="LEFT"/>"#
}

/// A column as a Graphviz HTML-like table: the heading on the police
/// colour, then the list, each entry a cell with a port (`i<k>`) that route
/// starts leave from.
fn column_label(n: &ChartNode, dashed: bool) -> String {
    let mut s = String::from(
        r##"<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="#333333" BGCOLOR="#ffffff""##,
    );
    if dashed {
        s.push_str(r#" STYLE="dashed""#);
    }
    s.push('>');
    let mut head = n.label.split('\n');
    let title = head.next().unwrap_or_default();
    s.push_str(&format!(
        r#"<TR><TD BGCOLOR="{}" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="{FONT_HEAD}"><B>{}</B></FONT>"#,
        n.fill,
        wrap(title, WRAP_ITEM * 10 / 12)
            .iter()
            .map(|l| html(l))
            .collect::<Vec<_>>()
            .join("<BR/>")
    ));
    for line in head {
        s.push_str(r#"<BR ALIGN="LEFT"/>"#);
        s.push_str(
            &wrap(line, WRAP_ITEM)
                .iter()
                .map(|l| html(l))
                .collect::<Vec<_>>()
                .join(r#"<BR ALIGN="LEFT"/>"#),
        );
    }
    s.push_str(r#"<BR ALIGN="LEFT"/></TD></TR>"#);
    for (k, item) in n.items.iter().enumerate() {
        match item {
            Item::Heading(text) => s.push_str(&format!(
                r#"<TR><TD ALIGN="LEFT" BALIGN="LEFT"><I>{}</I></TD></TR>"#,
                html_lines(text, WRAP_ITEM)
            )),
            Item::Entry { text, detail, fill } => {
                let bg = fill
                    .map(|f| format!(r#" BGCOLOR="{f}""#))
                    .unwrap_or_default();
                s.push_str(&format!(
                    r#"<TR><TD PORT="i{k}" ALIGN="LEFT" BALIGN="LEFT"{bg}>{}"#,
                    html_lines(text, WRAP_ITEM)
                ));
                if !detail.is_empty() {
                    s.push_str(&format!(
                        r##"<FONT COLOR="#444444">{}</FONT>"##,
                        html_lines(detail, WRAP_ITEM + 4)
                    ));
                }
                s.push_str("</TD></TR>");
            }
        }
    }
    s.push_str("</TABLE>>");
    s
}

fn node_stmt(n: &ChartNode) -> Stmt {
    if let Shape::Column { dashed } = n.shape {
        let mut attributes = vec![
            Attribute(Id::Plain("label".into()), Id::Html(column_label(n, dashed))),
            plain("shape", "none"),
            plain("margin", "0"),
        ];
        if !n.tooltip.is_empty() {
            attributes.push(attr("tooltip", &n.tooltip));
        }
        return Stmt::Node(Node::new(NodeId(Id::Plain(n.id.clone()), None), attributes));
    }
    let (shape, style) = match n.shape {
        Shape::Start => ("oval", "filled"),
        Shape::Question => ("diamond", "filled"),
        Shape::Level => ("box", "rounded,filled,bold"),
        Shape::Judgement => ("box", "rounded,filled,bold,dashed"),
        Shape::Step | Shape::Column { .. } => ("box", "filled"),
        // A route decision is a box like the documents' own, rounded and
        // bold: a diamond around this much text would take three times
        // the room.
        Shape::Decision => ("box", "rounded,filled,bold"),
        Shape::Outcome => ("box", "rounded,filled"),
        Shape::Note => ("note", "filled"),
    };
    let mut attributes = vec![
        attr("label", &box_lines(&n.label).join("\n")),
        plain("shape", shape),
        attr("style", style),
        attr("fillcolor", n.fill),
    ];
    if n.shape == Shape::Outcome {
        // Where a route ends: a double outline.
        attributes.push(plain("peripheries", "2"));
    }
    if !n.tooltip.is_empty() {
        attributes.push(attr("tooltip", &n.tooltip));
    }
    Stmt::Node(Node::new(NodeId(Id::Plain(n.id.clone()), None), attributes))
}

/// How wide, in characters, the title lines are wrapped.
pub const WRAP_TITLE: usize = 150;
/// How wide a cluster's title is wrapped: a cluster is at least as wide as
/// its title, so a long one would widen the route.
pub const WRAP_CLUSTER: usize = 50;

/// The attributes every picture starts with: its title at the top, the
/// font, and the spacing; `edge` adds to the edges' defaults.
pub(crate) fn graph_defaults(title: &str, edge: Vec<Attribute>) -> Vec<Stmt> {
    let mut edges = vec![
        attr("fontname", "Helvetica"),
        attr("fontsize", &FONT.to_string()),
    ];
    edges.extend(edge);
    vec![
        Stmt::GAttribute(GraphAttributes::Graph(vec![
            attr("label", &wrap(title, WRAP_TITLE).join("\n")),
            plain("labelloc", "t"),
            attr("fontsize", &FONT_TITLE.to_string()),
            attr("fontname", "Helvetica"),
            plain("rankdir", "TB"),
            plain("nodesep", "0.08"),
            plain("ranksep", "0.12"),
            plain("newrank", "true"),
        ])),
        Stmt::GAttribute(GraphAttributes::Node(vec![
            attr("fontname", "Helvetica"),
            attr("fontsize", &FONT.to_string()),
            attr("margin", "0.05,0.03"),
        ])),
        Stmt::GAttribute(GraphAttributes::Edge(edges)),
    ]
}

/// The picture as a graphviz-rust graph.
pub fn to_graph(chart: &Flowchart) -> Graph {
    let mut stmts = graph_defaults(&chart.title, vec![attr("color", "#555555")]);
    stmts.extend(
        chart
            .nodes
            .iter()
            .filter(|n| n.cluster.is_none())
            .map(node_stmt),
    );
    for (ci, title) in chart.clusters.iter().enumerate() {
        let mut inner = vec![
            Stmt::Attribute(attr("label", &wrap(title, WRAP_CLUSTER).join("\n"))),
            Stmt::Attribute(attr("style", "rounded")),
            Stmt::Attribute(attr("color", "#999999")),
            Stmt::Attribute(attr("fontsize", &FONT_HEAD.to_string())),
        ];
        inner.extend(
            chart
                .nodes
                .iter()
                .filter(|n| n.cluster == Some(ci))
                .map(node_stmt),
        );
        stmts.push(Stmt::Subgraph(Subgraph {
            id: Id::Plain(format!("cluster_{ci}")),
            stmts: inner,
        }));
    }
    // The levels side by side, least serious on the left, then the
    // procedures and the settings without a route.
    let row: Vec<Vertex> = chart
        .nodes
        .iter()
        .filter(|n| {
            n.cluster.is_none()
                && matches!(
                    n.shape,
                    Shape::Level | Shape::Judgement | Shape::Column { .. }
                )
        })
        .map(|n| Vertex::N(NodeId(Id::Plain(n.id.clone()), None)))
        .collect();
    if !row.is_empty() {
        let mut inner = vec![Stmt::Attribute(plain("rank", "same"))];
        inner.extend(row.iter().map(|v| match v {
            Vertex::N(id) => Stmt::Node(Node::new(id.clone(), Vec::new())),
            Vertex::S(s) => Stmt::Subgraph(s.clone()),
        }));
        if row.len() > 1 {
            inner.push(Stmt::Edge(Edge {
                ty: EdgeTy::Chain(row),
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
            let name = if e.at_tail { "taillabel" } else { "label" };
            attributes.push(attr(name, &wrap(&e.label, WRAP).join("\n")));
        }
        if e.at_tail {
            attributes.push(plain("labeldistance", "2"));
            attributes.push(plain("labelangle", "30"));
        }
        if e.dashed {
            attributes.push(attr("style", "dashed"));
        }
        let from = NodeId(
            Id::Plain(chart.nodes[e.from].id.clone()),
            e.from_item
                .map(|k| Port(Some(Id::Plain(format!("i{k}"))), Some("s".into()))),
        );
        let to = NodeId(Id::Plain(chart.nodes[e.to].id.clone()), None);
        stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(Vertex::N(from), Vertex::N(to)),
            attributes,
        }));
    }
    for &(a, b) in &chart.below {
        let v = |i: usize| Vertex::N(NodeId(Id::Plain(chart.nodes[i].id.clone()), None));
        stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(v(a), v(b)),
            attributes: vec![plain("style", "invis")],
        }));
    }
    Graph::DiGraph {
        id: Id::Escaped(quoted(&chart.id)),
        strict: false,
        stmts,
    }
}

/// The picture as DOT text, ending with a newline.
pub fn to_dot(chart: &Flowchart) -> String {
    let mut ctx = PrinterContext::default();
    let mut out = to_graph(chart).print(&mut ctx);
    out.push('\n');
    out
}
