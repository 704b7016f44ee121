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
        self.check_level_order(model);
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
        self.check_negated(model);
    }

    /// `not q` holds when `q` is not asked, where `q == no` does not: for a
    /// question asked only sometimes, the two read alike and decide apart.
    fn check_negated(&mut self, model: &Model) {
        // A condition lowered once per route that uses its fragment is
        // reported once.
        let mut negated = std::mem::take(&mut self.negated);
        negated.sort_by_key(|(span, _, _)| *span);
        negated.dedup_by_key(|(span, _, _)| *span);
        for (span, q, joined) in negated {
            let question = model.question(q);
            let Some(asked) = &question.asked_when else {
                continue;
            };
            // `victim and not victim-supports`: the question is asked
            // wherever the condition can hold, so `not` means answered no.
            let needs: Vec<&Atom> = match asked {
                Cond::Atom(a) => vec![a],
                Cond::And(parts) => parts
                    .iter()
                    .map(|p| match p {
                        Cond::Atom(a) => Some(a),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            let same = |a: &Atom, b: &Atom| a.question == b.question && a.test == b.test;
            if !needs.is_empty() && needs.iter().all(|n| joined.iter().any(|j| same(n, j))) {
                continue;
            }
            let id = &question.meta.id;
            let key = asked.tests_span().unwrap_or(question.meta.span);
            let when = model
                .written
                .get(&key)
                .or_else(|| self.written.get(&key))
                .map_or(String::new(), |w| format!(" when `{w}`"));
            self.diags.push(
                Diagnostic::new(
                    Code::NotOfConditionalQuestion,
                    span,
                    format!(
                        "`not {id}` also holds when `{id}` is not asked, and it is asked only{when}"
                    ),
                )
                .with_label(format!("true when `{id}` is answered no, or not asked"))
                .with_secondary(question.meta.span, "asked only sometimes")
                .with_help(format!(
                    "write `{id} == no` for an answer of no; keep `not {id}` only if the rule is meant to apply when the question is not asked"
                )),
            );
        }
    }

    /// A question may only depend on questions asked before it, so staff can
    /// be asked in order and conditions cannot go round in circles. The
    /// order is the `ask first` questions, then the others in model order;
    /// it is stored in the header. The setting is always known.
    fn check_question_order(&mut self, model: &mut Model) {
        let mut order = std::mem::take(&mut model.header.ask_order);
        let moved = !order.is_empty();
        for i in 0..model.questions.len() {
            let q = QuestionId(i as u32);
            if !order.contains(&q) && !model.question(q).is_setting {
                order.push(q);
            }
        }
        let mut pos = vec![usize::MAX; model.questions.len()];
        for (n, q) in order.iter().enumerate() {
            pos[q.index()] = n;
        }
        for &qid in &order {
            let q = model.question(qid);
            let Some(c) = &q.asked_when else { continue };
            for a in c.atoms() {
                let other = model.question(a.question);
                if other.is_setting || pos[a.question.index()] < pos[qid.index()] {
                    continue;
                }
                let message = if a.question == qid {
                    format!("`{}` is asked only when it has been answered", q.meta.id)
                } else {
                    format!(
                        "`{}` is asked only when `{}` is answered, but `{}` is asked later",
                        q.meta.id, other.meta.id, other.meta.id
                    )
                };
                let help = if moved {
                    format!(
                        "a question can depend only on questions asked before it: list `{}` before `{}` in `ask first`, or take `{}` out of `ask first`",
                        other.meta.id, q.meta.id, q.meta.id
                    )
                } else {
                    format!(
                        "define `{}` before `{}`; a question can depend only on earlier ones",
                        other.meta.id, q.meta.id
                    )
                };
                self.diags.push(
                    Diagnostic::new(Code::QuestionOrder, a.span, message)
                        .with_label("refers to a question not yet asked")
                        .with_secondary(other.meta.span, "defined here")
                        .with_help(help),
                );
            }
        }
        model.header.ask_order = order;
    }

    /// Levels rank least serious first in the order they are written. Where
    /// they come from several files that order is an accident of imports,
    /// so the protocol must state it (`levels a, b, c`); a stated order
    /// lists every level once.
    fn check_level_order(&mut self, model: &Model) {
        let Some(h) = scope::header(self.ws, self.root) else {
            return;
        };
        let stated = h.props.iter().find_map(|p| match &p.node {
            crate::syntax::ast::HeaderProp::Levels(ls) => Some((ls, p.span)),
            _ => None,
        });
        match stated {
            None => {
                let mut files: Vec<crate::source::FileId> =
                    model.levels.iter().map(|l| l.meta.span.file).collect();
                files.sort();
                files.dedup();
                if files.len() > 1 && model.is_protocol() {
                    let names: Vec<String> =
                        model.levels.iter().map(|l| l.meta.id.clone()).collect();
                    let mut d = Diagnostic::new(
                        Code::LevelOrder,
                        h.name.span,
                        format!(
                            "the levels of `{}` come from {} files, so their order must be stated",
                            h.name.node,
                            files.len()
                        ),
                    )
                    .with_label("no `levels` here")
                    .with_help(format!(
                        "say which is least and which most serious, e.g. `levels {}`",
                        names.join(", ")
                    ));
                    for l in &model.levels {
                        if l.meta.span.file != self.root {
                            d = d.with_secondary(l.meta.span, "imported level");
                        }
                    }
                    self.diags.push(d);
                }
            }
            Some((names, span)) => {
                let mut seen: Vec<&str> = Vec::new();
                for n in names {
                    if seen.contains(&n.node.as_str()) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::LevelOrder,
                                n.span,
                                format!("`{}` is listed twice in `levels`", n.node),
                            )
                            .with_label("second")
                            .with_help("list each level once, least serious first"),
                        );
                    }
                    seen.push(&n.node);
                    // An unknown name is reported by `resolve`.
                    let _ = self.resolve(self.root, n, scope::LEVEL);
                }
                let missing: Vec<String> = model
                    .levels
                    .iter()
                    .filter(|l| !seen.contains(&l.meta.id.as_str()))
                    .map(|l| format!("`{}`", l.meta.id))
                    .collect();
                if !missing.is_empty() {
                    self.diags.push(
                        Diagnostic::new(
                            Code::LevelOrder,
                            span,
                            format!("`levels` leaves out {}", join_and(&missing)),
                        )
                        .with_label("incomplete order")
                        .with_help("list every level of the protocol, least serious first"),
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
            // A `may` rule never decides, so a start for it is never taken.
            for start in &r.starts {
                if let Entry::Rule(x) = start.entry
                    && !model.rule(x).decides()
                {
                    let rule = model.rule(x);
                    self.diags.push(
                        Diagnostic::new(
                            Code::WrongKind,
                            start.span,
                            format!(
                                "route `{}` starts at rule `{}`, which only suggests its level (`strength may`), so no incident ever enters here",
                                r.meta.id, rule.meta.id
                            ),
                        )
                        .with_label("never taken")
                        .with_secondary(rule.meta.span, "a suggesting rule")
                        .with_help("start the route at a rule that decides (`must` or `should`), or at its level"),
                    );
                }
            }
            // One route per level and setting.
            for (i, start) in r.starts.iter().enumerate() {
                if let Some(first) = r.starts[..i].iter().find(|s| s.entry == start.entry) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::DuplicateDefinition,
                            start.span,
                            format!(
                                "route `{}` starts `{}` twice",
                                r.meta.id,
                                model.entry_id(start.entry)
                            ),
                        )
                        .with_label("second start")
                        .with_secondary(first.span, "first start")
                        .with_help("a level or procedure enters a route at one place"),
                    );
                }
            }
        }
        for (si, setting) in model.settings.iter().enumerate() {
            let s = SettingId(si as u32);
            if setting.no_route.is_some() {
                continue;
            }
            let entries = (0..model.levels.len())
                .map(|i| Entry::Level(LevelId(i as u32)))
                .chain(
                    (0..model.procedures.len()).map(|i| Entry::Procedure(ProcedureId(i as u32))),
                );
            for l in entries {
                let (what, meta) = match l {
                    Entry::Level(x) => ("level", &model.level(x).meta),
                    Entry::Procedure(x) => ("procedure", &model.procedures[x.index()].meta),
                    Entry::Rule(x) => ("rule", &model.rule(x).meta),
                };
                let routes: Vec<(&Route, &Start)> = model
                    .routes
                    .iter()
                    .filter(|r| r.settings.contains(&s))
                    .filter_map(|r| r.starts.iter().find(|st| st.entry == l).map(|st| (r, st)))
                    .collect();
                match routes.as_slice() {
                    [] => self.diags.push(
                        Diagnostic::new(
                            Code::MissingRoute,
                            meta.span,
                            format!(
                                "{what} `{}` has no route for setting `{}`",
                                meta.id, setting.meta.id
                            ),
                        )
                        .with_label(format!("nothing says what happens here in `{}`", setting.meta.id))
                        .with_secondary(setting.meta.span, "the protocol covers this setting")
                        .with_help(format!(
                            "add `start {} -> <step>` to a route `for {}`, or write `no route \"why\"` in setting `{}`",
                            meta.id, setting.meta.id, setting.meta.id
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
                                        "{what} `{}` has two routes for setting `{}`: `{}` and `{}`",
                                        meta.id, setting.meta.id, first.meta.id, r.meta.id
                                    ),
                                )
                                .with_label("second route")
                                .with_secondary(first.meta.span, "first route")
                                .with_help("keep one route per level or procedure and setting"),
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

    /// Where the root file imports a definition of another file by name.
    fn import_of(&self, d: scope::DefRef, name: &str) -> Option<Span> {
        if d.file == self.root || !self.cl.named_imports.contains(&d) {
            return None;
        }
        let ast = self.ws.ast(self.root)?;
        ast.items.iter().find_map(|i| match i {
            Item::Import(imp) => imp
                .names
                .as_ref()?
                .iter()
                .find(|n| n.node == name)
                .map(|n| n.span),
            _ => None,
        })
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
                let message = format!("question `{}` is never used", question.meta.id);
                // A question imported by name is this file's to remove: at
                // its import, not in the library other protocols share.
                let d = match self.import_of(d, &question.meta.id) {
                    Some(at) => Diagnostic::new(Code::UnusedQuestion, at, message)
                        .with_label("imported here; no rule, example or condition mentions it")
                        .with_secondary(question.meta.span, "defined here")
                        .with_help("use it in a rule or an example, or remove it from this import"),
                    None => Diagnostic::new(Code::UnusedQuestion, question.meta.span, message)
                        .with_label("no rule, example or condition mentions it")
                        .with_help("use it in a rule or an example, or remove it"),
                };
                self.diags.push(d);
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
            let base: Vec<Option<Answer>> = if atoms.is_empty() && q.is_setting {
                // An example that names no setting holds in every setting.
                representatives(&q.kind, &consts[i])
                    .into_iter()
                    .map(Some)
                    .collect()
            } else if atoms.is_empty() {
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
