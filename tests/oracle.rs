//! The analysis is exact: on random small protocols it finds exactly what a
//! brute-force enumeration of every incident finds, and every witness it
//! gives, evaluated again, shows what the finding says.

use std::collections::BTreeSet;

use crate::support::MemoryFs;
use carepath::diagnostic::{Code, Diagnostic};
use carepath::model::example::{baseline, constants, representatives};
use carepath::model::{Answer, LevelId, Model, Policy, QuestionId, QuestionKind};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

// ------------------------------------------------------------ random protocols

#[derive(Clone, Debug)]
enum QKind {
    YesNo,
    OneOf(usize),
    Scale(usize),
    Count(i64),
    Amount,
}

#[derive(Clone, Debug)]
struct Gen {
    kinds: Vec<QKind>,
    /// For each question after the first, maybe a condition on an earlier one
    /// (question index, atom seed).
    asked_when: Vec<Option<(usize, u8)>>,
    levels: usize,
    rules: Vec<(Cond, usize)>,
    examples: Vec<(usize, Vec<(usize, u8)>)>,
    policy: u8,
    otherwise: Option<usize>,
}

#[derive(Clone, Debug)]
enum Cond {
    Atom(usize, u8),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

fn qkind() -> impl Strategy<Value = QKind> {
    prop_oneof![
        Just(QKind::YesNo),
        (2usize..4).prop_map(QKind::OneOf),
        (2usize..4).prop_map(QKind::Scale),
        (0i64..2).prop_map(QKind::Count),
        Just(QKind::Amount),
    ]
}

fn cond(questions: usize) -> impl Strategy<Value = Cond> {
    let leaf = (0..questions, any::<u8>()).prop_map(|(q, s)| Cond::Atom(q, s));
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn protocol() -> impl Strategy<Value = Gen> {
    (1usize..5, 2usize..4).prop_flat_map(|(nq, levels)| {
        (
            proptest::collection::vec(qkind(), nq),
            proptest::collection::vec(
                proptest::option::weighted(0.35, (any::<usize>(), any::<u8>())),
                nq,
            ),
            proptest::collection::vec((cond(nq), 0..levels), 1..6),
            proptest::collection::vec(
                (
                    0..levels,
                    proptest::collection::vec((0..nq, any::<u8>()), 1..3),
                ),
                0..3,
            ),
            0u8..3,
            proptest::option::of(0..levels),
        )
            .prop_map(move |(kinds, asked, rules, examples, policy, otherwise)| {
                let asked_when = asked
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| a.filter(|_| i > 0).map(|(q, s)| (q % i, s)))
                    .collect();
                Gen {
                    kinds,
                    asked_when,
                    levels,
                    rules,
                    examples,
                    policy,
                    otherwise,
                }
            })
    })
}

/// A test of question `q` chosen by `seed`, written in the language.
fn atom(kinds: &[QKind], q: usize, seed: u8) -> String {
    let s = seed as usize;
    match &kinds[q] {
        QKind::YesNo => [
            format!("q{q}"),
            format!("not q{q}"),
            format!("q{q} == no"),
            format!("q{q} != yes"),
        ][s % 4]
            .clone(),
        QKind::OneOf(n) => match s % 3 {
            0 => format!("q{q} == o{}", s / 3 % n),
            1 => format!("q{q} != o{}", s / 3 % n),
            _ => format!("q{q} in {{o{}, o{}}}", s / 3 % n, (s / 7 + 1) % n),
        },
        QKind::Scale(n) => {
            let op = [">=", "<", "==", ">", "<=", "!="][s % 6];
            format!("q{q} {op} s{}", s / 6 % n)
        }
        QKind::Count(_) => match s % 3 {
            0 => format!("q{q} >= {}", s / 3 % 4),
            1 => format!("q{q} == {}", s / 3 % 3),
            _ => format!("q{q} in {{1, {}}}", 2 + s / 3 % 2),
        },
        QKind::Amount => {
            let c = ["0", "10", "10.50", "20"][s / 4 % 4];
            let op = [">", "<=", ">=", "!="][s % 4];
            format!("q{q} {op} {c}")
        }
    }
}

fn cond_text(kinds: &[QKind], c: &Cond) -> String {
    match c {
        Cond::Atom(q, s) => atom(kinds, *q, *s),
        Cond::Not(x) => format!("not ({})", cond_text(kinds, x)),
        Cond::And(a, b) => format!("({}) and ({})", cond_text(kinds, a), cond_text(kinds, b)),
        Cond::Or(a, b) => format!("({}) or ({})", cond_text(kinds, a), cond_text(kinds, b)),
    }
}

fn text(g: &Gen) -> String {
    let policy = ["most-serious", "first-match", "no-overlap"][g.policy as usize];
    let mut t = format!(
        "protocol random {{\n  title \"Random\"\n  authority \"A\"\n  source \"S\"\n  policy {policy}\n{}}}\n",
        g.otherwise
            .map(|o| format!("  otherwise l{o}\n"))
            .unwrap_or_default()
    );
    t.push_str("setting home \"Home\" { no route \"not tested here\" }\n");
    for (i, k) in g.kinds.iter().enumerate() {
        let answer = match k {
            QKind::YesNo => "yes or no".to_string(),
            QKind::OneOf(n) => format!(
                "one of {{ {} }}",
                (0..*n)
                    .map(|o| format!("o{o}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            QKind::Scale(n) => format!(
                "scale {{ {} }}",
                (0..*n)
                    .map(|o| format!("s{o}"))
                    .collect::<Vec<_>>()
                    .join(" < ")
            ),
            QKind::Count(from) => format!("count from {from}"),
            QKind::Amount => "amount".to_string(),
        };
        let asked = match g.asked_when[i] {
            Some((q, s)) => format!(" asked when {}", atom(&g.kinds, q, s)),
            None => String::new(),
        };
        t.push_str(&format!(
            "question q{i} \"Q{i}?\" {{ answer {answer}{asked} }}\n"
        ));
    }
    for l in 0..g.levels {
        t.push_str(&format!("level l{l} \"Level {l}\" {{ police none\n"));
        for (e, (el, given)) in g.examples.iter().enumerate() {
            if *el == l {
                let answers: Vec<String> =
                    given.iter().map(|(q, s)| atom(&g.kinds, *q, *s)).collect();
                t.push_str(&format!(
                    "  example \"e{e}\" {{ given {} }}\n",
                    answers.join(" and ")
                ));
            }
        }
        t.push_str("}\n");
    }
    for (i, (c, l)) in g.rules.iter().enumerate() {
        t.push_str(&format!(
            "rule r{i} {{ when {} then l{l} }}\n",
            cond_text(&g.kinds, c)
        ));
    }
    t
}

// ------------------------------------------------------------ the oracle

type Incident = Vec<Option<Answer>>;

/// Every possible incident: each question takes each representative answer
/// (enough to show every way a comparison can go), or is not asked when its
/// condition fails.
fn incidents(model: &Model) -> Vec<Incident> {
    let consts = constants(model);
    let mut out: Vec<Incident> = vec![Vec::new()];
    for (i, q) in model.questions.iter().enumerate() {
        let reps = representatives(&q.kind, &consts[i]);
        let mut next = Vec::new();
        for inc in out {
            let applies = q
                .asked_when
                .as_ref()
                .is_none_or(|c| c.eval(&|x: QuestionId| inc.get(x.index()).copied().flatten()));
            if applies {
                for r in &reps {
                    let mut n = inc.clone();
                    n.push(Some(*r));
                    next.push(n);
                }
            } else {
                let mut n = inc;
                n.push(None);
                next.push(n);
            }
        }
        out = next;
    }
    out
}

fn matching(model: &Model, x: &Incident) -> Vec<usize> {
    (0..model.rules.len())
        .filter(|r| model.rules[*r].when.eval(&|q: QuestionId| x[q.index()]))
        .collect()
}

/// The level an incident gets; `Err` for a conflict, `Ok(None)` for no level.
fn level(model: &Model, m: &[usize]) -> Result<Option<LevelId>, ()> {
    let otherwise = model.header.otherwise.as_ref().map(|o| o.value);
    if m.is_empty() {
        return Ok(otherwise);
    }
    let levels: BTreeSet<LevelId> = m.iter().map(|r| model.rules[*r].level).collect();
    match model.header.policy.value {
        Policy::MostSerious => Ok(levels.last().copied()),
        Policy::FirstMatch => Ok(Some(model.rules[m[0]].level)),
        Policy::NoOverlap if levels.len() == 1 => Ok(levels.first().copied()),
        Policy::NoOverlap => Err(()),
    }
}

fn decides(model: &Model, r: usize, m: &[usize]) -> bool {
    if !m.contains(&r) {
        return false;
    }
    let lr = model.rules[r].level;
    match model.header.policy.value {
        Policy::MostSerious => !m.iter().any(|s| *s != r && model.rules[*s].level >= lr),
        Policy::FirstMatch => m[0] == r,
        Policy::NoOverlap => !m.iter().any(|s| *s != r && model.rules[*s].level == lr),
    }
}

fn in_example(model: &Model, given: &[carepath::model::Atom], x: &Incident) -> bool {
    model.questions.iter().enumerate().all(|(i, q)| {
        let atoms: Vec<_> = given.iter().filter(|a| a.question.index() == i).collect();
        match x[i] {
            None => atoms.is_empty(),
            Some(a) if atoms.is_empty() => a == baseline(&q.kind),
            Some(a) => atoms.iter().all(|t| t.test.holds(a)),
        }
    })
}

#[derive(Debug, Default, PartialEq)]
struct Found {
    conflicts: BTreeSet<(String, String)>,
    never_decides: BTreeSet<String>,
    gap: bool,
    misclassified: BTreeSet<String>,
    unreachable: BTreeSet<String>,
}

fn oracle(model: &Model) -> Found {
    let all = incidents(model);
    let mut f = Found::default();
    let mut decided = vec![false; model.rules.len()];
    let mut reached = BTreeSet::new();
    for x in &all {
        let m = matching(model, x);
        for (r, d) in decided.iter_mut().enumerate() {
            *d |= decides(model, r, &m);
        }
        match level(model, &m) {
            Ok(Some(l)) => {
                reached.insert(l);
            }
            Ok(None) => f.gap = true,
            Err(()) => {}
        }
        if model.header.policy.value == Policy::NoOverlap {
            for a in &m {
                for b in &m {
                    if a < b && model.rules[*a].level != model.rules[*b].level {
                        f.conflicts.insert((
                            model.rules[*a].meta.id.clone(),
                            model.rules[*b].meta.id.clone(),
                        ));
                    }
                }
            }
        }
    }
    for (r, d) in decided.iter().enumerate() {
        if !d {
            f.never_decides.insert(model.rules[r].meta.id.clone());
        }
    }
    for (li, l) in model.levels.iter().enumerate() {
        if !reached.contains(&LevelId(li as u32)) {
            f.unreachable.insert(l.meta.id.clone());
        }
        for e in &l.examples {
            let Some(given) = &e.given else { continue };
            let wrong = all
                .iter()
                .filter(|x| in_example(model, given, x))
                .any(|x| level(model, &matching(model, x)) != Ok(Some(LevelId(li as u32))));
            if wrong {
                f.misclassified.insert(e.title.clone());
            }
        }
    }
    f
}

fn analysis(diags: &[Diagnostic]) -> Found {
    let mut f = Found::default();
    for d in diags {
        let Some(data) = &d.finding else { continue };
        match d.code {
            Code::Conflict => {
                let mut pair = [data.rules[0].clone(), data.rules[1].clone()];
                pair.sort_by_key(|r| r[1..].parse::<usize>().unwrap());
                f.conflicts.insert((pair[0].clone(), pair[1].clone()));
            }
            Code::NeverDecides => {
                f.never_decides.insert(data.rules[0].clone());
            }
            Code::Gap => f.gap = true,
            Code::MisclassifiedExample => {
                f.misclassified.insert(data.subject[0].clone());
            }
            Code::UnreachableLevel => {
                f.unreachable.insert(data.subject[0].clone());
            }
            _ => {}
        }
    }
    f
}

/// The incident a witness describes, with "any" read as `pick` (a witness
/// holds whatever the questions it leaves open are answered), or as the
/// baseline for the questions in `baselines` (those an example does not
/// mention: the example is that incident with nothing else).
fn incident_of(
    model: &Model,
    witness: &[(String, serde_json::Value)],
    pick: usize,
    baselines: &BTreeSet<usize>,
) -> Option<Incident> {
    let consts = constants(model);
    let mut x: Incident = Vec::new();
    for (i, q) in model.questions.iter().enumerate() {
        let given = witness
            .iter()
            .find(|(id, _)| *id == q.meta.id)
            .map(|(_, v)| v);
        let applies = q
            .asked_when
            .as_ref()
            .is_none_or(|c| c.eval(&|y: QuestionId| x.get(y.index()).copied().flatten()));
        let answer = match given {
            None => {
                assert!(
                    !applies,
                    "witness leaves out {} although it is asked",
                    q.meta.id
                );
                None
            }
            Some(v) if v == "any" => {
                assert!(
                    applies,
                    "witness says any for {}, which is not asked",
                    q.meta.id
                );
                if baselines.contains(&i) {
                    Some(baseline(&q.kind))
                } else {
                    let reps = representatives(&q.kind, &consts[i]);
                    Some(reps[pick % reps.len()])
                }
            }
            Some(v) => {
                assert!(applies, "witness answers {}, which is not asked", q.meta.id);
                Some(match &q.kind {
                    QuestionKind::YesNo => Answer::Bool(v.as_bool()?),
                    QuestionKind::OneOf(c) | QuestionKind::Scale(c) => Answer::Option(
                        c.iter().position(|o| Some(o.id.as_str()) == v.as_str())? as u32,
                    ),
                    QuestionKind::Count { .. } => Answer::Number(v.as_i64()?),
                    QuestionKind::Amount { .. } => {
                        Answer::Number((v.as_f64()? * 100.0).round() as i64)
                    }
                })
            }
        };
        x.push(answer);
    }
    Some(x)
}

/// Evaluate every witness again: it is a possible incident and shows what
/// its finding says, whatever its "any" questions are answered.
fn recheck(model: &Model, diags: &[Diagnostic]) {
    for d in diags {
        let Some(data) = &d.finding else { continue };
        let Some(w) = &data.witness else { continue };
        let w = &w.entries();
        let rule = |id: &str| model.rules.iter().position(|r| r.meta.id == id).unwrap();
        let example = (d.code == Code::MisclassifiedExample).then(|| {
            model
                .levels
                .iter()
                .enumerate()
                .find_map(|(li, l)| {
                    l.examples
                        .iter()
                        .find(|e| e.title == data.subject[0])
                        .map(|e| (li, e))
                })
                .unwrap()
        });
        let baselines: BTreeSet<usize> = match example {
            Some((_, e)) => (0..model.questions.len())
                .filter(|q| {
                    !e.given
                        .as_ref()
                        .unwrap()
                        .iter()
                        .any(|a| a.question.index() == *q)
                })
                .collect(),
            None => BTreeSet::new(),
        };
        for pick in 0..3 {
            let x = incident_of(model, w, pick, &baselines)
                .expect("witness answers fit their questions");
            let m = matching(model, &x);
            match d.code {
                Code::Gap => assert!(m.is_empty(), "gap witness {x:?} is matched by {m:?}"),
                Code::Conflict => {
                    let (a, b) = (rule(&data.rules[0]), rule(&data.rules[1]));
                    assert!(m.contains(&a) && m.contains(&b), "conflict witness {x:?}");
                }
                Code::NeverDecides => {
                    let r = rule(&data.rules[0]);
                    assert!(
                        m.contains(&r) && !decides(model, r, &m),
                        "never-decides witness {x:?}"
                    );
                }
                Code::MisclassifiedExample => {
                    let (li, e) = example.unwrap();
                    assert!(
                        in_example(model, e.given.as_ref().unwrap(), &x),
                        "witness outside the example"
                    );
                    assert_ne!(
                        level(model, &m),
                        Ok(Some(LevelId(li as u32))),
                        "misclassified witness {x:?}"
                    );
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn analysis_matches_brute_force(g in protocol()) {
        let text = text(&g);
        let fs = MemoryFs::default().with("random.carepath", &text);
        let mut ws = carepath::model::Workspace::new();
        let mut reader = fs.reader();
        let root = ws.add_source("random.carepath", &text, &mut reader);
        let lowered = carepath::model::lower(&ws, root);
        // Random examples may answer questions that do not apply; those are
        // lowering errors, not what this test is about.
        prop_assume!(lowered.model.is_some());
        let model = lowered.model.unwrap();
        let diags = carepath::check(&ws, root).diagnostics;
        let expected = oracle(&model);
        let found = analysis(&diags);
        prop_assert_eq!(&found, &expected, "protocol:\n{}", text);
        recheck(&model, &diags);
        // Questions taken in another order (last first), the findings are
        // the same.
        let reversed: Vec<usize> = (0..model.questions.len()).rev().collect();
        let other = carepath::analysis::analyse_in_order(&model, Some(&reversed)).diagnostics;
        prop_assert_eq!(&analysis(&other), &expected, "reversed order, protocol:\n{}", text);
        recheck(&model, &other);
    }
}

#[test]
fn the_generator_makes_interesting_protocols() {
    // Guard against a generator that only ever makes trivial protocols: over
    // many cases every kind of finding turns up.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = Found::default();
    for _ in 0..400 {
        let g = protocol().new_tree(&mut runner).unwrap().current();
        let text = text(&g);
        let mut ws = carepath::model::Workspace::new();
        let fs = MemoryFs::default();
        let mut reader = fs.reader();
        let root = ws.add_source("random.carepath", &text, &mut reader);
        if let Some(model) = carepath::model::lower(&ws, root).model {
            let f = oracle(&model);
            seen.gap |= f.gap;
            seen.conflicts.extend(f.conflicts);
            seen.never_decides.extend(f.never_decides);
            seen.misclassified.extend(f.misclassified);
            seen.unreachable.extend(f.unreachable);
        }
    }
    assert!(seen.gap);
    assert!(!seen.conflicts.is_empty());
    assert!(!seen.never_decides.is_empty());
    assert!(!seen.misclassified.is_empty());
    assert!(!seen.unreachable.is_empty());
}
