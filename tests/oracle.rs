//! The analysis is exact: on random small protocols it finds exactly what a
//! brute-force enumeration of every incident finds, and every witness it
//! gives, evaluated again, shows what the finding says.
//!
//! The protocols have two settings, tested like any question (`setting ==
//! foster`) in rules, procedures, "asked when" conditions and examples;
//! `may` rules, which suggest a level and take no part in deciding it;
//! police responses per level, rule, procedure and setting; and
//! procedures. Besides the findings, the decision space itself is compared
//! with brute force incident by incident, and the police responses of the
//! model with those written.

use std::collections::BTreeSet;

use crate::support::MemoryFs;
use carepath::analysis::decide::{ChartTarget, drawing_order, safety_questions};
use carepath::analysis::{Outcome as SpaceOutcome, Space};
use carepath::diagnostic::{Code, Diagnostic};
use carepath::model::example::{baseline, constants, representatives};
use carepath::model::{
    Answer, LevelId, Model, Policy, QuestionId, QuestionKind, Response, RuleId, SettingId,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

// ------------------------------------------------------------ random protocols

/// The settings of every generated protocol: the setting is question 0 of
/// the model, with these as its options.
const SETTINGS: [&str; 2] = ["home", "foster"];

/// Police responses, least police first (`unstated` compares with nothing).
pub const RESPONSES: [&str; 7] = [
    "none",
    "judgement",
    "advice",
    "report",
    "prompt",
    "emergency",
    "unstated",
];

#[derive(Clone, Debug)]
pub(crate) enum QKind {
    YesNo,
    OneOf(usize),
    Scale(usize),
    Count(i64),
    Amount,
}

#[derive(Clone, Debug)]
pub(crate) struct Gen {
    pub(crate) kinds: Vec<QKind>,
    /// For each question, maybe a condition on an earlier one or on the
    /// setting.
    pub(crate) asked_when: Vec<Option<Leaf>>,
    pub(crate) levels: usize,
    pub(crate) level_police: Vec<PoliceGen>,
    pub(crate) rules: Vec<RuleGen>,
    pub(crate) procedures: Vec<(Cond, PoliceGen)>,
    pub(crate) examples: Vec<(usize, Vec<Leaf>)>,
    pub(crate) policy: u8,
    pub(crate) otherwise: Option<usize>,
}

#[derive(Clone, Debug)]
pub(crate) struct RuleGen {
    pub(crate) when: Cond,
    pub(crate) level: usize,
    /// `must`, `should`, `may`, or none written (which is `must`).
    pub(crate) strength: Option<&'static str>,
    pub(crate) police: PoliceGen,
}

/// Police responses as written (indices into `RESPONSES`): one for every
/// setting not named, and one for each setting named.
#[derive(Clone, Debug, Default)]
pub(crate) struct PoliceGen {
    pub(crate) all: Option<usize>,
    pub(crate) each: [Option<usize>; 2],
}

impl PoliceGen {
    /// The response for setting `s`, if this element gives one.
    fn for_setting(&self, s: usize) -> Option<usize> {
        self.each[s].or(self.all)
    }
}

/// A test of one question (by index among the generated questions, `q0`
/// ...), or of the setting; the seed chooses the test.
#[derive(Clone, Debug)]
pub(crate) enum Leaf {
    Q(usize, u8),
    Setting(u8),
}

#[derive(Clone, Debug)]
pub(crate) enum Cond {
    Atom(Leaf),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

pub(crate) fn qkind() -> impl Strategy<Value = QKind> {
    prop_oneof![
        Just(QKind::YesNo),
        (2usize..4).prop_map(QKind::OneOf),
        (2usize..4).prop_map(QKind::Scale),
        (0i64..2).prop_map(QKind::Count),
        Just(QKind::Amount),
    ]
}

pub(crate) fn leaf(questions: usize) -> impl Strategy<Value = Leaf> {
    prop_oneof![
        4 => (0..questions, any::<u8>()).prop_map(|(q, s)| Leaf::Q(q, s)),
        1 => any::<u8>().prop_map(Leaf::Setting),
    ]
}

pub(crate) fn cond(questions: usize) -> impl Strategy<Value = Cond> {
    leaf(questions)
        .prop_map(Cond::Atom)
        .prop_recursive(2, 8, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
            ]
        })
}

/// Police responses; `complete` (a level's) gives every setting one.
pub(crate) fn police(complete: bool) -> impl Strategy<Value = PoliceGen> {
    let weight = if complete { 0.8 } else { 0.4 };
    (
        proptest::option::weighted(weight, 0..RESPONSES.len()),
        proptest::option::weighted(0.3, 0..RESPONSES.len()),
        proptest::option::weighted(0.3, 0..RESPONSES.len()),
        0..RESPONSES.len(),
    )
        .prop_map(move |(all, home, foster, fill)| {
            let mut p = PoliceGen {
                all,
                each: [home, foster],
            };
            if complete && all.is_none() {
                for (s, e) in p.each.iter_mut().enumerate() {
                    e.get_or_insert((fill + s) % RESPONSES.len());
                }
            }
            p
        })
}

pub(crate) fn rule(questions: usize, levels: usize) -> impl Strategy<Value = RuleGen> {
    (cond(questions), 0..levels, 0u8..8, police(false)).prop_map(|(when, level, s, police)| {
        RuleGen {
            when,
            level,
            // A quarter `may`: they suggest, and do not decide.
            strength: match s {
                0 => Some("must"),
                1 => Some("should"),
                2 | 3 => Some("may"),
                _ => None,
            },
            police,
        }
    })
}

pub(crate) fn protocol() -> impl Strategy<Value = Gen> {
    (1usize..5, 2usize..4).prop_flat_map(|(nq, levels)| {
        (
            proptest::collection::vec(qkind(), nq),
            proptest::collection::vec(
                proptest::option::weighted(0.35, (any::<usize>(), any::<u8>(), 0u8..4)),
                nq,
            ),
            proptest::collection::vec(police(true), levels),
            proptest::collection::vec(rule(nq, levels), 1..6),
            proptest::collection::vec((cond(nq), police(false)), 0..3),
            proptest::collection::vec((0..levels, proptest::collection::vec(leaf(nq), 1..3)), 0..3),
            0u8..3,
            proptest::option::of(0..levels),
        )
            .prop_map(
                move |(
                    kinds,
                    asked,
                    level_police,
                    rules,
                    procedures,
                    examples,
                    policy,
                    otherwise,
                )| {
                    // Question `i` may depend on an earlier question, or on
                    // the setting (the first question may only depend on
                    // the setting).
                    let asked_when = asked
                        .into_iter()
                        .enumerate()
                        .map(|(i, a)| {
                            a.map(|(q, s, on)| {
                                if i == 0 || on == 0 {
                                    Leaf::Setting(s)
                                } else {
                                    Leaf::Q(q % i, s)
                                }
                            })
                        })
                        .collect();
                    Gen {
                        kinds,
                        asked_when,
                        levels,
                        level_police,
                        rules,
                        procedures,
                        examples,
                        policy,
                        otherwise,
                    }
                },
            )
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

/// A test of the setting chosen by `seed`.
fn setting_atom(seed: u8) -> String {
    let (a, b) = (SETTINGS[0], SETTINGS[1]);
    [
        format!("setting == {a}"),
        format!("setting == {b}"),
        format!("setting != {a}"),
        format!("setting != {b}"),
        format!("setting in {{{a}, {b}}}"),
        format!("setting not in {{{b}}}"),
    ][seed as usize % 6]
        .clone()
}

fn leaf_text(kinds: &[QKind], l: &Leaf) -> String {
    match l {
        Leaf::Q(q, s) => atom(kinds, *q, *s),
        Leaf::Setting(s) => setting_atom(*s),
    }
}

fn cond_text(kinds: &[QKind], c: &Cond) -> String {
    match c {
        Cond::Atom(l) => leaf_text(kinds, l),
        Cond::Not(x) => format!("not ({})", cond_text(kinds, x)),
        Cond::And(a, b) => format!("({}) and ({})", cond_text(kinds, a), cond_text(kinds, b)),
        Cond::Or(a, b) => format!("({}) or ({})", cond_text(kinds, a), cond_text(kinds, b)),
    }
}

/// `police report`, `police judgement by mgr for foster`, ...
fn police_text(p: &PoliceGen) -> String {
    let one = |r: usize, setting: Option<&str>| {
        let by = if RESPONSES[r] == "judgement" {
            " by mgr"
        } else {
            ""
        };
        let for_ = setting.map(|s| format!(" for {s}")).unwrap_or_default();
        format!(" police {}{by}{for_}", RESPONSES[r])
    };
    let mut t = String::new();
    if let Some(r) = p.all {
        t.push_str(&one(r, None));
    }
    for (s, r) in p.each.iter().enumerate() {
        if let Some(r) = r {
            t.push_str(&one(*r, Some(SETTINGS[s])));
        }
    }
    t
}

pub(crate) fn text(g: &Gen) -> String {
    let policy = ["most-serious", "first-match", "no-overlap"][g.policy as usize];
    let mut t = format!(
        "protocol random {{\n  title \"Random\"\n  authority \"A\"\n  source \"S\"\n  policy {policy}\n{}}}\n",
        g.otherwise
            .map(|o| format!("  otherwise l{o}\n"))
            .unwrap_or_default()
    );
    for s in SETTINGS {
        t.push_str(&format!(
            "setting {s} \"{s}\" {{ no route \"not tested here\" }}\n"
        ));
    }
    t.push_str("actor mgr \"Manager\"\n");
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
        let asked = match &g.asked_when[i] {
            Some(l) => format!(" asked when {}", leaf_text(&g.kinds, l)),
            None => String::new(),
        };
        t.push_str(&format!(
            "question q{i} \"Q{i}?\" {{ answer {answer}{asked} }}\n"
        ));
    }
    for l in 0..g.levels {
        t.push_str(&format!(
            "level l{l} \"Level {l}\" {{{}\n",
            police_text(&g.level_police[l])
        ));
        for (e, (el, given)) in g.examples.iter().enumerate() {
            if *el == l {
                let answers: Vec<String> = given.iter().map(|x| leaf_text(&g.kinds, x)).collect();
                t.push_str(&format!(
                    "  example \"e{e}\" {{ given {} }}\n",
                    answers.join(" and ")
                ));
            }
        }
        t.push_str("}\n");
    }
    for (i, r) in g.rules.iter().enumerate() {
        let strength = r
            .strength
            .map(|s| format!(" strength {s}"))
            .unwrap_or_default();
        t.push_str(&format!(
            "rule r{i} {{ when {} then l{}{strength}{} }}\n",
            cond_text(&g.kinds, &r.when),
            r.level,
            police_text(&r.police)
        ));
    }
    for (i, (c, p)) in g.procedures.iter().enumerate() {
        t.push_str(&format!(
            "procedure p{i} \"P{i}\" {{ when {}{} }}\n",
            cond_text(&g.kinds, c),
            police_text(p)
        ));
    }
    t
}

/// The police responses of the model are those written: per setting, a
/// rule's own (for the setting, else for every setting), else its level's;
/// a level's and a procedure's likewise.
fn police_as_written(g: &Gen, model: &Model) -> Result<(), String> {
    let word = |p: Option<&carepath::model::Police>| {
        p.map(|p| {
            assert_eq!(
                p.by.is_some(),
                p.response == Response::Judgement,
                "a judgement, and only a judgement, says who judges"
            );
            p.response.keyword()
        })
    };
    let written = |r: Option<usize>| r.map(|r| RESPONSES[r]);
    for (s, setting) in SETTINGS.iter().enumerate() {
        let sid = Some(SettingId(s as u32));
        for (l, p) in g.level_police.iter().enumerate() {
            let got = word(Model::police_for(&model.levels[l].police, sid));
            if got != written(p.for_setting(s)) {
                return Err(format!("level l{l} in {}: {got:?}", setting));
            }
        }
        for (r, rule) in g.rules.iter().enumerate() {
            let got = word(model.rule_police(RuleId(r as u32), sid));
            let want = rule
                .police
                .for_setting(s)
                .or(g.level_police[rule.level].for_setting(s));
            if got != written(want) {
                return Err(format!("rule r{r} in {}: {got:?}", setting));
            }
        }
        for (i, (_, p)) in g.procedures.iter().enumerate() {
            let got = word(Model::police_for(&model.procedures[i].police, sid));
            if got != written(p.for_setting(s)) {
                return Err(format!("procedure p{i} in {}: {got:?}", setting));
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------ the oracle

type Incident = Vec<Option<Answer>>;

/// Every possible incident: each question takes each representative answer
/// (enough to show every way a comparison can go), or is not asked when its
/// condition fails. The setting is the first question: every incident is
/// there once per setting.
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

fn holds(c: &carepath::model::Cond, x: &Incident) -> bool {
    c.eval(&|q: QuestionId| x[q.index()])
}

/// The rules that decide (not `may` rules, which only suggest) and match.
fn matching(model: &Model, x: &Incident) -> Vec<usize> {
    (0..model.rules.len())
        .filter(|r| model.rules[*r].decides() && holds(&model.rules[*r].when, x))
        .collect()
}

/// What an incident is decided as, before `otherwise`: `Ok(None)` when no
/// rule decides it, `Err` for a conflict.
fn outcome(model: &Model, m: &[usize]) -> Result<Option<LevelId>, ()> {
    if m.is_empty() {
        return Ok(None);
    }
    let levels: BTreeSet<LevelId> = m.iter().map(|r| model.rules[*r].level).collect();
    match model.header.policy.value {
        Policy::MostSerious => Ok(levels.last().copied()),
        Policy::FirstMatch => Ok(Some(model.rules[m[0]].level)),
        Policy::NoOverlap if levels.len() == 1 => Ok(levels.first().copied()),
        Policy::NoOverlap => Err(()),
    }
}

/// The level an incident gets; `Err` for a conflict, `Ok(None)` for no level.
fn level(model: &Model, m: &[usize]) -> Result<Option<LevelId>, ()> {
    let otherwise = model.header.otherwise.as_ref().map(|o| o.value);
    outcome(model, m).map(|l| l.or(otherwise))
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

/// Whether an incident is one an example describes: the questions it
/// answers as it says, every other question at its baseline (or not
/// asked), and any setting if it names none.
fn in_example(model: &Model, given: &[carepath::model::Atom], x: &Incident) -> bool {
    model.questions.iter().enumerate().all(|(i, q)| {
        let atoms: Vec<_> = given.iter().filter(|a| a.question.index() == i).collect();
        match x[i] {
            None => atoms.is_empty(),
            Some(_) if atoms.is_empty() && q.is_setting => true,
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
    /// `may` rules and procedures that no possible incident meets.
    never_applies: BTreeSet<String>,
    /// Procedures that every possible incident meets.
    always_applies: BTreeSet<String>,
}

fn oracle(model: &Model) -> Found {
    let all = incidents(model);
    let mut f = Found::default();
    let mut decided = vec![false; model.rules.len()];
    let mut applies = vec![false; model.rules.len()];
    let mut procedure_some = vec![false; model.procedures.len()];
    let mut procedure_every = vec![true; model.procedures.len()];
    let mut reached = BTreeSet::new();
    for x in &all {
        let m = matching(model, x);
        for (r, d) in decided.iter_mut().enumerate() {
            *d |= decides(model, r, &m);
        }
        for (r, a) in applies.iter_mut().enumerate() {
            *a |= holds(&model.rules[r].when, x);
        }
        for (p, procedure) in model.procedures.iter().enumerate() {
            let h = holds(&procedure.when, x);
            procedure_some[p] |= h;
            procedure_every[p] &= h;
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
    for (r, rule) in model.rules.iter().enumerate() {
        if rule.decides() && !decided[r] {
            f.never_decides.insert(rule.meta.id.clone());
        }
        if !rule.decides() && !applies[r] {
            f.never_applies.insert(rule.meta.id.clone());
        }
    }
    for (p, procedure) in model.procedures.iter().enumerate() {
        if !procedure_some[p] {
            f.never_applies.insert(procedure.meta.id.clone());
        } else if procedure_every[p] {
            f.always_applies.insert(procedure.meta.id.clone());
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
            // A `may` rule is named as a rule, a procedure as the subject.
            Code::NeverApplies => {
                let id = data.rules.first().or(data.subject.first());
                f.never_applies
                    .insert(id.expect("the rule or procedure").clone());
            }
            Code::AlwaysApplies => {
                f.always_applies.insert(data.subject[0].clone());
            }
            _ => {}
        }
    }
    f
}

/// In `order`, no question comes before a safety question unless that
/// safety question's "asked when" needs it (directly or through another
/// question's), and every question comes after the questions its "asked
/// when" tests.
fn safety_stays_first(model: &Model, order: &[usize]) -> Result<(), String> {
    let safety = safety_questions(model);
    let gates = |q: usize| -> Vec<usize> {
        model.questions[q]
            .asked_when
            .as_ref()
            .map(|a| a.atoms().iter().map(|x| x.question.index()).collect())
            .unwrap_or_default()
    };
    let mut needed = vec![false; model.questions.len()];
    let mut todo: Vec<usize> = (0..model.questions.len()).filter(|q| safety[*q]).collect();
    while let Some(q) = todo.pop() {
        for g in gates(q) {
            if !needed[g] {
                needed[g] = true;
                todo.push(g);
            }
        }
    }
    let id = |q: usize| &model.questions[q].meta.id;
    for (i, &q) in order.iter().enumerate() {
        if let Some(g) = gates(q).into_iter().find(|g| !order[..i].contains(g)) {
            return Err(format!(
                "{} is tested before {}, which it is asked after",
                id(q),
                id(g)
            ));
        }
        if safety[q]
            && let Some(p) = order[..i].iter().find(|p| !safety[**p] && !needed[**p])
        {
            return Err(format!(
                "{} is tested before the safety question {}",
                id(*p),
                id(q)
            ));
        }
    }
    Ok(())
}

/// How many question nodes a chart draws, and how many of them ask a
/// question drawn already.
fn drawn(chart: &carepath::analysis::decide::Chart) -> (usize, usize) {
    let mut seen = BTreeSet::new();
    let repeats = chart
        .nodes
        .iter()
        .filter(|n| !seen.insert(n.question))
        .count();
    (repeats, chart.nodes.len())
}

#[test]
fn the_question_diagram_draws_each_question_as_few_times_as_it_can_safety_first() {
    let mut dorset_damage = None;
    for name in [
        "derbyshire",
        "dorset",
        "stockport",
        "west-sussex",
        "wiltshire",
    ] {
        let path = std::path::PathBuf::from(format!("protocols/{name}.carepath"));
        let (ws, _) = crate::support::check_disk(
            std::slice::from_ref(&path),
            std::path::Path::new("protocols"),
        );
        let root = ws.sources.find(&path).expect("the root was loaded");
        let model = carepath::check(&ws, root)
            .model
            .expect("no errors, so a model");
        let order = drawing_order(&model);
        safety_stays_first(&model, &order).unwrap_or_else(|e| panic!("{name}: {e}"));
        let first = drawn(&Space::safety_first(&model).chart().expect("drawn"));
        let chart = Space::for_drawing(&model).chart().expect("drawn");
        let now = drawn(&chart);
        assert!(
            now <= first,
            "{name}: {now:?} repeats and nodes, {first:?} before"
        );
        if name == "dorset" {
            let damage = model
                .questions
                .iter()
                .position(|q| q.meta.id == "damage")
                .expect("damage");
            dorset_damage = Some(
                chart
                    .nodes
                    .iter()
                    .filter(|n| n.question.index() == damage)
                    .count(),
            );
        }
        if name == "derbyshire" {
            // Asking "is the police essential?" before "is anyone at risk of
            // serious harm?" (both safety questions) draws each once.
            assert_eq!(now.0, 0, "{name}: a question drawn twice");
        }
    }
    // In the safety order Dorset's damage question was drawn three times,
    // once below each answer about drugs.
    assert_eq!(dorset_damage, Some(2));
}

/// The analysis's decision space, incident by incident: the deciding rules
/// that match (`may` rules left out), the outcome, the level diagram the
/// flowchart is drawn from, and each procedure's condition.
fn space_agrees(model: &Model) -> Result<(), String> {
    let mut space = Space::new(model);
    let decided = space.level_diagram();
    let levels = model.levels.len() as u32;
    // The question diagram, in the order it is drawn in: a DAG in which
    // each node is drawn once however many paths reach it. It is reduced
    // (no two nodes alike, none whose answers all lead to one place), and
    // each branch leads to a question later in the order, so it has no
    // cycle.
    let mut asked = Space::for_drawing(model);
    let chart = asked.chart();
    let order = drawing_order(model);
    safety_stays_first(model, &order)?;
    let position = |q: QuestionId| order.iter().position(|x| *x == q.index());
    if let Some(chart) = &chart {
        for (i, node) in chart.nodes.iter().enumerate() {
            if node.branches.len() < 2 {
                return Err(format!("question node {i} has a single branch"));
            }
            if chart.nodes[..i].contains(node) {
                return Err(format!("question node {i} is drawn twice"));
            }
            for (_, t) in &node.branches {
                if let ChartTarget::Node(k) = t
                    && position(chart.nodes[*k].question) <= position(node.question)
                {
                    return Err(format!("question node {i} leads back to node {k}"));
                }
            }
        }
    }
    for x in incidents(model) {
        let cells: Vec<u32> = x
            .iter()
            .enumerate()
            .map(|(q, a)| {
                space.domain.cells[q]
                    .cell(*a)
                    .expect("every answer is in a cell")
            })
            .collect();
        if space.mdd.eval(space.valid, &cells) != 1 {
            return Err(format!("{x:?} is possible, but not in the space"));
        }
        let m = matching(model, &x);
        let got: Vec<usize> = space
            .matching_at(&cells)
            .iter()
            .map(|r| r.index())
            .collect();
        if got != m {
            return Err(format!("{x:?}: the space matches {got:?}, not {m:?}"));
        }
        let (expected, code) = match outcome(model, &m) {
            Ok(None) => (SpaceOutcome::Nothing, 0),
            Ok(Some(l)) => (SpaceOutcome::Level(l), 1 + l.0),
            Err(()) => (SpaceOutcome::Conflict, 1 + levels),
        };
        let at = space.outcome_at(&cells);
        if at != expected {
            return Err(format!("{x:?}: the space decides {at:?}, not {expected:?}"));
        }
        let charted = space.mdd.eval(decided, &cells);
        if charted != code {
            return Err(format!(
                "{x:?}: the level diagram says {charted}, not {code} ({expected:?})"
            ));
        }
        if let Some(chart) = &chart {
            // Follow the incident's answers down the question diagram: it
            // ends where the incident is decided, and an incident no rule decides ends
            // at the `otherwise` level like one a rule gives it.
            let mut at = chart.root;
            let ends = loop {
                match at {
                    ChartTarget::Outcome(o) => break o,
                    ChartTarget::Node(n) => {
                        let node = &chart.nodes[n];
                        let cell = cells[node.question.index()];
                        match node.branches.iter().find(|(cs, _)| cs.contains(&cell)) {
                            Some((_, t)) => at = *t,
                            None => return Err(format!("{x:?}: the chart has no branch for it")),
                        }
                    }
                }
            };
            let want = match (expected, &model.header.otherwise) {
                (SpaceOutcome::Nothing, Some(o)) => SpaceOutcome::Level(o.value),
                (e, _) => e,
            };
            if ends != want {
                return Err(format!("{x:?}: the chart ends at {ends:?}, not {want:?}"));
            }
        }
        for (p, procedure) in model.procedures.iter().enumerate() {
            let meets = space.mdd.eval(space.procedures[p], &cells) == 1;
            if meets != holds(&procedure.when, &x) {
                return Err(format!(
                    "{x:?}: the space says procedure {} applies: {meets}",
                    procedure.meta.id
                ));
            }
        }
    }
    Ok(())
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
        // An example that names no setting holds in every setting: its
        // witness's "any" setting is any setting, not a baseline.
        let baselines: BTreeSet<usize> = match example {
            Some((_, e)) => (0..model.questions.len())
                .filter(|q| {
                    !model.questions[*q].is_setting
                        && !e
                            .given
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
    #![proptest_config(ProptestConfig {
        cases: 1500,
        max_global_rejects: 4096,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

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
        prop_assert_eq!(police_as_written(&g, &model), Ok(()), "protocol:\n{}", text);
        prop_assert_eq!(space_agrees(&model), Ok(()), "protocol:\n{}", text);
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

/// What turns up over many generated protocols.
#[derive(Default)]
struct Seen {
    found: Found,
    /// Examples that name no setting and are misclassified in one setting
    /// only.
    one_setting_wrong: usize,
    /// Protocols some of whose incidents are decided differently in each
    /// setting.
    by_setting: usize,
    /// Incidents where a `may` rule matches and, were it to decide, the
    /// level would differ.
    may_would_change: usize,
}

#[test]
fn the_generator_makes_interesting_protocols() {
    // Guard against a generator that only ever makes trivial protocols: over
    // many cases every kind of finding turns up.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = Seen::default();
    let mut lowered = 0;
    for _ in 0..400 {
        let g = protocol().new_tree(&mut runner).unwrap().current();
        let text = text(&g);
        let mut ws = carepath::model::Workspace::new();
        let fs = MemoryFs::default();
        let mut reader = fs.reader();
        let root = ws.add_source("random.carepath", &text, &mut reader);
        let Some(model) = carepath::model::lower(&ws, root).model else {
            continue;
        };
        lowered += 1;
        let f = oracle(&model);
        seen.found.gap |= f.gap;
        seen.found.conflicts.extend(f.conflicts);
        seen.found.never_decides.extend(f.never_decides);
        seen.found.misclassified.extend(f.misclassified);
        seen.found.unreachable.extend(f.unreachable);
        seen.found.never_applies.extend(f.never_applies);
        seen.found.always_applies.extend(f.always_applies);
        let all = incidents(&model);
        for l in &model.levels {
            for e in &l.examples {
                let Some(given) = &e.given else { continue };
                if given
                    .iter()
                    .any(|a| model.questions[a.question.index()].is_setting)
                {
                    continue;
                }
                let wrong: BTreeSet<Option<Answer>> = all
                    .iter()
                    .filter(|x| in_example(&model, given, x))
                    .filter(|x| {
                        level(&model, &matching(&model, x)) != Ok(model.level_id(&l.meta.id))
                    })
                    .map(|x| x[0])
                    .collect();
                seen.one_setting_wrong += usize::from(wrong.len() == 1);
            }
        }
        // Incidents alike but for the setting, decided apart.
        let mut by_rest: std::collections::HashMap<&[Option<Answer>], BTreeSet<_>> =
            Default::default();
        for x in &all {
            by_rest
                .entry(&x[1..])
                .or_default()
                .insert(level(&model, &matching(&model, x)));
        }
        seen.by_setting += usize::from(by_rest.values().any(|s| s.len() > 1));
        for x in &all {
            let m = matching(&model, x);
            let with_may: Vec<usize> = (0..model.rules.len())
                .filter(|r| holds(&model.rules[*r].when, x))
                .collect();
            if with_may != m && outcome(&model, &with_may) != outcome(&model, &m) {
                seen.may_would_change += 1;
                break;
            }
        }
    }
    let seen_ids = |s: &BTreeSet<String>, prefix: &str| s.iter().any(|id| id.starts_with(prefix));
    let f = &seen.found;
    eprintln!(
        "{lowered} of 400 protocols lower; {} with a level by setting, {} where a `may` rule would change the level, {} examples wrong in one setting only",
        seen.by_setting, seen.may_would_change, seen.one_setting_wrong
    );
    assert!(
        lowered >= 200,
        "only {lowered} of 400 generated protocols lower"
    );
    assert!(f.gap);
    assert!(!f.conflicts.is_empty());
    assert!(!f.never_decides.is_empty());
    assert!(!f.misclassified.is_empty());
    assert!(!f.unreachable.is_empty());
    assert!(
        seen_ids(&f.never_applies, "r"),
        "no `may` rule that never applies"
    );
    assert!(
        seen_ids(&f.never_applies, "p"),
        "no procedure that never applies"
    );
    assert!(
        !f.always_applies.is_empty(),
        "no procedure that always applies"
    );
    assert!(
        seen.one_setting_wrong > 0,
        "no example wrong in one setting only"
    );
    assert!(seen.by_setting > 10, "few protocols decide by setting");
    assert!(seen.may_would_change > 10, "`may` rules rarely matter");
}
