//! Rendering diagnostics: miette reports for people, JSON lines for tools.

use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode, SourceSpan,
};
use serde_json::{Map, Value, json};

use super::{Diagnostic, Severity};
use crate::source::{Sources, Span};

/// How to draw human-readable reports.
#[derive(Clone, Copy, Debug)]
pub struct HumanStyle {
    pub color: bool,
    pub width: usize,
}

impl Default for HumanStyle {
    fn default() -> Self {
        HumanStyle {
            color: false,
            width: 100,
        }
    }
}

/// Render one diagnostic as a miette report: the source snippet, its labels,
/// the help, and labels in other files as related reports.
pub fn render_human(d: &Diagnostic, sources: &Sources, style: HumanStyle) -> String {
    let report = Report::new(d, sources);
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering only fails on a formatter error; fall back to one line.
        out = format!("{}: {}\n", d.code, d.message);
    }
    out
}

/// One diagnostic as a JSON object: code, severity, message, file, line,
/// column, byte span, labels, help, and for analysis findings the rules, the
/// witness incident, the route path and whether the finding is accepted.
pub fn to_json(d: &Diagnostic, sources: &Sources) -> Value {
    let mut obj = Map::new();
    obj.insert("code".into(), json!(d.code.to_string()));
    obj.insert("severity".into(), json!(d.severity));
    obj.insert("message".into(), json!(d.message));
    location(&mut obj, d.span, sources);
    let mut labels = Vec::new();
    if !d.label.is_empty() {
        let mut l = Map::new();
        l.insert("message".into(), json!(d.label));
        location(&mut l, d.span, sources);
        l.insert("primary".into(), json!(true));
        labels.push(Value::Object(l));
    }
    for label in &d.labels {
        let mut l = Map::new();
        l.insert("message".into(), json!(label.message));
        location(&mut l, label.span, sources);
        l.insert("primary".into(), json!(false));
        labels.push(Value::Object(l));
    }
    obj.insert("labels".into(), Value::Array(labels));
    obj.insert("help".into(), json!(d.help));
    if let Some(f) = &d.finding {
        obj.insert("rules".into(), json!(f.rules));
        if let Some(w) = &f.witness {
            let mut m = Map::new();
            for (q, a) in w.entries() {
                m.insert(q, a);
            }
            obj.insert("witness".into(), Value::Object(m));
        }
        if !f.path.is_empty() {
            obj.insert("path".into(), json!(f.path));
        }
        if !f.subject.is_empty() {
            obj.insert("subject".into(), json!(f.subject));
        }
        obj.insert("accepted".into(), json!(f.accepted.is_some()));
        if let Some(reason) = &f.accepted {
            obj.insert("accepted_because".into(), json!(reason));
        }
    }
    Value::Object(obj)
}

fn location(obj: &mut Map<String, Value>, span: Span, sources: &Sources) {
    let file = sources.get(span.file);
    let (line, column) = file.line_col(span.start);
    obj.insert("file".into(), json!(file.name()));
    obj.insert("line".into(), json!(line));
    obj.insert("column".into(), json!(column));
    obj.insert("span".into(), json!({"start": span.start, "end": span.end}));
}

/// A diagnostic bound to its source, in the shape miette wants.
struct Report {
    code: String,
    severity: Severity,
    accepted: bool,
    message: String,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &Sources) -> Report {
        let file = sources.get(d.span.file);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            (!d.label.is_empty()).then(|| d.label.clone()),
            to_source_span(d.span),
        )];
        let mut related = Vec::new();
        for l in &d.labels {
            if l.span.file == d.span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    to_source_span(l.span),
                ));
            } else {
                let other = sources.get(l.span.file);
                related.push(Report {
                    code: String::new(),
                    severity: Severity::Warning,
                    accepted: false,
                    message: l.message.clone(),
                    help: None,
                    source: NamedSource::new(other.name(), other.text.clone()),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        None,
                        to_source_span(l.span),
                    )],
                    related: Vec::new(),
                });
            }
        }
        // An accepted finding is shown as accepted, with its reason in place
        // of the advice on how to fix it.
        let accepted = d.finding.as_ref().and_then(|f| f.accepted.as_ref());
        Report {
            code: d.code.to_string(),
            severity: d.severity,
            accepted: accepted.is_some(),
            message: match accepted {
                Some(_) => format!("accepted: {}", d.message),
                None => d.message.clone(),
            },
            help: match accepted {
                Some(reason) => Some(format!("accepted because: {reason}")),
                None => d.help.clone(),
            },
            source: NamedSource::new(file.name(), file.text.clone()),
            labels,
            related,
        }
    }
}

fn to_source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() {
            None
        } else {
            Some(Box::new(&self.code))
        }
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            _ if self.accepted => miette::Severity::Advice,
            Severity::Error => miette::Severity::Error,
            Severity::Warning if self.code.is_empty() => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}
