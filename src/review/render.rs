//! A review written for people: on a terminal ([`human`]), or as Markdown
//! for a review meeting's papers ([`markdown`]).
//!
//! Everything a protocol or pack says (titles, ids, conditions, notes,
//! labels) is written by people Carepath does not control. On the terminal
//! it passes through [`terminal_safe`], so escape sequences and
//! bidirectional overrides are shown, not obeyed; in Markdown it is also
//! escaped, so a title cannot become a link, a heading, HTML or a new table
//! cell.

use std::fmt::Write;

use serde_json::Value;

use super::authorities::{Comparison, Handled as AuthorityHandled, Row};
use super::behaviour::{Behaviour, Direction, Handled, HandlingKind, Region, Witness};
use super::findings::{Finding, Findings};
use super::{Change, ChangeKind, ElementKind, FieldChange, Review, Side};
use crate::diagnostic::text::terminal_safe;
use crate::emit::pack::{Citation, NoLevel};
use crate::eval::response_words;

/// How to write for a terminal.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Colour changes with ANSI escapes: added green, removed red, changed
    /// yellow, renamed cyan, headings bold.
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The heading a kind is listed under; parts are listed under their whole.
fn heading(kind: ElementKind) -> &'static str {
    match kind {
        ElementKind::Header => "Header",
        ElementKind::Policy => "Policy",
        ElementKind::Document => "Documents",
        ElementKind::Setting => "Settings",
        ElementKind::Question | ElementKind::Option => "Questions",
        ElementKind::Level => "Levels",
        ElementKind::Example => "Examples",
        ElementKind::Rule => "Rules",
        ElementKind::Procedure => "Procedures",
        ElementKind::Route | ElementKind::Step => "Routes",
        ElementKind::Factors => "Factors",
        ElementKind::Checklist | ElementKind::ChecklistItem => "Checklists",
        ElementKind::Actor => "Actors",
        ElementKind::Contact => "Contacts",
        ElementKind::AcceptedFinding => "Accepted findings",
    }
}

fn marker(change: ChangeKind) -> (&'static str, &'static str) {
    match change {
        ChangeKind::Added => ("+", "32"),
        ChangeKind::Removed => ("-", "31"),
        ChangeKind::Changed => ("~", "33"),
        ChangeKind::Renamed => (">", "36"),
    }
}

fn summary_line(review: &Review) -> String {
    let s = &review.structural.summary;
    if s.total() == 0 {
        return "no structural changes".to_string();
    }
    format!(
        "{} changed ({} in wording only), {} added, {} removed, {} renamed",
        s.changed, s.wording_only, s.added, s.removed, s.renamed
    )
}

/// What a side is, in one line.
fn side_line(side: &Side) -> String {
    let mut s = format!("{} ({}", side.label, side.protocol);
    if let Some(v) = &side.version {
        let _ = write!(s, ", version {v}");
    }
    s.push(')');
    s
}

/// Citations as sections (`6.18, 6.23`), naming the document too when the
/// citations of a change come from more than one.
fn cites_text(cites: &[Citation], with_document: bool) -> String {
    cites
        .iter()
        .map(|c| {
            if with_document {
                format!("{} {}", c.document, c.section)
            } else {
                c.section.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn several_documents(c: &Change) -> bool {
    let mut docs = c.old_cites.iter().chain(&c.new_cites).map(|c| &c.document);
    match docs.next() {
        Some(first) => docs.any(|d| d != first),
        None => false,
    }
}

/// The headline of a change, without marker: what, which, and how it moved
/// or was renamed.
fn headline(c: &Change) -> String {
    let mut s = c.element.word().to_string();
    match c.element {
        ElementKind::Header | ElementKind::Policy => {}
        ElementKind::Example | ElementKind::AcceptedFinding => {
            let _ = write!(s, " \"{}\"", c.id);
        }
        _ => {
            let _ = write!(s, " {}", c.id);
        }
    }
    if let Some(t) = &c.title
        && c.element != ElementKind::AcceptedFinding
    {
        let _ = write!(s, " \"{t}\"");
    }
    if let Some(old) = &c.old_id {
        let _ = write!(s, ", renamed from {old}");
    }
    match (&c.old_within, &c.within) {
        (Some(from), Some(to)) => {
            let _ = write!(s, ", moved from {from} to {to}");
        }
        (None, Some(w)) => {
            let _ = write!(s, " in {w}");
        }
        _ => {}
    }
    if c.wording_only {
        s.push_str(" (wording only)");
    }
    s
}

/// A field's value in one line: text as it is, in quotes; anything else as
/// compact JSON.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The fields a report lists: citations are shown on a line of their own.
fn shown_fields(c: &Change) -> impl Iterator<Item = &FieldChange> {
    c.fields.iter().filter(|f| f.field != "cites")
}

/// The review for a terminal: a line for what was compared, the summary,
/// then each change under the heading of its kind, with its citations on
/// both sides and what differs, field by field.
pub fn human(review: &Review, style: Style) -> String {
    let mut out = String::new();
    let safe = |s: &str| terminal_safe(s).into_owned();
    let _ = writeln!(
        out,
        "{} {}",
        style.paint("1", "old:"),
        safe(&side_line(&review.old))
    );
    let _ = writeln!(
        out,
        "{} {}",
        style.paint("1", "new:"),
        safe(&side_line(&review.new))
    );
    let _ = writeln!(out, "structural changes: {}", summary_line(review));
    let mut last: Option<&str> = None;
    for c in &review.structural.changes {
        let h = heading(c.element);
        if last != Some(h) {
            let _ = writeln!(out, "\n{}", style.paint("1", h));
            last = Some(h);
        }
        let (mark, colour) = marker(c.change);
        let _ = writeln!(
            out,
            "  {}",
            style.paint(colour, &format!("{mark} {}", safe(&headline(c))))
        );
        let docs = several_documents(c);
        let (old, new) = (
            cites_text(&c.old_cites, docs),
            cites_text(&c.new_cites, docs),
        );
        let cited = match (old.is_empty(), new.is_empty()) {
            (true, true) => None,
            (false, true) => Some(format!("old {old}")),
            (true, false) => Some(format!("new {new}")),
            (false, false) if old == new => Some(old),
            (false, false) => Some(format!("old {old}; new {new}")),
        };
        if let Some(cited) = cited {
            let _ = writeln!(out, "      cited: {}", safe(&cited));
        }
        for f in shown_fields(c) {
            let line = match (&f.old, &f.new) {
                (Some(o), Some(n)) => format!(
                    "{}: {} {} {}",
                    f.field,
                    value_text(o),
                    style.paint("2", "->"),
                    value_text(n)
                ),
                (Some(v), None) if c.change == ChangeKind::Removed => {
                    format!("{}: {}", f.field, value_text(v))
                }
                (None, Some(v)) if c.change == ChangeKind::Added => {
                    format!("{}: {}", f.field, value_text(v))
                }
                (Some(o), None) => format!("{}: {} -> (none)", f.field, value_text(o)),
                (None, Some(n)) => format!("{}: (none) -> {}", f.field, value_text(n)),
                (None, None) => continue,
            };
            // The arrow's colour codes are Carepath's own; the values are
            // made safe before they are put round it.
            let _ = writeln!(out, "      {}", safe_around_arrow(&line, style));
        }
    }
    behaviour_human(&mut out, &review.behaviour, style);
    findings_human(&mut out, &review.findings, style);
    out
}

/// `line` made safe to print, keeping the one dim arrow this module put in
/// it when colouring.
fn safe_around_arrow(line: &str, style: Style) -> String {
    let arrow = style.paint("2", "->");
    if style.color
        && let Some((before, after)) = line.split_once(&arrow)
    {
        return format!("{}{arrow}{}", terminal_safe(before), terminal_safe(after));
    }
    terminal_safe(line).into_owned()
}

/// Text from a protocol, safe inside Markdown (a paragraph or a table
/// cell, never at the start of a line): made safe for a terminal first,
/// then every character that could start emphasis, code, a link, a
/// strike-through or a new cell escaped with a backslash, and HTML's
/// `<`, `>` and `&` written as entities.
pub fn markdown_text(s: &str) -> String {
    let safe = terminal_safe(s);
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn md_value(v: &Value) -> String {
    match v {
        Value::String(s) => markdown_text(s),
        other => markdown_text(&other.to_string()),
    }
}

fn verb(change: ChangeKind) -> &'static str {
    match change {
        ChangeKind::Added => "Added",
        ChangeKind::Removed => "Removed",
        ChangeKind::Changed => "Changed",
        ChangeKind::Renamed => "Renamed",
    }
}

/// The review as Markdown: a table of the two sides, the summary, then a
/// section per kind with each change as a heading and a table of what
/// differs, citations included.
pub fn markdown(review: &Review) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Changes to {}\n", markdown_text(&review.new.title));
    let _ = writeln!(out, "| | old | new |\n|---|---|---|");
    let row = |out: &mut String, name: &str, old: &str, new: &str| {
        let _ = writeln!(
            out,
            "| {name} | {} | {} |",
            markdown_text(old),
            markdown_text(new)
        );
    };
    row(&mut out, "compared", &review.old.label, &review.new.label);
    row(
        &mut out,
        "protocol",
        &review.old.protocol,
        &review.new.protocol,
    );
    row(&mut out, "title", &review.old.title, &review.new.title);
    if review.old.version.is_some() || review.new.version.is_some() {
        let version = |s: &Side| s.version.clone().unwrap_or_default();
        row(
            &mut out,
            "version",
            &version(&review.old),
            &version(&review.new),
        );
    }
    row(
        &mut out,
        "sources (SHA-256)",
        &review.old.source_sha256,
        &review.new.source_sha256,
    );
    let _ = writeln!(out, "\n**Structural changes:** {}.", summary_line(review));
    let mut last: Option<&str> = None;
    for c in &review.structural.changes {
        let h = heading(c.element);
        if last != Some(h) {
            let _ = writeln!(out, "\n## {h}");
            last = Some(h);
        }
        let _ = writeln!(
            out,
            "\n### {} {}\n",
            verb(c.change),
            markdown_text(&headline(c))
        );
        let _ = writeln!(out, "| | old | new |\n|---|---|---|");
        let docs = several_documents(c);
        let _ = writeln!(
            out,
            "| cited | {} | {} |",
            markdown_text(&cites_text(&c.old_cites, docs)),
            markdown_text(&cites_text(&c.new_cites, docs))
        );
        if let (Some(from), Some(to)) = (&c.old_within, &c.within) {
            let part_of = if c.element == ElementKind::Example {
                "level"
            } else {
                "part of"
            };
            let _ = writeln!(
                out,
                "| {part_of} | {} | {} |",
                markdown_text(from),
                markdown_text(to)
            );
        }
        for f in shown_fields(c) {
            let side = |v: &Option<Value>| v.as_ref().map(md_value).unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                markdown_text(&f.field),
                side(&f.old),
                side(&f.new)
            );
        }
    }
    behaviour_markdown(&mut out, &review.behaviour);
    findings_markdown(&mut out, &review.findings);
    out
}

/// The behavioural summary in one line.
fn behaviour_line(b: &Behaviour) -> String {
    if let Some(why) = &b.not_compared {
        return format!("not compared: {why}");
    }
    let s = &b.summary;
    if s.neutral {
        return format!(
            "behaviour-neutral: all {} incident classes are handled alike",
            s.incident_classes
        );
    }
    format!(
        "{} of {} incident classes handled differently: {} to more police involvement, {} to less, {} where police involvement cannot be ranked, {} with the same police involvement (level, procedures or route only)",
        s.changed,
        s.incident_classes,
        s.more_police,
        s.less_police,
        s.police_not_comparable,
        s.same_police
    )
}

fn direction_words(d: Direction) -> &'static str {
    match d {
        Direction::MorePolice => "more police involvement",
        Direction::LessPolice => "less police involvement",
        Direction::NotComparable => "police involvement not comparable",
        Direction::SamePolice => "same police involvement",
    }
}

/// How a side handles a witness, in one line.
fn handled_text(h: &Handled) -> String {
    let x = &h.handling;
    let mut s = match x.outcome {
        HandlingKind::Decided => x.level.clone().unwrap_or_default(),
        HandlingKind::Undecided => "no level".into(),
        HandlingKind::Conflict => "conflicting levels".into(),
        HandlingKind::Unanswerable => format!(
            "cannot take the answer to {}",
            x.unanswerable.clone().unwrap_or_default()
        ),
    };
    if let Some(p) = x.police {
        let _ = write!(s, ", {}", response_words(p));
        if let Some(by) = &x.police_by {
            let _ = write!(s, " ({by})");
        }
    }
    if !x.procedures.is_empty() {
        let ids: Vec<&str> = x.procedures.iter().map(|p| p.id.as_str()).collect();
        let _ = write!(s, "; procedures {}", ids.join(", "));
    }
    if let Some(r) = &x.route {
        let _ = write!(s, "; route {r}");
    }
    if !h.rules.is_empty() {
        let rules: Vec<String> = h
            .rules
            .iter()
            .map(|r| format!("{} ({})", r.id, cites_text(&r.cites, false)))
            .collect();
        let _ = write!(s, "; by {}", rules.join(", "));
    } else if x.outcome == HandlingKind::Decided {
        s.push_str("; by `otherwise`");
    }
    s
}

fn witness_text(w: &Witness, new: bool) -> String {
    let answers = if new { &w.new_answers } else { &w.old_answers };
    serde_json::to_string(answers).unwrap_or_default()
}

/// A region's example incident on one line: the answers both versions
/// read, or, where they read different ones (a question one of them does
/// not ask, an answer one cannot take), each version's.
fn example_text(w: &Witness) -> String {
    let (old, new) = (witness_text(w, false), witness_text(w, true));
    if old == new {
        new
    } else if w.new_answers.is_empty() {
        format!("{old} (the new version cannot take it)")
    } else if w.old_answers.is_empty() {
        format!("{new} (the old version cannot take it)")
    } else {
        format!("{new} (the old version reads {old})")
    }
}

/// One version's reading of a region's example incident, for a table: a
/// version that cannot take the answers reads none.
fn witness_cell(w: &Witness, new: bool) -> String {
    let (mine, other) = if new {
        (&w.new_answers, &w.old_answers)
    } else {
        (&w.old_answers, &w.new_answers)
    };
    if mine.is_empty() && !other.is_empty() {
        "cannot take it".to_string()
    } else {
        witness_text(w, new)
    }
}

/// `n incident classes`, or `1 incident class`.
fn classes_words(n: u64) -> String {
    if n == 1 {
        "1 incident class".to_string()
    } else {
        format!("{n} incident classes")
    }
}

/// A region's heading; `shared` when its condition is in addition to
/// what every region shares.
fn region_head(r: &Region, shared: bool) -> String {
    format!(
        "{}, {}: {}",
        classes_words(r.incident_classes),
        direction_words(r.direction),
        r.when.as_deref().unwrap_or(if shared {
            "any of them"
        } else {
            "every incident"
        })
    )
}

fn behaviour_human(out: &mut String, b: &Behaviour, style: Style) {
    let safe = |s: &str| terminal_safe(s).into_owned();
    let _ = writeln!(out, "\nbehaviour: {}", safe(&behaviour_line(b)));
    if !b.only_old_asks.is_empty() {
        let _ = writeln!(
            out,
            "  only the old version asks: {}",
            safe(&b.only_old_asks.join(", "))
        );
    }
    if !b.only_new_asks.is_empty() {
        let _ = writeln!(
            out,
            "  only the new version asks: {}",
            safe(&b.only_new_asks.join(", "))
        );
    }
    if let Some(shared) = &b.shared_when {
        let _ = writeln!(
            out,
            "  every incident handled differently has: {}",
            safe(shared)
        );
    }
    for r in &b.regions {
        let colour = match r.direction {
            Direction::MorePolice => "31",
            Direction::LessPolice => "32",
            _ => "33",
        };
        let _ = writeln!(
            out,
            "  {}",
            style.paint(
                colour,
                &format!("* {}", safe(&region_head(r, b.shared_when.is_some())))
            )
        );
        let _ = writeln!(out, "      old: {}", safe(&handled_text(&r.old)));
        let _ = writeln!(out, "      new: {}", safe(&handled_text(&r.new)));
        let _ = writeln!(
            out,
            "      for example: {}",
            safe(&example_text(&r.witness))
        );
    }
    for e in b.examples.iter().filter(|e| e.moved) {
        let of = match e.of {
            super::behaviour::Which::Old => "old",
            super::behaviour::Which::New => "new",
        };
        let _ = writeln!(
            out,
            "  example \"{}\" ({of} version, {}) is placed by the other version at: {}",
            safe(&e.title),
            safe(&e.level),
            safe(&e.other_levels.join(", "))
        );
        // Which answers move it: an incident of the example the two
        // versions place at different levels, as its own version reads it.
        if let Some(w) = &e.witness {
            let _ = writeln!(
                out,
                "      moved, for example: {}",
                safe(&witness_text(w, e.of == super::behaviour::Which::New))
            );
        }
    }
}

fn behaviour_markdown(out: &mut String, b: &Behaviour) {
    let _ = writeln!(
        out,
        "\n## Behaviour\n\n**{}.**",
        markdown_text(&behaviour_line(b))
    );
    if !b.only_old_asks.is_empty() {
        let _ = writeln!(
            out,
            "\nOnly the old version asks: {}.",
            markdown_text(&b.only_old_asks.join(", "))
        );
    }
    if !b.only_new_asks.is_empty() {
        let _ = writeln!(
            out,
            "\nOnly the new version asks: {}.",
            markdown_text(&b.only_new_asks.join(", "))
        );
    }
    if let Some(shared) = &b.shared_when {
        let _ = writeln!(
            out,
            "\nEvery incident handled differently has: {}.",
            markdown_text(shared)
        );
    }
    for r in &b.regions {
        let _ = writeln!(
            out,
            "\n### {}\n",
            markdown_text(&region_head(r, b.shared_when.is_some()))
        );
        let _ = writeln!(out, "| | old | new |\n|---|---|---|");
        let _ = writeln!(
            out,
            "| handled | {} | {} |",
            markdown_text(&handled_text(&r.old)),
            markdown_text(&handled_text(&r.new))
        );
        let _ = writeln!(
            out,
            "| example incident | {} | {} |",
            markdown_text(&witness_cell(&r.witness, false)),
            markdown_text(&witness_cell(&r.witness, true))
        );
    }
    let moved: Vec<_> = b.examples.iter().filter(|e| e.moved).collect();
    if !moved.is_empty() {
        let _ = writeln!(
            out,
            "\n### Document examples the other version places elsewhere\n"
        );
        for e in moved {
            let _ = writeln!(
                out,
                "- \"{}\" ({}): other version gives {}",
                markdown_text(&e.title),
                markdown_text(&e.level),
                markdown_text(&e.other_levels.join(", "))
            );
            if let Some(w) = &e.witness {
                let _ = writeln!(
                    out,
                    "  - moved, for example: {}",
                    markdown_text(&witness_text(w, e.of == super::behaviour::Which::New))
                );
            }
        }
    }
}

/// The findings' comparison in one line.
fn findings_line(f: &Findings) -> String {
    if let Some(why) = &f.not_compared {
        return format!("not compared ({why})");
    }
    format!(
        "{} new, {} gone, {} accepted differently, {} in both",
        f.new.len(),
        f.gone.len(),
        f.acceptance_changed.len(),
        f.kept
    )
}

/// A finding in one line: its code and message.
fn finding_text(f: &Finding) -> String {
    format!("{}: {}", f.code, f.message)
}

fn acceptance_text(f: &Finding) -> String {
    match &f.accepted {
        Some(why) => format!("accepted: {why}"),
        None => "not accepted".to_string(),
    }
}

fn findings_human(out: &mut String, f: &Findings, style: Style) {
    let safe = |s: &str| terminal_safe(s).into_owned();
    let _ = writeln!(out, "\nfindings: {}", safe(&findings_line(f)));
    for (list, mark, colour) in [(&f.new, "+", "31"), (&f.gone, "-", "32")] {
        for x in list {
            let _ = writeln!(
                out,
                "  {}",
                style.paint(colour, &format!("{mark} {}", safe(&finding_text(x))))
            );
            if let Some(why) = &x.accepted {
                let _ = writeln!(out, "      accepted: {}", safe(why));
            }
        }
    }
    for c in &f.acceptance_changed {
        let _ = writeln!(
            out,
            "  {}",
            style.paint(
                "33",
                &format!("~ {}: {}", safe(&c.new.code), safe(&c.new.message))
            )
        );
        let _ = writeln!(
            out,
            "      {}",
            safe_around_arrow(
                &format!(
                    "{} {} {}",
                    acceptance_text(&c.old),
                    style.paint("2", "->"),
                    acceptance_text(&c.new)
                ),
                style
            )
        );
    }
}

fn findings_markdown(out: &mut String, f: &Findings) {
    let _ = writeln!(
        out,
        "\n## Findings\n\n**{}.**",
        markdown_text(&findings_line(f))
    );
    for (list, title) in [
        (&f.new, "Only in the new version"),
        (&f.gone, "Only in the old version"),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        for x in list {
            let _ = writeln!(out, "- {}", markdown_text(&finding_text(x)));
            if let Some(why) = &x.accepted {
                let _ = writeln!(out, "  - accepted: {}", markdown_text(why));
            }
        }
    }
    if !f.acceptance_changed.is_empty() {
        let _ = writeln!(out, "\n### Accepted differently\n");
        for c in &f.acceptance_changed {
            let _ = writeln!(
                out,
                "- {}: {} (old: {}; new: {})",
                markdown_text(&c.new.code),
                markdown_text(&c.new.message),
                markdown_text(&acceptance_text(&c.old)),
                markdown_text(&acceptance_text(&c.new))
            );
        }
    }
}

// ------------------------------------------------------------ authorities

/// An authority's outcomes for a row in words: each level with its police
/// response, joined by "or" when its own questions decide between them.
fn outcomes_text(h: &AuthorityHandled) -> String {
    if let Some(why) = &h.not_covered {
        return format!("not covered: {why}");
    }
    let each: Vec<String> = h
        .outcomes
        .iter()
        .map(|o| {
            let level = match (&o.level, o.no_level) {
                (Some(l), _) => l.clone(),
                (None, Some(NoLevel::Conflict)) => "conflicting levels".to_string(),
                (None, _) => "no level".to_string(),
            };
            match o.police {
                Some(p) => match &o.police_by {
                    Some(by) => format!("{level} ({}, {by})", response_words(p)),
                    None => format!("{level} ({})", response_words(p)),
                },
                None => level,
            }
        })
        .collect();
    let mut s = each.join(" or ");
    if !h.depends_on.is_empty() {
        let _ = write!(s, ", by its own {}", h.depends_on.join(", "));
    }
    s
}

/// The row's headline: how far apart the authorities are, and how many
/// incident classes the row holds.
fn row_head(r: &Row) -> String {
    let apart = match r.police_apart {
        0 => "police agree or may agree".to_string(),
        1 => "police 1 step apart".to_string(),
        n => format!("police {n} steps apart"),
    };
    format!("{apart}: {}", classes_words(r.incident_classes))
}

fn compare_summary_line(c: &Comparison) -> String {
    let s = &c.summary;
    format!(
        "{} incident classes covered by two or more: police the same in {}, certainly different in {}, may differ in {}; {} covered by one only",
        s.incident_classes, s.same_police, s.police_differs, s.police_may_differ, s.covered_once
    )
}

/// The rows a limit lets through, and how many it leaves out.
fn limited(c: &Comparison, limit: Option<usize>) -> (&[Row], usize) {
    let n = limit.unwrap_or(usize::MAX).min(c.rows.len());
    (&c.rows[..n], c.rows.len() - n)
}

/// The comparison for a terminal: the protocols, the questions they share
/// and those only one asks, the settings each covers, the summary, then
/// each row with every authority's handling.
pub fn compare_human(c: &Comparison, limit: Option<usize>) -> String {
    let safe = |s: &str| terminal_safe(s).into_owned();
    let mut out = String::new();
    for a in &c.authorities {
        let _ = writeln!(
            out,
            "{}: {} ({})",
            safe(&a.protocol),
            safe(&a.title),
            safe(&a.label)
        );
    }
    let width = c
        .authorities
        .iter()
        .map(|a| a.protocol.chars().count())
        .max()
        .unwrap_or(0);
    let shared: Vec<String> = c
        .shared
        .iter()
        .map(|q| format!("{} ({})", q.id, q.asked_by.join(", ")))
        .collect();
    let _ = writeln!(out, "\nshared questions: {}", safe(&shared.join("; ")));
    for o in c.own.iter().filter(|o| !o.questions.is_empty()) {
        let _ = writeln!(
            out,
            "only {} asks: {}",
            safe(&o.protocol),
            safe(&o.questions.join(", "))
        );
    }
    for s in &c.settings {
        let _ = writeln!(
            out,
            "setting {} is covered by: {}",
            safe(&s.id),
            safe(&s.covered_by.join(", "))
        );
    }
    let _ = writeln!(out, "\n{}", compare_summary_line(c));
    let (rows, left) = limited(c, limit);
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(out, "\n{}. {}", i + 1, row_head(r));
        if let Some(when) = &r.when {
            let _ = writeln!(out, "   when: {}", safe(when));
        }
        let _ = writeln!(
            out,
            "   for example: {}",
            safe(&Value::Object(r.witness.clone()).to_string())
        );
        for h in &r.by_authority {
            let _ = writeln!(
                out,
                "   {:width$}  {}",
                safe(&h.protocol),
                safe(&outcomes_text(h))
            );
        }
    }
    if left > 0 {
        let _ = writeln!(
            out,
            "\n({left} more rows; --limit shows more, --format json all)"
        );
    }
    out
}

/// The comparison as Markdown: the same, with the rows as one table.
pub fn compare_markdown(c: &Comparison, limit: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The same incidents in {} protocols\n",
        c.authorities.len()
    );
    let _ = writeln!(out, "| protocol | title | compared |\n|---|---|---|");
    for a in &c.authorities {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            markdown_text(&a.protocol),
            markdown_text(&a.title),
            markdown_text(&a.label)
        );
    }
    let _ = writeln!(out, "\n**{}.**\n", markdown_text(&compare_summary_line(c)));
    let _ = writeln!(out, "Questions the rows are over:\n");
    for q in &c.shared {
        let _ = writeln!(
            out,
            "- {} (asked by {})",
            markdown_text(&q.id),
            markdown_text(&q.asked_by.join(", "))
        );
    }
    let own: Vec<_> = c.own.iter().filter(|o| !o.questions.is_empty()).collect();
    if !own.is_empty() {
        let _ = writeln!(
            out,
            "\nQuestions only one protocol asks (they vary within a row):\n"
        );
        for o in own {
            let _ = writeln!(
                out,
                "- {}: {}",
                markdown_text(&o.protocol),
                markdown_text(&o.questions.join(", "))
            );
        }
    }
    let _ = writeln!(out, "\nSettings:\n");
    for s in &c.settings {
        let _ = writeln!(
            out,
            "- {}: {}",
            markdown_text(&s.id),
            markdown_text(&s.covered_by.join(", "))
        );
    }
    let (rows, left) = limited(c, limit);
    let _ = write!(out, "\n| # | incidents | classes | police apart |");
    for a in &c.authorities {
        let _ = write!(out, " {} |", markdown_text(&a.protocol));
    }
    let _ = write!(out, "\n|---|---|---|---|");
    for _ in &c.authorities {
        out.push_str("---|");
    }
    out.push('\n');
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            i + 1,
            markdown_text(r.when.as_deref().unwrap_or("every incident")),
            r.incident_classes,
            r.police_apart
        );
        for h in &r.by_authority {
            let _ = write!(out, " {} |", markdown_text(&outcomes_text(h)));
        }
        out.push('\n');
    }
    if left > 0 {
        let _ = writeln!(out, "\n{left} more rows are in the JSON output.");
    }
    out
}
