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
    if let Some(close) =
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
    None
}
