//! Every name a workspace defines and every place one is used, with spans,
//! and what each use refers to.
//!
//! Resolution follows the language's scoping (see `model/scope.rs`): a file
//! sees its own definitions and those of the files it imports (all of them,
//! or the names listed); an option is looked up in the question it is
//! compared with; a route's `then` and branches name its own steps or those
//! of a fragment it uses. The index is built from syntax trees alone, so it
//! answers for libraries and for protocols with errors elsewhere.

use std::collections::HashMap;

use crate::model::Workspace;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Item};

/// What a definition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefKind {
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
    /// An answer of a question (`one of`, `scale`).
    Option,
    /// A step, decision or outcome of a route or fragment.
    Node,
    /// An item of a checklist.
    ChecklistItem,
}

impl DefKind {
    /// The word for it in hover text and errors.
    pub fn word(self) -> &'static str {
        match self {
            DefKind::Setting => "setting",
            DefKind::Question => "question",
            DefKind::Level => "level",
            DefKind::Rule => "rule",
            DefKind::Route => "route",
            DefKind::Factors => "factor list",
            DefKind::Checklist => "checklist",
            DefKind::Actor => "actor",
            DefKind::Contact => "contact",
            DefKind::Procedure => "procedure",
            DefKind::Fragment => "fragment",
            DefKind::Option => "answer",
            DefKind::Node => "route node",
            DefKind::ChecklistItem => "checklist item",
        }
    }

    fn of(item: &Item) -> Option<DefKind> {
        Some(match item {
            Item::Setting(_) => DefKind::Setting,
            Item::Question(_) => DefKind::Question,
            Item::Level(_) => DefKind::Level,
            Item::Rule(_) => DefKind::Rule,
            Item::Route(_) => DefKind::Route,
            Item::Factors(_) => DefKind::Factors,
            Item::Checklist(_) => DefKind::Checklist,
            Item::Actor(_) => DefKind::Actor,
            Item::Contact(_) => DefKind::Contact,
            Item::Procedure(_) => DefKind::Procedure,
            Item::Fragment(_) => DefKind::Fragment,
            _ => return None,
        })
    }

    /// Whether a definition of this kind is seen by other files (options,
    /// nodes and checklist items live inside their definition).
    pub fn is_global(self) -> bool {
        !matches!(
            self,
            DefKind::Option | DefKind::Node | DefKind::ChecklistItem
        )
    }
}

pub const QUESTION: &[DefKind] = &[DefKind::Question];
pub const LEVEL: &[DefKind] = &[DefKind::Level];
/// What a route may start for: a level, a procedure or a rule.
pub const ENTRY: &[DefKind] = &[DefKind::Level, DefKind::Procedure, DefKind::Rule];
pub const SETTING: &[DefKind] = &[DefKind::Setting];
pub const ACTOR: &[DefKind] = &[DefKind::Actor];
pub const CONTACT: &[DefKind] = &[DefKind::Contact, DefKind::Actor];
pub const CHECKLIST: &[DefKind] = &[DefKind::Checklist];
pub const FACTORS: &[DefKind] = &[DefKind::Factors];
pub const FRAGMENT: &[DefKind] = &[DefKind::Fragment];
/// What an `accept` may name: a rule, procedure or anything else defined.
pub const ANY: &[DefKind] = &[
    DefKind::Rule,
    DefKind::Procedure,
    DefKind::Level,
    DefKind::Question,
    DefKind::Setting,
    DefKind::Route,
    DefKind::Factors,
    DefKind::Checklist,
    DefKind::Actor,
    DefKind::Contact,
    DefKind::Fragment,
];

/// A definition: its name as written, and where it lives.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    pub kind: DefKind,
    pub name: String,
    /// The name's span: what identifies the definition.
    pub span: Span,
    /// The whole definition.
    pub full: Span,
    /// The index of the top-level item it is part of.
    pub item: usize,
}

/// What a use of a name may refer to.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A top-level definition of one of these kinds, tried in order.
    Global(&'static [DefKind]),
    /// An option of the question named (or a setting, for `setting`).
    Option { question: String },
    /// A node of the route or fragment at this item, or of a fragment it
    /// uses.
    Node { item: usize },
    /// A name listed in the file's `k`th import.
    Import { k: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    pub name: String,
    pub span: Span,
    pub target: Target,
}

#[derive(Default)]
struct FileIndex {
    defs: Vec<Def>,
    uses: Vec<Use>,
}

/// The definitions and uses of every parsed file of a workspace.
pub struct Index<'w> {
    pub ws: &'w Workspace,
    files: HashMap<FileId, FileIndex>,
}

/// What is under the cursor.
pub enum At<'a> {
    Def(&'a Def),
    Use(&'a Use),
}

impl<'w> Index<'w> {
    pub fn new(ws: &'w Workspace) -> Index<'w> {
        let mut files = HashMap::new();
        for (id, _) in ws.sources.iter() {
            if let Some(ast) = ws.ast(id) {
                let mut w = Walk::default();
                for (i, item) in ast.items.iter().enumerate() {
                    w.item = i;
                    w.item(item);
                }
                files.insert(
                    id,
                    FileIndex {
                        defs: w.defs,
                        uses: w.uses,
                    },
                );
            }
        }
        Index { ws, files }
    }

    pub fn defs(&self, file: FileId) -> &[Def] {
        self.files.get(&file).map_or(&[], |f| &f.defs)
    }

    pub fn uses(&self, file: FileId) -> &[Use] {
        self.files.get(&file).map_or(&[], |f| &f.uses)
    }

    /// The name at a byte offset (its end included, so a cursor just after
    /// a name finds it).
    pub fn at(&self, file: FileId, offset: usize) -> Option<At<'_>> {
        let inside = |s: Span| s.start as usize <= offset && offset <= s.end as usize;
        let f = self.files.get(&file)?;
        if let Some(u) = f.uses.iter().find(|u| inside(u.span)) {
            return Some(At::Use(u));
        }
        f.defs.iter().find(|d| inside(d.span)).map(At::Def)
    }

    /// The definition a name under the cursor stands for.
    pub fn target(&self, file: FileId, offset: usize) -> Option<(FileId, &Def)> {
        match self.at(file, offset)? {
            At::Def(d) => Some((file, d)),
            At::Use(u) => self.resolve(file, u),
        }
    }

    fn imports(&self, file: FileId) -> Vec<(&ast::Import, Option<FileId>)> {
        let Some(ast) = self.ws.ast(file) else {
            return Vec::new();
        };
        let targets = self.ws.imports(file);
        ast.items
            .iter()
            .filter_map(|i| match i {
                Item::Import(imp) => Some(imp),
                _ => None,
            })
            .enumerate()
            .map(|(k, imp)| (imp, targets.get(k).copied().flatten()))
            .collect()
    }

    fn own(&self, file: FileId, kind: DefKind, name: &str) -> Option<&Def> {
        self.defs(file)
            .iter()
            .find(|d| d.kind == kind && d.name == name)
    }

    /// A top-level definition of `kind` called `name`, as `file` sees it.
    pub fn lookup(&self, file: FileId, kind: DefKind, name: &str) -> Option<(FileId, &Def)> {
        if let Some(d) = self.own(file, kind, name) {
            return Some((file, d));
        }
        self.imports(file).into_iter().find_map(|(imp, target)| {
            let target = target?;
            let listed = imp
                .names
                .as_ref()
                .is_none_or(|ns| ns.iter().any(|n| n.node == name));
            if !listed {
                return None;
            }
            self.own(target, kind, name).map(|d| (target, d))
        })
    }

    /// Every top-level definition `file` sees, its own first.
    pub fn visible(&self, file: FileId) -> Vec<(FileId, &Def)> {
        let mut out: Vec<(FileId, &Def)> = self
            .defs(file)
            .iter()
            .filter(|d| d.kind.is_global())
            .map(|d| (file, d))
            .collect();
        for (imp, target) in self.imports(file) {
            let Some(target) = target else { continue };
            for d in self.defs(target).iter().filter(|d| d.kind.is_global()) {
                let listed = imp
                    .names
                    .as_ref()
                    .is_none_or(|ns| ns.iter().any(|n| n.node == d.name));
                let shadowed = out
                    .iter()
                    .any(|(_, o)| o.kind == d.kind && o.name == d.name);
                if listed && !shadowed {
                    out.push((target, d));
                }
            }
        }
        out
    }

    /// The definition a use refers to, if it is defined.
    pub fn resolve(&self, file: FileId, u: &Use) -> Option<(FileId, &Def)> {
        match &u.target {
            Target::Global(kinds) => kinds.iter().find_map(|&k| self.lookup(file, k, &u.name)),
            Target::Option { question } => match self.lookup(file, DefKind::Question, question) {
                Some((qf, q)) => self
                    .defs(qf)
                    .iter()
                    .find(|d| d.kind == DefKind::Option && d.item == q.item && d.name == u.name)
                    .map(|d| (qf, d)),
                None if question == "setting" => self.lookup(file, DefKind::Setting, &u.name),
                None => None,
            },
            Target::Node { item } => self.node(file, *item, &u.name),
            Target::Import { k } => {
                let (_, target) = self.imports(file).into_iter().nth(*k)?;
                let target = target?;
                self.defs(target)
                    .iter()
                    .find(|d| d.kind.is_global() && d.name == u.name)
                    .map(|d| (target, d))
            }
        }
    }

    /// A node of the route or fragment at `item`, or of a fragment it uses.
    fn node(&self, file: FileId, item: usize, name: &str) -> Option<(FileId, &Def)> {
        let own = self
            .defs(file)
            .iter()
            .find(|d| d.kind == DefKind::Node && d.item == item && d.name == name);
        if let Some(d) = own {
            return Some((file, d));
        }
        self.fragments_used(file, item)
            .into_iter()
            .find_map(|(ff, fitem)| {
                self.defs(ff)
                    .iter()
                    .find(|d| d.kind == DefKind::Node && d.item == fitem && d.name == name)
                    .map(|d| (ff, d))
            })
    }

    /// The fragments the route at `item` uses, as (file, item).
    pub fn fragments_used(&self, file: FileId, item: usize) -> Vec<(FileId, usize)> {
        let Some(Item::Route(r)) = self.ws.ast(file).and_then(|a| a.items.get(item)) else {
            return Vec::new();
        };
        r.props
            .iter()
            .filter_map(|p| match &p.node {
                ast::RouteProp::Use(f) => self
                    .lookup(file, DefKind::Fragment, &f.node)
                    .map(|(ff, d)| (ff, d.item)),
                _ => None,
            })
            .collect()
    }

    /// Every use of a definition, in every parsed file of the workspace.
    pub fn references(&self, def_file: FileId, def: &Def) -> Vec<(FileId, Span)> {
        let mut files: Vec<FileId> = self.files.keys().copied().collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            for u in self.uses(f) {
                if u.name == def.name
                    && self
                        .resolve(f, u)
                        .is_some_and(|(rf, d)| rf == def_file && d.span == def.span)
                {
                    out.push((f, u.span));
                }
            }
        }
        out
    }

    /// The files whose syntax tree is known.
    pub fn files(&self) -> Vec<FileId> {
        let mut v: Vec<FileId> = self.files.keys().copied().collect();
        v.sort();
        v
    }
}

/// The walk over one file's syntax tree that collects definitions and uses.
#[derive(Default)]
struct Walk {
    item: usize,
    /// How many imports came before: uses in an import's name list resolve
    /// in that import's file.
    import_ordinal: usize,
    defs: Vec<Def>,
    uses: Vec<Use>,
}

impl Walk {
    fn def(&mut self, kind: DefKind, name: &ast::Name, full: Span) {
        self.defs.push(Def {
            kind,
            name: name.node.clone(),
            span: name.span,
            full,
            item: self.item,
        });
    }

    fn uses(&mut self, target: Target, names: &[ast::Name]) {
        for n in names {
            self.one(target.clone(), n);
        }
    }

    fn one(&mut self, target: Target, n: &ast::Name) {
        self.uses.push(Use {
            name: n.node.clone(),
            span: n.span,
            target,
        });
    }

    fn expr(&mut self, e: &ast::Expr) {
        match &e.node {
            ast::ExprKind::Question(q) => self.one(Target::Global(QUESTION), q),
            ast::ExprKind::Compare {
                question, value, ..
            } => {
                self.one(Target::Global(QUESTION), question);
                self.value(question, value);
            }
            ast::ExprKind::In {
                question, values, ..
            } => {
                self.one(Target::Global(QUESTION), question);
                for v in values {
                    self.value(question, v);
                }
            }
            ast::ExprKind::Not(x) => self.expr(x),
            ast::ExprKind::And(parts) | ast::ExprKind::Or(parts) => {
                parts.iter().for_each(|p| self.expr(p))
            }
        }
    }

    fn value(&mut self, question: &ast::Name, v: &ast::Value) {
        if let ast::ValueKind::Name(n) = &v.node {
            self.uses.push(Use {
                name: n.clone(),
                span: v.span,
                target: Target::Option {
                    question: question.node.clone(),
                },
            });
        }
    }

    fn police(&mut self, p: &ast::Police) {
        if let Some(by) = &p.by {
            self.one(Target::Global(ACTOR), by);
        }
        self.uses(Target::Global(SETTING), &p.settings);
    }

    fn by(&mut self, b: &ast::By) {
        self.uses(Target::Global(ACTOR), &b.actors);
        self.uses(Target::Global(SETTING), &b.settings);
    }

    fn timing(&mut self, t: &ast::CondTiming) {
        if let Some(e) = &t.when {
            self.expr(e);
        }
    }

    fn options(&mut self, options: &[ast::OptionDef]) {
        for o in options {
            let full = o
                .title
                .as_ref()
                .map_or(o.name.span, |t| o.name.span.to(t.span));
            self.def(DefKind::Option, &o.name, full);
        }
    }

    fn item(&mut self, item: &Item) {
        if let (Some(kind), Some(name)) = (DefKind::of(item), item.name()) {
            let full = item_span(item);
            self.def(kind, name, full);
        }
        match item {
            Item::Import(imp) => {
                if let Some(names) = &imp.names {
                    let k = self.import_ordinal;
                    self.uses(Target::Import { k }, names);
                }
                self.import_ordinal += 1;
            }
            Item::Header(h) => {
                for p in &h.props {
                    match &p.node {
                        ast::HeaderProp::Otherwise(l, _) => self.one(Target::Global(LEVEL), l),
                        ast::HeaderProp::Levels(ls) => self.uses(Target::Global(LEVEL), ls),
                        ast::HeaderProp::AskFirst(qs) => self.uses(Target::Global(QUESTION), qs),
                        _ => {}
                    }
                }
            }
            Item::Question(q) => {
                for p in &q.props {
                    match &p.node {
                        ast::QuestionProp::AskedWhen(e) => self.expr(e),
                        ast::QuestionProp::Answer(
                            ast::AnswerKind::OneOf(os) | ast::AnswerKind::Scale(os),
                        ) => self.options(os),
                        _ => {}
                    }
                }
            }
            Item::Level(l) => {
                for p in &l.props {
                    match &p.node {
                        ast::LevelProp::Example(ex) => {
                            for ep in &ex.props {
                                if let ast::ExampleProp::Given(e) = &ep.node {
                                    self.expr(e);
                                }
                            }
                        }
                        ast::LevelProp::Police(x) => self.police(x),
                        _ => {}
                    }
                }
            }
            Item::Rule(r) => {
                for p in &r.props {
                    match &p.node {
                        ast::RuleProp::When(e) => self.expr(e),
                        ast::RuleProp::Then(l) => self.one(Target::Global(LEVEL), l),
                        ast::RuleProp::Police(x) => self.police(x),
                        _ => {}
                    }
                }
            }
            Item::Route(ast::Route { props, .. }) | Item::Fragment(ast::Fragment { props, .. }) => {
                let node = Target::Node { item: self.item };
                for p in props {
                    match &p.node {
                        ast::RouteProp::For(s) => self.uses(Target::Global(SETTING), s),
                        ast::RouteProp::Use(f) => self.one(Target::Global(FRAGMENT), f),
                        ast::RouteProp::Start { levels, node: n } => {
                            self.uses(Target::Global(ENTRY), levels);
                            self.one(node.clone(), n);
                        }
                        ast::RouteProp::Step(s) => {
                            self.def(DefKind::Node, &s.name, s.span);
                            for sp in &s.props {
                                match &sp.node {
                                    ast::StepProp::OnlyWhen(e) => self.expr(e),
                                    ast::StepProp::By(b) => self.by(b),
                                    ast::StepProp::Action(a) => {
                                        for chain in &a.targets {
                                            self.uses(Target::Global(CONTACT), chain);
                                        }
                                        if let Some(e) = &a.when {
                                            self.expr(e);
                                        }
                                    }
                                    ast::StepProp::Timing(t) => self.timing(t),
                                    ast::StepProp::Complete(n) => {
                                        self.uses(Target::Global(CHECKLIST), n)
                                    }
                                    ast::StepProp::Then(n) => self.one(node.clone(), n),
                                    ast::StepProp::Common(_) => {}
                                }
                            }
                        }
                        ast::RouteProp::Decision(d) => {
                            self.def(DefKind::Node, &d.name, d.span);
                            // A decision `on` a question branches on its
                            // answers, so each branch names one of them.
                            let on = d.props.iter().find_map(|dp| match &dp.node {
                                ast::DecisionProp::On(e) => match &e.node {
                                    ast::ExprKind::Question(q) => Some(q.node.clone()),
                                    _ => None,
                                },
                                _ => None,
                            });
                            for dp in &d.props {
                                match &dp.node {
                                    ast::DecisionProp::By(b) => self.by(b),
                                    ast::DecisionProp::Weigh(n) => {
                                        self.uses(Target::Global(FACTORS), n)
                                    }
                                    ast::DecisionProp::On(e) => self.expr(e),
                                    ast::DecisionProp::Always { when, .. } => self.expr(when),
                                    ast::DecisionProp::Timing(t) => self.timing(t),
                                    ast::DecisionProp::Branch { answer, target } => {
                                        if let Some(question) = &on {
                                            self.uses.push(Use {
                                                name: answer.node.clone(),
                                                span: answer.span,
                                                target: Target::Option {
                                                    question: question.clone(),
                                                },
                                            });
                                        }
                                        self.one(node.clone(), target)
                                    }
                                    _ => {}
                                }
                            }
                        }
                        ast::RouteProp::Outcome(o) => {
                            self.def(DefKind::Node, &o.name, o.span);
                            for op in &o.props {
                                if let ast::OutcomeProp::By(b) = &op.node {
                                    self.by(b);
                                }
                            }
                        }
                        ast::RouteProp::Common(_) => {}
                    }
                }
            }
            Item::Factors(f) => {
                for p in &f.props {
                    match &p.node {
                        ast::FactorsProp::AppliesWhen(e) => self.expr(e),
                        ast::FactorsProp::Include(n) => self.uses(Target::Global(FACTORS), n),
                        _ => {}
                    }
                }
            }
            Item::Checklist(c) => {
                for p in &c.props {
                    match &p.node {
                        ast::ChecklistProp::Follows(n) => self.one(Target::Global(CHECKLIST), n),
                        ast::ChecklistProp::Item(it) => {
                            self.def(DefKind::ChecklistItem, &it.name, it.span);
                            for ip in &it.props {
                                if let ast::ItemProp::By(n) = &ip.node {
                                    self.uses(Target::Global(ACTOR), n);
                                }
                            }
                        }
                        ast::ChecklistProp::Common(_) => {}
                    }
                }
            }
            Item::Accept(a) => {
                if let Some(e) = &a.when {
                    self.expr(e);
                }
                self.uses(Target::Global(ANY), &a.names);
            }
            Item::Procedure(x) => {
                for p in &x.props {
                    match &p.node {
                        ast::ProcedureProp::When(e) => self.expr(e),
                        ast::ProcedureProp::Police(x) => self.police(x),
                        ast::ProcedureProp::Common(_) => {}
                    }
                }
            }
            Item::Setting(_) | Item::Actor(_) | Item::Contact(_) => {}
        }
    }
}

/// The span of a whole top-level item.
pub fn item_span(item: &Item) -> Span {
    match item {
        Item::Import(x) => x.span,
        Item::Header(x) => x.span,
        Item::Setting(x) => x.span,
        Item::Question(x) => x.span,
        Item::Level(x) => x.span,
        Item::Rule(x) => x.span,
        Item::Route(x) => x.span,
        Item::Factors(x) => x.span,
        Item::Checklist(x) => x.span,
        Item::Actor(x) => x.span,
        Item::Contact(x) => x.span,
        Item::Accept(x) => x.span,
        Item::Procedure(x) => x.span,
        Item::Fragment(x) => x.span,
    }
}
