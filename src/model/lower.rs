//! Stage 2, lower: syntax trees to the checked model.
//!
//! Names are bound, conditions typed, properties checked (required, repeated),
//! citations attached to their document. Every problem is reported and
//! lowering goes on; a model is returned only when there are no errors.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Code, Diagnostic, did_you_mean, join_and, join_or};
use crate::model::scope::{self, Closure, DefRef, Kind, ModelRef};
use crate::model::types::*;
use crate::model::workspace::Workspace;
use crate::source::{FileId, Span, Spanned};
use crate::syntax::ast::{self, Item};

/// The result of lowering one root file.
pub struct Lowered {
    /// Present when there were no errors.
    pub model: Option<Model>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lower the root file `root` of a workspace (a protocol, or a library checked
/// on its own) with everything it imports.
pub fn lower(ws: &Workspace, root: FileId) -> Lowered {
    let mut diagnostics = Vec::new();
    if ws.ast(root).is_none() {
        return Lowered {
            model: None,
            diagnostics,
        };
    }
    let closure = scope::closure(ws, root, &mut diagnostics);
    let mut lw = Lowerer {
        ws,
        root,
        cl: &closure,
        diags: diagnostics,
        docs: HashMap::new(),
        documents: Vec::new(),
        questions: Vec::new(),
        used: HashSet::new(),
        written: BTreeMap::new(),
        negated: Vec::new(),
    };
    let model = lw.run();
    let has_errors = lw.diags.iter().any(|d| d.is_error());
    Lowered {
        model: if has_errors || closure.incomplete {
            None
        } else {
            model
        },
        diagnostics: lw.diags,
    }
}

pub(crate) struct Lowerer<'a> {
    pub ws: &'a Workspace,
    pub root: FileId,
    pub cl: &'a Closure,
    pub diags: Vec<Diagnostic>,
    docs: HashMap<FileId, DocId>,
    documents: Vec<Document>,
    /// Filled before anything that needs question kinds is lowered.
    pub questions: Vec<Question>,
    /// Questions some condition or example refers to.
    pub used: HashSet<QuestionId>,
    /// Conditions as written, for [`Model::written`].
    pub written: BTreeMap<Span, String>,
    /// Each `not q` on a question alone, with where it is written and the
    /// tests joined to it by `and`: true when `q` is not asked, which
    /// `q == no` is not, unless those tests already make sure it is asked.
    pub negated: Vec<(Span, QuestionId, Vec<Atom>)>,
}

/// Collects the properties of one definition and reports repeats.
pub(crate) struct Props {
    seen: HashMap<&'static str, Span>,
    cites: Vec<Spanned<String>>,
    notes: Vec<String>,
}

impl Props {
    pub(crate) fn new() -> Props {
        Props {
            seen: HashMap::new(),
            cites: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Record a property that may appear once; false (and a diagnostic) if
    /// it already appeared.
    pub(crate) fn once(
        &mut self,
        name: &'static str,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        if let Some(&first) = self.seen.get(name) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateProperty,
                    span,
                    format!("`{name}` is given twice"),
                )
                .with_label("second")
                .with_secondary(first, "first")
                .with_help(format!("keep one `{name}`")),
            );
            return false;
        }
        self.seen.insert(name, span);
        true
    }

    pub(crate) fn common(&mut self, c: &ast::Common) {
        match c {
            ast::Common::Cite(cs) => self.cites.extend(cs.iter().cloned()),
            ast::Common::Note(n) => self.notes.push(n.node.clone()),
        }
    }
}

pub(crate) fn missing(what: &str, def: &str, name: &ast::Name, example: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MissingProperty,
        name.span,
        format!("{def} `{}` has no `{what}`", name.node),
    )
    .with_label(format!("`{what}` missing"))
    .with_help(format!("add it, e.g. `{example}`"))
}

impl<'a> Lowerer<'a> {
    fn run(&mut self) -> Option<Model> {
        self.documents();
        let header = self.header();
        // Questions first: conditions anywhere need their kinds. The setting
        // is question 0 when there are settings (see `scope::closure`).
        let setting_choices: Vec<Choice> = self
            .cl
            .defs
            .iter()
            .filter_map(|&d| match scope::item(self.ws, d) {
                Item::Setting(s) => Some(Choice {
                    id: s.name.node.clone(),
                    title: Some(s.title.node.clone()),
                    span: s.name.span,
                    cites: Vec::new(),
                    notes: Vec::new(),
                }),
                _ => None,
            })
            .collect();
        if !setting_choices.is_empty() {
            let span = scope::header(self.ws, self.root)
                .map(|h| h.name.span)
                .unwrap_or(Span::new(self.root, 0, 0));
            self.questions.push(Question {
                meta: Meta {
                    id: SETTING_QUESTION.to_string(),
                    span,
                    cites: Vec::new(),
                    notes: Vec::new(),
                },
                text: "Where does the child live?".to_string(),
                kind: QuestionKind::OneOf(setting_choices),
                asked_when: None,
                is_setting: true,
            });
        }
        for &d in &self.cl.defs {
            if let Item::Question(q) = scope::item(self.ws, d) {
                let q = self.question_shell(d.file, q);
                self.questions.push(q);
            }
        }
        let mut settings = Vec::new();
        let mut levels = Vec::new();
        let mut rules = Vec::new();
        let mut procedures = Vec::new();
        let mut routes = Vec::new();
        let mut fragments = Vec::new();
        let mut factors = Vec::new();
        let mut checklists = Vec::new();
        let mut actors = Vec::new();
        let mut contacts = Vec::new();
        let mut asked_when = Vec::new();
        for &d in &self.cl.defs {
            let file = d.file;
            match scope::item(self.ws, d) {
                Item::Question(q) => asked_when.push(self.asked_when(file, q)),
                Item::Setting(s) => settings.push(self.setting(file, s)),
                Item::Level(l) => levels.push(self.level(file, l)),
                Item::Rule(r) => rules.push(self.rule(file, r)),
                Item::Procedure(x) => procedures.push(self.procedure(file, x)),
                Item::Route(r) => routes.push(self.route(file, r)),
                Item::Fragment(f) => {
                    let mut props = Props::new();
                    for p in &f.props {
                        if let ast::RouteProp::Common(c) = &p.node {
                            props.common(c);
                        }
                    }
                    fragments.push(Fragment {
                        meta: self.meta(file, &f.name, props),
                        title: f.title.node.clone(),
                    });
                }
                Item::Factors(f) => factors.push(self.factors(file, f)),
                Item::Checklist(c) => checklists.push(self.checklist(file, c)),
                Item::Actor(a) => actors.push(self.actor(file, a)),
                Item::Contact(c) => contacts.push(self.contact(file, c)),
                _ => {}
            }
        }
        let first = usize::from(self.questions.first().is_some_and(|q| q.is_setting));
        for (q, cond) in self.questions[first..].iter_mut().zip(asked_when) {
            q.asked_when = cond;
        }
        let accepts = self.accepts();
        let header = header?;
        let mut model = Model {
            header,
            documents: std::mem::take(&mut self.documents),
            settings,
            questions: std::mem::take(&mut self.questions),
            levels,
            // A rule that failed to lower is left out; the errors already
            // reported mean this model is not returned.
            rules: rules.into_iter().flatten().collect(),
            procedures: procedures.into_iter().flatten().collect(),
            routes,
            fragments,
            factors,
            checklists,
            actors,
            contacts,
            accepts,
            written: std::mem::take(&mut self.written),
        };
        self.check_model(&mut model);
        Some(model)
    }

    // ------------------------------------------------------------ documents

    fn documents(&mut self) {
        let mut files = vec![self.root];
        files.extend(self.cl.files.iter().copied().filter(|f| *f != self.root));
        for f in files {
            let Some(h) = scope::header(self.ws, f) else {
                continue;
            };
            let mut title = None;
            let mut source = None;
            for p in &h.props {
                match &p.node {
                    ast::HeaderProp::Title(t, _) => title = Some(t.node.clone()),
                    ast::HeaderProp::Source(s, _) => source = Some(s.node.clone()),
                    _ => {}
                }
            }
            self.docs.insert(f, DocId(self.documents.len() as u32));
            self.documents.push(Document {
                id: h.name.node.clone(),
                title: title.unwrap_or_else(|| h.name.node.clone()),
                source,
            });
        }
    }

    fn cites(&self, file: FileId, cites: &[Spanned<String>]) -> Vec<Citation> {
        let document = self.docs.get(&file).copied().unwrap_or(DocId(0));
        cites
            .iter()
            .map(|c| Citation {
                document,
                section: c.node.clone(),
            })
            .collect()
    }

    pub(crate) fn meta(&self, file: FileId, name: &ast::Name, props: Props) -> Meta {
        Meta {
            id: name.node.clone(),
            span: name.span,
            cites: self.cites(file, &props.cites),
            notes: props.notes,
        }
    }

    // ------------------------------------------------------------ names

    /// Resolve a name used in `file` to a definition of one of `want`'s kinds
    /// (tried in order).
    pub(crate) fn resolve(
        &mut self,
        file: FileId,
        name: &ast::Name,
        want: &[Kind],
    ) -> Option<ModelRef> {
        let scope = self.cl.scopes.get(&file)?;
        for &kind in want {
            if let Some(d) = scope.get(kind, &name.node) {
                // A definition left out as a duplicate has no id; that is
                // reported already.
                return self.cl.ids.get(&d).copied();
            }
        }
        let wanted = join_or(
            &want
                .iter()
                .map(|k| k.article().to_string())
                .collect::<Vec<_>>(),
        );
        let other = scope
            .iter()
            .filter(|(_, n, _)| *n == name.node)
            .map(|(k, _, d)| (k, d))
            .min();
        if let Some((kind, d)) = other {
            self.diags.push(
                Diagnostic::new(
                    Code::WrongKind,
                    name.span,
                    format!(
                        "`{}` is {}, but {wanted} is expected here",
                        name.node,
                        kind.article()
                    ),
                )
                .with_label(format!("expected {wanted}"))
                .with_secondary(
                    scope::name_of(self.ws, d).span,
                    format!("defined here as {}", kind.article()),
                ),
            );
            return None;
        }
        if scope.poisoned {
            return None;
        }
        let mut candidates: Vec<&str> = scope
            .iter()
            .filter(|(k, _, _)| want.contains(k))
            .map(|(_, n, _)| n)
            .collect();
        candidates.sort();
        let mut d = Diagnostic::new(
            Code::UnknownName,
            name.span,
            format!("`{}` is not defined; {wanted} is expected here", name.node),
        )
        .with_label("not defined");
        // A name that differs from another only in its number (`level-4`
        // beside `level-1`) is not a slip of the keyboard: a protocol has
        // few levels, so name them all.
        let close = did_you_mean(&name.node, candidates.iter().copied())
            .filter(|close| !differ_in_digits_only(close, &name.node));
        if want == scope::LEVEL && !candidates.is_empty() {
            let levels: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
            let listed = format!("the levels are {}", join_and(&levels));
            d = d.with_help(match close {
                Some(close) => format!("did you mean `{close}`? {listed}"),
                None => listed,
            });
            self.diags.push(d);
            return None;
        }
        let elsewhere = match close {
            Some(_) => None,
            None => self.defined_below(file, name, want),
        };
        d = match close {
            Some(close) => d.with_help(format!("did you mean `{close}`?")),
            None if let Some(path) = elsewhere => d.with_help(format!(
                "`{}` is defined in `{path}`: import it with `import {} from \"{path}\"`",
                name.node, name.node
            )),
            None if candidates.is_empty() => d.with_help(format!(
                "define {wanted} named `{}`, or import it",
                name.node
            )),
            None => {
                let shown: Vec<String> = candidates
                    .iter()
                    .take(8)
                    .map(|c| format!("`{c}`"))
                    .collect();
                let more = if candidates.len() > 8 { ", ..." } else { "" };
                d.with_help(format!("defined here: {}{more}", shown.join(", ")))
            }
        };
        self.diags.push(d);
        None
    }

    fn level_ref(&mut self, file: FileId, name: &ast::Name) -> Option<LevelId> {
        match self.resolve(file, name, scope::LEVEL)? {
            ModelRef::Level(l) => Some(l),
            _ => None,
        }
    }

    pub(crate) fn actor_refs(&mut self, file: FileId, names: &[ast::Name]) -> Vec<ActorId> {
        names
            .iter()
            .filter_map(|n| match self.resolve(file, n, scope::ACTOR)? {
                ModelRef::Actor(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    // ------------------------------------------------------------ header

    fn header(&mut self) -> Option<Header> {
        let h = scope::header(self.ws, self.root)?;
        let file = self.root;
        let mut props = Props::new();
        let mut title = None;
        let mut authorities = Vec::new();
        let mut partners = Vec::new();
        let mut version = None;
        let mut effective = None;
        let mut review = None;
        let mut source = None;
        let mut policy = None;
        let mut otherwise = None;
        let mut notes = Vec::new();
        let mut ask_first = Vec::new();
        for p in &h.props {
            let span = p.span;
            match &p.node {
                ast::HeaderProp::Title(t, c) => {
                    if props.once("title", span, &mut self.diags) {
                        title = Some(self.cited(file, t.node.clone(), c, t.span));
                    }
                }
                ast::HeaderProp::Authority(t, c) => {
                    authorities.push(self.cited(file, t.node.clone(), c, t.span))
                }
                ast::HeaderProp::Partner(t, c) => {
                    partners.push(self.cited(file, t.node.clone(), c, t.span))
                }
                ast::HeaderProp::Version(t, c) => {
                    if props.once("version", span, &mut self.diags) {
                        version = Some(self.cited(file, t.node.clone(), c, t.span));
                    }
                }
                ast::HeaderProp::Effective(t, c) => {
                    if props.once("effective", span, &mut self.diags)
                        && let Some(d) = self.date(t)
                    {
                        effective = Some(self.cited(file, d, c, t.span));
                    }
                }
                ast::HeaderProp::Review(t, c) => {
                    if props.once("review", span, &mut self.diags)
                        && let Some(d) = self.date(t)
                    {
                        review = Some(self.cited(file, d, c, t.span));
                    }
                }
                ast::HeaderProp::Source(t, c) => {
                    if props.once("source", span, &mut self.diags) {
                        source = Some(self.cited(file, t.node.clone(), c, t.span));
                    }
                }
                ast::HeaderProp::Policy(pk, c) => {
                    if h.kind == HeaderKind::Library {
                        self.diags.push(
                            Diagnostic::new(
                                Code::WrongKind,
                                span,
                                "a library has no decision policy; only a protocol decides",
                            )
                            .with_help(
                                "remove `policy` from the library, or make the file a `protocol`",
                            ),
                        );
                    } else if props.once("policy", span, &mut self.diags) {
                        policy = Some(self.cited(file, pk.node, c, pk.span));
                    }
                }
                ast::HeaderProp::Otherwise(l, c) => {
                    if props.once("otherwise", span, &mut self.diags)
                        && let Some(level) = self.level_ref(file, l)
                    {
                        otherwise = Some(self.cited(file, level, c, l.span));
                    }
                }
                ast::HeaderProp::Levels(_) => {
                    // Checked with the levels, in `checks.rs`.
                    props.once("levels", span, &mut self.diags);
                }
                ast::HeaderProp::AskFirst(qs) => {
                    if props.once("ask first", span, &mut self.diags) {
                        for q in qs {
                            if let Some(ModelRef::Question(id)) =
                                self.resolve(file, q, scope::QUESTION)
                            {
                                if ask_first.contains(&id) {
                                    self.diags.push(
                                        Diagnostic::new(
                                            Code::DuplicateProperty,
                                            q.span,
                                            format!("`{}` is listed twice in `ask first`", q.node),
                                        )
                                        .with_help("list each question once"),
                                    );
                                } else {
                                    ask_first.push(id);
                                }
                            }
                        }
                    }
                }
                ast::HeaderProp::Note(n) => notes.push(n.node.clone()),
            }
        }
        let is_protocol = h.kind == HeaderKind::Protocol;
        let need = |what: &str, example: &str| {
            missing(
                what,
                if is_protocol { "protocol" } else { "library" },
                &h.name,
                example,
            )
        };
        if title.is_none() {
            self.diags
                .push(need("title", "title \"Pan-Dorset Protocol\""));
        }
        if is_protocol {
            if authorities.is_empty() {
                self.diags
                    .push(need("authority", "authority \"Dorset Council\""));
            }
            if source.is_none() {
                self.diags
                    .push(need("source", "source \"Pan-Dorset Protocol, 2019\""));
            }
            if policy.is_none() {
                self.diags.push(
                    need("policy", "policy most-serious").with_help(
                        "say how overlapping rules are decided: `policy most-serious`, `policy first-match` or `policy no-overlap`",
                    ),
                );
            }
        }
        let policy = policy.unwrap_or(Cited {
            value: Policy::MostSerious,
            cites: Vec::new(),
            span: h.name.span,
        });
        Some(Header {
            kind: h.kind,
            id: h.name.node.clone(),
            span: h.name.span,
            // A missing title is an error already.
            title: title.unwrap_or(Cited {
                value: h.name.node.clone(),
                cites: Vec::new(),
                span: h.name.span,
            }),
            authorities,
            partners,
            version,
            effective,
            review,
            source,
            policy,
            otherwise,
            // Completed once every question is known (`run`).
            ask_order: ask_first,
            notes,
        })
    }

    fn cited<T>(&self, file: FileId, value: T, cite: &[Spanned<String>], span: Span) -> Cited<T> {
        Cited {
            value,
            cites: self.cites(file, cite),
            span,
        }
    }

    fn date(&mut self, t: &Spanned<String>) -> Option<Date> {
        let parts: Vec<&str> = t.node.split('-').collect();
        let num = |s: &str| s.parse::<u16>().ok();
        let year = num(parts[0])?;
        let month = parts.get(1).and_then(|m| num(m));
        let day = parts.get(2).and_then(|d| num(d));
        let bad = |why: String| {
            Diagnostic::new(Code::InvalidDate, t.span, format!("`{}` is not a date: {why}", t.node))
                .with_help("write dates as year-month-day, e.g. `2022-04-30`, or `2017-01` when the day is not given")
        };
        if let Some(m) = month
            && !(1..=12).contains(&m)
        {
            self.diags.push(bad(format!("there is no month {m}")));
            return None;
        }
        if let (Some(m), Some(d)) = (month, day) {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let days = match m {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            if d == 0 || d > days {
                self.diags
                    .push(bad(format!("month {m} of {year} has {days} days")));
                return None;
            }
        }
        Some(Date {
            year,
            month: month.map(|m| m as u8),
            day: day.map(|d| d as u8),
        })
    }

    // ------------------------------------------------------------ definitions

    fn setting(&mut self, file: FileId, s: &ast::Setting) -> Setting {
        let mut props = Props::new();
        let mut no_route = None;
        for p in &s.props {
            match &p.node {
                ast::SettingProp::NoRoute(t) => {
                    if props.once("no route", p.span, &mut self.diags) {
                        no_route = Some(t.node.clone());
                    }
                }
                ast::SettingProp::Common(c) => props.common(c),
            }
        }
        Setting {
            meta: self.meta(file, &s.name, props),
            title: s.title.node.clone(),
            no_route,
        }
    }

    pub(crate) fn choices(&mut self, file: FileId, options: &[ast::OptionDef]) -> Vec<Choice> {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut out = Vec::new();
        for o in options {
            if let Some(&first) = seen.get(o.name.node.as_str()) {
                self.diags.push(
                    Diagnostic::new(
                        Code::DuplicateDefinition,
                        o.name.span,
                        format!("the option `{}` is listed twice", o.name.node),
                    )
                    .with_label("second")
                    .with_secondary(first, "first")
                    .with_help("each option appears once"),
                );
                continue;
            }
            seen.insert(&o.name.node, o.name.span);
            let mut props = Props::new();
            o.props.iter().for_each(|c| props.common(c));
            out.push(Choice {
                id: o.name.node.clone(),
                title: o.title.as_ref().map(|t| t.node.clone()),
                span: o.name.span,
                cites: self.cites(file, &props.cites),
                notes: props.notes,
            });
        }
        out
    }

    fn question_shell(&mut self, file: FileId, q: &ast::Question) -> Question {
        let mut props = Props::new();
        let mut kind = None;
        for p in &q.props {
            match &p.node {
                ast::QuestionProp::Answer(k) => {
                    if !props.once("answer", p.span, &mut self.diags) {
                        continue;
                    }
                    kind = Some(match k {
                        ast::AnswerKind::YesNo => QuestionKind::YesNo,
                        ast::AnswerKind::OneOf(o) => QuestionKind::OneOf(self.choices(file, o)),
                        ast::AnswerKind::Scale(o) => QuestionKind::Scale(self.choices(file, o)),
                        ast::AnswerKind::Count { from } => {
                            let from = match from {
                                None => 0,
                                Some(f) => match f.node.parse::<i64>() {
                                    Ok(n) if n >= 0 => n,
                                    _ => {
                                        self.diags.push(
                                            Diagnostic::new(
                                                Code::InvalidNumber,
                                                f.span,
                                                format!("a count cannot start at `{}`", f.node),
                                            )
                                            .with_help("counts start at 0 or a positive whole number, e.g. `count from 1`"),
                                        );
                                        0
                                    }
                                },
                            };
                            QuestionKind::Count { from }
                        }
                        ast::AnswerKind::Amount { unit } => QuestionKind::Amount {
                            unit: unit.as_ref().map(|u| u.node.clone()),
                        },
                    });
                }
                ast::QuestionProp::AskedWhen(_) => {
                    props.once("asked when", p.span, &mut self.diags);
                }
                ast::QuestionProp::Common(c) => props.common(c),
            }
        }
        if kind.is_none() {
            self.diags
                .push(missing("answer", "question", &q.name, "answer yes or no"));
        }
        if q.name.node == SETTING_QUESTION {
            self.diags.push(
                Diagnostic::new(
                    Code::ReservedName,
                    q.name.span,
                    "a question cannot be called `setting`",
                )
                .with_label("reserved")
                .with_help(
                    "`setting` is where the child lives: declare each setting (`setting foster \"Foster carers\"`) and test it as `setting == foster`; give the question another name",
                ),
            );
        }
        Question {
            meta: self.meta(file, &q.name, props),
            text: q.text.node.clone(),
            // A question without answers is an error already; any kind keeps
            // the other checks going.
            kind: kind.unwrap_or(QuestionKind::YesNo),
            asked_when: None,
            is_setting: false,
        }
    }

    fn asked_when(&mut self, file: FileId, q: &ast::Question) -> Option<Cond> {
        let e = q.props.iter().find_map(|p| match &p.node {
            ast::QuestionProp::AskedWhen(e) => Some(e),
            _ => None,
        })?;
        self.cond(file, e)
    }

    fn level(&mut self, file: FileId, l: &ast::Level) -> Level {
        let mut props = Props::new();
        let mut police = Vec::new();
        let mut meaning = None;
        let mut examples = Vec::new();
        for p in &l.props {
            match &p.node {
                ast::LevelProp::Police(r) => police.push(r),
                ast::LevelProp::Meaning(m) => {
                    if props.once("meaning", p.span, &mut self.diags) {
                        meaning = Some(m.node.clone());
                    }
                }
                ast::LevelProp::Example(e) => examples.push(self.example(file, e)),
                ast::LevelProp::Common(c) => props.common(c),
            }
        }
        if police.is_empty() {
            self.diags.push(
                missing("police", "level", &l.name, "police none").with_help(
                    "say how the police are involved at this level: `police none`, `police judgement by <who>`, `police advice`, `police report`, `police prompt`, `police emergency`, or `police unstated` where the document does not say",
                ),
            );
        }
        let police = self.police(file, &police, "level", &l.name, true);
        Level {
            meta: self.meta(file, &l.name, props),
            title: l.title.node.clone(),
            police,
            meaning,
            examples,
        }
    }

    /// The police responses of a level, rule or procedure: old names are
    /// refused with their replacement, a judgement names who judges, and
    /// each setting has at most one response. `complete`: every setting of
    /// the model must have one (levels).
    fn police(
        &mut self,
        file: FileId,
        given: &[&ast::Police],
        what: &str,
        owner: &ast::Name,
        complete: bool,
    ) -> Vec<Police> {
        let mut out: Vec<Police> = Vec::new();
        let mut default_at: Option<Span> = None;
        let mut setting_at: HashMap<SettingId, Span> = HashMap::new();
        for p in given {
            let span = p.response.span;
            let response = match p.response.node {
                ast::PoliceResponse::None => Response::None,
                ast::PoliceResponse::Judgement => Response::Judgement,
                ast::PoliceResponse::Advice => Response::Advice,
                ast::PoliceResponse::Report => Response::Report,
                ast::PoliceResponse::Prompt => Response::Prompt,
                ast::PoliceResponse::Emergency => Response::Emergency,
                ast::PoliceResponse::Unstated => Response::Unstated,
                old @ (ast::PoliceResponse::OldLater | ast::PoliceResponse::OldImmediate) => {
                    let (was, now) = if old == ast::PoliceResponse::OldLater {
                        (
                            "later",
                            "write `report` (not urgent) or `prompt` (promptly, not an emergency), whichever the document means",
                        )
                    } else {
                        (
                            "immediate",
                            "write `emergency` (call the police now), or `prompt` if the document means promptly but not as an emergency",
                        )
                    };
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidPolice,
                            span,
                            format!("`police {was}` is no longer a police response"),
                        )
                        .with_label("old name")
                        .with_help(now),
                    );
                    continue;
                }
            };
            let by = match (&p.by, response) {
                (Some(who), Response::Judgement) => self
                    .actor_refs(file, std::slice::from_ref(who))
                    .first()
                    .copied(),
                (None, Response::Judgement) => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidPolice,
                            span,
                            "a judgement whether to involve the police must say who judges",
                        )
                        .with_label("who judges?")
                        .with_help("name the actor, e.g. `police judgement by registered-manager`"),
                    );
                    None
                }
                (Some(who), _) => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidPolice,
                            who.span,
                            format!(
                                "only a judgement names who judges; `police {}` does not",
                                response.keyword()
                            ),
                        )
                        .with_label("not a judgement")
                        .with_help(format!(
                            "remove `by {}`, or write `police judgement by {}`",
                            who.node, who.node
                        )),
                    );
                    None
                }
                (None, _) => None,
            };
            let mut settings = Vec::new();
            for n in &p.settings {
                if let Some(ModelRef::Setting(sid)) = self.resolve(file, n, scope::SETTING) {
                    if let Some(&first) = setting_at.get(&sid) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::InvalidPolice,
                                n.span,
                                format!(
                                    "{what} `{}` has two police responses for `{}`",
                                    owner.node, n.node
                                ),
                            )
                            .with_label("second")
                            .with_secondary(first, "first")
                            .with_help("give each setting one response"),
                        );
                        continue;
                    }
                    setting_at.insert(sid, n.span);
                    settings.push(sid);
                }
            }
            if p.settings.is_empty() {
                if let Some(first) = default_at {
                    self.diags.push(
                        Diagnostic::new(
                            Code::InvalidPolice,
                            span,
                            format!("{what} `{}` has two police responses without `for`; only one can hold for every setting not named", owner.node),
                        )
                        .with_label("second")
                        .with_secondary(first, "first")
                        .with_help("keep one, or say which settings each is for: `police report for foster`"),
                    );
                    continue;
                }
                default_at = Some(span);
            } else if settings.is_empty() {
                continue;
            }
            out.push(Police {
                response,
                by,
                settings,
                span,
            });
        }
        if complete && default_at.is_none() && !out.is_empty() {
            let uncovered: Vec<String> = self
                .cl
                .defs
                .iter()
                .filter(|d| matches!(scope::item(self.ws, **d), Item::Setting(_)))
                .filter_map(|d| match self.cl.ids.get(d) {
                    Some(ModelRef::Setting(sid)) if !setting_at.contains_key(sid) => {
                        Some(format!("`{}`", scope::name_of(self.ws, *d).node))
                    }
                    _ => None,
                })
                .collect();
            if !uncovered.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::InvalidPolice,
                        owner.span,
                        format!(
                            "{what} `{}` gives no police response for {}",
                            owner.node,
                            uncovered.join(", ")
                        ),
                    )
                    .with_label("response missing for some settings")
                    .with_help(
                        "add a response without `for`, which holds for every setting not named",
                    ),
                );
            }
        }
        out
    }

    fn example(&mut self, file: FileId, e: &ast::Example) -> Example {
        let mut props = Props::new();
        let mut given = None;
        for p in &e.props {
            match &p.node {
                ast::ExampleProp::Given(g) => {
                    if props.once("given", p.span, &mut self.diags) {
                        given = self.given(file, g);
                    }
                }
                ast::ExampleProp::Common(c) => props.common(c),
            }
        }
        Example {
            title: e.title.node.clone(),
            span: e.title.span,
            given,
            cites: self.cites(file, &props.cites),
            notes: props.notes,
        }
    }

    fn rule(&mut self, file: FileId, r: &ast::RuleDef) -> Option<Rule> {
        let mut props = Props::new();
        let mut when = None;
        let mut level = None;
        let mut strength = Strength::Must;
        let mut police = Vec::new();
        let mut saw_when = false;
        let mut saw_then = false;
        for p in &r.props {
            match &p.node {
                ast::RuleProp::When(e) => {
                    if props.once("when", p.span, &mut self.diags) {
                        saw_when = true;
                        when = self.cond(file, e);
                    }
                }
                ast::RuleProp::Then(l) => {
                    if props.once("then", p.span, &mut self.diags) {
                        saw_then = true;
                        level = self.level_ref(file, l);
                    }
                }
                ast::RuleProp::Strength(s) => {
                    if props.once("strength", p.span, &mut self.diags) {
                        strength = s.node;
                    }
                }
                ast::RuleProp::Police(x) => police.push(x),
                ast::RuleProp::Common(c) => props.common(c),
            }
        }
        let police = self.police(file, &police, "rule", &r.name, false);
        if !saw_when {
            self.diags
                .push(missing("when", "rule", &r.name, "when injury >= serious"));
        }
        if !saw_then {
            self.diags
                .push(missing("then", "rule", &r.name, "then level-3"));
        }
        Some(Rule {
            meta: self.meta(file, &r.name, props),
            title: r.title.as_ref().map(|t| t.node.clone()),
            when: when?,
            level: level?,
            strength,
            police,
        })
    }

    fn procedure(&mut self, file: FileId, x: &ast::Procedure) -> Option<Procedure> {
        let mut props = Props::new();
        let mut when = None;
        let mut saw_when = false;
        let mut police = Vec::new();
        for p in &x.props {
            match &p.node {
                ast::ProcedureProp::When(e) => {
                    if props.once("when", p.span, &mut self.diags) {
                        saw_when = true;
                        when = self.cond(file, e);
                    }
                }
                ast::ProcedureProp::Police(x) => police.push(x),
                ast::ProcedureProp::Common(c) => props.common(c),
            }
        }
        if !saw_when {
            self.diags
                .push(missing("when", "procedure", &x.name, "when drugs-found"));
        }
        let police = self.police(file, &police, "procedure", &x.name, false);
        Some(Procedure {
            meta: self.meta(file, &x.name, props),
            title: x.title.node.clone(),
            when: when?,
            police,
        })
    }

    fn factors(&mut self, file: FileId, f: &ast::Factors) -> Factors {
        let mut props = Props::new();
        let mut applies_when = None;
        let mut includes = Vec::new();
        let mut items = Vec::new();
        for p in &f.props {
            match &p.node {
                ast::FactorsProp::AppliesWhen(e) => {
                    if props.once("applies when", p.span, &mut self.diags) {
                        applies_when = self.cond(file, e);
                    }
                }
                ast::FactorsProp::Include(ns) => {
                    for n in ns {
                        if let Some(ModelRef::Factors(id)) = self.resolve(file, n, scope::FACTORS) {
                            includes.push(id);
                        }
                    }
                }
                ast::FactorsProp::Factor(t) => items.push(t.node.clone()),
                ast::FactorsProp::Common(c) => props.common(c),
            }
        }
        Factors {
            meta: self.meta(file, &f.name, props),
            title: f.title.node.clone(),
            applies_when,
            includes,
            items,
        }
    }

    fn checklist(&mut self, file: FileId, c: &ast::Checklist) -> Checklist {
        let mut props = Props::new();
        let mut follows = None;
        let mut items: Vec<ChecklistItem> = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for p in &c.props {
            match &p.node {
                ast::ChecklistProp::Follows(n) => {
                    if props.once("follows", p.span, &mut self.diags)
                        && let Some(ModelRef::Checklist(id)) =
                            self.resolve(file, n, scope::CHECKLIST)
                    {
                        follows = Some(id);
                    }
                }
                ast::ChecklistProp::Item(it) => {
                    if let Some(&first) = seen.get(it.name.node.as_str()) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::DuplicateDefinition,
                                it.name.span,
                                format!(
                                    "checklist `{}` has two items named `{}`",
                                    c.name.node, it.name.node
                                ),
                            )
                            .with_label("second")
                            .with_secondary(first, "first")
                            .with_help("name each item differently"),
                        );
                        continue;
                    }
                    seen.insert(&it.name.node, it.name.span);
                    let mut ip = Props::new();
                    let mut detail = None;
                    let mut by = Vec::new();
                    for q in &it.props {
                        match &q.node {
                            ast::ItemProp::Detail(d) => {
                                if ip.once("detail", q.span, &mut self.diags) {
                                    detail = Some(d.node.clone());
                                }
                            }
                            ast::ItemProp::By(n) => by.extend(self.actor_refs(file, n)),
                            ast::ItemProp::Common(cm) => ip.common(cm),
                        }
                    }
                    items.push(ChecklistItem {
                        meta: self.meta(file, &it.name, ip),
                        text: it.text.node.clone(),
                        detail,
                        by,
                    });
                }
                ast::ChecklistProp::Common(cm) => props.common(cm),
            }
        }
        Checklist {
            meta: self.meta(file, &c.name, props),
            title: c.title.node.clone(),
            follows,
            items,
        }
    }

    fn actor(&mut self, file: FileId, a: &ast::Actor) -> Actor {
        let mut props = Props::new();
        for p in &a.props {
            props.common(&p.node);
        }
        Actor {
            meta: self.meta(file, &a.name, props),
            title: a.title.node.clone(),
        }
    }

    fn contact(&mut self, file: FileId, c: &ast::Contact) -> Contact {
        let mut props = Props::new();
        let (mut phone, mut web, mut email) = (None, None, None);
        for p in &c.props {
            match &p.node {
                ast::ContactProp::Phone(t) => {
                    if props.once("phone", p.span, &mut self.diags) {
                        phone = Some(t.node.clone());
                    }
                }
                ast::ContactProp::Web(t) => {
                    if props.once("web", p.span, &mut self.diags) {
                        web = Some(t.node.clone());
                    }
                }
                ast::ContactProp::Email(t) => {
                    if props.once("email", p.span, &mut self.diags) {
                        email = Some(t.node.clone());
                    }
                }
                ast::ContactProp::Common(cm) => props.common(cm),
            }
        }
        Contact {
            meta: self.meta(file, &c.name, props),
            title: c.title.node.clone(),
            phone,
            web,
            email,
        }
    }

    fn accepts(&mut self) -> Vec<Accept> {
        let Some(ast) = self.ws.ast(self.root) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for it in &ast.items {
            let Item::Accept(a) = it else { continue };
            let when = match &a.when {
                Some(e) => match self.cond(self.root, e) {
                    Some(c) => Some(c),
                    None => continue,
                },
                None => None,
            };
            out.push(Accept {
                code: a.code.node.clone(),
                code_span: a.code.span,
                span: a.span,
                when,
                names: a.names.iter().map(|n| (n.node.clone(), n.span)).collect(),
                example: a.example.as_ref().map(|e| e.node.clone()),
                reason: a.reason.node.clone(),
                cites: self.cites(self.root, &a.cite),
            });
        }
        out
    }

    /// Which root-file definitions are named directly (own or imported by
    /// name): these are the ones an unused-question warning is about.
    /// A library among the files of the run, in the folder of `file` or
    /// below it, that defines `name` as one of `want`: the path `file`
    /// would import it by. Only files the workspace has read are searched;
    /// the library never looks at the disk.
    fn defined_below(&self, file: FileId, name: &ast::Name, want: &[Kind]) -> Option<String> {
        let dir = self.ws.sources.get(file).path.parent()?.to_path_buf();
        let mut found: Vec<String> = self
            .ws
            .sources
            .iter()
            .filter(|(id, _)| *id != file)
            .filter(|(id, _)| {
                scope::header(self.ws, *id).is_some_and(|h| h.kind == HeaderKind::Library)
            })
            .filter(|(id, _)| {
                self.ws.ast(*id).is_some_and(|ast| {
                    ast.items.iter().any(|it| {
                        it.name().is_some_and(|n| n.node == name.node)
                            && Kind::of(it).is_some_and(|k| want.contains(&k))
                    })
                })
            })
            .filter_map(|(_, f)| {
                let rel = f.path.strip_prefix(&dir).ok()?;
                Some(crate::source::display_path(rel))
            })
            .collect();
        found.sort();
        found.into_iter().next()
    }

    pub(crate) fn is_root_own(&self, d: DefRef) -> bool {
        d.file == self.root || self.cl.named_imports.contains(&d)
    }
}

/// Whether two names are the same but for their digits (`level-1`,
/// `level-4`).
fn differ_in_digits_only(a: &str, b: &str) -> bool {
    let letters = |s: &str| {
        s.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    a != b && letters(a) == letters(b)
}
