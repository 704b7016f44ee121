//! `carepath diff` and `carepath::review`: every kind of element added,
//! removed and changed, renames and wording-only changes told apart, the
//! Dorset seed scenario (6.18's Class A example moved to Level 3), files at
//! git revisions read without touching the work tree, rule packs, errors,
//! the JSON against its committed schema, and hostile text shown inert.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use carepath::emit::pack::RulePack;
use carepath::review::{self, ChangeKind, ElementKind, Review, render};
use serde_json::{Value, json};

use crate::support::{scratch, text};

pub(crate) fn carepath_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carepath"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("carepath runs")
}

fn carepath(args: &[&str]) -> Output {
    carepath_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, &[])
}

pub(crate) fn status(o: &Output) -> i32 {
    o.status.code().expect("an exit status")
}

/// A committed rule pack from `out/`, as JSON.
pub(crate) fn pack_value(id: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("out/{id}.json"));
    serde_json::from_str(&fs::read_to_string(path).expect("a committed pack")).expect("JSON")
}

pub(crate) fn pack(v: &Value) -> RulePack {
    serde_json::from_value(v.clone()).expect("still a rule pack")
}

fn compare(old: &Value, new: &Value) -> Review {
    review::compare(&pack(old), &pack(new), "old", "new")
}

/// The committed JSON Schema of the review format.
fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/carepath-diff-1.schema.json");
    let schema: Value =
        serde_json::from_str(&fs::read_to_string(path).expect("the committed schema"))
            .expect("the schema is JSON");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn assert_valid(review: &Review, what: &str) {
    let value: Value = serde_json::from_str(&review::to_json(review)).expect("JSON");
    let errors: Vec<String> = validator()
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
}

/// 64 hexadecimal digits (source digests, which change with any edit of
/// the seed protocols) as `[sha256]`, so snapshots show the report's shape.
fn without_digests(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "[sha256]" } else { &run });
        run.clear();
        out.push(c);
    }
    out.push_str(if run.len() == 64 { "[sha256]" } else { &run });
    out
}

// ------------------------------------------------------------- every kind

/// The list of elements of `kind` in a pack's JSON (for parts, those of
/// the first whole that has any), when the pack has one.
fn list(v: &mut Value, kind: ElementKind) -> Option<&mut Vec<Value>> {
    fn top<'a>(v: &'a mut Value, name: &str) -> Option<&'a mut Vec<Value>> {
        v.get_mut(name)?.as_array_mut().filter(|a| !a.is_empty())
    }
    fn nested<'a>(v: &'a mut Value, outer: &str, inner: &str) -> Option<&'a mut Vec<Value>> {
        v.get_mut(outer)?
            .as_array_mut()?
            .iter_mut()
            // The setting question's options are the settings.
            .filter(|o| o["kind"] != "setting")
            .find_map(|o| o.get_mut(inner)?.as_array_mut().filter(|a| !a.is_empty()))
    }
    match kind {
        ElementKind::Document => top(v, "documents"),
        ElementKind::Setting => top(v, "settings"),
        ElementKind::Question => top(v, "questions"),
        ElementKind::Option => nested(v, "questions", "options"),
        ElementKind::Level => top(v, "levels"),
        ElementKind::Example => nested(v, "levels", "examples"),
        ElementKind::Rule => top(v, "rules"),
        ElementKind::Procedure => top(v, "procedures"),
        ElementKind::Route => top(v, "routes"),
        ElementKind::Step => nested(v, "routes", "nodes"),
        ElementKind::Factors => top(v, "factors"),
        ElementKind::Checklist => top(v, "checklists"),
        ElementKind::ChecklistItem => nested(v, "checklists", "items"),
        ElementKind::Actor => top(v, "actors"),
        ElementKind::Contact => top(v, "contacts"),
        ElementKind::AcceptedFinding => top(v, "accepted_findings"),
        ElementKind::Header | ElementKind::Policy => None,
    }
}

/// What an element is matched by.
fn key_field(kind: ElementKind) -> &'static str {
    match kind {
        ElementKind::Example => "title",
        ElementKind::AcceptedFinding => "code",
        _ => "id",
    }
}

/// A change of each kind that is more than wording, where the kind has a
/// field that is (options and actors have only titles, notes and
/// citations).
fn substantive(kind: ElementKind) -> Option<Vec<(&'static str, Value)>> {
    let x = json!({"var": "x"});
    Some(match kind {
        ElementKind::Document => vec![("source", json!("https://example.org/new"))],
        ElementKind::Setting => vec![("no_route", json!("none, by a test"))],
        ElementKind::Question => vec![("asked_when", x), ("asked_when_text", json!("x"))],
        ElementKind::Level => vec![("rank", json!(99))],
        ElementKind::Example => vec![("given", x), ("given_text", json!("x"))],
        ElementKind::Rule => vec![("level", json!("elsewhere"))],
        ElementKind::Procedure => vec![("when", x), ("when_text", json!("x"))],
        ElementKind::Route => vec![("settings", json!(["elsewhere"]))],
        ElementKind::Step => vec![("next", json!("elsewhere"))],
        ElementKind::Factors => vec![("items", json!(["an item added by a test"]))],
        ElementKind::Checklist => vec![("follows", json!("elsewhere"))],
        ElementKind::ChecklistItem => vec![("by", json!(["elsewhere"]))],
        ElementKind::Contact => vec![("phone", json!("0000"))],
        ElementKind::AcceptedFinding => vec![("witness", json!({"x": true}))],
        ElementKind::Option | ElementKind::Actor => return None,
        ElementKind::Header | ElementKind::Policy => return None,
    })
}

const LISTED: [ElementKind; 16] = [
    ElementKind::Document,
    ElementKind::Setting,
    ElementKind::Question,
    ElementKind::Option,
    ElementKind::Level,
    ElementKind::Example,
    ElementKind::Rule,
    ElementKind::Procedure,
    ElementKind::Route,
    ElementKind::Step,
    ElementKind::Factors,
    ElementKind::Checklist,
    ElementKind::ChecklistItem,
    ElementKind::Actor,
    ElementKind::Contact,
    ElementKind::AcceptedFinding,
];

/// A seed pack that has an element of `kind`, as JSON.
fn pack_with(kind: ElementKind) -> Value {
    crate::support::PROTOCOLS
        .iter()
        .map(|id| pack_value(id))
        .find_map(|mut v| list(&mut v, kind).is_some().then_some(v))
        .unwrap_or_else(|| panic!("no seed pack has a {}", kind.word()))
}

/// The one change `review` holds, or a failure listing them all.
fn only_change(review: &Review, what: &str) -> review::Change {
    let changes = &review.structural.changes;
    assert_eq!(
        changes.len(),
        1,
        "{what}: expected one change, got {}",
        review::to_json(review)
    );
    assert!(review.changed());
    assert_eq!(review.structural.summary.total(), 1, "{what}");
    changes[0].clone()
}

#[test]
fn an_element_of_every_kind_added_is_reported_with_its_citations() {
    for kind in LISTED {
        let old = pack_with(kind);
        let mut new = old.clone();
        let items = list(&mut new, kind).expect("listed");
        let mut added = items[0].clone();
        let key = key_field(kind);
        let name = format!("added-by-a-test-{}", kind.word().replace(' ', "-"));
        added[key] = json!(name);
        items.push(added.clone());
        let review = compare(&old, &new);
        let c = only_change(&review, kind.word());
        assert_eq!((c.element, c.change), (kind, ChangeKind::Added), "{c:?}");
        assert!(c.id.starts_with(&name), "{c:?}");
        assert!(c.old_cites.is_empty());
        let cites: Vec<carepath::emit::pack::Citation> =
            serde_json::from_value(added.get("cites").cloned().unwrap_or(json!([])))
                .expect("citations");
        assert_eq!(c.new_cites, cites, "{}", kind.word());
        assert!(!c.wording_only);
        assert!(
            c.fields.iter().all(|f| f.old.is_none() && f.new.is_some()),
            "{c:?}"
        );
        assert_valid(&review, kind.word());
    }
}

#[test]
fn an_element_of_every_kind_removed_is_reported_with_its_citations() {
    for kind in LISTED {
        let old = pack_with(kind);
        let mut new = old.clone();
        let items = list(&mut new, kind).expect("listed");
        let removed = items.pop().expect("an element");
        let key = removed[key_field(kind)].as_str().expect("a key");
        let mut review = compare(&old, &new);
        if kind == ElementKind::Level {
            // A level's examples are listed on their own, as removed from
            // it, so that one that moved elsewhere would be seen.
            let examples = removed["examples"].as_array().expect("examples").len();
            let (level, of_it): (Vec<_>, Vec<_>) = review
                .structural
                .changes
                .iter()
                .cloned()
                .partition(|c| c.element == ElementKind::Level);
            assert_eq!(of_it.len(), examples);
            assert!(of_it.iter().all(|c| c.element == ElementKind::Example
                && c.change == ChangeKind::Removed
                && c.within.as_deref() == Some(key)));
            review.structural.changes = level;
            review.structural.summary.removed = 1;
        }
        let c = only_change(&review, kind.word());
        assert_eq!((c.element, c.change), (kind, ChangeKind::Removed), "{c:?}");
        assert!(c.id.starts_with(key), "{c:?}");
        assert!(c.new_cites.is_empty());
        assert_eq!(
            c.old_cites,
            serde_json::from_value::<Vec<_>>(removed.get("cites").cloned().unwrap_or(json!([])))
                .expect("citations")
        );
        assert!(
            c.fields.iter().all(|f| f.old.is_some() && f.new.is_none()),
            "{c:?}"
        );
        assert_valid(&review, kind.word());
    }
}

#[test]
fn an_element_of_every_kind_reworded_is_a_change_in_wording_only() {
    for kind in LISTED {
        let old = pack_with(kind);
        let mut new = old.clone();
        let item = &mut list(&mut new, kind).expect("listed")[0];
        let field = if item.get("notes").is_some() {
            item["notes"]
                .as_array_mut()
                .expect("notes")
                .push(json!("A note added by a test."));
            "notes"
        } else if kind != ElementKind::Example && item.get("title").is_some() {
            item["title"] = json!(format!("{} (reworded)", item["title"]));
            "title"
        } else {
            item["reason"] = json!("Reworded by a test.");
            "reason"
        };
        let review = compare(&old, &new);
        let c = only_change(&review, kind.word());
        assert_eq!((c.element, c.change), (kind, ChangeKind::Changed), "{c:?}");
        assert!(c.wording_only, "{c:?}");
        assert_eq!(review.structural.summary.wording_only, 1);
        assert_eq!(
            c.fields
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>(),
            [field]
        );
        assert_valid(&review, kind.word());
    }
}

#[test]
fn an_element_of_every_kind_changed_in_substance_is_not_wording_only() {
    for kind in LISTED {
        let Some(edits) = substantive(kind) else {
            continue;
        };
        let old = pack_with(kind);
        let mut new = old.clone();
        let item = &mut list(&mut new, kind).expect("listed")[0];
        let before = item.clone();
        for (field, value) in &edits {
            item[*field] = value.clone();
        }
        let review = compare(&old, &new);
        let c = only_change(&review, kind.word());
        assert_eq!((c.element, c.change), (kind, ChangeKind::Changed), "{c:?}");
        assert!(!c.wording_only, "{c:?}");
        let (field, value) = &edits[0];
        let f = c
            .fields
            .iter()
            .find(|f| f.field == *field)
            .unwrap_or_else(|| panic!("{} changes {field}: {c:?}", kind.word()));
        assert_eq!(f.new.as_ref(), Some(value));
        assert_eq!(f.old.as_ref(), before.get(*field));
        assert_eq!(c.old_cites, c.new_cites);
        assert_valid(&review, kind.word());
    }
}

#[test]
fn the_header_and_the_policy_are_compared() {
    let old = pack_value("dorset");
    let mut new = old.clone();
    new["protocol"]["title"]["value"] = json!("A new title");
    let c = only_change(&compare(&old, &new), "title");
    assert_eq!(
        (c.element, c.change),
        (ElementKind::Header, ChangeKind::Changed)
    );
    assert!(c.wording_only);
    assert!(!c.new_cites.is_empty(), "the header's citations are shown");

    let mut new = old.clone();
    new["protocol"]["authorities"][0]["value"] = json!("Another council");
    new["protocol"]["effective"]["value"] = json!("2031");
    let c = only_change(&compare(&old, &new), "authorities");
    assert_eq!(c.element, ElementKind::Header);
    assert!(!c.wording_only);
    let fields: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["authorities", "effective"]);

    let mut new = old.clone();
    new["policy"]["kind"] = json!("first-match");
    let review = compare(&old, &new);
    let c = only_change(&review, "policy");
    assert_eq!(
        (c.element, c.change),
        (ElementKind::Policy, ChangeKind::Changed)
    );
    assert!(!c.wording_only);
    assert_eq!(c.fields[0].old, Some(json!("most-serious")));
    assert_eq!(c.fields[0].new, Some(json!("first-match")));
    assert_valid(&review, "policy");
}

#[test]
fn the_same_pack_has_no_changes() {
    for id in crate::support::PROTOCOLS {
        let v = pack_value(id);
        let review = compare(&v, &v);
        assert!(!review.changed(), "{id}");
        assert_eq!(review.structural.summary.total(), 0);
        assert_valid(&review, id);
        assert!(render::human(&review, render::Style::default()).contains("no structural changes"));
    }
}

#[test]
fn two_authorities_are_compared_element_by_element() {
    // Two of the smaller seeds: their behaviour is compared in a second
    // in the test profile, where Dorset against any other takes a minute.
    let review = compare(&pack_value("derbyshire"), &pack_value("wiltshire"));
    assert!(review.changed());
    let s = review.structural.summary;
    assert!(s.added > 0 && s.removed > 0 && s.changed > 0, "{s:?}");
    // Both import the common questions: the one they share unchanged is
    // not listed.
    assert!(
        !review
            .structural
            .changes
            .iter()
            .any(|c| c.element == ElementKind::Question && c.id == "serious-harm-risk"),
        "{}",
        review::to_json(&review)
    );
    assert_valid(&review, "derbyshire against wiltshire");
}

// ------------------------------------------------------ the seed scenario

/// `protocols/` copied into `dir`, so that a test can edit a protocol and
/// keep its imports.
fn copy_protocols(dir: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
    for sub in ["", "common"] {
        fs::create_dir_all(dir.join(sub)).expect("folder");
        for entry in fs::read_dir(from.join(sub)).expect("protocols") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "carepath") {
                fs::copy(&path, dir.join(sub).join(path.file_name().expect("name")))
                    .expect("copied");
            }
        }
    }
}

const CLASS_A_EXAMPLE: &str = r#"  example "Possession of Class A drugs" {
    given drugs == possession and drug-class == class-a and a-occasion == 1
    cite "6.18"
  }
"#;

/// Dorset with 6.18's Class A example moved to Level 3, and the rule that
/// decides it with it (the example alone at Level 3 would be misclassified,
/// an error).
fn class_a_at_level_3(dorset: &str) -> String {
    assert!(
        dorset.contains(CLASS_A_EXAMPLE),
        "the seed example is there"
    );
    let moved = dorset.replacen(CLASS_A_EXAMPLE, "", 1);
    let at = moved
        .find("  example \"Risk of serious harm\"")
        .expect("Level 3's first example");
    let moved = format!("{}{CLASS_A_EXAMPLE}{}", &moved[..at], &moved[at..]);
    let rule = "and a-occasion == 1\n  then level-2";
    assert!(moved.contains(rule), "the rule first-a-possession is there");
    moved.replacen(rule, "and a-occasion == 1\n  then level-3", 1)
}

/// A folder with the seed protocols and `dorset-revised.carepath`.
fn seed_scenario(name: &str) -> PathBuf {
    let dir = scratch(name);
    copy_protocols(&dir);
    let dorset = fs::read_to_string(dir.join("dorset.carepath")).expect("dorset");
    fs::write(
        dir.join("dorset-revised.carepath"),
        class_a_at_level_3(&dorset),
    )
    .expect("written");
    dir
}

#[test]
fn dorset_with_the_class_a_example_moved_to_level_3() {
    let dir = seed_scenario("diff-seed-json");
    let o = carepath_in(
        &dir,
        &[
            "diff",
            "dorset.carepath",
            "dorset-revised.carepath",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(status(&o), 1, "{}", text(&o.stderr));
    let review: Review = serde_json::from_slice(&o.stdout).expect("a review");
    assert_valid(&review, "seed");
    let changes = &review.structural.changes;
    let example = changes
        .iter()
        .find(|c| c.element == ElementKind::Example)
        .expect("the example");
    assert_eq!(example.id, "Possession of Class A drugs");
    assert_eq!(example.change, ChangeKind::Changed);
    assert_eq!(example.old_within.as_deref(), Some("level-2"));
    assert_eq!(example.within.as_deref(), Some("level-3"));
    assert!(!example.wording_only);
    assert_eq!(example.new_cites[0].section, "6.18");
    let rule = changes
        .iter()
        .find(|c| c.element == ElementKind::Rule)
        .expect("the rule");
    assert_eq!(rule.id, "first-a-possession");
    assert_eq!(rule.fields.len(), 1);
    assert_eq!(rule.fields[0].field, "level");
    assert_eq!(rule.fields[0].old, Some(json!("level-2")));
    assert_eq!(rule.fields[0].new, Some(json!("level-3")));
    let sections: Vec<&str> = rule.old_cites.iter().map(|c| c.section.as_str()).collect();
    assert_eq!(sections, ["6.18", "6.23"]);
    // Nothing else changes but the wording of what the analysis says.
    for c in changes {
        if c.element != ElementKind::Example && c.element != ElementKind::Rule {
            assert!(c.wording_only, "{c:?}");
        }
    }
    assert_eq!(changes.len(), review.structural.summary.total());
    // Behaviour: the first Class A possession, and only it, moves from
    // Level 2 to Level 3, never to less police involvement.
    let b = &review.behaviour;
    assert_eq!(b.not_compared, None);
    assert!(
        b.summary.changed > 0 && !b.summary.neutral,
        "{:?}",
        b.summary
    );
    assert!(b.summary.more_police > 0, "{:?}", b.summary);
    assert_eq!(b.summary.less_police, 0, "{:?}", b.summary);
    // What every moved incident shares: a first Class A possession.
    let shared = b.shared_when.as_deref().expect("a shared condition");
    assert!(
        shared.contains("drug-class == class-a") && shared.contains("a-occasion == 1"),
        "{shared}"
    );
    for r in &b.regions {
        assert_eq!(r.old.handling.level.as_deref(), Some("level-2"), "{r:?}");
        assert_eq!(r.new.handling.level.as_deref(), Some("level-3"), "{r:?}");
        assert!(
            r.new.rules.iter().any(|x| x.id == "first-a-possession"),
            "{r:?}"
        );
        assert_eq!(r.witness.old_answers["drug-class"], json!("class-a"));
    }
    let example = b
        .examples
        .iter()
        .find(|e| e.title == "Possession of Class A drugs" && e.level == "level-2")
        .expect("the old example");
    assert!(
        example.moved && example.other_levels == ["level-3"],
        "{example:?}"
    );
    // Stopping only revisions that send more children to the police.
    let o = carepath_in(
        &dir,
        &[
            "diff",
            "dorset.carepath",
            "dorset-revised.carepath",
            "--format",
            "json",
            "--fail-on",
            "less-police",
        ],
        &[],
    );
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
}

#[test]
fn a_renamed_reworded_rule_is_behaviour_neutral() {
    let dir = scratch("diff-neutral");
    copy_protocols(&dir);
    let dorset = fs::read_to_string(dir.join("dorset.carepath")).expect("dorset");
    let from = "rule second-a-possession \"";
    assert!(dorset.contains(from), "the rule is there");
    let renamed = dorset.replacen(from, "rule repeat-a-possession \"Reworded: ", 1);
    fs::write(dir.join("renamed.carepath"), renamed).expect("written");
    let o = carepath_in(
        &dir,
        &[
            "diff",
            "dorset.carepath",
            "renamed.carepath",
            "--format",
            "json",
            "--fail-on",
            "any",
        ],
        &[],
    );
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    let review: Review = serde_json::from_slice(&o.stdout).expect("a review");
    assert_valid(&review, "neutral");
    assert!(review.structural.summary.total() > 0);
    let b = &review.behaviour;
    assert!(b.summary.neutral && b.regions.is_empty(), "{:?}", b.summary);
    assert!(b.summary.incident_classes > 0);
    assert!(b.examples.iter().all(|e| !e.moved), "{:?}", b.examples);
}

#[test]
fn the_seed_scenario_for_people_and_for_papers() {
    let dir = seed_scenario("diff-seed-snapshots");
    let args = ["diff", "dorset.carepath", "dorset-revised.carepath"];
    let human = carepath_in(&dir, &args, &[]);
    assert_eq!(status(&human), 1, "{}", text(&human.stderr));
    let markdown = carepath_in(&dir, &[&args[..], &["--format", "markdown"]].concat(), &[]);
    assert_eq!(status(&markdown), 1);
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("diff_dorset_class_a_human", without_digests(&text(&human.stdout)));
        insta::assert_snapshot!("diff_dorset_class_a_markdown", without_digests(&text(&markdown.stdout)));
    });
}

#[test]
fn a_rename_only_change_lists_renames_and_nothing_else() {
    // Derbyshire, whose behaviour is compared in well under a second in the
    // test profile (Dorset's takes twenty).
    let dir = scratch("diff-rename");
    copy_protocols(&dir);
    let derbyshire = fs::read_to_string(dir.join("derbyshire.carepath")).expect("derbyshire");
    // Whole words only: `level-3` but not `level-30`.
    let rename = |text: &str, from: &str, to: &str| -> String {
        let word = |c: char| c.is_alphanumeric() || c == '-';
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(from) {
            let before = rest[..i].chars().next_back().is_some_and(word);
            let after = rest[i + from.len()..].chars().next().is_some_and(word);
            out.push_str(&rest[..i]);
            out.push_str(if before || after { from } else { to });
            rest = &rest[i + from.len()..];
        }
        out.push_str(rest);
        out
    };
    let renamed = rename(&derbyshire, "no-immediate", "police-input");
    let renamed = rename(&renamed, "police-essential", "police-needed");
    let renamed = rename(&renamed, "reasonable-parent-yes", "parent-would-call");
    // The header's note names the level in prose once; prose stays.
    let prose = "the police-input category";
    assert_eq!(renamed.matches(prose).count(), 1);
    let renamed = renamed.replacen(prose, "the no-immediate category", 1);
    assert_ne!(renamed, derbyshire);
    fs::write(dir.join("renamed.carepath"), renamed).expect("written");
    let o = carepath_in(
        &dir,
        &[
            "diff",
            "derbyshire.carepath",
            "renamed.carepath",
            "--format",
            "json",
        ],
        &[],
    );
    // Behaviour reads the old version's renamed question, level and rule
    // by their new names: a rename alone moves no incident.
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    let review: Review = serde_json::from_slice(&o.stdout).expect("a review");
    let b = &review.behaviour;
    assert!(b.summary.neutral && b.regions.is_empty(), "{:?}", b.summary);
    assert!(b.only_old_asks.is_empty() && b.only_new_asks.is_empty());
    assert!(b.examples.iter().all(|e| !e.moved), "{:?}", b.examples);
    let found: Vec<(ElementKind, &str, Option<&str>)> = review
        .structural
        .changes
        .iter()
        .map(|c| (c.element, c.id.as_str(), c.old_id.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (
                ElementKind::Question,
                "police-needed",
                Some("police-essential")
            ),
            (ElementKind::Level, "police-input", Some("no-immediate")),
            (
                ElementKind::Rule,
                "parent-would-call",
                Some("reasonable-parent-yes")
            ),
        ]
    );
    assert!(
        review
            .structural
            .changes
            .iter()
            .all(|c| c.change == ChangeKind::Renamed && c.fields.is_empty())
    );
    assert_eq!(review.structural.summary.renamed, 3);
    // The findings are about the renamed rule and level, read by their new
    // names: the same findings.
    let f = &review.findings;
    assert!(f.not_compared.is_none() && !f.differ(), "{f:?}");
    assert_eq!(f.kept, 4, "Derbyshire's accepted gap and examples");
}

/// A protocol whose options, settings, routes and route steps all decide
/// something: `{kind}` names its theft option, `{foster}` its foster
/// setting, `{main}` its route, `{call}` the step where its emergencies
/// enter the route.
const NAMED_PARTS: &str = r#"protocol parts {
  title "Parts"
  authority "Authority"
  source "S"
  policy most-serious
  otherwise low
}
setting residential "Children's home" { cite "1" }
setting {foster} "Foster home" { cite "1" }
actor staff "Staff"
question kind "What happened?" {
  answer one of { {kind} "Theft" damage "Damage" }
}
question injury "Was anyone hurt?" { answer yes or no }
level low "Handled at home" { police none }
level high "Emergency" { police emergency }
rule theft-in-foster { when kind == {kind} and setting == {foster} then high cite "2" }
rule hurt { when injury then high cite "2" }
route {main} "Main" {
  for residential, {foster}
  cite "3"
  start low -> record
  start high -> {call}
  step record "Record it" { by staff then done }
  step {call} "Call the police" { by staff then done }
  outcome done "Done"
}
"#;

#[test]
fn renamed_options_settings_routes_and_steps_are_behaviour_neutral() {
    let named = |kind: &str, foster: &str, main: &str, call: &str| {
        let text = NAMED_PARTS
            .replace("{kind}", kind)
            .replace("{foster}", foster)
            .replace("{main}", main)
            .replace("{call}", call);
        crate::support::compile_in_memory("parts.carepath", &text, "parts").1
    };
    let old = named("theft", "foster", "main", "call-999");
    // The changes a revision makes, once its behaviour is shown neutral
    // with the renames read and different without them (the theft option,
    // the foster setting and the route entry are other ids).
    let neutral = |new: &RulePack| -> Vec<(ElementKind, String, Option<String>)> {
        let review = review::compare(&old, new, "old", "new");
        let b = &review.behaviour;
        assert!(b.not_compared.is_none(), "{:?}", b.not_compared);
        assert!(
            b.summary.neutral && b.regions.is_empty(),
            "{:#?}",
            b.regions
        );
        let unmatched = review::behaviour::compare(&old, new);
        assert!(unmatched.differs(), "{:?}", unmatched.summary);
        review
            .structural
            .changes
            .iter()
            .map(|c| (c.element, c.id.clone(), c.old_id.clone()))
            .collect()
    };
    let change = |kind: ElementKind, id: &str, old: &str| (kind, id.into(), Some(old.into()));
    let changes = neutral(&named("stealing", "fostering", "response", "call-999"));
    assert_eq!(
        changes,
        [
            change(ElementKind::Setting, "fostering", "foster"),
            change(ElementKind::Option, "stealing", "theft"),
            change(ElementKind::Route, "response", "main"),
        ]
    );
    let changes = neutral(&named("theft", "foster", "main", "dial-999"));
    assert_eq!(changes, [change(ElementKind::Step, "dial-999", "call-999")]);
    // A route renamed with one of its steps: the route's content names the
    // step, so the two are matched by the step's place in the route.
    let changes = neutral(&named("theft", "foster", "response", "dial-999"));
    assert_eq!(
        changes,
        [
            change(ElementKind::Route, "response", "main"),
            change(ElementKind::Step, "dial-999", "call-999"),
        ]
    );
}

#[test]
fn an_example_incident_one_version_cannot_take_is_shown_as_the_other_reads_it() {
    let old = NAMED_PARTS
        .replace("{kind}", "theft")
        .replace("{foster}", "foster")
        .replace("{main}", "main")
        .replace("{call}", "call-999");
    // The option retitled as well as renamed: one removed and another
    // added. The setting and the route are renamed.
    let new = NAMED_PARTS
        .replace("{kind}", "stealing")
        .replace("\"Theft\"", "\"Theft of property\"")
        .replace("{foster}", "fostering")
        .replace("{main}", "response")
        .replace("{call}", "call-999");
    let old = crate::support::compile_in_memory("a.carepath", &old, "a").1;
    let new = crate::support::compile_in_memory("b.carepath", &new, "b").1;
    let review = review::compare(&old, &new, "old", "new");
    let human = render::human(&review, render::Style::default());
    // Each version's own incidents, as that version reads them, and the
    // region's size in words that agree with it.
    assert!(
        human.contains(
            "for example: {\"setting\":\"residential\",\"kind\":\"theft\",\"injury\":false} (the new version cannot take it)"
        ),
        "{human}"
    );
    assert!(
        human.contains("(the old version cannot take it)"),
        "{human}"
    );
    assert!(human.contains("* 1 incident class, "), "{human}");
    let markdown = render::markdown(&review);
    assert!(
        markdown.contains(
            "| example incident | {\"setting\":\"residential\",\"kind\":\"theft\",\"injury\":false} | cannot take it |"
        ),
        "{markdown}"
    );
}

#[test]
fn the_findings_a_revision_brings_in_and_those_it_resolves() {
    let dir = scratch("diff-findings");
    copy_protocols(&dir);
    let derbyshire = fs::read_to_string(dir.join("derbyshire.carepath")).expect("derbyshire");
    // A second rule that says what `reasonable-parent-no` says never
    // decides anything of its own.
    let rule = "rule reasonable-parent-no ";
    assert!(derbyshire.contains(rule));
    let copy = "rule parent-again \"Again\" {\n  when not reasonable-parent and not serious-harm-risk\n  then internal\n  cite \"3\"\n}\n\n";
    let revised = derbyshire.replacen(rule, &format!("{copy}{rule}"), 1);
    fs::write(dir.join("revised.carepath"), revised).expect("written");
    let review = |old: &str, new: &str| -> Review {
        let o = carepath_in(&dir, &["diff", old, new, "--format", "json"], &[]);
        assert_eq!(status(&o), 0, "no incident moves: {}", text(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("a review")
    };
    let forward = review("derbyshire.carepath", "revised.carepath");
    let f = &forward.findings;
    let codes = |list: &[review::Finding]| -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|x| (x.code.clone(), x.rules.clone()))
            .collect()
    };
    // Each of the two rules never decides: the other gives the same level
    // wherever it matches. The examples the two rules misplace are the
    // same findings as before, now naming both rules.
    let never: Vec<&str> = f
        .new
        .iter()
        .map(|x| {
            assert_eq!(x.code, "carepath::never-decides", "{x:?}");
            x.rules[0].as_str()
        })
        .collect();
    assert_eq!(never, ["parent-again", "reasonable-parent-no"], "{f:?}");
    assert!(f.new[0].witness.is_some(), "with an incident that shows it");
    assert!(f.gone.is_empty() && f.acceptance_changed.is_empty());
    assert_eq!(f.kept, 4);
    // The other way round, the revision resolves it.
    let back = review("revised.carepath", "derbyshire.carepath");
    assert_eq!(codes(&back.findings.gone), codes(&f.new));
    assert!(back.findings.new.is_empty());
    // Shown to people, and to a review meeting.
    let human = carepath_in(
        &dir,
        &["diff", "derbyshire.carepath", "revised.carepath"],
        &[],
    );
    let human = text(&human.stdout);
    assert!(
        human.contains("findings: 2 new, 0 gone, 0 accepted differently, 4 in both")
            && human.contains("+ carepath::never-decides: "),
        "{human}"
    );
    let md = carepath_in(
        &dir,
        &[
            "diff",
            "derbyshire.carepath",
            "revised.carepath",
            "--format",
            "markdown",
        ],
        &[],
    );
    assert!(text(&md.stdout).contains("## Findings"));
    // A rule pack records only accepted findings: not compared.
    let packed = carepath(&[
        "diff",
        "protocols/derbyshire.carepath",
        "out/derbyshire.json",
        "--format",
        "json",
    ]);
    let packed: Review = serde_json::from_slice(&packed.stdout).expect("a review");
    assert!(packed.findings.not_compared.is_some());
}

#[test]
fn a_wording_only_change_at_the_source() {
    let dir = scratch("diff-wording");
    copy_protocols(&dir);
    let dorset = fs::read_to_string(dir.join("dorset.carepath")).expect("dorset");
    let from = "rule weapon-possession \"Possession of weapons (no aggravating features, e.g. weapon surrendered to staff)\" {\n  when weapon\n";
    assert!(dorset.contains(from));
    let reworded = dorset.replacen(
        from,
        "rule weapon-possession \"Possession of a weapon without aggravating features\" {\n  when (weapon)\n",
        1,
    );
    fs::write(dir.join("reworded.carepath"), reworded).expect("written");
    let o = carepath_in(&dir, &["diff", "dorset.carepath", "reworded.carepath"], &[]);
    // No incident can see a rewording: status 0.
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("behaviour-neutral"), "{out}");
    assert!(
        out.contains("~ rule weapon-possession \"Possession of a weapon without aggravating features\" (wording only)"),
        "{out}"
    );
    assert!(
        out.contains("when_text: \"weapon\" -> \"(weapon)\""),
        "{out}"
    );
    assert!(out.contains("1 changed (1 in wording only)"), "{out}");
}

// ------------------------------------------------------------------ packs

#[test]
fn two_rule_packs_and_a_pack_against_its_protocol() {
    let o = carepath(&["diff", "out/dorset.json", "out/dorset.json"]);
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("no structural changes"));
    // The protocol compiles to the very pack committed for it.
    let o = carepath(&["diff", "protocols/dorset.carepath", "out/dorset.json"]);
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    let o = carepath(&[
        "diff",
        "out/derbyshire.json",
        "out/wiltshire.json",
        "--format",
        "json",
    ]);
    assert_eq!(status(&o), 1);
    let review: Review = serde_json::from_slice(&o.stdout).expect("a review");
    assert_eq!(review.old.protocol, "derbyshire");
    assert_eq!(review.new.protocol, "wiltshire");
}

#[test]
fn a_modified_pack_is_refused_unless_allowed() {
    let dir = scratch("diff-modified-pack");
    let mut v = pack_value("dorset");
    v["rules"][0]["title"] = json!("Edited by hand");
    fs::write(
        dir.join("edited.json"),
        serde_json::to_string_pretty(&v).expect("JSON"),
    )
    .expect("written");
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/dorset.json");
    let original = original.to_str().expect("a path");
    let o = carepath_in(&dir, &["diff", original, "edited.json"], &[]);
    assert_eq!(status(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("cannot use edited.json"), "{err}");
    assert!(o.stdout.is_empty());
    let o = carepath_in(
        &dir,
        &["diff", original, "edited.json", "--allow-modified"],
        &[],
    );
    // A retitled rule is a change no incident can see: status 0.
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("title: "), "{out}");
    assert!(out.contains("behaviour-neutral"), "{out}");

    fs::write(dir.join("broken.json"), "{\"format\": ").expect("written");
    let o = carepath_in(&dir, &["diff", original, "broken.json"], &[]);
    assert_eq!(status(&o), 2);
    assert!(text(&o.stderr).contains("cannot use broken.json"));
}

// ---------------------------------------------------------------- errors

#[test]
fn trouble_is_status_2_with_a_clear_message() {
    let dir = scratch("diff-errors");
    fs::write(
        dir.join("bad.carepath"),
        "protocol bad \"Bad\" {\n  policy most-serious\n}\nrule r \"R\" { when nothing then nowhere }\n",
    )
    .expect("written");
    let dorset = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols/dorset.carepath");
    let dorset = dorset.to_str().expect("a path");
    let cases: [(&[&str], &str); 5] = [
        (
            &["diff", "missing.carepath", dorset],
            "cannot read `missing.carepath`",
        ),
        (&["diff", dorset, "bad.carepath"], "bad.carepath has errors"),
        (&["diff", dorset], "say what to compare"),
        (&["diff", dorset, "--to", "HEAD"], "--from"),
        (
            &["diff", dorset, dorset, "--from", "HEAD"],
            "cannot be used with",
        ),
    ];
    for (args, message) in cases {
        let o = carepath_in(&dir, args, &[]);
        assert_eq!(status(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(message),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

// ------------------------------------------------------------------- git

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=Carepath tests",
            "-c",
            "user.email=tests@carepath.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?}: {}", text(&o.stderr));
    text(&o.stdout)
}

/// A repository holding the seed protocols: a first commit; a second that
/// changes a number in the common contacts Dorset imports and adds a
/// protocol; and, in the work tree only, Dorset's Class A example moved.
fn repository(name: &str) -> PathBuf {
    let repo = scratch(name);
    git(&repo, &["init", "-q"]);
    let protocols = repo.join("protocols");
    copy_protocols(&protocols);
    git(&repo, &["add", "protocols"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let contacts = protocols.join("common/contacts.carepath");
    let text = fs::read_to_string(&contacts).expect("contacts");
    assert!(text.contains("phone \"101\""));
    fs::write(
        &contacts,
        text.replace("phone \"101\"", "phone \"0300 123 4567\""),
    )
    .expect("written");
    fs::copy(
        protocols.join("wiltshire.carepath"),
        protocols.join("extra.carepath"),
    )
    .expect("copied");
    git(&repo, &["add", "protocols"]);
    git(&repo, &["commit", "-q", "-m", "second"]);
    let dorset = protocols.join("dorset.carepath");
    let text = fs::read_to_string(&dorset).expect("dorset");
    fs::write(&dorset, class_a_at_level_3(&text)).expect("written");
    repo
}

fn kinds(review: &Review) -> Vec<(ElementKind, String)> {
    review
        .structural
        .changes
        .iter()
        .filter(|c| !c.wording_only)
        .map(|c| (c.element, c.id.clone()))
        .collect()
}

#[test]
fn a_file_at_git_revisions_with_its_imports_at_the_same_revision() {
    let repo = repository("diff-git");
    let status_before = git(&repo, &["status", "--porcelain"]);
    let dorset_before = fs::read(repo.join("protocols/dorset.carepath")).expect("dorset");
    let head = git(&repo, &["rev-parse", "--short", "HEAD"]);
    // Run from outside the repository: git is asked in the file's own.
    let parent = repo.parent().expect("a parent");
    let file = format!(
        "{}/protocols/dorset.carepath",
        repo.file_name().expect("name").to_str().expect("UTF-8")
    );
    // Status 1 when behaviour changes, 0 when only text does.
    let json = |extra: &[&str], expected: i32| -> Review {
        let args = [&["diff", file.as_str()][..], extra, &["--format", "json"]].concat();
        let o = carepath_in(parent, &args, &[]);
        assert_eq!(status(&o), expected, "{extra:?}: {}", text(&o.stderr));
        let review: Review = serde_json::from_slice(&o.stdout).expect("a review");
        assert_valid(&review, "git");
        review
    };

    // Both sides at revisions: the import changed between them.
    // A contact's phone number decides no incident.
    let review = json(&["--from", "HEAD~1", "--to", "HEAD"], 0);
    assert_eq!(
        kinds(&review),
        [(ElementKind::Contact, "police-101".to_string())]
    );
    assert!(
        review.old.label.contains("at HEAD~1"),
        "{}",
        review.old.label
    );
    assert!(
        review
            .new
            .label
            .ends_with(&format!("at HEAD ({})", head.trim()))
    );

    // The work tree against the last commit: the moved example only.
    let review = json(&["--from", "HEAD"], 1);
    assert_eq!(
        kinds(&review),
        [
            (
                ElementKind::Example,
                "Possession of Class A drugs".to_string()
            ),
            (ElementKind::Rule, "first-a-possession".to_string()),
        ]
    );
    assert_eq!(review.new.label, file);

    // The work tree against the first commit: both.
    let review = json(&["--from", "HEAD~1"], 1);
    assert_eq!(kinds(&review).len(), 3);

    // The same revision twice: nothing changed.
    let o = carepath_in(
        parent,
        &["diff", &file, "--from", "HEAD", "--to", "HEAD"],
        &[],
    );
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));

    // The work tree was read, never written.
    assert_eq!(git(&repo, &["status", "--porcelain"]), status_before);
    assert_eq!(
        fs::read(repo.join("protocols/dorset.carepath")).expect("dorset"),
        dorset_before
    );
}

#[test]
fn git_trouble_is_named() {
    let repo = repository("diff-git-errors");
    let o = carepath_in(
        &repo,
        &[
            "diff",
            "protocols/dorset.carepath",
            "--from",
            "no-such-revision",
        ],
        &[],
    );
    assert_eq!(status(&o), 2);
    assert!(
        text(&o.stderr).contains("has no revision `no-such-revision`"),
        "{}",
        text(&o.stderr)
    );
    let o = carepath_in(
        &repo,
        &["diff", "protocols/extra.carepath", "--from", "HEAD~1"],
        &[],
    );
    assert_eq!(status(&o), 2);
    assert!(
        text(&o.stderr).contains("`protocols/extra.carepath` does not exist at that revision"),
        "{}",
        text(&o.stderr)
    );
    let o = carepath_in(
        &repo,
        &["diff", "protocols/dorset.carepath", "--from=--output=x"],
        &[],
    );
    assert_eq!(status(&o), 2);
    assert!(!repo.join("x").exists());

    // Outside any repository (the scratch folders are inside this one).
    let outside = std::env::temp_dir().join(format!("carepath-diff-no-git-{}", std::process::id()));
    let _ = fs::remove_dir_all(&outside);
    copy_protocols(&outside);
    let o = carepath_in(
        &outside,
        &["diff", "dorset.carepath", "--from", "HEAD"],
        &[],
    );
    let _ = fs::remove_dir_all(&outside);
    assert_eq!(status(&o), 2);
    assert!(
        text(&o.stderr).contains("is not in a git repository"),
        "{}",
        text(&o.stderr)
    );
}

// ----------------------------------------------------- schema and colour

#[test]
fn the_committed_diff_schema_is_current() {
    let committed = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/carepath-diff-1.schema.json"),
    )
    .expect("schema");
    assert!(
        committed == review::schema_json(),
        "schema/carepath-diff-1.schema.json is stale: run `cargo run -- schema diff > schema/carepath-diff-1.schema.json`"
    );
    let printed = carepath(&["schema", "diff"]);
    assert_eq!(status(&printed), 0);
    assert_eq!(text(&printed.stdout), committed);
}

#[test]
fn the_schema_rejects_what_is_not_a_review() {
    let validator = validator();
    let good: Value = serde_json::from_str(&review::to_json(&compare(
        &pack_value("derbyshire"),
        &pack_value("wiltshire"),
    )))
    .expect("JSON");
    assert!(validator.is_valid(&good));
    let mut bad = good.clone();
    bad["format"] = json!("carepath-diff/0");
    assert!(!validator.is_valid(&bad));
    let mut bad = good.clone();
    bad["structural"]["changes"][0]["change"] = json!("moved");
    assert!(!validator.is_valid(&bad));
    let mut bad = good;
    bad["structural"]["summary"]
        .as_object_mut()
        .expect("summary")
        .remove("added");
    assert!(!validator.is_valid(&bad));
}

#[test]
fn colour_on_request_and_never_with_no_color() {
    let dir = seed_scenario("diff-colour");
    let args = ["diff", "dorset.carepath", "dorset-revised.carepath"];
    // `carepath_in` sets NO_COLOR, which wins over CLICOLOR_FORCE.
    let forced = carepath_in(&dir, &args, &[("CLICOLOR_FORCE", "1")]);
    let forced = text(&forced.stdout);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carepath"));
    let coloured = cmd
        .args(args)
        .current_dir(&dir)
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs");
    let coloured = text(&coloured.stdout);
    assert!(coloured.contains("\x1b[33m~ example"), "{coloured}");
    // More police involvement is drawn in red.
    assert!(coloured.contains("\x1b[31m* "), "{coloured}");
    assert!(!forced.contains('\x1b'), "NO_COLOR wins: {forced}");
    assert_eq!(
        forced,
        coloured
            .replace("\x1b[0m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[2m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[33m", "")
    );
}

// ------------------------------------------------------------ hostile text

const HOSTILE: &str = "Title\x1b]0;owned\x07 \x1b[2J\r\u{202e}txt.exe <script>|x|</script> [link](http://x) *bold* `code`";

#[test]
fn hostile_text_is_shown_escaped() {
    let old = pack_value("dorset");
    let mut new = old.clone();
    new["rules"][0]["title"] = json!(HOSTILE);
    new["rules"][0]["id"] = json!("id\x1b[31m");
    new["protocol"]["title"]["value"] = json!(HOSTILE);
    let review = compare(&old, &new);
    let raw = |s: &str| {
        s.chars()
            .any(|c| c == '\x1b' || c == '\x07' || c == '\r' || c == '\u{202e}')
    };
    for color in [false, true] {
        let human = render::human(&review, render::Style { color });
        // Only the report's own colour codes are escape sequences.
        let stripped = human
            .replace("\x1b[0m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[2m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[36m", "");
        assert!(!raw(&stripped), "{human:?}");
        assert!(human.contains("\\u{1b}]0;owned\\u{7}"), "{human}");
        assert!(human.contains("\\u{202e}"));
    }
    let md = render::markdown(&review);
    assert!(!raw(&md), "{md:?}");
    assert!(!md.contains("<script>"), "{md}");
    assert!(md.contains("&lt;script&gt;\\|x\\|&lt;/script&gt;"), "{md}");
    assert!(
        md.contains("\\[link\\](http://x) \\*bold\\* \\`code\\`"),
        "{md}"
    );
    // Every table row keeps its three cells.
    for line in md.lines().filter(|l| l.starts_with('|')) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 4, "{line}");
    }

    // And through the command, from a pack edited by hand.
    let dir = scratch("diff-hostile");
    fs::write(
        dir.join("hostile.json"),
        serde_json::to_string(&new).expect("JSON"),
    )
    .expect("written");
    let original = Path::new(env!("CARGO_MANIFEST_DIR")).join("out/dorset.json");
    for format in ["human", "markdown"] {
        let o = carepath_in(
            &dir,
            &[
                "diff",
                original.to_str().expect("a path"),
                "hostile.json",
                "--allow-modified",
                "--format",
                format,
            ],
            &[],
        );
        // Retitled and renamed rules change no incident's handling.
        assert_eq!(status(&o), 0, "{}", text(&o.stderr));
        assert!(!raw(&text(&o.stdout)), "{format}: {}", text(&o.stdout));
    }
}

// ------------------------------------------------------------------ scale

#[test]
fn ten_thousand_rules_with_one_percent_changed() {
    let mut old = pack_value("wiltshire");
    let template = old["rules"][0].clone();
    let rules: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut r = template.clone();
            r["id"] = json!(format!("rule-{i}"));
            r["title"] = json!(format!("Rule {i}"));
            r
        })
        .collect();
    old["rules"] = json!(rules);
    let mut new = old.clone();
    let rules = new["rules"].as_array_mut().expect("rules");
    for i in (0..10_000).step_by(100) {
        match i % 300 {
            // A rename, a rewording and a change of level.
            0 => rules[i]["id"] = json!(format!("renamed-{i}")),
            100 => rules[i]["title"] = json!(format!("Rule {i}, reworded")),
            _ => rules[i]["level"] = json!("elsewhere"),
        }
    }
    let (old, new) = (pack(&old), pack(&new));
    let review = review::compare(&old, &new, "old", "new");
    let s = review.structural.summary;
    assert_eq!(
        (s.renamed, s.wording_only, s.changed),
        (34, 33, 66),
        "{s:?}"
    );
    assert_eq!(s.total(), 100);
}

/// Wiltshire with drug use made "Not serious": a revision that adds a rule
/// sending a young person's use of drugs, with none of 3.1's risks, to the
/// Beat Officer liaison.
const DRUG_USE_NOT_SERIOUS: &str = r#"
rule drug-use-not-serious "Use of drugs, with no risk of harm, damage or disorder" {
  when drugs == use
    and not serious-harm-risk
    and not substantial-damage-risk
    and not significant-disorder-risk
  then not-serious
  strength should
  cite "2.7"
}
"#;

#[test]
fn wiltshire_with_drug_use_made_not_serious() {
    let dir = scratch("diff-wiltshire-drugs");
    copy_protocols(&dir);
    let wiltshire = fs::read_to_string(dir.join("wiltshire.carepath")).expect("wiltshire");
    fs::write(
        dir.join("wiltshire-revised.carepath"),
        format!("{wiltshire}{DRUG_USE_NOT_SERIOUS}"),
    )
    .expect("written");
    let args = [
        "diff",
        "wiltshire.carepath",
        "wiltshire-revised.carepath",
        "--format",
        "json",
    ];
    let o = carepath_in(&dir, &args, &[]);
    assert_eq!(status(&o), 1, "{}", text(&o.stderr));
    let review: Review = serde_json::from_slice(&o.stdout).expect("a review");
    assert_valid(&review, "wiltshire");
    // Structurally: one rule added, nothing else.
    let s = &review.structural.summary;
    assert_eq!((s.added, s.removed, s.renamed), (1, 0, 0), "{s:?}");
    // In behaviour: only drug use moves, from Internal to Not serious, and
    // always towards the police.
    let b = &review.behaviour;
    assert!(b.summary.more_police > 0, "{:?}", b.summary);
    assert_eq!(b.summary.less_police, 0, "{:?}", b.summary);
    let shared = b.shared_when.as_deref().expect("a shared condition");
    assert!(shared.contains("drugs == use"), "{shared}");
    for r in &b.regions {
        assert_eq!(r.old.handling.level.as_deref(), Some("internal"), "{r:?}");
        assert_eq!(
            r.new.handling.level.as_deref(),
            Some("not-serious"),
            "{r:?}"
        );
        assert!(
            r.new.rules.iter().any(|x| x.id == "drug-use-not-serious"),
            "{r:?}"
        );
        assert_eq!(r.witness.old_answers["drugs"], json!("use"), "{r:?}");
    }
    // A board's gate: `--fail-on less-police` lets it through, and
    // `--fail-on more-police` stops it.
    let gate = |on: &str| {
        let mut a = args[..3].to_vec();
        a.extend(["--fail-on", on]);
        status(&carepath_in(&dir, &a, &[]))
    };
    assert_eq!(gate("less-police"), 0);
    assert_eq!(gate("more-police"), 1);
}
