//! The checked model: names bound to typed ids, conditions typed, every
//! element with its citations and notes.
//!
//! Ids are the names written in the source, which are unique within a model,
//! so they are stable across compilations. Elements refer to each other by
//! index (`QuestionId`, `LevelId`, ...) into the model's vectors; the order of
//! each vector is the order of the source (imported files first), which is
//! meaningful for levels (least serious first) and rules (first-match policy).

use std::collections::BTreeMap;
use std::fmt;

use crate::source::Span;
pub use crate::syntax::ast::{CmpOp, HeaderKind, Policy, Strength, Unit};

macro_rules! ids {
    ($($name:ident),*) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

ids!(
    DocId,
    SettingId,
    QuestionId,
    LevelId,
    RuleId,
    RouteId,
    NodeId,
    FactorsId,
    ChecklistId,
    ActorId,
    ContactId,
    ProcedureId,
    FragmentId
);

/// A protocol (or a library checked on its own).
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub header: Header,
    /// The source documents cited: this file's first, then imported ones.
    pub documents: Vec<Document>,
    pub settings: Vec<Setting>,
    pub questions: Vec<Question>,
    /// Least serious first.
    pub levels: Vec<Level>,
    pub rules: Vec<Rule>,
    /// Procedures that run alongside the level, in source order.
    pub procedures: Vec<Procedure>,
    pub routes: Vec<Route>,
    /// Route fragments: steps written once and used in several routes (each
    /// route holds its own copy of the nodes, marked with the fragment).
    pub fragments: Vec<Fragment>,
    pub factors: Vec<Factors>,
    pub checklists: Vec<Checklist>,
    pub actors: Vec<Actor>,
    pub contacts: Vec<Contact>,
    pub accepts: Vec<Accept>,
    /// Each condition, and each example's answers, as the protocol writes
    /// it (on one line), keyed by the span from its first test to its last:
    /// lowering normalises (`sev != major` on a scale becomes the options
    /// below `major`), and a rule pack shows the author's words. See
    /// [`Model::written`].
    pub written: BTreeMap<Span, String>,
}

/// Id, citations and notes: what every element carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub id: String,
    /// Where the element's name is written.
    pub span: Span,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

/// A section of a source document, e.g. paragraph 6.20 of the Dorset protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Citation {
    pub document: DocId,
    pub section: String,
}

/// A document cited by a protocol or a library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The id of the protocol or library that cites it.
    pub id: String,
    pub title: String,
    pub source: Option<String>,
}

/// A value from the header with the section it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cited<T> {
    pub value: T,
    pub cites: Vec<Citation>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub kind: HeaderKind,
    pub id: String,
    pub span: Span,
    pub title: Cited<String>,
    pub authorities: Vec<Cited<String>>,
    pub partners: Vec<Cited<String>>,
    pub version: Option<Cited<String>>,
    pub effective: Option<Cited<Date>>,
    pub review: Option<Cited<Date>>,
    pub source: Option<Cited<String>>,
    /// Libraries have no policy; they are given `MostSerious` and it is unused.
    pub policy: Cited<Policy>,
    pub otherwise: Option<Cited<LevelId>>,
    /// The order in which questions are asked: the `ask first` questions,
    /// then the others in model order. Every question once.
    pub ask_order: Vec<QuestionId>,
    pub notes: Vec<String>,
}

/// A date as precise as the document gives it: a year, a month or a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub meta: Meta,
    pub title: String,
    /// Why the protocol gives no route for this setting, when it says so.
    pub no_route: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub meta: Meta,
    /// The question a member of staff is asked.
    pub text: String,
    pub kind: QuestionKind,
    /// The question applies only when this holds; otherwise it is not asked
    /// and has no answer.
    pub asked_when: Option<Cond>,
    /// The setting, which conditions may test as `setting == foster`: a
    /// one-of question whose options are the settings, always answered
    /// (by the setting the incident is decided for), never asked. A model
    /// with settings has it as its first question.
    pub is_setting: bool,
}

/// The id conditions use for the setting.
pub const SETTING_QUESTION: &str = "setting";

#[derive(Clone, Debug, PartialEq)]
pub enum QuestionKind {
    YesNo,
    OneOf(Vec<Choice>),
    /// Options from least to most.
    Scale(Vec<Choice>),
    /// A whole number of at least `from`.
    Count {
        from: i64,
    },
    /// A non-negative amount, held in hundredths (pence).
    Amount {
        unit: Option<String>,
    },
}

impl QuestionKind {
    pub fn describe(&self) -> &'static str {
        match self {
            QuestionKind::YesNo => "a yes/no question",
            QuestionKind::OneOf(_) => "a one-of question",
            QuestionKind::Scale(_) => "a scale question",
            QuestionKind::Count { .. } => "a count",
            QuestionKind::Amount { .. } => "an amount",
        }
    }

    pub fn choices(&self) -> &[Choice] {
        match self {
            QuestionKind::OneOf(c) | QuestionKind::Scale(c) => c,
            _ => &[],
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::YesNo => "yes-no",
            QuestionKind::OneOf(_) => "one-of",
            QuestionKind::Scale(_) => "scale",
            QuestionKind::Count { .. } => "count",
            QuestionKind::Amount { .. } => "amount",
        }
    }
}

/// An option of a one-of or scale question, or an answer of a route decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub id: String,
    pub title: Option<String>,
    pub span: Span,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

impl Choice {
    pub fn label(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    pub meta: Meta,
    pub title: String,
    /// The level's police response: one without settings for every setting
    /// not named, and one per setting named (`police report for foster`).
    pub police: Vec<Police>,
    pub meaning: Option<String>,
    pub examples: Vec<Example>,
}

/// An example listed under a level. With answers, it is a test: the rules
/// must put every incident it describes at this level.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub title: String,
    pub span: Span,
    /// The answers that make up the example, each about one question.
    /// Questions not mentioned take their baseline answer (see
    /// [`crate::model::baseline`]).
    pub given: Option<Vec<Atom>>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub meta: Meta,
    pub title: Option<String>,
    pub when: Cond,
    pub level: LevelId,
    /// `must` and `should` rules decide the level; a `may` rule only
    /// suggests it (see [`Rule::decides`]).
    pub strength: Strength,
    /// The rule's own police response within its level, when it has one
    /// (Dorset Level 3: 999 by 6.20, online or 101 by 6.22).
    pub police: Vec<Police>,
}

impl Rule {
    /// Does this rule decide the level it names? A `may` rule ("may warrant
    /// police involvement") suggests it instead.
    pub fn decides(&self) -> bool {
        self.strength != Strength::May
    }
}

/// A police response as the document states it, for every setting or for
/// the settings named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Police {
    pub response: Response,
    /// Who judges, for [`Response::Judgement`].
    pub by: Option<ActorId>,
    /// Empty: every setting not named by another response of the element.
    pub settings: Vec<SettingId>,
    pub span: Span,
}

/// How the police are involved, in the documents' own terms. Ordered from
/// no police involvement to an emergency call, except `Unstated`, which
/// is not comparable with the others (see [`Response::rank`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// The incident is handled without the police.
    None,
    /// Someone named judges whether to involve the police (the home's own
    /// threshold; the manager decides; "either way").
    Judgement,
    /// Ask the police for advice and assistance, without making a report.
    Advice,
    /// Report to the police, not urgently (online, 101, the next day).
    Report,
    /// Tell the police promptly, not as an emergency (the control room).
    Prompt,
    /// Call the police now (999).
    Emergency,
    /// The document does not say.
    Unstated,
}

impl Response {
    pub const ALL: [Response; 7] = [
        Response::None,
        Response::Judgement,
        Response::Advice,
        Response::Report,
        Response::Prompt,
        Response::Emergency,
        Response::Unstated,
    ];

    /// The word written in protocols and rule packs.
    pub fn keyword(self) -> &'static str {
        match self {
            Response::None => "none",
            Response::Judgement => "judgement",
            Response::Advice => "advice",
            Response::Report => "report",
            Response::Prompt => "prompt",
            Response::Emergency => "emergency",
            Response::Unstated => "unstated",
        }
    }

    /// Position from least to most police involvement; `None` for
    /// `Unstated`, which cannot be compared.
    pub fn rank(self) -> Option<u8> {
        match self {
            Response::None => Some(0),
            Response::Judgement => Some(1),
            Response::Advice => Some(2),
            Response::Report => Some(3),
            Response::Prompt => Some(4),
            Response::Emergency => Some(5),
            Response::Unstated => None,
        }
    }

    /// The response in words a care manager reads without a glossary.
    pub fn words(self) -> &'static str {
        match self {
            Response::None => "no police involvement",
            Response::Judgement => "a judgement whether to involve the police",
            Response::Advice => "ask the police for advice, without making a report",
            Response::Report => "report to the police, not urgently",
            Response::Prompt => "tell the police promptly, not as an emergency",
            Response::Emergency => "call the police now: an emergency",
            Response::Unstated => "the document does not say",
        }
    }
}

/// A procedure that runs alongside the level when its condition holds
/// (drugs found, a missing child, a disclosure of past abuse), with its
/// own route. It is not ranked against the levels.
#[derive(Clone, Debug, PartialEq)]
pub struct Procedure {
    pub meta: Meta,
    pub title: String,
    pub when: Cond,
    pub police: Vec<Police>,
}

/// What a route start is for: incidents at a level, a procedure, or
/// incidents a particular rule decides (which enter where that rule's start
/// says, rather than at their level's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Level(LevelId),
    Procedure(ProcedureId),
    Rule(RuleId),
}

/// A condition over the answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Atom(Atom),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// A test of one question's answer. False when the question does not apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Atom {
    pub question: QuestionId,
    pub test: Test,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// A yes/no question answered yes (`true`) or no (`false`).
    Bool(bool),
    /// A one-of or scale question answered with one of these option indices
    /// (sorted, no repeats).
    Options(Vec<u32>),
    /// A count or amount compared with a constant (amounts in hundredths).
    Compare(CmpOp, i64),
    /// A count or amount that is (or, negated, is not) one of these values.
    Within { values: Vec<i64>, negated: bool },
}

/// An answer to one question, as given by an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Answer {
    Bool(bool),
    /// Option index.
    Option(u32),
    /// A count, or an amount in hundredths.
    Number(i64),
}

impl Test {
    /// Does this answer pass the test?
    pub fn holds(&self, answer: Answer) -> bool {
        match (self, answer) {
            (Test::Bool(b), Answer::Bool(a)) => *b == a,
            (Test::Options(set), Answer::Option(o)) => set.binary_search(&o).is_ok(),
            (Test::Compare(op, c), Answer::Number(n)) => match op {
                CmpOp::Eq => n == *c,
                CmpOp::Ne => n != *c,
                CmpOp::Lt => n < *c,
                CmpOp::Le => n <= *c,
                CmpOp::Gt => n > *c,
                CmpOp::Ge => n >= *c,
            },
            (Test::Within { values, negated }, Answer::Number(n)) => {
                values.contains(&n) != *negated
            }
            _ => false,
        }
    }
}

impl Cond {
    /// Evaluate with `answer(q)` giving the answer to `q`, or `None` when `q`
    /// does not apply (every test of it is then false).
    pub fn eval(&self, answer: &impl Fn(QuestionId) -> Option<Answer>) -> bool {
        match self {
            Cond::Atom(a) => answer(a.question).is_some_and(|v| a.test.holds(v)),
            Cond::Not(c) => !c.eval(answer),
            Cond::And(cs) => cs.iter().all(|c| c.eval(answer)),
            Cond::Or(cs) => cs.iter().any(|c| c.eval(answer)),
        }
    }

    /// Every atom, in source order.
    pub fn atoms(&self) -> Vec<&Atom> {
        let mut out = Vec::new();
        self.collect_atoms(&mut out);
        out
    }

    fn collect_atoms<'a>(&'a self, out: &mut Vec<&'a Atom>) {
        match self {
            Cond::Atom(a) => out.push(a),
            Cond::Not(c) => c.collect_atoms(out),
            Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| c.collect_atoms(out)),
        }
    }

    /// The source from its first test to its last, which identifies a
    /// condition as written: two conditions written apart never share it.
    pub fn tests_span(&self) -> Option<Span> {
        tests_span(self.atoms())
    }
}

/// The span covering some tests, all written in one condition.
pub fn tests_span<'a>(atoms: impl IntoIterator<Item = &'a Atom>) -> Option<Span> {
    atoms.into_iter().map(|a| a.span).reduce(Span::to)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub meta: Meta,
    pub title: String,
    pub settings: Vec<SettingId>,
    pub starts: Vec<Start>,
    pub nodes: Vec<Node>,
}

/// Where a route begins for incidents at one level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub entry: Entry,
    pub node: NodeId,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub meta: Meta,
    pub text: String,
    pub kind: NodeKind,
    /// The fragment the node comes from, when the route uses one.
    pub fragment: Option<FragmentId>,
}

/// Steps, decisions and outcomes written once and used by several routes.
#[derive(Clone, Debug, PartialEq)]
pub struct Fragment {
    pub meta: Meta,
    pub title: String,
}

impl Node {
    /// Every condition on the node: when it is taken, when its actions and
    /// timings hold, what settles a decision and the answers it fixes.
    pub fn conditions(&self) -> Vec<&Cond> {
        let mut out = Vec::new();
        match &self.kind {
            NodeKind::Step(s) => {
                out.extend(s.only_when.as_ref());
                out.extend(s.actions.iter().filter_map(|a| a.when.as_ref()));
                out.extend(s.timing.iter().filter_map(|t| t.when.as_ref()));
            }
            NodeKind::Decision(d) => {
                if let Some(DecideOn::Condition(c)) = &d.on {
                    out.push(c);
                }
                out.extend(d.always.iter().map(|(_, c)| c));
                out.extend(d.timing.iter().filter_map(|t| t.when.as_ref()));
            }
            NodeKind::Outcome(_) => {}
        }
        out
    }

    /// The actors of a step, decision or outcome.
    pub fn by(&self) -> &[ByActor] {
        match &self.kind {
            NodeKind::Step(s) => &s.by,
            NodeKind::Decision(d) => &d.by,
            NodeKind::Outcome(o) => &o.by,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Step(Step),
    Decision(Decision),
    Outcome(Outcome),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The step is taken only when this holds (`only when`); otherwise the
    /// route goes straight on to `next`.
    pub only_when: Option<Cond>,
    pub by: Vec<ByActor>,
    /// Whom the step contacts, consults, informs or reports to.
    pub actions: Vec<Action>,
    pub timing: Vec<CondTiming>,
    pub complete: Vec<ChecklistId>,
    pub next: Option<NodeId>,
}

/// An outcome: where a route ends, and who owns it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Outcome {
    pub by: Vec<ByActor>,
}

/// Who acts: in every setting (`settings` empty) or in those named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByActor {
    pub actor: ActorId,
    pub settings: Vec<SettingId>,
}

/// Consult, inform and report are different acts and read differently;
/// `Contact` is what a document says without saying which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Contact,
    Consult,
    Inform,
    Report,
}

impl ActionKind {
    /// The keyword written in protocols and rule packs.
    pub fn keyword(self) -> &'static str {
        match self {
            ActionKind::Contact => "contact",
            ActionKind::Consult => "consult",
            ActionKind::Inform => "inform",
            ActionKind::Report => "report to",
        }
    }
}

/// `consult police-liaison if in doubt`, `contact a else b when harm`.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub kind: ActionKind,
    /// Whom, each with the ones to try if it is not available, in order.
    pub targets: Vec<Vec<ContactRef>>,
    /// The action is taken only when this holds.
    pub when: Option<Cond>,
    /// "In cases of doubt": a judgement for staff, not an act every time.
    pub in_doubt: bool,
    pub span: Span,
}

/// A timing, with the condition it holds under or the document's qualifier
/// ("wherever possible and safe to do so").
#[derive(Clone, Debug, PartialEq)]
pub struct CondTiming {
    pub timing: Timing,
    pub when: Option<Cond>,
    pub qualifier: Option<String>,
}

/// Whom a step contacts: a contact point (999, an online form) or a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactRef {
    Contact(ContactId),
    Actor(ActorId),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub by: Vec<ByActor>,
    pub weigh: Vec<FactorsId>,
    /// The answers the decision can take; `yes` and `no` for a yes/no one,
    /// a question's options for one `on` that question.
    pub answers: Vec<Choice>,
    pub branches: Vec<Branch>,
    pub timing: Vec<CondTiming>,
    /// What settles it from the incident's answers (`on ...`); staff decide
    /// when there is nothing, or the answers do not settle it.
    pub on: Option<DecideOn>,
    /// Answers the document fixes (`always yes when ...`): index into
    /// `answers`, and when.
    pub always: Vec<(u32, Cond)>,
}

/// A route decision settled by the incident's answers.
#[derive(Clone, Debug, PartialEq)]
pub enum DecideOn {
    /// The answer to a question: branches are named by its answers.
    Question(QuestionId),
    /// A condition: `yes` when it holds, `no` when it does not.
    Condition(Cond),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    /// Index into the decision's answers.
    pub answer: u32,
    pub target: NodeId,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timing {
    Within(u32, Unit),
    After(u32, Unit),
    Every {
        from: u32,
        to: Option<u32>,
        unit: Unit,
    },
    Immediately,
    Text(String),
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn unit(n: u32, u: Unit) -> String {
            let s = match u {
                Unit::Hours => "hour",
                Unit::Days => "day",
                Unit::Weeks => "week",
                Unit::Months => "month",
            };
            if n == 1 {
                s.to_string()
            } else {
                format!("{s}s")
            }
        }
        match self {
            Timing::Within(n, u) => write!(f, "within {n} {}", unit(*n, *u)),
            Timing::After(n, u) => write!(f, "after {n} {}", unit(*n, *u)),
            Timing::Every {
                from,
                to: None,
                unit: u,
            } => write!(f, "every {from} {}", unit(*from, *u)),
            Timing::Every {
                from,
                to: Some(to),
                unit: u,
            } => write!(f, "every {from} to {to} {}", unit(*to, *u)),
            Timing::Immediately => f.write_str("immediately"),
            Timing::Text(t) => f.write_str(t),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    pub meta: Meta,
    pub title: String,
    /// The list is to be weighed for incidents where this holds (Wiltshire
    /// attaches a list to each incident type).
    pub applies_when: Option<Cond>,
    pub includes: Vec<FactorsId>,
    pub items: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Checklist {
    pub meta: Meta,
    pub title: String,
    pub follows: Option<ChecklistId>,
    pub items: Vec<ChecklistItem>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChecklistItem {
    pub meta: Meta,
    pub text: String,
    pub detail: Option<String>,
    pub by: Vec<ActorId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub meta: Meta,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub meta: Meta,
    pub title: String,
    pub phone: Option<String>,
    pub web: Option<String>,
    pub email: Option<String>,
}

/// A finding the protocol accepts on purpose, with the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Accept {
    /// The finding's code, e.g. `gap` or `never-decides`.
    pub code: String,
    pub code_span: Span,
    pub span: Span,
    pub when: Option<Cond>,
    pub names: Vec<(String, Span)>,
    pub example: Option<String>,
    pub reason: String,
    pub cites: Vec<Citation>,
}

impl Model {
    pub fn is_protocol(&self) -> bool {
        self.header.kind == HeaderKind::Protocol
    }

    pub fn question(&self, id: QuestionId) -> &Question {
        &self.questions[id.index()]
    }

    /// A condition as the protocol writes it, on one line; `None` for one
    /// made in memory rather than lowered from a protocol's text.
    pub fn written(&self, c: &Cond) -> Option<&str> {
        self.written.get(&c.tests_span()?).map(String::as_str)
    }

    /// An example's answers as the protocol writes them (see
    /// [`Model::written`]).
    pub fn written_answers(&self, given: &[Atom]) -> Option<&str> {
        self.written.get(&tests_span(given)?).map(String::as_str)
    }

    pub fn level(&self, id: LevelId) -> &Level {
        &self.levels[id.index()]
    }

    pub fn rule(&self, id: RuleId) -> &Rule {
        &self.rules[id.index()]
    }

    pub fn question_id(&self, name: &str) -> Option<QuestionId> {
        self.questions
            .iter()
            .position(|q| q.meta.id == name)
            .map(|i| QuestionId(i as u32))
    }

    pub fn level_id(&self, name: &str) -> Option<LevelId> {
        self.levels
            .iter()
            .position(|l| l.meta.id == name)
            .map(|i| LevelId(i as u32))
    }

    pub fn setting_id(&self, name: &str) -> Option<SettingId> {
        self.settings
            .iter()
            .position(|s| s.meta.id == name)
            .map(|i| SettingId(i as u32))
    }

    /// Every atom of the model: in "asked when" conditions, rules, factor
    /// lists, accepted findings and examples.
    pub fn for_each_atom(&self, mut f: impl FnMut(&Atom)) {
        let route_conds: Vec<&Cond> = self
            .routes
            .iter()
            .flat_map(|r| &r.nodes)
            .flat_map(|n| n.conditions())
            .collect();
        let conds = self
            .questions
            .iter()
            .filter_map(|q| q.asked_when.as_ref())
            .chain(route_conds)
            .chain(self.rules.iter().map(|r| &r.when))
            .chain(self.procedures.iter().map(|p| &p.when))
            .chain(self.factors.iter().filter_map(|x| x.applies_when.as_ref()))
            .chain(self.accepts.iter().filter_map(|a| a.when.as_ref()));
        for c in conds {
            c.atoms().into_iter().for_each(&mut f);
        }
        for l in &self.levels {
            for e in &l.examples {
                e.given.iter().flatten().for_each(&mut f);
            }
        }
    }

    /// The route a setting follows for a level or procedure, if there is one.
    pub fn route_for(&self, entry: Entry, setting: SettingId) -> Option<(RouteId, NodeId)> {
        self.routes.iter().enumerate().find_map(|(i, r)| {
            if !r.settings.contains(&setting) {
                return None;
            }
            r.starts
                .iter()
                .find(|s| s.entry == entry)
                .map(|s| (RouteId(i as u32), s.node))
        })
    }

    /// The id of a level or procedure.
    pub fn entry_id(&self, e: Entry) -> &str {
        match e {
            Entry::Level(l) => &self.level(l).meta.id,
            Entry::Procedure(p) => &self.procedures[p.index()].meta.id,
            Entry::Rule(r) => &self.rule(r).meta.id,
        }
    }

    /// Every question in the order staff are asked them: the setting (always
    /// known), then the header's asking order (`ask first`, then the rest).
    pub fn asking_order(&self) -> impl Iterator<Item = QuestionId> + '_ {
        self.setting_question()
            .into_iter()
            .chain(self.header.ask_order.iter().copied())
    }

    /// The setting question, when the model has settings.
    pub fn setting_question(&self) -> Option<QuestionId> {
        self.questions
            .first()
            .filter(|q| q.is_setting)
            .map(|_| QuestionId(0))
    }

    /// The police response of a list for a setting: the one naming the
    /// setting, else the one naming none.
    pub fn police_for(police: &[Police], setting: Option<SettingId>) -> Option<&Police> {
        setting
            .and_then(|s| police.iter().find(|p| p.settings.contains(&s)))
            .or_else(|| police.iter().find(|p| p.settings.is_empty()))
    }

    /// The response of a rule for a setting: its own, else its level's.
    pub fn rule_police(&self, rule: RuleId, setting: Option<SettingId>) -> Option<&Police> {
        let r = self.rule(rule);
        Model::police_for(&r.police, setting)
            .or_else(|| Model::police_for(&self.level(r.level).police, setting))
    }

    /// The sections a list of citations names, e.g. `6.20; 6.21`, with
    /// sections of other documents (imported libraries) as `id: section`.
    /// Sections may contain commas, so citations are joined with `; `.
    pub fn cite_text(&self, cites: &[Citation]) -> String {
        cites
            .iter()
            .map(|c| {
                if c.document.0 == 0 {
                    c.section.clone()
                } else {
                    format!("{}: {}", self.documents[c.document.index()].id, c.section)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}
