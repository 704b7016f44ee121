//! Which definitions make up a protocol, and what each name means.
//!
//! A file sees its own definitions and the ones it imports (all of a file's
//! own definitions, or the names listed). A protocol's model holds what the
//! protocol file can see, plus whatever those definitions refer to in turn,
//! so `import injury from "common/incident.carepath"` brings the questions
//! `injury` is asked after without making their names visible.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::model::types::*;
use crate::model::workspace::Workspace;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Item};

/// A definition: the item at `item` in `file`'s syntax tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DefRef {
    pub file: FileId,
    pub item: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Setting,
    Question,
    Level,
    Rule,
    Route,
    Factors,
    Checklist,
    Actor,
    Contact,
    Procedure,
    Fragment,
}

impl Kind {
    pub const COUNT: usize = 11;
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Setting,
        Kind::Question,
        Kind::Level,
        Kind::Rule,
        Kind::Route,
        Kind::Factors,
        Kind::Checklist,
        Kind::Actor,
        Kind::Contact,
        Kind::Procedure,
        Kind::Fragment,
    ];

    pub fn of(item: &Item) -> Option<Kind> {
        Some(match item {
            Item::Setting(_) => Kind::Setting,
            Item::Question(_) => Kind::Question,
            Item::Level(_) => Kind::Level,
            Item::Rule(_) => Kind::Rule,
            Item::Route(_) => Kind::Route,
            Item::Factors(_) => Kind::Factors,
            Item::Checklist(_) => Kind::Checklist,
            Item::Actor(_) => Kind::Actor,
            Item::Contact(_) => Kind::Contact,
            Item::Procedure(_) => Kind::Procedure,
            Item::Fragment(_) => Kind::Fragment,
            _ => return None,
        })
    }

    pub fn article(self) -> &'static str {
        match self {
            Kind::Setting => "a setting",
            Kind::Question => "a question",
            Kind::Level => "a level",
            Kind::Rule => "a rule",
            Kind::Route => "a route",
            Kind::Factors => "a factor list",
            Kind::Checklist => "a checklist",
            Kind::Actor => "an actor",
            Kind::Contact => "a contact",
            Kind::Procedure => "a procedure",
            Kind::Fragment => "a route fragment",
        }
    }
}

/// A definition's id in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ModelRef {
    Setting(SettingId),
    Question(QuestionId),
    Level(LevelId),
    Rule(RuleId),
    Route(RouteId),
    Factors(FactorsId),
    Checklist(ChecklistId),
    Actor(ActorId),
    Contact(ContactId),
    Procedure(ProcedureId),
    Fragment(FragmentId),
}

/// What a file can see: names are unique per kind (a route may share its
/// name with a setting), so there is one map per kind and lookups borrow the
/// name rather than build a key.
#[derive(Default)]
pub(crate) struct Scope {
    by_kind: [HashMap<String, DefRef>; Kind::COUNT],
    /// An import of this file could not be loaded: unknown names may be
    /// defined there, so they are not reported.
    pub poisoned: bool,
}

/// The files and definitions that make up one root's model.
pub(crate) struct Closure {
    /// Files in import order: a file comes after everything it imports.
    pub files: Vec<FileId>,
    pub scopes: HashMap<FileId, Scope>,
    /// Included definitions, in model order.
    pub defs: Vec<DefRef>,
    pub ids: HashMap<DefRef, ModelRef>,
    /// Definitions imported by name into the root file.
    pub named_imports: HashSet<DefRef>,
    /// Some import could not be followed (missing, unreadable, a protocol,
    /// or part of a cycle): the model would be missing definitions, so it
    /// must not be analysed. The cause is reported where it is found.
    pub incomplete: bool,
}

pub(crate) fn item(ws: &Workspace, d: DefRef) -> &Item {
    &ws.ast(d.file).expect("included files are parsed").items[d.item]
}

pub(crate) fn header(ws: &Workspace, file: FileId) -> Option<&ast::Header> {
    ws.ast(file)?.items.iter().find_map(|i| match i {
        Item::Header(h) => Some(h),
        _ => None,
    })
}

fn imports(ws: &Workspace, file: FileId) -> Vec<(&ast::Import, Option<FileId>)> {
    let Some(ast) = ws.ast(file) else {
        return Vec::new();
    };
    ast.items
        .iter()
        .filter_map(|i| match i {
            Item::Import(imp) => Some(imp),
            _ => None,
        })
        .zip(ws.imports(file).iter().copied())
        .collect()
}

fn own_names(ws: &Workspace, file: FileId) -> Vec<(&ast::Name, Kind, DefRef)> {
    let Some(ast) = ws.ast(file) else {
        return Vec::new();
    };
    ast.items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| Some((it.name()?, Kind::of(it)?, DefRef { file, item: i })))
        .collect()
}

pub(crate) fn name_of(ws: &Workspace, d: DefRef) -> &ast::Name {
    item(ws, d).name().expect("definitions have names")
}

impl Scope {
    pub fn get(&self, kind: Kind, name: &str) -> Option<DefRef> {
        self.by_kind[kind as usize].get(name).copied()
    }

    fn insert(&mut self, kind: Kind, name: &str, d: DefRef) {
        self.by_kind[kind as usize].insert(name.to_string(), d);
    }

    /// Every visible name with its kind.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, &str, DefRef)> {
        Kind::ALL.iter().flat_map(move |&k| {
            self.by_kind[k as usize]
                .iter()
                .map(move |(n, d)| (k, n.as_str(), *d))
        })
    }
}

/// Build the closure of `root`: follow imports (reporting protocol imports
/// and missing headers), build every file's scope, then include the
/// definitions the root can see and everything they refer to.
pub(crate) fn closure(ws: &Workspace, root: FileId, diags: &mut Vec<Diagnostic>) -> Closure {
    let (files, cyclic) = import_order(ws, root, diags);
    for &f in &files {
        check_headers(ws, f, diags);
    }
    let mut scopes = HashMap::new();
    let mut named_imports = HashSet::new();
    for &f in &files {
        let scope = build_scope(ws, f, f == root, &mut named_imports, diags);
        scopes.insert(f, scope);
    }

    // Reachability from what the root sees.
    let mut included: HashSet<DefRef> = HashSet::new();
    let mut work: Vec<DefRef> = Vec::new();
    if let Some(scope) = scopes.get(&root) {
        let mut visible: Vec<DefRef> = scope.iter().map(|(_, _, d)| d).collect();
        visible.sort();
        for d in visible {
            if included.insert(d) {
                work.push(d);
            }
        }
    }
    while let Some(d) = work.pop() {
        let mut refs = Vec::new();
        references(item(ws, d), &mut refs);
        let Some(scope) = scopes.get(&d.file) else {
            continue;
        };
        for (kinds, name) in refs {
            for &kind in kinds {
                if let Some(t) = scope.get(kind, name)
                    && included.insert(t)
                {
                    work.push(t);
                    break;
                }
            }
        }
    }

    // Model order: files after their imports, items in source order, and
    // levels in the order the protocol states (`levels a, b, c`), if it does.
    let mut defs = Vec::new();
    let mut ids = HashMap::new();
    let mut counts = [0u32; Kind::COUNT];
    // A model with settings has the setting as its first question.
    if included
        .iter()
        .any(|d| matches!(item(ws, *d), Item::Setting(_)))
    {
        counts[Kind::Question as usize] = 1;
    }
    let mut by_name: HashMap<(Kind, &str), DefRef> = HashMap::new();
    for &f in &files {
        let Some(ast) = ws.ast(f) else { continue };
        for (i, it) in ast.items.iter().enumerate() {
            let d = DefRef { file: f, item: i };
            if !included.contains(&d) {
                continue;
            }
            let Some(kind) = Kind::of(it) else { continue };
            let name = name_of(ws, d);
            if let Some(&first) = by_name.get(&(kind, name.node.as_str())) {
                // Two definitions with one name, both pulled in (one perhaps
                // only as a dependency of an import).
                let same_scope = scopes
                    .get(&f)
                    .is_some_and(|s| s.get(kind, &name.node) == Some(first))
                    || first.file == f;
                if !same_scope {
                    diags.push(
                        Diagnostic::new(
                            Code::DuplicateDefinition,
                            name.span,
                            format!(
                                "two definitions of {} named `{}` are part of this protocol",
                                kind.article(),
                                name.node
                            ),
                        )
                        .with_label("this one")
                        .with_secondary(name_of(ws, first).span, "and this one")
                        .with_help("ids must be unique within a protocol; rename one of them"),
                    );
                }
                continue;
            }
            by_name.insert((kind, name.node.as_str()), d);
            let n = &mut counts[kind as usize];
            let r = match kind {
                Kind::Setting => ModelRef::Setting(SettingId(*n)),
                Kind::Question => ModelRef::Question(QuestionId(*n)),
                Kind::Level => ModelRef::Level(LevelId(*n)),
                Kind::Rule => ModelRef::Rule(RuleId(*n)),
                Kind::Route => ModelRef::Route(RouteId(*n)),
                Kind::Factors => ModelRef::Factors(FactorsId(*n)),
                Kind::Checklist => ModelRef::Checklist(ChecklistId(*n)),
                Kind::Actor => ModelRef::Actor(ActorId(*n)),
                Kind::Contact => ModelRef::Contact(ContactId(*n)),
                Kind::Procedure => ModelRef::Procedure(ProcedureId(*n)),
                Kind::Fragment => ModelRef::Fragment(FragmentId(*n)),
            };
            *n += 1;
            ids.insert(d, r);
            defs.push(d);
        }
    }
    order_levels(ws, root, &scopes, &mut defs, &mut ids);
    let incomplete = cyclic || scopes.values().any(|s| s.poisoned);
    Closure {
        files,
        scopes,
        defs,
        ids,
        named_imports,
        incomplete,
    }
}

/// Put the levels in the order the root's `levels` property states: listed
/// levels first, in that order, then any others in model order (an
/// incomplete list is reported by lowering). Level ids follow the new order.
fn order_levels(
    ws: &Workspace,
    root: FileId,
    scopes: &HashMap<FileId, Scope>,
    defs: &mut [DefRef],
    ids: &mut HashMap<DefRef, ModelRef>,
) {
    let Some(names) = header(ws, root).and_then(|h| {
        h.props.iter().find_map(|p| match &p.node {
            ast::HeaderProp::Levels(ls) => Some(ls),
            _ => None,
        })
    }) else {
        return;
    };
    let Some(scope) = scopes.get(&root) else {
        return;
    };
    let listed: Vec<DefRef> = names
        .iter()
        .filter_map(|n| scope.get(Kind::Level, &n.node))
        .collect();
    let slots: Vec<usize> = (0..defs.len())
        .filter(|&i| matches!(ids.get(&defs[i]), Some(ModelRef::Level(_))))
        .collect();
    let mut levels: Vec<DefRef> = slots.iter().map(|&i| defs[i]).collect();
    levels.sort_by_key(|d| listed.iter().position(|l| l == d).unwrap_or(usize::MAX));
    for (n, (&slot, d)) in slots.iter().zip(levels).enumerate() {
        defs[slot] = d;
        ids.insert(d, ModelRef::Level(LevelId(n as u32)));
    }
}

/// Files reachable from `root`, each after the files it imports; reports
/// imports of protocol files.
fn import_order(ws: &Workspace, root: FileId, diags: &mut Vec<Diagnostic>) -> (Vec<FileId>, bool) {
    let mut cyclic = false;
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    let mut marks: HashMap<FileId, Mark> = HashMap::new();
    let mut order = Vec::new();
    // (file, index of the next import to follow)
    let mut stack: Vec<(FileId, usize)> = vec![(root, 0)];
    marks.insert(root, Mark::Active);
    while let Some(&mut (file, ref mut next)) = stack.last_mut() {
        let imps = imports(ws, file);
        if *next >= imps.len() {
            marks.insert(file, Mark::Done);
            order.push(file);
            stack.pop();
            continue;
        }
        let (imp, target) = imps[*next];
        *next += 1;
        let Some(target) = target else { continue };
        if ws.ast(target).is_none() {
            continue;
        }
        if header(ws, target).is_some_and(|h| h.kind == ast::HeaderKind::Protocol) {
            diags.push(
                Diagnostic::new(
                    Code::ImportProtocol,
                    imp.path.span,
                    format!(
                        "`{}` is a protocol; only libraries can be imported",
                        ws.sources.get(target).name()
                    ),
                )
                .with_label("imported here")
                .with_help("move the shared definitions into a file that starts with `library`"),
            );
            continue;
        }
        match marks.get(&target) {
            Some(Mark::Done) => {}
            // A cycle: reported once for the whole workspace by
            // `Workspace::diagnostics`.
            Some(Mark::Active) => cyclic = true,
            None => {
                marks.insert(target, Mark::Active);
                stack.push((target, 0));
            }
        }
    }
    (order, cyclic)
}

fn check_headers(ws: &Workspace, file: FileId, diags: &mut Vec<Diagnostic>) {
    let Some(ast) = ws.ast(file) else { return };
    let headers: Vec<&ast::Header> = ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Header(h) => Some(h),
            _ => None,
        })
        .collect();
    match headers.as_slice() {
        [] => {
            let span = ast
                .items
                .first()
                .map(item_span)
                .unwrap_or(Span::new(file, 0, 0));
            diags.push(
                Diagnostic::new(
                    Code::MissingHeader,
                    span,
                    "this file has neither a `protocol` nor a `library` header",
                )
                .with_help(
                    "start a protocol with `protocol my-id { title \"...\" ... }`, or shared definitions with `library my-id { title \"...\" }`",
                ),
            );
        }
        [_] => {}
        [first, rest @ ..] => {
            for h in rest {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateHeader,
                        h.name.span,
                        "a file has one header, and this is a second",
                    )
                    .with_label("second header")
                    .with_secondary(first.name.span, "first header")
                    .with_help("put each protocol in a file of its own"),
                );
            }
        }
    }
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Import(i) => i.span,
        Item::Header(h) => h.span,
        Item::Accept(a) => a.span,
        other => other
            .name()
            .map(|n| n.span)
            .unwrap_or(Span::new(crate::source::FileId(0), 0, 0)),
    }
}

fn build_scope(
    ws: &Workspace,
    file: FileId,
    is_root: bool,
    named_imports: &mut HashSet<DefRef>,
    diags: &mut Vec<Diagnostic>,
) -> Scope {
    let mut scope = Scope::default();
    for (name, kind, d) in own_names(ws, file) {
        match scope.get(kind, &name.node) {
            Some(first) => diags.push(
                Diagnostic::new(
                    Code::DuplicateDefinition,
                    name.span,
                    format!("`{}` is defined twice", name.node),
                )
                .with_label("second definition")
                .with_secondary(name_of(ws, first).span, "first definition")
                .with_help("every name in a protocol must be unique; rename or remove one"),
            ),
            None => scope.insert(kind, &name.node, d),
        }
    }
    for (imp, target) in imports(ws, file) {
        let Some(target) = target.filter(|t| ws.ast(*t).is_some()) else {
            scope.poisoned = true;
            continue;
        };
        if header(ws, target).is_some_and(|h| h.kind == ast::HeaderKind::Protocol) {
            scope.poisoned = true;
            continue;
        }
        let available = own_names(ws, target);
        let wanted: Vec<(&ast::Name, Kind, DefRef, Span)> = match &imp.names {
            None => available
                .iter()
                .map(|(n, k, d)| (*n, *k, *d, imp.path.span))
                .collect(),
            Some(list) => {
                let mut out = Vec::new();
                for n in list {
                    let matching: Vec<_> = available
                        .iter()
                        .filter(|(a, _, _)| a.node == n.node)
                        .collect();
                    for (a, k, d) in &matching {
                        out.push((*a, *k, *d, n.span));
                        if is_root {
                            named_imports.insert(*d);
                        }
                    }
                    match matching.first() {
                        Some(_) => {}
                        None => {
                            let mut d = Diagnostic::new(
                                Code::UnknownName,
                                n.span,
                                format!(
                                    "`{}` does not define `{}`",
                                    ws.sources.get(target).name(),
                                    n.node
                                ),
                            )
                            .with_label("not defined there");
                            if let Some(close) = did_you_mean(
                                &n.node,
                                available.iter().map(|(a, _, _)| a.node.as_str()),
                            ) {
                                d = d.with_help(format!("did you mean `{close}`?"));
                            }
                            diags.push(d);
                        }
                    }
                }
                out
            }
        };
        for (name, kind, d, at) in wanted {
            match scope.get(kind, &name.node) {
                Some(existing) if existing != d => diags.push(
                    Diagnostic::new(
                        Code::DuplicateDefinition,
                        at,
                        format!(
                            "`{}` is imported from `{}` but is already defined",
                            name.node,
                            ws.sources.get(target).name()
                        ),
                    )
                    .with_label("imported here")
                    .with_secondary(name_of(ws, existing).span, "already defined here")
                    .with_secondary(name.span, "imported definition")
                    .with_help("rename one of them, or import only the names you need"),
                ),
                Some(_) => {}
                None => scope.insert(kind, &name.node, d),
            }
        }
    }
    scope
}

/// The kinds a reference may resolve to.
pub(crate) const QUESTION: &[Kind] = &[Kind::Question];
pub(crate) const LEVEL: &[Kind] = &[Kind::Level];
/// What a route may start for.
pub(crate) const ENTRY: &[Kind] = &[Kind::Level, Kind::Procedure, Kind::Rule];
pub(crate) const SETTING: &[Kind] = &[Kind::Setting];
pub(crate) const ACTOR: &[Kind] = &[Kind::Actor];
pub(crate) const CONTACT: &[Kind] = &[Kind::Contact, Kind::Actor];
pub(crate) const CHECKLIST: &[Kind] = &[Kind::Checklist];
pub(crate) const FACTORS: &[Kind] = &[Kind::Factors];
pub(crate) const FRAGMENT: &[Kind] = &[Kind::Fragment];

type Ref<'a> = (&'static [Kind], &'a String);

/// The global names a definition refers to, with the kinds each may be.
pub(crate) fn references<'a>(item: &'a Item, out: &mut Vec<Ref<'a>>) {
    fn by<'a>(b: &'a ast::By, out: &mut Vec<Ref<'a>>) {
        names(ACTOR, &b.actors, out);
        names(SETTING, &b.settings, out);
    }
    fn police<'a>(p: &'a ast::Police, out: &mut Vec<Ref<'a>>) {
        if let Some(by) = &p.by {
            out.push((ACTOR, &by.node));
        }
        names(SETTING, &p.settings, out);
    }
    fn expr<'a>(e: &'a ast::Expr, out: &mut Vec<Ref<'a>>) {
        match &e.node {
            ast::ExprKind::Question(q) => out.push((QUESTION, &q.node)),
            ast::ExprKind::Compare { question, .. } | ast::ExprKind::In { question, .. } => {
                out.push((QUESTION, &question.node))
            }
            ast::ExprKind::Not(x) => expr(x, out),
            ast::ExprKind::And(parts) | ast::ExprKind::Or(parts) => {
                parts.iter().for_each(|p| expr(p, out))
            }
        }
    }
    fn names<'a>(kinds: &'static [Kind], ns: &'a [ast::Name], out: &mut Vec<Ref<'a>>) {
        out.extend(ns.iter().map(|n| (kinds, &n.node)));
    }
    match item {
        Item::Question(q) => {
            for p in &q.props {
                if let ast::QuestionProp::AskedWhen(e) = &p.node {
                    expr(e, out);
                }
            }
        }
        Item::Level(l) => {
            for p in &l.props {
                match &p.node {
                    ast::LevelProp::Example(ex) => {
                        for ep in &ex.props {
                            if let ast::ExampleProp::Given(e) = &ep.node {
                                expr(e, out);
                            }
                        }
                    }
                    ast::LevelProp::Police(x) => police(x, out),
                    _ => {}
                }
            }
        }
        Item::Rule(r) => {
            for p in &r.props {
                match &p.node {
                    ast::RuleProp::When(e) => expr(e, out),
                    ast::RuleProp::Then(l) => out.push((LEVEL, &l.node)),
                    ast::RuleProp::Police(x) => police(x, out),
                    _ => {}
                }
            }
        }
        Item::Route(ast::Route { props, .. }) | Item::Fragment(ast::Fragment { props, .. }) => {
            for p in props {
                match &p.node {
                    ast::RouteProp::For(s) => names(SETTING, s, out),
                    ast::RouteProp::Use(f) => out.push((FRAGMENT, &f.node)),
                    ast::RouteProp::Start { levels, .. } => names(ENTRY, levels, out),
                    ast::RouteProp::Step(s) => {
                        for sp in &s.props {
                            match &sp.node {
                                ast::StepProp::OnlyWhen(e) => expr(e, out),
                                ast::StepProp::By(b) => by(b, out),
                                ast::StepProp::Action(a) => {
                                    for chain in &a.targets {
                                        names(CONTACT, chain, out);
                                    }
                                    if let Some(e) = &a.when {
                                        expr(e, out);
                                    }
                                }
                                ast::StepProp::Timing(t) => {
                                    if let Some(e) = &t.when {
                                        expr(e, out);
                                    }
                                }
                                ast::StepProp::Complete(n) => names(CHECKLIST, n, out),
                                _ => {}
                            }
                        }
                    }
                    ast::RouteProp::Decision(d) => {
                        for dp in &d.props {
                            match &dp.node {
                                ast::DecisionProp::By(b) => by(b, out),
                                ast::DecisionProp::Weigh(n) => names(FACTORS, n, out),
                                ast::DecisionProp::On(e) => expr(e, out),
                                ast::DecisionProp::Always { when, .. } => expr(when, out),
                                ast::DecisionProp::Timing(t) => {
                                    if let Some(e) = &t.when {
                                        expr(e, out);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    ast::RouteProp::Outcome(o) => {
                        for op in &o.props {
                            if let ast::OutcomeProp::By(b) = &op.node {
                                by(b, out);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Item::Factors(f) => {
            for p in &f.props {
                match &p.node {
                    ast::FactorsProp::AppliesWhen(e) => expr(e, out),
                    ast::FactorsProp::Include(n) => names(FACTORS, n, out),
                    _ => {}
                }
            }
        }
        Item::Checklist(c) => {
            for p in &c.props {
                match &p.node {
                    ast::ChecklistProp::Follows(n) => out.push((CHECKLIST, &n.node)),
                    ast::ChecklistProp::Item(it) => {
                        for ip in &it.props {
                            if let ast::ItemProp::By(n) = &ip.node {
                                names(ACTOR, n, out);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Item::Header(h) => {
            for p in &h.props {
                match &p.node {
                    ast::HeaderProp::Otherwise(l, _) => out.push((LEVEL, &l.node)),
                    ast::HeaderProp::Levels(ls) => names(LEVEL, ls, out),
                    ast::HeaderProp::AskFirst(qs) => names(QUESTION, qs, out),
                    _ => {}
                }
            }
        }
        Item::Accept(a) => {
            if let Some(e) = &a.when {
                expr(e, out);
            }
        }
        Item::Procedure(x) => {
            for p in &x.props {
                match &p.node {
                    ast::ProcedureProp::When(e) => expr(e, out),
                    ast::ProcedureProp::Police(x) => police(x, out),
                    _ => {}
                }
            }
        }
        Item::Setting(_) | Item::Actor(_) | Item::Contact(_) | Item::Import(_) => {}
    }
}
