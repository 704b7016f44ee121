//! The decision: what `Engine::decide` returns and `carepath decide --format
//! json` prints, format `carepath-decision/1`.
//!
//! These types are the contract for apps that read decisions: the JSON
//! Schema in `schema/carepath-decision-1.schema.json` (printed by
//! `carepath schema decision`) is generated from them. A decision borrows
//! its words from the rule pack it was decided with, so deciding copies no
//! text; it serialises to the same JSON as if it owned them.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::Serialize;

use crate::emit::pack;

/// The value of [`Decision::format`].
pub const FORMAT: &str = "carepath-decision/1";

/// What an incident is decided as, and everything staff need to act on it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "carepath-decision/1")]
pub struct Decision<'p> {
    /// Always `carepath-decision/1`.
    #[schemars(extend("const" = "carepath-decision/1"))]
    pub format: &'static str,
    /// The level the policy gives: the deciding rules' level, or the
    /// protocol's `otherwise` level when no rule applies.
    pub level: LevelRef<'p>,
    /// How the police are involved: the level's response for the setting,
    /// or the deciding rules' own (the most police of them).
    pub police: PoliceRef<'p>,
    /// True when no rule applied and the level is the protocol's `otherwise`.
    pub by_otherwise: bool,
    /// The rules that decide the level, in the pack's order. Under
    /// `most-serious` and `no-overlap`, every deciding rule that holds and
    /// gives the level (several when they tie); under `first-match`, the
    /// first rule that holds. Empty when the level is the `otherwise` one.
    pub deciding: Vec<RuleRef<'p>>,
    /// Deciding rules that also held but gave way under the policy (a less
    /// serious level, or a later rule under `first-match`).
    pub overruled: Vec<RuleRef<'p>>,
    /// `may` rules that hold and name another level: levels to consider,
    /// which the protocol does not decide.
    pub suggestions: Vec<RuleRef<'p>>,
    /// Procedures that run alongside the level, each with its route.
    pub procedures: Vec<ProcedureRef<'p>>,
    /// Accepted findings whose incidents include this one: what the
    /// document leaves open here, and why.
    pub accepted: Vec<AcceptedRef<'p>>,
    pub policy: pack::PolicyKind,
    /// The setting the incident was decided for.
    pub setting: &'p str,
    /// The route the setting follows for the level, walked for this
    /// incident; absent when the setting has no route (`no_route` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route<'p>>,
    /// Why the setting has no route, when the protocol says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_route: Option<&'p str>,
    /// The checklists the walked steps ask staff to complete.
    pub checklists: Vec<ChecklistRef<'p>>,
    /// Every rule's condition and whether it held: present only when asked
    /// for (`carepath decide --explain`, `Engine::explanation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Vec<RuleCheck<'p>>>,
}

/// A rule, as a decision reports it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRef<'p> {
    pub id: &'p str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'p str>,
    /// The id of the level the rule gives.
    pub level: &'p str,
    pub strength: pack::Strength,
    pub cites: &'p [pack::Citation],
    pub notes: &'p [String],
}

/// The level an incident is decided at.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelRef<'p> {
    pub id: &'p str,
    pub title: &'p str,
    /// 0 for the least serious level, counting up.
    pub rank: u32,
    pub cites: &'p [pack::Citation],
    pub notes: &'p [String],
}

/// How the police are involved in this incident.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliceRef<'p> {
    pub response: pack::Response,
    /// The response in words, as `decide` prints it.
    pub words: Cow<'p, str>,
    /// Who judges, for a judgement (the actor's title).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<&'p str>,
    /// Where the response comes from: `level` (the level's response), the
    /// ids of the deciding rules that give their own, or the procedure's id.
    pub from: Vec<&'p str>,
}

/// A procedure that runs alongside the level for this incident.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcedureRef<'p> {
    pub id: &'p str,
    pub title: &'p str,
    /// The procedure's own police response for the setting, if the
    /// document gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub police: Option<PoliceRef<'p>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route<'p>>,
    pub cites: &'p [pack::Citation],
    pub notes: &'p [String],
}

/// A finding the protocol accepts whose incidents include this one.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedRef<'p> {
    pub code: &'p str,
    pub message: &'p str,
    pub reason: &'p str,
    pub cites: &'p [pack::Citation],
}

/// A route as the incident goes through it.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route<'p> {
    pub id: &'p str,
    pub title: &'p str,
    /// The route as the incident goes through it, from its start: steps
    /// whose condition fails are left out, decisions the answers or the
    /// document settle are followed, and the walk stops at an outcome or at
    /// a decision left to staff.
    pub steps: Vec<RouteStep<'p>>,
    /// The whole route, as the rule pack has it (`routes[].nodes`), so that
    /// an app can draw it beside the walk.
    pub graph: &'p [pack::RouteNode],
}

/// A step of the route as the incident goes through it: a step taken, a
/// decision (settled by the answers or the document, or open for staff),
/// or the outcome.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteStep<'p> {
    pub id: &'p str,
    pub kind: pack::NodeKind,
    pub text: &'p str,
    /// The step's `only when` condition, when the answers do not settle it:
    /// staff take the step if it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_if: Option<&'p str>,
    /// Who acts in this setting (actor titles).
    pub by: Vec<&'p str>,
    /// Whom to contact, consult, inform or report to, and when.
    pub actions: Vec<ActionRef<'p>>,
    /// When, in words: a timing whose condition is not settled says so
    /// (`within 24 hours (if drugs == use)`), and the document's qualifier
    /// follows a comma.
    pub timing: Vec<Cow<'p, str>>,
    /// Checklist ids to complete at this step.
    pub complete: &'p [String],
    /// For an open decision: the factors to weigh (lists that apply to this
    /// incident, with the lists they include).
    pub weigh: Vec<FactorsRef<'p>>,
    /// For a decision: every answer, with where it leads.
    pub branches: Vec<BranchRef<'p>>,
    /// For a decision the answers or the document settle: its answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<&'p str>,
    /// How that answer was reached: `answers` (the incident's) or
    /// `document` (an answer the protocol fixes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled_by: Option<SettledBy>,
    /// The node the route goes back to after this one, when it has been
    /// walked already (a loop the protocol accepts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then_again: Option<&'p str>,
    pub cites: &'p [pack::Citation],
    pub notes: &'p [String],
}

/// How a route decision's answer was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SettledBy {
    /// The incident's answers settle it.
    Answers,
    /// The protocol fixes the answer for this incident.
    Document,
}

/// An action of a step for this incident.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRef<'p> {
    pub kind: pack::ActionKind,
    /// Each target with its fallbacks, in order.
    pub targets: Vec<Vec<ContactRef<'p>>>,
    /// The action's condition, when the answers do not settle it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_if: Option<&'p str>,
    /// "In cases of doubt": a judgement for staff, not done every time.
    pub in_doubt: bool,
}

/// A decision's answer and where it leads.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchRef<'p> {
    pub answer: &'p str,
    /// The answer's title.
    pub title: &'p str,
    /// The id of the node it leads to.
    pub to: &'p str,
    /// The text of the node it leads to.
    pub to_text: &'p str,
}

/// A contact, or an actor when the target is one.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRef<'p> {
    pub id: &'p str,
    pub title: &'p str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<&'p str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<&'p str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<&'p str>,
}

/// A factor list to weigh.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorsRef<'p> {
    pub id: &'p str,
    pub title: &'p str,
    pub items: &'p [String],
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistRef<'p> {
    pub id: &'p str,
    pub title: &'p str,
    pub items: Vec<ChecklistItem<'p>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem<'p> {
    pub text: &'p str,
    /// Who completes the item (actor titles).
    pub by: Vec<&'p str>,
}

/// One rule's condition, and whether it held.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleCheck<'p> {
    pub rule: &'p str,
    pub level: &'p str,
    /// The condition as the pack has it (`when_text`).
    pub when: &'p str,
    /// `true`, `false`, or `null` when it depends on questions not answered
    /// (which the decision does not).
    pub held: Option<bool>,
    /// Each test of the condition, and whether it held.
    pub tests: Vec<TestCheck>,
}

#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCheck {
    /// The test in the language's syntax.
    pub test: String,
    pub held: Option<bool>,
}

/// The JSON Schema of a decision, format `carepath-decision/1`, as
/// `carepath schema decision` prints it.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Decision<'static>);
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    out.push('\n');
    out
}
