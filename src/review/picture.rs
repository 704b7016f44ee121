//! The diff flowchart: the new version's picture with what the old version
//! had and the new one dropped drawn back in, every element marked by what
//! the revision did to it, so a review group sees a change where it sits in
//! the protocol rather than in a list.
//!
//! It draws what the protocol picture draws ([`crate::emit::dot::picture`]):
//! the levels side by side, each listing the rules that give it (and here
//! also its document examples, since moving an example is a change a review
//! group approves), the procedures, and each route as a cluster of its
//! steps with the links between them and from the levels, rules and
//! procedures that start it. Elements of other kinds (questions, contacts,
//! the header) have no place in that picture; they are listed in a column
//! of their own so that the picture never hides a change.
//!
//! Both sides are rule packs and the changes are a [`Review`]'s, so the
//! picture says exactly what the reports say. Each [`Mark`] has a colour,
//! a line style and a marker in the label, so the picture reads in black
//! and white and to a reader who does not tell red from green; a legend
//! says which is which. The result is DOT text (written with
//! graphviz-rust and the protocol picture's own escaping), which the
//! command lays out with Graphviz; every text from either pack is escaped.

use std::collections::HashMap;

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, Id, Node, NodeId, Port, Stmt, Subgraph, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};
use serde_json::Value;

use super::{Change, ChangeKind, ElementKind, Review};
use crate::emit::dot::{
    FONT_HEAD, WRAP_CLUSTER, WRAP_ITEM, attr, box_lines, graph_defaults, html, html_lines, plain,
    quoted, wrap,
};
use crate::emit::pack::{self, RulePack};

/// What the revision did to an element, as the picture shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mark {
    /// Only the new version has it.
    Added,
    /// Only the old version had it: drawn dashed, its text struck through.
    Removed,
    /// Something that decides changed (a condition, a level, a link).
    Changed,
    /// The same content under a new id; its label says the old one.
    Renamed,
    /// Only what people read changed (titles, texts, citations).
    Wording,
    Unchanged,
}

impl Mark {
    /// Every mark, in the legend's order.
    pub const ALL: [Mark; 6] = [
        Mark::Added,
        Mark::Removed,
        Mark::Changed,
        Mark::Renamed,
        Mark::Wording,
        Mark::Unchanged,
    ];

    /// The colour of the outline and the marker.
    pub fn colour(self) -> &'static str {
        match self {
            Mark::Added => "#1a7f37",
            Mark::Removed => "#cf222e",
            Mark::Changed => "#b35900",
            Mark::Renamed => "#0969da",
            Mark::Wording => "#b08800",
            Mark::Unchanged => "#8c959f",
        }
    }

    /// The fill behind the element.
    pub fn fill(self) -> &'static str {
        match self {
            Mark::Added => "#dafbe1",
            Mark::Removed => "#ffebe9",
            Mark::Changed => "#ffe2b8",
            Mark::Renamed => "#ddf4ff",
            Mark::Wording => "#fff8d6",
            Mark::Unchanged => "#ffffff",
        }
    }

    /// The marker that starts the element's label: the cue that needs no
    /// colour.
    pub fn marker(self) -> &'static str {
        match self {
            Mark::Added => "+",
            Mark::Removed => "−",
            Mark::Changed => "~",
            Mark::Renamed => "→",
            Mark::Wording => "≈",
            Mark::Unchanged => "",
        }
    }

    /// The outline's line style, the second cue that needs no colour.
    pub fn line(self) -> &'static str {
        match self {
            Mark::Removed => "dashed",
            Mark::Wording => "dotted",
            _ => "solid",
        }
    }

    /// How thick the outline is: changes of substance stand out.
    fn pen(self) -> &'static str {
        match self {
            Mark::Added | Mark::Removed | Mark::Changed | Mark::Renamed => "2",
            Mark::Wording | Mark::Unchanged => "1",
        }
    }

    /// The legend's words.
    pub fn words(self) -> &'static str {
        match self {
            Mark::Added => "added",
            Mark::Removed => "removed (struck through, dashed)",
            Mark::Changed => "changed",
            Mark::Renamed => "renamed (says the old id)",
            Mark::Wording => "changed in wording only (dotted)",
            Mark::Unchanged => "unchanged",
        }
    }

    fn of(change: &Change) -> Mark {
        match change.change {
            ChangeKind::Added => Mark::Added,
            ChangeKind::Removed => Mark::Removed,
            ChangeKind::Renamed => Mark::Renamed,
            ChangeKind::Changed if change.wording_only => Mark::Wording,
            ChangeKind::Changed => Mark::Changed,
        }
    }
}

/// The diff flowchart of a review as DOT text, ending with a newline.
/// `old` and `new` are the two packs `review` compared.
pub fn to_dot(review: &Review, old: &RulePack, new: &RulePack) -> String {
    let mut ctx = PrinterContext::default();
    let mut out = Drawing::new(review, old, new).graph().print(&mut ctx);
    out.push('\n');
    out
}

/// The changes of a review, looked up by element.
struct Changes<'a> {
    /// Elements the new version has: (kind, id, within) as the new version
    /// names them.
    present: HashMap<(ElementKind, &'a str, Option<&'a str>), &'a Change>,
    /// Elements only the old version has, as it names them.
    removed: HashMap<(ElementKind, &'a str, Option<&'a str>), &'a Change>,
    /// Old id to new id, per kind (steps: per new route id).
    renamed: HashMap<(ElementKind, Option<&'a str>, &'a str), &'a str>,
}

impl<'a> Changes<'a> {
    fn of(review: &'a Review) -> Changes<'a> {
        let mut c = Changes {
            present: HashMap::new(),
            removed: HashMap::new(),
            renamed: HashMap::new(),
        };
        for ch in &review.structural.changes {
            let key = (ch.element, ch.id.as_str(), ch.within.as_deref());
            if ch.change == ChangeKind::Removed {
                c.removed.insert(key, ch);
            } else {
                c.present.insert(key, ch);
            }
            if let Some(old) = &ch.old_id {
                let within = (ch.element == ElementKind::Step)
                    .then_some(ch.within.as_deref())
                    .flatten();
                c.renamed
                    .insert((ch.element, within, old.as_str()), ch.id.as_str());
            }
        }
        c
    }

    fn get(&self, kind: ElementKind, id: &str, within: Option<&str>) -> Option<&'a Change> {
        self.present.get(&(kind, id, within)).copied()
    }

    fn mark(&self, kind: ElementKind, id: &str, within: Option<&str>) -> Mark {
        self.get(kind, id, within).map_or(Mark::Unchanged, Mark::of)
    }

    /// The new id of an old element (its own id unless renamed).
    fn new_id<'b>(&'b self, kind: ElementKind, within: Option<&str>, old: &'b str) -> &'b str {
        self.renamed
            .get(&(kind, within, old))
            .copied()
            .unwrap_or(old)
    }

    fn is_removed(&self, kind: ElementKind, id: &str, within: Option<&str>) -> bool {
        self.removed.contains_key(&(kind, id, within))
    }
}

/// A line of a column's list.
enum Row {
    Heading(String),
    Entry {
        mark: Mark,
        text: String,
        detail: String,
        /// Drawn where the element was, not where it is: it moved.
        ghost: bool,
    },
}

/// A box with a heading and a list: a level, the procedures, the other
/// changes, the legend.
struct Column {
    id: String,
    mark: Mark,
    heading: String,
    rows: Vec<Row>,
    tooltip: String,
}

/// A step, decision or outcome drawn.
struct Step {
    id: String,
    kind: pack::NodeKind,
    mark: Mark,
    label: String,
    detail: String,
    tooltip: String,
    cluster: usize,
}

/// Where an edge leaves from or arrives at: a node, or a column's entry.
#[derive(Clone, PartialEq, Eq, Hash)]
struct End {
    node: String,
    port: Option<usize>,
}

struct Drawing<'a> {
    review: &'a Review,
    old: &'a RulePack,
    new: &'a RulePack,
    changes: Changes<'a>,
    columns: Vec<Column>,
    clusters: Vec<(Mark, String)>,
    steps: Vec<Step>,
    /// Edges in the order found, each once, with its mark and label.
    edges: Vec<(End, End, String, Mark)>,
    /// New level id to its column; removed old level id to its column.
    level_at: HashMap<String, usize>,
    old_level_at: HashMap<String, usize>,
    /// The entry each rule and procedure is drawn as, by new id (removed
    /// ones by old id).
    entry_at: HashMap<(ElementKind, bool, String), End>,
}

impl<'a> Drawing<'a> {
    fn new(review: &'a Review, old: &'a RulePack, new: &'a RulePack) -> Drawing<'a> {
        let mut d = Drawing {
            review,
            old,
            new,
            changes: Changes::of(review),
            columns: Vec::new(),
            clusters: Vec::new(),
            steps: Vec::new(),
            edges: Vec::new(),
            level_at: HashMap::new(),
            old_level_at: HashMap::new(),
            entry_at: HashMap::new(),
        };
        d.legend();
        d.levels();
        d.procedures();
        d.others();
        d.routes();
        d
    }

    fn cites(&self, pack: &RulePack, cites: &[pack::Citation]) -> String {
        cites
            .iter()
            .map(|c| {
                if pack.documents.first().is_some_and(|d| d.id == c.document) {
                    c.section.clone()
                } else {
                    format!("{}: {}", c.document, c.section)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn level_title<'p>(pack: &'p RulePack, id: &'p str) -> &'p str {
        pack.levels
            .iter()
            .find(|l| l.id == id)
            .map_or(id, |l| l.title.as_str())
    }

    fn legend(&mut self) {
        let mut rows: Vec<Row> = Mark::ALL
            .iter()
            .map(|&mark| Row::Entry {
                mark,
                text: mark.words().into(),
                detail: String::new(),
                ghost: false,
            })
            .collect();
        rows.push(Row::Entry {
            mark: Mark::Changed,
            text: "moved away: where it was before".into(),
            detail: String::new(),
            ghost: true,
        });
        rows.push(Row::Heading(
            "Links: bold with + for a new one, dashed with − for one removed".into(),
        ));
        self.columns.push(Column {
            id: "legend".into(),
            mark: Mark::Unchanged,
            heading: "Legend".into(),
            rows,
            tooltip: String::new(),
        });
    }

    /// A level column for each of the new version's levels, then one for
    /// each level it removed.
    fn levels(&mut self) {
        let (new, old) = (self.new, self.old);
        for l in &new.levels {
            let change = self.changes.get(ElementKind::Level, &l.id, None);
            let old_id = change
                .and_then(|c| c.old_id.clone())
                .unwrap_or(l.id.clone());
            let old = self.old.levels.iter().find(|o| o.id == old_id);
            let mark = change.map_or(Mark::Unchanged, Mark::of);
            let mut heading = format!("{} {}", mark.marker(), l.title);
            heading.push_str(&format!("\nPolice: {}", police_words(self.new, &l.police)));
            if let Some(c) = change {
                let d = change_detail(c, self.old);
                if !d.is_empty() {
                    heading.push('\n');
                    heading.push_str(&d);
                }
            }
            let rows = self.level_rows(Some(&l.id), old.map(|o| o.id.as_str()));
            self.level_at.insert(l.id.clone(), self.columns.len());
            self.columns.push(Column {
                id: format!("level_{}", self.columns.len()),
                mark,
                heading,
                rows,
                tooltip: self.cites(self.new, &l.cites),
            });
        }
        for l in &old.levels {
            if !self.changes.is_removed(ElementKind::Level, &l.id, None) {
                continue;
            }
            let heading = format!(
                "{} {}\nPolice: {}",
                Mark::Removed.marker(),
                l.title,
                police_words(self.old, &l.police)
            );
            let rows = self.level_rows(None, Some(&l.id));
            self.old_level_at.insert(l.id.clone(), self.columns.len());
            self.columns.push(Column {
                id: format!("level_{}", self.columns.len()),
                mark: Mark::Removed,
                heading,
                rows,
                tooltip: self.cites(self.old, &l.cites),
            });
        }
    }

    /// A level's rules and examples: those the new version gives it, those
    /// that moved away from it, and those removed from it.
    fn level_rows(&mut self, new_id: Option<&str>, old_id: Option<&str>) -> Vec<Row> {
        let column = format!("level_{}", self.columns.len());
        let mut rows = vec![Row::Heading("Rules that give this level:".into())];
        let heading_only = rows.len();
        if let Some(level) = new_id {
            for r in self.new.rules.iter().filter(|r| r.level == level) {
                let change = self.changes.get(ElementKind::Rule, &r.id, None);
                let mark = change.map_or(Mark::Unchanged, Mark::of);
                let mut detail = vec![];
                if r.title.is_some() {
                    detail.push(format!("if {}", r.when_text));
                }
                if !r.police.is_empty() {
                    detail.push(format!("Police: {}", police_words(self.new, &r.police)));
                }
                if let Some(c) = change {
                    detail.push(change_detail(c, self.old));
                }
                self.entry_at.insert(
                    (ElementKind::Rule, true, r.id.clone()),
                    End {
                        node: column.clone(),
                        port: Some(rows.len()),
                    },
                );
                rows.push(Row::Entry {
                    mark,
                    text: self.rule_text(self.new, r),
                    detail: join_lines(&detail),
                    ghost: false,
                });
            }
        }
        if let Some(level) = old_id {
            for r in self.old.rules.iter().filter(|r| r.level == level) {
                if self.changes.is_removed(ElementKind::Rule, &r.id, None) {
                    let detail = if r.title.is_some() {
                        format!("if {}", r.when_text)
                    } else {
                        String::new()
                    };
                    self.entry_at.insert(
                        (ElementKind::Rule, false, r.id.clone()),
                        End {
                            node: column.clone(),
                            port: Some(rows.len()),
                        },
                    );
                    rows.push(Row::Entry {
                        mark: Mark::Removed,
                        text: self.rule_text(self.old, r),
                        detail,
                        ghost: false,
                    });
                    continue;
                }
                let id = self.changes.new_id(ElementKind::Rule, None, &r.id);
                let now = self.new.rules.iter().find(|n| n.id == id);
                if let Some(now) = now.filter(|n| Some(n.level.as_str()) != new_id) {
                    rows.push(Row::Entry {
                        mark: Mark::Changed,
                        text: format!(
                            "{}: moved to {}",
                            r.title.as_deref().unwrap_or(&r.id),
                            Self::level_title(self.new, &now.level)
                        ),
                        detail: String::new(),
                        ghost: true,
                    });
                }
            }
        }
        if rows.len() == heading_only {
            rows.pop();
        }
        let examples_at = rows.len();
        rows.push(Row::Heading("Examples in the document:".into()));
        if let Some(level) = new_id
            && let Some(l) = self.new.levels.iter().find(|l| l.id == level)
        {
            for e in &l.examples {
                let change = self
                    .changes
                    .get(ElementKind::Example, &e.title, Some(level));
                let mark = change.map_or(Mark::Unchanged, Mark::of);
                let mut detail = Vec::new();
                if let Some(g) = &e.given_text {
                    detail.push(format!("given {g}"));
                }
                if let Some(c) = change {
                    detail.push(change_detail(c, self.old));
                }
                let cites = self.cites(self.new, &e.cites);
                rows.push(Row::Entry {
                    mark,
                    text: bracketed(&e.title, &cites),
                    detail: join_lines(&detail),
                    ghost: false,
                });
            }
        }
        if let Some(level) = old_id
            && let Some(l) = self.old.levels.iter().find(|l| l.id == level)
        {
            for e in &l.examples {
                if self
                    .changes
                    .is_removed(ElementKind::Example, &e.title, Some(level))
                {
                    let cites = self.cites(self.old, &e.cites);
                    rows.push(Row::Entry {
                        mark: Mark::Removed,
                        text: bracketed(&e.title, &cites),
                        detail: e
                            .given_text
                            .as_ref()
                            .map(|g| format!("given {g}"))
                            .unwrap_or_default(),
                        ghost: false,
                    });
                    continue;
                }
                // Moved: the change names the level it left.
                let moved = self.review.structural.changes.iter().find(|c| {
                    c.element == ElementKind::Example
                        && c.old_within.as_deref() == Some(level)
                        && (c.old_id.as_deref() == Some(&e.title)
                            || (c.old_id.is_none() && c.id == e.title))
                });
                if let Some(c) = moved {
                    let to = c.within.as_deref().unwrap_or_default();
                    rows.push(Row::Entry {
                        mark: Mark::Changed,
                        text: format!("{}: moved to {}", e.title, Self::level_title(self.new, to)),
                        detail: String::new(),
                        ghost: true,
                    });
                }
            }
        }
        if rows.len() == examples_at + 1 {
            rows.pop();
        }
        rows
    }

    fn rule_text(&self, pack: &RulePack, r: &pack::Rule) -> String {
        let strength = match r.strength {
            pack::Strength::Must => "must",
            pack::Strength::Should => "should",
            pack::Strength::May => "may",
        };
        let cites = self.cites(pack, &r.cites);
        let words = if cites.is_empty() {
            strength.to_string()
        } else {
            format!("{strength} · {cites}")
        };
        let title = r
            .title
            .clone()
            .unwrap_or_else(|| format!("if {}", r.when_text));
        format!("{title} [{words}]")
    }

    fn procedures(&mut self) {
        if self.new.procedures.is_empty() && self.old.procedures.is_empty() {
            return;
        }
        let column = "procedures".to_string();
        let mut rows = vec![Row::Heading("Whatever the level, if:".into())];
        let entry = |d: &Self, pack: &RulePack, p: &pack::Procedure| {
            let mut detail = vec![format!("if {}", p.when_text)];
            let cites = d.cites(pack, &p.cites);
            if !cites.is_empty() {
                detail.push(cites);
            }
            if !p.police.is_empty() {
                detail.push(format!("Police: {}", police_words(pack, &p.police)));
            }
            detail
        };
        let (new, old) = (self.new, self.old);
        for p in &new.procedures {
            let change = self.changes.get(ElementKind::Procedure, &p.id, None);
            let mut detail = entry(self, self.new, p);
            if let Some(c) = change {
                detail.push(change_detail(c, self.old));
            }
            self.entry_at.insert(
                (ElementKind::Procedure, true, p.id.clone()),
                End {
                    node: column.clone(),
                    port: Some(rows.len()),
                },
            );
            rows.push(Row::Entry {
                mark: change.map_or(Mark::Unchanged, Mark::of),
                text: p.title.clone(),
                detail: join_lines(&detail),
                ghost: false,
            });
        }
        for p in &old.procedures {
            if !self.changes.is_removed(ElementKind::Procedure, &p.id, None) {
                continue;
            }
            self.entry_at.insert(
                (ElementKind::Procedure, false, p.id.clone()),
                End {
                    node: column.clone(),
                    port: Some(rows.len()),
                },
            );
            rows.push(Row::Entry {
                mark: Mark::Removed,
                text: p.title.clone(),
                detail: join_lines(&entry(self, self.old, p)),
                ghost: false,
            });
        }
        self.columns.push(Column {
            id: column,
            mark: Mark::Unchanged,
            heading: "Procedures that run alongside the level".into(),
            rows,
            tooltip: String::new(),
        });
    }

    /// The changes to elements the picture has no place for, so that none
    /// goes unseen.
    fn others(&mut self) {
        let drawn = [
            ElementKind::Level,
            ElementKind::Example,
            ElementKind::Rule,
            ElementKind::Procedure,
            ElementKind::Route,
            ElementKind::Step,
        ];
        let rest: Vec<&Change> = self
            .review
            .structural
            .changes
            .iter()
            .filter(|c| !drawn.contains(&c.element))
            .collect();
        if rest.is_empty() {
            return;
        }
        let mut rows = Vec::new();
        for c in rest.iter().take(OTHERS) {
            let mut text = format!("{} {}", c.element.word(), c.id);
            if let Some(w) = &c.within {
                text.push_str(&format!(" (in {w})"));
            }
            if let Some(t) = c.title.as_ref().filter(|t| **t != c.id) {
                text.push_str(&format!(": {}", shortened(t, OTHER_TITLE)));
            }
            let detail = match c.change {
                ChangeKind::Changed | ChangeKind::Renamed => change_detail(c, self.old),
                ChangeKind::Added | ChangeKind::Removed => String::new(),
            };
            rows.push(Row::Entry {
                mark: Mark::of(c),
                text,
                detail,
                ghost: false,
            });
        }
        if rest.len() > OTHERS {
            rows.push(Row::Heading(format!(
                "and {} more: see the report",
                rest.len() - OTHERS
            )));
        }
        self.columns.push(Column {
            id: "others".into(),
            mark: Mark::Unchanged,
            heading: "Other changes (not drawn above)".into(),
            rows,
            tooltip: String::new(),
        });
    }

    /// Each route as a cluster: the new version's routes, with the steps
    /// and links the old one had and this one dropped, then the routes it
    /// removed. Steps shared through a fragment are drawn once, in a
    /// cluster of their own.
    fn routes(&mut self) {
        let mut shared: HashMap<(bool, String, String), usize> = HashMap::new();
        let mut fragment_cluster: HashMap<(bool, String), usize> = HashMap::new();
        let new = self.new;
        for r in &new.routes {
            let change = self.changes.get(ElementKind::Route, &r.id, None);
            let mark = change.map_or(Mark::Unchanged, Mark::of);
            let old_id = change
                .and_then(|c| c.old_id.clone())
                .unwrap_or(r.id.clone());
            let old = (mark != Mark::Added)
                .then(|| self.old.routes.iter().find(|o| o.id == old_id))
                .flatten();
            let cluster = self.cluster(self.new, r, mark, change);
            let mut at: HashMap<&str, usize> = HashMap::new();
            for n in &r.nodes {
                let node_mark = if mark == Mark::Added {
                    Mark::Added
                } else {
                    self.changes.mark(ElementKind::Step, &n.id, Some(&r.id))
                };
                let i = self.step(
                    true,
                    self.new,
                    n,
                    node_mark,
                    cluster,
                    &mut shared,
                    &mut fragment_cluster,
                );
                if let Some(c) = self.changes.get(ElementKind::Step, &n.id, Some(&r.id))
                    && c.change != ChangeKind::Added
                {
                    let d = change_detail(c, self.old);
                    let s = &mut self.steps[i];
                    if s.detail.is_empty() {
                        s.detail = d;
                    }
                }
                at.insert(&n.id, i);
            }
            let mut old_at: HashMap<&str, usize> = HashMap::new();
            if let Some(o) = old {
                for n in &o.nodes {
                    let id = self.changes.new_id(ElementKind::Step, Some(&r.id), &n.id);
                    if let Some(&i) = at.get(id)
                        && !self
                            .changes
                            .is_removed(ElementKind::Step, &n.id, Some(&o.id))
                    {
                        old_at.insert(&n.id, i);
                        continue;
                    }
                    if let Some(i) = kept_shared(&shared, n) {
                        old_at.insert(&n.id, i);
                        continue;
                    }
                    let i = self.step(
                        false,
                        self.old,
                        n,
                        Mark::Removed,
                        cluster,
                        &mut shared,
                        &mut fragment_cluster,
                    );
                    old_at.insert(&n.id, i);
                }
            }
            let new_edges = self.route_edges(true, r, &at);
            let old_edges = old
                .map(|o| self.route_edges(false, o, &old_at))
                .unwrap_or_default();
            for e in &new_edges {
                let m = if mark == Mark::Added || (old.is_some() && !old_edges.contains(e)) {
                    Mark::Added
                } else {
                    Mark::Unchanged
                };
                self.edge(e.clone(), m);
            }
            for e in old_edges {
                if !new_edges.contains(&e) {
                    self.edge(e, Mark::Removed);
                }
            }
        }
        let old = self.old;
        for r in &old.routes {
            if !self.changes.is_removed(ElementKind::Route, &r.id, None) {
                continue;
            }
            let cluster = self.cluster(self.old, r, Mark::Removed, None);
            let mut at: HashMap<&str, usize> = HashMap::new();
            for n in &r.nodes {
                if let Some(i) = kept_shared(&shared, n) {
                    at.insert(&n.id, i);
                    continue;
                }
                let i = self.step(
                    false,
                    self.old,
                    n,
                    Mark::Removed,
                    cluster,
                    &mut shared,
                    &mut fragment_cluster,
                );
                at.insert(&n.id, i);
            }
            for e in self.route_edges(false, r, &at) {
                self.edge(e, Mark::Removed);
            }
        }
    }

    fn cluster(
        &mut self,
        pack: &RulePack,
        r: &pack::Route,
        mark: Mark,
        change: Option<&Change>,
    ) -> usize {
        let settings: Vec<&str> = r
            .settings
            .iter()
            .map(|s| {
                pack.settings
                    .iter()
                    .find(|t| t.id == *s)
                    .map_or(s.as_str(), |t| t.title.as_str())
            })
            .collect();
        let mut title = format!(
            "{} {}\nfor: {}",
            mark.marker(),
            r.title,
            settings.join("; ")
        );
        if let Some(c) = change {
            let d = change_detail(c, self.old);
            if !d.is_empty() {
                title.push('\n');
                title.push_str(&d);
            }
        }
        self.clusters.push((mark, title.trim_start().to_string()));
        self.clusters.len() - 1
    }

    /// Draw a route node (once, for a fragment's), and say which step it
    /// is. `is_new` says which pack it comes from.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        is_new: bool,
        pack: &RulePack,
        n: &pack::RouteNode,
        mark: Mark,
        cluster: usize,
        shared: &mut HashMap<(bool, String, String), usize>,
        fragment_cluster: &mut HashMap<(bool, String), usize>,
    ) -> usize {
        let key = n
            .fragment
            .as_ref()
            .map(|f| (is_new, f.clone(), n.id.clone()));
        if let Some(k) = &key
            && let Some(&i) = shared.get(k)
        {
            // A fragment's step is changed if any route that uses it shows
            // it changed; added only if every one does.
            let s = &mut self.steps[i];
            if s.mark != mark && rank(mark) > rank(s.mark) {
                s.mark = mark;
            }
            return i;
        }
        let cluster = match &n.fragment {
            Some(f) => *fragment_cluster
                .entry((is_new, f.clone()))
                .or_insert_with(|| {
                    let m = if is_new {
                        Mark::Unchanged
                    } else {
                        Mark::Removed
                    };
                    self.clusters.push((
                        m,
                        format!("{} Shared steps: {f}", m.marker())
                            .trim_start()
                            .into(),
                    ));
                    self.clusters.len() - 1
                }),
            None => cluster,
        };
        let mut label = String::new();
        if let Some(c) = &n.only_when_text {
            label.push_str(&format!("Only if {c}:\n"));
        }
        label.push_str(&n.text);
        let mut tooltip = vec![n.id.clone()];
        let cites = self.cites(pack, &n.cites);
        if !cites.is_empty() {
            tooltip.push(format!("Source: {cites}"));
        }
        tooltip.extend(n.notes.iter().cloned());
        let id = format!("{}{}", if is_new { "n" } else { "o" }, self.steps.len());
        self.steps.push(Step {
            id,
            kind: n.kind,
            mark,
            label,
            detail: String::new(),
            tooltip: tooltip.join("\n"),
            cluster,
        });
        let i = self.steps.len() - 1;
        if let Some(k) = key {
            shared.insert(k, i);
        }
        i
    }

    /// A route's links, with their ends as drawn: from step to step, each
    /// decision's branches (labelled with the answer), and from each level,
    /// rule and procedure that starts it. Ends in the old version are read
    /// through the renames, so a link both versions have is the same.
    fn route_edges(
        &self,
        is_new: bool,
        r: &pack::Route,
        at: &HashMap<&str, usize>,
    ) -> Vec<(End, End, String)> {
        let pack = if is_new { self.new } else { self.old };
        let step = |id: &str| {
            at.get(id).map(|&i| End {
                node: self.steps[i].id.clone(),
                port: None,
            })
        };
        let mut out = Vec::new();
        for n in &r.nodes {
            let Some(from) = step(&n.id) else { continue };
            if let Some(next) = &n.next
                && let Some(to) = step(next)
            {
                out.push((from.clone(), to, String::new()));
            }
            for b in &n.branches {
                let answer = n
                    .answers
                    .iter()
                    .find(|a| a.id == b.answer)
                    .map_or(b.answer.as_str(), |a| a.title.as_str());
                if let Some(to) = step(&b.to) {
                    out.push((from.clone(), to, answer.to_string()));
                }
            }
        }
        for s in &r.starts {
            let Some(to) = step(&s.node) else { continue };
            let from = if let Some(l) = &s.level {
                self.level_end(is_new, l)
            } else if let Some(p) = &s.procedure {
                self.entry_end(is_new, ElementKind::Procedure, p)
            } else if let Some(rule) = &s.rule {
                self.entry_end(is_new, ElementKind::Rule, rule).or_else(|| {
                    let level = &pack.rules.iter().find(|x| x.id == *rule)?.level;
                    self.level_end(is_new, level)
                })
            } else {
                None
            };
            if let Some(from) = from {
                out.push((from, to, String::new()));
            }
        }
        out
    }

    fn level_end(&self, is_new: bool, id: &str) -> Option<End> {
        let column = if is_new {
            self.level_at.get(id)
        } else {
            self.old_level_at.get(id).or_else(|| {
                self.level_at
                    .get(self.changes.new_id(ElementKind::Level, None, id))
            })
        }?;
        Some(End {
            node: self.columns[*column].id.clone(),
            port: None,
        })
    }

    fn entry_end(&self, is_new: bool, kind: ElementKind, id: &str) -> Option<End> {
        if is_new {
            return self.entry_at.get(&(kind, true, id.to_string())).cloned();
        }
        self.entry_at
            .get(&(kind, false, id.to_string()))
            .or_else(|| {
                let now = self.changes.new_id(kind, None, id);
                self.entry_at.get(&(kind, true, now.to_string()))
            })
            .cloned()
    }

    /// Record an edge once: one drawn by several routes (inside a shared
    /// fragment) is unchanged if any of them keeps it.
    fn edge(&mut self, (from, to, label): (End, End, String), mark: Mark) {
        if let Some(e) = self
            .edges
            .iter_mut()
            .find(|e| e.0 == from && e.1 == to && e.2 == label)
        {
            if mark == Mark::Unchanged {
                e.3 = Mark::Unchanged;
            }
            return;
        }
        self.edges.push((from, to, label, mark));
    }

    fn title(&self) -> String {
        let s = &self.review.structural.summary;
        let counts = format!(
            "{} added, {} removed, {} changed ({} in wording only), {} renamed",
            s.added, s.removed, s.changed, s.wording_only, s.renamed
        );
        format!(
            "What {} changes against {}: {}\n{counts}",
            self.review.new.label, self.review.old.label, self.review.new.title
        )
    }

    fn graph(&self) -> Graph {
        let mut stmts = graph_defaults(&self.title(), Vec::new());
        stmts.extend(self.columns.iter().map(column_stmt));
        for (ci, (mark, title)) in self.clusters.iter().enumerate() {
            let mut style = String::from("rounded");
            if *mark == Mark::Removed {
                style.push_str(",dashed");
            }
            let mut inner = vec![
                Stmt::Attribute(attr("label", &wrap(title, WRAP_CLUSTER).join("\n"))),
                Stmt::Attribute(attr("style", &style)),
                Stmt::Attribute(attr(
                    "color",
                    if *mark == Mark::Unchanged {
                        "#999999"
                    } else {
                        mark.colour()
                    },
                )),
                Stmt::Attribute(attr("fontcolor", &text_colour(*mark))),
                Stmt::Attribute(plain("penwidth", mark.pen())),
                Stmt::Attribute(attr("fontsize", &FONT_HEAD.to_string())),
            ];
            inner.extend(self.steps.iter().filter(|s| s.cluster == ci).map(step_stmt));
            stmts.push(Stmt::Subgraph(Subgraph {
                id: Id::Plain(format!("cluster_{ci}")),
                stmts: inner,
            }));
        }
        // The columns side by side: the legend, the levels, the procedures
        // and the other changes.
        let row: Vec<Vertex> = self
            .columns
            .iter()
            .map(|c| Vertex::N(NodeId(Id::Plain(c.id.clone()), None)))
            .collect();
        let mut inner = vec![Stmt::Attribute(plain("rank", "same"))];
        inner.extend(
            self.columns
                .iter()
                .map(|c| Stmt::Node(Node::new(NodeId(Id::Plain(c.id.clone()), None), vec![]))),
        );
        if row.len() > 1 {
            inner.push(Stmt::Edge(Edge {
                ty: EdgeTy::Chain(row),
                attributes: vec![plain("style", "invis")],
            }));
        }
        stmts.push(Stmt::Subgraph(Subgraph {
            id: Id::Plain("columns".into()),
            stmts: inner,
        }));
        for (from, to, label, mark) in &self.edges {
            let mut attributes = vec![
                attr(
                    "color",
                    if *mark == Mark::Unchanged {
                        "#555555"
                    } else {
                        mark.colour()
                    },
                ),
                attr(
                    "style",
                    if *mark == Mark::Added {
                        "bold"
                    } else {
                        mark.line()
                    },
                ),
            ];
            let text = format!("{} {label}", mark.marker());
            let text = text.trim();
            if !text.is_empty() {
                attributes.push(attr("taillabel", text));
                attributes.push(attr("labelfontcolor", &text_colour(*mark)));
                attributes.push(plain("labeldistance", "2"));
                attributes.push(plain("labelangle", "30"));
            }
            let end = |e: &End| {
                NodeId(
                    Id::Plain(e.node.clone()),
                    e.port
                        .map(|k| Port(Some(Id::Plain(format!("i{k}"))), Some("s".into()))),
                )
            };
            stmts.push(Stmt::Edge(Edge {
                ty: EdgeTy::Pair(Vertex::N(end(from)), Vertex::N(end(to))),
                attributes,
            }));
        }
        Graph::DiGraph {
            id: Id::Escaped(quoted(&format!("{}-diff", self.new.protocol.id))),
            strict: false,
            stmts,
        }
    }
}

/// The step drawn for an old route node that is a step of a fragment the
/// new version still draws: a route that stops using shared steps removes
/// its links to them, not the steps.
fn kept_shared(
    shared: &HashMap<(bool, String, String), usize>,
    n: &pack::RouteNode,
) -> Option<usize> {
    let f = n.fragment.as_ref()?;
    shared.get(&(true, f.clone(), n.id.clone())).copied()
}

/// How many changes the column of other changes lists before it refers to
/// the report: a long list would make the picture a report.
const OTHERS: usize = 40;

/// How many characters of a title the column of other changes shows: an
/// accepted finding's title is the compiler's whole message.
const OTHER_TITLE: usize = 100;

fn shortened(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(chars).collect();
        s.push('…');
        s
    }
}

/// Text on a mark's fill: dark enough to read, in the mark's hue.
fn text_colour(mark: Mark) -> String {
    match mark {
        Mark::Unchanged => "#000000".into(),
        Mark::Wording => "#7a5c00".into(),
        m => m.colour().into(),
    }
}

/// Which mark a step drawn once for several routes keeps: the one that
/// says most, except that "added" yields to anything else (a step that one
/// route gains and another keeps was not added to the protocol).
fn rank(mark: Mark) -> u8 {
    match mark {
        Mark::Added => 0,
        Mark::Unchanged => 1,
        Mark::Wording => 2,
        Mark::Renamed => 3,
        Mark::Changed => 4,
        Mark::Removed => 5,
    }
}

fn join_lines(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

fn bracketed(text: &str, cites: &str) -> String {
    if cites.is_empty() {
        text.to_string()
    } else {
        format!("{text} [{cites}]")
    }
}

/// A police response list in words, each with the settings it is for.
fn police_words(pack: &RulePack, list: &[pack::Police]) -> String {
    let title = |id: &str, titles: &[(&str, &str)]| -> String {
        titles
            .iter()
            .find(|(i, _)| *i == id)
            .map_or(id.to_string(), |(_, t)| t.to_string())
    };
    let actors: Vec<(&str, &str)> = pack
        .actors
        .iter()
        .map(|a| (a.id.as_str(), a.title.as_str()))
        .collect();
    let settings: Vec<(&str, &str)> = pack
        .settings
        .iter()
        .map(|s| (s.id.as_str(), s.title.as_str()))
        .collect();
    list.iter()
        .map(|p| {
            let words = match (&p.response, &p.by) {
                (pack::Response::Judgement, Some(a)) => {
                    format!("{} judges whether to involve the police", title(a, &actors))
                }
                (r, _) => crate::model::Response::from(*r).words().to_string(),
            };
            if p.settings.is_empty() {
                words
            } else {
                let names: Vec<String> = p.settings.iter().map(|s| title(s, &settings)).collect();
                format!("{}: {words}", names.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a changed or renamed element's label adds: the old id, where it
/// moved from, and which fields differ (with both values when they are
/// short, as a level's or a link's are).
fn change_detail(change: &Change, old: &RulePack) -> String {
    let mut parts = Vec::new();
    if let Some(id) = &change.old_id {
        parts.push(format!("was {id}"));
    }
    if let Some(from) = &change.old_within {
        parts.push(format!("moved from {}", Drawing::level_title(old, from)));
    }
    if matches!(change.change, ChangeKind::Changed | ChangeKind::Renamed) {
        let fields: Vec<String> = change
            .fields
            .iter()
            .map(|f| match (&f.old, &f.new) {
                (Some(Value::String(o)), Some(Value::String(n)))
                    if o.chars().count() <= 30 && n.chars().count() <= 30 =>
                {
                    format!("{}: {o} → {n}", f.field)
                }
                _ => f.field.replace('_', " "),
            })
            .collect();
        if !fields.is_empty() {
            let what = if change.wording_only {
                "wording"
            } else {
                "changed"
            };
            parts.push(format!("{what}: {}", fields.join("; ")));
        }
    }
    parts.join("\n")
}

/// Lines of text as HTML, struck through for a removed element, each
/// ended by `br`.
fn marked_lines(text: &str, width: usize, mark: Mark, br: &str) -> String {
    wrap(text, width)
        .iter()
        .map(|l| {
            if mark == Mark::Removed {
                format!("<S>{}</S>{br}", html(l))
            } else {
                format!("{}{br}", html(l))
            }
        })
        .collect()
}

const LEFT: &str = r#"<BR ALIGN="LEFT"/>"#;

/// The marker in its colour, bold, then a space.
fn marker_html(mark: Mark) -> String {
    if mark == Mark::Unchanged {
        return String::new();
    }
    format!(
        r#"<FONT COLOR="{}"><B>{}</B></FONT> "#,
        mark.colour(),
        html(mark.marker())
    )
}

/// A column as a Graphviz HTML-like table, like the protocol picture's:
/// the heading, then the list, each entry a cell with a port (`i<k>`) that
/// route starts leave from, outlined and filled by its mark.
fn column_label(c: &Column) -> String {
    let mut s = format!(
        r##"<<TABLE BORDER="{}" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" COLOR="{}" BGCOLOR="#ffffff" STYLE="{}">"##,
        c.mark.pen(),
        if c.mark == Mark::Unchanged {
            "#333333"
        } else {
            c.mark.colour()
        },
        if c.mark == Mark::Removed {
            "dashed"
        } else {
            "rounded"
        }
    );
    let mut head = c.heading.splitn(2, '\n');
    let title = head.next().unwrap_or_default().trim_start();
    s.push_str(&format!(
        r#"<TR><TD BGCOLOR="{}" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="{FONT_HEAD}"><B>{}{}</B></FONT>{LEFT}"#,
        c.mark.fill(),
        marker_html(c.mark),
        strip_marker(title, c.mark, WRAP_ITEM * 10 / 12)
    ));
    if let Some(rest) = head.next() {
        s.push_str(&marked_lines(rest, WRAP_ITEM, c.mark, LEFT));
    }
    s.push_str("</TD></TR>");
    for (k, row) in c.rows.iter().enumerate() {
        match row {
            Row::Heading(text) => s.push_str(&format!(
                r#"<TR><TD ALIGN="LEFT" BALIGN="LEFT"><I>{}</I></TD></TR>"#,
                html_lines(text, WRAP_ITEM)
            )),
            Row::Entry {
                mark,
                text,
                detail,
                ghost,
            } => {
                let (border, style) = if *ghost {
                    ("1", "dashed")
                } else if *mark == Mark::Unchanged {
                    ("0", "solid")
                } else {
                    ("1", mark.line())
                };
                s.push_str(&format!(
                    r#"<TR><TD PORT="i{k}" ALIGN="LEFT" BALIGN="LEFT" BGCOLOR="{}" BORDER="{border}" COLOR="{}" STYLE="{style}">"#,
                    if *ghost { "#ffffff" } else { mark.fill() },
                    mark.colour()
                ));
                s.push_str(&marker_html(*mark));
                let body = marked_lines(text, WRAP_ITEM, *mark, LEFT);
                if *ghost {
                    s.push_str(&format!(r#"<I>{body}</I>"#));
                } else {
                    s.push_str(&body);
                }
                if !detail.is_empty() {
                    s.push_str(&format!(
                        r##"<FONT COLOR="#444444">{}</FONT>"##,
                        marked_lines(detail, WRAP_ITEM + 4, *mark, LEFT)
                    ));
                }
                s.push_str("</TD></TR>");
            }
        }
    }
    s.push_str("</TABLE>>");
    s
}

/// A heading's first line as HTML, without the marker that
/// [`marker_html`] draws in colour.
fn strip_marker(title: &str, mark: Mark, width: usize) -> String {
    let title = title
        .strip_prefix(mark.marker())
        .map_or(title, str::trim_start);
    let lines: Vec<String> = wrap(title, width)
        .iter()
        .map(|l| {
            if mark == Mark::Removed {
                format!("<S>{}</S>", html(l))
            } else {
                html(l)
            }
        })
        .collect();
    lines.join("<BR/>")
}

fn column_stmt(c: &Column) -> Stmt {
    let mut attributes = vec![
        Attribute(Id::Plain("label".into()), Id::Html(column_label(c))),
        plain("shape", "none"),
        plain("margin", "0"),
    ];
    if !c.tooltip.is_empty() {
        attributes.push(attr("tooltip", &c.tooltip));
    }
    Stmt::Node(Node::new(NodeId(Id::Plain(c.id.clone()), None), attributes))
}

fn step_stmt(s: &Step) -> Stmt {
    let mut body = marker_html(s.mark);
    let mut lines = box_lines(&s.label);
    if !s.detail.is_empty() {
        lines.extend(wrap(&s.detail, WRAP_CLUSTER));
    }
    let text = lines.len()
        - if s.detail.is_empty() {
            0
        } else {
            wrap(&s.detail, WRAP_CLUSTER).len()
        };
    let line = |l: &str| {
        if s.mark == Mark::Removed {
            format!("<S>{}</S>", html(l))
        } else {
            html(l)
        }
    };
    let shown: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i < text {
                line(l)
            } else {
                format!(r##"<FONT COLOR="#444444">{}</FONT>"##, line(l))
            }
        })
        .collect();
    body.push_str(&shown.join("<BR/>"));
    let mut style = vec!["filled"];
    if s.kind != pack::NodeKind::Step {
        style.push("rounded");
    }
    if s.kind == pack::NodeKind::Decision {
        style.push("bold");
    }
    if s.mark.line() != "solid" {
        style.push(s.mark.line());
    }
    let mut attributes = vec![
        // In a tag, as DOT readers other than Graphviz (graphviz-rust's
        // parser among them) take an HTML label to start with one.
        Attribute(
            Id::Plain("label".into()),
            Id::Html(format!(r#"<<FONT POINT-SIZE="14">{body}</FONT>>"#)),
        ),
        plain("shape", "box"),
        attr("style", &style.join(",")),
        attr("fillcolor", s.mark.fill()),
        attr(
            "color",
            if s.mark == Mark::Unchanged {
                "#333333"
            } else {
                s.mark.colour()
            },
        ),
        plain("penwidth", s.mark.pen()),
    ];
    if s.kind == pack::NodeKind::Outcome {
        attributes.push(plain("peripheries", "2"));
    }
    if !s.tooltip.is_empty() {
        attributes.push(attr("tooltip", &s.tooltip));
    }
    Stmt::Node(Node::new(NodeId(Id::Plain(s.id.clone()), None), attributes))
}
