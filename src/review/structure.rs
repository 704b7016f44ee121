//! The structural comparison: every element of two rule packs matched by id,
//! renames found, and what differs written field by field.
//!
//! Each element is reduced to its fields as the pack writes them (a JSON
//! object without its id and citations), so that one comparison serves
//! every kind and a field added to the pack format is compared without a
//! change here. References to other elements (a rule's level, a route's
//! steps, a condition's questions) are read through the renames already
//! found, so renaming a level is one change, not one per rule that gives
//! it. Kinds are matched in the order they refer to each other (settings
//! and questions before the levels and rules that name them, routes last),
//! and reported in the pack's order.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Change, ChangeKind, ElementKind, FieldChange};
use crate::emit::pack::{Citation, CitedText, RulePack};

/// One element, reduced for comparison.
struct Element {
    /// What it is matched by: its id, an example's title, an accepted
    /// finding's code and rules.
    key: String,
    title: Option<String>,
    /// The element it is part of.
    within: Option<String>,
    /// Every field but the id and the citations, parts included (they are
    /// part of what a renamed element must keep).
    content: Map<String, Value>,
    cites: Vec<Citation>,
}

/// Old id to new id, per kind, for the elements found renamed.
#[derive(Default)]
struct Renames(HashMap<ElementKind, HashMap<String, String>>);

impl Renames {
    fn map<'a>(&'a self, kind: ElementKind, id: &'a str) -> &'a str {
        self.0
            .get(&kind)
            .and_then(|m| m.get(id))
            .map_or(id, String::as_str)
    }

    fn add(&mut self, kind: ElementKind, old: &str, new: &str) {
        self.0
            .entry(kind)
            .or_default()
            .insert(old.to_string(), new.to_string());
    }
}

/// How the elements of one kind pair up.
struct Matching {
    /// Old index, new index, and whether the pair is a rename.
    pairs: Vec<(usize, usize, bool)>,
    removed: Vec<usize>,
    added: Vec<usize>,
}

/// The key of the header and of the policy, of which each pack has one:
/// they always pair up, whatever the protocols' ids.
const ONE: &str = "protocol";

/// Fields holding JsonLogic, each beside a `*_text` that says it in the
/// protocol's words.
const LOGIC: [&str; 5] = ["when", "given", "asked_when", "only_when", "applies_when"];

/// Fields that are wording: what people read, not what decides.
const WORDING: [&str; 7] = [
    "title", "text", "notes", "meaning", "detail", "message", "reason",
];

pub(super) fn changes(old: &RulePack, new: &RulePack) -> Vec<Change> {
    let mut renames = Renames::default();
    let lists: Vec<(ElementKind, Vec<Element>, Vec<Element>)> = vec![
        (ElementKind::Header, vec![header(old)], vec![header(new)]),
        (ElementKind::Policy, vec![policy(old)], vec![policy(new)]),
        (
            ElementKind::Document,
            elements(&old.documents),
            elements(&new.documents),
        ),
        (
            ElementKind::Setting,
            elements(&old.settings),
            elements(&new.settings),
        ),
        (
            ElementKind::Question,
            elements(&old.questions),
            elements(&new.questions),
        ),
        (
            ElementKind::Level,
            elements(&old.levels),
            elements(&new.levels),
        ),
        (ElementKind::Example, examples(old), examples(new)),
        (
            ElementKind::Rule,
            elements(&old.rules),
            elements(&new.rules),
        ),
        (
            ElementKind::Procedure,
            elements(&old.procedures),
            elements(&new.procedures),
        ),
        (
            ElementKind::Route,
            elements(&old.routes),
            elements(&new.routes),
        ),
        (
            ElementKind::Factors,
            elements(&old.factors),
            elements(&new.factors),
        ),
        (
            ElementKind::Checklist,
            elements(&old.checklists),
            elements(&new.checklists),
        ),
        (
            ElementKind::Actor,
            elements(&old.actors),
            elements(&new.actors),
        ),
        (
            ElementKind::Contact,
            elements(&old.contacts),
            elements(&new.contacts),
        ),
        (ElementKind::AcceptedFinding, accepted(old), accepted(new)),
    ];

    // Match in the order elements refer to each other, so that each kind's
    // renames are known before the kinds that name it are compared.
    let order = [
        ElementKind::Header,
        ElementKind::Policy,
        ElementKind::Document,
        ElementKind::Setting,
        ElementKind::Question,
        ElementKind::Actor,
        ElementKind::Contact,
        ElementKind::Checklist,
        ElementKind::Factors,
        ElementKind::Level,
        ElementKind::Example,
        ElementKind::Procedure,
        ElementKind::Rule,
        ElementKind::Route,
        ElementKind::AcceptedFinding,
    ];
    let mut matchings: HashMap<ElementKind, Matching> = HashMap::new();
    // Parts matched within each pair of their wholes: (whole's kind, new
    // index of the whole) to the parts' lists and matching.
    let mut parts: HashMap<(ElementKind, usize), Parts> = HashMap::new();
    for kind in order {
        let (_, o, n) = lists
            .iter()
            .find(|(k, _, _)| *k == kind)
            .expect("every kind is listed");
        let m = match_elements(kind, o, n, &mut renames);
        if let Some((field, part_kind)) = parts_of(kind).filter(|&(_, k)| k != ElementKind::Example)
        {
            for &(oi, ni, _) in &m.pairs {
                // The setting question's options are the settings, which
                // are compared on their own.
                if n[ni].content.get("kind").and_then(Value::as_str) == Some("setting") {
                    continue;
                }
                let op = part_elements(&o[oi], field);
                let np = part_elements(&n[ni], field);
                let pm = match_elements(part_kind, &op, &np, &mut renames);
                parts.insert(
                    (kind, ni),
                    Parts {
                        kind: part_kind,
                        old: op,
                        new: np,
                        matching: pm,
                    },
                );
            }
        }
        matchings.insert(kind, m);
    }

    let mut out = Vec::new();
    for (kind, o, n) in lists {
        let m = &matchings[&kind];
        let skip = parts_of(kind).map(|(field, _)| field);
        let mut by_new: Vec<(usize, Option<usize>, bool)> = m
            .pairs
            .iter()
            .map(|&(oi, ni, renamed)| (ni, Some(oi), renamed))
            .chain(m.added.iter().map(|&ni| (ni, None, false)))
            .collect();
        by_new.sort_unstable();
        for (ni, oi, renamed) in by_new {
            match oi {
                Some(oi) => {
                    if let Some(c) = pair_change(kind, &o[oi], &n[ni], renamed, skip, &renames) {
                        out.push(c);
                    }
                    if let Some(p) = parts.get(&(kind, ni)) {
                        out.extend(part_changes(p, &renames));
                    }
                }
                None => out.push(one_side(kind, &n[ni], ChangeKind::Added)),
            }
        }
        for &oi in &m.removed {
            out.push(one_side(kind, &o[oi], ChangeKind::Removed));
        }
    }
    out
}

/// The parts of one pair of elements (the options of a question, the steps
/// of a route, the items of a checklist) and how they pair up.
struct Parts {
    kind: ElementKind,
    old: Vec<Element>,
    new: Vec<Element>,
    matching: Matching,
}

fn part_changes(p: &Parts, renames: &Renames) -> Vec<Change> {
    let mut out = Vec::new();
    let mut by_new: Vec<(usize, Option<usize>, bool)> = p
        .matching
        .pairs
        .iter()
        .map(|&(oi, ni, r)| (ni, Some(oi), r))
        .chain(p.matching.added.iter().map(|&ni| (ni, None, false)))
        .collect();
    by_new.sort_unstable();
    for (ni, oi, renamed) in by_new {
        match oi {
            Some(oi) => {
                if let Some(c) = pair_change(p.kind, &p.old[oi], &p.new[ni], renamed, None, renames)
                {
                    out.push(c);
                }
            }
            None => out.push(one_side(p.kind, &p.new[ni], ChangeKind::Added)),
        }
    }
    for &oi in &p.matching.removed {
        out.push(one_side(p.kind, &p.old[oi], ChangeKind::Removed));
    }
    out
}

/// The field holding an element's parts, and their kind. Levels' examples
/// are left out of a level's own fields but compared across all levels (an
/// example can move between levels), not level by level.
fn parts_of(kind: ElementKind) -> Option<(&'static str, ElementKind)> {
    match kind {
        ElementKind::Question => Some(("options", ElementKind::Option)),
        ElementKind::Route => Some(("nodes", ElementKind::Step)),
        ElementKind::Checklist => Some(("items", ElementKind::ChecklistItem)),
        ElementKind::Level => Some(("examples", ElementKind::Example)),
        _ => None,
    }
}

fn part_elements(whole: &Element, field: &str) -> Vec<Element> {
    match whole.content.get(field) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| element(v.clone(), Some(whole.key.clone())))
            .collect(),
        _ => Vec::new(),
    }
}

fn to_object<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("pack elements serialise")
}

/// An element with an `id`, `cites` and usually a `title`.
fn element(value: Value, within: Option<String>) -> Element {
    let Value::Object(mut content) = value else {
        unreachable!("pack elements are objects")
    };
    let key = match content.remove("id") {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    let cites = take_cites(&mut content);
    let title = content
        .get("title")
        .and_then(Value::as_str)
        .map(String::from);
    Element {
        key,
        title,
        within,
        content,
        cites,
    }
}

fn elements<T: Serialize>(items: &[T]) -> Vec<Element> {
    items.iter().map(|i| element(to_object(i), None)).collect()
}

fn take_cites(content: &mut Map<String, Value>) -> Vec<Citation> {
    content
        .remove("cites")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

fn header(pack: &RulePack) -> Element {
    let p = &pack.protocol;
    let mut cites: Vec<Citation> = Vec::new();
    let mut cited = |t: &CitedText| {
        for c in &t.cites {
            if !cites.contains(c) {
                cites.push(c.clone());
            }
        }
        Value::String(t.value.clone())
    };
    let mut content = Map::new();
    content.insert("id".into(), Value::String(p.id.clone()));
    content.insert("title".into(), cited(&p.title));
    let list: Vec<Value> = p.authorities.iter().map(&mut cited).collect();
    content.insert("authorities".into(), Value::Array(list));
    let list: Vec<Value> = p.partners.iter().map(&mut cited).collect();
    content.insert("partners".into(), Value::Array(list));
    for (name, v) in [
        ("version", &p.version),
        ("effective", &p.effective),
        ("review", &p.review),
        ("source", &p.source),
    ] {
        if let Some(v) = v {
            content.insert(name.into(), cited(v));
        }
    }
    content.insert("notes".into(), to_object(&p.notes));
    Element {
        key: ONE.into(),
        title: Some(p.title.value.clone()),
        within: None,
        content,
        cites,
    }
}

fn policy(pack: &RulePack) -> Element {
    let mut content = Map::new();
    content.insert("kind".into(), to_object(&pack.policy.kind));
    content.insert("otherwise".into(), to_object(&pack.policy.otherwise));
    Element {
        key: ONE.into(),
        title: None,
        within: None,
        content,
        cites: pack.policy.cites.clone(),
    }
}

/// Every level's examples, keyed by title, within their level.
fn examples(pack: &RulePack) -> Vec<Element> {
    let mut out = Vec::new();
    for level in &pack.levels {
        for e in &level.examples {
            let Value::Object(mut content) = to_object(e) else {
                unreachable!("an example is an object")
            };
            let cites = take_cites(&mut content);
            // The title is the key: a retitled example with the same
            // answers in the same level is a rename.
            content.remove("title");
            out.push(Element {
                key: e.title.clone(),
                title: None,
                within: Some(level.id.clone()),
                content,
                cites,
            });
        }
    }
    out
}

/// Accepted findings, keyed by code, rules and subject.
fn accepted(pack: &RulePack) -> Vec<Element> {
    pack.accepted_findings
        .iter()
        .map(|a| {
            let Value::Object(mut content) = to_object(a) else {
                unreachable!("an accepted finding is an object")
            };
            let cites = take_cites(&mut content);
            let mut key = a.code.clone();
            let about: Vec<&str> = a
                .rules
                .iter()
                .chain(&a.subject)
                .map(String::as_str)
                .collect();
            if !about.is_empty() {
                key.push(' ');
                key.push_str(&about.join(", "));
            }
            Element {
                key,
                title: Some(a.message.clone()),
                within: None,
                content,
                cites,
            }
        })
        .collect()
}

/// Pair old and new elements of one kind: by key (for examples, by level
/// and title, then by title alone for one that moved), then, among the
/// rest, an old and a new element with the same content are a rename.
fn match_elements(
    kind: ElementKind,
    old: &[Element],
    new: &[Element],
    renames: &mut Renames,
) -> Matching {
    let mut old_used = vec![false; old.len()];
    let mut new_used = vec![false; new.len()];
    let mut pairs = Vec::new();
    let parent = parent_kind(kind);
    let old_within = |e: &Element, renames: &Renames| -> Option<String> {
        match (&e.within, parent) {
            (Some(w), Some(p)) => Some(renames.map(p, w).to_string()),
            (w, _) => w.clone(),
        }
    };
    let passes: &[bool] = if kind == ElementKind::Example {
        &[true, false]
    } else {
        &[false]
    };
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (oi, o) in old.iter().enumerate() {
        by_key.entry(o.key.as_str()).or_default().push(oi);
    }
    for &same_within in passes {
        for (ni, n) in new.iter().enumerate() {
            if new_used[ni] {
                continue;
            }
            let Some(candidates) = by_key.get(n.key.as_str()) else {
                continue;
            };
            let found = candidates.iter().copied().find(|&oi| {
                !old_used[oi] && (!same_within || old_within(&old[oi], renames) == n.within)
            });
            if let Some(oi) = found {
                old_used[oi] = true;
                new_used[ni] = true;
                pairs.push((oi, ni, false));
            }
        }
    }
    // Renames: the same content (references read through the renames found
    // so far) under another key, in the same whole. Contents are compared
    // as their JSON text, through a table, so that thousands of elements
    // cost no more than reading them.
    let as_text = |m: &Map<String, Value>| serde_json::to_string(m).expect("JSON serialises");
    let mut by_content: HashMap<(Option<String>, String), Vec<usize>> = HashMap::new();
    for oi in (0..old.len()).filter(|&i| !old_used[i]) {
        let text = as_text(&normalized(&old[oi].content, renames));
        by_content
            .entry((old_within(&old[oi], renames), text))
            .or_default()
            .push(oi);
    }
    if !by_content.is_empty() {
        for (ni, n) in new.iter().enumerate() {
            if new_used[ni] {
                continue;
            }
            let Some(candidates) = by_content.get(&(n.within.clone(), as_text(&n.content))) else {
                continue;
            };
            if let Some(oi) = candidates.iter().copied().find(|&oi| !old_used[oi]) {
                old_used[oi] = true;
                new_used[ni] = true;
                pairs.push((oi, ni, true));
                renames.add(kind, &old[oi].key, &n.key);
            }
        }
    }
    if kind == ElementKind::Route {
        pair_reshaped_routes(old, new, &mut old_used, &mut new_used, &mut pairs, renames);
    }
    pairs.sort_unstable();
    Matching {
        pairs,
        removed: (0..old.len()).filter(|&i| !old_used[i]).collect(),
        added: (0..new.len()).filter(|&i| !new_used[i]).collect(),
    }
}

/// Routes renamed together with some of their steps: the same content once
/// each step is named by its place in the route. Each such pair is a
/// rename, and so is each step whose id differs at the same place.
fn pair_reshaped_routes(
    old: &[Element],
    new: &[Element],
    old_used: &mut [bool],
    new_used: &mut [bool],
    pairs: &mut Vec<(usize, usize, bool)>,
    renames: &mut Renames,
) {
    let node_ids = |content: &Map<String, Value>| -> Vec<String> {
        content
            .get("nodes")
            .and_then(Value::as_array)
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| n.get("id")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    // The content with every step id, where a step is named, as its place.
    fn shaped(v: &Value, key: &str, ids: &[String]) -> Value {
        match v {
            Value::String(s) if matches!(key, "id" | "node" | "to" | "next") => {
                match ids.iter().position(|id| id == s) {
                    Some(i) => Value::String(format!("#{i}")),
                    None => v.clone(),
                }
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| shaped(i, key, ids)).collect())
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), shaped(v, k, ids)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let shape = |content: &Map<String, Value>| {
        let ids = node_ids(content);
        shaped(&Value::Object(content.clone()), "", &ids).to_string()
    };
    let mut by_shape: HashMap<String, Vec<usize>> = HashMap::new();
    for oi in (0..old.len()).filter(|&i| !old_used[i]) {
        by_shape
            .entry(shape(&normalized(&old[oi].content, renames)))
            .or_default()
            .push(oi);
    }
    for ni in 0..new.len() {
        if new_used[ni] {
            continue;
        }
        let Some(candidates) = by_shape.get(&shape(&new[ni].content)) else {
            continue;
        };
        let Some(oi) = candidates.iter().copied().find(|&oi| !old_used[oi]) else {
            continue;
        };
        old_used[oi] = true;
        new_used[ni] = true;
        pairs.push((oi, ni, true));
        renames.add(ElementKind::Route, &old[oi].key, &new[ni].key);
        let (old_ids, new_ids) = (node_ids(&old[oi].content), node_ids(&new[ni].content));
        for (o, n) in old_ids.iter().zip(&new_ids).filter(|(o, n)| o != n) {
            renames.add(ElementKind::Step, o, n);
        }
    }
}

/// The kind of element that holds parts of `kind`.
fn parent_kind(kind: ElementKind) -> Option<ElementKind> {
    match kind {
        ElementKind::Option => Some(ElementKind::Question),
        ElementKind::Example => Some(ElementKind::Level),
        ElementKind::Step => Some(ElementKind::Route),
        ElementKind::ChecklistItem => Some(ElementKind::Checklist),
        _ => None,
    }
}

/// The kinds of element a field names by id, wherever it occurs: a
/// reference under one of these keys is read through the renames.
fn referenced(key: &str) -> &'static [ElementKind] {
    match key {
        "level" | "otherwise" => &[ElementKind::Level],
        "procedure" => &[ElementKind::Procedure],
        "rule" | "rules" => &[ElementKind::Rule],
        "node" | "next" | "to" => &[ElementKind::Step],
        "complete" | "follows" => &[ElementKind::Checklist],
        "weigh" | "includes" => &[ElementKind::Factors],
        "settings" | "setting" => &[ElementKind::Setting],
        "actor" | "by" => &[ElementKind::Actor],
        "targets" => &[ElementKind::Contact, ElementKind::Actor],
        "question" | "var" => &[ElementKind::Question],
        "document" => &[ElementKind::Document],
        _ => &[],
    }
}

/// What a condition names: questions, and the options and settings that
/// answer them.
const ANSWERED: &[ElementKind] = &[
    ElementKind::Question,
    ElementKind::Option,
    ElementKind::Setting,
];

fn normalized(content: &Map<String, Value>, renames: &Renames) -> Map<String, Value> {
    content
        .iter()
        .map(|(k, v)| match v {
            Value::String(text) if k.ends_with("_text") => (
                k.clone(),
                Value::String(rename_in_text(text, ANSWERED, renames)),
            ),
            // An accepted finding's message is the compiler's, naming
            // rules, levels and questions by id.
            Value::String(text) if k == "message" => (
                k.clone(),
                Value::String(rename_in_text(
                    text,
                    &[ElementKind::Rule, ElementKind::Level, ElementKind::Question],
                    renames,
                )),
            ),
            _ => (k.clone(), rename_refs(v, k, renames)),
        })
        .collect()
}

/// Text that names elements by id (a condition as written,
/// `dealing-concern or drugs == supply`; a finding's message) with the
/// ids of `kinds` read through the renames, so that renaming a question
/// does not show every condition that asks it as reworded.
fn rename_in_text(text: &str, kinds: &[ElementKind], renames: &Renames) -> String {
    if kinds
        .iter()
        .all(|k| renames.0.get(k).is_none_or(HashMap::is_empty))
    {
        return text.to_string();
    }
    let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(word) {
        out.push_str(&rest[..start]);
        let len = rest[start..]
            .find(|c| !word(c))
            .unwrap_or(rest.len() - start);
        let name = &rest[start..start + len];
        let mapped = kinds
            .iter()
            .map(|&k| renames.map(k, name))
            .find(|m| *m != name)
            .unwrap_or(name);
        out.push_str(mapped);
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// `v`, found under `key`, with every id it refers to read through the
/// renames.
fn rename_refs(v: &Value, key: &str, renames: &Renames) -> Value {
    match v {
        Value::String(s) => {
            let kinds = referenced(key);
            let mapped = kinds
                .iter()
                .map(|&k| renames.map(k, s))
                .find(|m| *m != s)
                .unwrap_or(s);
            Value::String(mapped.to_string())
        }
        // A JsonLogic comparison: its values beside `{"var": q}` are
        // options of q (settings, when q is the setting).
        Value::Array(items) if items.iter().any(|i| i.get("var").is_some()) => {
            let kind = match items.iter().find_map(|i| i.get("var")?.as_str()) {
                Some("setting") => ElementKind::Setting,
                _ => ElementKind::Option,
            };
            fn answers(v: &Value, kind: ElementKind, renames: &Renames) -> Value {
                match v {
                    Value::String(s) => Value::String(renames.map(kind, s).to_string()),
                    Value::Array(items) => {
                        Value::Array(items.iter().map(|i| answers(i, kind, renames)).collect())
                    }
                    other => rename_refs(other, "", renames),
                }
            }
            Value::Array(items.iter().map(|i| answers(i, kind, renames)).collect())
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| rename_refs(i, key, renames)).collect())
        }
        // A witness incident's keys are question ids.
        Value::Object(m) if key == "witness" => Value::Object(
            m.iter()
                .map(|(q, v)| {
                    (
                        renames.map(ElementKind::Question, q).to_string(),
                        rename_refs(v, "", renames),
                    )
                })
                .collect(),
        ),
        Value::Object(m) => Value::Object(normalized(m, renames)),
        other => other.clone(),
    }
}

fn cites_renamed(cites: &[Citation], renames: &Renames) -> Vec<Citation> {
    cites
        .iter()
        .map(|c| Citation {
            document: renames.map(ElementKind::Document, &c.document).to_string(),
            section: c.section.clone(),
        })
        .collect()
}

/// `content` without what is wording: the wording fields at its top level,
/// and every `*_text` at any depth (each sits beside the JsonLogic it says
/// in words, which is kept).
fn without_wording(content: &Map<String, Value>) -> Map<String, Value> {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !k.ends_with("_text"))
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    content
        .iter()
        .filter(|(k, _)| !WORDING.contains(&k.as_str()) && !k.ends_with("_text"))
        .map(|(k, v)| (k.clone(), strip(v)))
        .collect()
}

/// What differs between an old and a new element paired up, or nothing
/// when they are the same. `skip` is the field holding parts compared on
/// their own.
fn pair_change(
    kind: ElementKind,
    old: &Element,
    new: &Element,
    renamed: bool,
    skip: Option<&str>,
    renames: &Renames,
) -> Option<Change> {
    let mut o = normalized(&old.content, renames);
    let mut n = new.content.clone();
    if let Some(field) = skip {
        o.remove(field);
        n.remove(field);
    }
    let mut fields = Vec::new();
    let mut names: Vec<&String> = n.keys().collect();
    for k in o.keys() {
        if !n.contains_key(k) {
            names.push(k);
        }
    }
    for k in names {
        if o.get(k) != n.get(k) {
            fields.push(FieldChange {
                field: k.clone(),
                old: old.content.get(k).cloned(),
                new: new.content.get(k).cloned(),
            });
        }
    }
    let cites_changed = cites_renamed(&old.cites, renames) != new.cites;
    if cites_changed {
        fields.push(FieldChange {
            field: "cites".into(),
            old: Some(to_object(&old.cites)),
            new: Some(to_object(&new.cites)),
        });
    }
    let parent = parent_kind(kind);
    let old_within_mapped = match (&old.within, parent) {
        (Some(w), Some(p)) => Some(renames.map(p, w).to_string()),
        (w, _) => w.clone(),
    };
    let moved = old_within_mapped != new.within;
    if fields.is_empty() && !renamed && !moved {
        return None;
    }
    let change = if renamed {
        ChangeKind::Renamed
    } else {
        ChangeKind::Changed
    };
    let wording_only =
        change == ChangeKind::Changed && !moved && without_wording(&o) == without_wording(&n);
    Some(Change {
        element: kind,
        change,
        id: new.key.clone(),
        old_id: renamed.then(|| old.key.clone()),
        title: new.title.clone().or_else(|| old.title.clone()),
        within: new.within.clone(),
        old_within: moved.then(|| old.within.clone()).flatten(),
        wording_only,
        fields,
        old_cites: old.cites.clone(),
        new_cites: new.cites.clone(),
    })
}

/// An element only one side has, with its plain fields: everything but its
/// parts and the JsonLogic (whose `*_text` is shown), leaving out what is
/// empty.
fn one_side(kind: ElementKind, e: &Element, change: ChangeKind) -> Change {
    let skip = parts_of(kind).map(|(field, _)| field);
    let fields = e
        .content
        .iter()
        .filter(|(k, v)| {
            Some(k.as_str()) != skip
                && !LOGIC.contains(&k.as_str())
                && !v.is_null()
                && v.as_array().is_none_or(|a| !a.is_empty())
                && v.as_object().is_none_or(|m| !m.is_empty())
        })
        .map(|(k, v)| {
            let (old, new) = if change == ChangeKind::Added {
                (None, Some(v.clone()))
            } else {
                (Some(v.clone()), None)
            };
            FieldChange {
                field: k.clone(),
                old,
                new,
            }
        })
        .collect();
    let (old_cites, new_cites) = if change == ChangeKind::Added {
        (Vec::new(), e.cites.clone())
    } else {
        (e.cites.clone(), Vec::new())
    };
    Change {
        element: kind,
        change,
        id: e.key.clone(),
        old_id: None,
        title: e.title.clone(),
        within: e.within.clone(),
        old_within: None,
        wording_only: false,
        fields,
        old_cites,
        new_cites,
    }
}
