//! Conditions: names bound to questions, values checked against each
//! question's kind, scale comparisons turned into sets of options.

use crate::diagnostic::{Code, Diagnostic, did_you_mean, join_or};
use crate::model::lower::Lowerer;
use crate::model::scope::{self, ModelRef};
use crate::model::types::*;
use crate::source::{FileId, Span};
use crate::syntax::ast::{self, ExprKind, ValueKind};

/// Largest count or amount (in hundredths) the language accepts.
const MAX_NUMBER: i64 = 1_000_000_000_000;

impl Lowerer<'_> {
    /// Lower a condition written in `file`, keeping its text as written
    /// (see [`Model::written`]). `None` after reporting errors.
    pub(crate) fn cond(&mut self, file: FileId, e: &ast::Expr) -> Option<Cond> {
        let c = self.cond_part(file, e)?;
        if let Some(span) = c.tests_span() {
            self.keep_written(span, e.span);
        }
        Some(c)
    }

    /// Record the text at `written` as that of the condition whose tests
    /// cover `tests`.
    fn keep_written(&mut self, tests: Span, written: Span) {
        let text = self.ws.sources.get(written.file).slice(written);
        self.written.insert(tests, one_line(text));
    }

    /// A condition or a part of one.
    fn cond_part(&mut self, file: FileId, e: &ast::Expr) -> Option<Cond> {
        match &e.node {
            ExprKind::Not(inner) => {
                let c = self.cond_part(file, inner)?;
                if let (ExprKind::Question(_), Cond::Atom(a)) = (&inner.node, &c) {
                    self.negated.push((e.span, a.question, Vec::new()));
                }
                Some(Cond::Not(Box::new(c)))
            }
            ExprKind::And(parts) | ExprKind::Or(parts) => {
                let is_and = matches!(e.node, ExprKind::And(_));
                let negated_before = self.negated.len();
                // Lower every part, so that each one's errors are reported.
                let lowered: Vec<Option<Cond>> =
                    parts.iter().map(|p| self.cond_part(file, p)).collect();
                if is_and {
                    let tests: Vec<Atom> = lowered
                        .iter()
                        .filter_map(|c| match c {
                            Some(Cond::Atom(a)) => Some(a.clone()),
                            _ => None,
                        })
                        .collect();
                    for (_, _, joined) in &mut self.negated[negated_before..] {
                        joined.extend(tests.iter().cloned());
                    }
                }
                let mut out = Vec::with_capacity(parts.len());
                for c in lowered {
                    match (c?, is_and) {
                        (Cond::And(cs), true) | (Cond::Or(cs), false) => out.extend(cs),
                        (c, _) => out.push(c),
                    }
                }
                Some(if is_and {
                    Cond::And(out)
                } else {
                    Cond::Or(out)
                })
            }
            _ => self.atom(file, e).map(Cond::Atom),
        }
    }

    fn question_of(&mut self, file: FileId, name: &ast::Name) -> Option<QuestionId> {
        if name.node == SETTING_QUESTION {
            // The setting, question 0 of a model with settings.
            if self.questions.first().is_some_and(|q| q.is_setting) {
                self.used.insert(QuestionId(0));
                return Some(QuestionId(0));
            }
            self.diags.push(
                Diagnostic::new(
                    Code::UnknownName,
                    name.span,
                    "`setting` is tested here, but the protocol declares no settings",
                )
                .with_label("no settings to test")
                .with_help("declare the settings the protocol covers, e.g. `setting foster \"Foster carers\"`"),
            );
            return None;
        }
        match self.resolve(file, name, scope::QUESTION)? {
            ModelRef::Question(q) => {
                self.used.insert(q);
                Some(q)
            }
            _ => None,
        }
    }

    /// A single test of one question.
    fn atom(&mut self, file: FileId, e: &ast::Expr) -> Option<Atom> {
        let span = e.span;
        match &e.node {
            ExprKind::Question(name) => {
                let q = self.question_of(file, name)?;
                let kind = &self.questions[q.index()].kind;
                if *kind != QuestionKind::YesNo {
                    let example = example_comparison(name, kind);
                    self.diags.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            name.span,
                            format!(
                                "`{}` is {}, so it cannot stand alone as a condition",
                                name.node,
                                kind.describe()
                            ),
                        )
                        .with_label("not a yes/no question")
                        .with_help(format!("compare it with a value, e.g. `{example}`")),
                    );
                    return None;
                }
                Some(Atom {
                    question: q,
                    test: Test::Bool(true),
                    span,
                })
            }
            ExprKind::Compare {
                question,
                op,
                value,
            } => {
                let q = self.question_of(file, question)?;
                let test = self.compare(q, question, op.node, op.span, value)?;
                Some(Atom {
                    question: q,
                    test,
                    span,
                })
            }
            ExprKind::In {
                question,
                negated,
                values,
            } => {
                let q = self.question_of(file, question)?;
                let test = self.membership(q, question, *negated, values)?;
                Some(Atom {
                    question: q,
                    test,
                    span,
                })
            }
            _ => None,
        }
    }

    fn compare(
        &mut self,
        q: QuestionId,
        name: &ast::Name,
        op: CmpOp,
        op_span: Span,
        value: &ast::Value,
    ) -> Option<Test> {
        let kind = self.questions[q.index()].kind.clone();
        match &kind {
            QuestionKind::YesNo => {
                let b = match &value.node {
                    ValueKind::Yes => true,
                    ValueKind::No => false,
                    _ => {
                        self.mismatch(name, &kind, value, "`yes` or `no`");
                        return None;
                    }
                };
                match op {
                    CmpOp::Eq => Some(Test::Bool(b)),
                    CmpOp::Ne => Some(Test::Bool(!b)),
                    _ => {
                        self.diags.push(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                op_span,
                                format!(
                                    "`{}` is a yes/no question; yes and no have no order",
                                    name.node
                                ),
                            )
                            .with_label("cannot order yes and no")
                            .with_help(format!("write `{0}` or `not {0}`", name.node)),
                        );
                        None
                    }
                }
            }
            QuestionKind::OneOf(choices) | QuestionKind::Scale(choices) => {
                let ordered = matches!(kind, QuestionKind::Scale(_));
                let index = self.option(name, &kind, choices, value)?;
                if !ordered && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::UnorderedComparison,
                            op_span,
                            format!("`{}` is a one-of question, so its options have no order", name.node),
                        )
                        .with_label(format!("`{}` needs an order", op.symbol()))
                        .with_help(format!(
                            "list the options you mean with `{} in {{ ... }}`, or make the question a `scale` if its options are ordered",
                            name.node
                        )),
                    );
                    return None;
                }
                let n = choices.len() as u32;
                let set: Vec<u32> = (0..n)
                    .filter(|&i| match op {
                        CmpOp::Eq => i == index,
                        CmpOp::Ne => i != index,
                        CmpOp::Lt => i < index,
                        CmpOp::Le => i <= index,
                        CmpOp::Gt => i > index,
                        CmpOp::Ge => i >= index,
                    })
                    .collect();
                Some(Test::Options(set))
            }
            QuestionKind::Count { .. } | QuestionKind::Amount { .. } => {
                let n = self.number(name, &kind, value)?;
                Some(Test::Compare(op, n))
            }
        }
    }

    fn membership(
        &mut self,
        q: QuestionId,
        name: &ast::Name,
        negated: bool,
        values: &[ast::Value],
    ) -> Option<Test> {
        let kind = self.questions[q.index()].kind.clone();
        match &kind {
            QuestionKind::YesNo => {
                self.diags.push(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        name.span,
                        format!(
                            "`{}` is a yes/no question; `in` is for lists of options or numbers",
                            name.node
                        ),
                    )
                    .with_label("a yes/no question")
                    .with_help(format!("write `{0}` or `not {0}`", name.node)),
                );
                None
            }
            QuestionKind::OneOf(choices) | QuestionKind::Scale(choices) => {
                let mut picked = Vec::new();
                let mut ok = true;
                for v in values {
                    match self.option(name, &kind, choices, v) {
                        Some(i) => picked.push(i),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                let n = choices.len() as u32;
                let set = (0..n).filter(|i| picked.contains(i) != negated).collect();
                Some(Test::Options(set))
            }
            QuestionKind::Count { .. } | QuestionKind::Amount { .. } => {
                let mut nums = Vec::new();
                for v in values {
                    nums.push(self.number(name, &kind, v));
                }
                let mut nums: Vec<i64> = nums.into_iter().collect::<Option<_>>()?;
                nums.sort_unstable();
                nums.dedup();
                Some(Test::Within {
                    values: nums,
                    negated,
                })
            }
        }
    }

    fn option(
        &mut self,
        name: &ast::Name,
        kind: &QuestionKind,
        choices: &[Choice],
        value: &ast::Value,
    ) -> Option<u32> {
        // `yes` and `no` may be option names of a list question.
        let v = match &value.node {
            ValueKind::Name(v) => v.as_str(),
            ValueKind::Yes if choices.iter().any(|c| c.id == "yes") => "yes",
            ValueKind::No if choices.iter().any(|c| c.id == "no") => "no",
            _ => {
                self.mismatch(name, kind, value, "one of its options");
                return None;
            }
        };
        if let Some(i) = choices.iter().position(|c| c.id == v) {
            return Some(i as u32);
        }
        let ids: Vec<String> = choices.iter().map(|c| format!("`{}`", c.id)).collect();
        // The setting is a question like the others, but is spoken of as
        // the protocol's settings.
        let (message, label, these) = if name.node == SETTING_QUESTION {
            (
                format!("`{v}` is not a setting of this protocol"),
                "not one of its settings",
                "settings",
            )
        } else {
            (
                format!("`{}` has no option `{v}`", name.node),
                "not one of its options",
                "options",
            )
        };
        let help = match did_you_mean(v, choices.iter().map(|c| c.id.as_str())) {
            Some(close) => format!("did you mean `{close}`? The {these} are {}", join_or(&ids)),
            None => format!("the {these} are {}", join_or(&ids)),
        };
        self.diags.push(
            Diagnostic::new(Code::UnknownOption, value.span, message)
                .with_label(label)
                .with_help(help),
        );
        None
    }

    /// A count, or an amount in hundredths.
    fn number(&mut self, name: &ast::Name, kind: &QuestionKind, value: &ast::Value) -> Option<i64> {
        let ValueKind::Number(text) = &value.node else {
            self.mismatch(name, kind, value, "a number");
            return None;
        };
        let bad = |why: String, help: &str| {
            Diagnostic::new(Code::InvalidNumber, value.span, why)
                .with_label("not a possible answer")
                .with_help(help.to_string())
        };
        if text.starts_with('-') {
            let what = if matches!(kind, QuestionKind::Count { .. }) {
                "a count"
            } else {
                "an amount"
            };
            self.diags.push(bad(
                format!("`{}` is {what}, which cannot be negative", name.node),
                "use 0 or more",
            ));
            return None;
        }
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let n = match kind {
            QuestionKind::Count { .. } => {
                if !frac.is_empty() {
                    self.diags.push(bad(
                        format!(
                            "`{}` is a count, so it is a whole number, not `{text}`",
                            name.node
                        ),
                        "counts are whole numbers such as `2`",
                    ));
                    return None;
                }
                whole.parse::<i64>().ok()
            }
            _ => {
                if frac.len() > 2 {
                    self.diags.push(bad(
                        format!("`{text}` has more than two decimal places"),
                        "amounts are given to the penny, e.g. `250.50`",
                    ));
                    return None;
                }
                let cents = format!("{frac:0<2}").parse::<i64>().unwrap_or(0);
                whole
                    .parse::<i64>()
                    .ok()
                    .and_then(|w| w.checked_mul(100))
                    .and_then(|w| w.checked_add(cents))
            }
        };
        match n {
            Some(n) if n <= MAX_NUMBER => Some(n),
            _ => {
                self.diags.push(bad(
                    format!("`{text}` is too large"),
                    "numbers in conditions are at most 10,000,000,000",
                ));
                None
            }
        }
    }

    fn mismatch(&mut self, name: &ast::Name, kind: &QuestionKind, value: &ast::Value, want: &str) {
        let found = match &value.node {
            ValueKind::Number(n) => format!("the number `{n}`"),
            ValueKind::Yes => "`yes`".into(),
            ValueKind::No => "`no`".into(),
            ValueKind::Name(n) => format!("`{n}`"),
        };
        let example = example_comparison(name, kind);
        self.diags.push(
            Diagnostic::new(
                Code::TypeMismatch,
                value.span,
                format!(
                    "`{}` is {}; compare it with {want}, not {found}",
                    name.node,
                    kind.describe()
                ),
            )
            .with_label(format!("expected {want}"))
            .with_help(format!("for example `{example}`")),
        );
    }

    /// An example's answers: a list of single-question answers joined by
    /// `and` (`not q` for a yes/no question answered no).
    pub(crate) fn given(&mut self, file: FileId, e: &ast::Expr) -> Option<Vec<Atom>> {
        let mut out = Vec::new();
        let mut ok = true;
        self.given_into(file, e, &mut out, &mut ok);
        if let Some(span) = tests_span(&out).filter(|_| ok) {
            self.keep_written(span, e.span);
        }
        ok.then_some(out)
    }

    fn given_into(&mut self, file: FileId, e: &ast::Expr, out: &mut Vec<Atom>, ok: &mut bool) {
        match &e.node {
            ExprKind::And(parts) => {
                for p in parts {
                    self.given_into(file, p, out, ok);
                }
            }
            ExprKind::Not(inner) if matches!(inner.node, ExprKind::Question(_)) => {
                match self.atom(file, inner) {
                    Some(mut a) => {
                        a.test = Test::Bool(false);
                        a.span = e.span;
                        out.push(a);
                    }
                    None => *ok = false,
                }
            }
            ExprKind::Question(_) | ExprKind::Compare { .. } | ExprKind::In { .. } => {
                match self.atom(file, e) {
                    Some(a) => out.push(a),
                    None => *ok = false,
                }
            }
            ExprKind::Or(..) | ExprKind::Not(_) => {
                let what = if matches!(e.node, ExprKind::Or(..)) {
                    "`or`"
                } else {
                    "`not`"
                };
                self.diags.push(
                    Diagnostic::new(
                        Code::InvalidExample,
                        e.span,
                        format!("an example's answers are facts joined by `and`; {what} cannot be used here"),
                    )
                    .with_label("not a single answer")
                    .with_help(
                        "give each answer as `question == value` or `question in { ... }`; split an example with alternatives into two examples",
                    ),
                );
                *ok = false;
            }
        }
    }
}

/// Source text on one line, as a rule pack shows a condition: comments
/// dropped, each run of blanks one space, none just inside parentheses.
/// Conditions hold no strings, so `//` always starts a comment.
fn one_line(text: &str) -> String {
    let words: Vec<&str> = text
        .lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .flat_map(|code| code.split(|c: char| c.is_whitespace() || c == '\u{feff}'))
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ").replace("( ", "(").replace(" )", ")")
}

/// A comparison that suits the question's kind, for help messages.
fn example_comparison(name: &ast::Name, kind: &QuestionKind) -> String {
    let n = &name.node;
    match kind {
        QuestionKind::YesNo => format!("{n} == yes"),
        QuestionKind::OneOf(c) => format!(
            "{n} == {}",
            c.first().map(|c| c.id.as_str()).unwrap_or("option")
        ),
        QuestionKind::Scale(c) => format!(
            "{n} >= {}",
            c.get(1)
                .or(c.first())
                .map(|c| c.id.as_str())
                .unwrap_or("option")
        ),
        QuestionKind::Count { from } => format!("{n} >= {}", from + 1),
        QuestionKind::Amount { .. } => format!("{n} > 100"),
    }
}
