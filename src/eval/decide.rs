//! Answers in, decision out: validation, the decision with its route and
//! reasons, and the next question worth asking.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};
use smallvec::{SmallVec, smallvec};

use super::classes::{GIVEN_NULL, UNSET, with_scratch};
use super::compiled::{End, Outcomes, Walked};
use super::decision::{
    AcceptedRef, ActionRef, BranchRef, ChecklistItem, ChecklistRef, ContactRef, Decision,
    FactorsRef, LevelRef, Met, PoliceRef, ProcedureRef, Route, RouteStep, RuleCheck, RuleRef,
    SettledBy, Steps, TestCheck,
};
use super::diagram::cell_of;
use super::engine::{Engine, NodeConds, On, Outcome, Party, Start, Verdict};
use super::expr::{Expr, Known, Val};
use super::reader::{Answer, Wrong};
use crate::diagnostic::did_you_mean;
use crate::emit::pack::{self, NodeKind, QuestionKind};

/// The nodes of a route a walk has met: a word of bits for a route of up
/// to 64 nodes, which is every route a protocol has so far.
enum Seen {
    Word(u64),
    Many(Vec<bool>),
}

impl Seen {
    fn new(nodes: usize) -> Seen {
        if nodes <= 64 {
            Seen::Word(0)
        } else {
            Seen::Many(vec![false; nodes])
        }
    }

    /// Mark node `n` met; `false` when it was met before.
    fn insert(&mut self, n: usize) -> bool {
        match self {
            Seen::Word(bits) => {
                let was = *bits >> n & 1 == 1;
                *bits |= 1 << n;
                !was
            }
            Seen::Many(met) => !std::mem::replace(&mut met[n], true),
        }
    }
}

/// An incident's answers, checked against the pack: per question, its
/// answer, "not asked" (`Some(None)`), or not given (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answers {
    pub values: Vec<Option<Option<Val>>>,
}

/// A level and police response that partial answers settle, with the
/// setting's index and what the answers tell of each question.
struct Settled<'k> {
    level: usize,
    /// The police response's key in the police table.
    police: u32,
    si: usize,
    known: Cow<'k, [Known]>,
}

/// The level an incident reaches, with the police response for the
/// setting (see [`Engine::level_of`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reached<'p> {
    pub level: &'p pack::Level,
    pub police: pack::Response,
    /// Who judges, for a judgement (the actor's title).
    pub by: Option<&'p str>,
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
    #[error("`{given}` is not an answer to `{question}`{}: the answers are {}", hint(suggestion), options.join(", "))]
    UnknownOption {
        question: String,
        given: String,
        options: Vec<String>,
        /// The answer closest to the one given, when one is close.
        suggestion: Option<String>,
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
        /// One of two fixed sentences (a gap, or a conflict), so that an
        /// incident without a level costs no text to report.
        reason: &'static str,
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
    #[error("there is no setting `{given}`{}: the settings are {}", hint(suggestion), settings.join(", "))]
    UnknownSetting {
        given: String,
        settings: Vec<String>,
        /// The setting closest to the one given, when one is close.
        suggestion: Option<String>,
    },
    /// The answers name a setting other than the one decided for.
    #[error("the answers give the setting `{given}`, but the incident is decided for `{setting}`")]
    SettingDiffers { given: String, setting: String },
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

/// How many nodes of the compiled decision [`Engine::next_question`] looks
/// at before it leaves the question to the exact search.
const NEXT_QUESTION_BUDGET: u32 = 4096;

/// The option id closest to `given`, when one is close enough to be a
/// slip (`posession` for `possession`).
fn closest(given: &str, options: &[pack::Choice]) -> Option<String> {
    did_you_mean(given, options.iter().map(|o| o.id.as_str())).map(str::to_owned)
}

fn hint(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
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
        match self.answers_directly(given) {
            Some(answers) => Ok(answers),
            None => self.answers_checked(given),
        }
    }

    /// [`Engine::answers`] answer by answer, wording every error.
    fn answers_checked(&self, given: &Map<String, Value>) -> Result<Answers, Vec<AnswerError>> {
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

    /// [`Engine::answers`] for answers that are all valid and each to a
    /// question that the others show is asked: read in one pass (the
    /// question after the last one read is tried before the lookup, as in
    /// [`Engine::read_class`]), their asking checked over answer classes.
    /// `None` for any other answers, which the full check judges and words
    /// (an answer whose asking the others leave open is valid, and is
    /// accepted there).
    fn answers_directly(&self, given: &Map<String, Value>) -> Option<Answers> {
        let n = self.pack.questions.len();
        let mut values = vec![None; n];
        with_scratch(n, |class| {
            let mut next = 0;
            for (id, v) in given {
                let (q, v) = self.read_class(class, &mut next, id, v)?;
                values[q] = v.map(Some);
            }
            self.given_setting(class);
            self.classes().settle_asked(class).then_some(())
        })?;
        Some(Answers { values })
    }

    /// One answer as JSON, checked against question `q`.
    fn value(&self, q: usize, v: &Value) -> Result<Option<Val>, AnswerError> {
        let question = &self.pack.questions[q];
        let wrong = |expected: &str| AnswerError::WrongKind {
            question: question.id.clone(),
            expected: expected.into(),
            given: v.to_string(),
        };
        let unknown = |given: &str| {
            let options = question.options.iter().map(|o| o.id.clone()).collect();
            let suggestion = closest(given, &question.options);
            match question.kind {
                QuestionKind::Setting => AnswerError::UnknownSetting {
                    given: given.into(),
                    settings: options,
                    suggestion,
                },
                _ => AnswerError::UnknownOption {
                    question: question.id.clone(),
                    given: given.into(),
                    options,
                    suggestion,
                },
            }
        };
        self.reader()
            .value(q, v)
            .map_err(|w| match (w, question.kind, v) {
                (Wrong::Option, _, Value::String(s)) => unknown(s),
                (_, QuestionKind::Setting, _) => wrong("the setting (a setting id)"),
                (_, QuestionKind::YesNo, _) => wrong("a yes/no question (true or false)"),
                (_, QuestionKind::OneOf | QuestionKind::Scale, _) => {
                    wrong("answered with one of its options")
                }
                (Wrong::Number, QuestionKind::Count, _) => wrong(&format!(
                    "a count (a whole number of at least {})",
                    question.minimum.unwrap_or(0)
                )),
                (_, QuestionKind::Count, _) => wrong("a count (a whole number)"),
                (Wrong::Number, QuestionKind::Amount, _) => {
                    wrong("an amount (pounds, at most two decimal places, not negative)")
                }
                (_, QuestionKind::Amount, _) => wrong("an amount (a number of pounds)"),
            })
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
            QuestionKind::Setting | QuestionKind::OneOf | QuestionKind::Scale => {
                Value::String(text.into())
            }
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

    /// What checked answers tell of each question (as [`Engine::known`]
    /// gives it), built in one pass.
    fn known_of(&self, answers: &Answers) -> Vec<Known> {
        let mut known: Vec<Known> = answers
            .values
            .iter()
            .map(|v| match v {
                Some(v) => Known::Is(*v),
                None => Known::Unknown,
            })
            .collect();
        self.infer_not_asked(&mut known);
        known
    }

    /// Give the answers the setting the incident is decided for (the
    /// setting question, when the pack has one): refused when the answers
    /// name another setting, or the setting is unknown.
    pub fn with_setting(&self, answers: &Answers, setting: &str) -> Result<Answers, AnswerError> {
        let pack = &self.pack;
        let Some(si) = pack.settings.iter().position(|s| s.id == setting) else {
            return Err(AnswerError::UnknownSetting {
                given: setting.into(),
                settings: pack.settings.iter().map(|s| s.id.clone()).collect(),
                suggestion: did_you_mean(setting, pack.settings.iter().map(|s| s.id.as_str()))
                    .map(str::to_owned),
            });
        };
        let mut out = answers.clone();
        if let Some(q) = self.setting_question() {
            let want = Val::Opt(si as u32);
            match out.values[q] {
                Some(Some(v)) if v != want => {
                    let given = match v {
                        Val::Opt(o) => pack.questions[q].options[o as usize].id.clone(),
                        _ => String::new(),
                    };
                    return Err(AnswerError::SettingDiffers {
                        given,
                        setting: setting.into(),
                    });
                }
                _ => out.values[q] = Some(Some(want)),
            }
        }
        Ok(out)
    }

    /// The index of the setting the answers give (the first when they give
    /// none).
    fn setting_of(&self, answers: &Answers) -> usize {
        match self.setting_question().and_then(|q| answers.values[q]) {
            Some(Some(Val::Opt(o))) => o as usize,
            _ => 0,
        }
    }

    /// The level an incident's answers (a JSON object, as for
    /// [`Engine::answers`]) reach in a setting, with the police response:
    /// the same as [`Engine::decide`] gives, and the same errors, without
    /// the rest of the decision. Checked answers that follow the compiled
    /// decision reach it in one pass over the answers and one branch per
    /// question met; anything else takes the full path.
    pub fn level_of(
        &self,
        given: &Map<String, Value>,
        setting: &str,
    ) -> Result<Reached<'_>, Vec<AnswerError>> {
        if let Some(reached) = self.level_directly(given, setting) {
            return reached;
        }
        let answers = self.answers(given)?;
        let settled = self.settled_level(&answers, setting)?;
        let deciding = self.deciding_rules(settled.level, &settled.known);
        let police = self.decision_police(&settled, &deciding);
        Ok(Reached {
            level: &self.pack.levels[settled.level],
            police: police.response,
            by: police.by,
        })
    }

    /// [`Engine::level_of`] for answers that are all valid, each asked
    /// given the others, and that reach an end of the compiled decision
    /// (a level, or none); `None` for any other answers, which the full
    /// path judges (and, when they are wrong, explains).
    #[allow(clippy::type_complexity)]
    fn level_directly(
        &self,
        given: &Map<String, Value>,
        setting: &str,
    ) -> Option<Result<Reached<'_>, Vec<AnswerError>>> {
        self.walk_given(given, setting, None, |end, _, class, _| match end {
            End::Level { level, key } => {
                let (police, by) = &self.police_table().values[key as usize];
                Some(Ok(Reached {
                    level: &self.pack.levels[level],
                    police: *police,
                    by: by.as_deref().map(|a| self.actor_title(a)),
                }))
            }
            End::Undecided => Some(Err(self.undecided_classes(Outcome::Undecided, class))),
            End::Conflict => Some(Err(self.undecided_classes(Outcome::Conflict, class))),
        })
    }

    /// Read an answers object straight into answer classes and walk the
    /// compiled decision for the setting; `then` gets the end reached, the
    /// setting's index, the classes and `known` with each answer read
    /// (when it is given). `None` (for the full path to judge) when an
    /// answer is not valid, is to a question not asked or whose asking the
    /// answers leave open, or the walk stops before an end.
    pub(super) fn walk_given<T>(
        &self,
        given: &Map<String, Value>,
        setting: &str,
        mut known: Option<&mut [Known]>,
        then: impl FnOnce(End, usize, &[u32], Option<&mut [Known]>) -> Option<T>,
    ) -> Option<T> {
        let si = self.pack.settings.iter().position(|s| s.id == setting)?;
        with_scratch(self.pack.questions.len(), |class| {
            let mut next = 0;
            for (id, v) in given {
                match self.read_class(class, &mut next, id, v)? {
                    // An object has each key once: a `null` is no answer
                    // at once (see `Engine::given_setting`).
                    (q, None) => class[q] = UNSET,
                    (q, Some(v)) => {
                        if let Some(known) = known.as_deref_mut() {
                            known[q] = Known::Is(Some(v));
                        }
                    }
                }
            }
            self.walk_classes(si, class, |end, si, class| then(end, si, class, known))
        })
    }

    /// Read answer `v` to question `id` into `class`, giving the question
    /// and the answer read (`None` for `null`). `next` is the question
    /// after the last one read: apps send the questions in one order, most
    /// often the pack's, so it is tried before the lookup. `None` for an
    /// unknown question, a wrong answer or a question given twice (an
    /// answer of `null` is marked as given until
    /// [`Engine::given_setting`]).
    #[inline(always)]
    pub(super) fn read_class(
        &self,
        class: &mut [u32],
        next: &mut usize,
        id: &str,
        v: &impl Answer,
    ) -> Option<(usize, Option<Val>)> {
        let q = match self.reader().is_question(*next, id) {
            true => *next,
            false => self.question_index(id)?,
        };
        *next = q + 1;
        if class[q] != UNSET {
            return None;
        }
        let v = self.reader().value(q, v).ok()?;
        class[q] = match v {
            None => GIVEN_NULL,
            Some(v) => self.classes().class_of(q, v)?,
        };
        Some((q, v))
    }

    /// Once every answer is read: an answer of `null` is no answer. The
    /// setting the answers give, when they give one.
    pub(super) fn given_setting(&self, class: &mut [u32]) -> Option<usize> {
        for c in class.iter_mut() {
            if *c == GIVEN_NULL {
                *c = UNSET;
            }
        }
        self.setting_question()
            .map(|sq| class[sq])
            .filter(|c| *c != UNSET)
            .map(|c| c as usize)
    }

    /// Walk the compiled decision for setting `si` with answers read into
    /// classes (see [`Engine::walk_given`]).
    pub(super) fn walk_classes<T>(
        &self,
        si: usize,
        class: &mut [u32],
        then: impl FnOnce(End, usize, &[u32]) -> Option<T>,
    ) -> Option<T> {
        let compiled = self.compiled()?;
        if let Some(sq) = self.setting_question() {
            match class[sq] {
                UNSET => class[sq] = si as u32,
                c if c as usize != si => return None,
                _ => {}
            }
        }
        if !self.classes().settle_asked(class) {
            return None;
        }
        let Walked::End(e) = compiled.walk(si, |q| Some(class[q]).filter(|c| *c != UNSET)) else {
            return None;
        };
        then(compiled.ends[e as usize], si, class)
    }

    /// [`Engine::undecided`] for answers read into classes.
    pub(super) fn undecided_classes(&self, outcome: Outcome, class: &[u32]) -> Vec<AnswerError> {
        let known: Vec<Known> = class
            .iter()
            .enumerate()
            .map(|(q, c)| match *c {
                UNSET => Known::Unknown,
                c => Known::Is(self.cells()[q][c as usize]),
            })
            .collect();
        vec![self.undecided(outcome, &known)]
    }

    /// The questions whose answers can still change the level or the police
    /// response, in the protocol's order (empty once both are settled). The
    /// setting is
    /// never among them: it is given, not asked.
    pub fn open_questions(&self, answers: &Answers) -> Vec<usize> {
        let mut partial = self.partial(self.known_of(answers)).with_diagram();
        if partial.possible(2).len() < 2 {
            return Vec::new();
        }
        (0..self.pack.questions.len())
            .filter(|q| Some(*q) != self.setting_question() && partial.matters(*q))
            .collect()
    }

    /// The next question worth asking: the first, in the protocol's order,
    /// that applies to the incident so far (no possible incident leaves it
    /// unasked) and whose answer can still change the level or the police
    /// response; failing that, the first whose answer can. Once both are
    /// settled, the first
    /// question a procedure's condition still waits on. `None` when
    /// everything is settled.
    pub fn next_question(&self, answers: &Answers) -> Option<&pack::Question> {
        let key = match self.next_directly(answers) {
            Ok(next) => return next.map(|q| &self.pack.questions[q]),
            Err(key) => key,
        };
        let next = self.next_searched(answers);
        if let Some(key) = key {
            self.remember_next(key, next);
        }
        next.map(|q| &self.pack.questions[q])
    }

    /// [`Engine::next_question`] by the exact search on the diagrams.
    fn next_searched(&self, answers: &Answers) -> Option<usize> {
        let known = self.known_of(answers);
        let mut partial = self.partial(known.clone()).with_diagram();
        if partial.possible(2).len() < 2 {
            return self.open_procedure_questions(&known).first().copied();
        }
        // The questions before the one the compiled decision stops at do
        // not matter: the walk passed their place without asking them.
        let si = self.setting_of(answers);
        let from = match self.walk_compiled(&known, si) {
            Some(Walked::Open { question, .. }) => question,
            _ => 0,
        };
        let mut first_open = None;
        for q in from..self.pack.questions.len() {
            if Some(q) == self.setting_question() || !partial.matters(q) {
                continue;
            }
            if partial.applies(q) {
                return Some(q);
            }
            first_open.get_or_insert(q);
        }
        first_open
    }

    /// [`Engine::next_question`] on the compiled decision, where it can
    /// tell at once: the walk stops at the first question on its way with
    /// no answer (the questions before it do not matter: the walk passed
    /// their place without asking them), and that question is the next when
    /// it applies and two of its answers lead to ends (a level with its
    /// police response) that cannot meet, whatever the rest of the answers
    /// are. When the walk reaches an end, the level and response are
    /// settled, and the next question is the first a procedure waits on
    /// (none when the answers settle every procedure). Answers whose next
    /// question was found before (see [`Engine::next_key`]) get it back
    /// at once.
    ///
    /// `Err` leaves the question to the exact search, with the key to
    /// remember its answer under, when the answers have one.
    fn next_directly(&self, answers: &Answers) -> Result<Option<usize>, Option<u64>> {
        let Some(compiled) = self.compiled() else {
            return Err(None);
        };
        let classes = self.classes();
        let si = match self.setting_question() {
            Some(sq) => match answers.values[sq] {
                Some(Some(Val::Opt(o))) => o as usize,
                _ => return Err(None),
            },
            None => 0,
        };
        with_scratch(self.pack.questions.len(), |class| {
            for (q, v) in answers.values.iter().enumerate() {
                match v {
                    Some(Some(v)) => match classes.class_of(q, *v) {
                        Some(c) => class[q] = c,
                        None => return Err(None),
                    },
                    Some(None) => return Err(None),
                    None => {}
                }
            }
            if !classes.settle_asked(class) {
                return Err(None);
            }
            let key = self.next_key(class);
            if let Some(next) = key.and_then(|k| self.remembered_next(k)) {
                return Ok(next);
            }
            let (q, node) = match compiled.walk(si, |q| Some(class[q]).filter(|c| *c != UNSET)) {
                Walked::Open { question, node } => (question, node),
                Walked::End(_) => {
                    // The level and response are settled: what is left is
                    // what the procedures wait on.
                    let settled = classes.procedures.iter().all(|p| p.eval3(class).is_some());
                    if settled {
                        return Ok(None);
                    }
                    let open = self.open_procedure_questions(&self.known_of(answers));
                    let next = open.first().copied();
                    if let Some(key) = key {
                        self.remember_next(key, next);
                    }
                    return Ok(next);
                }
                Walked::Impossible => return Err(key),
            };
            if classes.asked(q, class) != Some(true) {
                return Err(key);
            }
            // The ends below each answer to it (not "not asked": it is).
            let mut budget = NEXT_QUESTION_BUDGET;
            let mut below: Vec<Outcomes> = Vec::new();
            let mut from = 0;
            for (end, target) in &compiled.nodes[node as usize].runs {
                let answered = (from..*end).filter(|c| Some(*c) != classes.not_asked(q));
                from = *end;
                for c in answered {
                    class[q] = c;
                    let found = compiled.outcomes_below(*target, class, classes, &mut budget);
                    class[q] = UNSET;
                    let Some(found) = found else {
                        return Err(key);
                    };
                    below.push(found);
                    if !classes.tested_by_asked(q) {
                        // The same below every class of the run.
                        break;
                    }
                }
            }
            let apart = below
                .iter()
                .any(|a| below.iter().any(|b| *a != 0 && *b != 0 && a & b == 0));
            if apart { Ok(Some(q)) } else { Err(key) }
        })
    }

    /// The unknown questions whose answers can still change which
    /// procedures apply, in the protocol's order, those that every possible
    /// incident asks first. A question counts when two possible incidents
    /// that differ only in it (and the questions asked because of it) give
    /// different procedures: judged on the procedures diagram, else by
    /// enumerating completions (see `procedure_status_enumerated`).
    fn open_procedure_questions(&self, known: &[Known]) -> Vec<usize> {
        self.procedure_status(known).1
    }

    /// Which procedures apply to every possible incident that agrees with
    /// the known answers, and (see [`Engine::open_procedure_questions`]) the
    /// questions that can still change which apply.
    fn procedure_status(&self, known: &[Known]) -> (Vec<usize>, Vec<usize>) {
        let settled = (0..self.pack.procedures.len())
            .all(|p| self.procedure_condition(p).eval3(known).is_some());
        if settled {
            let applying = (0..self.pack.procedures.len())
                .filter(|p| self.procedure_condition(*p).eval3(known) == Some(true))
                .collect();
            return (applying, Vec::new());
        }
        if let Some(found) = self.procedure_status_on_diagram(known) {
            return found;
        }
        let (applying, open, _) = self.procedure_status_enumerated(known);
        (applying, open)
    }

    /// [`Engine::procedure_status`] both ways, on the diagram (when it can
    /// be had) and by enumeration (with whether it was exact), for the
    /// tests to compare.
    #[cfg(test)]
    #[allow(clippy::type_complexity)]
    pub(super) fn procedure_status_both_ways(
        &self,
        known: &[Known],
    ) -> (
        Option<(Vec<usize>, Vec<usize>)>,
        (Vec<usize>, Vec<usize>, bool),
    ) {
        (
            self.procedure_status_on_diagram(known),
            self.procedure_status_enumerated(known),
        )
    }

    /// [`Engine::procedure_status`] by enumerating the completions of the
    /// questions the open procedures test, and whether that was exact:
    /// past `MAX_COMPLETIONS`, every unknown question an open procedure
    /// tests counts, in the protocol's order.
    fn procedure_status_enumerated(&self, known: &[Known]) -> (Vec<usize>, Vec<usize>, bool) {
        let mut applying: Vec<usize> = (0..self.pack.procedures.len())
            .filter(|p| self.procedure_condition(*p).eval3(known) == Some(true))
            .collect();
        let open: Vec<usize> = (0..self.pack.procedures.len())
            .filter(|p| self.procedure_condition(*p).eval3(known).is_none())
            .collect();
        if open.is_empty() {
            return (applying, Vec::new(), true);
        }
        // The unknown questions the open procedures test, and those that
        // "asked when" conditions test (of these, and of the questions
        // already answered or known not asked, which constrain them),
        // transitively.
        let mut relevant: Vec<usize> = Vec::new();
        let mut todo: Vec<usize> = open
            .iter()
            .flat_map(|p| self.procedure_condition(*p).tests())
            .map(|(q, _)| q)
            .collect();
        for (q, k) in known.iter().enumerate() {
            if *k != Known::Unknown
                && let Some(c) = self.asked_when(q)
            {
                todo.extend(c.tests().into_iter().map(|(t, _)| t));
            }
        }
        while let Some(q) = todo.pop() {
            if known[q] != Known::Unknown || relevant.contains(&q) {
                continue;
            }
            relevant.push(q);
            if let Some(c) = self.asked_when(q) {
                todo.extend(c.tests().into_iter().map(|(t, _)| t));
            }
        }
        relevant.sort_unstable();
        let cells = self.cells();
        let total = relevant
            .iter()
            .try_fold(1usize, |n, q| n.checked_mul(cells[*q].len()));
        if total.is_none_or(|t| t > MAX_COMPLETIONS) {
            return (applying, relevant, false);
        }
        // The relevant questions, and those whose "asked when" tests one,
        // must be asked exactly when their condition holds.
        let constrained: Vec<usize> = (0..known.len())
            .filter(|q| {
                relevant.contains(q)
                    || self
                        .asked_when(*q)
                        .is_some_and(|c| c.tests().iter().any(|(t, _)| relevant.contains(t)))
            })
            .collect();
        let mut completions: Vec<(Vec<Option<Val>>, Vec<bool>)> = Vec::new();
        let mut choice = vec![0usize; relevant.len()];
        let mut trial = known.to_vec();
        'all: loop {
            for (i, q) in relevant.iter().enumerate() {
                trial[*q] = Known::Is(cells[*q][choice[i]]);
            }
            let consistent = constrained.iter().all(|q| match trial[*q] {
                Known::Is(v) => self
                    .asked_when(*q)
                    .and_then(|c| c.eval3(&trial))
                    .is_none_or(|asked| asked == v.is_some()),
                Known::Unknown => true,
            });
            if consistent {
                let values = relevant
                    .iter()
                    .zip(&choice)
                    .map(|(q, c)| cells[*q][*c])
                    .collect();
                let procedures = open
                    .iter()
                    .map(|p| self.procedure_condition(*p).eval3(&trial) == Some(true))
                    .collect();
                completions.push((values, procedures));
            }
            for i in (0..relevant.len()).rev() {
                choice[i] += 1;
                if choice[i] < cells[relevant[i]].len() {
                    continue 'all;
                }
                choice[i] = 0;
            }
            break;
        }
        let mut out: Vec<(bool, usize)> = Vec::new();
        for (i, q) in relevant.iter().enumerate() {
            let dependents = self.dependents(*q);
            let key = |values: &[Option<Val>]| -> Vec<Option<Option<Val>>> {
                relevant
                    .iter()
                    .zip(values)
                    .map(|(r, v)| (!dependents[*r] && r != q).then_some(*v))
                    .collect()
            };
            let matters = completions.iter().any(|(a, pa)| {
                completions
                    .iter()
                    .any(|(b, pb)| a[i] != b[i] && pa != pb && key(a) == key(b))
            });
            if matters {
                let applies = completions.iter().all(|(a, _)| a[i].is_some());
                out.push((!applies, *q));
            }
        }
        out.sort_unstable();
        // An open procedure that holds in every possible completion applies.
        for (k, p) in open.iter().enumerate() {
            if !completions.is_empty() && completions.iter().all(|(_, ps)| ps[k]) {
                applying.push(*p);
            }
        }
        applying.sort_unstable();
        (applying, out.into_iter().map(|(_, q)| q).collect(), true)
    }

    /// [`Engine::procedure_status`] on the procedures diagram: the sets of
    /// procedures that some completion of the known answers has (a
    /// procedure applies when it is in every one), and the questions that
    /// matter to them by the diagram's walk of two incidents side by side,
    /// which is the definition itself. `None` without the diagram, or when
    /// an answer is not one of its classes.
    fn procedure_status_on_diagram(&self, known: &[Known]) -> Option<(Vec<usize>, Vec<usize>)> {
        let mut r = self.procedure_diagram()?.restrict(known, self.cells())?;
        let sets = r.possible(usize::MAX);
        let every = sets.iter().fold(u64::MAX, |all, s| all & s);
        let applying = (0..self.pack.procedures.len())
            .filter(|p| !sets.is_empty() && every & (1 << p) != 0)
            .collect();
        if sets.len() < 2 {
            return Some((applying, Vec::new()));
        }
        let matter: Vec<usize> = (0..known.len())
            .filter(|q| known[*q] == Known::Unknown && r.matters(*q, &self.dependents(*q)))
            .collect();
        let mut open: Vec<(bool, usize)> = matter
            .into_iter()
            .map(|q| {
                // Those that every possible incident asks first.
                let applies = match self.cells()[q].iter().position(Option::is_none) {
                    Some(unasked) => !r.possible_with(q, unasked as u32),
                    None => true,
                };
                (!applies, q)
            })
            .collect();
        open.sort_unstable();
        Some((applying, open.into_iter().map(|(_, q)| q).collect()))
    }

    /// Decide an incident for a setting: the level, police response,
    /// procedures and routes, without the explanation (see
    /// [`Engine::explanation`]).
    pub fn decide<'p>(
        &'p self,
        answers: &Answers,
        setting: &str,
    ) -> Result<Decision<'p>, Vec<AnswerError>> {
        let settled = self.settled_level(answers, setting)?;
        let applying = self.applying_procedures(&settled.known)?;
        Ok(self.decision(&settled, &applying, None))
    }

    /// [`Engine::decide`] from an answers object (as for
    /// [`Engine::answers`]): the same decision, and the same errors.
    /// Answers that are all valid, each asked given the others, and that
    /// reach a level of the compiled decision with every procedure settled
    /// are read once, straight into answer classes, and decided from
    /// there; anything else is checked by [`Engine::answers`] and decided
    /// by [`Engine::decide`], which word what is wrong.
    pub fn decide_given(
        &self,
        given: &Map<String, Value>,
        setting: &str,
    ) -> Result<Decision<'_>, Vec<AnswerError>> {
        if let Some(decided) = self.decide_directly(given, setting) {
            return decided;
        }
        let answers = self.answers(given)?;
        self.decide(&answers, setting)
    }

    /// [`Engine::decide_given`] for answers that reach an end of the
    /// compiled decision with every procedure settled; `None` for any
    /// other answers, which the full path judges.
    #[allow(clippy::type_complexity)]
    fn decide_directly(
        &self,
        given: &Map<String, Value>,
        setting: &str,
    ) -> Option<Result<Decision<'_>, Vec<AnswerError>>> {
        let mut known: SmallVec<[Known; 32]> = smallvec![Known::Unknown; self.pack.questions.len()];
        self.walk_given(given, setting, Some(&mut known), |end, si, class, known| {
            let (level, police) = match end {
                End::Level { level, key } => (level, key),
                End::Undecided => {
                    return Some(Err(self.undecided_classes(Outcome::Undecided, class)));
                }
                End::Conflict => {
                    return Some(Err(self.undecided_classes(Outcome::Conflict, class)));
                }
            };
            let mut applying: SmallVec<[usize; 4]> = SmallVec::new();
            for (p, cond) in self.classes().procedures.iter().enumerate() {
                if cond.eval3(class)? {
                    applying.push(p);
                }
            }
            // Known: the answers read, and the classes the walk gave
            // without an answer (the setting, and "not asked" where the
            // answers rule a question out), each of a single answer.
            let known = known?;
            for (q, c) in class.iter().enumerate() {
                if known[q] == Known::Unknown && *c != UNSET {
                    known[q] = Known::Is(self.cells()[q][*c as usize]);
                }
            }
            let settled = Settled {
                level,
                police,
                si,
                known: Cow::Borrowed(known),
            };
            Some(Ok(self.decision(&settled, &applying, Some(class))))
        })
    }

    /// The level and police response the answers settle in a setting, with
    /// the setting's index and what is known; the error when they leave
    /// either open or give no level.
    fn settled_level(
        &self,
        answers: &Answers,
        setting: &str,
    ) -> Result<Settled<'static>, Vec<AnswerError>> {
        let answers = self.with_setting(answers, setting).map_err(|e| vec![e])?;
        let si = self
            .pack
            .settings
            .iter()
            .position(|s| s.id == setting)
            .unwrap_or_default();
        let known = self.known_of(&answers);
        match self.settled_outcome(&known, si) {
            Some(Verdict {
                outcome: Outcome::Level(level),
                police,
            }) => Ok(Settled {
                level,
                police,
                si,
                known: Cow::Owned(known),
            }),
            Some(v) => Err(vec![self.undecided(v.outcome, &known)]),
            None => {
                let questions = self
                    .open_questions(&answers)
                    .into_iter()
                    .map(|q| self.pack.questions[q].id.clone())
                    .collect();
                Err(vec![AnswerError::Missing { questions }])
            }
        }
    }

    /// The compiled decision walked with the known answers, when the pack
    /// has one (`None` also when an answer is not one of its classes).
    pub(super) fn walk_compiled(&self, known: &[Known], si: usize) -> Option<Walked> {
        let compiled = self.compiled()?;
        let mut foreign = false;
        let walked = compiled.walk(si, |q| match known[q] {
            Known::Is(v) => {
                let c = cell_of(&self.cells()[q], v);
                foreign |= c.is_none();
                c
            }
            Known::Unknown => None,
        });
        (!foreign).then_some(walked)
    }

    /// The outcome and police response the known answers settle, if they
    /// do: on the compiled decision when the answers reach one of its ends
    /// (every incident that agrees with them follows the same branches),
    /// else by the partial-answer judgement.
    fn settled_outcome(&self, known: &[Known], si: usize) -> Option<Verdict> {
        if let Some(Walked::End(e)) = self.walk_compiled(known, si) {
            return self.compiled().map(|c| Verdict::of(c.ends[e as usize]));
        }
        let possible = self.possible(known, 2);
        match possible.iter().next() {
            Some(v) if possible.len() == 1 => Some(*v),
            _ => None,
        }
    }

    /// The procedures that apply, or the questions still open for them.
    fn applying_procedures(&self, known: &[Known]) -> Result<Vec<usize>, Vec<AnswerError>> {
        let (applying, open) = self.procedure_status(known);
        if open.is_empty() {
            Ok(applying)
        } else {
            Err(vec![AnswerError::Missing {
                questions: open
                    .iter()
                    .map(|q| self.pack.questions[*q].id.clone())
                    .collect(),
            }])
        }
    }

    fn rule_ref(&self, r: usize) -> RuleRef<'_> {
        let rule = &self.pack.rules[r];
        RuleRef {
            id: &rule.id,
            title: rule.title.as_deref(),
            level: &rule.level,
            strength: rule.strength,
            cites: &rule.cites,
            notes: &rule.notes,
        }
    }

    /// The decision at `level` with the procedures that apply, for the
    /// setting of index `si`.
    /// `class` is the answers' classes when the caller has them.
    fn decision(
        &self,
        settled: &Settled,
        applying: &[usize],
        class: Option<&[u32]>,
    ) -> Decision<'_> {
        let (level, known, si) = (settled.level, &settled.known, settled.si);
        let pack = &self.pack;
        let setting = pack.settings[si].id.as_str();
        // Each rule is tested on the answers' classes, which every rule's
        // condition is exact over.
        let classes = self.classes();
        let (holding, suggestions) = match class {
            Some(class) => self.rules_holding_in(level, class),
            None => with_scratch(known.len(), |class| {
                if classes.of_known(known, class) {
                    self.rules_holding_in(level, class)
                } else {
                    self.rules_holding(level, |r| self.rule_condition(r).eval3(known))
                }
            }),
        };
        let deciding = self.deciding_of(level, &holding);
        let overruled = holding
            .iter()
            .filter(|r| !deciding.contains(r))
            .map(|r| self.rule_ref(*r))
            .collect();
        let l = &pack.levels[level];
        let police = self.decision_police(settled, &deciding);
        // A deciding rule's own start comes before its level's.
        let starts = self.starts(si);
        let route = deciding
            .iter()
            .find_map(|r| starts.rule[*r])
            .or(starts.level[level])
            .map(|start| self.walk(start, known, setting));
        let procedures: Vec<ProcedureRef<'_>> = applying
            .iter()
            .map(|&p| {
                let x = &pack.procedures[p];
                ProcedureRef {
                    id: &x.id,
                    title: &x.title,
                    police: police_for(&x.police, setting).map(|r| {
                        let from = smallvec![x.id.as_str()];
                        self.police_ref(r.response, r.by.as_deref(), from)
                    }),
                    route: starts.procedure[p].map(|start| self.walk(start, known, setting)),
                    cites: &x.cites,
                    notes: &x.notes,
                }
            })
            .collect();
        let mut checklists: SmallVec<[usize; 4]> = SmallVec::new();
        let routes = route
            .iter()
            .chain(procedures.iter().filter_map(|p| p.route.as_ref()));
        for (ri, step) in routes.flat_map(|r| r.steps.met()) {
            for c in self
                .node_conds(ri, step.node)
                .links
                .complete
                .iter()
                .flatten()
            {
                if !checklists.contains(c) {
                    checklists.push(*c);
                }
            }
        }
        let accepted = pack
            .accepted_findings
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                self.accepted_condition(*i)
                    .is_some_and(|c| c.eval3(known) == Some(true))
            })
            .map(|(_, f)| AcceptedRef {
                code: &f.code,
                message: &f.message,
                reason: &f.reason,
                cites: &f.cites,
            })
            .collect();
        Decision {
            format: super::decision::FORMAT,
            level: LevelRef {
                id: &l.id,
                title: &l.title,
                rank: l.rank,
                cites: &l.cites,
                notes: &l.notes,
            },
            police,
            by_otherwise: deciding.is_empty(),
            deciding: deciding.into_iter().map(|r| self.rule_ref(r)).collect(),
            overruled,
            suggestions,
            procedures,
            accepted,
            policy: pack.policy.kind,
            setting,
            route,
            no_route: pack.settings[si].no_route.as_deref(),
            checklists: checklists
                .iter()
                .map(|&ci| {
                    let c = &pack.checklists[ci];
                    ChecklistRef {
                        id: &c.id,
                        title: &c.title,
                        items: c
                            .items
                            .iter()
                            .zip(self.checklist_by(ci))
                            .map(|(i, actors)| ChecklistItem {
                                text: &i.text,
                                by: i
                                    .by
                                    .iter()
                                    .zip(actors)
                                    .map(|(a, x)| x.map_or(a.as_str(), |x| &pack.actors[x].title))
                                    .collect(),
                            })
                            .collect(),
                    }
                })
                .collect(),
            explanation: None,
        }
    }

    /// [`Engine::rules_holding`] for answers read into classes: tested by
    /// the rules' clauses when they fit (see `clauses.rs`), else each
    /// condition over classes.
    #[allow(clippy::type_complexity)]
    fn rules_holding_in(
        &self,
        level: usize,
        class: &[u32],
    ) -> (SmallVec<[usize; 8]>, Vec<RuleRef<'_>>) {
        let classes = self.classes();
        match &classes.clauses {
            Some(clauses) => {
                let truth = clauses.truth(class);
                self.rules_holding(level, |r| clauses.rule(r, truth))
            }
            None => self.rules_holding(level, |r| classes.rules[r].eval3(class)),
        }
    }

    /// The deciding rules that hold (`held`), and as suggestions the `may`
    /// rules that hold and name a level other than `level`.
    #[allow(clippy::type_complexity)]
    fn rules_holding(
        &self,
        level: usize,
        held: impl Fn(usize) -> Option<bool>,
    ) -> (SmallVec<[usize; 8]>, Vec<RuleRef<'_>>) {
        let mut holding = SmallVec::new();
        let mut suggestions = Vec::new();
        for r in 0..self.pack.rules.len() {
            if held(r) != Some(true) {
                continue;
            }
            if self.rule_decides(r) {
                holding.push(r);
            } else if self.rule_level(r) != level {
                suggestions.push(self.rule_ref(r));
            }
        }
        (holding, suggestions)
    }

    /// Of the deciding rules that hold, those that decide `level` under the
    /// policy: the first under `first-match`, else every one of that level
    /// (several when they tie), in the pack's order.
    pub(super) fn deciding_of(&self, level: usize, holding: &[usize]) -> SmallVec<[usize; 4]> {
        match self.pack.policy.kind {
            pack::PolicyKind::FirstMatch => holding.iter().take(1).copied().collect(),
            _ => holding
                .iter()
                .filter(|r| self.rule_level(**r) == level)
                .copied()
                .collect(),
        }
    }

    /// The rules that decide `level` for the known answers.
    fn deciding_rules(&self, level: usize, known: &[Known]) -> SmallVec<[usize; 4]> {
        let holding: SmallVec<[usize; 8]> = (0..self.pack.rules.len())
            .filter(|r| self.rule_decides(*r) && self.rule_condition(*r).eval3(known) == Some(true))
            .collect();
        self.deciding_of(level, &holding)
    }

    /// Every rule's condition, test by test, and whether it held for the
    /// answers: what `decide --explain` prints. Built only when asked for.
    pub fn explanation(&self, answers: &Answers, setting: &str) -> Vec<RuleCheck<'_>> {
        let pack = &self.pack;
        let with_setting = self.with_setting(answers, setting);
        let known = self.known_of(with_setting.as_ref().unwrap_or(answers));
        (0..pack.rules.len())
            .map(|r| RuleCheck {
                rule: &pack.rules[r].id,
                level: &pack.rules[r].level,
                when: &pack.rules[r].when_text,
                held: self.rule_condition(r).eval3(&known),
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
            .collect()
    }

    /// The police response of a decision: each deciding rule's own response
    /// for the setting, else the level's; of those the most police, and
    /// "the document does not say" only when none says. The answers have
    /// settled it (`settled.police`); this names it and the rules that give
    /// it.
    fn decision_police(&self, settled: &Settled, deciding: &[usize]) -> PoliceRef<'_> {
        let pack = &self.pack;
        let (level, key) = (settled.level, settled.police);
        let named = self.setting_police(settled.si);
        let level_police = named.level[level].map(|k| (k, "level"));
        let own = |r: usize| {
            named.rule[r]
                .map(|k| (k, pack.rules[r].id.as_str()))
                .or(level_police)
        };
        let mut options: SmallVec<[(Option<u32>, &str); 4]> =
            deciding.iter().filter_map(|r| own(*r)).collect();
        if deciding.is_empty() {
            options.extend(level_police);
        }
        let gives = |k: &Option<u32>| *k == Some(key);
        if !options.iter().any(|(k, _)| gives(k)) {
            // The answers can settle the response before they settle which
            // rules give it (a rule that three values leave open holds in
            // every incident where it would matter): the rules of the
            // level still open that give it.
            options.extend(
                (0..pack.rules.len())
                    .filter(|r| {
                        self.rule_decides(*r)
                            && self.rule_level(*r) == level
                            && self.rule_condition(*r).eval3(&settled.known).is_none()
                    })
                    .filter_map(own),
            );
        }
        let mut from: SmallVec<[&str; 2]> = options
            .iter()
            .filter(|(k, _)| gives(k))
            .map(|(_, f)| *f)
            .collect();
        from.dedup();
        // The response is the key's (the most police of the deciding
        // rules', as the compiled decision gives it).
        let (response, by) = &self.police_table().values[key as usize];
        self.police_ref(*response, by.as_deref(), from)
    }

    fn police_ref<'p>(
        &'p self,
        response: pack::Response,
        by: Option<&'p str>,
        from: SmallVec<[&'p str; 2]>,
    ) -> PoliceRef<'p> {
        let actor = by.and_then(|a| self.pack.actors.iter().position(|x| x.id == a));
        let by = by.map(|a| actor.map_or(a, |i| self.pack.actors[i].title.as_str()));
        let words = match (by, response) {
            (Some(who), pack::Response::Judgement) => match actor {
                Some(i) => self.judgement_by(i).into(),
                None => super::engine::judgement_words(who).into(),
            },
            (_, r) => response_words(r).into(),
        };
        PoliceRef {
            response,
            words,
            by,
            from,
        }
    }

    /// Walk a route from its start (`(route, node)`, as [`Engine::starts`]
    /// gives it) for an incident: in order, taking the
    /// steps whose condition holds (or may), following decisions that the
    /// answers or the document settle, and stopping at an outcome, at a
    /// decision left to staff, or where the route comes back to a node
    /// already walked. What the walk settles at each node is kept
    /// ([`Met`]); its words are read from the pack when the steps are
    /// read ([`Engine::route_step`]).
    pub(super) fn walk<'p>(
        &'p self,
        (ri, start): Start,
        known: &[Known],
        setting: &'p str,
    ) -> Route<'p> {
        let r = &self.pack.routes[ri];
        let mut met: Vec<Met<'p>> = Vec::with_capacity(r.nodes.len().min(8));
        // Room for every action and timing of the route's nodes that have
        // a condition, so that the list is allocated once (or not at all).
        let mut holds: Vec<Option<bool>> = Vec::with_capacity(self.route_holds(ri));
        let mut seen = Seen::new(r.nodes.len());
        let mut at = start;
        while let Some(ni) = at {
            if !seen.insert(ni) {
                if let Some(last) = met.last_mut() {
                    last.then_again = Some(&r.nodes[ni].id);
                }
                break;
            }
            let n = &r.nodes[ni];
            let conds = self.node_conds(ri, ni);
            let links = &conds.links;
            let held = |c: &Option<Expr>| c.as_ref().map_or(Some(true), |c| c.eval3(known));
            let open = match held(&conds.only_when) {
                // Not taken: straight on.
                Some(false) => {
                    at = links.next;
                    continue;
                }
                Some(true) => false,
                None => true,
            };
            // Most nodes' actions and timings have no condition of their
            // own: nothing is kept for them.
            let at_holds = match conds.conditioned() {
                true => {
                    let at = holds.len() as u32;
                    holds.extend(conds.actions.iter().map(held));
                    holds.extend(conds.timing.iter().map(held));
                    Some(at)
                }
                false => None,
            };
            let mut step = Met {
                node: ni,
                open,
                holds: at_holds,
                weigh: SmallVec::new(),
                answer: None,
                settled_by: None,
                then_again: None,
            };
            at = match n.kind {
                NodeKind::Step => links.next,
                NodeKind::Outcome => None,
                NodeKind::Decision => match self.settle(n, conds, known) {
                    Some((answer, by)) => {
                        let next = n
                            .branches
                            .iter()
                            .zip(&links.branches)
                            .find(|(b, _)| b.answer == answer)
                            .and_then(|(_, (to, _))| *to);
                        step.answer = Some(answer);
                        step.settled_by = Some(by);
                        next
                    }
                    None => {
                        step.weigh = self.factors_for(&links.weigh, known);
                        None
                    }
                },
            };
            met.push(step);
        }
        Route {
            id: &r.id,
            title: &r.title,
            steps: Steps::new(self, (ri, setting), met, holds),
            graph: &r.nodes,
        }
    }

    /// A step of route `ri` as the walk met it, in words: who acts in the
    /// setting, the actions and timing taken (those the answers leave
    /// open saying so), and a decision's branches.
    pub(super) fn route_step<'p>(
        &'p self,
        (ri, setting): (usize, &str),
        met: &Met<'p>,
        holds: &[Option<bool>],
    ) -> RouteStep<'p> {
        let r = &self.pack.routes[ri];
        let n = &r.nodes[met.node];
        let held = |i: usize| met.holds.map_or(Some(true), |at| holds[at as usize + i]);
        let links = &self.node_conds(ri, met.node).links;
        RouteStep {
            id: &n.id,
            kind: n.kind,
            text: &n.text,
            only_if: if met.open {
                n.only_when_text.as_deref()
            } else {
                None
            },
            by: n
                .by
                .iter()
                .zip(&links.by)
                .filter(|(b, _)| b.settings.is_empty() || b.settings.iter().any(|s| s == setting))
                .map(|(b, a)| a.map_or(b.actor.as_str(), |a| &self.pack.actors[a].title))
                .collect(),
            actions: n
                .actions
                .iter()
                .enumerate()
                .zip(&links.targets)
                .filter_map(|((i, a), targets)| {
                    let only_if = match held(i) {
                        Some(false) => return None,
                        Some(true) => None,
                        None => a.when_text.as_deref(),
                    };
                    Some(ActionRef {
                        kind: a.kind,
                        targets: a
                            .targets
                            .iter()
                            .zip(targets)
                            .map(|(chain, parties)| {
                                chain
                                    .iter()
                                    .zip(parties)
                                    .map(|(c, party)| self.party_ref(c, *party))
                                    .collect()
                            })
                            .collect(),
                        only_if,
                        in_doubt: a.in_doubt,
                    })
                })
                .collect(),
            timing: n
                .timing
                .iter()
                .enumerate()
                .zip(&links.timing_words)
                .filter_map(|((i, t), settled)| {
                    let open = match held(n.actions.len() + i) {
                        Some(false) => return None,
                        Some(true) => None,
                        None => Some(t.when_text.as_deref().unwrap_or_default()),
                    };
                    Some(match (open, &t.qualifier) {
                        (None, _) => settled.as_str().into(),
                        (open, qualifier) => {
                            let mut words = t.text.clone();
                            if let Some(when) = open {
                                words.push_str(&format!(" (if {when})"));
                            }
                            if let Some(q) = qualifier {
                                words.push_str(&format!(", {q}"));
                            }
                            words.into()
                        }
                    })
                })
                .collect(),
            complete: &n.complete,
            weigh: met
                .weigh
                .iter()
                .map(|i| {
                    let f = &self.pack.factors[*i as usize];
                    FactorsRef {
                        id: &f.id,
                        title: &f.title,
                        items: &f.items,
                    }
                })
                .collect(),
            branches: n
                .branches
                .iter()
                .zip(&links.branches)
                .map(|(b, (to, answer))| BranchRef {
                    answer: &b.answer,
                    title: answer.map_or(b.answer.as_str(), |a| n.answers[a].title.as_str()),
                    to: &b.to,
                    to_text: to.map_or("", |t| r.nodes[t].text.as_str()),
                })
                .collect(),
            answer: met.answer,
            settled_by: met.settled_by,
            then_again: met.then_again,
            cites: &n.cites,
            notes: &n.notes,
        }
    }

    /// A decision's answer when the document fixes it for this incident or
    /// the incident's answers settle it, with which; `None` when staff
    /// decide.
    fn settle<'p>(
        &'p self,
        n: &'p pack::RouteNode,
        conds: &NodeConds,
        known: &[Known],
    ) -> Option<(&'p str, SettledBy)> {
        if let Some((i, _)) = conds
            .always
            .iter()
            .find(|(_, c)| c.eval3(known) == Some(true))
        {
            return Some((&n.answers[*i].id, SettledBy::Document));
        }
        let answer = match conds.on.as_ref()? {
            On::Question(q) => match known[*q] {
                Known::Is(Some(Val::Bool(b))) => {
                    if b {
                        "yes"
                    } else {
                        "no"
                    }
                }
                Known::Is(Some(Val::Opt(o))) => {
                    self.pack.questions[*q].options[o as usize].id.as_str()
                }
                _ => return None,
            },
            On::Cond(c) => {
                if c.eval3(known)? {
                    "yes"
                } else {
                    "no"
                }
            }
        };
        Some((answer, SettledBy::Answers))
    }

    /// The contact or actor an action's target `c` names, resolved when
    /// the pack was read (`party`).
    fn party_ref<'p>(&'p self, c: &'p str, party: Party) -> ContactRef<'p> {
        match party {
            Party::Contact(i) => {
                let x = &self.pack.contacts[i];
                ContactRef {
                    id: &x.id,
                    title: &x.title,
                    phone: x.phone.as_deref(),
                    web: x.web.as_deref(),
                    email: x.email.as_deref(),
                }
            }
            Party::Actor(i) => ContactRef {
                id: c,
                title: &self.pack.actors[i].title,
                phone: None,
                web: None,
                email: None,
            },
            Party::Unknown => ContactRef {
                id: c,
                title: c,
                phone: None,
                web: None,
                email: None,
            },
        }
    }

    fn undecided(&self, outcome: Outcome, known: &[Known]) -> AnswerError {
        let reason = match outcome {
            Outcome::Conflict => {
                "rules of different levels apply, and the protocol says they must not overlap"
            }
            _ => "no rule applies, and the protocol gives no `otherwise` level",
        };
        let code = match outcome {
            Outcome::Conflict => "carepath::conflict",
            _ => "carepath::gap",
        };
        // The accepted findings of this kind whose incidents include this
        // one (or may: an accept without a region covers every incident).
        AnswerError::NoLevel {
            reason,
            accepted: self
                .pack
                .accepted_findings
                .iter()
                .enumerate()
                .filter(|(_, f)| f.code == code)
                .filter(|(i, _)| {
                    self.accepted_condition(*i)
                        .is_none_or(|c| c.eval3(known) != Some(false))
                })
                .map(|(_, f)| f.reason.clone())
                .collect(),
        }
    }

    /// An actor's title, or the id itself when the pack has no such actor.
    fn actor_title<'p>(&'p self, id: &'p str) -> &'p str {
        self.pack
            .actors
            .iter()
            .find(|a| a.id == id)
            .map_or(id, |a| a.title.as_str())
    }

    /// The factor lists named, with the lists they include, that apply to
    /// the incident (or may: their condition is not settled).
    fn factors_for(&self, lists: &[Option<usize>], known: &[Known]) -> SmallVec<[u32; 4]> {
        let mut out: SmallVec<[u32; 4]> = SmallVec::new();
        let mut todo: SmallVec<[usize; 8]> = SmallVec::new();
        for list in lists.iter().flatten() {
            todo.push(*list);
        }
        while let Some(i) = todo.pop() {
            if out.contains(&(i as u32)) {
                continue;
            }
            if self
                .factor_condition(i)
                .is_some_and(|c| c.eval3(known) == Some(false))
            {
                continue;
            }
            out.push(i as u32);
            for include in self.factor_includes(i).iter().rev().flatten() {
                todo.push(*include);
            }
        }
        out
    }
}

/// Of an element's police responses, the one for `setting`: the one naming
/// it, else the one naming no setting.
pub fn police_for<'p>(list: &'p [pack::Police], setting: &str) -> Option<&'p pack::Police> {
    list.iter()
        .find(|p| p.settings.iter().any(|s| s == setting))
        .or_else(|| list.iter().find(|p| p.settings.is_empty()))
}

/// Most completions of the questions open procedures test that are tried
/// one by one to judge which questions matter to them.
const MAX_COMPLETIONS: usize = 4096;

/// Position from least to most police involvement; `None` for `unstated`
/// (see [`crate::model::Response::rank`]).
pub fn rank(r: pack::Response) -> Option<u8> {
    crate::model::Response::from(r).rank()
}

/// A police response in words a care manager reads without a glossary
/// (see [`crate::model::Response::words`]).
pub fn response_words(r: pack::Response) -> &'static str {
    crate::model::Response::from(r).words()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Map, Value, json};

    use crate::emit::pack::QuestionKind;
    use crate::eval::Engine;
    use crate::eval::expr::Val;

    /// xorshift64*, so that every run tries the same answers.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The committed packs, loaded.
    fn seed_engines() -> Vec<(&'static str, Engine)> {
        [
            "derbyshire",
            "dorset",
            "stockport",
            "west-sussex",
            "wiltshire",
        ]
        .into_iter()
        .map(|name| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("out/{name}.json"));
            let text = std::fs::read_to_string(path).expect("a committed pack");
            (name, Engine::from_json(&text).expect("the pack loads"))
        })
        .collect()
    }

    /// A random answers object: each question left out, `null`, or given
    /// one of its answers whether or not the others show it is asked, so
    /// that some break an "asked when" and some leave it open, and some
    /// numbers fall below every class. With `every`, each question that
    /// the answers before it show is asked is answered, and no other.
    fn random_given(engine: &Engine, state: &mut u64, every: bool) -> Map<String, Value> {
        let mut given = Map::new();
        let mut sofar: Vec<Option<Val>> = vec![None; engine.pack.questions.len()];
        for (q, question) in engine.pack.questions.iter().enumerate() {
            if every && engine.asked_when(q).is_some_and(|c| !c.eval(&sofar)) {
                continue;
            }
            let choices: Vec<Val> = engine.cells()[q].iter().flatten().copied().collect();
            let roll = next(state) % 8;
            let value = match choices.get(next(state) as usize % choices.len().max(1)) {
                _ if roll < 2 && !every => continue,
                _ if roll == 2 && !every => Value::Null,
                None => continue,
                Some(v) if every => {
                    sofar[q] = Some(*v);
                    answer_json(question, *v)
                }
                Some(Val::Bool(b)) => json!(b),
                Some(Val::Opt(o)) => json!(question.options[*o as usize].id),
                Some(Val::Num(n)) => {
                    // Sometimes one below the class's start.
                    let n = n - (roll == 3) as i64;
                    match question.kind {
                        QuestionKind::Amount => json!(n as f64 / 100.0),
                        _ => json!(n),
                    }
                }
            };
            given.insert(question.id.clone(), value);
        }
        given
    }

    /// Answer `v` to `question` as an answers object has it.
    fn answer_json(question: &crate::emit::pack::Question, v: Val) -> Value {
        match v {
            Val::Bool(b) => json!(b),
            Val::Opt(o) => json!(question.options[o as usize].id),
            Val::Num(n) if question.kind == QuestionKind::Amount => json!(n as f64 / 100.0),
            Val::Num(n) => json!(n),
        }
    }

    /// Answers read in one pass are those the full check gives: on every
    /// committed pack, random answers objects ([`random_given`]) are either
    /// read in one pass exactly as the full check reads them, or left to
    /// it.
    #[test]
    fn answers_read_in_one_pass_are_those_the_full_check_gives() {
        for (name, engine) in seed_engines() {
            let mut state = 0x0a11_5ee5 ^ name.len() as u64;
            let (mut direct, mut left, mut refused) = (0, 0, 0);
            for _ in 0..3000 {
                let given = random_given(&engine, &mut state, false);
                let checked = engine.answers_checked(&given);
                match engine.answers_directly(&given) {
                    Some(answers) => {
                        direct += 1;
                        assert_eq!(Ok(answers), checked, "{name}: {given:?}");
                    }
                    None if checked.is_ok() => left += 1,
                    None => refused += 1,
                }
            }
            assert!(
                direct > 0 && refused > 0,
                "{name}: {direct} read in one pass, {refused} refused"
            );
            eprintln!(
                "{name}: {direct} in one pass, {left} valid left to the full check, {refused} refused"
            );
        }
    }

    /// A decision read straight from the answers object into classes is
    /// the decision of the checked answers, word for word, and so is a
    /// refusal: on every committed pack and setting, random answers
    /// objects ([`random_given`], half of them answering every question)
    /// are decided in one pass exactly as `answers` then `decide` decide
    /// them, or left to that path; and the one pass decides most of those
    /// that answer every question and are decided.
    #[test]
    fn decisions_read_in_one_pass_are_those_of_the_checked_answers() {
        for (name, engine) in seed_engines() {
            let mut state = 0x00de_c1de ^ name.len() as u64;
            let (mut direct, mut decided) = (0, 0);
            for i in 0..2000 {
                let every = i % 2 == 0;
                let given = random_given(&engine, &mut state, every);
                for setting in &engine.pack.settings {
                    let checked = engine
                        .answers(&given)
                        .and_then(|a| engine.decide(&a, &setting.id));
                    let one_pass = engine.decide_directly(&given, &setting.id);
                    if every && checked.is_ok() {
                        decided += 1;
                        direct += one_pass.is_some() as usize;
                    }
                    if let Some(one_pass) = one_pass {
                        assert_eq!(one_pass, checked, "{name} in {}: {given:?}", setting.id);
                    }
                    assert_eq!(engine.decide_given(&given, &setting.id), checked);
                }
            }
            assert!(
                decided > 0 && direct * 2 > decided,
                "{name}: {direct} of {decided} decisions of every answer in one pass"
            );
            eprintln!("{name}: {direct} of {decided} decisions of every answer in one pass");
        }
    }

    /// Every seed pack's rules fit clauses over one word of tests, so that
    /// a decision tests them all a word at a time (see `clauses.rs`); the
    /// decisions they give are checked against the full path by
    /// `decisions_read_in_one_pass_are_those_of_the_checked_answers`.
    #[test]
    fn every_seed_packs_rules_are_tested_as_clauses() {
        for (name, engine) in seed_engines() {
            assert!(engine.classes().clauses.is_some(), "{name}");
        }
    }
}
