//! The syntax tree: what the file says, as written, with a span on every node.
//!
//! Nothing here is resolved or checked beyond the grammar: properties are kept
//! in the order written (so that lowering can report a repeated or missing one
//! at the right place), names are plain strings, numbers are their text.

use crate::source::{FileId, Span, Spanned};

/// A name as written (a definition's name or a reference to one).
pub type Name = Spanned<String>;
/// A quoted string, with escapes decoded and line breaks folded into spaces.
pub type Text = Spanned<String>;

#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Header(Header),
    Setting(Setting),
    Question(Question),
    Level(Level),
    Rule(RuleDef),
    Route(Route),
    Factors(Factors),
    Checklist(Checklist),
    Actor(Actor),
    Contact(Contact),
    Accept(Accept),
    Procedure(Procedure),
    Fragment(Fragment),
}

/// A property of a definition, with the span of the whole property.
pub type Prop<T> = Spanned<T>;

/// `cite "6.20", "6.21"`
pub type Cite = Vec<Text>;

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// `None` imports everything the file defines.
    pub names: Option<Vec<Name>>,
    pub path: Text,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderKind {
    Protocol,
    Library,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    pub kind: HeaderKind,
    pub name: Name,
    pub props: Vec<Prop<HeaderProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HeaderProp {
    Title(Text, Cite),
    Authority(Text, Cite),
    Partner(Text, Cite),
    Version(Text, Cite),
    Effective(Text, Cite),
    Review(Text, Cite),
    Source(Text, Cite),
    Policy(Spanned<Policy>, Cite),
    Otherwise(Name, Cite),
    /// `levels a, b, c`: the order of the levels, least serious first.
    Levels(Vec<Name>),
    /// `ask first q, r`: questions asked before every other one.
    AskFirst(Vec<Name>),
    Note(Text),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    MostSerious,
    FirstMatch,
    NoOverlap,
}

/// `cite` and `note`, which every definition accepts.
#[derive(Clone, Debug, PartialEq)]
pub enum Common {
    Cite(Cite),
    Note(Text),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<SettingProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SettingProp {
    NoRoute(Text),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    pub name: Name,
    pub text: Text,
    pub props: Vec<Prop<QuestionProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QuestionProp {
    Answer(AnswerKind),
    AskedWhen(Expr),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub enum AnswerKind {
    YesNo,
    OneOf(Vec<OptionDef>),
    Scale(Vec<OptionDef>),
    Count { from: Option<Spanned<String>> },
    Amount { unit: Option<Text> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct OptionDef {
    pub name: Name,
    pub title: Option<Text>,
    /// Citations and notes of this option (`{ cite "2.7.4" }`).
    pub props: Vec<Common>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Level {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<LevelProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LevelProp {
    Police(Police),
    Meaning(Text),
    Example(Example),
    Common(Common),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PoliceResponse {
    None,
    Judgement,
    Advice,
    Report,
    Prompt,
    Emergency,
    Unstated,
    /// `later`, the earlier name of `report`: refused by lowering with that hint.
    OldLater,
    /// `immediate`, the earlier name of `emergency`: likewise.
    OldImmediate,
}

/// `police report`, `police judgement by registered-manager`,
/// `police emergency for foster`.
#[derive(Clone, Debug, PartialEq)]
pub struct Police {
    pub response: Spanned<PoliceResponse>,
    pub by: Option<Name>,
    pub settings: Vec<Name>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub title: Text,
    pub props: Vec<Prop<ExampleProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExampleProp {
    Given(Expr),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleDef {
    pub name: Name,
    pub title: Option<Text>,
    pub props: Vec<Prop<RuleProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleProp {
    When(Expr),
    Then(Name),
    Police(Police),
    Strength(Spanned<Strength>),
    Common(Common),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    Must,
    Should,
    May,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<RouteProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RouteProp {
    For(Vec<Name>),
    /// `use <fragment>`: the fragment's nodes are part of the route.
    Use(Name),
    Start {
        levels: Vec<Name>,
        node: Name,
    },
    Step(Step),
    Decision(Decision),
    Outcome(Outcome),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub name: Name,
    pub text: Text,
    pub props: Vec<Prop<StepProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StepProp {
    /// `only when <condition>`: the step is taken only when this holds.
    OnlyWhen(Expr),
    By(By),
    Action(Action),
    Timing(CondTiming),
    Complete(Vec<Name>),
    Then(Name),
    Common(Common),
}

/// `by staff, manager for residential`: who acts, in the settings named
/// (every setting when none is).
#[derive(Clone, Debug, PartialEq)]
pub struct By {
    pub actors: Vec<Name>,
    pub settings: Vec<Name>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    Contact,
    Consult,
    Inform,
    Report,
}

/// `consult police-liaison if in doubt`, `contact a else b when harm`.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub kind: Spanned<ActionKind>,
    /// Each target with its fallbacks, in order (`a else b`).
    pub targets: Vec<Vec<Name>>,
    pub when: Option<Expr>,
    pub in_doubt: bool,
}

/// A timing with the condition it holds under (`when ...`) or the
/// document's qualifier (`if "wherever possible and safe"`).
#[derive(Clone, Debug, PartialEq)]
pub struct CondTiming {
    pub timing: Timing,
    pub when: Option<Expr>,
    pub qualifier: Option<Text>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Timing {
    Within(Duration),
    After(Duration),
    Every {
        from: Spanned<String>,
        to: Option<Spanned<String>>,
        unit: Unit,
    },
    Immediately,
    Text(Text),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Duration {
    pub amount: Spanned<String>,
    pub unit: Unit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Hours,
    Days,
    Weeks,
    Months,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub name: Name,
    pub text: Text,
    pub props: Vec<Prop<DecisionProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DecisionProp {
    By(By),
    Weigh(Vec<Name>),
    Answers(Answers),
    /// `on <condition>`: the incident's answers decide.
    On(Expr),
    /// `always yes when <condition>`: an answer the document fixes.
    Always {
        answer: Name,
        when: Expr,
    },
    Branch {
        answer: Name,
        target: Name,
    },
    Timing(CondTiming),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Answers {
    YesNo,
    OneOf(Vec<OptionDef>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub name: Name,
    pub text: Text,
    pub props: Vec<Prop<OutcomeProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OutcomeProp {
    By(By),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<FactorsProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FactorsProp {
    AppliesWhen(Expr),
    Include(Vec<Name>),
    Factor(Text),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Checklist {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<ChecklistProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChecklistProp {
    Follows(Name),
    Item(ChecklistItem),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChecklistItem {
    pub name: Name,
    pub text: Text,
    pub props: Vec<Prop<ItemProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ItemProp {
    Detail(Text),
    By(Vec<Name>),
    Common(Common),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<Common>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<ContactProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ContactProp {
    Phone(Text),
    Web(Text),
    Email(Text),
    Common(Common),
}

/// `accept <finding> [when <condition>] [names | "example"] because "..."`
#[derive(Clone, Debug, PartialEq)]
pub struct Accept {
    pub code: Name,
    pub when: Option<Expr>,
    pub names: Vec<Name>,
    pub example: Option<Text>,
    pub reason: Text,
    pub cite: Cite,
    pub span: Span,
}

/// A condition.
/// Steps, decisions and outcomes written once and used in several routes.
#[derive(Clone, Debug, PartialEq)]
pub struct Fragment {
    pub name: Name,
    pub title: Text,
    /// Only steps, decisions, outcomes, citations and notes.
    pub props: Vec<Prop<RouteProp>>,
    pub span: Span,
}

/// A procedure that runs alongside the level when its condition holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Procedure {
    pub name: Name,
    pub title: Text,
    pub props: Vec<Prop<ProcedureProp>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProcedureProp {
    When(Expr),
    Police(Police),
    Common(Common),
}

pub type Expr = Spanned<ExprKind>;

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A yes/no question on its own: true when answered yes.
    Question(Name),
    Compare {
        question: Name,
        op: Spanned<CmpOp>,
        value: Value,
    },
    In {
        question: Name,
        negated: bool,
        values: Vec<Value>,
    },
    Not(Box<Expr>),
    /// Two or more conditions that must all hold. `a and b and c` is one
    /// node with three parts, so long chains do not make deep trees.
    And(Vec<Expr>),
    /// Two or more conditions of which one must hold.
    Or(Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

pub type Value = Spanned<ValueKind>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// The number as written, so lowering can check it against the question.
    Number(String),
    Yes,
    No,
    Name(String),
}

impl Item {
    /// The name a definition introduces, if it introduces one.
    pub fn name(&self) -> Option<&Name> {
        Some(match self {
            Item::Setting(x) => &x.name,
            Item::Question(x) => &x.name,
            Item::Level(x) => &x.name,
            Item::Rule(x) => &x.name,
            Item::Route(x) => &x.name,
            Item::Factors(x) => &x.name,
            Item::Checklist(x) => &x.name,
            Item::Actor(x) => &x.name,
            Item::Contact(x) => &x.name,
            Item::Procedure(x) => &x.name,
            Item::Fragment(x) => &x.name,
            Item::Import(_) | Item::Header(_) | Item::Accept(_) => return None,
        })
    }
}
