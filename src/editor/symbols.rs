//! The outline of a document: each definition with its name, kind and
//! title, and inside it what it defines (a question's answers, a level's
//! examples, a route's steps, a checklist's items). A file that does not
//! parse has no outline until it does.

use lsp_types::{DocumentSymbol, SymbolKind};

use crate::source::{FileId, Span};
use crate::syntax::ast::{self, Item};

use super::index::item_span;
use super::position::LineIndex;

pub fn outline(text: &str) -> Vec<DocumentSymbol> {
    let Ok(file) = crate::syntax::parse(FileId(0), text) else {
        return Vec::new();
    };
    let lines = LineIndex::new(text);
    let sym = |name: &str,
               detail: Option<&str>,
               kind: SymbolKind,
               full: Span,
               sel: Span,
               children: Vec<DocumentSymbol>| {
        #[allow(deprecated)]
        DocumentSymbol {
            name: name.to_string(),
            detail: detail.map(str::to_string),
            kind,
            tags: None,
            deprecated: None,
            range: lines.range(text, full.start as usize, full.end as usize),
            selection_range: lines.range(text, sel.start as usize, sel.end as usize),
            children: (!children.is_empty()).then_some(children),
        }
    };
    let mut out = Vec::new();
    for item in &file.items {
        let full = item_span(item);
        let mut children = Vec::new();
        let (name, detail, kind): (&ast::Name, Option<&str>, SymbolKind) = match item {
            Item::Header(h) => (&h.name, None, SymbolKind::FILE),
            Item::Setting(x) => (&x.name, Some(&x.title.node), SymbolKind::ENUM_MEMBER),
            Item::Question(q) => {
                for p in &q.props {
                    if let ast::QuestionProp::Answer(
                        ast::AnswerKind::OneOf(os) | ast::AnswerKind::Scale(os),
                    ) = &p.node
                    {
                        for o in os {
                            let whole = o
                                .title
                                .as_ref()
                                .map_or(o.name.span, |t| o.name.span.to(t.span));
                            children.push(sym(
                                &o.name.node,
                                o.title.as_ref().map(|t| t.node.as_str()),
                                SymbolKind::ENUM_MEMBER,
                                whole,
                                o.name.span,
                                Vec::new(),
                            ));
                        }
                    }
                }
                (&q.name, Some(&q.text.node), SymbolKind::VARIABLE)
            }
            Item::Level(l) => {
                for p in &l.props {
                    if let ast::LevelProp::Example(ex) = &p.node {
                        children.push(sym(
                            &ex.title.node,
                            None,
                            SymbolKind::EVENT,
                            ex.span,
                            ex.title.span,
                            Vec::new(),
                        ));
                    }
                }
                (&l.name, Some(&l.title.node), SymbolKind::CONSTANT)
            }
            Item::Rule(r) => (
                &r.name,
                r.title.as_ref().map(|t| t.node.as_str()),
                SymbolKind::FUNCTION,
            ),
            Item::Procedure(x) => (&x.name, Some(&x.title.node), SymbolKind::FUNCTION),
            Item::Route(ast::Route {
                name, title, props, ..
            })
            | Item::Fragment(ast::Fragment {
                name, title, props, ..
            }) => {
                for p in props {
                    let (n, t, span) = match &p.node {
                        ast::RouteProp::Step(s) => (&s.name, &s.text, s.span),
                        ast::RouteProp::Decision(d) => (&d.name, &d.text, d.span),
                        ast::RouteProp::Outcome(o) => (&o.name, &o.text, o.span),
                        _ => continue,
                    };
                    children.push(sym(
                        &n.node,
                        Some(&t.node),
                        SymbolKind::METHOD,
                        span,
                        n.span,
                        Vec::new(),
                    ));
                }
                (name, Some(&title.node), SymbolKind::MODULE)
            }
            Item::Factors(x) => (&x.name, Some(&x.title.node), SymbolKind::ARRAY),
            Item::Checklist(c) => {
                for p in &c.props {
                    if let ast::ChecklistProp::Item(it) = &p.node {
                        children.push(sym(
                            &it.name.node,
                            Some(&it.text.node),
                            SymbolKind::FIELD,
                            it.span,
                            it.name.span,
                            Vec::new(),
                        ));
                    }
                }
                (&c.name, Some(&c.title.node), SymbolKind::STRUCT)
            }
            Item::Actor(x) => (&x.name, Some(&x.title.node), SymbolKind::OBJECT),
            Item::Contact(x) => (&x.name, Some(&x.title.node), SymbolKind::OBJECT),
            Item::Import(imp) => {
                out.push(sym(
                    &format!("import {}", imp.path.node),
                    None,
                    SymbolKind::PACKAGE,
                    full,
                    imp.path.span,
                    Vec::new(),
                ));
                continue;
            }
            Item::Accept(a) => {
                out.push(sym(
                    &format!("accept {}", a.code.node),
                    Some(&a.reason.node),
                    SymbolKind::KEY,
                    full,
                    a.code.span,
                    Vec::new(),
                ));
                continue;
            }
        };
        out.push(sym(&name.node, detail, kind, full, name.span, children));
    }
    out
}
