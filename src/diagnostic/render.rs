//! Rendering diagnostics: miette reports for people, JSON lines for tools.
//!
//! A report for people shows only the lines around its labels, read through
//! the file's index of line starts (an excerpt), so that it costs what it
//! shows whatever the size of the file, and shows every character of the
//! protocol that a terminal would act on as an escape.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde_json::{Map, Value, json};

use super::text::{is_terminal_unsafe, push_escape, terminal_safe, terminal_safe_lines};
use super::{Diagnostic, Severity};
use crate::source::{SourceFile, Sources, Span};

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
///
/// Every text that may quote the protocol (the message, labels, help, file
/// names and the source lines) is shown with the characters a terminal would
/// act on escaped (see [`super::text`]); the only escape sequences in the
/// result are the colours of `style`. The time taken is in proportion to the
/// lines shown, whatever the size of the file.
pub fn render_human(d: &Diagnostic, sources: &Sources, style: HumanStyle) -> String {
    let report = Report::new(d, sources);
    let handler = handler(style);
    let mut out = String::new();
    // Labels in other files are drawn after the report, each as a report of
    // its own: miette would head each with `Advice:`, a word that means
    // nothing here (and nothing at all above an accepted finding).
    let rendered = handler.render_report(&mut out, &report).and_then(|()| {
        report.related.iter().try_for_each(|r| {
            out.push('\n');
            handler.render_report(&mut out, r)
        })
    });
    if rendered.is_err() {
        // Rendering only fails on a formatter error; fall back to one line.
        out = format!("{}: {}\n", d.code, terminal_safe(&d.message));
    }
    out
}

fn handler(style: HumanStyle) -> GraphicalReportHandler {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(CONTEXT_LINES)
        // Names are joined with `-` (`drug-class == class-b`); a line broken
        // at the hyphen would read as two words.
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
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

/// A diagnostic bound to its source, in the shape miette wants. Labels are
/// in the offsets of the report's [`Excerpt`], and every text that may quote
/// the protocol is made safe for a terminal.
struct Report {
    code: String,
    severity: Severity,
    accepted: bool,
    message: String,
    help: Option<String>,
    source: Excerpt,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &Sources) -> Report {
        let file = sources.get(d.span.file);
        let same_file: Vec<Span> = std::iter::once(d.span)
            .chain(
                d.labels
                    .iter()
                    .filter(|l| l.span.file == d.span.file)
                    .map(|l| l.span),
            )
            .collect();
        let source = Excerpt::new(file, &same_file);
        let label = |text: &str| Some(terminal_safe(text).into_owned());
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            (!d.label.is_empty()).then(|| terminal_safe(&d.label).into_owned()),
            source.source_span(d.span),
        )];
        let mut related = Vec::new();
        for l in &d.labels {
            if l.span.file == d.span.file {
                labels.push(LabeledSpan::new_with_span(
                    label(&l.message),
                    source.source_span(l.span),
                ));
            } else {
                let other = Excerpt::new(sources.get(l.span.file), &[l.span]);
                related.push(Report {
                    code: String::new(),
                    severity: Severity::Warning,
                    accepted: false,
                    message: terminal_safe(&l.message).into_owned(),
                    help: None,
                    labels: vec![LabeledSpan::new_primary_with_span(
                        None,
                        other.source_span(l.span),
                    )],
                    source: other,
                    related: Vec::new(),
                });
            }
        }
        // An accepted finding is shown as accepted, with its reason in place
        // of the advice on how to fix it.
        let accepted = d.finding.as_ref().and_then(|f| f.accepted.as_ref());
        let message = terminal_safe(&d.message);
        Report {
            code: d.code.to_string(),
            severity: d.severity,
            accepted: accepted.is_some(),
            message: match accepted {
                Some(_) => format!("accepted: {message}"),
                None => message.into_owned(),
            },
            help: match accepted {
                Some(reason) => Some(format!("accepted because: {}", terminal_safe(reason))),
                None => d
                    .help
                    .as_deref()
                    .map(|h| terminal_safe_lines(h).into_owned()),
            },
            source,
            labels,
            related,
        }
    }
}

/// How many lines miette shows before and after each label.
const CONTEXT_LINES: usize = 1;

/// The most lines between the lines shown around two labels for miette to
/// show them, and the lines between, as one snippet.
const MAX_GAP: usize = 8;

/// The `line_count` of contents read from a segment, which miette uses for
/// one thing: it shows the next label in the same snippet when
/// `line + line_count` reaches that label's first line. miette's own sources
/// give the count of lines from the start of the file to the end of the
/// contents, so it joins labels that are far apart, deep in a file, and
/// shows every line between them. Capping the count at the lines the
/// contents cover plus [`MAX_GAP`] keeps miette's choice where labels are
/// close and keeps a snippet the size of what it labels.
fn line_count(contents: &dyn SpanContents<'_>, first_line: usize) -> usize {
    let from_file_start = contents.line_count() + first_line;
    let covered = contents.line_count() - contents.line();
    from_file_start.min(covered + MAX_GAP)
}

/// The lines of one file that a report shows: a few around each label, made
/// safe for a terminal.
///
/// miette finds the lines around a label by reading its source from the
/// start, so handing it a whole file makes each report cost as much as the
/// file and a report of many diagnostics cost the square of its size. An
/// excerpt holds only the lines around the labels, so a report costs what
/// it shows; line numbers come from the file's index of line starts.
///
/// Each character a terminal would act on (see [`is_terminal_unsafe`]) is
/// shown as its escape, `\u{1b}`, which is longer than the character: an
/// excerpt has offsets of its own, in which each segment starts where it
/// does in the file plus what the escapes of the segments before it add.
/// Labels are given to miette in those offsets ([`Excerpt::source_span`]),
/// so they underline the escaped text. Tabs, line feeds and the carriage
/// return of a CRLF are kept: miette draws those itself.
struct Excerpt {
    name: String,
    /// In file order, neither overlapping nor touching.
    segments: Vec<Segment>,
}

/// Whole lines of a file, escaped.
struct Segment {
    /// Where the segment starts in the excerpt's offsets.
    start: usize,
    /// Where it starts and ends in the file (byte offsets, line starts or
    /// the end of the file).
    file_start: usize,
    file_end: usize,
    /// The 0-based number of its first line.
    line: usize,
    text: String,
    /// For each escaped character, where it ends in `text` and in the file,
    /// both relative to the segment's start: their difference is what the
    /// escapes up to there have added.
    escapes: Vec<(usize, usize)>,
}

impl Segment {
    /// What the escapes before `offset` (relative to the file start of the
    /// segment) add to it.
    fn growth_before_file(&self, offset: usize) -> usize {
        match self.escapes.partition_point(|&(_, file)| file <= offset) {
            0 => 0,
            n => self.escapes[n - 1].0 - self.escapes[n - 1].1,
        }
    }

    /// What the escapes before `offset` (relative to the start of `text`)
    /// have added to it.
    fn growth_before_text(&self, offset: usize) -> usize {
        match self.escapes.partition_point(|&(text, _)| text <= offset) {
            0 => 0,
            n => self.escapes[n - 1].0 - self.escapes[n - 1].1,
        }
    }
}

impl Excerpt {
    /// The lines of `file` around `spans`.
    fn new(file: &SourceFile, spans: &[Span]) -> Excerpt {
        let text = file.text.as_bytes();
        let mut ranges: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                let lo = (s.start as usize).min(text.len());
                let hi = (s.end as usize).clamp(lo, text.len());
                // One line more than miette shows on either side, and one
                // more after, as miette reads up to the line break that
                // follows the last line it shows.
                (
                    lines_back(text, lo, CONTEXT_LINES + 1),
                    lines_forward(text, hi, CONTEXT_LINES + 3),
                )
            })
            .collect();
        ranges.sort_unstable();
        // Ranges that miette may show together become one segment: those
        // that overlap, and those with at most `MAX_GAP` lines between
        // them (and a line to spare).
        let line = |offset: usize| file.line_col(offset as u32).0;
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1 || line(lo) <= line(last.1) + MAX_GAP + 1 => {
                    last.1 = last.1.max(hi);
                }
                _ => merged.push((lo, hi)),
            }
        }
        let mut growth = 0;
        let segments = merged
            .into_iter()
            .map(|(lo, hi)| {
                let segment = Segment::new(file, lo, hi, lo + growth);
                growth += segment.text.len() - (hi - lo);
                segment
            })
            .collect();
        Excerpt {
            name: terminal_safe(&file.name()).into_owned(),
            segments,
        }
    }

    /// A span of the file in the excerpt's offsets.
    fn source_span(&self, span: Span) -> SourceSpan {
        let start = self.offset(span.start as usize);
        let end = self.offset(span.end as usize).max(start);
        SourceSpan::new(start.into(), end - start)
    }

    /// A file offset in the excerpt's offsets. Offsets past the end of the
    /// file stay past the end of the excerpt.
    fn offset(&self, offset: usize) -> usize {
        let i = self
            .segments
            .partition_point(|s| s.file_start <= offset)
            .saturating_sub(1);
        match self.segments.get(i) {
            Some(s) => {
                let within = offset.saturating_sub(s.file_start);
                let growth = s.growth_before_file(within.min(s.file_end - s.file_start));
                s.start + within + growth
            }
            None => offset,
        }
    }
}

impl Segment {
    fn new(file: &SourceFile, lo: usize, hi: usize, start: usize) -> Segment {
        let original = &file.text[lo..hi];
        let mut text = String::with_capacity(original.len());
        let mut escapes = Vec::new();
        let mut chars = original.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let drawn = match c {
                '\t' | '\n' => true,
                '\r' => chars.peek().is_some_and(|&(_, next)| next == '\n'),
                _ => !is_terminal_unsafe(c),
            };
            if drawn {
                text.push(c);
            } else {
                push_escape(&mut text, c);
                escapes.push((text.len(), i + c.len_utf8()));
            }
        }
        Segment {
            start,
            file_start: lo,
            file_end: hi,
            line: file.line_col(lo as u32).0 - 1,
            text,
            escapes,
        }
    }
}

/// The start of the line `count` lines above the one holding `offset`.
fn lines_back(text: &[u8], offset: usize, count: usize) -> usize {
    let mut start = line_start(text, offset);
    for _ in 0..count {
        if start == 0 {
            break;
        }
        start = line_start(text, start - 1);
    }
    start
}

fn line_start(text: &[u8], offset: usize) -> usize {
    text[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The offset just after the `count`th line break from `offset`, or the end
/// of the text.
fn lines_forward(text: &[u8], offset: usize, count: usize) -> usize {
    let mut end = offset;
    for _ in 0..count {
        match text[end..].iter().position(|&b| b == b'\n') {
            Some(i) => end += i + 1,
            None => return text.len(),
        }
    }
    end
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let i = self
            .segments
            .partition_point(|s| s.start <= span.offset())
            .checked_sub(1)
            .ok_or(MietteError::OutOfBounds)?;
        let segment = &self.segments[i];
        let local = span.offset() - segment.start;
        // A span that runs out of its segment is one miette made by joining
        // labels whose lines are not next to each other: refuse it, so that
        // miette shows them apart. At the end of the file, miette takes a
        // span of one past the end (where a syntax error finds the file
        // ended) but would fail on one that starts after the end.
        let end = local + span.len();
        let past_end = if i + 1 == self.segments.len() {
            local > segment.text.len() || end > segment.text.len() + 1
        } else {
            end > segment.text.len()
        };
        if past_end {
            return Err(MietteError::OutOfBounds);
        }
        let contents = segment.text.as_str().read_span(
            &SourceSpan::new(local.into(), span.len()),
            context_lines_before,
            context_lines_after,
        )?;
        // miette counts the column in bytes from the start of the line; give
        // the count in the file, without what escapes added.
        let column = contents.column();
        let escaped = segment.growth_before_text(local)
            - segment.growth_before_text(local.saturating_sub(column));
        let column = column - escaped;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + segment.start).into(),
                contents.span().len(),
            ),
            contents.line() + segment.line,
            column,
            line_count(&*contents, segment.line),
        )))
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::source::FileId;
    use proptest::prelude::*;

    /// miette reading the whole file, with the same cap on `line_count` as
    /// an excerpt: what an excerpt must render exactly like.
    struct WholeFile {
        name: String,
        text: String,
    }

    impl SourceCode for WholeFile {
        fn read_span<'a>(
            &'a self,
            span: &SourceSpan,
            before: usize,
            after: usize,
        ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
            let c = self.text.as_str().read_span(span, before, after)?;
            Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                c.data(),
                *c.span(),
                c.line(),
                c.column(),
                line_count(&*c, 0),
            )))
        }
    }

    /// A report drawn from another source.
    struct WithSource<'a> {
        report: &'a Report,
        source: &'a dyn SourceCode,
    }

    impl fmt::Debug for WithSource<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self.report, f)
        }
    }

    impl fmt::Display for WithSource<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Display::fmt(self.report, f)
        }
    }

    impl std::error::Error for WithSource<'_> {}

    impl miette::Diagnostic for WithSource<'_> {
        fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
            miette::Diagnostic::code(self.report)
        }
        fn severity(&self) -> Option<miette::Severity> {
            miette::Diagnostic::severity(self.report)
        }
        fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
            miette::Diagnostic::help(self.report)
        }
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(self.source)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            miette::Diagnostic::labels(self.report)
        }
    }

    fn diagnostic(spans: &[(usize, usize)]) -> Diagnostic {
        let span = |(a, b): (usize, usize)| Span::new(FileId(0), a, b);
        let mut d = Diagnostic::new(Code::UnusedQuestion, span(spans[0]), "the message")
            .with_label("first")
            .with_help("some help");
        for (i, &s) in spans.iter().enumerate().skip(1) {
            d = d.with_secondary(span(s), format!("label {i}"));
        }
        d
    }

    fn render_both(text: &str, spans: &[(usize, usize)]) -> (String, String) {
        let mut sources = Sources::new();
        sources.add("f.carepath".into(), text);
        let d = diagnostic(spans);
        let excerpt = render_human(&d, &sources, HumanStyle::default());
        let report = Report::new(&d, &sources);
        let whole = WholeFile {
            name: "f.carepath".into(),
            text: text.to_string(),
        };
        let mut reference = String::new();
        handler(HumanStyle::default())
            .render_report(
                &mut reference,
                &WithSource {
                    report: &report,
                    source: &whole,
                },
            )
            .expect("renders");
        (excerpt, reference)
    }

    /// Lines of words, short and long, some blank, some with CRLF endings,
    /// tabs or letters of several bytes, and labels anywhere in them (empty,
    /// across lines, up to the end of the file or past it).
    fn file_and_spans() -> impl Strategy<Value = (String, Vec<(usize, usize)>)> {
        let line = prop_oneof![
            Just(String::new()),
            "[a-z ]{1,30}",
            "[a-zé\t ]{1,12}",
            "[a-z ]{1,8}\r",
        ];
        proptest::collection::vec(line, 1..120).prop_flat_map(|lines| {
            // Carriage returns only before line feeds: miette takes one on
            // its own for a line break, where an excerpt shows it escaped.
            let mut text = lines.join("\n");
            if text.ends_with('\r') {
                text.push('\n');
            }
            // Labels may end one past the end, as miette allows.
            let bounds: Vec<usize> = (0..=text.len() + 1)
                .filter(|&i| i > text.len() || text.is_char_boundary(i))
                .collect();
            let n = bounds.len();
            let span = (0..n, 0..n)
                .prop_map(move |(a, b)| (bounds[a.min(b).min(n - 2)], bounds[a.max(b)]));
            (Just(text), proptest::collection::vec(span, 1..5))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn an_excerpt_renders_like_the_whole_file((text, spans) in file_and_spans()) {
            let (excerpt, whole) = render_both(&text, &spans);
            prop_assert_eq!(excerpt, whole);
        }
    }

    #[test]
    fn labels_past_the_end_are_reported_not_drawn() {
        let text = "one\ntwo\n";
        for span in [(9, 9), (12, 14), (2, 20)] {
            let mut sources = Sources::new();
            sources.add("f.carepath".into(), text);
            let out = render_human(&diagnostic(&[span]), &sources, HumanStyle::default());
            assert!(out.contains("Failed to read contents for label"), "{out}");
        }
    }

    #[test]
    fn a_lone_carriage_return_is_shown_not_obeyed() {
        let text = "one\rtwo\nthree\r\nfour\n";
        let start = text.find("three").expect("three");
        let mut sources = Sources::new();
        sources.add("f.carepath".into(), text);
        let out = render_human(
            &diagnostic(&[(start, start + 5)]),
            &sources,
            HumanStyle::default(),
        );
        assert!(out.contains(" 1 │ one\\u{d}two\n"), "{out}");
        assert!(out.contains("[f.carepath:2:1]\n"), "{out}");
        assert!(out.contains(" 2 │ three\n"), "{out}");
        assert!(out.contains(" 3 │ four\n"), "{out}");
        assert!(!out.contains('\r'), "{out}");
    }

    #[test]
    fn labels_far_apart_are_shown_apart() {
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        let at = |line: usize| text.find(&format!("line {line}\n")).expect("line");
        let spans = [(at(4000), at(4000) + 4), (at(2100), at(2100) + 4)];
        let (excerpt, whole) = render_both(&text, &spans);
        assert_eq!(excerpt, whole);
        // miette's own sources would show the 1,900 lines between.
        assert!(excerpt.lines().count() < 20, "{excerpt}");
        assert_eq!(excerpt.matches("╭─[").count(), 2, "{excerpt}");
    }

    #[test]
    fn escapes_are_underlined_in_place() {
        let text = "question q \"a\u{1b}]0;x\u{7}b\" { answer yes or no }\nnext\u{202e}line\n";
        let start = text.find('"').expect("a quote");
        let end = text[start + 1..].find('"').expect("a closing quote") + start + 2;
        let mut sources = Sources::new();
        sources.add("f\u{1b}[2J.carepath".into(), text);
        let d = diagnostic(&[(start, end)]);
        let out = render_human(&d, &sources, HumanStyle::default());
        let expected = [
            "  ⚠ the message",
            "   ╭─[f\\u{1b}[2J.carepath:1:12]",
            " 1 │ question q \"a\\u{1b}]0;x\\u{7}b\" { answer yes or no }",
            "   ·            ─────────┬─────────",
            "   ·                     ╰── first",
            " 2 │ next\\u{202e}line",
            "   ╰────",
            "  help: some help",
        ];
        let shown: Vec<&str> = out.lines().skip(2).collect();
        assert_eq!(shown, expected, "{out}");
    }

    #[test]
    fn the_column_is_counted_in_the_file() {
        // The column miette shows is in bytes of the file, escapes or not.
        let text = "a\u{1b}b\u{9b}c \u{202e} target\n";
        let start = text.find("target").expect("target");
        let mut sources = Sources::new();
        sources.add("f.carepath".into(), text);
        let out = render_human(
            &diagnostic(&[(start, start + 6)]),
            &sources,
            HumanStyle::default(),
        );
        assert!(
            out.contains(&format!("[f.carepath:1:{}]", start + 1)),
            "{out}"
        );
    }
}
