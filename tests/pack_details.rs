//! What a rule pack says beside its conditions, as an app developer reads
//! it: each condition's text as the author wrote it, `policy.otherwise`
//! always present, amounts in pounds, and, as the format's documentation
//! describes, ties under `most-serious` (every rule of the top level
//! decides) and conflicts a protocol accepts under `no-overlap` (no level,
//! with the protocol's reason).

use std::fs;
use std::process::{Output, Stdio};

use crate::support::{PROTOCOLS, compile_in_memory, run_carepath, scratch, text};
use carepath::emit::pack::RulePack;
use carepath::eval::{AnswerError, Engine, Integrity};
use serde_json::{Map, Value, json};

fn carepath(args: &[&str]) -> Output {
    run_carepath(args, "", Stdio::piped(), Stdio::piped())
}

/// A protocol with a condition in every place a pack keeps one, some of
/// them written in ways the compiler normalises (`damage != major` on a
/// scale is the options below `major`) or laid out over lines with a
/// comment.
const DETAILS: &str = r#"protocol details {
  title "Details"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
}
setting home "Children's home"
actor staff "Staff"
contact police "Police"
question hurt "Was anyone hurt?" { answer yes or no }
question damage "How bad is the damage?" { answer scale { none < minor < major } }
question times "How many times?" {
  answer count from 0
  asked when hurt or   // either will do
    damage   !=   none
}
question cost "What did it cost?" { answer amount "£" }
question spent "What was spent?" { answer amount }
level low "Low" {
  police none
  example "Minor damage" { given not hurt and damage == minor }
}
level high "High" { police emergency }
rule some-damage { when damage != major then low }
rule major-damage { when not ( hurt  or damage <= minor ) then high }
rule repeated { when hurt and (times > 2 or cost >= 100.50 or spent > 0) then high }
accept gap when hurt and damage == major because "The document is silent."
factors weigh-these "Things to weigh" {
  applies when damage in {minor,major}
  - "The damage"
}
route respond "Respond" {
  for home
  start low -> check
  start high -> check
  decision check "Police?" {
    by staff
    weigh weigh-these
    on hurt and damage == major
    always yes when times >= 5
    yes -> call
    no -> note
  }
  step call "Call" {
    by staff
    contact police when not hurt
    timing immediately when cost > 10
    then done
  }
  step note "Note it" {
    by staff
    only when damage != none
    then done
  }
  outcome done "Done"
}
"#;

fn details() -> RulePack {
    compile_in_memory("details.carepath", DETAILS, "details").1
}

#[test]
fn every_condition_text_is_as_the_protocol_writes_it() {
    let pack = details();
    let rule = |id: &str| {
        pack.rules
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("rule `{id}`"))
            .when_text
            .clone()
    };
    // Not `damage <= minor`, which is what the rule means.
    assert_eq!(rule("some-damage"), "damage != major");
    // Blanks inside parentheses and runs of them are layout.
    assert_eq!(rule("major-damage"), "not (hurt or damage <= minor)");
    // `100.50` as written, not `100.5`.
    assert_eq!(
        rule("repeated"),
        "hurt and (times > 2 or cost >= 100.50 or spent > 0)"
    );
    let times = pack
        .questions
        .iter()
        .find(|q| q.id == "times")
        .expect("times");
    // On one line, without the comment.
    assert_eq!(
        times.asked_when_text.as_deref(),
        Some("hurt or damage != none")
    );
    let example = &pack.levels[0].examples[0];
    assert_eq!(
        example.given_text.as_deref(),
        Some("not hurt and damage == minor")
    );
    assert_eq!(
        pack.factors[0].applies_when_text.as_deref(),
        Some("damage in {minor,major}")
    );
    assert_eq!(
        pack.accepted_findings[0].applies_when_text.as_deref(),
        Some("hurt and damage == major")
    );
    let nodes = &pack.routes[0].nodes;
    let node = |id: &str| nodes.iter().find(|n| n.id == id).expect("the node");
    let check = node("check");
    assert_eq!(
        check.on.as_ref().and_then(|o| o.when_text.as_deref()),
        Some("hurt and damage == major")
    );
    assert_eq!(check.always[0].when_text, "times >= 5");
    let call = node("call");
    assert_eq!(call.actions[0].when_text.as_deref(), Some("not hurt"));
    assert_eq!(call.timing[0].when_text.as_deref(), Some("cost > 10"));
    assert_eq!(
        node("note").only_when_text.as_deref(),
        Some("damage != none")
    );
}

/// A protocol's text as a condition's text is made from it: comments
/// dropped, blanks one space, none just inside parentheses.
fn one_line(source: &str) -> String {
    let words: Vec<&str> = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    words.join(" ").replace("( ", "(").replace(" )", ")")
}

/// Every `*_text` member beside a condition, anywhere in a pack.
fn condition_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match (k.strip_suffix("_text"), x) {
                    (Some(base), Value::String(t)) if o.contains_key(base) => out.push(t.clone()),
                    _ => condition_texts(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| condition_texts(x, out)),
        _ => {}
    }
}

/// The committed packs show every condition in the words of their source
/// files (the protocol's and those it imports).
#[test]
fn the_committed_packs_quote_their_sources() {
    let mut quoted = 0;
    for id in PROTOCOLS {
        let pack: Value = serde_json::from_str(
            &fs::read_to_string(format!("out/{id}.json")).expect("the committed rule pack"),
        )
        .expect("JSON");
        let sources: Vec<String> = pack["source"]["files"]
            .as_array()
            .expect("source files")
            .iter()
            .map(|f| {
                let path = f["path"].as_str().expect("a path");
                one_line(&fs::read_to_string(format!("protocols/{path}")).expect("the source file"))
            })
            .collect();
        let mut texts = Vec::new();
        condition_texts(&pack, &mut texts);
        assert!(
            texts.len() >= pack["rules"].as_array().expect("rules").len(),
            "{id}: only {} condition texts",
            texts.len()
        );
        for t in &texts {
            assert!(
                sources.iter().any(|s| s.contains(t.as_str())),
                "{id}: `{t}` is not written in its sources"
            );
        }
        quoted += texts.len();
    }
    assert!(quoted > 100, "{quoted} texts");
}

#[test]
fn otherwise_is_written_as_null_when_the_protocol_gives_none() {
    let json = carepath::emit::pack_json(&details());
    let v: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        v["policy"].get("otherwise"),
        Some(&Value::Null),
        "{}",
        v["policy"]
    );
    // And as the level's id when it gives one.
    let dorset: Value =
        serde_json::from_str(&fs::read_to_string("out/dorset.json").expect("the pack"))
            .expect("JSON");
    assert_eq!(dorset["policy"]["otherwise"], "level-1");

    // The schema says it is always there, a level id or `null`.
    let schema: Value = serde_json::from_str(
        &fs::read_to_string("schema/carepath-rulepack-3.schema.json").expect("schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    assert!(validator.is_valid(&v));
    let mut without = v.clone();
    without["policy"]
        .as_object_mut()
        .expect("the policy")
        .remove("otherwise");
    assert!(!validator.is_valid(&without), "a pack without `otherwise`");

    // Readers take `null`, and a pack without the member, as no level.
    let engine = Engine::from_json(&json).expect("the pack as built");
    assert_eq!(engine.pack.policy.otherwise, None);
    let engine = Engine::from_json_with(&without.to_string(), Integrity::AllowModified)
        .expect("a pack without `otherwise`");
    assert_eq!(engine.pack.policy.otherwise, None);
}

#[test]
fn an_amount_is_in_pounds_whatever_the_protocol_calls_it() {
    let pack = details();
    for id in ["cost", "spent"] {
        let q = pack
            .questions
            .iter()
            .find(|q| q.id == id)
            .expect("the question");
        assert_eq!(q.unit.as_deref(), Some("pounds"), "`{id}`");
    }
    let hurt = pack
        .questions
        .iter()
        .find(|q| q.id == "hurt")
        .expect("hurt");
    assert_eq!(hurt.unit, None);
}

/// Two rules of the top level hold, with a lower one: both decide, in
/// source order, and the police
/// response is the most police of theirs; of two judgements, equally
/// police, the one the pack names first.
#[test]
fn under_most_serious_every_rule_of_the_top_level_decides() {
    let source = r#"protocol ties {
  title "Ties"
  authority "Example Council"
  source "Example protocol document"
  policy most-serious
  otherwise low
}
setting home "Children's home" { no route "routes are not part of this test" }
actor manager "Registered manager"
actor social-worker "Social worker"
question a "A?" { answer yes or no }
question b "B?" { answer yes or no }
question c "C?" { answer yes or no }
question d "D?" { answer yes or no }
level low "Low" { police none }
level mid "Mid" { police report }
level high "High" { police advice }
rule first-high { when a then high
  police judgement by manager }
rule lower { when c then mid }
rule second-high { when b then high
  police judgement by social-worker }
rule third-high { when d then high }
"#;
    let (_, pack) = compile_in_memory("ties.carepath", source, "ties");
    let engine = Engine::new(pack).expect("the pack loads");
    let decide = |answers: Value| {
        let answers: Map<String, Value> = serde_json::from_value(answers).expect("an object");
        let answers = engine.answers(&answers).expect("valid answers");
        engine.decide(&answers, "home").expect("a decision")
    };
    let ids = |rules: &[carepath::eval::decision::RuleRef]| -> Vec<String> {
        rules.iter().map(|r| r.id.to_string()).collect()
    };

    // Two judgements: both rules decide, the judge the pack names first
    // (the earlier rule's) is named.
    let d = decide(json!({"a": true, "b": true, "c": true, "d": false}));
    assert_eq!(d.level.id, "high");
    assert_eq!(ids(&d.deciding), ["first-high", "second-high"]);
    assert_eq!(ids(&d.overruled), ["lower"]);
    assert_eq!(d.police.by, Some("Registered manager"));
    assert_eq!(d.police.from.as_slice(), ["first-high"]);

    // With the level's own `advice` among them, that is the most police.
    let d = decide(json!({"a": true, "b": true, "c": false, "d": true}));
    assert_eq!(
        ids(&d.deciding),
        ["first-high", "second-high", "third-high"]
    );
    assert_eq!(
        serde_json::to_value(d.police.response).expect("a word"),
        "advice"
    );
    assert_eq!(d.police.by, None);
    assert_eq!(d.police.from.as_slice(), ["level"]);
}

/// A protocol under `no-overlap` whose rules `a-low` and `b-high` may hold
/// together, with that conflict accepted or not.
fn overlapping(accepted: bool) -> String {
    let accept = if accepted {
        "accept conflict a-low, b-high because \"The document gives both and says nothing of incidents with both.\"\n"
    } else {
        ""
    };
    format!(
        r#"protocol overlap {{
  title "Overlap"
  authority "Example Council"
  source "Example protocol document"
  policy no-overlap
  otherwise low
}}
setting home "Children's home" {{ no route "routes are not part of this test" }}
question a "A?" {{ answer yes or no }}
question b "B?" {{ answer yes or no }}
level low "Low" {{ police none }}
level mid "Mid" {{ police report }}
level high "High" {{ police emergency }}
rule a-low {{ when a then mid }}
rule b-high {{ when b then high }}
{accept}"#
    )
}

/// A conflict the protocol accepts: the pack is built (it is not without
/// the acceptance), lists it, and `decide` gives an incident where both
/// rules hold no level, with the protocol's reason; one where only one
/// holds is decided as usual.
#[test]
fn an_accepted_conflict_is_built_and_decided_as_no_level_with_the_reason() {
    let dir = scratch("pack-details-overlap");
    let out_dir = dir.join("out");
    let build = |accepted: bool| {
        let source = dir.join("overlap.carepath");
        fs::write(&source, overlapping(accepted)).expect("write the protocol");
        carepath(&[
            "build",
            "--no-svg",
            "--out",
            out_dir.to_str().expect("UTF-8"),
            source.to_str().expect("UTF-8"),
        ])
    };
    let refused = build(false);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(!out_dir.join("overlap.json").exists());

    let built = build(true);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
    let pack_path = out_dir.join("overlap.json");
    let pack = pack_path.to_str().expect("UTF-8");
    let engine =
        Engine::from_json(&fs::read_to_string(&pack_path).expect("the pack")).expect("loads");
    let finding = &engine.pack.accepted_findings[0];
    assert_eq!(finding.code, "carepath::conflict");
    assert_eq!(finding.rules, ["a-low", "b-high"]);

    let both = carepath(&["decide", pack, "--answer", "a=yes", "--answer", "b=yes"]);
    assert_eq!(both.status.code(), Some(1), "{}", text(&both.stdout));
    assert_eq!(
        text(&both.stderr),
        "error: the protocol gives no level for this incident: rules of different levels apply, \
         and the protocol says they must not overlap\n  the protocol accepts this: The document \
         gives both and says nothing of incidents with both.\n"
    );
    assert!(text(&both.stdout).is_empty(), "{}", text(&both.stdout));

    // The library says the same.
    let answers: Map<String, Value> =
        serde_json::from_value(json!({"a": true, "b": true})).expect("an object");
    let answers = engine.answers(&answers).expect("valid answers");
    match engine.decide(&answers, "home").err().as_deref() {
        Some([AnswerError::NoLevel { accepted, .. }]) => assert_eq!(
            accepted,
            &["The document gives both and says nothing of incidents with both."]
        ),
        other => panic!("{other:?}"),
    }

    let one = carepath(&["decide", pack, "--answer", "a=yes", "--answer", "b=no"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert!(
        text(&one.stdout).starts_with("Level: Mid"),
        "{}",
        text(&one.stdout)
    );
}
