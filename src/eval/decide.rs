//! Answers in, decision out: validation, the decision with its route and
//! reasons, and the next question worth asking.

use serde::Serialize;
use serde_json::{Map, Value};

use super::engine::{Engine, Outcome};
use super::expr::{Known, Val};
use crate::diagnostic::did_you_mean;
use crate::emit::pack::{self, NodeKind, QuestionKind};

/// An incident's answers, checked against the pack: per question, its
/// answer, "not asked" (`Some(None)`), or not given (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answers {
    pub values: Vec<Option<Option<Val>>>,
}

/// Something wrong with the answers or the setting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AnswerError {
    #[error("there is no question `{question}`{}", hint(suggestion))]
    UnknownQuestion {
        question: String,
        suggestion: Option<String>,
    },
    #[error("`{given}` is not an answer to `{question}`: the answers are {}", options.join(", "))]
    UnknownOption {
        question: String,
        given: String,
        options: Vec<String>,
    },
    #[error("`{question}` is {expected}, but the answer given is {given}")]
    WrongKind {
        question: String,
        expected: String,
        given: String,
    },
    #[error("`{question}` does not apply to this incident: it is asked only when {condition}")]
    NotApplicable { question: String, condition: String },
    #[error("the decision depends on questions not answered: {}", questions.join(", "))]
    Missing { questions: Vec<String> },
    /// The protocol itself gives no level for this incident (a gap or a
    /// conflict its authors accepted).
    #[error("the protocol gives no level for this incident: {reason}")]
    NoLevel {
        reason: String,
        /// The reasons the protocol gives for accepting such gaps.
        accepted: Vec<String>,
    },
    /// A number typed as text in a form that could be misread: `1,50` is
    /// £1.50 in some places and £150 in others, so it is refused.
    #[error("`{given}` is not an answer to `{question}`: write {forms}")]
    BadNumber {
        question: String,
        given: String,
        forms: String,
    },
    #[error("there is no setting `{given}`: the settings are {}", settings.join(", "))]
    UnknownSetting {
        given: String,
        settings: Vec<String>,
    },
}

/// A count or amount typed as text, in the one form that cannot be misread:
/// digits, and for amounts an optional `£` and a dot before at most two
/// digits of pence. Separators (`1,500`, `1 500`, `1_500`), decimal commas
/// (`1,50`), signs and exponents are refused rather than guessed at.
fn typed_number(kind: QuestionKind, text: &str) -> Option<serde_json::Number> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let plain = match kind {
        QuestionKind::Amount => {
            let t = text.strip_prefix('£').unwrap_or(text);
            match t.split_once('.') {
                None if digits(t) => t,
                Some((pounds, pence)) if digits(pounds) && digits(pence) && pence.len() <= 2 => t,
                _ => return None,
            }
        }
        _ if digits(text) => text,
        _ => return None,
    };
    serde_json::from_str::<serde_json::Number>(plain).ok()
}

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// A rule, as a decision reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleRef {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub level: String,
    pub strength: pack::Strength,
    pub cites: Vec<pack::Citation>,
}

/// The level an incident is decided at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelRef {
    pub id: String,
    pub title: String,
    pub rank: u32,
    pub police: pack::Police,
    pub cites: Vec<pack::Citation>,
}

/// A step of the route, with whom it involves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteStep {
    pub id: String,
    pub kind: NodeKind,
    pub text: String,
    pub by: Vec<String>,
    pub contacts: Vec<ContactRef>,
    pub timing: Vec<String>,
    pub complete: Vec<String>,
    /// For decisions: the factors to weigh (lists that apply to this
    /// incident, with the lists they include).
    pub weigh: Vec<FactorsRef>,
    pub branches: Vec<pack::Branch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub cites: Vec<pack::Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContactRef {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactorsRef {
    pub id: String,
    pub title: String,
    pub items: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Route {
    pub id: String,
    pub title: String,
    /// From the start, every step that can follow, in order of distance.
    pub steps: Vec<RouteStep>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChecklistRef {
    pub id: String,
    pub title: String,
    pub items: Vec<ChecklistItem>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChecklistItem {
    pub text: String,
    pub by: Vec<String>,
}

/// One rule's condition, and whether it held.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleCheck {
    pub rule: String,
    pub level: String,
    pub when: String,
    /// `true`, `false`, or `null` when it depends on questions not answered
    /// (which the decision does not).
    pub held: Option<bool>,
    pub tests: Vec<TestCheck>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestCheck {
    pub test: String,
    pub held: Option<bool>,
}

/// What an incident is decided as, and everything staff need to act on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub level: LevelRef,
    /// True when no rule applied and the level is the protocol's `otherwise`.
    pub by_otherwise: bool,
    pub deciding: Vec<RuleRef>,
    /// Rules that also held but gave way under the policy.
    pub overruled: Vec<RuleRef>,
    pub policy: pack::PolicyKind,
    pub setting: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// Why the setting has no route, when the protocol says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_route: Option<String>,
    pub checklists: Vec<ChecklistRef>,
    pub explanation: Vec<RuleCheck>,
}

impl Engine {
    /// Check answers given as a JSON object (question id to answer:
    /// `true`/`false`, an option id, or a number).
    ///
    /// `null` is read as no answer, exactly like leaving the question out:
    /// it means "not asked" only where the other answers show that the
    /// question does not apply. Where it applies (or may), a decision that
    /// depends on it is refused with [`AnswerError::Missing`]. A `null` must
    /// never stand for an unknown answer and quietly give a lower level.
    pub fn answers(&self, given: &Map<String, Value>) -> Result<Answers, Vec<AnswerError>> {
        let mut errors = Vec::new();
        let mut values = vec![None; self.pack.questions.len()];
        for (id, v) in given {
            let Some(q) = self.question_index(id) else {
                errors.push(AnswerError::UnknownQuestion {
                    question: id.clone(),
                    suggestion: did_you_mean(id, self.pack.questions.iter().map(|q| q.id.as_str()))
                        .map(str::to_owned),
                });
                continue;
            };
            match self.value(q, v) {
                // Not given: "not asked" follows from the other answers
                // where the question does not apply (`Engine::known`).
                Ok(None) => {}
                Ok(val) => values[q] = Some(val),
                Err(e) => errors.push(e),
            }
        }
        let answers = Answers { values };
        // An answer to a question that the other answers rule out.
        let known = self.known_of(&answers);
        for (q, v) in answers.values.iter().enumerate() {
            if let (Some(Some(_)), Some(cond)) = (v, self.asked_when(q))
                && cond.eval3(&known) == Some(false)
            {
                let question = &self.pack.questions[q];
                errors.push(AnswerError::NotApplicable {
                    question: question.id.clone(),
                    condition: question.asked_when_text.clone().unwrap_or_default(),
                });
            }
        }
        if errors.is_empty() {
            Ok(answers)
        } else {
            Err(errors)
        }
    }

    /// One answer as JSON, checked against question `q`.
    fn value(&self, q: usize, v: &Value) -> Result<Option<Val>, AnswerError> {
        let question = &self.pack.questions[q];
        let wrong = |expected: &str| AnswerError::WrongKind {
            question: question.id.clone(),
            expected: expected.into(),
            given: v.to_string(),
        };
        Ok(Some(match (question.kind, v) {
            (_, Value::Null) => return Ok(None),
            (QuestionKind::YesNo, Value::Bool(b)) => Val::Bool(*b),
            (QuestionKind::YesNo, _) => return Err(wrong("a yes/no question (true or false)")),
            (QuestionKind::OneOf | QuestionKind::Scale, Value::String(s)) => {
                match question.options.iter().position(|o| o.id == *s) {
                    Some(i) => Val::Opt(i as u32),
                    None => {
                        return Err(AnswerError::UnknownOption {
                            question: question.id.clone(),
                            given: s.clone(),
                            options: question.options.iter().map(|o| o.id.clone()).collect(),
                        });
                    }
                }
            }
            (QuestionKind::OneOf | QuestionKind::Scale, _) => {
                return Err(wrong("answered with one of its options"));
            }
            (QuestionKind::Count, Value::Number(n)) => {
                let min = question.minimum.unwrap_or(0);
                match n.as_i64() {
                    Some(c) if c >= min => Val::Num(c),
                    _ => {
                        return Err(wrong(&format!(
                            "a count (a whole number of at least {min})"
                        )));
                    }
                }
            }
            (QuestionKind::Count, _) => return Err(wrong("a count (a whole number)")),
            (QuestionKind::Amount, Value::Number(n)) => {
                let pounds = n.as_f64().unwrap_or(-1.0);
                let pence = (pounds * 100.0).round();
                if pounds < 0.0 || (pence - pounds * 100.0).abs() > 1e-6 || pence > 9e15 {
                    return Err(wrong(
                        "an amount (pounds, at most two decimal places, not negative)",
                    ));
                }
                Val::Num(pence as i64)
            }
            (QuestionKind::Amount, _) => return Err(wrong("an amount (a number of pounds)")),
        }))
    }

    /// An answer typed as text (`--answer q=value`, or at a prompt) as JSON.
    pub fn parse_answer(&self, question: &str, text: &str) -> Result<Value, AnswerError> {
        let Some(q) = self.question_index(question) else {
            return Err(AnswerError::UnknownQuestion {
                question: question.into(),
                suggestion: did_you_mean(
                    question,
                    self.pack.questions.iter().map(|q| q.id.as_str()),
                )
                .map(str::to_owned),
            });
        };
        let text = text.trim();
        let kind = self.pack.questions[q].kind;
        let v = match kind {
            QuestionKind::YesNo => match text.to_ascii_lowercase().as_str() {
                "yes" | "y" | "true" => Value::Bool(true),
                "no" | "n" | "false" => Value::Bool(false),
                _ => Value::String(text.into()),
            },
            QuestionKind::OneOf | QuestionKind::Scale => Value::String(text.into()),
            QuestionKind::Count | QuestionKind::Amount => {
                let Some(number) = typed_number(kind, text) else {
                    return Err(AnswerError::BadNumber {
                        question: question.into(),
                        given: text.into(),
                        forms: if kind == QuestionKind::Amount {
                            "an amount in pounds, with a dot before the pence and no other marks: 150, 150.50 or £150.50".into()
                        } else {
                            "a whole number written with digits only, such as 3".into()
                        },
                    });
                };
                Value::Number(number)
            }
        };
        self.value(q, &v)?;
        Ok(v)
    }

    fn known_of(&self, answers: &Answers) -> Vec<Known> {
        let given: Vec<Option<Val>> = answers.values.iter().map(|v| v.flatten()).collect();
        let answered: Vec<bool> = answers.values.iter().map(Option::is_some).collect();
        self.known(&given, &answered)
    }

    /// The questions whose answers can still change the level, in the
    /// protocol's order (empty once the level is settled).
    pub fn open_questions(&self, answers: &Answers) -> Vec<usize> {
        let mut partial = self.partial(self.known_of(answers)).with_diagram();
        if partial.possible(2).len() < 2 {
            return Vec::new();
        }
        (0..self.pack.questions.len())
            .filter(|q| partial.matters(*q))
            .collect()
    }

    /// The next question worth asking: the first, in the protocol's order,
    /// that applies to the incident so far (no possible incident leaves it
    /// unasked) and whose answer can still change the level; failing that,
    /// the first whose answer can; `None` once the level is settled.
    pub fn next_question(&self, answers: &Answers) -> Option<&pack::Question> {
        let mut partial = self.partial(self.known_of(answers)).with_diagram();
        if partial.possible(2).len() < 2 {
            return None;
        }
        let mut first_open = None;
        for q in 0..self.pack.questions.len() {
            if !partial.matters(q) {
                continue;
            }
            if partial.applies(q) {
                return Some(&self.pack.questions[q]);
            }
            first_open.get_or_insert(q);
        }
        first_open.map(|q| &self.pack.questions[q])
    }

    /// Decide an incident for a setting.
    pub fn decide(&self, answers: &Answers, setting: &str) -> Result<Decision, Vec<AnswerError>> {
        let pack = &self.pack;
        let Some(setting_def) = pack.settings.iter().find(|s| s.id == setting) else {
            return Err(vec![AnswerError::UnknownSetting {
                given: setting.into(),
                settings: pack.settings.iter().map(|s| s.id.clone()).collect(),
            }]);
        };
        let known = self.known_of(answers);
        let possible = self.possible(&known, 2);
        let outcome = match possible.iter().next() {
            Some(o) if possible.len() == 1 => *o,
            _ => {
                let questions = self
                    .open_questions(answers)
                    .into_iter()
                    .map(|q| pack.questions[q].id.clone())
                    .collect();
                return Err(vec![AnswerError::Missing { questions }]);
            }
        };
        let level = match outcome {
            Outcome::Level(l) => l,
            // Analysis reports these; an accepted gap can still reach here.
            Outcome::Undecided | Outcome::Conflict => return Err(vec![self.undecided(outcome)]),
        };
        let held: Vec<Option<bool>> = (0..pack.rules.len())
            .map(|r| self.rule_condition(r).eval3(&known))
            .collect();
        let rule_ref = |r: usize| {
            let rule = &pack.rules[r];
            RuleRef {
                id: rule.id.clone(),
                title: rule.title.clone(),
                level: rule.level.clone(),
                strength: rule.strength,
                cites: rule.cites.clone(),
            }
        };
        let holding: Vec<usize> = (0..held.len()).filter(|r| held[*r] == Some(true)).collect();
        let deciding: Vec<usize> = match pack.policy.kind {
            pack::PolicyKind::FirstMatch => holding.iter().take(1).copied().collect(),
            _ => holding
                .iter()
                .filter(|r| self.rule_level(**r) == level)
                .copied()
                .collect(),
        };
        let overruled = holding
            .iter()
            .filter(|r| !deciding.contains(r))
            .map(|r| rule_ref(*r))
            .collect();
        let explanation = (0..pack.rules.len())
            .map(|r| RuleCheck {
                rule: pack.rules[r].id.clone(),
                level: pack.rules[r].level.clone(),
                when: pack.rules[r].when_text.clone(),
                held: held[r],
                tests: self
                    .rule_condition(r)
                    .tests()
                    .into_iter()
                    .map(|(q, t)| TestCheck {
                        test: self.describe_test(q, t),
                        held: match known[q] {
                            Known::Is(v) => Some(t.holds(v)),
                            Known::Unknown => None,
                        },
                    })
                    .collect(),
            })
            .collect();
        let l = &pack.levels[level];
        let route = pack.routes.iter().find(|r| {
            r.settings.iter().any(|s| s == setting) && r.starts.iter().any(|s| s.level == l.id)
        });
        let route = route.map(|r| self.route(r, &l.id, &known));
        let mut checklists: Vec<String> = Vec::new();
        for step in route.iter().flat_map(|r| &r.steps) {
            for c in &step.complete {
                if !checklists.contains(c) {
                    checklists.push(c.clone());
                }
            }
        }
        Ok(Decision {
            level: LevelRef {
                id: l.id.clone(),
                title: l.title.clone(),
                rank: l.rank,
                police: l.police,
                cites: l.cites.clone(),
            },
            by_otherwise: deciding.is_empty(),
            deciding: deciding.into_iter().map(rule_ref).collect(),
            overruled,
            policy: pack.policy.kind,
            setting: setting.into(),
            route,
            no_route: setting_def.no_route.clone(),
            checklists: checklists
                .iter()
                .filter_map(|id| pack.checklists.iter().find(|c| c.id == *id))
                .map(|c| ChecklistRef {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    items: c
                        .items
                        .iter()
                        .map(|i| ChecklistItem {
                            text: i.text.clone(),
                            by: i.by.iter().map(|a| self.actor_title(a)).collect(),
                        })
                        .collect(),
                })
                .collect(),
            explanation,
        })
    }

    fn undecided(&self, outcome: Outcome) -> AnswerError {
        let reason = match outcome {
            Outcome::Conflict => {
                "rules of different levels apply, and the protocol says they must not overlap"
            }
            _ => "no rule applies, and the protocol gives no `otherwise` level",
        };
        AnswerError::NoLevel {
            reason: reason.into(),
            accepted: self
                .pack
                .accepted_findings
                .iter()
                .filter(|f| f.code == "carepath::gap" || f.code == "carepath::conflict")
                .map(|f| f.reason.clone())
                .collect(),
        }
    }

    fn actor_title(&self, id: &str) -> String {
        self.pack
            .actors
            .iter()
            .find(|a| a.id == id)
            .map_or_else(|| id.to_string(), |a| a.title.clone())
    }

    fn route(&self, r: &pack::Route, level: &str, known: &[Known]) -> Route {
        let start = r
            .starts
            .iter()
            .find(|s| s.level == level)
            .map(|s| s.node.clone());
        let mut order: Vec<String> = start.into_iter().collect();
        let mut i = 0;
        while i < order.len() {
            if let Some(n) = r.nodes.iter().find(|n| n.id == order[i]) {
                for next in n.next.iter().chain(n.branches.iter().map(|b| &b.to)) {
                    if !order.contains(next) {
                        order.push(next.clone());
                    }
                }
            }
            i += 1;
        }
        let steps = order
            .iter()
            .filter_map(|id| r.nodes.iter().find(|n| n.id == *id))
            .map(|n| RouteStep {
                id: n.id.clone(),
                kind: n.kind,
                text: n.text.clone(),
                by: n.by.iter().map(|a| self.actor_title(a)).collect(),
                contacts: n
                    .contacts
                    .iter()
                    .map(|c| match self.pack.contacts.iter().find(|x| x.id == *c) {
                        Some(x) => ContactRef {
                            id: x.id.clone(),
                            title: x.title.clone(),
                            phone: x.phone.clone(),
                            web: x.web.clone(),
                            email: x.email.clone(),
                        },
                        None => ContactRef {
                            id: c.clone(),
                            title: self.actor_title(c),
                            phone: None,
                            web: None,
                            email: None,
                        },
                    })
                    .collect(),
                timing: n.timing.clone(),
                complete: n.complete.clone(),
                weigh: self.factors_for(&n.weigh, known),
                branches: n.branches.clone(),
                next: n.next.clone(),
                cites: n.cites.clone(),
            })
            .collect();
        Route {
            id: r.id.clone(),
            title: r.title.clone(),
            steps,
        }
    }

    /// The factor lists named, with the lists they include, that apply to
    /// the incident (or may: their condition is not settled).
    fn factors_for(&self, names: &[String], known: &[Known]) -> Vec<FactorsRef> {
        let mut out: Vec<FactorsRef> = Vec::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(id) = todo.pop() {
            let Some(i) = self.pack.factors.iter().position(|f| f.id == id) else {
                continue;
            };
            if out.iter().any(|f| f.id == id) {
                continue;
            }
            let f = &self.pack.factors[i];
            if self
                .factor_condition(i)
                .is_some_and(|c| c.eval3(known) == Some(false))
            {
                continue;
            }
            out.push(FactorsRef {
                id: f.id.clone(),
                title: f.title.clone(),
                items: f.items.clone(),
            });
            todo.extend(f.includes.iter().rev().cloned());
        }
        out
    }
}
