//! The canonical layout of a protocol file (`carepath fmt`).
//!
//! The formatter prints pest's concrete tree, not the syntax tree of
//! `ast.rs`: every token is printed as it was written (names, quoted text
//! with its escapes, numbers, dates), so formatting can only change the
//! blank space between tokens and never what a protocol means. Three
//! changes go beyond blank space, all of them meaningless to the grammar:
//! the words of a keyword such as `ask first` are separated by one space,
//! the optional commas between the answers of `one of { ... }` are dropped
//! (each answer has its own line), and a byte-order mark is dropped.
//!
//! Comments are not in the tree (pest skips them with the blank space), so
//! they are found in the text and attached to tokens, as Gleam's formatter
//! does: a comment on the same line as the token before it stays at the end
//! of that token's line; any other comment goes on its own lines before the
//! next token. Blank lines between the properties of a definition are kept
//! (at most one); definitions are separated by one, except that
//! definitions of one kind may be grouped (imports, a list of actors).
//!
//! The layout: two spaces of indentation per block, one property per line,
//! one answer per line, and a condition that does not fit in
//! [`WIDTH`] columns broken before its `and`s and `or`s, each continuation
//! two spaces further in than the line it continues, `or` before `and` (so
//! the lines show how the condition groups), a part in parentheses broken
//! the same way only when it does not fit on its own. Quoted text is never
//! broken, so lines with long text stay long.

use pest::Parser as _;
use pest::iterators::Pair;

use super::parse::{CarepathParser, Rule};
use crate::diagnostic::Diagnostic;
use crate::source::FileId;

/// The width a condition is broken to fit in.
pub const WIDTH: usize = 100;

/// Format a file's text in the canonical layout, or return its syntax
/// errors (a file that does not parse is not formatted). Diagnostics name
/// `FileId(0)`; use [`format_file`] to name another.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    format_file(FileId(0), text)
}

/// [`format`], with syntax errors reported against `file`.
pub fn format_file(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    // The full parse reports every syntax error, and refuses nesting too
    // deep for the recursion below.
    super::parse(file, text)?;
    let mut pairs = CarepathParser::parse(Rule::file, text)
        .map_err(|e| vec![super::expected::syntax_error(file, text, &e)])?;
    let Some(root) = pairs.next() else {
        return Ok(String::new());
    };
    let mut builder = Builder {
        text,
        tokens: Vec::new(),
    };
    let doc = builder.file(root);
    let attached = attach_comments(text, &builder.tokens);
    let mut printer = Printer {
        tokens: &builder.tokens,
        attached: &attached,
        out: String::new(),
        pending: None,
        line_empty: true,
        column: 0,
        lines: 0,
        mark: 0,
        marking: false,
        led: None,
    };
    printer.print(&doc, 0, false);
    let mut out = printer.out;
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

// ---------------------------------------------------------------- documents

/// What is printed, with the choices left to the printer: a `Line` is a
/// space when its group fits on the line and a line break when it does not.
#[derive(Debug)]
enum Doc {
    Tok(usize),
    /// A token printed without its leading comments (they were printed
    /// earlier, inside the block the token closes).
    TokBare(usize),
    /// The leading comments of a token, alone, on lines of their own after
    /// a line break (none when there are no comments).
    Comments(usize, Blank),
    Space,
    Line,
    Break(Blank),
    Nest(Vec<Doc>),
    Group(Vec<Doc>),
    Concat(Vec<Doc>),
    /// The start of a definition (see [`Blank::AfterOneLine`]).
    Mark,
}

/// Whether a line break leaves a blank line.
#[derive(Clone, Copy, Debug)]
enum Blank {
    Never,
    Always,
    /// As the source had one before the token (or its first comment).
    AsBefore(usize),
    /// As the source had, when what was printed since the last
    /// [`Doc::Mark`] is one line; else always.
    AfterOneLine(usize),
}

/// A token: where it is in the source and how it is printed.
struct Token {
    start: usize,
    end: usize,
    text: String,
}

// ---------------------------------------------------------------- building

struct Builder<'t> {
    text: &'t str,
    tokens: Vec<Token>,
}

/// Rules whose braces hold a block: one property (or answer) per line.
/// The braces of `in { ... }` are the only others, and stay on the line.
fn has_block(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        protocol
            | library
            | setting
            | question
            | one_of
            | scale
            | option
            | level
            | example
            | rule_def
            | procedure
            | route
            | fragment
            | step
            | decision
            | outcome
            | factors
            | checklist
            | item
            | actor
            | contact
    )
}

/// Rules that begin with a word or sign of their own that has no rule
/// (`within 24 hours`, `(`, `- "factor"`).
fn literal_prefix(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::within | Rule::after | Rule::every | Rule::group | Rule::factor
    )
}

/// One piece of a line: a token, a condition or a block.
enum Atom {
    Tok(usize),
    Doc(Doc),
    Block(Doc),
    /// The end of a line that moves to a line of its own when the line is
    /// too long: a citation (`title "..." cite "2.1"`), or an accepted
    /// finding's reason (`because "..."`).
    Tail(Doc),
}

impl<'t> Builder<'t> {
    fn token(&mut self, start: usize, end: usize, text: String) -> usize {
        self.tokens.push(Token { start, end, text });
        self.tokens.len() - 1
    }

    fn leaf(&mut self, pair: &Pair<'t, Rule>) -> usize {
        let span = pair.as_span();
        let raw = pair.as_str();
        let text = if format!("{:?}", pair.as_rule()).starts_with("kw_") {
            // `ask   first`, or with a comment between the words: one space.
            raw.lines()
                .map(|line| line.split("//").next().unwrap_or(""))
                .flat_map(str::split_whitespace)
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            raw.to_string()
        };
        self.token(span.start(), span.end(), text)
    }

    fn file(&mut self, root: Pair<'t, Rule>) -> Doc {
        let mut docs = Vec::new();
        let mut previous: Option<Rule> = None;
        for pair in root.into_inner() {
            if pair.as_rule() == Rule::EOI {
                let eoi = self.token(self.text.len(), self.text.len(), String::new());
                let blank = if previous.is_some() {
                    Blank::AsBefore(eoi)
                } else {
                    Blank::Never
                };
                docs.push(Doc::Comments(eoi, blank));
                break;
            }
            let first = self.tokens.len();
            let rule = pair.as_rule();
            if let Some(before) = previous {
                // Definitions of one kind may be grouped (imports, a list
                // of one-line actors); any others are set apart.
                let blank = if before != rule {
                    Blank::Always
                } else if rule == Rule::import {
                    Blank::AsBefore(first)
                } else {
                    Blank::AfterOneLine(first)
                };
                docs.push(Doc::Break(blank));
            }
            docs.push(Doc::Mark);
            docs.push(self.line(pair));
            previous = Some(rule);
        }
        Doc::Concat(docs)
    }

    /// A definition, property or answer: its tokens on one line, with any
    /// block it holds laid out below it.
    fn line(&mut self, pair: Pair<'t, Rule>) -> Doc {
        let mut atoms = Vec::new();
        self.atoms(pair, &mut atoms);
        join(atoms, &self.tokens, true)
    }

    fn atoms(&mut self, pair: Pair<'t, Rule>, out: &mut Vec<Atom>) {
        let rule = pair.as_rule();
        if rule == Rule::expr {
            out.push(Atom::Doc(self.expr(pair)));
            return;
        }
        if pair.as_str().is_empty() {
            return;
        }
        if rule == Rule::string || pair.clone().into_inner().next().is_none() {
            out.push(Atom::Tok(self.leaf(&pair)));
            return;
        }
        if literal_prefix(rule) {
            let start = pair.as_span().start();
            let word = pair.as_str().split_whitespace().next().unwrap_or("");
            let word = if rule == Rule::group { "(" } else { word };
            let len = word.len();
            out.push(Atom::Tok(self.token(start, start + len, word.to_string())));
        }
        if !has_block(rule) {
            let mut children = pair.into_inner();
            while let Some(child) = children.next() {
                let mut tail = Vec::new();
                match child.as_rule() {
                    Rule::cite => self.atoms(child, &mut tail),
                    Rule::kw_because => {
                        self.atoms(child, &mut tail);
                        if let Some(reason) = children.next() {
                            self.atoms(reason, &mut tail);
                        }
                    }
                    _ => {
                        self.atoms(child, out);
                        continue;
                    }
                }
                out.push(Atom::Tail(join(tail, &self.tokens, true)));
            }
            return;
        }
        let mut children = pair.into_inner();
        while let Some(child) = children.next() {
            if child.as_rule() != Rule::lbrace {
                self.atoms(child, out);
                continue;
            }
            let open = self.leaf(&child);
            let mut items: Vec<Vec<Pair<'t, Rule>>> = Vec::new();
            let mut close = None;
            for inner in children.by_ref() {
                match inner.as_rule() {
                    Rule::rbrace => {
                        close = Some(inner);
                        break;
                    }
                    // The commas between answers are optional: each answer
                    // has a line of its own instead.
                    Rule::comma if rule == Rule::one_of => {}
                    Rule::option
                        if items
                            .last()
                            .is_some_and(|l| l.len() == 1 && l[0].as_rule() == Rule::scale_lt) =>
                    {
                        if let Some(last) = items.last_mut() {
                            last.push(inner);
                        }
                    }
                    _ => items.push(vec![inner]),
                }
            }
            out.push(Atom::Block(self.block(open, items, close)));
        }
    }

    fn block(
        &mut self,
        open: usize,
        items: Vec<Vec<Pair<'t, Rule>>>,
        close: Option<Pair<'t, Rule>>,
    ) -> Doc {
        // A block of one property written on one line (`{ phone "999" }`)
        // stays on one line when it fits: the author's choice, as blank
        // lines are. No comment can be inside it (a comment ends its line).
        if let (Some(close), [item]) = (&close, items.as_slice()) {
            let open_at = self.tokens.get(open).map_or(0, |t| t.start);
            if !self.text[open_at..close.as_span().end()].contains('\n') {
                let mut atoms = Vec::new();
                for pair in item.clone() {
                    self.atoms(pair, &mut atoms);
                }
                let item = join(atoms, &self.tokens, true);
                let close = self.leaf(close);
                return Doc::Group(vec![
                    Doc::Tok(open),
                    Doc::Nest(vec![Doc::Line, item]),
                    Doc::Line,
                    Doc::TokBare(close),
                ]);
            }
        }
        let mut body = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let first = self.tokens.len();
            body.push(Doc::Break(if i == 0 {
                Blank::Never
            } else {
                Blank::AsBefore(first)
            }));
            let mut atoms = Vec::new();
            for pair in item {
                self.atoms(pair, &mut atoms);
            }
            body.push(join(atoms, &self.tokens, true));
        }
        let Some(close) = close else {
            return Doc::Concat(vec![Doc::Tok(open), Doc::Nest(body)]);
        };
        let empty = body.is_empty();
        let close = self.leaf(&close);
        // Comments before the closing brace belong inside the block.
        body.push(Doc::Comments(
            close,
            if empty {
                Blank::Never
            } else {
                Blank::AsBefore(close)
            },
        ));
        Doc::Concat(vec![
            Doc::Tok(open),
            Doc::Nest(body),
            Doc::Break(Blank::Never),
            Doc::TokBare(close),
        ])
    }

    /// A condition: `or` binds loosest, so the chain is split at its `or`s
    /// first, and each part at its `and`s; each level is a group that breaks
    /// (every operator of it starting a line) only when it does not fit.
    fn expr(&mut self, pair: Pair<'t, Rule>) -> Doc {
        // [(operator, operand)]: the first operand has no operator.
        let mut chain: Vec<(Option<usize>, Vec<Doc>)> = vec![(None, Vec::new())];
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_and | Rule::kw_or => {
                    let op = self.leaf(&child);
                    chain.push((Some(op), Vec::new()));
                }
                Rule::kw_not => {
                    let not = self.leaf(&child);
                    if let Some((_, operand)) = chain.last_mut() {
                        operand.push(Doc::Tok(not));
                        operand.push(Doc::Space);
                    }
                }
                _ => {
                    let mut atoms = Vec::new();
                    self.atoms(child, &mut atoms);
                    let doc = join(atoms, &self.tokens, false);
                    if let Some((_, operand)) = chain.last_mut() {
                        operand.push(doc);
                    }
                }
            }
        }
        let is_or = |op: &Option<usize>, tokens: &[Token]| {
            op.is_some_and(|i| tokens.get(i).is_some_and(|t| t.text == "or"))
        };
        let mut alternatives: Vec<(Option<usize>, Vec<Part>)> = Vec::new();
        for (op, operand) in chain {
            let operand = Doc::Concat(operand);
            if alternatives.is_empty() || is_or(&op, &self.tokens) {
                alternatives.push((op, vec![(None, operand)]));
            } else if let Some((_, parts)) = alternatives.last_mut() {
                parts.push((op, operand));
            }
        }
        let several = alternatives.len() > 1;
        let mut docs = Vec::new();
        for (op, parts) in alternatives {
            if let Some(op) = op {
                docs.push(Doc::Line);
                docs.push(Doc::Tok(op));
                docs.push(Doc::Space);
            }
            docs.push(chain_doc(parts));
        }
        if several {
            Doc::Group(vec![Doc::Nest(docs)])
        } else {
            Doc::Concat(docs)
        }
    }
}

/// One operand of a chain, with the operator before it (none for the first).
type Part = (Option<usize>, Doc);

/// `a and b and c`, broken before each `and` when it does not fit.
fn chain_doc(parts: Vec<Part>) -> Doc {
    if parts.len() == 1 {
        return parts
            .into_iter()
            .next()
            .map_or(Doc::Concat(Vec::new()), |p| p.1);
    }
    let mut parts = parts.into_iter();
    let first = parts.next().map_or(Doc::Concat(Vec::new()), |p| p.1);
    let mut rest = Vec::new();
    for (op, doc) in parts {
        rest.push(Doc::Line);
        if let Some(op) = op {
            rest.push(Doc::Tok(op));
            rest.push(Doc::Space);
        }
        rest.push(doc);
    }
    Doc::Group(vec![first, Doc::Nest(rest)])
}

/// The atoms of one line, with a space between each two except around
/// parentheses and before a comma. With `fill`, a list (`ask first a, b`)
/// goes on over as many lines as it needs, each item on the line before
/// when it fits, and a citation goes to a line of its own when the line is
/// too long.
fn join(atoms: Vec<Atom>, tokens: &[Token], fill: bool) -> Doc {
    let text = |a: &Atom| match a {
        Atom::Tok(i) => tokens.get(*i).map_or("", |t| t.text.as_str()),
        _ => "",
    };
    let mut docs = Vec::new();
    let mut previous = "";
    let mut cited = false;
    for (i, atom) in atoms.into_iter().enumerate() {
        let this = text(&atom);
        let after_comma = previous == ",";
        previous = match &atom {
            Atom::Tok(_) => this,
            _ => "",
        };
        let doc = match atom {
            Atom::Tok(t) => Doc::Tok(t),
            Atom::Doc(d) | Atom::Block(d) => d,
            Atom::Tail(d) => {
                cited = true;
                docs.push(Doc::Nest(vec![Doc::Line, d]));
                continue;
            }
        };
        if fill && after_comma {
            docs.push(Doc::Group(vec![Doc::Nest(vec![Doc::Line, doc])]));
            continue;
        }
        if i > 0 && !previous_is_open(&docs, tokens) && this != ")" && this != "," {
            docs.push(Doc::Space);
        }
        docs.push(doc);
    }
    if cited {
        Doc::Group(docs)
    } else {
        Doc::Concat(docs)
    }
}

/// Whether the last document is an opening parenthesis.
fn previous_is_open(docs: &[Doc], tokens: &[Token]) -> bool {
    matches!(docs.last(), Some(Doc::Tok(t)) if tokens.get(*t).is_some_and(|t| t.text == "("))
}

/// The token a document starts with, when it starts with one whose leading
/// comments it prints.
fn first_token(doc: &Doc) -> Option<usize> {
    match doc {
        Doc::Tok(t) => Some(*t),
        Doc::Nest(docs) | Doc::Group(docs) | Doc::Concat(docs) => docs
            .iter()
            .find(|d| !matches!(d, Doc::Mark))
            .and_then(first_token),
        _ => None,
    }
}

/// The token a document ends with.
fn last_token(doc: &Doc) -> Option<usize> {
    match doc {
        Doc::Tok(t) | Doc::TokBare(t) => Some(*t),
        Doc::Nest(docs) | Doc::Group(docs) | Doc::Concat(docs) => docs
            .iter()
            .rev()
            .find(|d| !matches!(d, Doc::Mark))
            .and_then(last_token),
        _ => None,
    }
}

// ---------------------------------------------------------------- comments

/// The comments attached to one token.
#[derive(Default)]
struct Attached {
    /// Comments on lines of their own before the token, each with whether
    /// a blank line came before it.
    leading: Vec<(String, bool)>,
    /// Whether a blank line came before the first leading comment, or
    /// before the token when it has none.
    blank_first: bool,
    /// Whether a blank line came between the last leading comment and the
    /// token.
    blank_after_comments: bool,
    /// Comments on the token's own line (and any inside a keyword of
    /// several words).
    trailing: Vec<String>,
}

/// Where each comment of the file is: outside quoted text, `//` to the end
/// of the line. The file has parsed, so this reading is the grammar's.
fn comments(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                found.push((i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    found
}

fn has_blank_line(gap: &str) -> bool {
    gap.matches('\n').count() >= 2
}

fn attach_comments(text: &str, tokens: &[Token]) -> Vec<Attached> {
    let mut attached: Vec<Attached> = tokens.iter().map(|_| Attached::default()).collect();
    let mut next = 0; // the first token that starts at or after the comment
    // Where the last thing printed before the comment ends.
    let mut last_end: Option<usize> = None;
    let mut pending: Vec<(String, bool)> = Vec::new();
    let mut pending_first_blank = false;
    let comment_list = comments(text);
    let flush = |upto: usize,
                 next: &mut usize,
                 last_end: &mut Option<usize>,
                 pending: &mut Vec<(String, bool)>,
                 pending_first_blank: &mut bool,
                 attached: &mut Vec<Attached>| {
        while *next < tokens.len() && tokens[*next].start <= upto {
            let t = &tokens[*next];
            let a = &mut attached[*next];
            let from = last_end.unwrap_or(0);
            if pending.is_empty() {
                a.blank_first =
                    last_end.is_some() && has_blank_line(&text[from.min(t.start)..t.start]);
            } else {
                a.leading = std::mem::take(pending);
                a.blank_first = *pending_first_blank;
                a.blank_after_comments = has_blank_line(&text[from.min(t.start)..t.start]);
            }
            *last_end = Some(t.end);
            *next += 1;
        }
    };
    for (start, end) in comment_list {
        flush(
            start,
            &mut next,
            &mut last_end,
            &mut pending,
            &mut pending_first_blank,
            &mut attached,
        );
        let body = text[start..end].trim_end().to_string();
        // Inside a keyword of several words (`ask // ... first`)?
        let inside = next
            .checked_sub(1)
            .filter(|&p| tokens[p].start < start && start < tokens[p].end);
        let same_line = next
            .checked_sub(1)
            .filter(|_| pending.is_empty())
            .filter(|_| last_end.is_some_and(|e| e <= start && !text[e..start].contains('\n')));
        if let Some(p) = inside.or(same_line) {
            attached[p].trailing.push(body);
            last_end = Some(last_end.unwrap_or(end).max(end));
            continue;
        }
        let from = last_end.unwrap_or(0);
        let blank = last_end.is_some() && has_blank_line(&text[from..start]);
        if pending.is_empty() {
            pending_first_blank = blank;
        }
        pending.push((body, blank));
        last_end = Some(end);
    }
    flush(
        usize::MAX,
        &mut next,
        &mut last_end,
        &mut pending,
        &mut pending_first_blank,
        &mut attached,
    );
    attached
}

// ---------------------------------------------------------------- printing

struct Printer<'a> {
    tokens: &'a [Token],
    attached: &'a [Attached],
    out: String,
    /// A comment ended the line: the next text starts a new one (after a
    /// blank line when the flag says so).
    pending: Option<bool>,
    line_empty: bool,
    column: usize,
    /// Line breaks printed so far, and their number at the last mark.
    lines: usize,
    mark: usize,
    /// Set the mark at the next text (after the comments before it).
    marking: bool,
    /// The token whose leading comments a group has printed already.
    led: Option<usize>,
}

impl Printer<'_> {
    fn newline(&mut self, indent: usize, blank: bool) {
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        self.out.push('\n');
        if blank {
            self.out.push('\n');
        }
        self.lines += 1;
        self.out.push_str(&" ".repeat(indent));
        self.line_empty = true;
        self.column = indent;
        self.pending = None;
    }

    fn text(&mut self, text: &str, indent: usize) {
        if let Some(blank) = self.pending {
            self.newline(indent, blank);
        }
        if text.is_empty() {
            return;
        }
        if self.marking {
            self.mark = self.lines;
            self.marking = false;
        }
        self.out.push_str(text);
        self.lines += text.matches('\n').count();
        self.line_empty = false;
        match text.rfind('\n') {
            Some(n) => self.column = text[n + 1..].chars().count(),
            None => self.column += text.chars().count(),
        }
    }

    fn leading(&mut self, token: usize, indent: usize) {
        let Some(a) = self.attached.get(token) else {
            return;
        };
        // The mark is for the token, not the comments before it.
        let marking = std::mem::take(&mut self.marking);
        for (i, (comment, blank)) in a.leading.iter().enumerate() {
            if !self.line_empty || self.pending.is_some() {
                self.newline(indent, i > 0 && *blank);
            }
            self.text(comment, indent);
            self.pending = Some(false);
        }
        if !a.leading.is_empty() {
            self.pending = Some(a.blank_after_comments);
        }
        self.marking = marking;
    }

    fn token(&mut self, token: usize, indent: usize) {
        let Some(t) = self.tokens.get(token) else {
            return;
        };
        self.text(&t.text, indent);
        let Some(a) = self.attached.get(token) else {
            return;
        };
        for comment in &a.trailing {
            if self.pending.is_some() {
                self.newline(indent, false);
            } else {
                self.out.push(' ');
            }
            self.out.push_str(comment);
            self.line_empty = false;
            self.pending = Some(false);
        }
    }

    fn space(&mut self, indent: usize) {
        match self.pending {
            Some(blank) => self.newline(indent, blank),
            None => {
                self.out.push(' ');
                self.column += 1;
            }
        }
    }

    fn blank(&self, blank: Blank) -> bool {
        match blank {
            Blank::Never => false,
            Blank::Always => true,
            Blank::AsBefore(t) => self.attached.get(t).is_some_and(|a| a.blank_first),
            Blank::AfterOneLine(t) => {
                self.lines > self.mark || self.attached.get(t).is_some_and(|a| a.blank_first)
            }
        }
    }

    fn print(&mut self, doc: &Doc, indent: usize, flat: bool) {
        match doc {
            Doc::Tok(t) => {
                if self.led.take() != Some(*t) {
                    self.leading(*t, indent);
                }
                self.token(*t, indent);
            }
            Doc::TokBare(t) => self.token(*t, indent),
            Doc::Comments(t, blank) => {
                if self.attached.get(*t).is_some_and(|a| !a.leading.is_empty()) {
                    if !self.out.is_empty() {
                        let blank = self.blank(*blank);
                        self.newline(indent, blank);
                    }
                    self.leading(*t, indent);
                }
            }
            Doc::Space => self.space(indent),
            Doc::Line if flat => self.space(indent),
            Doc::Line => self.newline(indent, false),
            Doc::Break(blank) => {
                let blank = self.blank(*blank);
                self.newline(indent, blank);
            }
            Doc::Mark => self.marking = true,
            Doc::Nest(docs) => {
                for d in docs {
                    self.print(d, indent + 2, flat);
                }
            }
            Doc::Concat(docs) => {
                for d in docs {
                    self.print(d, indent, flat);
                }
            }
            Doc::Group(docs) => {
                // Comments on lines of their own before the group go before
                // it whatever its layout, so they do not make it break: a
                // group fits or not the same once they are printed and the
                // file is formatted again.
                if !flat
                    && let Some(first) = first_token(doc)
                    && self.led != Some(first)
                {
                    self.leading(first, indent);
                    if let Some(blank) = self.pending {
                        self.newline(indent, blank);
                    }
                    self.led = Some(first);
                }
                // A comment at the end of the group's last line stays there.
                let last = last_token(doc);
                let fits = flat
                    || (self.pending.is_none()
                        && docs
                            .iter()
                            .try_fold(0, |w, d| Some(w + self.flat_width(d, last)?))
                            .is_some_and(|w| self.column + w <= WIDTH));
                for d in docs {
                    self.print(d, indent, fits);
                }
            }
        }
    }

    /// The width of a document on one line, or `None` when it cannot be on
    /// one (a comment or a line break inside it; comments after `last` end
    /// the line anyway).
    fn flat_width(&self, doc: &Doc, last: Option<usize>) -> Option<usize> {
        match doc {
            Doc::Tok(t) | Doc::TokBare(t) => {
                let a = self.attached.get(*t)?;
                let led = self.led == Some(*t) && matches!(doc, Doc::Tok(_));
                if (!led && !a.leading.is_empty()) || (last != Some(*t) && !a.trailing.is_empty()) {
                    return None;
                }
                let text = &self.tokens.get(*t)?.text;
                if text.contains('\n') {
                    return None;
                }
                Some(text.chars().count())
            }
            Doc::Comments(t, _) => self.attached.get(*t)?.leading.is_empty().then_some(0),
            Doc::Space | Doc::Line => Some(1),
            Doc::Break(_) => None,
            Doc::Mark => Some(0),
            Doc::Nest(docs) | Doc::Group(docs) | Doc::Concat(docs) => docs
                .iter()
                .try_fold(0, |w, d| Some(w + self.flat_width(d, last)?)),
        }
    }
}
