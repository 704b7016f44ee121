//! Findings about the decision space: conflicts, rules that never decide,
//! gaps, misclassified examples and levels nothing leads to. Each comes with
//! a witness incident and the ids of the rules involved.

use std::collections::BTreeSet;

use crate::analysis::decide::{Outcome, Space, rules_of};
use crate::analysis::mdd::{FALSE, NodeId, Op, TRUE};
use crate::analysis::witness::{Given, Witness};
use crate::diagnostic::{Code, Diagnostic, FindingData, join_or};
use crate::model::{Answer, Example, LevelId, Model, Policy, QuestionId, QuestionKind, RuleId};

/// At most this many rules are named in a message; JSON lists up to
/// `MAX_LISTED`.
const MAX_NAMED: usize = 4;
const MAX_LISTED: usize = 50;
/// Conflicting pairs reported before the analysis stops looking for more:
/// a protocol with this many has to be rethought, not read pair by pair.
const MAX_CONFLICTS: usize = 1000;
/// How many rivals are tried as a single rule covering a rule that never
/// decides.
const SINGLE_COVER_SCAN: usize = 16;

pub struct Findings {
    pub diagnostics: Vec<Diagnostic>,
    /// Indices of `accept gap` lines that matched a gap.
    pub used_accepts: BTreeSet<usize>,
}

pub fn decision_findings(space: &mut Space<'_>) -> Findings {
    let mut f = Findings {
        diagnostics: Vec::new(),
        used_accepts: BTreeSet::new(),
    };
    let model = space.model;
    if !model.is_protocol() {
        return f;
    }
    // Each stage builds diagrams; stop as soon as one outgrows the budget.
    let stages: [fn(&mut Space<'_>, &[Outcome], &mut Findings); 6] = [
        |s, o, f| gaps(s, o, f),
        |s, _, f| conflicts(s, f),
        |s, _, f| never_decides(s, f),
        |s, _, f| alongside(s, f),
        |s, _, f| misclassified(s, f),
        |s, o, f| unreachable_levels(s, o, f),
    ];
    let outcomes = if space.mdd.exhausted() {
        Vec::new()
    } else {
        space.outcomes()
    };
    for stage in stages {
        if space.mdd.exhausted() {
            break;
        }
        stage(space, &outcomes, &mut f);
    }
    if space.mdd.exhausted() {
        // What was found was built on diagrams cut short: none of it holds.
        f.diagnostics.clear();
        f.used_accepts.clear();
        f.diagnostics.push(
            Diagnostic::new(
                Code::AnalysisIncomplete,
                model.header.policy.span,
                format!(
                    "the rules are too intertwined to analyse within {} decision-diagram nodes, so conflicts, rules that never decide, gaps, misclassified examples and unreachable levels were not checked",
                    space.mdd.node_count()
                ),
            )
            .with_label("not analysed")
            .with_help(
                "the analysis tried the questions in the order they are declared and grouped as the rules test them; rules that share their questions, or a protocol split in parts, can be analysed",
            ),
        );
    }
    f
}

/// `rule-id (6.20)`
fn rule_ref(model: &Model, r: RuleId) -> String {
    let rule = model.rule(r);
    let cites = model.cite_text(&rule.meta.cites);
    if cites.is_empty() {
        format!("`{}`", rule.meta.id)
    } else {
        format!("`{}` ({cites})", rule.meta.id)
    }
}

fn level_name(model: &Model, l: LevelId) -> String {
    format!("`{}`", model.level(l).meta.id)
}

fn finding(rules: Vec<RuleId>, witness: Option<&Witness>, space: &Space<'_>) -> FindingData {
    FindingData {
        rules: rules
            .iter()
            .take(MAX_LISTED)
            .map(|r| space.model.rule(*r).meta.id.clone())
            .collect(),
        witness: witness.map(|w| w.data(space.model, &space.question_ids)),
        path: Vec::new(),
        subject: Vec::new(),
        accepted: None,
        accept: None,
    }
}

/// Cells for a path, with questions off the path at their first cell (they
/// do not matter).
fn cells(space: &Space<'_>, path: &[(usize, u32)]) -> Vec<u32> {
    let mut out = vec![0; space.model.questions.len()];
    for &(v, c) in path {
        out[v] = c;
    }
    out
}

fn gaps(space: &mut Space<'_>, outcomes: &[Outcome], f: &mut Findings) {
    let model = space.model;
    if model.header.otherwise.is_some() || !outcomes.contains(&Outcome::Nothing) {
        // No gap: still, an `accept gap` then matches nothing (reported by
        // the accept pass).
        return;
    }
    let mut mdd_accepts: Vec<(usize, NodeId)> = Vec::new();
    for (i, a) in model.accepts.iter().enumerate() {
        if a.code != "gap" {
            continue;
        }
        let region = match &a.when {
            Some(c) => space.domain.cond(&mut space.mdd, c),
            None => TRUE,
        };
        mdd_accepts.push((i, region));
    }
    let any_accepted = {
        let regions = mdd_accepts.iter().map(|(_, r)| *r).collect();
        space.mdd.fold(Op::Or, regions, FALSE)
    };
    let not_accepted = space.mdd.not(any_accepted);
    let span = model.header.policy.span;
    let roots = [space.nothing, space.valid, not_accepted];
    if let Some(path) = space.mdd.find(&roots, &|v| v == [1, 1, 1]) {
        let w = Witness::from_path(space, &path);
        f.diagnostics.push(
            Diagnostic::new(
                Code::Gap,
                span,
                format!(
                    "some incidents are decided by no rule, and there is no `otherwise`: for example {}",
                    w.text(model)
                ),
            )
            .with_label("no rule covers every incident")
            .with_help(
                "add a rule for these incidents, give the protocol an `otherwise` level, or accept the gap with `accept gap when ... because \"...\"` if the document really leaves it open",
            )
            .with_finding(finding(Vec::new(), Some(&w), space)),
        );
    }
    for (i, region) in mdd_accepts {
        let roots = [space.nothing, space.valid, region];
        let Some(path) = space.mdd.find(&roots, &|v| v == [1, 1, 1]) else {
            continue;
        };
        f.used_accepts.insert(i);
        let a = &model.accepts[i];
        let w = Witness::from_path(space, &path);
        let mut data = finding(Vec::new(), Some(&w), space);
        data.accepted = Some(a.reason.clone());
        data.accept = Some(i);
        f.diagnostics.push(
            Diagnostic::new(
                Code::Gap,
                a.span,
                format!(
                    "some incidents are decided by no rule: for example {}",
                    w.text(model)
                ),
            )
            .with_label("accepted here")
            .with_finding(data),
        );
    }
}

fn conflicts(space: &Space<'_>, f: &mut Findings) {
    let model = space.model;
    if model.header.policy.value != Policy::NoOverlap {
        return;
    }
    let n = model.rules.len();
    let mut found = 0;
    for a in 0..n {
        for b in a + 1..n {
            if found == MAX_CONFLICTS {
                f.diagnostics.push(
                    Diagnostic::new(
                        Code::Conflict,
                        model.header.policy.span,
                        format!("the analysis stopped after {MAX_CONFLICTS} conflicting pairs of rules; there are more"),
                    )
                    .with_label("rules must not overlap")
                    .with_help("with this many overlaps, consider `policy most-serious` or `policy first-match`")
                    .with_finding(finding(Vec::new(), None, space)),
                );
                return;
            }
            let (ra, rb) = (model.rule(RuleId(a as u32)), model.rule(RuleId(b as u32)));
            if ra.level == rb.level || !ra.decides() || !rb.decides() {
                continue;
            }
            let roots = [space.rules[a], space.rules[b], space.valid];
            let Some(path) = space.mdd.find(&roots, &|v| v.iter().all(|x| *x == 1)) else {
                continue;
            };
            found += 1;
            let w = Witness::from_path(space, &path);
            let (ia, ib) = (RuleId(a as u32), RuleId(b as u32));
            f.diagnostics.push(
                Diagnostic::new(
                    Code::Conflict,
                    ra.meta.span,
                    format!(
                        "rules {} and {} both match some incidents but give different levels ({} and {}): for example {}",
                        rule_ref(model, ia),
                        rule_ref(model, ib),
                        level_name(model, ra.level),
                        level_name(model, rb.level),
                        w.text(model)
                    ),
                )
                .with_label(format!("gives {}", level_name(model, ra.level)))
                .with_secondary(rb.meta.span, format!("gives {}", level_name(model, rb.level)))
                .with_help(
                    "the protocol says rules must not overlap: narrow one of the conditions, or choose `policy most-serious` if the more serious level should win",
                )
                .with_finding(finding(vec![ia, ib], Some(&w), space)),
            );
        }
    }
}

/// The order in which rules are tried as the ones overruling another: most
/// serious first under most-serious, source order otherwise.
fn priority(model: &Model) -> Vec<RuleId> {
    let mut order: Vec<RuleId> = (0..model.rules.len() as u32).map(RuleId).collect();
    if model.header.policy.value == Policy::MostSerious {
        order.sort_by_key(|s| (std::cmp::Reverse(model.rule(*s).level), *s));
    }
    order
}

/// Whether `s` can overrule `r` under the policy.
fn rival(model: &Model, r: RuleId, s: RuleId) -> bool {
    let (lr, ls) = (model.rule(r).level, model.rule(s).level);
    s != r
        && model.rule(s).decides()
        && match model.header.policy.value {
            Policy::MostSerious => ls >= lr,
            Policy::FirstMatch => s < r,
            Policy::NoOverlap => ls == lr,
        }
}

/// Rules whose union covers everything `r` matches (r never decides, so
/// they exist): one rule if one of the likeliest does it alone, else rules
/// chosen one at a time, each matching an incident of `r` that the ones
/// before it do not. At most `MAX_LISTED` rules.
fn cover(space: &mut Space<'_>, r: RuleId, order: &[RuleId], witness: &[u32]) -> Vec<RuleId> {
    let model = space.model;
    let cond = space.rules[r.index()];
    let matches = |space: &Space<'_>, s: RuleId, cells: &[u32]| {
        space.mdd.eval(space.rules[s.index()], cells) == 1
    };
    // A rule covering everything must match the witness.
    let single: Vec<RuleId> = order
        .iter()
        .copied()
        .filter(|s| rival(model, r, *s) && matches(space, *s, witness))
        .take(SINGLE_COVER_SCAN)
        .collect();
    for s in single {
        let roots = [cond, space.valid, space.rules[s.index()]];
        if space
            .mdd
            .find(&roots, &|v| v[0] == 1 && v[1] == 1 && v[2] == 0)
            .is_none()
        {
            return vec![s];
        }
    }
    let mut covered = FALSE;
    let mut chosen: Vec<RuleId> = Vec::new();
    while chosen.len() < MAX_LISTED {
        let roots = [cond, space.valid, covered];
        let Some(path) = space
            .mdd
            .find(&roots, &|v| v[0] == 1 && v[1] == 1 && v[2] == 0)
        else {
            break;
        };
        let cells = cells(space, &path);
        let Some(s) = order
            .iter()
            .copied()
            .find(|s| rival(model, r, *s) && !chosen.contains(s) && matches(space, *s, &cells))
        else {
            break;
        };
        chosen.push(s);
        covered = space.mdd.apply(Op::Or, covered, space.rules[s.index()]);
    }
    chosen
}

/// Rules that only suggest (`may`) and procedures: one that no possible
/// incident meets is dead text, and a procedure that every incident meets
/// is not a condition at all.
fn alongside(space: &mut Space<'_>, f: &mut Findings) {
    let model = space.model;
    for (i, rule) in model.rules.iter().enumerate() {
        if rule.decides() || space.overlap(&[space.rules[i]]) {
            continue;
        }
        let r = RuleId(i as u32);
        f.diagnostics.push(
            Diagnostic::new(
                Code::NeverApplies,
                rule.meta.span,
                format!(
                    "rule {} never suggests {}: no possible incident matches it",
                    rule_ref(model, r),
                    level_name(model, rule.level)
                ),
            )
            .with_label("matches nothing")
            .with_help(
                "its condition contradicts itself, or asks about a question in incidents where that question is not asked",
            )
            .with_finding(finding(vec![r], None, space)),
        );
    }
    for (i, p) in model.procedures.iter().enumerate() {
        let cond = space.procedures[i];
        let subject = |space: &Space<'_>, w: Option<&Witness>| {
            let mut data = finding(Vec::new(), w, space);
            data.subject = vec![p.meta.id.clone()];
            data
        };
        if !space.overlap(&[cond]) {
            f.diagnostics.push(
                Diagnostic::new(
                    Code::NeverApplies,
                    p.meta.span,
                    format!("procedure `{}` never applies: no possible incident meets its condition", p.meta.id),
                )
                .with_label("applies to nothing")
                .with_help(
                    "its condition contradicts itself, or asks about a question in incidents where that question is not asked",
                )
                .with_finding(subject(space, None)),
            );
            continue;
        }
        let not = space.mdd.not(cond);
        if !space.overlap(&[not]) {
            f.diagnostics.push(
                Diagnostic::new(
                    Code::AlwaysApplies,
                    p.meta.span,
                    format!("procedure `{}` applies to every incident", p.meta.id),
                )
                .with_label("always applies")
                .with_help(
                    "a procedure runs alongside the level when its condition holds; if it is part of every incident, make it a step of each route",
                )
                .with_finding(subject(space, None)),
            );
        }
    }
}

fn never_decides(space: &mut Space<'_>, f: &mut Findings) {
    let model = space.model;
    let policy = model.header.policy.value;
    let deciding = space.deciding().to_vec();
    let order = priority(model);
    for (i, rule) in model.rules.iter().enumerate() {
        if deciding[i] || !rule.decides() {
            continue;
        }
        let r = RuleId(i as u32);
        let cond = space.rules[i];
        let Some(path) = space
            .mdd
            .find(&[cond, space.valid], &|v| v[0] == 1 && v[1] == 1)
        else {
            f.diagnostics.push(
                Diagnostic::new(
                    Code::NeverDecides,
                    rule.meta.span,
                    format!("rule {} never decides: no possible incident matches it", rule_ref(model, r)),
                )
                .with_label("matches nothing")
                .with_help(
                    "its condition contradicts itself, or asks about a question in incidents where that question is not asked",
                )
                .with_finding(finding(vec![r], None, space)),
            );
            continue;
        };
        let w = Witness::from_path(space, &path);
        let witness = cells(space, &path);
        let covers = cover(space, r, &order, &witness);
        let named: Vec<String> = covers
            .iter()
            .take(MAX_NAMED)
            .map(|s| {
                let other = model.rule(*s);
                let gives = if other.level == rule.level {
                    "the same level".to_string()
                } else {
                    level_name(model, other.level)
                };
                match policy {
                    Policy::FirstMatch => rule_ref(model, *s),
                    _ => format!("{}, which gives {gives}", rule_ref(model, *s)),
                }
            })
            .collect();
        let mut list = join_or(&named);
        if covers.len() > MAX_NAMED {
            list = format!("{list}, or {} more rules", covers.len() - MAX_NAMED);
        }
        let how = match policy {
            Policy::FirstMatch => "is matched first by",
            Policy::MostSerious | Policy::NoOverlap => "is also matched by",
        };
        let mut d = Diagnostic::new(
            Code::NeverDecides,
            rule.meta.span,
            format!(
                "rule {} never decides: every incident it matches {how} {list}; for example {}",
                rule_ref(model, r),
                w.text(model)
            ),
        )
        .with_label("never the deciding rule")
        .with_help(format!(
            "remove the rule or change the ones that overrule it; if the document really says this, write `accept never-decides {} because \"...\"`",
            rule.meta.id
        ));
        for s in covers.iter().take(MAX_NAMED) {
            d = d.with_secondary(model.rule(*s).meta.span, "decides instead");
        }
        let mut rules = vec![r];
        rules.extend(covers);
        f.diagnostics
            .push(d.with_finding(finding(rules, Some(&w), space)));
    }
}

/// The incidents an example describes: its answers, with every other
/// question at its baseline answer (or not asked).
fn example_region(space: &mut Space<'_>, ex: &Example) -> NodeId {
    let model = space.model;
    let given = ex.given.as_deref().unwrap_or_default();
    let mut parts = Vec::new();
    for (i, q) in model.questions.iter().enumerate() {
        let atoms: Vec<_> = given.iter().filter(|a| a.question.index() == i).collect();
        let cells = &space.domain.cells[i];
        let node = if atoms.is_empty() && q.is_setting {
            // An example that names no setting holds in every setting.
            TRUE
        } else if atoms.is_empty() {
            let base = cells.cell(Some(crate::model::baseline(&q.kind)));
            let not_asked = cells.not_asked();
            space
                .mdd
                .literal(i, |c| Some(c) == base || Some(c) == not_asked)
        } else {
            let holds: Vec<bool> = (0..cells.total())
                .map(|c| atoms.iter().all(|a| space.domain.atom_cells(a)(c)))
                .collect();
            space.mdd.literal(i, |c| holds[c as usize])
        };
        parts.push(node);
    }
    space.mdd.fold(Op::And, parts, TRUE)
}

fn misclassified(space: &mut Space<'_>, f: &mut Findings) {
    let model = space.model;
    let has_examples = model
        .levels
        .iter()
        .any(|l| l.examples.iter().any(|e| e.given.is_some()));
    if !has_examples {
        return;
    }
    for (li, level) in model.levels.iter().enumerate() {
        let l = LevelId(li as u32);
        for ex in &level.examples {
            if ex.given.is_none() {
                continue;
            }
            let region = example_region(space, ex);
            let Some(path) = space.wrong_level(region, l) else {
                continue;
            };
            let space = &*space;
            let w = Witness::from_path(space, &path);
            let cells = cells(space, &path);
            let outcome = space.outcome_at(&cells);
            let matching = space.matching_at(&cells);
            let (outcome, rules): (String, Vec<RuleId>) = match outcome {
                Outcome::Nothing => match &model.header.otherwise {
                    Some(o) => (
                        format!(
                            "no rule decides it, so it gets the `otherwise` level {}",
                            level_name(model, o.value)
                        ),
                        Vec::new(),
                    ),
                    None => ("no rule decides it".to_string(), Vec::new()),
                },
                Outcome::Level(dl) => {
                    let at: Vec<RuleId> = match model.header.policy.value {
                        Policy::FirstMatch => matching.iter().copied().take(1).collect(),
                        _ => matching
                            .iter()
                            .copied()
                            .filter(|r| model.rule(*r).level == dl)
                            .collect(),
                    };
                    let names: Vec<String> = at.iter().map(|r| rule_ref(model, *r)).collect();
                    let verb = if at.len() == 1 { "puts" } else { "put" };
                    let noun = if at.len() == 1 { "rule" } else { "rules" };
                    (
                        format!(
                            "{noun} {} {verb} it at {}",
                            crate::diagnostic::join_and(&names),
                            level_name(model, dl)
                        ),
                        at,
                    )
                }
                Outcome::Conflict => {
                    let names: Vec<String> = matching.iter().map(|r| rule_ref(model, *r)).collect();
                    (
                        format!(
                            "rules {} match it with different levels",
                            crate::diagnostic::join_and(&names)
                        ),
                        matching.clone(),
                    )
                }
            };
            let cites = model.cite_text(&ex.cites);
            let cited = if cites.is_empty() {
                String::new()
            } else {
                format!(" ({cites})")
            };
            let mut d = Diagnostic::new(
                Code::MisclassifiedExample,
                ex.span,
                format!(
                    "example \"{}\"{cited} is listed under {}, but {outcome}: for example {}",
                    ex.title,
                    level_name(model, l),
                    w.text(model)
                ),
            )
            .with_label(format!("listed under {}", level_name(model, l)))
            .with_help(format!(
                "{}change the rules or the example's answers; if the document really contradicts itself, write `accept misclassified-example \"{}\" because \"...\"`",
                first_options_taken(model, ex, &w, &rules),
                ex.title
            ));
            for r in rules.iter().take(MAX_NAMED) {
                d = d.with_secondary(model.rule(*r).meta.span, "decides it");
            }
            let mut data = finding(rules, Some(&w), space);
            data.subject = vec![ex.title.clone()];
            f.diagnostics.push(d.with_finding(data));
        }
    }
}

/// An example that does not mention a list question takes its first
/// option (see `model::example`), silently: when a rule that decides the
/// witness tests that question, say so, as it is often not what the
/// document meant.
fn first_options_taken(model: &Model, ex: &Example, w: &Witness, rules: &[RuleId]) -> String {
    let mentioned: BTreeSet<usize> = ex
        .given
        .iter()
        .flatten()
        .map(|a| a.question.index())
        .collect();
    let tested: BTreeSet<usize> = rules
        .iter()
        .flat_map(|r| model.rule(*r).when.atoms())
        .map(|a| a.question.index())
        .collect();
    let taken: Vec<String> = w
        .answers
        .iter()
        .enumerate()
        .filter(|(i, g)| {
            **g == Given::Answer(Answer::Option(0)) && !mentioned.contains(i) && tested.contains(i)
        })
        .filter_map(|(i, _)| {
            let q = model.question(QuestionId(i as u32));
            match &q.kind {
                QuestionKind::OneOf(choices) if !q.is_setting => Some(format!(
                    "`{}`, so it is taken as `{} == {}`",
                    q.meta.id,
                    q.meta.id,
                    choices.first()?.id
                )),
                _ => None,
            }
        })
        .collect();
    if taken.is_empty() {
        return String::new();
    }
    format!(
        "the example does not mention {} (an example takes the first option of a list it does not mention); ",
        crate::diagnostic::join_and(&taken)
    )
}

fn unreachable_levels(space: &Space<'_>, outcomes: &[Outcome], f: &mut Findings) {
    let model = space.model;
    let reached: BTreeSet<LevelId> = outcomes.iter().filter_map(|o| space.level_of(*o)).collect();
    for (li, level) in model.levels.iter().enumerate() {
        let l = LevelId(li as u32);
        if reached.contains(&l) {
            continue;
        }
        let rules: Vec<RuleId> = rules_of(model, l).collect();
        let suggesting: Vec<String> = model
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.level == l && !r.decides())
            .map(|(i, _)| rule_ref(model, RuleId(i as u32)))
            .collect();
        let why = if rules.is_empty() && !suggesting.is_empty() {
            format!(
                "no rule decides it ({} only {} it, `strength may`) and it is not the `otherwise` level",
                crate::diagnostic::join_and(&suggesting),
                if suggesting.len() == 1 {
                    "suggests"
                } else {
                    "suggest"
                }
            )
        } else if rules.is_empty() {
            "no rule gives it and it is not the `otherwise` level".to_string()
        } else {
            let names: Vec<String> = rules
                .iter()
                .take(MAX_NAMED)
                .map(|r| rule_ref(model, *r))
                .collect();
            format!(
                "its rules ({}) never decide",
                crate::diagnostic::join_and(&names)
            )
        };
        let mut data = finding(rules, None, space);
        data.subject = vec![level.meta.id.clone()];
        f.diagnostics.push(
            Diagnostic::new(
                Code::UnreachableLevel,
                level.meta.span,
                format!("no incident is ever decided at level {}: {why}", level_name(model, l)),
            )
            .with_label("never decided")
            .with_help(format!(
                "add or change a rule so that some incident is decided at this level; if the document really says this, write `accept unreachable-level {} because \"...\"`",
                level.meta.id
            ))
            .with_finding(data),
        );
    }
}
