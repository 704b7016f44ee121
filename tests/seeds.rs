//! The seed protocols against the incidents their reviewers ran: each
//! `tests/seeds/<id>.toml` is a table of incidents in words, with the
//! answers, the setting, the paragraph that decides them and what the
//! document says should happen. Every case is decided with the rule pack
//! built from `protocols/<id>.carepath`, as `carepath build` builds it.
//!
//! A case names the level (or `gap = true` where the protocol accepts that
//! the document gives none, or `refused` where it does not cover the
//! incident at all), the police response, the first contacts on the route
//! and the procedures that run alongside (`id: response` to check a
//! procedure's own police response too). Contacts are written
//! `<kind> <contact>` (`contact police-999`, `inform social-worker`), with
//! ` else ` between a contact and its fallbacks and a trailing `?` when the
//! route leaves the action to a condition staff judge (`only when`, `if in
//! doubt`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use carepath::eval::{AnswerError, Decision, Engine};
use serde::Deserialize;

use carepath::model::Workspace;

use crate::support::{PROTOCOLS, disk_reader, error_lines};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    /// The document the cases come from, in words.
    document: String,
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Case {
    id: String,
    /// The incident in words.
    incident: String,
    /// The paragraphs of the document that decide it.
    paragraph: String,
    /// Where the case comes from: a review's incident, or a defect's.
    #[serde(default)]
    source: Option<String>,
    setting: String,
    answers: toml::Table,
    /// The level decided; absent when `gap` is true.
    #[serde(default)]
    level: Option<String>,
    /// The document gives no level, and the protocol accepts the gap.
    #[serde(default)]
    gap: bool,
    /// The incident cannot be decided at all (a setting the document does
    /// not cover): the words the refusal must contain.
    #[serde(default)]
    refused: Option<String>,
    /// The police response (`none`, `judgement`, `advice`, `report`,
    /// `prompt`, `emergency`, `unstated`).
    #[serde(default)]
    police: Option<String>,
    /// Who judges, for `judgement` (the actor's title, as `decide` names
    /// them).
    #[serde(default)]
    police_by: Option<String>,
    /// The first actions of the level's route, in the order walked.
    #[serde(default)]
    first_contacts: Vec<String>,
    /// Contacts that must not be named anywhere on the walked route.
    #[serde(default)]
    never_contacts: Vec<String>,
    /// The first steps of the route walked (node ids), in order.
    #[serde(default)]
    route_starts: Vec<String>,
    /// Procedures that apply (exactly these), each `id` or `id: response`
    /// to check its police response too.
    #[serde(default)]
    procedures: Vec<String>,
    /// Levels `may` rules suggest (exactly these).
    #[serde(default)]
    suggests: Vec<String>,
}

fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        toml::Value::String(s) => s.clone().into(),
        other => panic!("an answer is true/false, an option id or a number, not {other:?}"),
    }
}

/// The rule pack of one seed protocol, built from its source.
fn engine(id: &str) -> Engine {
    let path = PathBuf::from(format!("protocols/{id}.carepath"));
    let text = std::fs::read_to_string(&path).expect("readable");
    let mut ws = Workspace::new();
    let root = ws.add_root(
        &path,
        Path::new("protocols"),
        text.clone(),
        &mut disk_reader,
    );
    let checked = carepath::check(&ws, root);
    let mut errors = error_lines(&ws.diagnostics());
    errors.extend(error_lines(&checked.diagnostics));
    assert!(errors.is_empty(), "{id}: {}", errors.join("\n"));
    let model = checked.model.expect("no errors, so a model");
    let files = [carepath::emit::SourceText {
        path: path.display().to_string(),
        text: &text,
    }];
    let pack = carepath::emit::rule_pack(&model, &files, &checked.diagnostics);
    Engine::new(pack).expect("the pack loads")
}

/// The actions of the walked route, as a case writes them.
fn actions(d: &Decision) -> Vec<String> {
    let Some(route) = &d.route else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for step in &route.steps {
        for a in &step.actions {
            let kind = serde_json::to_value(a.kind).expect("a kind");
            for chain in &a.targets {
                let ids: Vec<&str> = chain.iter().map(|c| c.id).collect();
                let open = step.only_if.is_some() || a.only_if.is_some() || a.in_doubt;
                out.push(format!(
                    "{} {}{}",
                    kind.as_str().expect("a word"),
                    ids.join(" else "),
                    if open { "?" } else { "" }
                ));
            }
        }
    }
    out
}

/// Every way `d` differs from what `case` expects.
fn differences(case: &Case, d: &Decision) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, want: &dyn std::fmt::Debug, got: &dyn std::fmt::Debug| {
        out.push(format!("{what}: expected {want:?}, got {got:?}"));
    };
    if case.gap || case.refused.is_some() {
        let want = if case.gap {
            "an accepted gap"
        } else {
            "a refusal"
        };
        differ("level", &want, &d.level.id);
        return out;
    }
    if case.level.as_deref() != Some(d.level.id) {
        differ("level", &case.level, &d.level.id);
    }
    let police = serde_json::to_value(d.police.response).expect("a response");
    if case.police.as_deref() != police.as_str() {
        differ("police", &case.police, &police);
    }
    if case.police_by.is_some() && case.police_by != d.police.by.map(str::to_string) {
        differ("police by", &case.police_by, &d.police.by);
    }
    let walked = actions(d);
    if !walked.starts_with(&case.first_contacts) {
        differ("first contacts", &case.first_contacts, &walked);
    }
    for c in &case.never_contacts {
        let named = walked
            .iter()
            .any(|a| a.trim_end_matches('?').split(' ').skip(1).any(|id| id == c));
        if named {
            differ("never contacted", c, &walked);
        }
    }
    let steps: Vec<String> = d
        .route
        .iter()
        .flat_map(|r| r.steps.iter().map(|s| s.id.to_string()))
        .collect();
    if !steps.starts_with(&case.route_starts) {
        differ("route", &case.route_starts, &steps);
    }
    // `id`, or `id: response` to check the procedure's police response.
    let procedures: BTreeSet<String> = d
        .procedures
        .iter()
        .map(|p| {
            let wants_response = case
                .procedures
                .iter()
                .any(|w| w.split_once(':').is_some_and(|(id, _)| id.trim() == p.id));
            match (&p.police, wants_response) {
                (Some(police), true) => {
                    let r = serde_json::to_value(police.response).expect("a response");
                    format!("{}: {}", p.id, r.as_str().expect("a word"))
                }
                _ => p.id.to_string(),
            }
        })
        .collect();
    let want: BTreeSet<String> = case
        .procedures
        .iter()
        .map(|w| match w.split_once(':') {
            Some((id, r)) => format!("{}: {}", id.trim(), r.trim()),
            None => w.clone(),
        })
        .collect();
    if procedures != want {
        differ("procedures", &want, &procedures);
    }
    let suggested: BTreeSet<&str> = d.suggestions.iter().map(|r| r.level).collect();
    let want: BTreeSet<&str> = case.suggests.iter().map(String::as_str).collect();
    if suggested != want {
        differ("suggested levels", &want, &suggested);
    }
    out
}

/// Decide every case of `tests/seeds/<id>.toml`; fail listing every case
/// that does not come out as the document says.
fn run(id: &str) {
    let text = std::fs::read_to_string(format!("tests/seeds/{id}.toml")).expect("a case table");
    let table: Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("tests/seeds/{id}.toml: {e}"));
    assert!(!table.document.is_empty());
    assert!(!table.cases.is_empty(), "{id}: no cases");
    let engine = engine(id);
    let mut seen = BTreeSet::new();
    let mut report = String::new();
    for case in &table.cases {
        assert!(
            seen.insert(case.id.as_str()),
            "{id}: case {} twice",
            case.id
        );
        assert!(
            [case.gap, case.level.is_some(), case.refused.is_some()]
                .iter()
                .filter(|x| **x)
                .count()
                == 1,
            "{id} {}: give one of a level, `gap = true` or `refused`",
            case.id
        );
        assert!(!case.incident.is_empty() && !case.paragraph.is_empty());
        let given: serde_json::Map<String, serde_json::Value> = case
            .answers
            .iter()
            .map(|(k, v)| (k.clone(), toml_to_json(v)))
            .collect();
        let problems = match engine
            .answers(&given)
            .and_then(|a| engine.decide(&a, &case.setting))
        {
            Ok(d) => {
                let json = serde_json::to_value(&d).expect("a decision serialises");
                crate::support::assert_valid_decision(&json, &case.id);
                differences(case, &d)
            }
            Err(errors) => {
                let gap = matches!(errors.as_slice(), [AnswerError::NoLevel { .. }]);
                let refused = case
                    .refused
                    .as_deref()
                    .is_some_and(|words| errors.iter().any(|e| e.to_string().contains(words)));
                if (case.gap && gap) || refused {
                    Vec::new()
                } else {
                    errors.iter().map(|e| format!("no decision: {e}")).collect()
                }
            }
        };
        if !problems.is_empty() {
            let from = case.source.as_deref().map(|s| format!("; {s}"));
            let _ = writeln!(
                report,
                "\n{id} {} ({}; {}{}):",
                case.id,
                case.incident,
                case.paragraph,
                from.unwrap_or_default()
            );
            for p in problems {
                let _ = writeln!(report, "  {p}");
            }
        }
    }
    assert!(
        report.is_empty(),
        "cases that differ from the document:{report}"
    );
}

#[test]
fn every_seed_protocol_has_a_case_table() {
    let tables: BTreeSet<String> = std::fs::read_dir("tests/seeds")
        .expect("tests/seeds")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().expect("stem").to_string_lossy().into_owned())
        .collect();
    let protocols: BTreeSet<String> = PROTOCOLS.iter().map(|p| p.to_string()).collect();
    assert_eq!(tables, protocols);
}

#[test]
fn derbyshire() {
    run("derbyshire");
}

#[test]
fn dorset() {
    run("dorset");
}

#[test]
fn stockport() {
    run("stockport");
}

#[test]
fn west_sussex() {
    run("west-sussex");
}

#[test]
fn wiltshire() {
    run("wiltshire");
}
