//! The behavioural comparison is exact: on random pairs of protocols (a
//! random protocol and a random edit of it: rules, their conditions,
//! levels, strengths and police responses, procedures, levels' police
//! responses, the policy, `otherwise`, "asked when" conditions, a question
//! added), what `review::behaviour::compare` reports is what enumerating
//! every incident of both versions finds.
//!
//! The enumeration is independent of the comparison's walk: it takes every
//! question of either version in turn, gives each question asked by either
//! version (each by its own "asked when") each representative answer of the
//! thresholds either version compares it with, and decides each incident on
//! each side with that side's engine, from the answers that side asks. It
//! checks the number of incident classes, the handling pair of every
//! changed incident against the region whose condition (read by the
//! language itself) holds for it, the board's counts by direction, and that
//! every witness, decided again, moves as its region says.

use std::collections::{BTreeMap, BTreeSet};

use carepath::emit::pack::QuestionKind as PackKind;
use carepath::eval::expr::Val;
use carepath::eval::{Engine, Outcome, rank};
use carepath::model::{Answer, CmpOp, Model, QuestionId, QuestionKind, Test};
use carepath::review::behaviour::{self, Direction, Handling, HandlingKind, ProcedureHandling};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{Map, Value, json};

use crate::oracle::{Cond, Gen, Leaf, PoliceGen, QKind, RuleGen};
use crate::oracle::{cond, leaf, police, protocol, qkind, rule, text};
use crate::support::MemoryFs;

/// One change to a generated protocol; indices are taken modulo what there
/// is.
#[derive(Clone, Debug)]
enum Edit {
    RuleLevel(usize, usize),
    RuleWhen(usize, Cond),
    RuleStrength(usize, u8),
    RulePolice(usize, PoliceGen),
    AddRule(RuleGen),
    RemoveRule(usize),
    ProcedureWhen(usize, Cond),
    ProcedurePolice(usize, PoliceGen),
    AddProcedure(Cond, PoliceGen),
    RemoveProcedure(usize),
    LevelPolice(usize, PoliceGen),
    Policy(u8),
    Otherwise(Option<usize>),
    AskedWhen(usize, Option<Leaf>),
    /// A question added after the others, with a rule that reads it.
    AddQuestion(QKind, Option<Leaf>, RuleGen),
}

fn edit(questions: usize, levels: usize) -> impl Strategy<Value = Edit> {
    let n = questions;
    prop_oneof![
        (any::<usize>(), 0..levels).prop_map(|(r, l)| Edit::RuleLevel(r, l)),
        (any::<usize>(), cond(n)).prop_map(|(r, c)| Edit::RuleWhen(r, c)),
        (any::<usize>(), 0u8..5).prop_map(|(r, s)| Edit::RuleStrength(r, s)),
        (any::<usize>(), police(false)).prop_map(|(r, p)| Edit::RulePolice(r, p)),
        rule(n, levels).prop_map(Edit::AddRule),
        any::<usize>().prop_map(Edit::RemoveRule),
        (any::<usize>(), cond(n)).prop_map(|(p, c)| Edit::ProcedureWhen(p, c)),
        (any::<usize>(), police(false)).prop_map(|(p, x)| Edit::ProcedurePolice(p, x)),
        (cond(n), police(false)).prop_map(|(c, p)| Edit::AddProcedure(c, p)),
        any::<usize>().prop_map(Edit::RemoveProcedure),
        (0..levels, police(true)).prop_map(|(l, p)| Edit::LevelPolice(l, p)),
        (0u8..3).prop_map(Edit::Policy),
        proptest::option::of(0..levels).prop_map(Edit::Otherwise),
        (0..n, proptest::option::of(leaf(n))).prop_map(|(q, l)| Edit::AskedWhen(q, l)),
        (
            qkind(),
            proptest::option::weighted(0.5, leaf(n)),
            rule(n + 1, levels)
        )
            .prop_map(|(k, a, r)| Edit::AddQuestion(k, a, r)),
    ]
}

/// Whether a leaf tests a question at or after `q` (which an "asked when"
/// of question `q` may not).
fn reads_from(l: &Leaf, q: usize) -> bool {
    matches!(l, Leaf::Q(x, _) if *x >= q)
}

fn apply(g: &mut Gen, e: Edit) {
    let rules = g.rules.len();
    let procedures = g.procedures.len();
    match e {
        Edit::RuleLevel(r, l) => g.rules[r % rules].level = l,
        Edit::RuleWhen(r, c) => g.rules[r % rules].when = c,
        Edit::RuleStrength(r, s) => {
            g.rules[r % rules].strength = [Some("must"), Some("should"), Some("may"), None]
                .get(s as usize)
                .copied()
                .flatten()
        }
        Edit::RulePolice(r, p) => g.rules[r % rules].police = p,
        Edit::AddRule(r) => g.rules.push(r),
        Edit::RemoveRule(r) if rules > 1 => {
            g.rules.remove(r % rules);
        }
        Edit::RemoveRule(_) => {}
        Edit::ProcedureWhen(p, c) if procedures > 0 => g.procedures[p % procedures].0 = c,
        Edit::ProcedurePolice(p, x) if procedures > 0 => g.procedures[p % procedures].1 = x,
        Edit::AddProcedure(c, p) => g.procedures.push((c, p)),
        Edit::RemoveProcedure(p) if procedures > 0 => {
            g.procedures.remove(p % procedures);
        }
        Edit::ProcedureWhen(..) | Edit::ProcedurePolice(..) | Edit::RemoveProcedure(_) => {}
        Edit::LevelPolice(l, p) => g.level_police[l] = p,
        Edit::Policy(p) => g.policy = p,
        Edit::Otherwise(o) => g.otherwise = o,
        Edit::AskedWhen(q, l) => g.asked_when[q] = l.filter(|l| !reads_from(l, q)),
        Edit::AddQuestion(k, a, r) => {
            g.kinds.push(k);
            g.asked_when.push(a);
            g.rules.push(r);
        }
    }
}

/// A protocol and an edit of it (one to three changes), either way round:
/// old then new, or new then old (so a question is removed as often as
/// added).
fn pair() -> impl Strategy<Value = (Gen, Gen)> {
    protocol()
        .prop_flat_map(|g| {
            let (n, levels) = (g.kinds.len(), g.levels);
            (
                Just(g),
                proptest::collection::vec(edit(n, levels), 1..4),
                any::<bool>(),
            )
        })
        .prop_map(|(g, edits, swap)| {
            let mut h = g.clone();
            for e in edits {
                apply(&mut h, e);
            }
            if swap { (h, g) } else { (g, h) }
        })
}

// ------------------------------------------------------------ one version

struct Version {
    model: Model,
    engine: Engine,
}

/// A generated protocol checked and compiled as `carepath build` does;
/// `None` when it does not lower (a random example answering a question
/// that is not asked, say).
fn version(g: &Gen) -> Option<Version> {
    let text = text(g);
    let fs = MemoryFs::default().with("random.carepath", &text);
    let mut ws = carepath::model::Workspace::new();
    let mut reader = fs.reader();
    let root = ws.add_source("random.carepath", &text, &mut reader);
    let checked = carepath::check(&ws, root);
    let model = checked.model?;
    let files = [carepath::emit::SourceText {
        path: "random.carepath".to_string(),
        text: &text,
    }];
    let pack = carepath::emit::rule_pack(&model, &files, &checked.diagnostics);
    let engine = Engine::new(pack).ok()?;
    Some(Version { model, engine })
}

fn val(a: Answer) -> Val {
    match a {
        Answer::Bool(b) => Val::Bool(b),
        Answer::Option(o) => Val::Opt(o),
        Answer::Number(n) => Val::Num(n),
    }
}

/// How a version handles an incident (its own questions' answers, `None`
/// where it does not ask), from its engine: `outcome` for whether a level
/// is given, `decide` for the rest.
fn handling(v: &Version, own: &[Option<Answer>]) -> Handling {
    let e = &v.engine;
    let mut values: Vec<Option<Val>> = vec![None; e.pack.questions.len()];
    let mut answers = Map::new();
    let mut setting = None;
    for (i, q) in v.model.questions.iter().enumerate() {
        let Some(a) = own[i] else { continue };
        let p = e
            .question_index(&q.meta.id)
            .expect("the pack has the question");
        values[p] = Some(val(a));
        let pq = &e.pack.questions[p];
        let json = match a {
            Answer::Bool(b) => json!(b),
            Answer::Option(o) => json!(pq.options[o as usize].id),
            Answer::Number(n) if pq.kind == PackKind::Amount => json!(n as f64 / 100.0),
            Answer::Number(n) => json!(n),
        };
        if pq.kind == PackKind::Setting {
            setting = json.as_str().map(str::to_owned);
        } else {
            answers.insert(pq.id.clone(), json);
        }
    }
    let none = |outcome| Handling {
        outcome,
        level: None,
        police: None,
        police_by: None,
        procedures: Vec::new(),
        route: None,
        unanswerable: None,
    };
    match e.outcome(&values) {
        Outcome::Undecided => return none(HandlingKind::Undecided),
        Outcome::Conflict => return none(HandlingKind::Conflict),
        Outcome::Level(_) => {}
    }
    let setting = setting.expect("every incident has a setting");
    decided(e, &answers, &setting).expect("a level is given")
}

/// The handling `carepath decide` gives, when it gives a level.
fn decided(e: &Engine, answers: &Map<String, Value>, setting: &str) -> Option<Handling> {
    let given = e.answers(answers).ok()?;
    let d = e.decide(&given, setting).ok()?;
    Some(Handling {
        outcome: HandlingKind::Decided,
        level: Some(d.level.id.to_string()),
        police: Some(d.police.response),
        police_by: d.police.by.map(str::to_owned),
        procedures: d
            .procedures
            .iter()
            .map(|p| ProcedureHandling {
                id: p.id.to_string(),
                police: p.police.as_ref().map(|x| x.response),
                route: None,
            })
            .collect(),
        route: None,
        unanswerable: None,
    })
}

/// The most police a handling involves, ranked as the review ranks it.
fn involvement(h: &Handling) -> Option<u8> {
    if h.outcome != HandlingKind::Decided {
        return None;
    }
    h.police
        .iter()
        .chain(h.procedures.iter().filter_map(|p| p.police.as_ref()))
        .filter_map(|r| rank(*r))
        .max()
}

/// Routes are not drawn in generated protocols (every setting has `no
/// route`): a handling without them.
fn routeless(mut h: Handling) -> Handling {
    h.route = None;
    for p in &mut h.procedures {
        p.route = None;
    }
    h
}

// ------------------------------------------------------------ enumeration

/// Every incident of both versions, over the questions of either (the old
/// version's first, then those only the new one has), each with what each
/// version is asked.
struct Incident {
    /// Per question of either version: its answer, `None` when neither
    /// version asks it.
    union: Vec<Option<Answer>>,
    /// Per version, per question of its own.
    own: [Vec<Option<Answer>>; 2],
}

fn enumerate(v: &[Version; 2], ids: &[String]) -> Vec<Incident> {
    let index = |s: usize, id: &str| v[s].model.questions.iter().position(|q| q.meta.id == id);
    let at: Vec<[Option<usize>; 2]> = ids.iter().map(|id| [index(0, id), index(1, id)]).collect();
    // A count's or amount's classes are the intervals between the
    // thresholds either side compares it with in a condition that decides
    // something (a rule, a procedure, an "asked when"): `== c`, `!= c` and
    // `in` split before and after each value, `< c` and `>= c` before `c`,
    // `<= c` and `> c` after it.
    let mut cuts: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); ids.len()];
    for (s, side) in v.iter().enumerate() {
        let m = &side.model;
        let conds = m
            .rules
            .iter()
            .map(|r| &r.when)
            .chain(m.procedures.iter().map(|p| &p.when))
            .chain(m.questions.iter().filter_map(|q| q.asked_when.as_ref()));
        for c in conds {
            for a in c.atoms() {
                let u = at
                    .iter()
                    .position(|x| x[s] == Some(a.question.index()))
                    .expect("a question of its side");
                match &a.test {
                    Test::Compare(CmpOp::Lt | CmpOp::Ge, c) => {
                        cuts[u].insert(*c);
                    }
                    Test::Compare(CmpOp::Le | CmpOp::Gt, c) => {
                        cuts[u].insert(c + 1);
                    }
                    Test::Compare(CmpOp::Eq | CmpOp::Ne, c) => {
                        cuts[u].extend([*c, c + 1]);
                    }
                    Test::Within { values, .. } => {
                        cuts[u].extend(values.iter().flat_map(|v| [*v, v + 1]));
                    }
                    Test::Bool(_) | Test::Options(_) => {}
                }
            }
        }
    }
    let reps: Vec<Vec<Answer>> = at
        .iter()
        .enumerate()
        .map(|(u, sides)| {
            let s = if sides[0].is_some() { 0 } else { 1 };
            match &v[s].model.questions[sides[s].unwrap()].kind {
                QuestionKind::YesNo => vec![Answer::Bool(false), Answer::Bool(true)],
                QuestionKind::OneOf(o) | QuestionKind::Scale(o) => {
                    (0..o.len() as u32).map(Answer::Option).collect()
                }
                kind => {
                    let min = match kind {
                        QuestionKind::Count { from } => *from,
                        _ => 0,
                    };
                    std::iter::once(min)
                        .chain(cuts[u].iter().copied().filter(|c| *c > min))
                        .map(Answer::Number)
                        .collect()
                }
            }
        })
        .collect();
    let mut out = vec![Incident {
        union: Vec::new(),
        own: [
            vec![None; v[0].model.questions.len()],
            vec![None; v[1].model.questions.len()],
        ],
    }];
    for (u, sides) in at.iter().enumerate() {
        let mut next = Vec::new();
        for x in out {
            let asks: [bool; 2] = std::array::from_fn(|s| {
                sides[s].is_some_and(|i| {
                    v[s].model.questions[i]
                        .asked_when
                        .as_ref()
                        .is_none_or(|c| c.eval(&|q: QuestionId| x.own[s][q.index()]))
                })
            });
            if asks == [false, false] {
                let mut x = x;
                x.union.push(None);
                next.push(x);
                continue;
            }
            for r in &reps[u] {
                let mut y = Incident {
                    union: x.union.clone(),
                    own: x.own.clone(),
                };
                y.union.push(Some(*r));
                for s in 0..2 {
                    if asks[s] {
                        y.own[s][sides[s].unwrap()] = Some(*r);
                    }
                }
                next.push(y);
            }
        }
        out = next;
    }
    out
}

/// The questions of either version, as a protocol with no "asked when" and
/// one rule whose condition is `when`, lowered, for reading a region's
/// condition with the language's own meaning: `None` when `when` does not
/// lower.
fn condition_reader(g: &Gen, when: &str) -> Option<carepath::model::Cond> {
    let mut plain = g.clone();
    plain.asked_when = vec![None; g.kinds.len()];
    plain.rules.clear();
    plain.procedures.clear();
    plain.examples.clear();
    let mut t = text(&plain);
    t.push_str(&format!("rule region {{ when {when} then l0 }}\n"));
    let fs = MemoryFs::default().with("union.carepath", &t);
    let mut ws = carepath::model::Workspace::new();
    let mut reader = fs.reader();
    let root = ws.add_source("union.carepath", &t, &mut reader);
    let model = carepath::model::lower(&ws, root).model?;
    assert_eq!(
        model.questions.len(),
        g.kinds.len() + 1,
        "the setting, then the questions"
    );
    Some(model.rules[0].when.clone())
}

/// What the comparison reports against what enumeration finds.
fn agrees(old: &Gen, new: &Gen) -> Result<(), TestCaseError> {
    let (Some(a), Some(b)) = (version(old), version(new)) else {
        return Err(TestCaseError::reject("a version does not lower"));
    };
    let v = [a, b];
    let report = behaviour::compare(&v[0].engine.pack, &v[1].engine.pack);
    prop_assert!(report.not_compared.is_none(), "{:?}", report.not_compared);
    // Generated versions differ at most by questions added at the end, so
    // the longer list of questions holds the other's.
    let wide = if new.kinds.len() >= old.kinds.len() {
        new
    } else {
        old
    };
    let mut ids: Vec<String> = vec!["setting".to_string()];
    ids.extend((0..wide.kinds.len()).map(|q| format!("q{q}")));
    prop_assert_eq!(
        &v[0].model.questions[0].meta.id,
        "setting",
        "the setting is the first question"
    );
    let incidents = enumerate(&v, &ids);
    prop_assert_eq!(
        report.summary.incident_classes,
        incidents.len() as u64,
        "incident classes"
    );

    let regions: Vec<(Option<carepath::model::Cond>, &behaviour::Region)> = report
        .regions
        .iter()
        .map(|r| {
            let when = match (&report.shared_when, &r.when) {
                (Some(s), Some(w)) => Some(format!("({s}) and ({w})")),
                (Some(c), None) | (None, Some(c)) => Some(c.clone()),
                (None, None) => None,
            };
            let cond = when.map(|w| {
                condition_reader(wide, &w)
                    .unwrap_or_else(|| panic!("region condition `{w}` does not lower"))
            });
            (cond, r)
        })
        .collect();

    let mut by_direction: BTreeMap<Direction, u64> = BTreeMap::new();
    let mut per_region = vec![0u64; regions.len()];
    for x in &incidents {
        let old_h = handling(&v[0], &x.own[0]);
        let new_h = handling(&v[1], &x.own[1]);
        let holding: Vec<usize> = regions
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| {
                c.as_ref()
                    .is_none_or(|c| c.eval(&|q: QuestionId| x.union[q.index()]))
            })
            .map(|(i, _)| i)
            .collect();
        if old_h == new_h {
            prop_assert!(
                holding.is_empty(),
                "{:?} is handled alike ({:?}) but in regions {:?}",
                x.union,
                old_h,
                holding
            );
            continue;
        }
        prop_assert_eq!(
            holding.len(),
            1,
            "{:?} ({:?} -> {:?}) is in regions {:?}",
            &x.union,
            &old_h,
            &new_h,
            &holding
        );
        let region = regions[holding[0]].1;
        prop_assert_eq!(
            (
                &routeless(region.old.handling.clone()),
                &routeless(region.new.handling.clone())
            ),
            (&old_h, &new_h),
            "{:?} is in a region of other handlings",
            &x.union
        );
        per_region[holding[0]] += 1;
        let direction = match (involvement(&old_h), involvement(&new_h)) {
            (Some(p), Some(q)) if q > p => Direction::MorePolice,
            (Some(p), Some(q)) if q < p => Direction::LessPolice,
            (Some(_), Some(_)) => Direction::SamePolice,
            _ => region.direction,
        };
        prop_assert_eq!(direction, region.direction, "{:?}", &x.union);
        *by_direction.entry(direction).or_default() += 1;
    }
    for (i, (_, r)) in regions.iter().enumerate() {
        prop_assert_eq!(per_region[i], r.incident_classes, "region {:?}", r.when);
        // The witness, decided again from its answers, moves as the region
        // says.
        for (s, answers, want) in [
            (0, &r.witness.old_answers, &r.old.handling),
            (1, &r.witness.new_answers, &r.new.handling),
        ] {
            let mut given: Map<String, Value> = answers.clone();
            given.remove("setting");
            let setting = r.witness.setting.as_deref().expect("a setting");
            let got = decided(&v[s].engine, &given, setting);
            let want = routeless(want.clone());
            match got {
                Some(h) => prop_assert_eq!(&h, &want, "witness of region {:?}", r.when),
                None => prop_assert_ne!(
                    want.outcome,
                    HandlingKind::Decided,
                    "witness of region {:?}",
                    r.when
                ),
            }
        }
    }
    let count = |d| by_direction.get(&d).copied().unwrap_or(0);
    let s = &report.summary;
    prop_assert_eq!(s.more_police, count(Direction::MorePolice));
    prop_assert_eq!(s.less_police, count(Direction::LessPolice));
    prop_assert_eq!(s.same_police, count(Direction::SamePolice));
    prop_assert_eq!(s.police_not_comparable, count(Direction::NotComparable));
    prop_assert_eq!(s.changed, per_region.iter().sum::<u64>());
    prop_assert_eq!(s.neutral, s.changed == 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        max_global_rejects: 4096,
        failure_persistence: None,
        // The same pairs on every run, so that CI's time is known; a
        // new seed explores others (`PROPTEST_RNG_SEED` does not override
        // a seed fixed here: change it here).
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0dec_1de5),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_behavioural_diff_matches_brute_force((old, new) in pair()) {
        let shown = format!("old:\n{}\nnew:\n{}", text(&old), text(&new));
        agrees(&old, &new).map_err(|e| match e {
            TestCaseError::Fail(m) => TestCaseError::fail(format!("{m}\n{shown}")),
            other => other,
        })?;
    }
}

/// What turns up over many generated pairs.
#[derive(Debug, Default)]
struct Seen {
    compared: usize,
    neutral: usize,
    more_police: usize,
    less_police: usize,
    same_police: usize,
    not_comparable: usize,
    /// Pairs where a question only one side has is asked.
    one_side_asks: usize,
    /// Regions described by a condition of more than one test.
    conditions: usize,
    /// Regions with a handling that gives no level, or one side cannot take.
    undecided: usize,
    /// Regions whose procedures change.
    procedures: usize,
}

#[test]
fn the_pairs_are_interesting() {
    // Guard against a generator whose edits rarely change anything, or
    // only ever change one thing: over the pairs the property test draws,
    // every kind of change turns up.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = Seen::default();
    while seen.compared < 300 {
        let (old, new) = pair().new_tree(&mut runner).unwrap().current();
        let (Some(a), Some(b)) = (version(&old), version(&new)) else {
            continue;
        };
        let report = behaviour::compare(&a.engine.pack, &b.engine.pack);
        seen.compared += 1;
        let s = &report.summary;
        seen.neutral += usize::from(s.neutral);
        seen.more_police += usize::from(s.more_police > 0);
        seen.less_police += usize::from(s.less_police > 0);
        seen.same_police += usize::from(s.same_police > 0);
        seen.not_comparable += usize::from(s.police_not_comparable > 0);
        seen.one_side_asks +=
            usize::from(!report.only_old_asks.is_empty() || !report.only_new_asks.is_empty());
        for r in &report.regions {
            seen.conditions += usize::from(r.when.as_ref().is_some_and(|w| w.contains(" and ")));
            seen.undecided += usize::from(
                r.old.handling.outcome != HandlingKind::Decided
                    || r.new.handling.outcome != HandlingKind::Decided,
            );
            seen.procedures += usize::from(r.changes.contains(&behaviour::Aspect::Procedures));
        }
    }
    let shown = format!("{seen:?}");
    let Seen {
        compared: _,
        neutral,
        more_police,
        less_police,
        same_police,
        not_comparable,
        one_side_asks,
        conditions,
        undecided,
        procedures,
    } = seen;
    for (what, n) in [
        ("neutral pairs", neutral),
        ("pairs with more police", more_police),
        ("pairs with less police", less_police),
        ("pairs with the same police", same_police),
        ("pairs not comparable", not_comparable),
        ("pairs with a question one side asks", one_side_asks),
        ("regions of several tests", conditions),
        ("regions without a level", undecided),
        ("regions changing procedures", procedures),
    ] {
        assert!(n >= 10, "only {n} {what} in 300: {shown}");
    }
}
