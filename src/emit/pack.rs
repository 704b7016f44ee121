//! The rule pack, format `carepath-rulepack/3`: everything a downstream app
//! needs to ask a protocol's questions and reach the same decision as
//! Carepath, without reimplementing the language.
//!
//! These types are the contract: the JSON Schema in
//! `schema/carepath-rulepack-3.schema.json` is generated from them. Every
//! list is in the protocol's order (levels least serious first, rules in
//! source order), every element has the stable id written in the source,
//! and the same source gives the same bytes.
//!
//! How an app decides, given an answers object (see [`super::jsonlogic`]):
//! evaluate each rule's `when`. The rules that hold and whose `effect` is
//! `decides` are the candidates (a `suggests` rule, the protocol's `may`,
//! only suggests its level). `policy.kind` says which level they give:
//! `most-serious` the highest `rank` among them, `first-match` the level of
//! the first in order, `no-overlap` the one level they all give. When no
//! candidate holds, the level is `policy.otherwise`, and when that is
//! `null` the incident has none. [`DecisionPolicy`] says which rules then
//! decide, how a tie under `most-serious` is reported, and what becomes of
//! a conflict that a protocol accepts under `no-overlap`.
//!
//! # Integrity
//!
//! `carepath build` seals every pack with `integrity`: the SHA-256 of the
//! pack's own canonical JSON. An app checks it before trusting the pack,
//! so that a pack changed after it was built (by hand, by a merge, by a
//! broken copy) is noticed rather than followed:
//!
//! 1. Parse the file as JSON and take out the top-level `integrity` member.
//! 2. Write what is left in the canonical form `sorted-compact-json`: object
//!    keys sorted by Unicode code point, recursively; no whitespace between
//!    tokens; strings with only `"`, `\` and the control characters
//!    escaped (`\b`, `\f`, `\n`, `\r`, `\t`, else `\u00XX` in lowercase hex),
//!    everything else as UTF-8; numbers as they are in the pack (whole
//!    numbers without a decimal point, amounts such as `12.5`). Python's
//!    `json.dumps(pack, sort_keys=True, separators=(",", ":"),
//!    ensure_ascii=False)` writes exactly this for a rule pack.
//! 3. Hash those UTF-8 bytes with SHA-256 and compare the lowercase hex
//!    with `integrity.digest`.
//!
//! Indentation, key order and escapes such as `\u00e9` for `é` do not
//! change the digest; changing any value, adding or removing anything does.
//! The digest shows that a pack is unchanged, not who made it: anyone can
//! compute one. Carepath's own reader refuses a pack without a matching
//! digest unless told to use a modified pack (`carepath decide
//! --allow-modified`), and even then checks everything the compiler
//! guarantees (types, routes, cycles), so an edited pack cannot mislead.
//!
//! # Depth
//!
//! A pack is nested at most [`MAX_DEPTH`] JSON levels deep. Readers may
//! refuse deeper input without parsing it; Carepath's does.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The value of [`RulePack::format`].
pub const FORMAT: &str = "carepath-rulepack/3";

/// The value of [`Integrity::algorithm`].
pub const DIGEST_ALGORITHM: &str = "sha256";

/// The value of [`Integrity::canonical`]: the canonical JSON the digest is
/// taken of (see the module documentation).
pub const CANONICAL_FORM: &str = "sorted-compact-json";

/// The deepest JSON nesting (objects and arrays, the pack itself being
/// level 1) that a rule pack written by `carepath build` can have, derived
/// from the language's limit on condition nesting,
/// [`crate::syntax::MAX_NESTING`] (`N`: open parentheses plus the `not`s
/// that apply to them or to the test at hand):
///
/// - 7 levels hold the deepest conditions, those of a route step's actions
///   and timings and of a decision's fixed answers: the pack, `routes`, a
///   route, `nodes`, a node, `actions` (or `timing`, `always`) and its
///   element. A rule's condition sits in 3 (the pack, `rules`, a rule);
/// - every `and`, `or` and `!` is an object holding an array: 2 levels;
/// - `and` binds tighter than `or` and chains of one are flattened, so
///   outside all parentheses, and inside each pair, there is at most an
///   `or` holding an `and`: 4 levels, that is 4 + 4 N for the groups;
///   a `not` costs a level of `N` and gives only 2, so parentheses are
///   the deepest use of it;
/// - the deepest test is one guarded against "not asked" (see
///   [`super::jsonlogic`]): a comparison,
///   `{"and": [{"!==": ..}, {"<": [{"var": ..}, 3]}]}`, or a list,
///   `{"and": [{"!==": ..}, {"in": [{"var": ..}, [..]]}]}`: 5 levels.
///   A negated list, `{"and": [.., {"!": [{"in": [.., [..]]}]}]}`, is 7,
///   but its `not` is a level of `N` itself, which costs a group (4) to
///   make room for;
/// - an example's answers sit in 5 levels but are a flat `and` of tests:
///   at most 14.
///
/// So 7 + 4 + 4 N + 5 = 4 N + 16; `tests/tamper.rs` builds a protocol that
/// reaches it exactly, with its deepest condition on a step's action.
pub const MAX_DEPTH: usize = 4 * crate::syntax::MAX_NESTING + 16;

/// A compiled protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// Always `carepath-rulepack/3`.
    #[schemars(extend("const" = "carepath-rulepack/3"))]
    pub format: String,
    pub compiler: Compiler,
    /// The source files the pack was compiled from.
    pub source: Source,
    /// The SHA-256 of the rest of the pack, to tell whether it was changed
    /// after `carepath build` wrote it: take out this member, write the
    /// rest as canonical JSON (keys sorted, no whitespace; see the Rust
    /// module documentation of `carepath::emit::pack` for every detail),
    /// hash it and compare. `carepath build` always writes it; Carepath
    /// refuses a pack without it, or whose digest differs, unless told to
    /// use a modified pack.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub integrity: Option<Integrity>,
    pub protocol: Protocol,
    /// The documents cited; a citation names one by id.
    pub documents: Vec<Document>,
    pub policy: DecisionPolicy,
    pub settings: Vec<Setting>,
    /// In the order staff are asked them.
    pub questions: Vec<Question>,
    /// Least serious first.
    pub levels: Vec<Level>,
    /// In source order (the order `first-match` uses).
    pub rules: Vec<Rule>,
    pub procedures: Vec<Procedure>,
    pub routes: Vec<Route>,
    pub factors: Vec<Factors>,
    pub checklists: Vec<Checklist>,
    pub actors: Vec<Actor>,
    pub contacts: Vec<Contact>,
    /// Findings of the analysis that the protocol accepts on purpose.
    pub accepted_findings: Vec<AcceptedFinding>,
    /// The decision compiled into a diagram per setting: the level and
    /// police response reached by following one branch per question, with
    /// no JsonLogic. Absent only when the diagram would be too large to
    /// ship (the rules then remain the way to decide).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decision: Option<CompiledDecision>,
}

/// The decision as a diagram: an app that cannot or would rather not
/// evaluate JsonLogic walks it instead, and asks the question it stops at.
///
/// To decide an incident for a setting: start where `starts` says for that
/// setting. At a node, take the incident's answer to `question` and follow
/// the branch that lists it (`answers`, or for counts and amounts the
/// branch with `at_least <= answer < below`; `not_asked` for a question
/// that was not asked); go on until the branch gives an `outcome`. Each
/// question is met at most once, in the order the pack's `questions` list
/// them.
///
/// Every node a walk meets is a question that applies to the incident given
/// the answers so far (the protocol asks it) and whose answer can still
/// change the level or police response: so with answers gathered this way,
/// the node the walk stops at is the next question to ask. A question the
/// walk does not meet does not matter for this incident. An answer with no
/// branch is one the protocol rules out there (checked by the reader, for
/// answers that came from anywhere else).
///
/// The outcomes are the level and the police response only. Procedures,
/// suggestions, accepted findings and the routes are read from the rest of
/// the pack, with the rules' JsonLogic. Carepath rebuilds this diagram from
/// the rules when it reads a pack and refuses one whose diagram differs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompiledDecision {
    /// One per setting, in the order of `settings`.
    pub starts: Vec<DecisionStart>,
    pub nodes: Vec<DecisionNode>,
    pub outcomes: Vec<DecisionOutcome>,
}

/// Where the walk starts for a setting: a node, or straight an outcome
/// when the setting's level does not depend on any answer. Exactly one of
/// `node` and `outcome`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionStart {
    /// The setting's id.
    pub setting: String,
    /// An index into `nodes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub node: Option<u32>,
    /// An index into `outcomes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outcome: Option<u32>,
}

/// A question and where each of its answers leads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionNode {
    /// The id of a question in `questions`.
    pub question: String,
    /// In the order of the question's answers (numbers increasing, "not
    /// asked" last); answers no branch lists cannot occur here.
    pub branches: Vec<DecisionBranch>,
}

/// The answers that lead one way, and where: exactly one of `node` and
/// `outcome`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBranch {
    /// For yes/no questions `true` and `false`; for one-of and scale
    /// questions, option ids.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    #[schemars(with = "Vec<BoolOrId>")]
    pub answers: Vec<Value>,
    /// For counts and amounts (pounds): the least answer of the branch.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub at_least: Option<serde_json::Number>,
    /// For counts and amounts: answers of the branch are below this; absent
    /// when there is no upper bound.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub below: Option<serde_json::Number>,
    /// The branch for an incident where the question is not asked.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub not_asked: bool,
    /// An index into `nodes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub node: Option<u32>,
    /// An index into `outcomes`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub outcome: Option<u32>,
}

/// A yes/no answer or an option id.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum BoolOrId {
    Bool(bool),
    Id(String),
}

/// What a walk ends with: a level and its police response for the
/// incident (the same as deciding with the rules: the deciding rules' own
/// response, else the level's, the most police of them), or no level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionOutcome {
    /// The level's id; absent when the protocol gives no level.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub police: Option<OutcomePolice>,
    /// Why there is no level: `gap` (no rule applies and there is no
    /// `otherwise`) or `conflict` (rules of different levels apply under
    /// `no-overlap`); both only where the protocol accepts them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub no_level: Option<NoLevel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomePolice {
    pub response: Response,
    /// The actor who judges, for `judgement`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub by: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NoLevel {
    Gap,
    Conflict,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compiler {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// SHA-256 over the files below, each as its path, a zero byte, its
    /// length in bytes as a decimal, a zero byte and its text; lowercase hex.
    pub sha256: String,
    /// The protocol's file first, then the files it imports.
    pub files: Vec<SourceFile>,
}

/// A digest of the pack's canonical content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Integrity {
    /// Always `sha256`.
    #[schemars(extend("const" = "sha256"))]
    pub algorithm: String,
    /// Always `sorted-compact-json`: the pack without `integrity`, object
    /// keys sorted by Unicode code point at every level, no whitespace,
    /// strings escaping only `"`, `\` and control characters, numbers as
    /// written (Python: `json.dumps(pack, sort_keys=True,
    /// separators=(",", ":"), ensure_ascii=False)`).
    #[schemars(extend("const" = "sorted-compact-json"))]
    pub canonical: String,
    /// SHA-256 of the canonical JSON's UTF-8 bytes, lowercase hex.
    #[schemars(extend("pattern" = "^[0-9a-f]{64}$"))]
    pub digest: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Relative to the protocol's folder, with `/` separators.
    pub path: String,
    /// SHA-256 of the file's text, lowercase hex.
    pub sha256: String,
}

/// A section of a source document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// The id of a [`Document`].
    pub document: String,
    pub section: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
}

/// A header value with the sections it was read from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CitedText {
    pub value: String,
    pub cites: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    pub id: String,
    pub title: CitedText,
    pub authorities: Vec<CitedText>,
    pub partners: Vec<CitedText>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<CitedText>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as precise as the document.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub effective: Option<CitedText>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub review: Option<CitedText>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<CitedText>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyKind {
    /// The most serious level of the rules that hold.
    MostSerious,
    /// The level of the first rule that holds.
    FirstMatch,
    /// Rules that hold together give the same level.
    NoOverlap,
}

/// How the rules that hold give an incident its level. The candidates are
/// the rules whose `when` holds and whose `effect` is `decides`.
///
/// - `most-serious`: the level is the highest `rank` among the candidates,
///   and every candidate of that level decides, not only one: a tie is
///   not an error, and the deciding rules are all of them, in source order
///   (the order of `rules`). The police response, for the incident's
///   setting, is each deciding rule's own (`police`), else its level's;
///   of those, the most police (see `Response`), and `unstated` only when
///   none of them is stated. Where the most police are equal in rank but
///   differ, which is judgements by different people, Carepath names the
///   one the pack names first (its levels' responses in order, then its
///   deciding rules' in order), as the compiled `decision` does.
/// - `first-match`: the level of the first candidate in order, which alone
///   decides.
/// - `no-overlap`: the one level the candidates all give; every one of
///   them decides, as above. Candidates of different levels holding
///   together are a conflict, an error of the protocol for which `carepath
///   build` writes no pack, unless the protocol accepts it (`accept
///   conflict r1, r2 because "..."`). Then the pack is built and lists the
///   conflict in `accepted_findings` (code `carepath::conflict`, the two
///   rules in `rules`, and the reason), and those rules may hold together
///   however their levels differ. Such an incident has no level:
///   `carepath decide` answers that the protocol gives it none and prints
///   the reasons of the conflicts the protocol accepts (all of them; it
///   does not pick out the pair that holds). An app must likewise give no
///   level, never pick one of the two.
///
/// When no candidate holds, the level is `otherwise`; when that is `null`,
/// the incident has no level (a gap, which the analysis warns of and a
/// protocol may accept, code `carepath::gap`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("required" = ["kind", "otherwise", "cites"]))]
pub struct DecisionPolicy {
    pub kind: PolicyKind,
    /// The id of the level of an incident no deciding rule covers, or
    /// `null` when the protocol gives none (such an incident has no level).
    /// Always written, so that an app tells "no `otherwise`" from a member
    /// lost on the way; a reader also takes a pack without it as `null`
    /// (serde reads a missing `Option` as `None`).
    pub otherwise: Option<String>,
    pub cites: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub id: String,
    pub title: String,
    /// Why the protocol gives no route for this setting, when it says so.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub no_route: Option<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionKind {
    /// The setting the incident is decided for: answered with a setting id
    /// under the data key `setting`, always given (never asked). Its options
    /// are the settings. Listed first when the protocol has settings.
    Setting,
    /// Answered `true` or `false`.
    YesNo,
    /// Answered with one option id.
    OneOf,
    /// Answered with one option id; options are ordered, least first.
    Scale,
    /// Answered with a whole number of at least `minimum`.
    Count,
    /// Answered with a number of pounds, at least 0 and with at most two
    /// decimals (`12`, `12.5`, `12.50`); `unit` is always `pounds`.
    Amount,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub cites: Vec<Citation>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    /// What staff are asked.
    pub text: String,
    pub kind: QuestionKind,
    /// For one-of and scale questions.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub options: Vec<Choice>,
    /// For counts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub minimum: Option<i64>,
    /// For amounts, always `pounds`: the answer is a number of pounds with
    /// at most two decimals, whatever symbol the protocol shows its authors
    /// (`amount "£"`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub unit: Option<String>,
    /// JsonLogic: the question is asked only when this holds; otherwise it
    /// has no answer and every test of it is false.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub asked_when: Option<Value>,
    /// `asked_when` as written in the protocol.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub asked_when_text: Option<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

/// How the police are involved, in the documents' own terms. From least to
/// most police: `none` < `judgement` < `advice` < `report` < `prompt` <
/// `emergency`; `unstated` (the document does not say) compares with
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Response {
    /// No police involvement: handled in the home.
    None,
    /// Someone (`by`) judges whether to involve the police.
    Judgement,
    /// Ask the police for advice and assistance, without making a report.
    Advice,
    /// Report to the police, not urgently (online, 101).
    Report,
    /// Tell the police promptly, not as an emergency (the control room).
    Prompt,
    /// Call the police now (999).
    Emergency,
    /// The document does not say; never to be shown as "police involved".
    Unstated,
}

impl From<Response> for crate::model::Response {
    fn from(r: Response) -> Self {
        match r {
            Response::None => Self::None,
            Response::Judgement => Self::Judgement,
            Response::Advice => Self::Advice,
            Response::Report => Self::Report,
            Response::Prompt => Self::Prompt,
            Response::Emergency => Self::Emergency,
            Response::Unstated => Self::Unstated,
        }
    }
}

/// A police response for every setting (`settings` empty) or for the
/// settings listed. Of an element's responses, the one listing the
/// incident's setting applies, else the one listing none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Police {
    pub response: Response,
    /// The actor who judges, for `judgement`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub by: Option<String>,
    pub settings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub id: String,
    pub title: String,
    /// 0 for the least serious level, counting up.
    pub rank: u32,
    /// The level's police response; a setting without one of its own takes
    /// the one with no settings. Every setting has one.
    pub police: Vec<Police>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub meaning: Option<String>,
    pub examples: Vec<Example>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub title: String,
    /// JsonLogic: the answers the example gives, when it gives them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub given: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub given_text: Option<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    Must,
    Should,
    May,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// JsonLogic over the answers.
    #[schemars(with = "JsonLogic")]
    pub when: Value,
    /// `when` as the protocol writes it, for people: the author's own
    /// words (`damage != major`, not the options that leaves), on one
    /// line, without comments. Every `*_text` beside a condition is the
    /// same. Apps evaluate `when`, never this text.
    pub when_text: String,
    /// The id of the level the rule gives.
    pub level: String,
    /// The word the document uses: `must` and `should` rules decide the
    /// level, a `may` rule only suggests it (`effect`).
    pub strength: Strength,
    pub effect: Effect,
    /// The rule's own police response within its level, which replaces the
    /// level's for incidents this rule decides (for the settings listed).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub police: Vec<Police>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

/// What a rule does when its condition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// It takes part in deciding the level under the policy.
    Decides,
    /// It does not decide; the level is shown as a suggestion to consider
    /// when it differs from the level decided.
    Suggests,
}

/// A procedure that runs alongside the level when its condition holds, with
/// its own route; it is not ranked against the levels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub id: String,
    pub title: String,
    /// JsonLogic over the answers.
    #[schemars(with = "JsonLogic")]
    pub when: Value,
    /// `when` as written in the protocol.
    pub when_text: String,
    /// The procedure's own police response, if the document gives one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub police: Vec<Police>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub id: String,
    pub title: String,
    /// The settings that follow this route.
    pub settings: Vec<String>,
    /// Where the route begins for each level and procedure it covers.
    pub starts: Vec<Start>,
    /// Steps, decisions and outcomes, in source order.
    pub nodes: Vec<RouteNode>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
/// Exactly one of `level`, `procedure` and `rule`. A rule's start is where
/// incidents that rule decides enter, instead of their level's start.
pub struct Start {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub procedure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rule: Option<String>,
    pub node: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// Something staff do, then `next`.
    Step,
    /// A choice staff make, with a branch per answer.
    Decision,
    /// Where the route ends.
    Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteNode {
    pub id: String,
    pub kind: NodeKind,
    pub text: String,
    /// A step taken only when this holds (JsonLogic over the answers);
    /// otherwise the route goes straight on to `next`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub only_when: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub only_when_text: Option<String>,
    /// Who does the step, takes the decision or owns the outcome.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub by: Vec<ByActor>,
    /// Whom a step contacts, consults, informs or reports to.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub actions: Vec<Action>,
    /// When.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub timing: Vec<Timing>,
    /// Checklist ids to complete at this step.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub complete: Vec<String>,
    /// Factor list ids to weigh in a decision.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub weigh: Vec<String>,
    /// A decision's answers.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub answers: Vec<Choice>,
    /// What settles a decision from the incident's answers, if anything;
    /// staff decide otherwise, and where the answers do not settle it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on: Option<DecideOn>,
    /// Answers the document fixes: the first whose condition holds is the
    /// decision's answer.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub always: Vec<Always>,
    /// A decision's branches: answer id to node id.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub branches: Vec<Branch>,
    /// A step's next node.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<String>,
    /// The route fragment the node comes from: the same steps, written once,
    /// are part of every route that uses the fragment.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fragment: Option<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

/// An actor, in every setting (`settings` empty) or in those listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ByActor {
    pub actor: String,
    pub settings: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Contact, as the document says it without saying which of the others.
    Contact,
    /// Ask for advice.
    Consult,
    /// Tell, for their information.
    Inform,
    /// Make a report.
    Report,
}

/// Whom a step contacts, consults, informs or reports to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub kind: ActionKind,
    /// Contact or actor ids: each entry is one target with the ones to try,
    /// in order, if it is not available.
    pub targets: Vec<Vec<String>>,
    /// Taken only when this holds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub when: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub when_text: Option<String>,
    /// "In cases of doubt": a judgement for staff, not done every time.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub in_doubt: bool,
}

/// A timing in words, with the condition it holds under or the document's
/// qualifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// `within 24 hours`, `immediately`.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub when: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub when_text: Option<String>,
    /// "wherever possible and safe to do so".
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub qualifier: Option<String>,
}

/// What settles a decision: a question's answer (the branches are named by
/// its answers), or a condition (`yes` when it holds, `no` when not).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideOn {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub question: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub when: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub when_text: Option<String>,
}

/// An answer the document fixes, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Always {
    pub answer: String,
    #[schemars(with = "JsonLogic")]
    pub when: Value,
    pub when_text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub answer: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Factors {
    pub id: String,
    pub title: String,
    /// JsonLogic: the incidents the list is to be weighed for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub applies_when: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub applies_when_text: Option<String>,
    /// Ids of factor lists this one includes.
    pub includes: Vec<String>,
    pub items: Vec<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    pub id: String,
    pub title: String,
    /// The id of a checklist this one follows (e.g. the CPS 10 point plan).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub follows: Option<String>,
    pub items: Vec<ChecklistItem>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub id: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    /// Actor ids: who completes the item.
    pub by: Vec<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub id: String,
    pub title: String,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub web: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    pub cites: Vec<Citation>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedFinding {
    /// The finding's code, e.g. `carepath::gap`.
    pub code: String,
    pub message: String,
    /// Why the protocol accepts it.
    pub reason: String,
    /// Ids of the rules (or route nodes) involved.
    pub rules: Vec<String>,
    /// What else it is about: a level, an example, a route and its step.
    pub subject: Vec<String>,
    /// The incidents the acceptance covers, when it names them (`accept gap
    /// when ...`): `decide` shows the reason for incidents inside.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<JsonLogic>")]
    pub applies_when: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub applies_when_text: Option<String>,
    /// The sections the acceptance cites.
    pub cites: Vec<Citation>,
    /// An incident that shows it: question id to answer (`"any"` where the
    /// answer does not matter).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, Value>>")]
    pub witness: Option<serde_json::Map<String, Value>>,
}

/// A JsonLogic expression (<https://jsonlogic.com>) over the answers object,
/// using only the operators `var`, `===`, `!==`, `<`, `<=`, `>`, `>=`, `in`,
/// `!`, `and` and `or`.
#[derive(JsonSchema)]
#[schemars(transparent, extend("minProperties" = 1, "maxProperties" = 1))]
#[allow(dead_code)]
struct JsonLogic(serde_json::Map<String, Value>);
