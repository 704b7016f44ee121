//! The route as `decide` walks it, from the rule pack, against an
//! independent walk over the model: for every incident of every protocol
//! (or a fixed sample where there are too many) and every setting, the
//! same nodes in the same order, the same answers to the decisions the
//! incident or the document settles, and the same actions and timings kept.

use std::path::Path;

use carepath::analysis::Space;
use carepath::analysis::witness::answer_json;
use carepath::eval::Engine;
use carepath::model::{
    Answer, ContactRef, DecideOn, Entry, Model, NodeKind, Policy, QuestionId, Route, RuleId,
};
use serde_json::{Map, Value};

use crate::support::{self, PROTOCOLS};

/// A protocol with every route construct: decisions on a question, on a
/// condition and with fixed answers, conditional steps, actions and
/// timings, fallbacks, per-setting actors, rules with their own starts, a shared
/// fragment, a loop with a way out.
pub const ROUTES: &str = r#"protocol routes {
  title "Routes"
  authority "A council"
  source "A document"
  policy most-serious
}
setting home "Children's home"
setting foster "Foster carers"
actor staff "Residential staff"
actor carer "Foster carer"
actor manager "Manager on call"
contact head "Head of Service" { phone "01234" }
contact rapid "Rapid Response Team"
contact liaison "Police liaison officer"
contact police-999 "Police" { phone "999" }
contact control-room "Police control room" { phone "101" }
question harm "Is anyone at risk of immediate serious harm?" { answer yes or no }
question drugs "Drugs?" { answer one of { none "None", use "Use", supply "Supply" } }
question repeated "Is the drug use repeated?" { answer yes or no asked when drugs == use }
question missing "Is the child missing?" { answer yes or no }
question theft "Was something stolen?" { answer yes or no }
level internal "Internal" { police none }
level report "Report" { police report }
level emergency "Emergency" { police emergency }
rule quiet { when not harm and drugs == none then internal }
rule drug-use { when drugs == use then report police prompt }
rule drug-supply { when drugs == supply then report }
rule harm-999 { when harm then emergency }
rule theft-report { when theft then report }
route main "Main" {
  for home, foster
  start internal -> still-missing
  start report -> police-required
  start drug-use -> control
  start theft-report -> share
  start emergency -> call-999
  decision police-required "Police required?" {
    on harm
    yes -> call-999
    no -> share
  }
  decision share "Share with the police?" {
    answers yes or no
    always yes when drugs == supply or repeated
    by manager
    yes -> control
    no -> record
  }
  step control "Tell the control room" {
    by staff for home
    by carer for foster
    report to control-room when drugs == supply
    consult liaison if in doubt
    inform head else rapid
    timing within 24 hours when drugs == use
    timing after 24 hours if "wherever possible and safe to do so"
    then record
  }
  step call-999 "Call 999" {
    only when harm
    contact police-999
    then debrief
  }
  use aftercare
  decision still-missing "Is the child still missing?" {
    on missing and drugs == none
    yes -> search
    no -> record
  }
  step search "Search, then ask again" { by staff then still-missing }
  step record "Record it" { by staff then done }
  outcome done "Recorded" { by manager }
}
fragment aftercare "After the police have been" {
  step debrief "Debrief the child" { by staff then debriefed }
  outcome debriefed "Debriefed"
}
"#;

/// What a walk shows, node by node: id, the decision's answer (when
/// settled), the actions kept (kind and target ids) and how many timings.
type Walked = Vec<(String, Option<String>, Vec<String>, usize)>;

fn answer_of(values: &[Option<Answer>], q: QuestionId) -> Option<Answer> {
    values[q.index()]
}

/// The deciding rules of a complete incident, and its level, as the
/// protocol's policy gives them.
fn decided(model: &Model, values: &[Option<Answer>]) -> Option<(usize, Vec<RuleId>)> {
    let holds = |r: &RuleId| {
        model
            .rule(*r)
            .when
            .eval(&|q: QuestionId| answer_of(values, q))
    };
    let matching: Vec<RuleId> = (0..model.rules.len() as u32)
        .map(RuleId)
        .filter(|r| model.rule(*r).decides() && holds(r))
        .collect();
    let level = match model.header.policy.value {
        Policy::FirstMatch => matching.first().map(|r| model.rule(*r).level),
        _ => matching.iter().map(|r| model.rule(*r).level).max(),
    }
    .or(model.header.otherwise.as_ref().map(|o| o.value))?;
    let deciding = match model.header.policy.value {
        Policy::FirstMatch => matching.into_iter().take(1).collect(),
        _ => matching
            .into_iter()
            .filter(|r| model.rule(*r).level == level)
            .collect(),
    };
    Some((level.index(), deciding))
}

/// The walk over the model, written from the language's description.
fn model_walk(
    model: &Model,
    route: &Route,
    start: usize,
    setting: &str,
    values: &[Option<Answer>],
) -> Walked {
    let eval = |c: &carepath::model::Cond| c.eval(&|q: QuestionId| answer_of(values, q));
    let mut out: Walked = Vec::new();
    let mut seen = Vec::new();
    let mut at = Some(start);
    let _ = setting;
    while let Some(i) = at {
        if seen.contains(&i) {
            break;
        }
        seen.push(i);
        let n = &route.nodes[i];
        match &n.kind {
            NodeKind::Step(s) => {
                at = s.next.map(|x| x.index());
                if s.only_when.as_ref().is_some_and(|c| !eval(c)) {
                    continue;
                }
                let actions = s
                    .actions
                    .iter()
                    .filter(|a| a.when.as_ref().is_none_or(&eval))
                    .map(|a| {
                        let ids: Vec<String> = a
                            .targets
                            .iter()
                            .flatten()
                            .map(|c| match c {
                                ContactRef::Contact(c) => model.contacts[c.index()].meta.id.clone(),
                                ContactRef::Actor(x) => model.actors[x.index()].meta.id.clone(),
                            })
                            .collect();
                        format!("{} {}", a.kind.keyword(), ids.join(" "))
                    })
                    .collect();
                let timing = s
                    .timing
                    .iter()
                    .filter(|t| t.when.as_ref().is_none_or(&eval))
                    .count();
                out.push((n.meta.id.clone(), None, actions, timing));
            }
            NodeKind::Outcome(_) => {
                out.push((n.meta.id.clone(), None, Vec::new(), 0));
                at = None;
            }
            NodeKind::Decision(d) => {
                let fixed = d.always.iter().find(|(_, c)| eval(c)).map(|(a, _)| *a);
                let settled = fixed.or_else(|| match &d.on {
                    Some(DecideOn::Condition(c)) => Some(if eval(c) { 0 } else { 1 }),
                    Some(DecideOn::Question(q)) => match answer_of(values, *q) {
                        Some(Answer::Bool(b)) => Some(if b { 0 } else { 1 }),
                        Some(Answer::Option(o)) => Some(o),
                        _ => None,
                    },
                    None => None,
                });
                let timing = d
                    .timing
                    .iter()
                    .filter(|t| t.when.as_ref().is_none_or(&eval))
                    .count();
                let answer = settled.map(|a| d.answers[a as usize].id.clone());
                out.push((n.meta.id.clone(), answer, Vec::new(), timing));
                at = settled.and_then(|a| {
                    d.branches
                        .iter()
                        .find(|b| b.answer == a)
                        .map(|b| b.target.index())
                });
            }
        }
    }
    out
}

/// The engine's walk in the same terms.
fn engine_walk(route: &carepath::eval::Route) -> Walked {
    route
        .steps
        .iter()
        .map(|s| {
            let actions = s
                .actions
                .iter()
                .map(|a| {
                    let verb = match a.kind {
                        carepath::emit::pack::ActionKind::Contact => "contact",
                        carepath::emit::pack::ActionKind::Consult => "consult",
                        carepath::emit::pack::ActionKind::Inform => "inform",
                        carepath::emit::pack::ActionKind::Report => "report to",
                    };
                    let ids: Vec<&str> = a.targets.iter().flatten().map(|c| c.id).collect();
                    format!("{verb} {}", ids.join(" "))
                })
                .collect();
            (
                s.id.to_string(),
                s.answer.map(str::to_string),
                actions,
                s.timing.len(),
            )
        })
        .collect()
}

/// Every possible incident (a cell per question), or a fixed sample of
/// `limit` of them where there are more.
fn incidents(space: &Space<'_>, limit: usize) -> Vec<Vec<u32>> {
    let sizes = space.domain.sizes();
    let total: u128 = sizes.iter().map(|s| u128::from(*s)).product();
    let mut out = Vec::new();
    if total <= 200_000 {
        let mut cells = vec![0u32; sizes.len()];
        'all: loop {
            if space.mdd.eval(space.valid, &cells) == 1 {
                out.push(cells.clone());
            }
            for q in (0..sizes.len()).rev() {
                cells[q] += 1;
                if cells[q] < sizes[q] {
                    continue 'all;
                }
                cells[q] = 0;
            }
            return out;
        }
    }
    let mut rng = crate::synth::Rng::new(42);
    let mut tries = 0;
    while out.len() < limit && tries < limit * 200 {
        tries += 1;
        let cells: Vec<u32> = sizes
            .iter()
            .map(|s| rng.below(u64::from(*s)) as u32)
            .collect();
        if space.mdd.eval(space.valid, &cells) == 1 {
            out.push(cells);
        }
    }
    out
}

fn check(model: &Model, engine: &Engine, what: &str) -> usize {
    let space = Space::new(model);
    let mut compared = 0;
    let mut problems: Vec<String> = Vec::new();
    for cells in incidents(&space, 4000) {
        let values: Vec<Option<Answer>> = cells
            .iter()
            .enumerate()
            .map(|(q, c)| space.domain.answer(QuestionId(q as u32), *c))
            .collect();
        let Some((level, deciding)) = decided(model, &values) else {
            continue;
        };
        let setting_q = model.setting_question().map(|q| q.index());
        let mut object = Map::new();
        for (q, v) in values.iter().enumerate() {
            if Some(q) == setting_q {
                continue;
            }
            if let Some(a) = v {
                object.insert(
                    model.questions[q].meta.id.clone(),
                    answer_json(model, QuestionId(q as u32), *a),
                );
            }
        }
        let setting = match setting_q.and_then(|q| values[q]) {
            Some(Answer::Option(s)) => s as usize,
            _ => continue,
        };
        let setting_id = &model.settings[setting].meta.id;
        let answers = engine
            .answers(&object)
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let decision = match engine.decide(&answers, setting_id) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{what}: {object:?} in {setting_id}: {e:?}"));
                continue;
            }
        };
        // The model's entry: the first deciding rule with a start in a route
        // for the setting, else the level's.
        let s = carepath::model::SettingId(setting as u32);
        let entry = deciding
            .iter()
            .find_map(|r| model.route_for(Entry::Rule(*r), s))
            .or_else(|| model.route_for(Entry::Level(carepath::model::LevelId(level as u32)), s));
        let expected = entry.map(|(r, n)| {
            model_walk(
                model,
                &model.routes[r.index()],
                n.index(),
                setting_id,
                &values,
            )
        });
        let got = decision.route.as_ref().map(engine_walk);
        if expected != got {
            problems.push(format!(
                "{what}: {} in {setting_id}: the model walks {expected:?}, the pack {got:?}",
                Value::Object(object)
            ));
        }
        compared += 1;
    }
    assert!(
        problems.is_empty(),
        "{} of {compared} walks differ, e.g.\n{}",
        problems.len(),
        problems
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    compared
}

#[test]
fn the_pack_walks_every_route_as_the_model_does() {
    let (model, pack) = support::compile_in_memory("routes.carepath", ROUTES, "routes");
    let engine = Engine::new(pack).expect("loads");
    let n = check(&model, &engine, "routes");
    assert!(n >= 30, "only {n} incidents compared");
    for name in PROTOCOLS {
        let path = Path::new("protocols").join(format!("{name}.carepath"));
        let (ws, diags) = support::check_disk(std::slice::from_ref(&path), Path::new("protocols"));
        assert!(support::error_lines(&diags).is_empty(), "{name}");
        let root = ws.roots()[0];
        let model = carepath::model::lower(&ws, root).model.expect("a model");
        let engine = Engine::from_json(
            &std::fs::read_to_string(format!("out/{name}.json")).expect("the pack"),
        )
        .expect("loads");
        let n = check(&model, &engine, name);
        assert!(n > 0, "{name}: no incidents compared");
    }
}

#[test]
fn decisions_the_incident_settles_are_followed_and_the_rest_left_to_staff() {
    let (_, pack) = support::compile_in_memory("routes.carepath", ROUTES, "routes");
    let engine = Engine::new(pack).expect("loads");
    let decide = |given: Value, setting: &str| {
        let answers = engine
            .answers(given.as_object().expect("object"))
            .expect("valid");
        engine.decide(&answers, setting).expect("a decision")
    };
    // Drug use enters at the control room (the rule's own start), in order.
    let d = decide(
        serde_json::json!({"harm": false, "drugs": "use", "repeated": false, "missing": false, "theft": false}),
        "foster",
    );
    let route = d.route.expect("a route");
    let ids: Vec<&str> = route.steps.iter().map(|s| s.id).collect();
    assert_eq!(ids, ["control", "record", "done"]);
    let control = route.steps.first().expect("a first step");
    assert_eq!(control.by.as_slice(), ["Foster carer"]);
    // `report to control-room when drugs == supply` does not hold.
    let kinds: Vec<_> = control.actions.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            carepath::emit::pack::ActionKind::Consult,
            carepath::emit::pack::ActionKind::Inform
        ]
    );
    assert!(control.actions[0].in_doubt);
    let fallback: Vec<&str> = control.actions[1].targets[0].iter().map(|c| c.id).collect();
    assert_eq!(fallback, ["head", "rapid"]);
    assert_eq!(
        control.timing.as_slice(),
        [
            "within 24 hours",
            "after 24 hours, wherever possible and safe to do so"
        ]
    );
    // Supply: the document fixes "share with the police".
    let d = decide(
        serde_json::json!({"harm": false, "drugs": "supply", "missing": false, "theft": false}),
        "home",
    );
    let route = d.route.expect("a route");
    let share = route
        .steps
        .iter()
        .find(|s| s.id == "share")
        .expect("the share decision");
    assert_eq!(share.answer, Some("yes"));
    assert_eq!(
        share.settled_by,
        Some(carepath::eval::decision::SettledBy::Document)
    );
    // Internal: the missing child loop is walked once, then back.
    let d = decide(
        serde_json::json!({"harm": false, "drugs": "none", "missing": true, "theft": false}),
        "home",
    );
    let route = d.route.expect("a route");
    let ids: Vec<&str> = route.steps.iter().map(|s| s.id).collect();
    assert_eq!(ids, ["still-missing", "search"]);
    let again = route.steps.get(1).expect("a second step");
    assert_eq!(again.then_again, Some("still-missing"));
    // Harm: the route goes on into the shared fragment.
    let d = decide(
        serde_json::json!({"harm": true, "drugs": "none", "missing": false, "theft": false}),
        "home",
    );
    let route = d.route.expect("a route");
    let ids: Vec<&str> = route.steps.iter().map(|s| s.id).collect();
    assert_eq!(ids, ["call-999", "debrief", "debriefed"]);
    let debrief = engine.pack.routes[0]
        .nodes
        .iter()
        .find(|n| n.id == "debrief")
        .expect("in the graph");
    assert_eq!(debrief.fragment.as_deref(), Some("aftercare"));
}

/// `carepath decide` on ROUTES, written into the scratch folder `name`, for
/// a home, with `extra` arguments; what it printed.
fn decide_routes(name: &str, extra: &[&str]) -> String {
    let dir = crate::support::scratch(name);
    let file = dir.join("routes.carepath");
    std::fs::write(&file, ROUTES).expect("write");
    let path = file.to_string_lossy().into_owned();
    let mut args = vec!["decide", path.as_str(), "--setting", "home"];
    args.extend_from_slice(extra);
    let out = crate::support::run_carepath(
        &args,
        "",
        std::process::Stdio::piped(),
        std::process::Stdio::piped(),
    );
    assert!(
        out.status.success(),
        "{}",
        crate::support::text(&out.stderr)
    );
    crate::support::text(&out.stdout)
}

#[test]
fn the_human_report_prints_the_route_in_order_with_what_settled_each_decision() {
    let run = |answers: &[&str]| {
        let args: Vec<&str> = answers.iter().flat_map(|a| ["--answer", *a]).collect();
        decide_routes("walk-human", &args)
    };
    let supply = run(&["harm=no", "drugs=supply", "missing=no", "theft=no"]);
    let order = [
        "1. Police required?",
        "answer: no (from the answers given)",
        "2. Share with the police?",
        "answer: yes (the protocol fixes this answer)",
        "3. Tell the control room",
        "report to: Police control room (101)",
        "consult: Police liaison officer (in cases of doubt)",
        "inform: Head of Service (01234), or if not available, Rapid Response Team",
        "4. Record it",
        "5. Recorded",
    ];
    let mut from = 0;
    for want in order {
        let at = supply[from..]
            .find(want)
            .unwrap_or_else(|| panic!("{want:?} not found in order in\n{supply}"));
        from += at + want.len();
    }
    // A decision left to staff names where each answer leads.
    let theft = run(&["harm=no", "drugs=none", "missing=no", "theft=yes"]);
    // Theft enters at its own start, the decision to share.
    let staff = "1. Share with the police?\n     by: Manager on call\n     to decide:\n       yes -> Tell the control room\n       no -> Record it\n";
    assert!(theft.contains(staff), "{theft}");
    assert!(
        !theft.contains("2."),
        "the walk stops at the open decision: {theft}"
    );
    let open = run(&["harm=no", "drugs=none", "missing=yes", "theft=no"]);
    assert!(open.contains("then back to `still-missing`"), "{open}");
}

#[test]
fn the_json_decision_gives_the_walk_and_the_whole_route() {
    let out = decide_routes(
        "walk-json",
        &[
            "--format",
            "json",
            "--answer",
            "harm=yes",
            "--answer",
            "drugs=none",
            "--answer",
            "missing=no",
            "--answer",
            "theft=no",
        ],
    );
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let walked: Vec<&str> = v["route"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(walked, ["call-999", "debrief", "debriefed"]);
    let (_, pack) = support::compile_in_memory("routes.carepath", ROUTES, "routes");
    assert_eq!(
        v["route"]["graph"],
        serde_json::to_value(&pack.routes[0].nodes).expect("nodes")
    );
}
