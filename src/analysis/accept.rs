//! Accepted findings: `accept <finding> <what> because "..."`.
//!
//! Some findings describe the source document faithfully: it really has a
//! gap, its "10 point plan" really lists nine questions. A protocol accepts
//! them with the reason; they are still reported, marked as accepted with
//! that reason, and no longer count as errors or warnings. An `accept` that
//! matches nothing is reported too, so accepts do not outlive what they were
//! written for.

use std::collections::BTreeSet;

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::model::{Accept, Model};

/// What each acceptable finding needs to name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// `accept gap [when <condition>]`
    Region,
    /// One rule, level or checklist.
    Name,
    /// Two rules.
    Pair,
    /// A route and one of its steps.
    RouteNode,
    /// An example's title in quotes.
    Example,
}

const ACCEPTABLE: &[(Code, Subject)] = &[
    (Code::Gap, Subject::Region),
    (Code::NeverDecides, Subject::Name),
    (Code::Conflict, Subject::Pair),
    (Code::MisclassifiedExample, Subject::Example),
    (Code::UnreachableLevel, Subject::Name),
    (Code::UnreachableStep, Subject::RouteNode),
    (Code::DeadEnd, Subject::RouteNode),
    (Code::RouteCycle, Subject::RouteNode),
    (Code::MissingBranch, Subject::RouteNode),
    (Code::NeverHolds, Subject::RouteNode),
    (Code::IncompleteChecklist, Subject::Name),
    (Code::NeverApplies, Subject::Name),
    (Code::AlwaysApplies, Subject::Name),
];

/// The findings of the decision space (as opposed to routes and checklists).
const DECISION_SPACE: &[Code] = &[
    Code::Gap,
    Code::NeverDecides,
    Code::Conflict,
    Code::MisclassifiedExample,
    Code::UnreachableLevel,
    Code::NeverApplies,
    Code::AlwaysApplies,
];

/// Mark the findings that `model`'s accepts match, and report accepts that
/// are malformed or match nothing. `used_gaps` are the `accept gap` lines the
/// analysis already matched against gaps.
pub fn apply(model: &Model, diags: &mut Vec<Diagnostic>, used_gaps: &BTreeSet<usize>) {
    // When the decision space was not analysed, its findings are unknown:
    // an accept for one of them is not known to be unused.
    let unanalysed = diags.iter().any(|d| d.code == Code::AnalysisIncomplete);
    let mut extra = Vec::new();
    for (i, a) in model.accepts.iter().enumerate() {
        let known = ACCEPTABLE.iter().find(|(c, _)| c.name() == a.code);
        let Some(&(code, subject)) = known else {
            let names: Vec<&str> = ACCEPTABLE.iter().map(|(c, _)| c.name()).collect();
            let mut d = Diagnostic::new(
                Code::InvalidAccept,
                a.code_span,
                format!("there is no finding `{}` to accept", a.code),
            )
            .with_label("not a finding");
            d = match did_you_mean(&a.code, names.iter().copied()) {
                Some(close) => d.with_help(format!("did you mean `{close}`?")),
                None => d.with_help(format!(
                    "findings that can be accepted: {}",
                    names.join(", ")
                )),
            };
            extra.push(d);
            continue;
        };
        if let Some(problem) = shape_problem(a, subject) {
            extra.push(
                Diagnostic::new(Code::InvalidAccept, a.span, problem.0)
                    .with_label("incomplete accept")
                    .with_help(problem.1),
            );
            continue;
        }
        if unanalysed && DECISION_SPACE.contains(&code) {
            continue;
        }
        if code == Code::Gap {
            if !used_gaps.contains(&i) {
                extra.push(unused(a));
            }
            continue;
        }
        let mut matched = false;
        for d in diags.iter_mut() {
            if d.code != code || d.is_accepted() {
                continue;
            }
            let Some(f) = d.finding.as_mut() else {
                continue;
            };
            if matches(a, subject, &f.rules, &f.subject) {
                f.accepted = Some(a.reason.clone());
                f.accept = Some(i);
                matched = true;
            }
        }
        if !matched {
            extra.push(unused(a));
        }
    }
    diags.extend(extra);
}

fn names(a: &Accept) -> Vec<&str> {
    a.names.iter().map(|(n, _)| n.as_str()).collect()
}

fn matches(a: &Accept, subject: Subject, rules: &[String], about: &[String]) -> bool {
    let names = names(a);
    match subject {
        Subject::Region => false,
        Subject::Name => {
            rules.first().map(String::as_str) == names.first().copied() && about.is_empty()
                || about.first().map(String::as_str) == names.first().copied()
        }
        Subject::Pair => {
            let mut want: Vec<&str> = names.clone();
            let mut got: Vec<&str> = rules.iter().take(2).map(String::as_str).collect();
            want.sort_unstable();
            got.sort_unstable();
            want == got
        }
        Subject::RouteNode => about.iter().map(String::as_str).eq(names.iter().copied()),
        Subject::Example => a.example.as_deref() == about.first().map(String::as_str),
    }
}

/// Why an accept does not have the shape its finding needs: the message and
/// the help.
fn shape_problem(a: &Accept, subject: Subject) -> Option<(String, String)> {
    let n = a.names.len();
    let code = &a.code;
    let (ok, what, example) = match subject {
        Subject::Region => (
            n == 0 && a.example.is_none(),
            "a region, or nothing",
            format!("accept {code} when drugs == use because \"...\""),
        ),
        Subject::Name => (
            n == 1 && a.example.is_none() && a.when.is_none(),
            "one name",
            format!("accept {code} some-name because \"...\""),
        ),
        Subject::Pair => (
            n == 2 && a.example.is_none() && a.when.is_none(),
            "two rules",
            format!("accept {code} rule-a, rule-b because \"...\""),
        ),
        Subject::RouteNode => (
            n == 2 && a.example.is_none() && a.when.is_none(),
            "a route and one of its steps",
            format!("accept {code} route-id, step-id because \"...\""),
        ),
        Subject::Example => (
            a.example.is_some() && n == 0 && a.when.is_none(),
            "an example's title in quotes",
            format!("accept {code} \"Example title\" because \"...\""),
        ),
    };
    (!ok).then(|| {
        (
            format!("`accept {code}` needs {what}"),
            format!("for example `{example}`"),
        )
    })
}

fn unused(a: &Accept) -> Diagnostic {
    Diagnostic::new(
        Code::UnusedAccept,
        a.span,
        format!("this `accept {}` matches no finding", a.code),
    )
    .with_label("nothing to accept")
    .with_help(
        "the finding may have been fixed, or the names may be wrong; remove the line or correct it",
    )
}
