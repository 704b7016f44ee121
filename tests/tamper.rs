//! Rule packs that were edited, hand-made or damaged are refused with a
//! clear message: a pack changed after `carepath build` wrote it fails its
//! integrity digest; with `--allow-modified` it is still checked for what
//! the compiler guarantees (types, routes, cycles); a byte-order mark or
//! nesting deeper than any pack the compiler writes is refused before
//! parsing; and every pack the compiler can write is read.

use std::fs;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use crate::support::{MemoryFs, PROTOCOLS, check_memory, scratch, text};
use carepath::emit::{self, digest, pack};
use carepath::eval::{Engine, Integrity, json_depth};
use carepath::syntax::MAX_NESTING;
use serde_json::{Map, Value, json};

fn carepath(args: &[&str]) -> Output {
    crate::support::run_carepath(args, "", Stdio::piped(), Stdio::piped())
}

fn committed(id: &str) -> String {
    fs::read_to_string(format!("out/{id}.json")).expect("the committed rule pack")
}

/// A pack's text after `change`, pretty-printed as `carepath build` does.
fn edited(text: &str, change: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(text).expect("JSON");
    change(&mut v);
    serde_json::to_string_pretty(&v).expect("JSON")
}

fn refusal(text: &str) -> String {
    match Engine::from_json(text) {
        Ok(_) => panic!("the pack loaded"),
        Err(e) => e.to_string(),
    }
}

fn refusal_when_modified(text: &str) -> String {
    match Engine::from_json_with(text, Integrity::AllowModified) {
        Ok(_) => panic!("the pack loaded with modification allowed"),
        Err(e) => e.to_string(),
    }
}

/// Every question of Dorset answered: nothing happened.
fn quiet_dorset() -> Value {
    Value::Object(crate::support::quiet_dorset())
}

/// `carepath decide` on a Dorset pack's text for a quiet incident in a
/// residential home, with `extra` arguments.
fn decide_dorset(name: &str, pack_text: &str, extra: &[&str]) -> Output {
    let dir = scratch(&format!("tamper-{name}"));
    let pack = dir.join("dorset.json");
    fs::write(&pack, pack_text).expect("write the pack");
    let answers = dir.join("answers.json");
    fs::write(&answers, quiet_dorset().to_string()).expect("write the answers");
    let mut args = vec![
        "decide",
        pack.to_str().expect("UTF-8 path"),
        "--setting",
        "residential",
        "--answers",
        answers.to_str().expect("UTF-8 path"),
    ];
    args.extend_from_slice(extra);
    carepath(&args)
}

/// The command refused the pack with exit status 2, saying `words`.
fn assert_refused(out: &Output, words: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot use"), "{err}");
    assert!(err.contains(words), "expected {words:?} in:\n{err}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

fn assert_decided(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Level: "),
        "{}",
        text(&out.stdout)
    );
}

const CHANGED: &str = "was changed after `carepath build` wrote it";

// ------------------------------------------------------------ the digest

#[test]
fn every_committed_pack_is_sealed_and_its_digest_matches() {
    for id in PROTOCOLS {
        let text = committed(id);
        let engine = Engine::from_json(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let integrity = engine.pack.integrity.as_ref().expect("sealed");
        assert_eq!(integrity.algorithm, "sha256");
        assert_eq!(integrity.canonical, pack::CANONICAL_FORM);
        let v: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(integrity.digest, digest::digest(&v), "{id}");
        assert_eq!(digest::check(&v), Ok(()), "{id}");
    }
}

/// Write every object's keys in reverse order.
fn reverse_keys(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.reverse();
            for (k, mut v) in entries {
                reverse_keys(&mut v);
                map.insert(k, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(reverse_keys),
        _ => {}
    }
}

/// Every character outside ASCII written as a `\u` escape.
fn escape_non_ascii(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[test]
fn reformatting_reordering_and_escaping_a_pack_still_verifies() {
    let original = committed("dorset");
    assert!(!original.is_ascii(), "Dorset has text outside ASCII");
    let mut v: Value = serde_json::from_str(&original).expect("JSON");
    reverse_keys(&mut v);
    let shuffled_compact = serde_json::to_string(&v).expect("JSON");
    assert!(shuffled_compact.starts_with("{\"decision\""));
    let tabbed = {
        let value: Value = serde_json::from_str(&original).expect("JSON");
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut writer = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(&value, &mut writer).expect("JSON");
        String::from_utf8(out).expect("UTF-8")
    };
    let escaped = escape_non_ascii(&serde_json::to_string_pretty(&v).expect("JSON"));
    for (what, variant) in [
        ("keys reversed, no whitespace", &shuffled_compact),
        ("indented with tabs", &tabbed),
        ("non-ASCII escaped", &escaped),
    ] {
        assert_ne!(variant, &original);
        let engine = Engine::from_json(variant).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(engine.pack.integrity.is_some(), "{what}");
        assert_decided(&decide_dorset("reformatted", variant, &[]));
    }
}

/// Edits that leave a well-formed pack that means something else.
fn harmless_looking_edits() -> Vec<(&'static str, String)> {
    let dorset = committed("dorset");
    vec![
        (
            "a level's police response",
            edited(&dorset, |v| {
                let top = v["levels"].as_array().expect("levels").len() - 1;
                assert_eq!(v["levels"][top]["police"][0]["response"], "report");
                v["levels"][top]["police"][0]["response"] = "none".into();
            }),
        ),
        (
            "a rule's condition",
            edited(&dorset, |v| {
                let when = v["rules"][0]["when"].take();
                v["rules"][0]["when"] = json!({ "!": [when] });
            }),
        ),
        (
            "a rule's level",
            edited(&dorset, |v| {
                let lowest = v["levels"][0]["id"].clone();
                let rule = v["rules"]
                    .as_array_mut()
                    .expect("rules")
                    .iter_mut()
                    .find(|r| r["level"] != lowest)
                    .expect("a rule above the lowest level");
                rule["level"] = lowest;
            }),
        ),
        (
            "a contact's phone number",
            edited(&dorset, |v| {
                let contact = v["contacts"]
                    .as_array_mut()
                    .expect("contacts")
                    .iter_mut()
                    .find(|c| c.get("phone").is_some())
                    .expect("a contact with a phone number");
                contact["phone"] = "0800 000 000".into();
            }),
        ),
        (
            "the digest itself",
            edited(&dorset, |v| {
                v["integrity"]["digest"] = "0".repeat(64).into();
            }),
        ),
    ]
}

#[test]
fn a_changed_value_is_refused_as_modified_unless_allowed() {
    for (what, text) in harmless_looking_edits() {
        let e = refusal(&text);
        assert!(e.contains(CHANGED), "{what}: {e}");
        assert!(e.contains("--allow-modified"), "{what}: {e}");
        assert!(e.contains("carepath build"), "{what}: {e}");
        assert_refused(&decide_dorset("changed", &text, &[]), CHANGED);

        // An edit the compiled decision sees is refused even when allowed,
        // until the diagram is removed: the rules alone then decide.
        let text = match Engine::from_json_with(&text, Integrity::AllowModified) {
            Ok(_) => text,
            Err(e) => {
                assert!(e.0.contains("compiled decision"), "{what}: {e}");
                assert!(e.0.contains("remove its `decision`"), "{what}: {e}");
                edited(&text, |v| {
                    v.as_object_mut().expect("a pack").remove("decision");
                })
            }
        };
        let engine = Engine::from_json_with(&text, Integrity::AllowModified)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            engine.pack.integrity.is_none(),
            "{what}: a stale digest is dropped"
        );
        assert_decided(&decide_dorset("changed", &text, &["--allow-modified"]));
    }
}

#[test]
fn a_pack_without_its_digest_is_refused_unless_allowed() {
    let text = edited(&committed("dorset"), |v| {
        v.as_object_mut().expect("object").remove("integrity");
    });
    let e = refusal(&text);
    assert!(e.contains("has no `integrity` digest"), "{e}");
    assert!(e.contains("--allow-modified"), "{e}");
    assert_refused(
        &decide_dorset("no-digest", &text, &[]),
        "no `integrity` digest",
    );
    assert!(Engine::from_json_with(&text, Integrity::AllowModified).is_ok());
    assert_decided(&decide_dorset("no-digest", &text, &["--allow-modified"]));

    let odd = edited(&committed("dorset"), |v| {
        v["integrity"]["algorithm"] = "md5".into();
    });
    let e = refusal(&odd);
    assert!(e.contains("`md5`") && e.contains("cannot check"), "{e}");
}

// ------------------------------------------------------------ what the compiler guarantees

/// A protocol with a question of every kind, built in memory.
const KINDS: &str = r#"protocol kinds {
  title "Every kind of question"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}
setting home "Children's home" { no route "routes are not part of this test" }
question hurt "Was anyone hurt?" { answer yes or no }
question drugs "Which drugs?" { answer one of { none, cannabis, other } }
question damage "How bad is the damage?" { answer scale { none < minor < major } }
question times "How many times?" { answer count from 0 }
question cost "What did the damage cost?" { answer amount "pounds" }
level low "Low" { police none }
level high "High" { police emergency }
rule hurt-high { when hurt then high }
rule drugs-high { when drugs in { cannabis, other } then high }
rule damage-high { when damage >= major then high }
rule times-high { when times >= 3 then high }
rule cost-high { when cost > 100.50 then high }
"#;

/// The rule pack of a protocol given as text, as `carepath build` makes it.
fn build_in_memory(name: &str, source: &str) -> pack::RulePack {
    crate::support::compile_in_memory(name, source, name).1
}

fn kinds_pack() -> String {
    emit::pack_json(&build_in_memory("kinds.carepath", KINDS))
}

/// Replace the condition of rule `id`.
fn with_rule(text: &str, id: &str, when: Value) -> String {
    edited(text, |v| {
        let rule = v["rules"]
            .as_array_mut()
            .expect("rules")
            .iter_mut()
            .find(|r| r["id"] == id)
            .expect("the rule");
        rule["when"] = when;
        // The compiled decision no longer agrees with the rules: these
        // tests are about the rules.
        v.as_object_mut().expect("a pack").remove("decision");
    })
}

#[test]
fn conditions_that_confuse_types_are_refused_even_when_modification_is_allowed() {
    let good = kinds_pack();
    assert!(Engine::from_json(&good).is_ok());
    let cases = [
        (
            "hurt-high",
            json!({"===": [{"var": "hurt"}, 3]}),
            "rule `hurt-high` compares yes/no question `hurt` with the number 3",
        ),
        (
            "hurt-high",
            json!({"in": [{"var": "hurt"}, [true, false]]}),
            "rule `hurt-high` tests yes/no question `hurt` against a list",
        ),
        (
            "drugs-high",
            json!({"===": [{"var": "drugs"}, 1]}),
            "rule `drugs-high` compares one-of question `drugs` with the number 1",
        ),
        (
            "drugs-high",
            json!({"in": [{"var": "drugs"}, ["cannabis", 2]]}),
            "rule `drugs-high` tests one-of question `drugs` against a list holding the number 2",
        ),
        (
            "damage-high",
            json!({">=": [{"var": "damage"}, 2]}),
            "rule `damage-high` compares scale question `damage` with the number 2",
        ),
        (
            "damage-high",
            json!({"===": [{"var": "damage"}, true]}),
            "rule `damage-high` compares scale question `damage` with `true`",
        ),
        (
            "times-high",
            json!({">=": [{"var": "times"}, 2.5]}),
            "rule `times-high` compares count question `times` with 2.5, which is not a whole number",
        ),
        (
            "times-high",
            json!({"===": [{"var": "times"}, false]}),
            "rule `times-high` compares count question `times` with `false`",
        ),
        (
            "times-high",
            json!({"in": [{"var": "times"}, [1, 1.5]]}),
            "rule `times-high` compares count question `times` with 1.5",
        ),
        (
            "cost-high",
            json!({">": [{"var": "cost"}, 100.505]}),
            "rule `cost-high` compares amount question `cost` with 100.505, which has more than two decimal places",
        ),
        (
            "cost-high",
            json!({"in": [{"var": "cost"}, [true]]}),
            "rule `cost-high` tests amount question `cost` against a list holding `true`",
        ),
    ];
    for (rule, when, message) in cases {
        let text = with_rule(&good, rule, when.clone());
        let e = refusal_when_modified(&text);
        assert!(e.contains(message), "{when}: expected {message:?}, got {e}");
        // Without the flag it is refused too (for the same reason: a pack
        // is first checked for what every pack must be).
        assert!(refusal(&text).contains(message), "{when}");
    }
    // Amounts in pounds and pence, and whole counts written as decimals, are fine.
    for (rule, when) in [
        ("cost-high", json!({">": [{"var": "cost"}, 100.5]})),
        ("cost-high", json!({"in": [{"var": "cost"}, [0.01, 12]]})),
        ("times-high", json!({">=": [{"var": "times"}, 3.0]})),
    ] {
        let text = with_rule(&good, rule, when.clone());
        Engine::from_json_with(&text, Integrity::AllowModified)
            .unwrap_or_else(|e| panic!("{when}: {e}"));
    }
}

/// JsonLogic that any library evaluates, but that `carepath build` never
/// writes, is refused (a pack decides whether the police are called, and
/// Carepath follows only forms it has checked against the language), and
/// the message says that it is valid, what Carepath reads, and how to
/// write the test in that form.
#[test]
fn valid_jsonlogic_that_carepath_does_not_write_is_refused_with_the_form_it_reads() {
    let good = kinds_pack();
    let valid = "this condition is valid JsonLogic, but Carepath reads only the forms it writes itself: \
                 a test of one question's answer, {\"OP\": [{\"var\": \"q\"}, value]} with OP one of \
                 `===`, `!==`, `<`, `<=`, `>`, `>=` or `in` (value a list), joined by `and`, `or` and `!`";
    let bare = refusal_when_modified(&with_rule(&good, "hurt-high", json!({"var": "hurt"})));
    assert_eq!(
        bare,
        format!(
            "rule `hurt-high`: unsupported operator `var`: {valid} (a bare `var` is not a test; \
             write {{\"===\": [{{\"var\": \"hurt\"}}, true]}})"
        )
    );
    let cases = [
        (
            "hurt-high",
            json!({"==": [{"var": "hurt"}, true]}),
            "unsupported operator `==`",
            "(write `===`, which compares without converting types)",
        ),
        (
            "hurt-high",
            json!({"!!": [{"var": "hurt"}]}),
            "unsupported operator `!!`",
            "",
        ),
        (
            "hurt-high",
            json!({"if": [{"var": "hurt"}, true, false]}),
            "unsupported operator `if`",
            "",
        ),
        (
            "hurt-high",
            json!(true),
            "`true` is a constant, not a test of an answer",
            "",
        ),
        (
            "times-high",
            json!({"<": [1, {"var": "times"}, 5]}),
            "`<` takes two arguments here, a question and a value",
            "(write a range as two tests joined by `and`)",
        ),
        (
            "times-high",
            json!({">": [3, {"var": "times"}]}),
            "`>` must compare a question (`{\"var\": ...}`) first, found 3",
            "(write {\">\": [{\"var\": \"q\"}, value]})",
        ),
        (
            "drugs-high",
            json!({"in": [{"var": "drugs"}, "cannabis"]}),
            "`in` looks `drugs` up in \"cannabis\", which is not a list",
            "(write {\"in\": [{\"var\": \"drugs\"}, [..]]})",
        ),
    ];
    for (rule, when, what, hint) in cases {
        let e = refusal_when_modified(&with_rule(&good, rule, when.clone()));
        let expected = format!("rule `{rule}`: {what}: {valid}");
        assert!(
            e.starts_with(&expected),
            "{when}: expected {expected:?}, got {e}"
        );
        assert!(
            e.ends_with(hint),
            "{when}: expected the hint {hint:?}, got {e}"
        );
    }
    // Not JsonLogic at all: said so, with what Carepath reads.
    let e = refusal_when_modified(&with_rule(
        &good,
        "hurt-high",
        json!({"frobnicate": [{"var": "hurt"}]}),
    ));
    assert!(
        e.contains("unsupported operator `frobnicate`: it is not a JsonLogic operator; Carepath reads only the forms it writes itself"),
        "{e}"
    );
    assert!(!e.contains("valid JsonLogic"), "{e}");
}

#[test]
fn a_type_confused_dorset_is_refused_by_the_command_even_when_allowed() {
    let text = with_rule(
        &committed("dorset"),
        "response-999",
        json!({"===": [{"var": "assault"}, 3]}),
    );
    let message = "rule `response-999` compares yes/no question `assault` with the number 3";
    assert_refused(&decide_dorset("confused", &text, &[]), message);
    assert_refused(
        &decide_dorset("confused", &text, &["--allow-modified"]),
        message,
    );
}

#[test]
fn questions_asked_depending_on_later_ones_are_refused() {
    let text = edited(&kinds_pack(), |v| {
        let questions = v["questions"].as_array_mut().expect("questions");
        let hurt = questions
            .iter()
            .position(|q| q["id"] == "hurt")
            .expect("question `hurt`");
        questions[hurt]["asked_when"] = json!({"===": [{"var": "drugs"}, "cannabis"]});
    });
    let e = refusal_when_modified(&text);
    assert!(
        e.contains(
            "question `hurt` is asked only depending on question `drugs`, which comes later"
        ),
        "{e}"
    );
}

/// Dorset with the residential route's first step leading back to itself.
fn dorset_with_a_loop() -> String {
    edited(&committed("dorset"), |v| {
        let route = &mut v["routes"][0];
        assert_eq!(route["id"], "residential");
        assert_eq!(route["nodes"][0]["id"], "staff-manage");
        route["nodes"][0]["next"] = "staff-manage".into();
    })
}

#[test]
fn a_route_that_goes_round_forever_is_refused_unless_accepted() {
    let text = dorset_with_a_loop();
    let message = "route `residential` can go round forever";
    let e = refusal_when_modified(&text);
    assert!(e.contains(message), "{e}");
    assert!(e.contains("staff-manage → staff-manage"), "{e}");
    assert!(
        e.contains("accept route-cycle residential, staff-manage"),
        "{e}"
    );
    assert_refused(&decide_dorset("loop", &text, &[]), message);
    assert_refused(
        &decide_dorset("loop", &text, &["--allow-modified"]),
        message,
    );

    // Accepted for another route, or another step, is not accepted.
    let accept = |route: &str, step: &str| {
        let text = text.clone();
        edited(&text, |v| {
            v["accepted_findings"]
                .as_array_mut()
                .expect("accepted findings")
                .push(json!({
                    "code": "carepath::route-cycle",
                    "message": "route `residential` can go round forever",
                    "reason": "The document says so.",
                    "rules": [],
                    "subject": [route, step],
                    "cites": [],
                }));
        })
    };
    assert!(refusal_when_modified(&accept("foster", "staff-manage")).contains(message));
    assert!(refusal_when_modified(&accept("residential", "record-internal")).contains(message));
    let accepted = accept("residential", "staff-manage");
    Engine::from_json_with(&accepted, Integrity::AllowModified).expect("an accepted loop loads");
    assert!(refusal(&accepted).contains(CHANGED));
}

#[test]
fn a_route_cycle_the_protocol_accepts_is_built_and_loads() {
    let source = fs::read_to_string("tests/ui/route-cycle.carepath")
        .expect("the route-cycle example")
        + "accept route-cycle homes, report because \"The document loops here.\"\n";
    let built = build_in_memory("route-cycle.carepath", &source);
    assert!(
        built
            .accepted_findings
            .iter()
            .any(|f| f.code == "carepath::route-cycle")
    );
    let text = emit::checked_pack_json(&built).expect("an accepted route cycle loads");
    assert_eq!(text, emit::pack_json(&built));

    // Without the accept the compiler warns, and the pack does not load:
    // `carepath build` writes no pack that `decide` would refuse.
    let source = fs::read_to_string("tests/ui/route-cycle.carepath").expect("example");
    let e = emit::checked_pack_json(&build_in_memory("route-cycle.carepath", &source))
        .expect_err("an unaccepted route cycle");
    assert!(
        e.to_string().contains("route `homes` can go round forever"),
        "{e}"
    );
}

#[test]
fn factor_lists_that_include_each_other_are_refused() {
    let text = edited(&committed("wiltshire"), |v| {
        let factors = v["factors"].as_array_mut().expect("factors");
        let resident = factors
            .iter_mut()
            .find(|f| f["id"] == "violence-to-resident-factors")
            .expect("the factor list");
        resident["includes"] = json!(["violence-to-staff-factors"]);
    });
    let e = refusal_when_modified(&text);
    assert!(
        e.contains("factor lists include each other in a circle")
            && e.contains("`violence-to-resident-factors`")
            && e.contains("`violence-to-staff-factors`"),
        "{e}"
    );
}

#[test]
fn a_level_without_a_route_for_a_setting_is_refused() {
    let text = edited(&committed("dorset"), |v| {
        let starts = v["routes"][0]["starts"].as_array_mut().expect("starts");
        starts.retain(|s| s["level"] != "level-2");
    });
    let e = refusal_when_modified(&text);
    assert!(
        e.contains("level `level-2` has no route for setting `residential`"),
        "{e}"
    );
    assert_refused(
        &decide_dorset("no-route", &text, &["--allow-modified"]),
        "has no route for setting `residential`",
    );

    let twice = edited(&committed("dorset"), |v| {
        let foster = v["routes"][1]["id"].clone();
        assert_eq!(foster, "foster");
        v["routes"][1]["settings"]
            .as_array_mut()
            .expect("settings")
            .push("residential".into());
    });
    let e = refusal_when_modified(&twice);
    assert!(
        e.contains("has two routes for setting `residential`: `residential` and `foster`"),
        "{e}"
    );
}

#[test]
fn checked_pack_json_refuses_a_pack_changed_after_it_was_sealed() {
    let mut built = build_in_memory("kinds.carepath", KINDS);
    let text = emit::checked_pack_json(&built).expect("loads");
    assert!(Engine::from_json(&text).is_ok());
    built.levels[1].police[0].response = pack::Response::None;
    let e = emit::checked_pack_json(&built).expect_err("changed after sealing");
    assert!(e.to_string().contains(CHANGED), "{e}");
    // Sealed again, its compiled decision no longer agrees with it.
    digest::seal(&mut built);
    let e = emit::checked_pack_json(&built).expect_err("a stale compiled decision");
    assert!(e.to_string().contains("compiled decision"), "{e}");
    built.decision = None;
    digest::seal(&mut built);
    emit::checked_pack_json(&built).expect("sealed again");
}

// ------------------------------------------------------------ the text

#[test]
fn a_byte_order_mark_is_named_not_called_invalid_json() {
    let text = format!("\u{feff}{}", committed("dorset"));
    let e = refusal(&text);
    assert_eq!(
        e,
        "the file starts with a UTF-8 byte-order mark (BOM), which JSON does not allow; save it without one"
    );
    let out = decide_dorset("bom", &text, &[]);
    assert_refused(&out, "byte-order mark (BOM)");
    assert!(!text_of_stderr(&out).contains("not valid JSON"));
}

fn text_of_stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// A protocol with one rule whose condition is `when`, over a yes/no
/// question `a` and a count `n`.
fn deep_protocol(when: &str) -> String {
    format!(
        r#"protocol deep {{
  title "Deep"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}}
setting home "Children's home" {{ no route "routes are not part of this test" }}
question a "Is it so?" {{ answer yes or no }}
question n "How many times?" {{ answer count from 0 }}
level low "Low" {{ police none }}
level high "High" {{ police emergency }}
rule deep {{ when {when} then high }}
"#
    )
}

/// A protocol with rule `when a` and a route whose one step contacts the
/// police only when `action` holds: a step's actions are where a rule pack
/// holds conditions deepest (7 levels in, a rule's 3).
fn deep_route_protocol(action: &str) -> String {
    format!(
        r#"protocol deep {{
  title "Deep"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}}
setting home "Children's home"
actor staff "Staff"
contact police "Police"
question a "Is it so?" {{ answer yes or no }}
question n "How many times?" {{ answer count from 0 }}
level low "Low" {{ police none }}
level high "High" {{ police emergency }}
rule deep {{ when a then high }}
route respond "Respond" {{
  for home
  start low -> act
  start high -> act
  step act "Act" {{
    by staff
    contact police when {action}
    then done
  }}
  outcome done "Done"
}}
"#
    )
}

/// The deepest JSON a condition can make: an `or` holding an `and` at the
/// top and in each of `groups` parentheses, and a guarded comparison
/// innermost.
fn deepest_condition(groups: usize) -> String {
    format!(
        "a or a and {}n != 3{}",
        "(a or a and ".repeat(groups),
        ")".repeat(groups)
    )
}

/// `not` and parenthesised `or`/`and` alternating, `levels` times.
fn alternating_condition(levels: usize) -> String {
    let mut s = String::new();
    for i in 0..levels {
        s.push_str(&format!("not (n >= {i} or a and "));
    }
    s.push_str("n != 3");
    s.push_str(&")".repeat(levels));
    s
}

fn errors_of(source: &str) -> Vec<String> {
    let fs = MemoryFs::default().with("deep.carepath", source);
    let (_, diags) = check_memory(&fs, "deep.carepath");
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

#[test]
fn the_deepest_pack_the_compiler_writes_is_read() {
    let source = deep_route_protocol(&deepest_condition(MAX_NESTING));
    assert_eq!(errors_of(&source), Vec::<String>::new());
    let text = emit::pack_json(&build_in_memory("deep.carepath", &source));
    // The bound is exact: this pack reaches it.
    assert_eq!(json_depth(&text), pack::MAX_DEPTH);
    let engine = Engine::from_json(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(engine.pack.routes.len(), 1);
    emit::checked_pack_json(&build_in_memory("deep.carepath", &source)).expect("loads");

    // The same condition on a rule sits 4 levels higher.
    let source = deep_protocol(&deepest_condition(MAX_NESTING));
    assert_eq!(errors_of(&source), Vec::<String>::new());
    let text = emit::pack_json(&build_in_memory("deep.carepath", &source));
    assert_eq!(json_depth(&text), pack::MAX_DEPTH - 4);
    Engine::from_json(&text).unwrap_or_else(|e| panic!("{e}"));

    // `not` and parentheses alternating, as deep as the language allows
    // (each level is a `not` and a parenthesis).
    let source = deep_protocol(&alternating_condition(MAX_NESTING / 2));
    assert_eq!(errors_of(&source), Vec::<String>::new());
    let text = emit::pack_json(&build_in_memory("deep.carepath", &source));
    assert!(
        json_depth(&text) > 128,
        "deeper than serde_json's default limit"
    );
    assert!(json_depth(&text) <= pack::MAX_DEPTH);
    Engine::from_json(&text).unwrap_or_else(|e| panic!("{e}"));

    // One more level is the compiler's error, not an unreadable pack.
    for too_deep in [
        deepest_condition(MAX_NESTING + 1),
        alternating_condition(MAX_NESTING / 2 + 1),
        format!("{}(a or n != 3)", "not not ".repeat(MAX_NESTING / 2)),
    ] {
        let errors = errors_of(&deep_protocol(&too_deep));
        assert!(
            errors.iter().any(|e| e.contains("nesting-too-deep")),
            "{errors:?}"
        );
    }
}

#[test]
fn a_pack_just_deeper_than_the_limit_is_refused_with_the_limit() {
    let source = deep_route_protocol(&deepest_condition(MAX_NESTING));
    let mut built = build_in_memory("deep.carepath", &source);
    let action = &mut built.routes[0].nodes[0].actions[0];
    let when = action.when.take();
    action.when = Some(json!({ "!": when }));
    let deeper = emit::pack_json(&built);
    assert_eq!(json_depth(&deeper), pack::MAX_DEPTH + 1);
    let e = refusal_when_modified(&deeper);
    assert!(
        e.contains(&format!(
            "the rule pack is nested more than {} levels deep",
            pack::MAX_DEPTH
        )),
        "{e}"
    );
    assert!(!e.contains("recursion limit"), "{e}");

    // Far deeper, on a small stack: refused before parsing, no crash.
    let e = std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(|| {
            let hostile = format!("{{\"format\": {}", "[".repeat(1_000_000));
            Engine::from_json(&hostile).err().map(|e| e.to_string())
        })
        .expect("thread starts")
        .join()
        .expect("no stack overflow")
        .expect("refused");
    assert!(e.contains("nested more than"), "{e}");
}

/// The protocol from the report: 22 levels of `(count >= i or not (value >
/// i and ...))` built without error, and `decide` then said "not valid
/// JSON: recursion limit exceeded".
#[test]
fn the_command_decides_from_a_deep_pack_it_built() {
    let mut when = String::new();
    for i in 0..22 {
        when.push_str(&format!("(n >= {i} or not (n > {i} and "));
    }
    when.push('a');
    when.push_str(&"))".repeat(22));
    let dir = scratch("tamper-deep-build");
    let source = dir.join("deep.carepath");
    fs::write(&source, deep_protocol(&when)).expect("write");
    let out_dir: PathBuf = dir.join("out");
    let built = carepath(&[
        "build",
        "--no-svg",
        "--out",
        out_dir.to_str().expect("UTF-8"),
        source.to_str().expect("UTF-8"),
    ]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
    let pack_path = out_dir.join("deep.json");
    let pack_text = fs::read_to_string(&pack_path).expect("the pack");
    assert!(json_depth(&pack_text) > 128);
    let out = carepath(&[
        "decide",
        pack_path.to_str().expect("UTF-8"),
        "--answer",
        "a=yes",
        "--answer",
        "n=5",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Level: "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_pack_built_in_memory_needs_no_digest() {
    let mut built = build_in_memory("kinds.carepath", KINDS);
    built.integrity = None;
    let engine = Engine::new(built).expect("a pack in memory is taken as it is");
    let answers = engine.answers(&Map::new()).expect("no answers is valid");
    assert!(engine.next_question(&answers).is_some());
}
