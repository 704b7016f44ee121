//! Lowering routes: the route's own names, then one function per kind of
//! node (step, decision, outcome) and per part of one (who acts, actions,
//! timings), so that one construct can be found and changed on its own.
//!
//! Route-local names (steps, decisions, outcomes) are collected first, so
//! that `then` and branches can point forwards.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Code, Diagnostic, did_you_mean, join_or};
use crate::model::lower::{Lowerer, Props, missing};
use crate::model::scope::{self, ModelRef};
use crate::model::types::*;
use crate::source::{FileId, Span, Spanned};
use crate::syntax::ast::{self, ExprKind};

/// A property of the route, or of a fragment it uses, with where it is
/// written.
struct Source<'r> {
    file: FileId,
    fragment: Option<FragmentId>,
    prop: &'r ast::RouteProp,
}

/// A route's local names: node ids by name, in the order written.
struct Names<'r> {
    route: &'r str,
    local: HashMap<&'r str, NodeId>,
    order: Vec<&'r str>,
}

impl<'a> Lowerer<'a> {
    /// A route with whatever could be resolved; unresolved references are
    /// reported and left out.
    pub(crate) fn route(&mut self, file: FileId, r: &ast::Route) -> Route {
        // The route's own nodes, then those of the fragments it uses.
        let mut sources: Vec<Source<'_>> = r
            .props
            .iter()
            .map(|p| Source {
                file,
                fragment: None,
                prop: &p.node,
            })
            .collect();
        for p in &r.props {
            if let ast::RouteProp::Use(name) = &p.node
                && let Some(ModelRef::Fragment(id)) = self.resolve(file, name, scope::FRAGMENT)
                && let Some((ffile, f)) = self.fragment_def(id)
            {
                if sources.iter().any(|s| s.fragment == Some(id)) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::DuplicateProperty,
                            name.span,
                            format!("route `{}` uses `{}` twice", r.name.node, name.node),
                        )
                        .with_help("use each fragment once"),
                    );
                    continue;
                }
                sources.extend(f.props.iter().map(|p| Source {
                    file: ffile,
                    fragment: Some(id),
                    prop: &p.node,
                }));
            }
        }
        let names = self.route_names(&r.name.node, &sources);
        let mut props = Props::new();
        let mut settings = Vec::new();
        let mut starts = Vec::new();
        let mut nodes = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for src in &sources {
            let node = match src.prop {
                ast::RouteProp::Step(s) if seen.insert(&s.name.node) => {
                    self.step(src.file, &names, s)
                }
                ast::RouteProp::Decision(d) if seen.insert(&d.name.node) => {
                    self.decision(src.file, &names, d)
                }
                ast::RouteProp::Outcome(o) if seen.insert(&o.name.node) => {
                    self.outcome(src.file, o)
                }
                ast::RouteProp::For(list) if src.fragment.is_none() => {
                    for n in list {
                        if let Some(ModelRef::Setting(s)) = self.resolve(file, n, scope::SETTING)
                            && !settings.contains(&s)
                        {
                            settings.push(s);
                        }
                    }
                    continue;
                }
                ast::RouteProp::Start { levels, node } if src.fragment.is_none() => {
                    let target = self.node_ref(&names, node);
                    for l in levels {
                        self.check_entry_name(file, l);
                        let entry = match self.resolve(file, l, scope::ENTRY) {
                            Some(ModelRef::Level(x)) => Some(Entry::Level(x)),
                            Some(ModelRef::Procedure(x)) => Some(Entry::Procedure(x)),
                            Some(ModelRef::Rule(x)) => Some(Entry::Rule(x)),
                            _ => None,
                        };
                        if let (Some(entry), Some(node)) = (entry, target) {
                            starts.push(Start {
                                entry,
                                node,
                                span: l.span,
                            });
                        }
                    }
                    continue;
                }
                ast::RouteProp::Common(c) if src.fragment.is_none() => {
                    props.common(c);
                    continue;
                }
                _ => continue,
            };
            nodes.push(Node {
                fragment: src.fragment,
                ..node
            });
        }
        self.check_fragment_edges(&nodes, &names);
        self.check_by_settings(&r.name.node, &nodes, &settings);
        let has = |f: fn(&ast::RouteProp) -> bool| r.props.iter().any(|p| f(&p.node));
        if settings.is_empty() && !has(|p| matches!(p, ast::RouteProp::For(_))) {
            self.diags
                .push(missing("for", "route", &r.name, "for residential"));
        }
        if starts.is_empty() && !has(|p| matches!(p, ast::RouteProp::Start { .. })) {
            self.diags.push(missing(
                "start",
                "route",
                &r.name,
                "start level-1 -> first-step",
            ));
        }
        Route {
            meta: self.meta(file, &r.name, props),
            title: r.title.node.clone(),
            settings,
            starts,
            nodes,
        }
    }

    /// A start names a level, a procedure or a rule; a name that is more
    /// than one of these is ambiguous.
    fn check_entry_name(&mut self, file: FileId, name: &ast::Name) {
        let Some(scope) = self.cl.scopes.get(&file) else {
            return;
        };
        let kinds: Vec<String> = scope::ENTRY
            .iter()
            .filter(|k| scope.get(**k, &name.node).is_some())
            .map(|k| k.article().to_string())
            .collect();
        if kinds.len() > 1 {
            self.diags.push(
                Diagnostic::new(
                    Code::WrongKind,
                    name.span,
                    format!(
                        "`{}` names {}, so it is not clear where this start is for",
                        name.node,
                        crate::diagnostic::join_and(&kinds)
                    ),
                )
                .with_label("ambiguous start")
                .with_help("rename one of them: a start names one level, procedure or rule"),
            );
        }
    }

    /// Who acts `for` a setting must act in a setting the route serves (a
    /// fragment's steps may name the settings of every route that uses it).
    fn check_by_settings(&mut self, route: &str, nodes: &[Node], settings: &[SettingId]) {
        for n in nodes.iter().filter(|n| n.fragment.is_none()) {
            for b in n.by() {
                for s in b.settings.iter().filter(|s| !settings.contains(s)) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::WrongKind,
                            n.meta.span,
                            format!(
                                "`{}` names who acts for setting `{}`, which route `{route}` is not for",
                                n.meta.id,
                                self.setting_name(*s)
                            ),
                        )
                        .with_label("never applies in this route")
                        .with_help("add the setting to the route's `for`, or remove it from `by ... for`"),
                    );
                }
            }
        }
    }

    fn setting_name(&self, s: SettingId) -> String {
        self.cl
            .defs
            .iter()
            .find(|d| self.cl.ids.get(d) == Some(&ModelRef::Setting(s)))
            .map(|d| scope::name_of(self.ws, *d).node.clone())
            .unwrap_or_default()
    }

    /// The file and definition of fragment `id`.
    fn fragment_def(&self, id: FragmentId) -> Option<(FileId, &'a ast::Fragment)> {
        let d = self
            .cl
            .defs
            .iter()
            .find(|d| self.cl.ids.get(d) == Some(&ModelRef::Fragment(id)))?;
        match scope::item(self.ws, *d) {
            ast::Item::Fragment(f) => Some((d.file, f)),
            _ => None,
        }
    }

    /// A fragment is written once for several routes, so its steps may
    /// lead only to its own steps.
    fn check_fragment_edges(&mut self, nodes: &[Node], names: &Names<'_>) {
        for n in nodes {
            let Some(f) = n.fragment else { continue };
            let targets: Vec<NodeId> = match &n.kind {
                NodeKind::Step(s) => s.next.into_iter().collect(),
                NodeKind::Decision(d) => d.branches.iter().map(|b| b.target).collect(),
                NodeKind::Outcome(_) => Vec::new(),
            };
            for t in targets {
                let target = &nodes[t.index()];
                if target.fragment != Some(f) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::WrongKind,
                            n.meta.span,
                            format!(
                                "`{}` is part of a fragment but leads to `{}` of route `{}`",
                                n.meta.id, target.meta.id, names.route
                            ),
                        )
                        .with_label("leads out of its fragment")
                        .with_help("a fragment is used by several routes, so its steps can lead only to its own steps and outcomes"),
                    );
                }
            }
        }
    }

    /// The names of a route's steps, decisions and outcomes (its own and
    /// its fragments'); a name used twice is reported and its second node
    /// left out.
    fn route_names<'r>(&mut self, route: &'r str, sources: &[Source<'r>]) -> Names<'r> {
        let mut names = Names {
            route,
            local: HashMap::new(),
            order: Vec::new(),
        };
        let mut first: HashMap<&str, Span> = HashMap::new();
        for src in sources {
            let name = match src.prop {
                ast::RouteProp::Step(s) => &s.name,
                ast::RouteProp::Decision(d) => &d.name,
                ast::RouteProp::Outcome(o) => &o.name,
                _ => continue,
            };
            if let Some(&at) = first.get(name.node.as_str()) {
                self.diags.push(
                    Diagnostic::new(
                        Code::DuplicateDefinition,
                        name.span,
                        format!("route `{route}` has two steps named `{}`", name.node),
                    )
                    .with_label("second")
                    .with_secondary(at, "first")
                    .with_help("name each step, decision and outcome of a route (and of the fragments it uses) differently"),
                );
                continue;
            }
            first.insert(&name.node, name.span);
            names
                .local
                .insert(&name.node, NodeId(names.order.len() as u32));
            names.order.push(&name.node);
        }
        names
    }

    /// A step, decision or outcome of the route, by name.
    fn node_ref(&mut self, names: &Names<'_>, n: &ast::Name) -> Option<NodeId> {
        if let Some(&id) = names.local.get(n.node.as_str()) {
            return Some(id);
        }
        let mut d = Diagnostic::new(
            Code::UnknownName,
            n.span,
            format!(
                "route `{}` has no step, decision or outcome named `{}`",
                names.route, n.node
            ),
        )
        .with_label("not in this route");
        d = match did_you_mean(&n.node, names.order.iter().copied()) {
            Some(close) => d.with_help(format!("did you mean `{close}`?")),
            None => d.with_help(format!(
                "add `step {} \"...\" {{ ... }}` or `outcome {} \"...\"` to the route",
                n.node, n.node
            )),
        };
        self.diags.push(d);
        None
    }

    fn step(&mut self, file: FileId, names: &Names<'_>, s: &ast::Step) -> Node {
        let mut props = Props::new();
        let mut step = Step {
            only_when: None,
            by: Vec::new(),
            actions: Vec::new(),
            timing: Vec::new(),
            complete: Vec::new(),
            next: None,
        };
        for q in &s.props {
            match &q.node {
                ast::StepProp::OnlyWhen(e) => {
                    if props.once("only when", q.span, &mut self.diags) {
                        step.only_when = self.cond(file, e);
                    }
                }
                ast::StepProp::By(b) => step.by.extend(self.by(file, b)),
                ast::StepProp::Action(a) => step.actions.extend(self.action(file, a, q.span)),
                ast::StepProp::Timing(t) => step.timing.extend(self.cond_timing(file, t)),
                ast::StepProp::Complete(ns) => {
                    for n in ns {
                        if let Some(ModelRef::Checklist(c)) =
                            self.resolve(file, n, scope::CHECKLIST)
                        {
                            step.complete.push(c);
                        }
                    }
                }
                ast::StepProp::Then(n) => {
                    if props.once("then", q.span, &mut self.diags) {
                        step.next = self.node_ref(names, n);
                    }
                }
                ast::StepProp::Common(c) => props.common(c),
            }
        }
        Node {
            meta: self.meta(file, &s.name, props),
            text: s.text.node.clone(),
            kind: NodeKind::Step(step),
            fragment: None,
        }
    }

    fn decision(&mut self, file: FileId, names: &Names<'_>, d: &ast::Decision) -> Node {
        let mut props = Props::new();
        let mut dec = Decision {
            by: Vec::new(),
            weigh: Vec::new(),
            answers: Vec::new(),
            branches: Vec::new(),
            timing: Vec::new(),
            on: None,
            always: Vec::new(),
        };
        // What the decision's answers are: written (`answers`), or those of
        // the question or condition it is settled on.
        let mut answers: Option<Vec<Choice>> = None;
        for q in &d.props {
            match &q.node {
                ast::DecisionProp::Answers(a) if props.once("answers", q.span, &mut self.diags) => {
                    answers = Some(match a {
                        ast::Answers::YesNo => yes_no(q.span),
                        ast::Answers::OneOf(o) => self.choices(file, o),
                    });
                }
                ast::DecisionProp::On(e) => {
                    if props.once("on", q.span, &mut self.diags)
                        && let Some((on, choices)) = self.decide_on(file, e)
                    {
                        dec.on = Some(on);
                        if answers.is_some() {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::DuplicateProperty,
                                    e.span,
                                    format!(
                                        "decision `{}` has both `answers` and `on`",
                                        d.name.node
                                    ),
                                )
                                .with_label("the answers come from here")
                                .with_help("remove `answers`: a decision settled `on` the incident takes the answers of its question, or yes and no"),
                            );
                        }
                        answers = Some(choices);
                    }
                }
                _ => {}
            }
        }
        let written = d.props.iter().any(|p| {
            matches!(
                p.node,
                ast::DecisionProp::Answers(_) | ast::DecisionProp::On(_)
            )
        });
        if answers.is_none() && !written {
            self.diags.push(
                missing("answers", "decision", &d.name, "answers yes or no").with_help(
                    "say what the decision's answers are (`answers yes or no`), or what settles it from the incident (`on harm-risk`)",
                ),
            );
        }
        dec.answers = answers.unwrap_or_default();
        let mut branch_seen: HashMap<u32, Span> = HashMap::new();
        for q in &d.props {
            match &q.node {
                ast::DecisionProp::By(b) => dec.by.extend(self.by(file, b)),
                ast::DecisionProp::Weigh(ns) => {
                    for n in ns {
                        if let Some(ModelRef::Factors(f)) = self.resolve(file, n, scope::FACTORS) {
                            dec.weigh.push(f);
                        }
                    }
                }
                ast::DecisionProp::Timing(t) => dec.timing.extend(self.cond_timing(file, t)),
                ast::DecisionProp::Always { answer, when } => {
                    let index = self.decision_answer(&d.name, &dec.answers, answer);
                    let cond = self.cond(file, when);
                    if let (Some(index), Some(cond)) = (index, cond) {
                        dec.always.push((index, cond));
                    }
                }
                ast::DecisionProp::Branch { answer, target } => {
                    let target = self.node_ref(names, target);
                    if dec.answers.is_empty() {
                        continue;
                    }
                    let Some(index) = self.decision_answer(&d.name, &dec.answers, answer) else {
                        continue;
                    };
                    if let Some(&first) = branch_seen.get(&index) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::DuplicateDefinition,
                                answer.span,
                                format!(
                                    "decision `{}` has two branches for `{}`",
                                    d.name.node, answer.node
                                ),
                            )
                            .with_label("second")
                            .with_secondary(first, "first")
                            .with_help("each answer leads one way"),
                        );
                        continue;
                    }
                    branch_seen.insert(index, answer.span);
                    if let Some(target) = target {
                        dec.branches.push(Branch {
                            answer: index,
                            target,
                            span: answer.span,
                        });
                    }
                }
                ast::DecisionProp::Common(c) => props.common(c),
                ast::DecisionProp::Answers(_) | ast::DecisionProp::On(_) => {}
            }
        }
        Node {
            meta: self.meta(file, &d.name, props),
            text: d.text.node.clone(),
            kind: NodeKind::Decision(dec),
            fragment: None,
        }
    }

    /// `on <question>` branches on the question's answers; `on <condition>`
    /// is yes when the condition holds and no when it does not.
    fn decide_on(&mut self, file: FileId, e: &ast::Expr) -> Option<(DecideOn, Vec<Choice>)> {
        if let ExprKind::Question(name) = &e.node
            && name.node != SETTING_QUESTION
            && let Some(ModelRef::Question(q)) = self.resolve(file, name, scope::QUESTION)
        {
            self.used.insert(q);
            let kind = self.questions[q.index()].kind.clone();
            let choices = match &kind {
                QuestionKind::YesNo => yes_no(name.span),
                QuestionKind::OneOf(c) | QuestionKind::Scale(c) => c.clone(),
                QuestionKind::Count { .. } | QuestionKind::Amount { .. } => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            name.span,
                            format!(
                                "`{}` is {}, so a decision cannot branch on each of its answers",
                                name.node,
                                kind.describe()
                            ),
                        )
                        .with_label("too many answers to branch on")
                        .with_help(format!(
                            "settle the decision on a condition instead, e.g. `on {} >= 3`, with `yes` and `no` branches",
                            name.node
                        )),
                    );
                    return None;
                }
            };
            return Some((DecideOn::Question(q), choices));
        }
        let cond = self.cond(file, e)?;
        Some((DecideOn::Condition(cond), yes_no(e.span)))
    }

    /// The index of a decision's answer, or a diagnostic.
    fn decision_answer(
        &mut self,
        decision: &ast::Name,
        answers: &[Choice],
        answer: &Spanned<String>,
    ) -> Option<u32> {
        if let Some(i) = answers.iter().position(|c| c.id == answer.node) {
            return Some(i as u32);
        }
        if answers.is_empty() {
            return None;
        }
        let ids: Vec<String> = answers.iter().map(|c| format!("`{}`", c.id)).collect();
        let mut diag = Diagnostic::new(
            Code::UnknownOption,
            answer.span,
            format!(
                "decision `{}` has no answer `{}`",
                decision.node, answer.node
            ),
        )
        .with_label("not one of its answers");
        diag = match did_you_mean(&answer.node, answers.iter().map(|c| c.id.as_str())) {
            Some(close) => diag.with_help(format!("did you mean `{close}`?")),
            None => diag.with_help(format!("its answers are {}", join_or(&ids))),
        };
        self.diags.push(diag);
        None
    }

    fn outcome(&mut self, file: FileId, o: &ast::Outcome) -> Node {
        let mut props = Props::new();
        let mut outcome = Outcome::default();
        for q in &o.props {
            match &q.node {
                ast::OutcomeProp::By(b) => outcome.by.extend(self.by(file, b)),
                ast::OutcomeProp::Common(c) => props.common(c),
            }
        }
        Node {
            meta: self.meta(file, &o.name, props),
            text: o.text.node.clone(),
            kind: NodeKind::Outcome(outcome),
            fragment: None,
        }
    }

    /// `by a, b for s`: each actor, in the settings named (every setting
    /// when none is).
    fn by(&mut self, file: FileId, b: &ast::By) -> Vec<ByActor> {
        let settings: Vec<SettingId> = b
            .settings
            .iter()
            .filter_map(|n| match self.resolve(file, n, scope::SETTING)? {
                ModelRef::Setting(s) => Some(s),
                _ => None,
            })
            .collect();
        self.actor_refs(file, &b.actors)
            .into_iter()
            .map(|actor| ByActor {
                actor,
                settings: settings.clone(),
            })
            .collect()
    }

    fn action(&mut self, file: FileId, a: &ast::Action, span: Span) -> Option<Action> {
        let mut targets = Vec::new();
        for chain in &a.targets {
            let resolved: Vec<ContactRef> = chain
                .iter()
                .filter_map(|n| match self.resolve(file, n, scope::CONTACT)? {
                    ModelRef::Contact(c) => Some(ContactRef::Contact(c)),
                    ModelRef::Actor(x) => Some(ContactRef::Actor(x)),
                    _ => None,
                })
                .collect();
            if resolved.len() == chain.len() {
                targets.push(resolved);
            }
        }
        let when = match &a.when {
            Some(e) => Some(self.cond(file, e)?),
            None => None,
        };
        Some(Action {
            kind: match a.kind.node {
                ast::ActionKind::Contact => ActionKind::Contact,
                ast::ActionKind::Consult => ActionKind::Consult,
                ast::ActionKind::Inform => ActionKind::Inform,
                ast::ActionKind::Report => ActionKind::Report,
            },
            targets,
            when,
            in_doubt: a.in_doubt,
            span,
        })
    }

    fn cond_timing(&mut self, file: FileId, t: &ast::CondTiming) -> Option<CondTiming> {
        let timing = self.timing(&t.timing)?;
        let when = match &t.when {
            Some(e) => Some(self.cond(file, e)?),
            None => None,
        };
        Some(CondTiming {
            timing,
            when,
            qualifier: t.qualifier.as_ref().map(|q| q.node.clone()),
        })
    }

    fn timing(&mut self, t: &ast::Timing) -> Option<Timing> {
        let mut num = |s: &Spanned<String>| -> Option<u32> {
            match s.node.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidNumber,
                            s.span,
                            format!("`{}` is not a length of time", s.node),
                        )
                        .with_help(
                            "use a whole number of hours, days, weeks or months, e.g. `24 hours`",
                        ),
                    );
                    None
                }
            }
        };
        Some(match t {
            ast::Timing::Within(d) => Timing::Within(num(&d.amount)?, d.unit),
            ast::Timing::After(d) => Timing::After(num(&d.amount)?, d.unit),
            ast::Timing::Every { from, to, unit } => {
                let f = num(from)?;
                let t2 = match to {
                    Some(t) => Some(num(t)?),
                    None => None,
                };
                if let (Some(t2), Some(to)) = (t2, to)
                    && t2 < f
                {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidNumber,
                            to.span,
                            format!("`every {f} to {t2}` runs backwards"),
                        )
                        .with_help(format!(
                            "write the smaller number first: `every {t2} to {f}`"
                        )),
                    );
                    return None;
                }
                Timing::Every {
                    from: f,
                    to: t2,
                    unit: *unit,
                }
            }
            ast::Timing::Immediately => Timing::Immediately,
            ast::Timing::Text(t) => Timing::Text(t.node.clone()),
        })
    }
}

/// The answers `yes` and `no`.
fn yes_no(span: Span) -> Vec<Choice> {
    ["yes", "no"]
        .iter()
        .map(|id| Choice {
            id: id.to_string(),
            title: None,
            span,
            cites: Vec::new(),
            notes: Vec::new(),
        })
        .collect()
}
