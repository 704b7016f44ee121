//! Review: what one version of a protocol changes against another, for the
//! review groups that approve revisions and compare authorities.
//!
//! Both sides are rule packs ([`crate::emit::pack::RulePack`]): a protocol
//! file is compiled to its pack first, so one comparison serves protocols,
//! packs an app was shipped, and files read at git revisions alike. Like
//! every stage this one is pure: the command-line front end reads the
//! files and compiles them; this module only compares two packs
//! ([`compare`]) and writes the result for people ([`render::human`],
//! [`render::markdown`]) and tools ([`to_json`], whose contract is the JSON
//! Schema [`schema_json`], committed as
//! `schema/carepath-diff-1.schema.json`).
//!
//! A [`Review`] holds the structural changes ([`Review::structural`]:
//! elements added, removed, changed and renamed, matched by id) and the
//! behavioural ones ([`Review::behaviour`], `behaviour.rs`: which incidents
//! change level, police response, procedures or route, exactly, each region
//! with an example incident and the rules behind it), so that one document
//! carries both: a text change that no incident can see, and an incident
//! that a small text change moves to the police.

pub mod authorities;
pub mod behaviour;
pub mod findings;
pub mod picture;
pub mod render;
mod structure;

pub use behaviour::{Behaviour, BehaviourSummary, Direction, Region};
pub use findings::{Finding, Findings};

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::emit::pack::{Citation, RulePack};

/// The value of [`Review::format`].
pub const FORMAT: &str = "carepath-diff/1";

/// What a revision changes: `carepath diff --format json` prints one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// Always `carepath-diff/1`.
    #[schemars(extend("const" = "carepath-diff/1"))]
    pub format: String,
    /// The version compared against (the earlier one, usually).
    pub old: Side,
    /// The version under review.
    pub new: Side,
    /// Elements added, removed, changed and renamed. What they do to
    /// incidents is not part of this section: a change listed here may
    /// change no decision.
    pub structural: Structural,
    /// What the two versions do differently with incidents: the exit
    /// status of `carepath diff` reflects this section.
    pub behaviour: Behaviour,
    /// The analysis's findings that the revision brings in, resolves, or
    /// accepts differently.
    pub findings: Findings,
}

impl Review {
    /// Whether anything differs between the two sides, in text or in
    /// behaviour.
    pub fn changed(&self) -> bool {
        !self.structural.changes.is_empty() || self.behaviour.differs()
    }
}

/// One side of the comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Side {
    /// What the caller compared, in words: a file name, or a file at a git
    /// revision (`protocols/dorset.carepath at HEAD~3`).
    pub label: String,
    /// The protocol's id.
    pub protocol: String,
    /// The protocol's title.
    pub title: String,
    /// The protocol's version, when it states one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// The SHA-256 of the source files the pack was compiled from (the
    /// pack's `source.sha256`): equal on both sides when the sources are
    /// the same.
    pub source_sha256: String,
}

/// The structural changes, in the order of the pack (header, policy,
/// documents, settings, questions, levels, examples, rules, procedures,
/// routes, factors, checklists, actors, contacts, accepted findings), and
/// within a kind in the new version's order, then what it removed in the
/// old version's order. A question, route or checklist is directly
/// followed by the changes of its parts (options, steps, items); examples
/// follow all the levels, since one can move from level to level (so the
/// examples of a level added or removed are listed, as added or removed,
/// on their own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Structural {
    pub summary: Summary,
    pub changes: Vec<Change>,
}

/// How many changes of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    /// Changed elements, those changed in wording only included.
    pub changed: usize,
    /// Of the changed elements, those changed in wording only.
    pub wording_only: usize,
    pub renamed: usize,
}

impl Summary {
    fn of(changes: &[Change]) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            match c.change {
                ChangeKind::Added => s.added += 1,
                ChangeKind::Removed => s.removed += 1,
                ChangeKind::Changed => s.changed += 1,
                ChangeKind::Renamed => s.renamed += 1,
            }
            if c.wording_only {
                s.wording_only += 1;
            }
        }
        s
    }

    /// Every change counted once.
    pub fn total(&self) -> usize {
        self.added + self.removed + self.changed + self.renamed
    }
}

/// The kinds of element a protocol is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ElementKind {
    /// The protocol's header: id, title, authorities, partners, version,
    /// dates, source and notes.
    Header,
    /// The decision policy and its `otherwise` level.
    Policy,
    /// A document cited.
    Document,
    Setting,
    Question,
    /// An option of a one-of or scale question (`within` is the question).
    Option,
    Level,
    /// A document example of a level (`within` is the level). Examples have
    /// no id: they are matched by title, and one whose title is kept and
    /// level changed has moved.
    Example,
    Rule,
    Procedure,
    Route,
    /// A step, decision or outcome of a route (`within` is the route).
    Step,
    Factors,
    Checklist,
    /// An item of a checklist (`within` is the checklist).
    ChecklistItem,
    Actor,
    Contact,
    /// A finding of the analysis the protocol accepts. It has no id: it is
    /// matched by its code, the rules it is about and its subject.
    AcceptedFinding,
}

impl ElementKind {
    /// The element's name in words, as a report shows it.
    pub fn word(self) -> &'static str {
        match self {
            ElementKind::Header => "header",
            ElementKind::Policy => "policy",
            ElementKind::Document => "document",
            ElementKind::Setting => "setting",
            ElementKind::Question => "question",
            ElementKind::Option => "option",
            ElementKind::Level => "level",
            ElementKind::Example => "example",
            ElementKind::Rule => "rule",
            ElementKind::Procedure => "procedure",
            ElementKind::Route => "route",
            ElementKind::Step => "step",
            ElementKind::Factors => "factors",
            ElementKind::Checklist => "checklist",
            ElementKind::ChecklistItem => "checklist item",
            ElementKind::Actor => "actor",
            ElementKind::Contact => "contact",
            ElementKind::AcceptedFinding => "accepted finding",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Only the new version has it.
    Added,
    /// Only the old version has it.
    Removed,
    /// Both have it, under the same id, and something in it differs.
    Changed,
    /// The new version has the same content under another id (`old_id`).
    /// Citations may differ; nothing else does.
    Renamed,
}

/// One element added, removed, changed or renamed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub element: ElementKind,
    pub change: ChangeKind,
    /// The element's id (the new one when renamed, the old one when
    /// removed); an example's title; for an accepted finding, its code and
    /// the ids it is about; for the header and the policy, `protocol`.
    pub id: String,
    /// The old id, when the element was renamed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old_id: Option<String>,
    /// The element's title, as the newer side that has it writes it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// The id of the element this one is part of: the question of an
    /// option, the level of an example, the route of a step, the checklist
    /// of an item (the new one when it moved).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub within: Option<String>,
    /// Where the element was part of before, when it moved (an example
    /// placed at another level).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old_within: Option<String>,
    /// For a changed element: whether only its wording changed (titles,
    /// texts, meanings, messages, reasons, notes, citations, and conditions
    /// rewritten with the same JsonLogic), so that no condition, level,
    /// response or reference differs.
    pub wording_only: bool,
    /// What differs, field by field, as the pack writes the fields (for an
    /// added or removed element: its plain fields, on the side that has
    /// it). Conditions appear twice: the `*_text` the protocol writes and
    /// the JsonLogic an app evaluates.
    pub fields: Vec<FieldChange>,
    /// The element's citations in the old version.
    pub old_cites: Vec<Citation>,
    /// The element's citations in the new version.
    pub new_cites: Vec<Citation>,
}

/// A field of an element and its value on each side (absent where that
/// side does not have the field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    /// The field's name in the rule pack (`when_text`, `level`).
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub new: Option<Value>,
}

/// Compare two rule packs. `old_label` and `new_label` say in words what
/// each side is (a file name, a revision); they are shown, not read. A
/// rule pack records only the findings it accepts, so findings are not
/// compared (see [`compare_checked`]).
pub fn compare(old: &RulePack, new: &RulePack, old_label: &str, new_label: &str) -> Review {
    compare_checked(old, new, old_label, new_label, None)
}

/// [`compare`], with the findings of each side's check when both sides
/// were checked from their protocol ([`findings::of_diagnostics`]).
pub fn compare_checked(
    old: &RulePack,
    new: &RulePack,
    old_label: &str,
    new_label: &str,
    checked: Option<(&[Finding], &[Finding])>,
) -> Review {
    // The engines load while the structure is compared: behaviour needs
    // both, and the renames the structure finds.
    let (changes, engines) = std::thread::scope(|scope| {
        let engines = scope.spawn(|| behaviour::load_both(old, new));
        let changes = structure::changes(old, new);
        let engines = engines
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (changes, engines)
    });
    let behaviour = behaviour::compare_loaded(engines, &renames(&changes));
    let findings = match checked {
        Some((old_findings, new_findings)) => {
            // Any id the revision renamed (a rule, a level, a route step):
            // findings name several kinds of element.
            let renamed: BTreeMap<&str, &str> = changes
                .iter()
                .filter(|c| c.change == ChangeKind::Renamed)
                .filter_map(|c| Some((c.old_id.as_deref()?, c.id.as_str())))
                .collect();
            let rename = |id: &str| renamed.get(id).copied().unwrap_or(id).to_string();
            findings::compare(old_findings, new_findings, &rename)
        }
        None => Findings::not_compared(
            "a rule pack records only the findings its protocol accepts: findings are compared when both sides are protocols",
        ),
    };
    Review {
        format: FORMAT.to_string(),
        old: side(old, old_label),
        new: side(new, new_label),
        structural: Structural {
            summary: Summary::of(&changes),
            changes,
        },
        behaviour,
        findings,
    }
}

/// What the structural changes renamed, for the behavioural comparison.
fn renames(changes: &[Change]) -> behaviour::Renames {
    let mut r = behaviour::Renames::default();
    for c in changes.iter().filter(|c| c.change == ChangeKind::Renamed) {
        let Some(old) = c.old_id.clone() else {
            continue;
        };
        let new = c.id.clone();
        match (c.element, &c.within) {
            (ElementKind::Question, _) => r.questions.insert(old, new),
            (ElementKind::Setting, _) => r.settings.insert(old, new),
            (ElementKind::Level, _) => r.levels.insert(old, new),
            (ElementKind::Procedure, _) => r.procedures.insert(old, new),
            (ElementKind::Actor, _) => r.actors.insert(old, new),
            (ElementKind::Route, _) => r.routes.insert(old, new),
            (ElementKind::Option, Some(question)) => r.options.insert((question.clone(), old), new),
            (ElementKind::Step, Some(route)) => r.steps.insert((route.clone(), old), new),
            _ => None,
        };
    }
    r
}

fn side(pack: &RulePack, label: &str) -> Side {
    Side {
        label: label.to_string(),
        protocol: pack.protocol.id.clone(),
        title: pack.protocol.title.value.clone(),
        version: pack.protocol.version.as_ref().map(|v| v.value.clone()),
        source_sha256: pack.source.sha256.clone(),
    }
}

/// The review as JSON: two-space indentation, a final newline.
pub fn to_json(review: &Review) -> String {
    pretty(review)
}

/// The JSON Schema of the review format, as committed in
/// `schema/carepath-diff-1.schema.json`.
pub fn schema_json() -> String {
    pretty(&schemars::schema_for!(Review))
}

/// A review document or its schema as JSON: two-space indentation, a
/// final newline.
fn pretty<T: Serialize>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("review documents serialise");
    out.push('\n');
    out
}
