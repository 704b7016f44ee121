//! Errors and warnings as data.
//!
//! Every stage reports problems as [`Diagnostic`] values and keeps going, so
//! that one bad rule never hides the next. A diagnostic has a stable code
//! (`carepath::unknown-name`), a severity, a message in plain words, a primary
//! span, secondary labels (possibly in other files) and optional help. The
//! [`render`] module turns them into miette reports or JSON; [`text`] makes
//! text from a protocol safe to print on a terminal, for every report that
//! shows it to a person.

pub mod render;
pub mod text;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::source::{Sources, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($($variant:ident => $name:literal, $severity:ident, $summary:literal;)*) => {
        /// Every kind of diagnostic Carepath reports. Each is described, with a
        /// wrong and a right example, in `docs/diagnostics.md`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case name, without the `carepath::` prefix.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// The severity this kind of diagnostic has unless a run changes it
            /// (`--deny warnings`).
            pub fn default_severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// One line saying what the code means.
            pub fn summary(self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                }
            }

            pub fn from_name(name: &str) -> Option<Code> {
                let name = name.strip_prefix("carepath::").unwrap_or(name);
                Code::ALL.iter().copied().find(|c| c.name() == name)
            }
        }
    };
}

codes! {
    // Syntax
    SyntaxError => "syntax-error", Error, "the text does not follow the language's grammar";
    NestingTooDeep => "nesting-too-deep", Error, "a condition is nested more deeply than the language allows";
    // Files and imports
    MissingHeader => "missing-header", Error, "a file has neither a `protocol` nor a `library` header";
    DuplicateHeader => "duplicate-header", Error, "a file has more than one `protocol` or `library` header";
    ImportNotFound => "import-not-found", Error, "an imported file does not exist or cannot be read";
    ImportCycle => "import-cycle", Error, "files import each other in a circle";
    ImportOutsideRoot => "import-outside-root", Error, "an import leaves the folder of the files being checked";
    ImportProtocol => "import-protocol", Error, "an import names a protocol file rather than a library";
    // Names
    UnknownName => "unknown-name", Error, "a name is not defined where it is used";
    WrongKind => "wrong-kind", Error, "a name refers to the wrong kind of thing";
    DuplicateDefinition => "duplicate-definition", Error, "a name is defined twice";
    // Properties
    MissingProperty => "missing-property", Error, "a definition lacks a property it needs";
    DuplicateProperty => "duplicate-property", Error, "a property that may appear once appears twice";
    InvalidDate => "invalid-date", Error, "a date is not a real calendar date";
    InvalidPolice => "invalid-police", Error, "a police response uses an old name, lacks who judges, or is given twice for a setting";
    ReservedName => "reserved-name", Error, "a definition takes a name the language keeps for itself";
    LevelOrder => "level-order", Error, "the order of the levels is not stated where they come from several files, or the stated order is wrong";
    DuplicateProtocol => "duplicate-protocol", Error, "two files declare a protocol with the same id";
    // Types
    TypeMismatch => "type-mismatch", Error, "a question is compared with the wrong kind of value";
    UnknownOption => "unknown-option", Error, "an answer is not one of the question's options";
    UnorderedComparison => "unordered-comparison", Error, "`<`, `<=`, `>` or `>=` is used on a list whose options have no order";
    InvalidNumber => "invalid-number", Error, "a number cannot be an answer to its question";
    // Examples, routes, factors, checklists
    InvalidExample => "invalid-example", Error, "an example's answers are not a list of answers joined by `and`";
    QuestionOrder => "question-order", Error, "a question is asked only when a later question is answered";
    InapplicableAnswer => "inapplicable-answer", Error, "an example answers a question that does not apply to it";
    MissingRoute => "missing-route", Error, "a level has no route for a setting the protocol covers";
    UnexpectedRoute => "unexpected-route", Error, "a route is given for a setting that says it has none";
    IncludeCycle => "include-cycle", Error, "factor lists include each other in a circle";
    IncompleteChecklist => "incomplete-checklist", Warning, "a checklist leaves out items of the checklist it follows";
    UnusedQuestion => "unused-question", Warning, "a question is never used by a rule, an example, a condition or a route";
    NotOfConditionalQuestion => "not-of-conditional-question", Warning, "`not q` is used on a question that is asked only sometimes, where it also holds when the question is not asked";
    // Analysis of the decision space
    Conflict => "conflict", Error, "two rules match one incident with different levels, where rules must not overlap";
    NeverDecides => "never-decides", Warning, "a rule is overruled or duplicated wherever it matches";
    Gap => "gap", Warning, "some incidents are decided by no rule and there is no `otherwise`";
    MisclassifiedExample => "misclassified-example", Error, "the rules put an example at another level than the one it is listed under";
    UnreachableLevel => "unreachable-level", Warning, "no incident is ever decided at a level";
    NeverApplies => "never-applies", Warning, "a procedure or a suggesting (`may`) rule applies to no incident";
    AlwaysApplies => "always-applies", Warning, "a procedure applies to every incident";
    AnalysisIncomplete => "analysis-incomplete", Warning, "the rules are too intertwined for the analysis to finish within its limits";
    // Analysis of routes
    UnreachableStep => "unreachable-step", Warning, "a step, decision or outcome of a route cannot be reached";
    DeadEnd => "dead-end", Warning, "a route path stops before an outcome";
    RouteCycle => "route-cycle", Warning, "a route can go round forever";
    MissingBranch => "missing-branch", Warning, "a decision has no branch for some of its answers";
    NeverHolds => "never-holds", Warning, "a condition on a route step, action, timing or fixed answer is met by no incident that reaches it";
    // Accepted findings
    InvalidAccept => "invalid-accept", Error, "an `accept` names a finding that cannot be accepted, or lacks what it accepts";
    UnusedAccept => "unused-accept", Warning, "an `accept` matches no finding";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "carepath::{}", self.name())
    }
}

/// A secondary label: another place that explains the diagnostic (the first
/// definition of a duplicated name, the rule that overrules another...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// Extra data carried by analysis findings: the rules involved and a witness
/// incident. Shown in JSON output; the human rendering puts it in the message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingData {
    /// Ids of the rules (or route nodes) involved.
    pub rules: Vec<String>,
    /// A concrete incident that shows the finding.
    pub witness: Option<WitnessData>,
    /// A path through a route, as node ids.
    pub path: Vec<String>,
    /// What else the finding is about: a level, an example's title, a route
    /// and its step, a checklist.
    pub subject: Vec<String>,
    /// Set when the protocol accepts this finding on purpose.
    pub accepted: Option<String>,
    /// Which `accept` of the model accepted it (index into its accepts).
    pub accept: Option<usize>,
}

/// A witness incident, compactly: the answers to the questions that matter;
/// every other question may be answered anything.
#[derive(Clone, Debug, PartialEq)]
pub struct WitnessData {
    /// The ids of all the protocol's questions, in order; shared by the
    /// witnesses of one analysis.
    pub questions: Arc<[String]>,
    /// Answers by question index, in question order.
    pub answers: Vec<(u32, WitnessAnswer)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WitnessAnswer {
    /// The question is not asked in this incident.
    NotAsked,
    /// The answer, as JSON: `true`/`false`, an option id, a number.
    Value(serde_json::Value),
}

impl WitnessData {
    /// Question id and answer for every question asked in the incident,
    /// `"any"` for those that do not matter.
    pub fn entries(&self) -> Vec<(String, serde_json::Value)> {
        let mut answers = self.answers.iter().peekable();
        let mut out = Vec::with_capacity(self.questions.len());
        for (i, id) in self.questions.iter().enumerate() {
            match answers.next_if(|(q, _)| *q as usize == i) {
                Some((_, WitnessAnswer::NotAsked)) => {}
                Some((_, WitnessAnswer::Value(v))) => out.push((id.clone(), v.clone())),
                None => out.push((id.clone(), serde_json::Value::from("any"))),
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// Text of the primary label; may be empty.
    pub label: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub finding: Option<Box<FindingData>>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            label: String::new(),
            labels: Vec::new(),
            help: None,
            finding: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_finding(mut self, finding: FindingData) -> Self {
        self.finding = Some(Box::new(finding));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && !self.is_accepted()
    }

    pub fn is_accepted(&self) -> bool {
        self.finding.as_ref().is_some_and(|f| f.accepted.is_some())
    }
}

/// The diagnostics of a run, kept in the order they are found and sorted by
/// location when they are reported.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning && !d.is_accepted())
            .count()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Turn every warning into an error (`--deny warnings`).
    pub fn deny_warnings(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
    }

    /// Sort by file name, then position, then code; drop exact repeats (a
    /// library imported by several protocols is checked once per protocol).
    pub fn sorted(mut self, sources: &Sources) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            let fa = sources.get(a.span.file).name();
            let fb = sources.get(b.span.file).name();
            (fa, a.span.start, a.span.end, a.code, &a.message).cmp(&(
                fb,
                b.span.start,
                b.span.end,
                b.code,
                &b.message,
            ))
        });
        self.items.dedup();
        self.items
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The closest of `candidates` to `name`, for "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let d = if c.to_lowercase() == lower {
                0
            } else {
                levenshtein(&lower, &c.to_lowercase())
            };
            (d, c)
        })
        .filter(|(d, c)| *d <= limit || c.starts_with(name) || name.starts_with(c))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// Edit distance where swapping two neighbouring letters counts as one edit
/// (`wehn` is one edit from `when`).
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// `a`, `a or b`, `a, b or c`.
pub fn join_or(items: &[String]) -> String {
    join_with(items, "or")
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and(items: &[String]) -> String {
    join_with(items, "and")
}

fn join_with(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let name = code.name();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name} is not kebab-case"
            );
            assert_eq!(Code::from_name(&code.to_string()), Some(*code));
        }
    }

    #[test]
    fn did_you_mean_finds_close_names() {
        let names = ["level-1", "level-2", "immediate-risk"];
        assert_eq!(did_you_mean("levl-1", names), Some("level-1"));
        assert_eq!(
            did_you_mean("Immediate-Risk", names),
            Some("immediate-risk")
        );
        assert_eq!(did_you_mean("banana", names), None);
        assert_eq!(did_you_mean("wehn", ["when", "then"]), Some("when"));
    }

    #[test]
    fn joins_read_as_english() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_or(&s(&["a"])), "a");
        assert_eq!(join_or(&s(&["a", "b"])), "a or b");
        assert_eq!(join_and(&s(&["a", "b", "c"])), "a, b and c");
    }
}
