//! Building the rule pack from a checked model.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::jsonlogic;
use super::pack::{self, RulePack};
use crate::diagnostic::Diagnostic;
use crate::model::summary;
use crate::model::{
    ActionKind, ActorId, Citation, ContactRef, DecideOn, Entry, Model, NodeKind, Policy,
    QuestionKind, Response, Strength,
};

/// The `unit` of every amount question. Whatever label the protocol gives
/// an amount (`amount "£"`), the language reads amounts as pounds to the
/// penny, and an app reads the unit to know what number to send.
const AMOUNT_UNIT: &str = "pounds";

/// A source file of the protocol, as the pack records it.
pub struct SourceText<'a> {
    /// Relative to the protocol's folder, with `/` separators.
    pub path: String,
    pub text: &'a str,
}

/// The rule pack of a checked protocol, sealed with its integrity digest.
/// `files` are its source files (its own first); `findings` are the
/// diagnostics of its check, of which the accepted findings are recorded.
pub fn rule_pack(model: &Model, files: &[SourceText<'_>], findings: &[Diagnostic]) -> RulePack {
    let cites = |cs: &[Citation]| -> Vec<pack::Citation> {
        cs.iter()
            .map(|c| pack::Citation {
                document: model.documents[c.document.index()].id.clone(),
                section: c.section.clone(),
            })
            .collect()
    };
    let cited = |value: String, cs: &[Citation]| pack::CitedText {
        value,
        cites: cites(cs),
    };
    let actor = |a: &ActorId| model.actors[a.index()].meta.id.clone();
    let h = &model.header;

    let mut all = Sha256::new();
    let source_files = files
        .iter()
        .map(|f| {
            all.update(f.path.as_bytes());
            all.update([0]);
            all.update(f.text.len().to_string().as_bytes());
            all.update([0]);
            all.update(f.text.as_bytes());
            pack::SourceFile {
                path: f.path.clone(),
                sha256: hex(&Sha256::digest(f.text.as_bytes())),
            }
        })
        .collect();

    let mut built = RulePack {
        format: pack::FORMAT.to_string(),
        compiler: pack::Compiler {
            name: "carepath".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        source: pack::Source {
            sha256: hex(&all.finalize()),
            files: source_files,
        },
        integrity: None,
        protocol: pack::Protocol {
            id: h.id.clone(),
            title: cited(h.title.value.clone(), &h.title.cites),
            authorities: h
                .authorities
                .iter()
                .map(|a| cited(a.value.clone(), &a.cites))
                .collect(),
            partners: h
                .partners
                .iter()
                .map(|a| cited(a.value.clone(), &a.cites))
                .collect(),
            version: h.version.as_ref().map(|v| cited(v.value.clone(), &v.cites)),
            effective: h
                .effective
                .as_ref()
                .map(|v| cited(v.value.to_string(), &v.cites)),
            review: h
                .review
                .as_ref()
                .map(|v| cited(v.value.to_string(), &v.cites)),
            source: h.source.as_ref().map(|v| cited(v.value.clone(), &v.cites)),
            notes: h.notes.clone(),
        },
        documents: model
            .documents
            .iter()
            .map(|d| pack::Document {
                id: d.id.clone(),
                title: d.title.clone(),
                source: d.source.clone(),
            })
            .collect(),
        policy: pack::DecisionPolicy {
            kind: match h.policy.value {
                Policy::MostSerious => pack::PolicyKind::MostSerious,
                Policy::FirstMatch => pack::PolicyKind::FirstMatch,
                Policy::NoOverlap => pack::PolicyKind::NoOverlap,
            },
            otherwise: h
                .otherwise
                .as_ref()
                .map(|o| model.level(o.value).meta.id.clone()),
            cites: cites(&h.policy.cites),
        },
        settings: model
            .settings
            .iter()
            .map(|s| pack::Setting {
                id: s.meta.id.clone(),
                title: s.title.clone(),
                no_route: s.no_route.clone(),
                cites: cites(&s.meta.cites),
                notes: s.meta.notes.clone(),
            })
            .collect(),
        // The setting first, then in the order questions are asked.
        questions: model
            .asking_order()
            .map(|q| model.question(q))
            .map(|q| pack::Question {
                id: q.meta.id.clone(),
                text: q.text.clone(),
                kind: match q.kind {
                    _ if q.is_setting => pack::QuestionKind::Setting,
                    QuestionKind::YesNo => pack::QuestionKind::YesNo,
                    QuestionKind::OneOf(_) => pack::QuestionKind::OneOf,
                    QuestionKind::Scale(_) => pack::QuestionKind::Scale,
                    QuestionKind::Count { .. } => pack::QuestionKind::Count,
                    QuestionKind::Amount { .. } => pack::QuestionKind::Amount,
                },
                options: q
                    .kind
                    .choices()
                    .iter()
                    .map(|c| pack::Choice {
                        id: c.id.clone(),
                        title: c.label().to_string(),
                        cites: cites(&c.cites),
                        notes: c.notes.clone(),
                    })
                    .collect(),
                minimum: match q.kind {
                    QuestionKind::Count { from } => Some(from),
                    _ => None,
                },
                unit: match &q.kind {
                    QuestionKind::Amount { .. } => Some(AMOUNT_UNIT.to_string()),
                    _ => None,
                },
                asked_when: q
                    .asked_when
                    .as_ref()
                    .map(|c| jsonlogic::condition(model, c)),
                asked_when_text: q.asked_when.as_ref().map(|c| written(model, c)),
                cites: cites(&q.meta.cites),
                notes: q.meta.notes.clone(),
            })
            .collect(),
        levels: model
            .levels
            .iter()
            .enumerate()
            .map(|(rank, l)| pack::Level {
                id: l.meta.id.clone(),
                title: l.title.clone(),
                rank: rank as u32,
                police: police(model, &l.police),
                meaning: l.meaning.clone(),
                examples: l
                    .examples
                    .iter()
                    .map(|e| pack::Example {
                        title: e.title.clone(),
                        given: e.given.as_ref().map(|g| jsonlogic::all(model, g)),
                        given_text: e.given.as_ref().map(|g| {
                            model.written_answers(g).map_or_else(
                                || {
                                    g.iter()
                                        .map(|a| summary::atom(model, a))
                                        .collect::<Vec<_>>()
                                        .join(" and ")
                                },
                                str::to_string,
                            )
                        }),
                        cites: cites(&e.cites),
                        notes: e.notes.clone(),
                    })
                    .collect(),
                cites: cites(&l.meta.cites),
                notes: l.meta.notes.clone(),
            })
            .collect(),
        rules: model
            .rules
            .iter()
            .map(|r| pack::Rule {
                id: r.meta.id.clone(),
                title: r.title.clone(),
                when: jsonlogic::condition(model, &r.when),
                when_text: written(model, &r.when),
                level: model.level(r.level).meta.id.clone(),
                strength: match r.strength {
                    Strength::Must => pack::Strength::Must,
                    Strength::Should => pack::Strength::Should,
                    Strength::May => pack::Strength::May,
                },
                effect: if r.decides() {
                    pack::Effect::Decides
                } else {
                    pack::Effect::Suggests
                },
                police: police(model, &r.police),
                cites: cites(&r.meta.cites),
                notes: r.meta.notes.clone(),
            })
            .collect(),
        procedures: model
            .procedures
            .iter()
            .map(|p| pack::Procedure {
                id: p.meta.id.clone(),
                title: p.title.clone(),
                when: jsonlogic::condition(model, &p.when),
                when_text: written(model, &p.when),
                police: police(model, &p.police),
                cites: cites(&p.meta.cites),
                notes: p.meta.notes.clone(),
            })
            .collect(),
        routes: model.routes.iter().map(|r| route(model, r)).collect(),
        factors: model
            .factors
            .iter()
            .map(|f| pack::Factors {
                id: f.meta.id.clone(),
                title: f.title.clone(),
                applies_when: f
                    .applies_when
                    .as_ref()
                    .map(|c| jsonlogic::condition(model, c)),
                applies_when_text: f.applies_when.as_ref().map(|c| written(model, c)),
                includes: f
                    .includes
                    .iter()
                    .map(|i| model.factors[i.index()].meta.id.clone())
                    .collect(),
                items: f.items.clone(),
                cites: cites(&f.meta.cites),
                notes: f.meta.notes.clone(),
            })
            .collect(),
        checklists: model
            .checklists
            .iter()
            .map(|c| pack::Checklist {
                id: c.meta.id.clone(),
                title: c.title.clone(),
                follows: c
                    .follows
                    .map(|f| model.checklists[f.index()].meta.id.clone()),
                items: c
                    .items
                    .iter()
                    .map(|i| pack::ChecklistItem {
                        id: i.meta.id.clone(),
                        text: i.text.clone(),
                        detail: i.detail.clone(),
                        by: i.by.iter().map(actor).collect(),
                        cites: cites(&i.meta.cites),
                        notes: i.meta.notes.clone(),
                    })
                    .collect(),
                cites: cites(&c.meta.cites),
                notes: c.meta.notes.clone(),
            })
            .collect(),
        actors: model
            .actors
            .iter()
            .map(|a| pack::Actor {
                id: a.meta.id.clone(),
                title: a.title.clone(),
                cites: cites(&a.meta.cites),
                notes: a.meta.notes.clone(),
            })
            .collect(),
        contacts: model
            .contacts
            .iter()
            .map(|c| pack::Contact {
                id: c.meta.id.clone(),
                title: c.title.clone(),
                phone: c.phone.clone(),
                web: c.web.clone(),
                email: c.email.clone(),
                cites: cites(&c.meta.cites),
                notes: c.meta.notes.clone(),
            })
            .collect(),
        accepted_findings: accepted(model, findings),
        decision: None,
    };
    // The compiled decision is built from the pack itself, exactly as a
    // reader rebuilds it to check it.
    built.decision = crate::eval::Engine::new(built.clone())
        .ok()
        .and_then(|engine| engine.compiled_decision());
    super::digest::seal(&mut built);
    built
}

/// A condition's text for the pack: as the protocol writes it, or, for a
/// model made in memory, printed from the model.
fn written(model: &Model, c: &crate::model::Cond) -> String {
    model
        .written(c)
        .map_or_else(|| summary::condition(model, c), str::to_string)
}

fn citations(model: &Model, cs: &[Citation]) -> Vec<pack::Citation> {
    cs.iter()
        .map(|c| pack::Citation {
            document: model.documents[c.document.index()].id.clone(),
            section: c.section.clone(),
        })
        .collect()
}

/// A route as the pack holds it: a graph of nodes, with its conditions as
/// JsonLogic.
fn route(model: &Model, r: &crate::model::Route) -> pack::Route {
    let node_id = |n: crate::model::NodeId| r.nodes[n.index()].meta.id.clone();
    let condition = |c: &crate::model::Cond| {
        (
            Some(jsonlogic::condition(model, c)),
            Some(written(model, c)),
        )
    };
    let by = |list: &[crate::model::ByActor]| -> Vec<pack::ByActor> {
        list.iter()
            .map(|b| pack::ByActor {
                actor: model.actors[b.actor.index()].meta.id.clone(),
                settings: b
                    .settings
                    .iter()
                    .map(|s| model.settings[s.index()].meta.id.clone())
                    .collect(),
            })
            .collect()
    };
    let timing = |list: &[crate::model::CondTiming]| -> Vec<pack::Timing> {
        list.iter()
            .map(|t| {
                let (when, when_text) = t.when.as_ref().map(condition).unwrap_or_default();
                pack::Timing {
                    text: t.timing.to_string(),
                    when,
                    when_text,
                    qualifier: t.qualifier.clone(),
                }
            })
            .collect()
    };
    let contact = |c: &ContactRef| match c {
        ContactRef::Contact(c) => model.contacts[c.index()].meta.id.clone(),
        ContactRef::Actor(a) => model.actors[a.index()].meta.id.clone(),
    };
    let node = |n: &crate::model::Node| {
        let mut node = pack::RouteNode {
            id: n.meta.id.clone(),
            kind: pack::NodeKind::Outcome,
            text: n.text.clone(),
            only_when: None,
            only_when_text: None,
            by: by(n.by()),
            actions: Vec::new(),
            timing: Vec::new(),
            complete: Vec::new(),
            weigh: Vec::new(),
            answers: Vec::new(),
            on: None,
            always: Vec::new(),
            branches: Vec::new(),
            next: None,
            fragment: n
                .fragment
                .map(|f| model.fragments[f.index()].meta.id.clone()),
            cites: citations(model, &n.meta.cites),
            notes: n.meta.notes.clone(),
        };
        match &n.kind {
            NodeKind::Step(s) => {
                node.kind = pack::NodeKind::Step;
                (node.only_when, node.only_when_text) =
                    s.only_when.as_ref().map(condition).unwrap_or_default();
                node.actions = s
                    .actions
                    .iter()
                    .map(|a| {
                        let (when, when_text) = a.when.as_ref().map(condition).unwrap_or_default();
                        pack::Action {
                            kind: match a.kind {
                                ActionKind::Contact => pack::ActionKind::Contact,
                                ActionKind::Consult => pack::ActionKind::Consult,
                                ActionKind::Inform => pack::ActionKind::Inform,
                                ActionKind::Report => pack::ActionKind::Report,
                            },
                            targets: a
                                .targets
                                .iter()
                                .map(|chain| chain.iter().map(contact).collect())
                                .collect(),
                            when,
                            when_text,
                            in_doubt: a.in_doubt,
                        }
                    })
                    .collect();
                node.timing = timing(&s.timing);
                node.complete = s
                    .complete
                    .iter()
                    .map(|c| model.checklists[c.index()].meta.id.clone())
                    .collect();
                node.next = s.next.map(node_id);
            }
            NodeKind::Decision(d) => {
                node.kind = pack::NodeKind::Decision;
                node.timing = timing(&d.timing);
                node.weigh = d
                    .weigh
                    .iter()
                    .map(|f| model.factors[f.index()].meta.id.clone())
                    .collect();
                node.answers = d
                    .answers
                    .iter()
                    .map(|c| pack::Choice {
                        id: c.id.clone(),
                        title: c.label().to_string(),
                        cites: citations(model, &c.cites),
                        notes: c.notes.clone(),
                    })
                    .collect();
                node.on = d.on.as_ref().map(|on| match on {
                    DecideOn::Question(q) => pack::DecideOn {
                        question: Some(model.question(*q).meta.id.clone()),
                        when: None,
                        when_text: None,
                    },
                    DecideOn::Condition(c) => {
                        let (when, when_text) = condition(c);
                        pack::DecideOn {
                            question: None,
                            when,
                            when_text,
                        }
                    }
                });
                node.always = d
                    .always
                    .iter()
                    .map(|(a, c)| pack::Always {
                        answer: d.answers[*a as usize].id.clone(),
                        when: jsonlogic::condition(model, c),
                        when_text: written(model, c),
                    })
                    .collect();
                node.branches = d
                    .branches
                    .iter()
                    .map(|b| pack::Branch {
                        answer: d.answers[b.answer as usize].id.clone(),
                        to: node_id(b.target),
                    })
                    .collect();
            }
            NodeKind::Outcome(_) => {}
        }
        node
    };
    pack::Route {
        id: r.meta.id.clone(),
        title: r.title.clone(),
        settings: r
            .settings
            .iter()
            .map(|s| model.settings[s.index()].meta.id.clone())
            .collect(),
        starts: r
            .starts
            .iter()
            .map(|s| {
                let mut start = pack::Start {
                    level: None,
                    procedure: None,
                    rule: None,
                    node: node_id(s.node),
                };
                match s.entry {
                    Entry::Level(l) => start.level = Some(model.level(l).meta.id.clone()),
                    Entry::Procedure(p) => {
                        start.procedure = Some(model.procedures[p.index()].meta.id.clone())
                    }
                    Entry::Rule(x) => start.rule = Some(model.rule(x).meta.id.clone()),
                }
                start
            })
            .collect(),
        nodes: r.nodes.iter().map(node).collect(),
        cites: citations(model, &r.meta.cites),
        notes: r.meta.notes.clone(),
    }
}

fn police(model: &Model, list: &[crate::model::Police]) -> Vec<pack::Police> {
    list.iter()
        .map(|p| pack::Police {
            response: response(p.response),
            by: p.by.map(|a| model.actors[a.index()].meta.id.clone()),
            settings: p
                .settings
                .iter()
                .map(|s| model.settings[s.index()].meta.id.clone())
                .collect(),
        })
        .collect()
}

fn response(r: Response) -> pack::Response {
    match r {
        Response::None => pack::Response::None,
        Response::Judgement => pack::Response::Judgement,
        Response::Advice => pack::Response::Advice,
        Response::Report => pack::Response::Report,
        Response::Prompt => pack::Response::Prompt,
        Response::Emergency => pack::Response::Emergency,
        Response::Unstated => pack::Response::Unstated,
    }
}

fn accepted(model: &Model, findings: &[Diagnostic]) -> Vec<pack::AcceptedFinding> {
    let mut in_order: Vec<&Diagnostic> = findings.iter().collect();
    in_order.sort_by(|a, b| (a.span, a.code, &a.message).cmp(&(b.span, b.code, &b.message)));
    in_order
        .into_iter()
        .filter_map(|d| {
            let f = d.finding.as_deref()?;
            let reason = f.accepted.clone()?;
            let accept = f.accept.map(|i| &model.accepts[i]);
            let when = accept.and_then(|a| a.when.as_ref());
            Some(pack::AcceptedFinding {
                code: d.code.to_string(),
                message: d.message.clone(),
                reason,
                rules: f.rules.clone(),
                subject: f.subject.clone(),
                applies_when: when.map(|c| jsonlogic::condition(model, c)),
                applies_when_text: when.map(|c| written(model, c)),
                cites: accept
                    .map(|a| {
                        a.cites
                            .iter()
                            .map(|c| pack::Citation {
                                document: model.documents[c.document.index()].id.clone(),
                                section: c.section.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                witness: f.witness.as_ref().map(|w| {
                    w.entries()
                        .into_iter()
                        .collect::<serde_json::Map<String, Value>>()
                }),
            })
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
