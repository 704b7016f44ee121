//! `carepath decide` and the evaluation library: decisions as the protocol
//! document gives them, clear errors for bad packs and bad answers, and the
//! interactive mode that asks only what matters.

use std::fs;

use std::process::{Output, Stdio};

use crate::support::{quiet_dorset, run_carepath, scratch, text};
use carepath::emit::pack::Response;
use carepath::eval::{AnswerError, Engine};
use serde_json::{Value, json};

fn carepath(args: &[&str], stdin: &str) -> Output {
    run_carepath(args, stdin, Stdio::piped(), Stdio::piped())
}

/// `decide` on Dorset for residential homes, interactively.
fn interactive(input: &str) -> Output {
    carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "residential",
            "--interactive",
        ],
        input,
    )
}

fn dorset() -> Engine {
    Engine::from_json(&fs::read_to_string("out/dorset.json").expect("pack")).expect("loads")
}

#[test]
fn dorset_second_class_b_possession_is_level_2_with_its_route() {
    let engine = dorset();
    let mut given = quiet_dorset();
    given.insert("drugs".into(), "possession".into());
    given.insert("drug-class".into(), "class-b".into());
    given.insert("bc-occasion".into(), 2.into());
    given.insert("confiscated".into(), false.into());
    let answers = engine.answers(&given).expect("valid answers");
    let d = engine.decide(&answers, "residential").expect("a decision");
    assert_eq!(d.level.id, "level-2");
    assert_eq!(d.deciding.len(), 1);
    assert_eq!(d.deciding[0].id, "second-bc-possession");
    assert_eq!(d.deciding[0].cites[0].section, "6.18");
    let route = d.route.expect("a route for residential homes");
    let first = route.steps.first().expect("a first step");
    assert!(first.text.contains("Registered Manager"), "{first:?}");
    let decision = route
        .steps
        .iter()
        .find(|s| !s.branches.is_empty())
        .expect("a decision step");
    assert!(!decision.weigh.is_empty(), "factors to weigh");
}

#[test]
fn dorset_serious_harm_overrules_lower_levels_and_says_so() {
    let engine = dorset();
    let mut given = quiet_dorset();
    given.insert("serious-harm-risk".into(), true.into());
    given.insert("damage".into(), "minor".into());
    let answers = engine.answers(&given).expect("valid");
    let d = engine.decide(&answers, "foster").expect("a decision");
    assert_eq!(d.level.id, "level-3");
    assert_eq!(d.police.response, carepath::emit::pack::Response::Emergency);
    assert!(
        d.overruled.iter().any(|r| r.id == "minor-damage"),
        "{:?}",
        d.overruled
    );
    let route = d.route.expect("the foster carers' route");
    let contacts: Vec<&str> = route
        .steps
        .iter()
        .flat_map(|s| s.actions)
        .flat_map(|a| a.targets.into_iter().flatten())
        .map(|c| c.id)
        .collect();
    assert!(contacts.contains(&"police-999"), "{contacts:?}");
}

#[test]
fn nothing_happening_is_the_otherwise_level() {
    let engine = dorset();
    let answers = engine.answers(&quiet_dorset()).expect("valid");
    let d = engine.decide(&answers, "residential").expect("a decision");
    assert_eq!(d.level.id, "level-1");
    assert!(d.by_otherwise);
    assert!(d.deciding.is_empty());
}

#[test]
fn bad_answers_are_each_a_clear_error() {
    let engine = dorset();
    let given = json!({
        "drugz": "none",
        "drugs": "posession",
        "assault": "yes",
        "bc-occasion": 0,
        "injury": "minor"
    });
    let errors = engine
        .answers(given.as_object().expect("object"))
        .expect_err("bad answers");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|e| e.contains("no question `drugz`") && e.contains("did you mean `drugs`")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|e| e.contains("`posession` is not an answer to `drugs`")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|e| e.contains("`assault` is a yes/no question")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|e| e.contains("bc-occasion") && e.contains("at least 1")),
        "{text:#?}"
    );
    assert_eq!(errors.len(), 4, "{text:#?}");

    // An answer to a question the other answers rule out.
    let mut given = quiet_dorset();
    given.insert("injury".into(), "minor".into());
    let errors = engine.answers(&given).expect_err("not applicable");
    assert!(
        matches!(&errors[0], AnswerError::NotApplicable { question, .. } if question == "injury"),
        "{errors:?}"
    );

    // A missing answer the decision depends on, named.
    let mut given = quiet_dorset();
    given.remove("weapon");
    let answers = engine.answers(&given).expect("valid so far");
    let errors = engine.decide(&answers, "residential").expect_err("missing");
    assert_eq!(
        errors,
        vec![AnswerError::Missing {
            questions: vec!["weapon".into()]
        }]
    );

    // An unknown setting.
    let answers = engine.answers(&quiet_dorset()).expect("valid");
    let errors = engine
        .decide(&answers, "castle")
        .expect_err("unknown setting");
    assert!(errors[0].to_string().contains("residential"), "{errors:?}");
}

#[test]
fn answers_that_cannot_matter_need_not_be_given() {
    // West Sussex: a child at risk of significant harm is one of the six
    // circumstances, whatever else happened, and no procedure runs beside it.
    let engine = Engine::from_json(&fs::read_to_string("out/west-sussex.json").expect("pack"))
        .expect("loads");
    let mut given = serde_json::Map::new();
    given.insert("harm-risk".into(), true.into());
    let answers = engine.answers(&given).expect("valid");
    let d = engine
        .decide(&answers, "residential")
        .expect("settled by one answer");
    assert_eq!(d.level.id, "police-involvement");
    assert!(engine.next_question(&answers).is_none());
    // In Dorset a 999 risk settles the level, but whether drugs are to be
    // shared with the police alongside it still depends on the drugs.
    let engine = dorset();
    let mut given = serde_json::Map::new();
    given.insert("serious-harm-risk".into(), true.into());
    let answers = engine.answers(&given).expect("valid");
    let missing = engine
        .decide(&answers, "residential")
        .expect_err("drugs open");
    assert!(
        matches!(&missing[..], [AnswerError::Missing { questions }] if questions.contains(&"drugs".to_string())),
        "{missing:?}"
    );
}

#[test]
fn next_question_asks_in_order_and_only_what_matters() {
    let engine = dorset();
    let empty = engine.answers(&serde_json::Map::new()).expect("valid");
    assert_eq!(
        engine.next_question(&empty).map(|q| q.id.as_str()),
        Some("serious-harm-risk")
    );
    // An injury question is asked only after an assault.
    let mut given = quiet_dorset();
    given.remove("assault");
    let answers = engine.answers(&given).expect("valid");
    assert_eq!(
        engine.next_question(&answers).map(|q| q.id.as_str()),
        Some("assault")
    );
    given.insert("assault".into(), true.into());
    let answers = engine.answers(&given).expect("valid");
    assert_eq!(
        engine.next_question(&answers).map(|q| q.id.as_str()),
        Some("injury")
    );
}

#[test]
fn broken_packs_are_refused_with_the_reason() {
    let good: Value =
        serde_json::from_str(&fs::read_to_string("out/dorset.json").expect("pack")).expect("JSON");
    let refuse = |pack: &Value| {
        Engine::from_json(&pack.to_string())
            .err()
            .map(|e| e.to_string())
    };
    assert!(refuse(&good).is_none());

    let mut v = good.clone();
    v["format"] = "carepath-rulepack/9".into();
    assert!(
        refuse(&v)
            .expect("refused")
            .contains("unsupported rule pack format `carepath-rulepack/9`")
    );

    let mut v = good.clone();
    v["rules"][0]["level"] = "level-9".into();
    let e = refuse(&v).expect("refused");
    assert!(
        e.contains("level `level-9`") && e.contains("does not define"),
        "{e}"
    );

    let mut v = good.clone();
    v["routes"][0]["nodes"][0]["next"] = "nowhere".into();
    let e = refuse(&v).expect("refused");
    assert!(e.contains("step `nowhere`"), "{e}");

    let mut v = good.clone();
    v["rules"][0]["when"] = json!({"cat": ["a", "b"]});
    let e = refuse(&v).expect("refused");
    assert!(e.contains("unsupported operator `cat`"), "{e}");

    assert!(
        Engine::from_json("{ not json")
            .err()
            .is_some_and(|e| e.to_string().contains("not valid JSON"))
    );
}

#[test]
fn the_command_decides_from_a_pack_or_a_protocol() {
    let args = [
        "--setting",
        "residential",
        "--answer",
        "serious-harm-risk=no",
        "--answer",
        "substantial-damage-risk=no",
        "--answer",
        "significant-disorder-risk=no",
        "--answer",
        "assault=no",
        "--answer",
        "damage=none",
        "--answer",
        "theft=none",
        "--answer",
        "drugs=possession",
        "--answer",
        "drug-class=class-b",
        "--answer",
        "bc-occasion=2",
        "--answer",
        "confiscated=no",
        "--answer",
        "sexual-abuse=none",
        "--answer",
        "victim=no",
        "--answer",
        "dealing-concern=no",
        "--answer",
        "weapon=no",
        "--answer",
        "repeated-behaviour=no",
        "--answer",
        "prolonged=no",
    ];
    for input in ["out/dorset.json", "protocols/dorset.carepath"] {
        let mut all = vec!["decide", input];
        all.extend_from_slice(&args);
        let out = carepath(&all, "");
        assert_eq!(out.status.code(), Some(0), "{input}: {}", text(&out.stderr));
        let shown = text(&out.stdout);
        assert!(shown.starts_with("Level: Level 2"), "{shown}");
        assert!(
            shown.contains("Decided by: rule `second-bc-possession` (6.18) (should)"),
            "{shown}"
        );
        assert!(shown.contains("Route for `residential`"), "{shown}");

        all.extend_from_slice(&["--format", "json", "--explain"]);
        let out = carepath(&all, "");
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        crate::support::assert_valid_decision(&v, input);
        assert_eq!(v["format"], "carepath-decision/1");
        assert_eq!(v["level"]["id"], "level-2");
        assert_eq!(v["deciding"][0]["id"], "second-bc-possession");
        assert!(v["explanation"].as_array().is_some_and(|e| !e.is_empty()));
    }
}

#[test]
fn the_command_reads_answers_from_a_file_or_standard_input() {
    let dir = scratch("decide-answers");
    let file = dir.join("answers.json");
    fs::write(&file, Value::Object(quiet_dorset()).to_string()).expect("write");
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answers",
            file.to_str().expect("utf-8"),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Level: Level 1"));

    // Standard input, overridden by --answer.
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answers",
            "-",
            "--answer",
            "weapon=yes",
            "--format",
            "json",
        ],
        &Value::Object(quiet_dorset()).to_string(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["level"]["id"], "level-3");
}

#[test]
fn the_command_exits_1_for_bad_answers_and_2_for_bad_input() {
    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answer",
            "drugs=posession",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("`posession` is not an answer to `drugs`"));
    assert!(
        text(&out.stderr).contains("(did you mean `possession`?)"),
        "{}",
        text(&out.stderr)
    );

    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answer",
            "drugs=none",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON errors");
    assert_eq!(v["errors"][0]["kind"], "missing");

    let out = carepath(&["decide", "no-such-pack.json", "--setting", "foster"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read no-such-pack.json"));

    let out = carepath(&["decide", "out/dorset.json"], "");
    assert_eq!(
        out.status.code(),
        Some(2),
        "a setting is needed: Dorset has several"
    );
    assert!(text(&out.stderr).contains("--setting"));

    let out = carepath(
        &[
            "decide",
            "out/dorset.json",
            "--setting",
            "foster",
            "--answer",
            "drugs",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn interactive_mode_asks_what_matters_and_reasks_bad_answers() {
    // Serious harm settles the level at once; what is still asked is only
    // whether drugs are to be shared with the police alongside it (10.3).
    let out = interactive("yes\nnone\nno\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let asked = text(&out.stderr);
    let order: Vec<&str> = asked
        .lines()
        .filter_map(|l| l.split_once("> ").map(|(q, _)| q))
        .collect();
    assert_eq!(
        order,
        ["serious-harm-risk", "drugs", "dealing-concern"],
        "{asked}"
    );
    assert!(text(&out.stdout).starts_with("Level: Level 3"));

    // A bad answer is asked again.
    let out = interactive("maybe\nyes\nnone\nno\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let asked = text(&out.stderr);
    assert!(asked.contains("try again"), "{asked}");
    assert_eq!(asked.matches("serious-harm-risk> ").count(), 2, "{asked}");

    // After an assault, how serious the injury was; the answers so far are
    // kept and the questions go on in the protocol's order.
    let out = interactive("no\nno\nno\nnone\nno\nnone\nnone\nnone\nyes\nserious\n");
    let asked = text(&out.stderr);
    let order: Vec<&str> = asked
        .lines()
        .filter_map(|l| l.split_once("> ").map(|(q, _)| q))
        .collect();
    assert_eq!(
        &order[..10],
        [
            "serious-harm-risk",
            "substantial-damage-risk",
            "significant-disorder-risk",
            "sexual-abuse",
            "weapon",
            "damage",
            "drugs",
            "theft",
            "assault",
            "injury"
        ],
        "{asked}"
    );

    // The input ends before the level is settled.
    let out = interactive("no\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the input ended"));
}

// ------------------------------------------------------------ many count thresholds

/// Dorset with 2,000 rules appended that each compare one of its occasion
/// counts with a threshold of its own (`synth::dorset_threshold_pack`), so
/// that the counts have a thousand answer classes each. Judging partial
/// answers once tried those classes in every combination and never
/// finished; the questions asked are the ones the protocol calls for.
#[test]
fn thousands_of_count_thresholds_do_not_stall_the_next_question() {
    let plain = Engine::new(crate::synth::dorset_threshold_pack(0)).expect("Dorset loads");
    let engine = Engine::new(crate::synth::dorset_threshold_pack(2_000)).expect("the pack loads");
    let answers = |engine: &Engine, given: &Value| {
        engine
            .answers(given.as_object().expect("an object"))
            .expect("possible answers")
    };
    let next = |engine: &Engine, given: &Value| {
        engine
            .next_question(&answers(engine, given))
            .map(|q| q.id.clone())
    };

    // Nothing answered: Dorset's own first question.
    let nothing = json!({});
    assert_eq!(next(&engine, &nothing), next(&plain, &nothing));
    assert_eq!(
        next(&engine, &nothing).as_deref(),
        Some("serious-harm-risk")
    );

    // Possession of class B drugs in a prolonged incident, nothing else:
    // level 1 on the first occasion, level 2 on the second, level 3 from
    // the third on. Only the number of occasions can still change that.
    let mut given = Value::Object(quiet_dorset());
    given["drugs"] = "possession".into();
    given["drug-class"] = "class-b".into();
    given["prolonged"] = true.into();
    given["confiscated"] = false.into();
    assert_eq!(next(&engine, &given).as_deref(), Some("bc-occasion"));
    let open: Vec<&str> = engine
        .open_questions(&answers(&engine, &given))
        .into_iter()
        .map(|q| engine.pack.questions[q].id.as_str())
        .collect();
    assert_eq!(open, ["bc-occasion"]);
    let missing = engine.decide(&answers(&engine, &given), "residential");
    assert!(
        matches!(&missing, Err(e) if matches!(e.as_slice(), [AnswerError::Missing { questions }] if questions == &["bc-occasion"])),
        "{missing:?}"
    );

    for (occasions, level) in [(2, "level-2"), (1_500, "level-3")] {
        given["bc-occasion"] = json!(occasions);
        assert_eq!(next(&engine, &given), None, "{occasions} occasions");
        let decision = engine
            .decide(&answers(&engine, &given), "residential")
            .expect("decided");
        assert_eq!(decision.level.id, level, "{occasions} occasions");
    }
}

// ------------------------------------------------------------ Model 2

/// A protocol with every construct of Model 2 that `decide` reports: a
/// judgement, per-setting and per-rule responses, a rule that tests the
/// setting, a `may` rule, a procedure with its own route, notes, and an
/// accepted gap with its region.
const MODEL_2: &str = r#"protocol model-two {
  title "Model 2"
  authority "A council"
  source "A document"
  policy most-serious
}
setting home "Children's home"
setting foster "Foster carers"
actor manager "The registered manager"
actor staff "Staff"
contact police-999 "Police" { phone "999" }
question harm "Is anyone at risk of serious harm?" { answer yes or no cite "1" }
question damage "Damage?" { answer scale { none < minor < major } }
question drugs-found "Were drugs found?" { answer yes or no }
question prolonged "Was it prolonged?" { answer yes or no }
level internal "Internal" {
  police none
  note "Handled in the home."
}
level threshold "The home's threshold" {
  police judgement by manager
  police advice for foster
  cite "2"
}
level serious "Serious" {
  police report
  cite "3"
}
rule minor-damage { when damage == minor then threshold cite "2.1" }
rule major-damage { when damage == major then serious cite "3.1" note "Major damage is always reported." }
rule harm-999 { when harm then serious police emergency cite "3.2" }
rule foster-harm { when setting == foster and damage >= minor then serious cite "3.3" }
rule long { when prolonged then threshold strength may cite "2.2" note "May warrant involvement." }
rule calm { when damage == none and not harm and not prolonged then internal cite "1.1" }
procedure store-drugs "Drugs found: store them and hand them to the police" {
  when drugs-found
  police prompt
  cite "4"
  note "Never dispose of them."
}
accept gap when damage == none and not harm and prolonged because "The document says nothing of a prolonged incident without damage." cite "2.2"
route main "Main" {
  for home, foster
  start internal -> record
  start threshold -> decide
  start serious -> call
  start store-drugs -> store
  step record "Record it" { by staff then done }
  decision decide "Manager decides" { by manager answers yes or no yes -> call no -> record }
  step call "Contact the police" { by staff contact police-999 then done note "Say it is a child in care." }
  step store "Store the drugs in a sealed bag" { by staff then done }
  outcome done "Done"
}
"#;

fn model_two() -> Engine {
    let (_, pack) = crate::support::compile_in_memory("model-two.carepath", MODEL_2, "model 2");
    Engine::new(pack).expect("loads")
}

fn decide_model_two(
    given: Value,
    setting: &str,
) -> Result<carepath::eval::Decision<'static>, Vec<AnswerError>> {
    // A decision borrows its words from the engine's pack; each test keeps
    // its engine for the rest of the run.
    let engine: &'static Engine = Box::leak(Box::new(model_two()));
    let answers = engine
        .answers(given.as_object().expect("object"))
        .expect("valid answers");
    engine.decide(&answers, setting)
}

#[test]
fn a_judgement_names_who_judges_and_a_setting_can_have_its_own_response() {
    let given = json!({"harm": false, "damage": "minor", "drugs-found": false, "prolonged": false});
    let home = decide_model_two(given.clone(), "home").expect("a decision");
    assert_eq!(home.level.id, "threshold");
    assert_eq!(
        home.police.response,
        carepath::emit::pack::Response::Judgement
    );
    assert_eq!(home.police.by, Some("The registered manager"));
    assert_eq!(
        home.police.words,
        "The registered manager judges whether to involve the police"
    );
    // In foster care the same answers meet the foster rule: serious.
    let foster = decide_model_two(given, "foster").expect("a decision");
    assert_eq!(foster.level.id, "serious");
    assert_eq!(foster.deciding[0].id, "foster-harm");
}

#[test]
fn a_rule_s_own_response_replaces_the_level_s_and_the_most_police_wins() {
    let given = json!({"harm": true, "damage": "major", "drugs-found": false, "prolonged": false});
    let d = decide_model_two(given, "home").expect("a decision");
    assert_eq!(d.level.id, "serious");
    assert_eq!(d.police.response, carepath::emit::pack::Response::Emergency);
    assert_eq!(d.police.from.as_slice(), ["harm-999"]);
    let given = json!({"harm": false, "damage": "major", "drugs-found": false, "prolonged": false});
    let d = decide_model_two(given, "home").expect("a decision");
    assert_eq!(d.police.response, carepath::emit::pack::Response::Report);
    assert_eq!(d.police.from.as_slice(), ["level"]);
    assert!(
        d.deciding[0]
            .notes
            .contains(&"Major damage is always reported.".to_string())
    );
}

#[test]
fn a_may_rule_suggests_without_deciding() {
    let given = json!({"harm": false, "damage": "minor", "drugs-found": false, "prolonged": true});
    let d = decide_model_two(given, "home").expect("a decision");
    // `long` holds but does not decide; the level comes from `minor-damage`.
    assert_eq!(d.level.id, "threshold");
    assert!(d.deciding.iter().all(|r| r.id != "long"));
    assert!(
        d.suggestions.is_empty(),
        "suggests the level already decided"
    );
    let given = json!({"harm": false, "damage": "none", "drugs-found": false, "prolonged": true});
    let e = decide_model_two(given, "home").expect_err("the accepted gap");
    // The gap's reason is given, because the incident is inside its region.
    match e.as_slice() {
        [AnswerError::NoLevel { accepted, .. }] => assert_eq!(
            accepted,
            &vec!["The document says nothing of a prolonged incident without damage.".to_string()]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_procedure_runs_alongside_the_level_with_its_own_route_and_response() {
    let given = json!({"harm": false, "damage": "none", "drugs-found": true, "prolonged": false});
    let d = decide_model_two(given, "foster").expect("a decision");
    assert_eq!(d.level.id, "internal");
    assert_eq!(d.police.response, carepath::emit::pack::Response::None);
    assert_eq!(d.level.notes, vec!["Handled in the home.".to_string()]);
    let [p] = d.procedures.as_slice() else {
        panic!("{:?}", d.procedures)
    };
    assert_eq!(p.id, "store-drugs");
    assert_eq!(
        p.police.as_ref().map(|x| x.response),
        Some(carepath::emit::pack::Response::Prompt)
    );
    assert_eq!(p.notes, vec!["Never dispose of them.".to_string()]);
    let steps: Vec<&str> = p
        .route
        .as_ref()
        .expect("its route")
        .steps
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(steps, ["store", "done"]);
    // Without drugs, no procedure.
    let given = json!({"harm": false, "damage": "none", "drugs-found": false, "prolonged": false});
    assert!(
        decide_model_two(given, "foster")
            .expect("a decision")
            .procedures
            .is_empty()
    );
}

#[test]
fn a_procedure_s_open_condition_is_a_missing_answer_and_the_next_question() {
    let engine = model_two();
    let given = json!({"harm": false, "damage": "none", "prolonged": false});
    let answers = engine
        .answers(given.as_object().expect("object"))
        .expect("valid");
    match engine
        .decide(&answers, "home")
        .expect_err("drugs-found is open")
        .as_slice()
    {
        [AnswerError::Missing { questions }] => assert_eq!(questions, &["drugs-found"]),
        other => panic!("{other:?}"),
    }
    let answers = engine.with_setting(&answers, "home").expect("a setting");
    assert_eq!(
        engine.next_question(&answers).map(|q| q.id.as_str()),
        Some("drugs-found")
    );
}

#[test]
fn the_setting_is_never_asked_and_answers_that_name_another_are_refused() {
    let engine = model_two();
    let given = json!({"setting": "home", "harm": false, "damage": "minor", "drugs-found": false, "prolonged": false});
    let answers = engine
        .answers(given.as_object().expect("object"))
        .expect("valid");
    match engine
        .decide(&answers, "foster")
        .expect_err("two settings")
        .as_slice()
    {
        [AnswerError::SettingDiffers { given, setting }] => {
            assert_eq!((given.as_str(), setting.as_str()), ("home", "foster"))
        }
        other => panic!("{other:?}"),
    }
    let none = engine.answers(&serde_json::Map::new()).expect("no answers");
    let open = engine.open_questions(&engine.with_setting(&none, "home").expect("setting"));
    assert!(
        open.iter()
            .all(|q| engine.pack.questions[*q].id != "setting"),
        "{open:?}"
    );
}

/// `carepath decide` on the Model 2 protocol itself, written into the
/// scratch folder `name` (one per test), for a home, with `answers` (`q=v`).
fn decide_model_two_command(name: &str, answers: &[&str]) -> Output {
    let dir = scratch(name);
    let file = dir.join("model-two.carepath");
    fs::write(&file, MODEL_2).expect("write");
    let path = file.to_string_lossy().into_owned();
    let mut args = vec!["decide", path.as_str(), "--setting", "home"];
    for a in answers {
        args.extend(["--answer", a]);
    }
    carepath(&args, "")
}

#[test]
fn the_human_report_shows_the_response_the_suggestion_the_procedure_and_the_notes() {
    let out = decide_model_two_command(
        "model-two-procedure",
        &["harm=no", "damage=none", "drugs-found=yes", "prolonged=no"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for want in [
        "Level: Internal",
        "Police: no police involvement",
        // The headline names the procedure's police response too.
        "Police, alongside (Drugs found: store them and hand them to the police): tell the police promptly, not as an emergency",
        "note: Handled in the home.",
        "Alongside: Drugs found: store them and hand them to the police (4)",
        "Police: tell the police promptly, not as an emergency",
        "note: Never dispose of them.",
        "Store the drugs in a sealed bag",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    let out = decide_model_two_command(
        "model-two-judgement",
        &["harm=no", "damage=minor", "drugs-found=no", "prolonged=no"],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Police: The registered manager judges whether to involve the police"),
        "{stdout}"
    );
    assert!(!stdout.contains("police involved"), "{stdout}");
}

#[test]
fn an_older_pack_is_refused_with_how_to_get_a_current_one() {
    let current = fs::read_to_string("out/dorset.json").expect("pack");
    for old in ["carepath-rulepack/1", "carepath-rulepack/2"] {
        let text = current.replace("carepath-rulepack/3", old);
        let e = Engine::from_json(&text).err().expect("refused").to_string();
        assert!(e.contains(&format!("old format `{old}`")), "{e}");
        assert!(e.contains("carepath build"), "{e}");
    }
    let text = current.replace("carepath-rulepack/3", "carepath-rulepack/1");
    let e = Engine::from_json(&text).err().expect("refused").to_string();
    assert!(e.contains("old format `carepath-rulepack/1`"), "{e}");
    assert!(e.contains("carepath build"), "{e}");
}

#[test]
fn an_accepted_gap_is_told_in_words_with_the_protocol_s_reason() {
    let decided = decide_model_two_command(
        "model-two-gap",
        &["harm=no", "damage=none", "prolonged=yes", "drugs-found=no"],
    );
    // No decision (exit 1), but not a bare error: the protocol's own reason
    // for leaving the incident undecided.
    assert_eq!(decided.status.code(), Some(1));
    let err = text(&decided.stderr);
    assert!(err.contains("gives no level for this incident"), "{err}");
    assert!(
        err.contains(
            "the protocol accepts this: The document says nothing of a prolonged incident without damage."
        ),
        "{err}"
    );
}

/// Dorset 6.15: the victim's wish decides the police response of a Level 2
/// incident, never its level. With the level settled and the victim not
/// yet asked about, the decision is still open: answering "no police"
/// (the Registered Manager judges) would be a confident answer the
/// document does not give.
#[test]
fn dorset_a_victim_s_wish_is_asked_before_the_police_response_is_given() {
    let engine = dorset();
    let mut given = quiet_dorset();
    given.insert("damage".into(), "moderate".into());
    given.remove("victim");
    let answers = engine.answers(&given).expect("valid answers");
    match engine
        .decide(&answers, "residential")
        .expect_err("the response waits on the victim")
        .as_slice()
    {
        [AnswerError::Missing { questions }] => {
            assert!(questions.iter().any(|q| q == "victim"), "{questions:?}")
        }
        other => panic!("{other:?}"),
    }
    let at_home = engine
        .with_setting(&answers, "residential")
        .expect("setting");
    assert_eq!(
        engine.next_question(&at_home).map(|q| q.id.as_str()),
        Some("victim")
    );
    given.insert("victim".into(), true.into());
    let answers = engine.answers(&given).expect("valid answers");
    let at_home = engine
        .with_setting(&answers, "residential")
        .expect("setting");
    assert_eq!(
        engine.next_question(&at_home).map(|q| q.id.as_str()),
        Some("victim-wants-police")
    );
    for (wish, response) in [(true, Response::Report), (false, Response::Judgement)] {
        given.insert("victim-wants-police".into(), wish.into());
        let answers = engine.answers(&given).expect("valid answers");
        let d = engine.decide(&answers, "residential").expect("a decision");
        assert_eq!(
            (d.level.id, d.police.response),
            ("level-2", response),
            "victim wishes police: {wish}"
        );
        let reached = engine.level_of(&given, "residential").expect("a level");
        assert_eq!(reached.police, response, "level_of, victim wishes: {wish}");
    }
    // Without a victim, nothing waits.
    given.insert("victim".into(), false.into());
    given.remove("victim-wants-police");
    let answers = engine.answers(&given).expect("valid answers");
    let d = engine.decide(&answers, "residential").expect("a decision");
    assert_eq!(d.police.response, Response::Judgement);
}

/// A remembered next question is the one the search finds: on every seed
/// pack, interviews answered in asking order (every prefix of many
/// incidents) get the same next question from an engine that met them in
/// order, from one that met them in reverse (its memory filled by other
/// answers first), and, for some, from an engine that met nothing before.
#[test]
fn remembered_next_questions_are_the_ones_searched() {
    use carepath::eval::Answers;
    use carepath::eval::expr::Val;
    for name in [
        "derbyshire",
        "dorset",
        "stockport",
        "west-sussex",
        "wiltshire",
    ] {
        let text = fs::read_to_string(format!("out/{name}.json")).expect("pack");
        let load = || Engine::from_json(&text).expect("loads");
        let forward = load();
        let backward = load();
        let n = forward.pack.questions.len();
        // Possible incidents drawn from the answer classes, and each
        // prefix of their answers in asking order.
        let mut seed: u64 = 0x5eed_0fa5;
        let mut states: Vec<Answers> = Vec::new();
        for _ in 0..30 {
            let mut vals: Vec<Option<Val>> = vec![None; n];
            for (q, cells) in forward.cells().iter().enumerate() {
                let asked = forward.asked_when(q).is_none_or(|c| c.eval(&vals));
                let choices: Vec<Val> = cells.iter().flatten().copied().collect();
                if asked && !choices.is_empty() {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    vals[q] = Some(choices[(seed >> 33) as usize % choices.len()]);
                }
            }
            for k in 0..=n {
                let mut values: Vec<Option<Option<Val>>> = vec![None; n];
                for (v, x) in values.iter_mut().zip(&vals).take(k) {
                    *v = x.map(Some);
                }
                if let Some(sq) = forward.setting_question() {
                    values[sq] = vals[sq].map(Some);
                }
                states.push(Answers { values });
            }
        }
        let next = |engine: &Engine, a: &Answers| engine.next_question(a).map(|q| q.id.clone());
        let ahead: Vec<Option<String>> = states.iter().map(|a| next(&forward, a)).collect();
        let behind: Vec<Option<String>> = states.iter().rev().map(|a| next(&backward, a)).collect();
        for (i, a) in states.iter().enumerate() {
            let back = &behind[states.len() - 1 - i];
            assert_eq!(&ahead[i], back, "{name}: {a:?}");
            if i % 97 == 0 {
                assert_eq!(ahead[i], next(&load(), a), "{name}, a fresh engine: {a:?}");
            }
        }
    }
}
