//! Checks that look across elements once every name is bound: question
//! order, routes for every level and setting, factor list inclusion, checklist
//! completeness, unused questions, and examples that answer questions that do
//! not apply to them.

use std::collections::{BTreeSet, HashSet};

use crate::diagnostic::{Code, Diagnostic, join_and};
use crate::model::example::{baseline, constants, representatives};
use crate::model::lower::Lowerer;
use crate::model::scope::{self, ModelRef};
use crate::model::types::*;
use crate::source::Span;
use crate::syntax::ast::Item;

/// Most combinations of answers tried when deciding whether a question
/// applies to an example.
const MAX_COMBINATIONS: usize = 4096;

impl Lowerer<'_> {
    pub(crate) fn check_model(&mut self, model: &mut Model) {
        self.check_question_order(model);
        if model.is_protocol() {
            self.check_routes(model);
        }
        self.check_includes(model);
        self.check_checklists(model);
        // A library's questions are there to be imported; and after an error
        // a question may look unused only because its use failed to lower.
        if model.is_protocol() && !self.diags.iter().any(|d| d.is_error()) {
            self.check_unused(model);
        }
        self.check_examples(model);
    }

    /// A question may only depend on questions asked before it, so staff can
    /// be asked in order and conditions cannot go round in circles.
    fn check_question_order(&mut self, model: &Model) {
        for (i, q) in model.questions.iter().enumerate() {
            let Some(c) = &q.asked_when else { continue };
            for a in c.atoms() {
                if a.question.index() >= i {
                    let other = &model.questions[a.question.index()];
                    let message = if a.question.index() == i {
                        format!("`{}` is asked only when it has been answered", q.meta.id)
                    } else {
                        format!(
                            "`{}` is asked only when `{}` is answered, but `{}` comes later",
                            q.meta.id, other.meta.id, other.meta.id
                        )
                    };
                    self.diags.push(
                        Diagnostic::new(Code::QuestionOrder, a.span, message)
                            .with_label("refers to a question not yet asked")
                            .with_secondary(other.meta.span, "defined here")
                            .with_help(format!(
                                "define `{}` before `{}`; a question can depend only on earlier ones",
                                other.meta.id, q.meta.id
                            )),
                    );
                }
            }
        }
    }

    fn check_routes(&mut self, model: &Model) {
        for r in &model.routes {
            for &s in &r.settings {
                let setting = &model.settings[s.index()];
                if setting.no_route.is_some() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnexpectedRoute,
                            r.meta.span,
                            format!(
                                "route `{}` is for `{}`, but that setting says it has no route",
                                r.meta.id, setting.meta.id
                            ),
                        )
                        .with_label("route given here")
                        .with_secondary(setting.meta.span, "setting says `no route`")
                        .with_help(format!(
                            "remove `no route` from `{}`, or remove it from the route's `for`",
                            setting.meta.id
                        )),
                    );
                }
            }
            // One route per level and setting.
            for (i, start) in r.starts.iter().enumerate() {
                if let Some(first) = r.starts[..i].iter().find(|s| s.level == start.level) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::DuplicateDefinition,
                            start.span,
                            format!(
                                "route `{}` starts `{}` twice",
                                r.meta.id,
                                model.level(start.level).meta.id
                            ),
                        )
                        .with_label("second start")
                        .with_secondary(first.span, "first start")
                        .with_help("a level enters a route at one place"),
                    );
                }
            }
        }
        for (si, setting) in model.settings.iter().enumerate() {
            let s = SettingId(si as u32);
            if setting.no_route.is_some() {
                continue;
            }
            for (li, level) in model.levels.iter().enumerate() {
                let l = LevelId(li as u32);
                let routes: Vec<(&Route, &Start)> = model
                    .routes
                    .iter()
                    .filter(|r| r.settings.contains(&s))
                    .filter_map(|r| r.starts.iter().find(|st| st.level == l).map(|st| (r, st)))
                    .collect();
                match routes.as_slice() {
                    [] => self.diags.push(
                        Diagnostic::new(
                            Code::MissingRoute,
                            level.meta.span,
                            format!(
                                "level `{}` has no route for setting `{}`",
                                level.meta.id, setting.meta.id
                            ),
                        )
                        .with_label(format!("nothing says what happens here in `{}`", setting.meta.id))
                        .with_secondary(setting.meta.span, "the protocol covers this setting")
                        .with_help(format!(
                            "add `start {} -> <step>` to a route `for {}`, or write `no route \"why\"` in setting `{}`",
                            level.meta.id, setting.meta.id, setting.meta.id
                        )),
                    ),
                    [_] => {}
                    [(first, _), rest @ ..] => {
                        for (r, st) in rest {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::DuplicateDefinition,
                                    st.span,
                                    format!(
                                        "level `{}` has two routes for setting `{}`: `{}` and `{}`",
                                        level.meta.id, setting.meta.id, first.meta.id, r.meta.id
                                    ),
                                )
                                .with_label("second route")
                                .with_secondary(first.meta.span, "first route")
                                .with_help("keep one route per level and setting"),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Factor lists may include others, but not in a circle.
    fn check_includes(&mut self, model: &Model) {
        let mut found: Vec<Vec<usize>> = Vec::new();
        crate::graph::circles(
            model.factors.len(),
            |f| {
                model.factors[f]
                    .includes
                    .iter()
                    .map(|i| i.index())
                    .collect()
            },
            |path| found.push(path.to_vec()),
        );
        for path in found {
            let (f, t) = (path[path.len() - 2], path[path.len() - 1]);
            let names: Vec<String> = path
                .iter()
                .map(|x| format!("`{}`", model.factors[*x].meta.id))
                .collect();
            let at = self
                .include_span(&model.factors[f].meta.id, &model.factors[t].meta.id)
                .unwrap_or(model.factors[f].meta.span);
            self.diags.push(
                Diagnostic::new(
                    Code::IncludeCycle,
                    at,
                    format!(
                        "factor lists include each other in a circle: {}",
                        names.join(" includes ")
                    ),
                )
                .with_label("this include closes the circle")
                .with_help("remove one of the `include`s"),
            );
        }
    }

    /// Where `from` writes `include to`.
    fn include_span(&self, from: &str, to: &str) -> Option<Span> {
        self.cl
            .defs
            .iter()
            .find_map(|&d| match scope::item(self.ws, d) {
                Item::Factors(f) if f.name.node == from => {
                    f.props.iter().find_map(|p| match &p.node {
                        crate::syntax::ast::FactorsProp::Include(ns) => {
                            ns.iter().find(|n| n.node == to).map(|n| n.span)
                        }
                        _ => None,
                    })
                }
                _ => None,
            })
    }

    /// A checklist that follows another uses its item names and should not
    /// leave any out.
    fn check_checklists(&mut self, model: &Model) {
        for c in &model.checklists {
            let Some(base) = c.follows else { continue };
            let base = &model.checklists[base.index()];
            for item in &c.items {
                if !base.items.iter().any(|b| b.meta.id == item.meta.id) {
                    let names: Vec<&str> = base.items.iter().map(|b| b.meta.id.as_str()).collect();
                    let mut d = Diagnostic::new(
                        Code::UnknownName,
                        item.meta.span,
                        format!(
                            "checklist `{}` follows `{}`, which has no item `{}`",
                            c.meta.id, base.meta.id, item.meta.id
                        ),
                    )
                    .with_label("not an item of the checklist followed");
                    if let Some(close) = crate::diagnostic::did_you_mean(&item.meta.id, names) {
                        d = d.with_help(format!("did you mean `{close}`?"));
                    }
                    self.diags.push(d);
                }
            }
            let missing: Vec<String> = base
                .items
                .iter()
                .filter(|b| !c.items.iter().any(|i| i.meta.id == b.meta.id))
                .map(|b| format!("`{}`", b.meta.id))
                .collect();
            if !missing.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::IncompleteChecklist,
                        c.meta.span,
                        format!(
                            "checklist `{}` follows `{}` but leaves out {}",
                            c.meta.id,
                            base.meta.id,
                            join_and(&missing)
                        ),
                    )
                    .with_label(format!(
                        "{} of {} items",
                        base.items.len() - missing.len(),
                        base.items.len()
                    ))
                    .with_secondary(base.meta.span, "the checklist it follows")
                    .with_help(format!(
                        "add the missing items; if the source document really leaves them out, write `accept incomplete-checklist {} because \"...\"`",
                        c.meta.id
                    ))
                    .with_finding(crate::diagnostic::FindingData {
                        subject: vec![c.meta.id.clone()],
                        ..Default::default()
                    }),
                );
            }
        }
    }

    fn check_unused(&mut self, model: &Model) {
        let mut used: HashSet<QuestionId> = self.used.clone();
        // A question's own condition does not count as a use of it.
        for (i, q) in model.questions.iter().enumerate() {
            let only_self = q
                .asked_when
                .as_ref()
                .is_some_and(|c| c.atoms().iter().all(|a| a.question.index() == i));
            if only_self {
                used.remove(&QuestionId(i as u32));
            }
        }
        for &d in &self.cl.defs {
            if !self.is_root_own(d) {
                continue;
            }
            let Some(ModelRef::Question(q)) = self.cl.ids.get(&d).copied() else {
                continue;
            };
            if !used.contains(&q) {
                let question = model.question(q);
                self.diags.push(
                    Diagnostic::new(
                        Code::UnusedQuestion,
                        question.meta.span,
                        format!("question `{}` is never used", question.meta.id),
                    )
                    .with_label("no rule, example or condition mentions it")
                    .with_help("use it in a rule or an example, or remove it"),
                );
            }
        }
    }

    /// An example may only answer questions that apply to it.
    fn check_examples(&mut self, model: &Model) {
        let consts = constants(model);
        for level in &model.levels {
            for ex in &level.examples {
                let Some(given) = &ex.given else { continue };
                self.check_example(model, &consts, ex, given);
            }
        }
    }

    fn check_example(
        &mut self,
        model: &Model,
        consts: &[BTreeSet<i64>],
        ex: &Example,
        given: &[Atom],
    ) {
        // Possible answers of each question in this example; `None` when the
        // question does not apply.
        let mut cands: Vec<Vec<Option<Answer>>> = Vec::with_capacity(model.questions.len());
        for (i, q) in model.questions.iter().enumerate() {
            let atoms: Vec<&Atom> = given.iter().filter(|a| a.question.index() == i).collect();
            let base: Vec<Option<Answer>> = if atoms.is_empty() {
                vec![Some(baseline(&q.kind))]
            } else {
                let vals: Vec<Option<Answer>> = representatives(&q.kind, &consts[i])
                    .into_iter()
                    .filter(|v| atoms.iter().all(|a| a.test.holds(*v)))
                    .map(Some)
                    .collect();
                if vals.is_empty() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidExample,
                            atoms[0].span,
                            format!(
                                "no answer to `{}` fits everything this example says of it",
                                q.meta.id
                            ),
                        )
                        .with_label("these answers contradict each other")
                        .with_help("give one answer for each question"),
                    );
                    return;
                }
                vals
            };
            let applies = match &q.asked_when {
                None => Some((true, false)),
                Some(c) => outcomes(c, &cands),
            };
            let next = match applies {
                // Too many combinations to tell: assume it may or may not apply.
                None => {
                    let mut b = base.clone();
                    if atoms.is_empty() {
                        b.push(None);
                    }
                    b
                }
                Some((true, false)) => base,
                Some((false, true)) if atoms.is_empty() => vec![None],
                Some((can_true, _)) => {
                    if let Some(first) = atoms.first() {
                        let span = cond_span(q.asked_when.as_ref());
                        let how = if can_true { "may not" } else { "does not" };
                        let label = if can_true {
                            format!("this example may not ask `{}`", q.meta.id)
                        } else {
                            format!("this example never asks `{}`", q.meta.id)
                        };
                        // The questions the condition depends on that the
                        // example leaves at their baseline.
                        let mut unstated: Vec<String> = Vec::new();
                        for a in q.asked_when.iter().flat_map(|c| c.atoms()) {
                            let other = model.question(a.question);
                            let text = format!(
                                "`{}` is taken as `{}`",
                                other.meta.id,
                                crate::model::summary::answer(
                                    model,
                                    a.question,
                                    baseline(&other.kind)
                                )
                            );
                            if !given.iter().any(|g| g.question == a.question)
                                && !unstated.contains(&text)
                            {
                                unstated.push(text);
                            }
                        }
                        let help = if unstated.is_empty() {
                            "change the answers so that the question applies, or remove its answer"
                                .to_string()
                        } else {
                            format!(
                                "{} as the example does not say otherwise; give the answers that make `{}` apply",
                                join_and(&unstated),
                                q.meta.id
                            )
                        };
                        let mut d = Diagnostic::new(
                            Code::InapplicableAnswer,
                            first.span,
                            format!(
                                "example \"{}\" answers `{}`, which {how} apply to it",
                                ex.title, q.meta.id
                            ),
                        )
                        .with_label(label)
                        .with_help(help);
                        if let Some(span) = span {
                            d = d.with_secondary(span, "asked only when this holds");
                        }
                        self.diags.push(d);
                        return;
                    }
                    let mut b = base;
                    b.push(None);
                    b
                }
            };
            cands.push(next);
        }
    }
}

/// Whether `c` can be true and whether it can be false, over every
/// combination of the candidate answers of the questions it mentions; `None`
/// when there are too many combinations to try.
fn outcomes(c: &Cond, cands: &[Vec<Option<Answer>>]) -> Option<(bool, bool)> {
    let mut qs: Vec<QuestionId> = c.atoms().iter().map(|a| a.question).collect();
    qs.sort();
    qs.dedup();
    if qs.iter().any(|q| q.index() >= cands.len()) {
        // Refers to a later question: reported by the question-order check.
        return Some((true, false));
    }
    let total = qs.iter().try_fold(1usize, |acc, q| {
        acc.checked_mul(cands[q.index()].len().max(1))
    })?;
    if total > MAX_COMBINATIONS {
        return None;
    }
    let (mut can_true, mut can_false) = (false, false);
    let mut idx = vec![0usize; qs.len()];
    loop {
        let lookup = |q: QuestionId| -> Option<Answer> {
            qs.iter()
                .position(|x| *x == q)
                .and_then(|p| cands[q.index()].get(idx[p]).copied().flatten())
        };
        if c.eval(&lookup) {
            can_true = true;
        } else {
            can_false = true;
        }
        // Next combination.
        let mut k = 0;
        loop {
            if k == qs.len() {
                return Some((can_true, can_false));
            }
            idx[k] += 1;
            if idx[k] < cands[qs[k].index()].len() {
                break;
            }
            idx[k] = 0;
            k += 1;
        }
    }
}

/// A span covering a condition's atoms (when they are in one file).
fn cond_span(c: Option<&Cond>) -> Option<Span> {
    let atoms = c?.atoms();
    let first = atoms.first()?.span;
    let last = atoms.last()?.span;
    (first.file == last.file).then(|| first.to(last))
}
