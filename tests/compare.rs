//! `carepath compare` and `review::authorities`: two small protocols whose
//! comparison is known row by row; the five seed protocols, their rows
//! checked against each authority's engine over every answer to its own
//! questions; the JSON against its committed schema; the outputs for
//! people.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use carepath::emit::pack::{QuestionKind, Response, RulePack};
use carepath::eval::Engine;
use carepath::eval::expr::Val;
use carepath::review::authorities::{self, Comparison};
use serde_json::{Map, Value, json};

use crate::diff::{carepath_in, pack, pack_value, status};
use crate::support::{compile_in_memory, text};

const HOME_A: &str = r#"protocol home-a {
  title "A"
  authority "Authority A"
  source "S"
  policy most-serious
  otherwise low
}
setting residential "Children's home" { no route "not drawn" }
question assault "Has there been an assault?" { answer yes or no }
question weapon "Was a weapon used?" { answer yes or no }
level low "Handled at home" { police none }
level mid "Reported" { police report }
level high "Emergency" { police emergency }
rule a1 { when assault and weapon then high }
rule a2 { when assault and not weapon then mid }
"#;

const HOME_B: &str = r#"protocol home-b {
  title "B"
  authority "Authority B"
  source "S"
  policy most-serious
  otherwise low
}
setting residential "Children's home" { no route "not drawn" }
setting foster "Foster home" { no route "not drawn" }
question assault "Has there been an assault?" { answer yes or no }
level low "Handled at home" { police none }
level mid "Reported" { police report }
rule b1 { when assault and setting == foster then mid }
"#;

fn outcomes(c: &Comparison, row: usize, side: usize) -> Vec<(Option<String>, Option<Response>)> {
    c.rows[row].by_authority[side]
        .outcomes
        .iter()
        .map(|o| (o.level.clone(), o.police))
        .collect()
}

#[test]
fn two_small_protocols_row_by_row() {
    let (_, a) = compile_in_memory("a.carepath", HOME_A, "A");
    let (_, b) = compile_in_memory("b.carepath", HOME_B, "B");
    let c = authorities::compare(&[(&a, "a.carepath"), (&b, "b.carepath")]).expect("compared");
    let ids: Vec<&str> = c.shared.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["setting", "assault"]);
    assert_eq!(c.own[0].questions, ["weapon"]);
    assert!(c.own[1].questions.is_empty());
    // Foster homes are B's alone: two classes, not compared.
    assert_eq!(c.summary.covered_once, 2);
    assert_eq!(c.summary.incident_classes, 2);
    assert_eq!(c.rows.len(), 2, "{c:#?}");
    // An assault in a children's home: A reports it at least (999 with a
    // weapon), B handles it at home: three steps apart, first.
    let first = &c.rows[0];
    // Stated in full: foster homes are in no row.
    assert_eq!(
        first.when.as_deref(),
        Some("setting == residential and assault")
    );
    assert_eq!(first.police_apart, 3);
    assert_eq!(
        outcomes(&c, 0, 0),
        [
            (Some("mid".into()), Some(Response::Report)),
            (Some("high".into()), Some(Response::Emergency))
        ]
    );
    assert_eq!(c.rows[0].by_authority[0].depends_on, ["weapon"]);
    assert_eq!(
        outcomes(&c, 0, 1),
        [(Some("low".into()), Some(Response::None))]
    );
    assert_eq!(
        first.witness,
        json!({"setting": "residential", "assault": true})
            .as_object()
            .unwrap()
            .clone()
    );
    // No assault: both at home.
    assert_eq!(
        c.rows[1].when.as_deref(),
        Some("setting == residential and assault == no")
    );
    assert_eq!(c.rows[1].police_apart, 0);
    assert_eq!(c.summary.same_police, 1);
    assert_eq!(c.summary.police_differs, 1);
    // Fewer than two protocols is an error.
    assert!(authorities::compare(&[(&a, "a")]).is_err());
}

/// Every answer to `engine`'s questions that the row's witness leaves
/// open, each decided by the engine's rules: the (level, police response)
/// pairs it reaches.
fn by_brute_force(e: &Engine, witness: &Map<String, Value>) -> BTreeSet<(Option<String>, String)> {
    let pack = &e.pack;
    let mut out = BTreeSet::new();
    let mut values: Vec<Option<Val>> = vec![None; pack.questions.len()];
    let setting = witness["setting"].as_str().expect("a setting").to_string();
    // The witness's answers, as values of this pack.
    let given: Vec<Option<Val>> = pack
        .questions
        .iter()
        .map(|q| {
            let v = if q.kind == QuestionKind::Setting {
                witness.get("setting")?
            } else {
                witness.get(&q.id)?
            };
            Some(match v {
                Value::Bool(b) => Val::Bool(*b),
                Value::String(id) => Val::Opt(q.options.iter().position(|o| o.id == *id)? as u32),
                Value::Number(x) => Val::Num(x.as_i64()?),
                _ => return None,
            })
        })
        .collect();
    let shared: Vec<bool> = pack
        .questions
        .iter()
        .map(|q| q.kind == QuestionKind::Setting || witness.contains_key(&q.id))
        .collect();
    fn go(
        e: &Engine,
        q: usize,
        values: &mut Vec<Option<Val>>,
        given: &[Option<Val>],
        shared: &[bool],
        setting: &str,
        out: &mut BTreeSet<(Option<String>, String)>,
    ) {
        let pack = &e.pack;
        if q == pack.questions.len() {
            let mut answers = Map::new();
            for (i, question) in pack.questions.iter().enumerate() {
                let Some(v) = values[i] else { continue };
                if question.kind == QuestionKind::Setting {
                    continue;
                }
                let json = match v {
                    Val::Bool(b) => json!(b),
                    Val::Opt(o) => json!(question.options[o as usize].id),
                    Val::Num(n) if question.kind == QuestionKind::Amount => json!(n as f64 / 100.0),
                    Val::Num(n) => json!(n),
                };
                answers.insert(question.id.clone(), json);
            }
            let a = e.answers(&answers).expect("answers the engine takes");
            match e.decide(&a, setting) {
                Ok(d) => out.insert((
                    Some(d.level.id.to_string()),
                    format!("{:?}", Some(d.police.response)),
                )),
                Err(_) => out.insert((None, format!("{:?}", None::<Response>))),
            };
            return;
        }
        let asked = e.asked_when(q).is_none_or(|c| c.eval(values));
        let choices: Vec<Option<Val>> = if !asked {
            vec![None]
        } else if shared[q] {
            // The witness answers a shared question only where some
            // authority asks it; this one asks it here.
            match given[q] {
                Some(v) => vec![Some(v)],
                None => return,
            }
        } else {
            e.cells()[q]
                .iter()
                .filter(|c| c.is_some())
                .copied()
                .collect()
        };
        for c in choices {
            values[q] = c;
            go(e, q + 1, values, given, shared, setting, out);
        }
        values[q] = None;
    }
    go(e, 0, &mut values, &given, &shared, &setting, &mut out);
    out
}

fn seed_packs() -> Vec<(RulePack, String)> {
    crate::support::PROTOCOLS
        .iter()
        .map(|id| (pack(&pack_value(id)), format!("out/{id}.json")))
        .collect()
}

#[test]
fn the_five_seeds_each_row_as_each_engine_decides_it() {
    let packs = seed_packs();
    let refs: Vec<(&RulePack, &str)> = packs.iter().map(|(p, l)| (p, l.as_str())).collect();
    let c = authorities::compare(&refs).expect("compared");
    assert_eq!(c.authorities.len(), 5);
    let s = c.summary;
    assert_eq!(
        s.same_police + s.police_differs + s.police_may_differ,
        s.incident_classes
    );
    assert_eq!(
        c.rows.iter().map(|r| r.incident_classes).sum::<u64>(),
        s.incident_classes
    );
    assert!(s.police_differs > 0, "the authorities disagree somewhere");
    // Most disagreement first.
    assert!(
        c.rows
            .windows(2)
            .all(|w| w[0].police_apart >= w[1].police_apart)
    );
    let engines: Vec<Engine> = packs
        .iter()
        .map(|(p, _)| Engine::new(p.clone()).expect("an engine"))
        .collect();
    // The first rows, and a few further down: each authority's outcomes
    // are those its rules give over every answer to its own questions.
    let picks: Vec<usize> = [0, 1, 2, c.rows.len() / 2, c.rows.len() - 1].into();
    for i in picks {
        let row = &c.rows[i];
        for (h, e) in row.by_authority.iter().zip(&engines) {
            if h.not_covered.is_some() {
                continue;
            }
            let got: BTreeSet<_> = h
                .outcomes
                .iter()
                .map(|o| (o.level.clone(), format!("{:?}", o.police)))
                .collect();
            let want = by_brute_force(e, &row.witness);
            assert_eq!(got, want, "row {i} ({:?}), {}", row.when, h.protocol);
        }
    }
    // Questions only some authorities ask are named, not dropped.
    let dorset = c
        .own
        .iter()
        .find(|o| o.protocol == "dorset")
        .expect("dorset");
    assert!(dorset.questions.contains(&"weapon".to_string()));
    let foster = c
        .settings
        .iter()
        .find(|s| s.id == "foster")
        .expect("foster");
    assert_eq!(foster.covered_by, ["derbyshire", "dorset", "stockport"]);
}

#[test]
fn the_command_on_the_protocols_folder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = carepath_in(dir, &["compare", "protocols/", "--format", "json"], &[]);
    assert_eq!(status(&o), 0, "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let schema_path = dir.join("schema/carepath-compare-1.schema.json");
    let committed = fs::read_to_string(&schema_path).expect("the committed schema");
    assert!(
        committed == authorities::schema_json(),
        "schema/carepath-compare-1.schema.json is stale: run `cargo run -- schema compare > schema/carepath-compare-1.schema.json`"
    );
    let schema: Value = serde_json::from_str(&committed).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a schema");
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let c: Comparison = serde_json::from_value(v).expect("a comparison");
    // The folder's libraries (protocols/common/) are not protocols.
    let ids: Vec<&str> = c.authorities.iter().map(|a| a.protocol.as_str()).collect();
    assert_eq!(
        ids,
        [
            "derbyshire",
            "dorset",
            "stockport",
            "west-sussex",
            "wiltshire"
        ]
    );

    let human = carepath_in(dir, &["compare", "protocols/", "--limit", "2"], &[]);
    let human = text(&human.stdout);
    assert!(
        human.contains(
            "shared questions: setting (derbyshire, dorset, stockport, west-sussex, wiltshire)"
        ),
        "{human}"
    );
    assert!(human.contains("only dorset asks: "));
    assert!(
        human.contains("\n1. police ")
            && human.contains("\n2. police ")
            && !human.contains("\n3. ")
    );
    assert!(human.contains("more rows; --limit shows more"));
    let md = carepath_in(
        dir,
        &[
            "compare",
            "protocols/",
            "--format",
            "markdown",
            "--limit",
            "3",
        ],
        &[],
    );
    let md = text(&md.stdout);
    assert!(md.contains("| # | incidents | classes | police apart | derbyshire | dorset | stockport | west-sussex | wiltshire |"), "{md}");
    // Packs and protocols together; one protocol alone is trouble.
    let mixed = carepath_in(
        dir,
        &["compare", "out/dorset.json", "protocols/wiltshire.carepath"],
        &[],
    );
    assert_eq!(status(&mixed), 0, "{}", text(&mixed.stderr));
    let one = carepath_in(dir, &["compare", "protocols/dorset.carepath"], &[]);
    assert_eq!(status(&one), 2);
    assert!(
        text(&one.stderr).contains("at least two"),
        "{}",
        text(&one.stderr)
    );
}
