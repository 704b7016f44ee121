//! What hovering over a name shows: its title, citations and notes; on a
//! level its police response and examples; on a question its text and
//! answers. Text from the protocol is escaped so it cannot become markup.

use crate::model::Workspace;
use crate::source::FileId;
use crate::syntax::ast::{self, Item};

use super::index::{Def, DefKind};

/// Markdown describing a definition.
pub fn describe(ws: &Workspace, file: FileId, def: &Def) -> Option<String> {
    let item = ws.ast(file)?.items.get(def.item)?;
    let source = &ws.sources.get(file);
    let mut out = Hover::default();
    match def.kind {
        DefKind::Option => {
            let Item::Question(q) = item else { return None };
            let o = question_options(q)
                .iter()
                .find(|o| o.name.span == def.span)?;
            out.head(
                "answer",
                &o.name.node,
                o.title.as_ref().map(|t| t.node.as_str()),
            );
            out.line(format!(
                "of the question `{}`: {}",
                q.name.node,
                md(&q.text.node)
            ));
            out.commons(o.props.iter());
        }
        DefKind::Node => {
            let props = match item {
                Item::Route(r) => &r.props,
                Item::Fragment(f) => &f.props,
                _ => return None,
            };
            for p in props {
                match &p.node {
                    ast::RouteProp::Step(s) if s.name.span == def.span => {
                        out.head("step", &s.name.node, Some(&s.text.node));
                        out.commons(s.props.iter().filter_map(|p| match &p.node {
                            ast::StepProp::Common(c) => Some(c),
                            _ => None,
                        }));
                    }
                    ast::RouteProp::Decision(d) if d.name.span == def.span => {
                        out.head("decision", &d.name.node, Some(&d.text.node));
                        out.commons(d.props.iter().filter_map(|p| match &p.node {
                            ast::DecisionProp::Common(c) => Some(c),
                            _ => None,
                        }));
                    }
                    ast::RouteProp::Outcome(o) if o.name.span == def.span => {
                        out.head("outcome", &o.name.node, Some(&o.text.node));
                        out.commons(o.props.iter().filter_map(|p| match &p.node {
                            ast::OutcomeProp::Common(c) => Some(c),
                            _ => None,
                        }));
                    }
                    _ => {}
                }
            }
        }
        DefKind::ChecklistItem => {
            let Item::Checklist(c) = item else {
                return None;
            };
            for p in &c.props {
                if let ast::ChecklistProp::Item(it) = &p.node
                    && it.name.span == def.span
                {
                    out.head("checklist item", &it.name.node, Some(&it.text.node));
                    for ip in &it.props {
                        if let ast::ItemProp::Detail(d) = &ip.node {
                            out.line(md(&d.node));
                        }
                    }
                    out.commons(it.props.iter().filter_map(|p| match &p.node {
                        ast::ItemProp::Common(c) => Some(c),
                        _ => None,
                    }));
                }
            }
        }
        _ => top_level(&mut out, item, |s| source.slice(s).to_string()),
    }
    (!out.text.is_empty()).then_some(out.text)
}

fn question_options(q: &ast::Question) -> &[ast::OptionDef] {
    q.props
        .iter()
        .find_map(|p| match &p.node {
            ast::QuestionProp::Answer(ast::AnswerKind::OneOf(os) | ast::AnswerKind::Scale(os)) => {
                Some(os.as_slice())
            }
            _ => None,
        })
        .unwrap_or(&[])
}

fn commons_of<'a, T: 'a>(
    props: &'a [ast::Prop<T>],
    get: impl Fn(&'a T) -> Option<&'a ast::Common>,
) -> impl Iterator<Item = &'a ast::Common> {
    props.iter().filter_map(move |p| get(&p.node))
}

fn top_level(out: &mut Hover, item: &Item, slice: impl Fn(crate::source::Span) -> String) {
    match item {
        Item::Question(q) => {
            out.head("question", &q.name.node, Some(&q.text.node));
            for p in &q.props {
                match &p.node {
                    ast::QuestionProp::Answer(kind) => out.line(answers(kind)),
                    ast::QuestionProp::AskedWhen(e) => {
                        out.line(format!("asked when `{}`", one_line(&slice(e.span))))
                    }
                    ast::QuestionProp::Common(_) => {}
                }
            }
            out.commons(commons_of(&q.props, |p| match p {
                ast::QuestionProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Level(l) => {
            out.head("level", &l.name.node, Some(&l.title.node));
            let mut examples = Vec::new();
            for p in &l.props {
                match &p.node {
                    ast::LevelProp::Police(police) => out.line(police_text(police)),
                    ast::LevelProp::Meaning(m) => out.line(md(&m.node)),
                    ast::LevelProp::Example(ex) => {
                        examples.push(format!("- {}", md(&ex.title.node)))
                    }
                    ast::LevelProp::Common(_) => {}
                }
            }
            if !examples.is_empty() {
                out.line(format!("Examples:\n{}", examples.join("\n")));
            }
            out.commons(commons_of(&l.props, |p| match p {
                ast::LevelProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Rule(r) => {
            out.head(
                "rule",
                &r.name.node,
                r.title.as_ref().map(|t| t.node.as_str()),
            );
            for p in &r.props {
                match &p.node {
                    ast::RuleProp::When(e) => {
                        out.line(format!("when `{}`", one_line(&slice(e.span))))
                    }
                    ast::RuleProp::Then(l) => out.line(format!("then `{}`", l.node)),
                    ast::RuleProp::Police(police) => out.line(police_text(police)),
                    _ => {}
                }
            }
            out.commons(commons_of(&r.props, |p| match p {
                ast::RuleProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Procedure(x) => {
            out.head("procedure", &x.name.node, Some(&x.title.node));
            for p in &x.props {
                match &p.node {
                    ast::ProcedureProp::When(e) => {
                        out.line(format!("when `{}`", one_line(&slice(e.span))))
                    }
                    ast::ProcedureProp::Police(police) => out.line(police_text(police)),
                    ast::ProcedureProp::Common(_) => {}
                }
            }
            out.commons(commons_of(&x.props, |p| match p {
                ast::ProcedureProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Setting(s) => {
            out.head("setting", &s.name.node, Some(&s.title.node));
            for p in &s.props {
                if let ast::SettingProp::NoRoute(t) = &p.node {
                    out.line(format!("no route: {}", md(&t.node)));
                }
            }
            out.commons(commons_of(&s.props, |p| match p {
                ast::SettingProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Route(r) => {
            out.head("route", &r.name.node, Some(&r.title.node));
            out.commons(commons_of(&r.props, |p| match p {
                ast::RouteProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Fragment(f) => {
            out.head("fragment", &f.name.node, Some(&f.title.node));
            out.commons(commons_of(&f.props, |p| match p {
                ast::RouteProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Factors(f) => {
            out.head("factor list", &f.name.node, Some(&f.title.node));
            let factors: Vec<String> = f
                .props
                .iter()
                .filter_map(|p| match &p.node {
                    ast::FactorsProp::Factor(t) => Some(format!("- {}", md(&t.node))),
                    _ => None,
                })
                .collect();
            if !factors.is_empty() {
                out.line(factors.join("\n"));
            }
            out.commons(commons_of(&f.props, |p| match p {
                ast::FactorsProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Checklist(c) => {
            out.head("checklist", &c.name.node, Some(&c.title.node));
            out.commons(commons_of(&c.props, |p| match p {
                ast::ChecklistProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Actor(a) => {
            out.head("actor", &a.name.node, Some(&a.title.node));
            out.commons(a.props.iter().map(|p| &p.node));
        }
        Item::Contact(c) => {
            out.head("contact", &c.name.node, Some(&c.title.node));
            for p in &c.props {
                match &p.node {
                    ast::ContactProp::Phone(t) => out.line(format!("phone {}", md(&t.node))),
                    ast::ContactProp::Web(t) => out.line(format!("web {}", md(&t.node))),
                    ast::ContactProp::Email(t) => out.line(format!("email {}", md(&t.node))),
                    ast::ContactProp::Common(_) => {}
                }
            }
            out.commons(commons_of(&c.props, |p| match p {
                ast::ContactProp::Common(c) => Some(c),
                _ => None,
            }));
        }
        Item::Import(_) | Item::Header(_) | Item::Accept(_) => {}
    }
}

/// Hover text in the making: paragraphs separated by blank lines.
#[derive(Default)]
struct Hover {
    text: String,
}

impl Hover {
    fn line(&mut self, s: String) {
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
        self.text.push_str(&s);
    }

    fn head(&mut self, word: &str, name: &str, title: Option<&str>) {
        match title {
            Some(t) => self.line(format!("{word} `{name}`: **{}**", md(t))),
            None => self.line(format!("{word} `{name}`")),
        }
    }

    fn commons<'a>(&mut self, commons: impl Iterator<Item = &'a ast::Common>) {
        let mut cites = Vec::new();
        let mut notes = Vec::new();
        for c in commons {
            match c {
                ast::Common::Cite(cs) => cites.extend(cs.iter().map(|t| md(&t.node))),
                ast::Common::Note(n) => notes.push(md(&n.node)),
            }
        }
        if !cites.is_empty() {
            self.line(format!("Cites {}", cites.join(", ")));
        }
        for n in notes {
            self.line(format!("Note: {n}"));
        }
    }
}

fn answers(kind: &ast::AnswerKind) -> String {
    let options = |os: &[ast::OptionDef], sep: &str| {
        os.iter()
            .map(|o| match &o.title {
                Some(t) => format!("`{}` ({})", o.name.node, md(&t.node)),
                None => format!("`{}`", o.name.node),
            })
            .collect::<Vec<_>>()
            .join(sep)
    };
    match kind {
        ast::AnswerKind::YesNo => "Answers: yes or no".into(),
        ast::AnswerKind::OneOf(os) => format!("Answers, one of: {}", options(os, ", ")),
        ast::AnswerKind::Scale(os) => format!("Answers, on a scale: {}", options(os, " < ")),
        ast::AnswerKind::Count { from } => match from {
            Some(n) => format!("Answer: a count from {}", n.node),
            None => "Answer: a count".into(),
        },
        ast::AnswerKind::Amount { unit } => match unit {
            Some(u) => format!("Answer: an amount in {}", md(&u.node)),
            None => "Answer: an amount".into(),
        },
    }
}

/// The police response word as the language writes it.
pub fn police_word(p: ast::PoliceResponse) -> &'static str {
    match p {
        ast::PoliceResponse::None => "none",
        ast::PoliceResponse::Judgement => "judgement",
        ast::PoliceResponse::Advice => "advice",
        ast::PoliceResponse::Report => "report",
        ast::PoliceResponse::Prompt => "prompt",
        ast::PoliceResponse::Emergency => "emergency",
        ast::PoliceResponse::Unstated => "unstated",
        ast::PoliceResponse::OldLater => "later",
        ast::PoliceResponse::OldImmediate => "immediate",
    }
}

fn police_text(p: &ast::Police) -> String {
    let mut s = format!("Police response: **{}**", police_word(p.response.node));
    if let Some(by) = &p.by {
        s.push_str(&format!(", judged by `{}`", by.node));
    }
    if !p.settings.is_empty() {
        let names: Vec<String> = p.settings.iter().map(|n| format!("`{}`", n.node)).collect();
        s.push_str(&format!(" (for {})", names.join(", ")));
    }
    s
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Protocol text made literal in Markdown: every character that could start
/// markup is escaped, and line breaks are spaces.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '<' | '>' | '#' | '+'
            | '-' | '!' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
