//! Syntax errors in the protocol's words.
//!
//! pest reports the grammar rules it tried at the place it gave up. Each rule
//! here has a description a protocol owner understands ("a level name such as
//! `internal`"); the error message lists what could have come next and what
//! was found instead. Grammar rule names never reach the user.

use pest::error::{Error, ErrorVariant, InputLocation};

use super::parse::Rule;
use crate::diagnostic::{Code, Diagnostic, did_you_mean, join_or};
use crate::source::{FileId, Span};

/// Order in which kinds of expectation are listed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Definition,
    Property,
    Thing,
    Operator,
    Punctuation,
    End,
}

fn describe(rule: Rule) -> Option<(Group, &'static str)> {
    use Group::*;
    use Rule::*;
    let d = match rule {
        file => (
            Definition,
            "a definition such as `question`, `level`, `rule` or `route`",
        ),
        kw_import => (Definition, "`import`"),
        kw_protocol => (Definition, "`protocol`"),
        kw_library => (Definition, "`library`"),
        kw_setting => (Definition, "`setting`"),
        kw_question => (Definition, "`question`"),
        kw_level => (Definition, "`level`"),
        kw_rule => (Definition, "`rule`"),
        kw_route => (Definition, "`route`"),
        kw_factors => (Definition, "`factors`"),
        kw_checklist => (Definition, "`checklist`"),
        kw_actor => (Definition, "`actor`"),
        kw_contact => (Property, "`contact`"),
        kw_accept => (Definition, "`accept`"),
        kw_procedure => (Definition, "`procedure`"),
        kw_levels => (Property, "`levels`"),
        kw_ask_first => (Property, "`ask first`"),
        kw_consult => (Property, "`consult`"),
        kw_inform => (Property, "`inform`"),
        kw_report_to => (Property, "`report to`"),
        kw_else => (Operator, "`else`"),
        kw_if_in_doubt => (Operator, "`if in doubt`"),
        kw_if => (Operator, "`if`"),
        kw_only_when => (Property, "`only when`"),
        kw_on => (Property, "`on`"),
        kw_always => (Property, "`always`"),
        kw_use => (Property, "`use`"),
        kw_fragment => (Definition, "`fragment`"),
        fragment_ref => (Thing, "a fragment name"),

        kw_title => (Property, "`title`"),
        kw_authority => (Property, "`authority`"),
        kw_partner => (Property, "`partner`"),
        kw_version => (Property, "`version`"),
        kw_effective => (Property, "`effective`"),
        kw_review => (Property, "`review`"),
        kw_source => (Property, "`source`"),
        kw_policy => (Property, "`policy`"),
        kw_otherwise => (Property, "`otherwise`"),
        kw_cite => (Property, "`cite`"),
        kw_note => (Property, "`note`"),
        kw_no_route => (Property, "`no route`"),
        kw_answer => (Property, "`answer`"),
        kw_answers => (Property, "`answers`"),
        kw_asked_when => (Property, "`asked when`"),
        kw_police => (Property, "`police`"),
        kw_meaning => (Property, "`meaning`"),
        kw_example => (Property, "`example`"),
        kw_given => (Property, "`given`"),
        kw_when => (Property, "`when`"),
        kw_then => (Property, "`then`"),
        kw_strength => (Property, "`strength`"),
        kw_for => (Property, "`for`"),
        kw_start => (Property, "`start`"),
        kw_step => (Property, "`step`"),
        kw_decision => (Property, "`decision`"),
        kw_outcome => (Property, "`outcome`"),
        kw_by => (Property, "`by`"),
        kw_timing => (Property, "`timing`"),
        kw_complete => (Property, "`complete`"),
        kw_weigh => (Property, "`weigh`"),
        kw_applies => (Property, "`applies when`"),
        kw_include => (Property, "`include`"),
        kw_follows => (Property, "`follows`"),
        kw_item => (Property, "`item`"),
        kw_detail => (Property, "`detail`"),
        kw_phone => (Property, "`phone`"),
        kw_web => (Property, "`web`"),
        kw_email => (Property, "`email`"),
        kw_because => (Property, "`because` and the reason in quotes"),
        kw_from => (Property, "`from`"),
        factor => (Property, "a factor such as `- \"Wishes of the victim\"`"),
        branch => (Property, "a branch such as `yes -> call-999`"),

        def_name => (Thing, "a name such as `immediate-risk`"),
        level_ref => (Thing, "a level name such as `internal`"),
        question_ref => (Thing, "a question name such as `injury`"),
        option_ref => (Thing, "an option name such as `minor`"),
        option_name => (Thing, "an option name such as `minor`"),
        option => (Thing, "an option such as `minor \"Minor injury\"`"),
        setting_ref => (Thing, "a setting name such as `residential`"),
        actor_ref => (Thing, "an actor name such as `social-worker`"),
        contact_ref => (Thing, "a contact name such as `police-999`"),
        node_ref => (Thing, "the name of a step, decision or outcome"),
        checklist_ref => (Thing, "a checklist name"),
        factors_ref => (Thing, "a factor list name"),
        rule_ref => (Thing, "a rule name"),
        import_name => (Thing, "a name to import"),
        finding_code => (Thing, "a kind of finding such as `gap` or `never-decides`"),
        branch_answer => (Thing, "an answer such as `yes`"),
        string | example_title | timing_text => (Thing, "quoted text such as `\"Level 1\"`"),
        string_inner | escape => (Thing, "an escape such as `\\\"`, `\\\\`, `\\n` or `\\t`"),
        number | integer => (Thing, "a number"),
        date => (Thing, "a date such as `2022-04-30`"),
        policy_kind => (
            Thing,
            "a policy: `most-serious`, `first-match` or `no-overlap`",
        ),
        police_kind => (
            Thing,
            "a police response: `none`, `judgement`, `advice`, `report`, `prompt`, `emergency` or `unstated`",
        ),
        strength_kind => (Thing, "a strength: `must`, `should` or `may`"),
        unit => (Thing, "a unit: `hours`, `days`, `weeks` or `months`"),
        value => (Thing, "a value such as `yes`, a number or an option name"),
        expr | group | test => (Thing, "a condition such as `injury >= minor`"),
        yes_or_no | kw_yes | kw_no => (Thing, "`yes or no`"),
        kw_one_of | one_of => (Thing, "`one of`"),
        kw_scale | scale => (Thing, "`scale`"),
        kw_count | count => (Thing, "`count`"),
        kw_amount | amount => (Thing, "`amount`"),
        within => (Thing, "`within`"),
        after => (Thing, "`after`"),
        every => (Thing, "`every`"),
        immediately => (Thing, "`immediately`"),
        duration => (Thing, "a duration such as `24 hours`"),
        accept_subject | accept_when | accept_names => (Thing, "what is accepted"),

        kw_and => (Operator, "`and`"),
        kw_or => (Operator, "`or`"),
        kw_not => (Operator, "`not`"),
        comparison | membership => (Operator, "a comparison such as `==` or `in`"),
        kw_in => (Operator, "`in`"),
        kw_to => (Operator, "`to`"),
        cmp_op => (Operator, "a comparison such as `==` or `>=`"),

        lbrace => (Punctuation, "`{`"),
        rbrace => (Punctuation, "`}`"),
        arrow => (Punctuation, "`->`"),
        comma => (Punctuation, "`,`"),
        scale_lt => (Punctuation, "`<`"),
        rparen => (Punctuation, "`)`"),

        EOI => (End, "the end of the file"),
        _ => return None,
    };
    Some(d)
}

/// Turn a pest error into a diagnostic that says, in plain words, what was
/// expected and what was found.
pub fn syntax_error(file: FileId, text: &str, err: &Error<Rule>) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let Some(d) = string_problem(file, text, pos) {
        return d;
    }
    let (found, found_span) = found_at(text, pos);
    let span = Span::new(file, found_span.0, found_span.1);

    let positives: Vec<Rule> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let at = At {
        file,
        text,
        pos,
        positives: &positives,
        found: &found,
        span,
    };
    if let Some(d) = at.specific() {
        return d;
    }
    let mut described: Vec<(Group, &'static str)> =
        positives.iter().filter_map(|r| describe(*r)).collect();
    described.sort();
    described.dedup();

    let definitions = described
        .iter()
        .filter(|(g, _)| *g == Group::Definition)
        .count();
    let operators = described
        .iter()
        .filter(|(g, _)| *g == Group::Operator)
        .count();
    let others = described.len() - operators;
    let mut phrases: Vec<String> = Vec::new();
    if definitions > 4 {
        phrases.push("a definition such as `question`, `level`, `rule` or `route`".into());
    }
    for (group, phrase) in &described {
        match group {
            Group::Definition if definitions > 4 => {}
            Group::Operator if operators > 1 && others > 0 => {}
            _ => phrases.push((*phrase).to_string()),
        }
    }
    if operators > 1 && others > 0 {
        phrases.push("an operator such as `and`, `or` or `==`".into());
    }

    let expected = if phrases.is_empty() {
        "something else".to_string()
    } else {
        join_or(&phrases)
    };
    let message = format!("expected {expected}, found {found}");
    let label = if phrases.len() == 1 {
        format!("expected {}", phrases[0])
    } else {
        format!("unexpected {found}")
    };
    let mut d = Diagnostic::new(Code::SyntaxError, span, message).with_label(label);
    let keywords: Vec<&str> = described
        .iter()
        .filter(|(g, _)| matches!(g, Group::Definition | Group::Property))
        .filter_map(|(_, p)| p.strip_prefix('`')?.strip_suffix('`'))
        .collect();
    let word = found.trim_matches('`');
    if let Some(help) = at.misplaced() {
        d = d.with_help(help);
    } else if let Some(close) =
        did_you_mean(word, keywords.iter().copied()).filter(|_| found.starts_with('`'))
    {
        d = d.with_help(format!("did you mean `{close}`?"));
    } else if let Some(help) = help_for(&positives, &found, text, pos) {
        d = d.with_help(help);
    }
    d
}

/// When the parser gave up at a quoted text, the text itself is usually at
/// fault: an unknown escape, or a missing closing quote.
fn string_problem(file: FileId, text: &str, pos: usize) -> Option<Diagnostic> {
    let rest = text.get(pos..)?;
    if !rest.starts_with('"') {
        return None;
    }
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next() {
                Some((_, '"' | '\\' | 'n' | 't')) => {}
                Some((j, e)) => {
                    let span = Span::new(file, pos + i, pos + j + e.len_utf8());
                    return Some(
                        Diagnostic::new(
                            Code::SyntaxError,
                            span,
                            format!("`\\{e}` is not an escape the language knows"),
                        )
                        .with_label("unknown escape")
                        .with_help("inside quotes, write `\\\"` for a quote, `\\\\` for a backslash, `\\n` for a new line or `\\t` for a tab"),
                    );
                }
                None => break,
            },
            _ => {}
        }
    }
    let line_end = rest.find('\n').unwrap_or(rest.len());
    Some(
        Diagnostic::new(
            Code::SyntaxError,
            Span::new(file, pos, pos + line_end),
            "this quoted text is never closed",
        )
        .with_label("opened here")
        .with_help("add the closing `\"`"),
    )
}

/// What is at `pos`, in words, and the span to underline.
fn found_at(text: &str, pos: usize) -> (String, (usize, usize)) {
    let rest = &text[pos.min(text.len())..];
    let Some(first) = rest.chars().next() else {
        return ("the end of the file".into(), (pos, pos));
    };
    if first == '"' {
        let end = rest[1..]
            .find('"')
            .map(|i| i + 2)
            .unwrap_or_else(|| rest.find('\n').unwrap_or(rest.len()));
        return ("quoted text".into(), (pos, pos + end));
    }
    if first.is_alphanumeric() || first == '_' {
        let len: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.')
            .map(char::len_utf8)
            .sum();
        let word = &rest[..len];
        return (format!("`{word}`"), (pos, pos + len));
    }
    let two: String = rest.chars().take(2).collect();
    if ["==", "!=", "<=", ">=", "->", "//"].contains(&two.as_str()) {
        return (format!("`{two}`"), (pos, pos + 2));
    }
    let shown = match first {
        '\n' | '\r' => "the end of the line".to_string(),
        c if c.is_whitespace() => "a space".to_string(),
        c => format!("`{c}`"),
    };
    (shown, (pos, pos + first.len_utf8()))
}

fn help_for(positives: &[Rule], found: &str, text: &str, pos: usize) -> Option<String> {
    let rest = &text[pos.min(text.len())..];
    let word = found.trim_matches('`');
    let expects_name = positives.iter().any(|r| {
        matches!(
            r,
            Rule::def_name
                | Rule::level_ref
                | Rule::question_ref
                | Rule::option_ref
                | Rule::option_name
                | Rule::setting_ref
                | Rule::actor_ref
                | Rule::contact_ref
                | Rule::node_ref
                | Rule::value
        )
    });
    if expects_name && ["and", "or", "not", "in", "yes", "no"].contains(&word) {
        return Some(format!(
            "`{word}` is a reserved word and cannot be used as a name; choose another name"
        ));
    }
    if expects_name && word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Some("names start with a letter, e.g. `level-1` rather than `1`".into());
    }
    if positives.contains(&Rule::cmp_op) && rest.starts_with('=') && !rest.starts_with("==") {
        return Some("compare with `==`, e.g. `drug-class == class-a`".into());
    }
    if positives.contains(&Rule::rbrace) && rest.is_empty() {
        return Some("a `{` was opened but never closed with `}`".into());
    }
    if positives.contains(&Rule::string) && rest.starts_with('\'') {
        return Some("quoted text uses double quotes: `\"...\"`".into());
    }
    if word == "=>" || rest.starts_with("=>") {
        return Some("write `->` for a branch or a start".into());
    }
    let is_name = |w: &str| {
        w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if positives.contains(&Rule::arrow) && is_name(word) {
        return Some(format!("put `->` before the step it leads to: `-> {word}`"));
    }
    let before = text[..pos.min(text.len())].trim_end();
    if positives.contains(&Rule::level_ref) && before.ends_with("then") && !is_name(word) {
        return Some("name the level the rule puts incidents at, e.g. `then level-2`".into());
    }
    None
}

/// Quotes a word processor puts in place of `"` and `'`.
const CURLY_QUOTES: &[char] = &['“', '”', '„', '‟', '«', '»', '‘', '’', '‚', '‛'];

/// Definitions and the parts of a route that start with a keyword and a
/// name: a second word after the name is a name with a space in it.
const NAMED: &[&str] = &[
    "setting",
    "question",
    "level",
    "rule",
    "route",
    "factors",
    "checklist",
    "actor",
    "contact",
    "procedure",
    "fragment",
    "step",
    "decision",
    "outcome",
    "item",
];

/// Whether a definition named by `keyword` needs a title in quotes after
/// its name: all of [`NAMED`] but a rule, whose title is optional.
fn titled(keyword: &str) -> bool {
    keyword != "rule" && NAMED.contains(&keyword)
}

/// Properties followed by quoted text.
const TEXT_PROPERTIES: &[&str] = &[
    "cite",
    "note",
    "title",
    "authority",
    "partner",
    "version",
    "source",
    "meaning",
    "example",
    "detail",
    "phone",
    "web",
    "email",
    "because",
    "import",
    "from",
];

/// What a route decision may hold besides branches.
const DECISION_PROPERTIES: &[&str] = &[
    "by", "weigh", "answers", "on", "always", "timing", "cite", "note",
];

/// The words that start a definition at the top of a file.
pub(crate) const DEFINITION_KEYWORDS: &[&str] = &[
    "import",
    "protocol",
    "library",
    "setting",
    "question",
    "level",
    "rule",
    "route",
    "factors",
    "checklist",
    "actor",
    "contact",
    "accept",
    "procedure",
    "fragment",
];

/// Where a syntax error happened, with what the parser expected there: the
/// mistakes people make most, recognised from the text around them, get a
/// message of their own.
struct At<'a> {
    file: FileId,
    text: &'a str,
    pos: usize,
    positives: &'a [Rule],
    found: &'a str,
    span: Span,
}

impl At<'_> {
    fn expects(&self, rules: &[Rule]) -> bool {
        self.positives.iter().any(|r| rules.contains(r))
    }

    /// The word found, when a word was found.
    fn found_word(&self) -> Option<&str> {
        let w = self.found.strip_prefix('`')?.strip_suffix('`')?;
        w.starts_with(|c: char| c.is_alphabetic()).then_some(w)
    }

    fn specific(&self) -> Option<Diagnostic> {
        self.curly_quote()
            .or_else(|| self.unclosed_quote())
            .or_else(|| self.unclosed_brace())
            .or_else(|| self.timing())
            .or_else(|| self.spaced_name())
            .or_else(|| self.untitled())
            .or_else(|| self.unquoted_text())
            .or_else(|| self.decision_word())
    }

    /// `“Internal”`, pasted from a word processor.
    fn curly_quote(&self) -> Option<Diagnostic> {
        let rest = &self.text[self.pos..];
        let quote = rest.chars().next().filter(|c| CURLY_QUOTES.contains(c))?;
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let inner = &line[quote.len_utf8()..];
        let help = match inner.find(|c| CURLY_QUOTES.contains(&c)) {
            Some(close) => format!(
                "type the quotes again as straight quotes `\"`: `\"{}\"`",
                &inner[..close]
            ),
            None => "type the quotes again as straight quotes `\"`".to_string(),
        };
        Some(
            Diagnostic::new(
                Code::SyntaxError,
                self.span,
                format!(
                    "`{quote}` is a curly quote, as a word processor writes it; quoted text starts and ends with a straight quote `\"`"
                ),
            )
            .with_label("curly quote")
            .with_help(help),
        )
    }

    /// A missing closing quote makes the text run on to the next quote,
    /// lines later, and the error appear where that text ends: point at
    /// where it was opened.
    fn unclosed_quote(&self) -> Option<Diagnostic> {
        let scan = Scan::to(self.text, self.pos);
        let (start, end) = scan.last_string?;
        let between = &self.text[end..self.pos];
        let quoted = &self.text[start..end];
        if !between.trim().is_empty() || !quoted.contains('\n') {
            return None;
        }
        let lines = quoted.matches('\n').count();
        let first_line_end = quoted.find('\n').map_or(end, |i| start + i);
        Some(
            Diagnostic::new(
                Code::SyntaxError,
                Span::new(self.file, start, first_line_end),
                format!(
                    "this quoted text runs on over {} {}: is its closing quote missing?",
                    lines + 1,
                    if lines == 0 { "line" } else { "lines" }
                ),
            )
            .with_label("opened here")
            .with_secondary(Span::new(self.file, end - 1, end), "and closed only here")
            .with_help("add the closing `\"` where the text ends"),
        )
    }

    /// A `}` left out: the next definition is where the parser notices,
    /// but the `{` left open is what to fix.
    fn unclosed_brace(&self) -> Option<Diagnostic> {
        if !self.expects(&[Rule::rbrace]) {
            return None;
        }
        let at_end = self.pos >= self.text.len();
        let next_definition = self
            .found_word()
            .is_some_and(|w| DEFINITION_KEYWORDS.contains(&w));
        if !at_end && !next_definition {
            return None;
        }
        let scan = Scan::to(self.text, self.pos);
        let open = *scan.open_braces.last()?;
        let line_start = self.text[..open].rfind('\n').map_or(0, |i| i + 1);
        let head = self.text[line_start..open].trim();
        let (line, _) = line_col(self.text, open);
        let what = if head.is_empty() {
            format!("the `{{` on line {line}")
        } else {
            format!("the `{{` of `{}` (line {line})", shorten(head))
        };
        let before = if at_end {
            "before the end of the file".to_string()
        } else {
            format!("before {}", self.found)
        };
        Some(
            Diagnostic::new(
                Code::SyntaxError,
                Span::new(self.file, open, open + 1),
                format!("{what} is never closed"),
            )
            .with_label("opened here")
            .with_secondary(self.span, format!("`}}` expected {before}"))
            .with_help("add the `}` that ends it"),
        )
    }

    /// `timing after the call`: a timing other than the ones the language
    /// counts is written in quotes.
    fn timing(&self) -> Option<Diagnostic> {
        if !self.expects(&[
            Rule::integer,
            Rule::number,
            Rule::unit,
            Rule::duration,
            Rule::within,
            Rule::after,
            Rule::every,
            Rule::immediately,
            Rule::timing_text,
        ]) {
            return None;
        }
        let words = words_before(self.text, self.pos, 5);
        let k = words.iter().position(|(w, _)| *w == "timing")?;
        // Nearest first: the word after `timing` is the one before it here.
        let after_timing = k.checked_sub(1).map(|i| words[i]);
        let written_from = after_timing.map_or(self.pos, |(_, at)| at);
        let rest = &self.text[written_from..];
        let line = &rest[..rest.find(['\n', '}']).unwrap_or(rest.len())];
        let line = line.split(" when ").next().unwrap_or(line);
        let line = line.split("//").next().unwrap_or(line).trim();
        let kind = after_timing
            .map(|(w, _)| w)
            .filter(|w| ["within", "after", "every"].contains(w));
        let message = match kind {
            Some(w) => format!(
                "`{w}` takes a number and a unit, such as `{w} {}`, and found {}",
                if w == "every" { "2 weeks" } else { "24 hours" },
                self.found
            ),
            None => format!(
                "a timing is `immediately`, `within 24 hours`, `after 2 days` or `every 1 to 2 weeks`, and found {}",
                self.found
            ),
        };
        let help = if line.is_empty() || line.contains('"') {
            "write any other timing in quotes, e.g. `timing \"as soon as possible\"`".to_string()
        } else {
            format!("write any other timing in quotes: `timing \"{line}\"`")
        };
        Some(
            Diagnostic::new(Code::SyntaxError, self.span, message)
                .with_label("not a number")
                .with_help(help),
        )
    }

    /// `question harm risk "..."`: a name with a space in it.
    fn spaced_name(&self) -> Option<Diagnostic> {
        if !self.expects(&[Rule::string, Rule::lbrace]) {
            return None;
        }
        let found = self.found_word()?;
        let words = words_before(self.text, self.pos, 2);
        let [(name, name_at), (keyword, _)] = words.as_slice() else {
            return None;
        };
        if !NAMED.contains(keyword) || !is_name(name) {
            return None;
        }
        Some(
            Diagnostic::new(
                Code::SyntaxError,
                Span::new(self.file, *name_at, self.span.end as usize),
                format!("a name cannot contain a space: `{name} {found}`"),
            )
            .with_label("one name")
            .with_help(format!(
                "join the words with `-`: `{keyword} {name}-{found}`"
            )),
        )
    }

    /// `route foster {`: the title in quotes is missing.
    fn untitled(&self) -> Option<Diagnostic> {
        if !self.expects(&[Rule::string]) || !self.text[self.pos..].starts_with('{') {
            return None;
        }
        let words = words_before(self.text, self.pos, 2);
        let [(name, _), (keyword, keyword_at)] = words.as_slice() else {
            return None;
        };
        if !titled(keyword) || !is_name(name) {
            return None;
        }
        Some(
            Diagnostic::new(
                Code::SyntaxError,
                Span::new(self.file, *keyword_at, self.pos + 1),
                format!(
                    "`{keyword} {name}` has no title: its name is followed by a title in quotes"
                ),
            )
            .with_label("title missing before `{`")
            .with_help(format!(
                "add the title the document gives it, e.g. `{keyword} {name} \"{}\" {{`",
                title_example(keyword)
            )),
        )
    }

    /// `cite 6.1`: text that needs quotes.
    fn unquoted_text(&self) -> Option<Diagnostic> {
        if !self.expects(&[Rule::string]) || self.text[self.pos..].starts_with(['"', '{', '}']) {
            return None;
        }
        let words = words_before(self.text, self.pos, 1);
        let [(keyword, _)] = words.as_slice() else {
            return None;
        };
        if !TEXT_PROPERTIES.contains(keyword) {
            return None;
        }
        let rest = &self.text[self.pos..];
        let line = rest[..rest.find('\n').unwrap_or(rest.len())].trim_end();
        let written = if *keyword == "cite" {
            self.found.trim_matches('`')
        } else {
            line
        };
        Some(
            Diagnostic::new(
                Code::SyntaxError,
                self.span,
                format!(
                    "`{keyword}` is followed by quoted text, and found {}",
                    self.found
                ),
            )
            .with_label("quotes missing")
            .with_help(format!("write it in quotes: `{keyword} \"{written}\"`")),
        )
    }

    /// In a route decision every word that is not a property is read as
    /// the answer of a branch, so `answer yes or no` expects `->` after
    /// `answer`: say what a decision holds.
    fn decision_word(&self) -> Option<Diagnostic> {
        if !self.expects(&[Rule::arrow]) {
            return None;
        }
        let words = words_before(self.text, self.pos, 1);
        let [(word, word_at)] = words.as_slice() else {
            return None;
        };
        if !is_name(word) {
            return None;
        }
        let scan = Scan::to(self.text, *word_at);
        let open = *scan.open_braces.last()?;
        let line_start = self.text[..open].rfind('\n').map_or(0, |i| i + 1);
        if !self.text[line_start..open]
            .trim_start()
            .starts_with("decision")
        {
            return None;
        }
        let properties: Vec<String> = DECISION_PROPERTIES
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        let d = Diagnostic::new(
            Code::SyntaxError,
            Span::new(self.file, *word_at, *word_at + word.len()),
            format!(
                "`{word}` is neither a property of a decision ({}) nor a branch such as `yes -> call-999`",
                join_or(&properties)
            ),
        )
        .with_label("not a property")
        .with_secondary(self.span, format!("read as a branch, which needs `->` before {}", self.found));
        Some(
            match did_you_mean(word, DECISION_PROPERTIES.iter().copied()) {
                Some(close) => d.with_help(format!("did you mean `{close}`?")),
                None => d.with_help(
                    "a branch is an answer, `->` and where it leads, e.g. `yes -> call-999`",
                ),
            },
        )
    }
}

impl At<'_> {
    /// The kind of route node whose braces the error is in, if any.
    fn node_kind(&self) -> Option<&str> {
        let scan = Scan::to(self.text, self.pos);
        let open = *scan.open_braces.last()?;
        let line_start = self.text[..open].rfind('\n').map_or(0, |i| i + 1);
        let head = self.text[line_start..open].trim_start();
        ["step", "decision", "outcome"]
            .into_iter()
            .find(|k| head.starts_with(&format!("{k} ")))
    }

    /// A property written where it does not belong: say where it does.
    fn misplaced(&self) -> Option<String> {
        let word = self.found_word()?;
        if word == "by" {
            let words = words_before(self.text, self.pos, 2);
            let line_start = self.text[..self.pos].rfind('\n').map_or(0, |i| i + 1);
            let line = self.text[line_start..self.pos].trim();
            if line.starts_with("outcome ") && line.ends_with('"') {
                let name = words.last().map_or("done", |(w, _)| w);
                let name = if is_name(name) { name } else { "done" };
                return Some(format!(
                    "who acts on an outcome goes in braces after its title: `outcome {name} \"...\" {{ by staff }}`"
                ));
            }
        }
        match (self.node_kind()?, word) {
            ("step", "weigh" | "answers" | "on" | "always") => Some(format!(
                "`{word}` belongs on a decision, which asks a question and branches on the answer; a step does something and leads on with `then`"
            )),
            ("decision", "then") => Some(
                "a decision leads on by its branches, e.g. `yes -> call-999`; `then` belongs on a step".into(),
            ),
            ("decision", "complete" | "contact" | "consult" | "inform" | "report" | "only") => {
                Some(format!(
                    "`{word}` belongs on a step; a decision asks a question and branches on the answer"
                ))
            }
            ("outcome", _) => Some(
                "an outcome ends the route: it may say who acts (`by`), `cite` and `note`, and leads nowhere".into(),
            ),
            _ => None,
        }
    }
}

fn is_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn title_example(keyword: &str) -> &'static str {
    match keyword {
        "route" => "Appendix B: residential homes",
        "question" => "Is anyone at risk of harm?",
        "level" => "Level 1",
        "step" | "decision" | "outcome" => "What the flowchart box says",
        _ => "Its title",
    }
}

/// A definition's keyword and name, from its head (`rule r "R"`).
fn shorten(head: &str) -> String {
    head.split_whitespace()
        .take_while(|w| !w.starts_with('"'))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Up to `n` words before `pos`, nearest first, each with where it starts;
/// stops at anything that is not a word or blank space (a quote, a brace).
fn words_before(text: &str, pos: usize, n: usize) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut end = pos.min(text.len());
    while out.len() < n {
        let trimmed = text[..end].trim_end();
        let start = trimmed
            .rfind(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .map_or(0, |i| {
                i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
            });
        if start == trimmed.len() {
            break;
        }
        out.push((&trimmed[start..], start));
        end = start;
    }
    out
}

/// The quoted texts and braces of a file up to a point, read as the
/// grammar reads them: comments and quoted text hide braces, and a
/// backslash escapes the next character in quotes.
struct Scan {
    /// Where each `{` still open starts.
    open_braces: Vec<usize>,
    /// The last quoted text, from its opening quote to just after its
    /// closing one.
    last_string: Option<(usize, usize)>,
}

impl Scan {
    fn to(text: &str, end: usize) -> Scan {
        let bytes = text.as_bytes();
        let end = end.min(bytes.len());
        let mut scan = Scan {
            open_braces: Vec::new(),
            last_string: None,
        };
        let mut i = 0;
        while i < end {
            match bytes[i] {
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < end && bytes[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < end && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    if i >= end {
                        break;
                    }
                    scan.last_string = Some((start, i + 1));
                }
                b'{' => scan.open_braces.push(i),
                b'}' => {
                    scan.open_braces.pop();
                }
                _ => {}
            }
            i += 1;
        }
        scan
    }
}
