//! The decision: what `Engine::decide` returns and `carepath decide --format
//! json` prints, format `carepath-decision/1`.
//!
//! These types are the contract for apps that read decisions: the JSON
//! Schema in `schema/carepath-decision-1.schema.json` (printed by
//! `carepath schema decision`) is generated from them. A decision borrows
//! its words from the rule pack it was decided with, so deciding copies no
//! text; it serialises to the same JSON as if it owned them. Short lists
//! (who acts, whom to contact, when) are [`SmallVec`]s, kept inline while
//! they are short: a list in JSON all the same.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};
use smallvec::SmallVec;

use super::Engine;

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
    pub from: SmallVec<[&'p str; 2]>,
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
    pub steps: Steps<'p>,
    /// The whole route, as the rule pack has it (`routes[].nodes`), so that
    /// an app can draw it beside the walk.
    pub graph: &'p [pack::RouteNode],
}

/// The steps of a route as the incident goes through it. The walk keeps
/// what it settles at each node (which node, which actions and timings
/// hold, a decision's answer); each [`RouteStep`] is read from that and the
/// pack when the steps are iterated or serialised, so deciding builds no
/// words that nobody reads. In JSON, an array of [`RouteStep`].
#[derive(Clone)]
pub struct Steps<'p> {
    engine: &'p Engine,
    /// The route's index, and the setting walked for.
    route: (usize, &'p str),
    met: Vec<Met<'p>>,
    holds: Vec<Option<bool>>,
}

/// What a walk settles at a node of a route.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Met<'p> {
    pub node: usize,
    /// The node's own condition is open: staff take the step if it holds.
    pub open: bool,
    /// Where the node's actions, then its timings, start in the walk's
    /// `holds`: whether each one's condition holds (`None` while the
    /// answers leave it open). `None` when none of them has a condition:
    /// each holds.
    pub holds: Option<u32>,
    /// For an open decision: the factor lists to weigh, by their index in
    /// the pack.
    pub weigh: SmallVec<[u32; 4]>,
    pub answer: Option<&'p str>,
    pub settled_by: Option<SettledBy>,
    pub then_again: Option<&'p str>,
}

impl<'p> Steps<'p> {
    pub(super) fn new(
        engine: &'p Engine,
        route: (usize, &'p str),
        met: Vec<Met<'p>>,
        holds: Vec<Option<bool>>,
    ) -> Steps<'p> {
        Steps {
            engine,
            route,
            met,
            holds,
        }
    }

    /// The steps, in the order the incident meets them.
    pub fn iter(&self) -> StepsIter<'_, 'p> {
        StepsIter {
            steps: self,
            met: self.met.iter(),
        }
    }

    /// Step `i`, when there is one.
    pub fn get(&self, i: usize) -> Option<RouteStep<'p>> {
        self.met.get(i).map(|m| self.read(m))
    }

    /// The step the walk met as `m`, in words.
    fn read(&self, m: &Met<'p>) -> RouteStep<'p> {
        self.engine.route_step(self.route, m, &self.holds)
    }

    /// The first step, when there is one.
    pub fn first(&self) -> Option<RouteStep<'p>> {
        self.get(0)
    }

    /// The last step, when there is one.
    pub fn last(&self) -> Option<RouteStep<'p>> {
        self.met.last().map(|m| self.read(m))
    }

    pub fn len(&self) -> usize {
        self.met.len()
    }

    pub fn is_empty(&self) -> bool {
        self.met.is_empty()
    }

    /// Every step, read.
    pub fn to_vec(&self) -> Vec<RouteStep<'p>> {
        self.iter().collect()
    }

    /// The route's index in the pack, and what the walk settled at each
    /// node met.
    pub(super) fn met(&self) -> impl Iterator<Item = (usize, &Met<'p>)> {
        self.met.iter().map(|m| (self.route.0, m))
    }
}

impl<'s, 'p> IntoIterator for &'s Steps<'p> {
    type Item = RouteStep<'p>;
    type IntoIter = StepsIter<'s, 'p>;

    fn into_iter(self) -> StepsIter<'s, 'p> {
        self.iter()
    }
}

/// The steps of a route, each read as it is reached (see [`Steps`]).
pub struct StepsIter<'s, 'p> {
    steps: &'s Steps<'p>,
    met: std::slice::Iter<'s, Met<'p>>,
}

impl<'p> Iterator for StepsIter<'_, 'p> {
    type Item = RouteStep<'p>;

    fn next(&mut self) -> Option<RouteStep<'p>> {
        let steps = self.steps;
        self.met.next().map(|m| steps.read(m))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.met.size_hint()
    }
}

impl ExactSizeIterator for StepsIter<'_, '_> {}

impl PartialEq for Steps<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Steps<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Steps<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl JsonSchema for Steps<'_> {
    fn inline_schema() -> bool {
        <Vec<RouteStep<'static>>>::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        <Vec<RouteStep<'static>>>::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        <Vec<RouteStep<'static>>>::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<RouteStep<'static>>>::json_schema(generator)
    }
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
    pub by: SmallVec<[&'p str; 2]>,
    /// Whom to contact, consult, inform or report to, and when.
    pub actions: Vec<ActionRef<'p>>,
    /// When, in words: a timing whose condition is not settled says so
    /// (`within 24 hours (if drugs == use)`), and the document's qualifier
    /// follows a comma.
    pub timing: SmallVec<[Cow<'p, str>; 1]>,
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
    pub targets: SmallVec<[SmallVec<[ContactRef<'p>; 1]>; 1]>,
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
    pub by: SmallVec<[&'p str; 2]>,
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

#[cfg(test)]
mod tests {
    /// An engine is shared between threads and a decision handed between
    /// them, as apps that decide in parallel do; a decision's steps hold
    /// the engine, so this would stop compiling if either lost it.
    #[test]
    fn engines_and_decisions_go_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::eval::Engine>();
        send_sync::<super::Decision<'static>>();
    }
}
