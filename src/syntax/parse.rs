//! From pest pairs to the syntax tree, one function per grammar rule.
//!
//! The grammar guarantees the shape of every pair, so a shape we do not expect
//! is a bug in this file; it becomes a diagnostic rather than a panic.

use std::sync::LazyLock;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::expected;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span, Spanned};

#[derive(pest_derive::Parser)]
#[grammar = "grammar/carepath.pest"]
pub(crate) struct CarepathParser;

type Result<T> = std::result::Result<T, Diagnostic>;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::kw_or, Assoc::Left))
        .op(Op::infix(Rule::kw_and, Assoc::Left))
        .op(Op::prefix(Rule::kw_not))
});

/// The most syntax errors reported for one file: past this many, the file
/// is not in the language at all and more would only be noise.
const MAX_ERRORS: usize = 30;

/// Parse one file, or report every syntax error in it.
///
/// pest stops at the first error. To report the next ones in the same run,
/// parsing starts again at the first definition keyword (`rule`, `level`,
/// ...) at the start of a line after the error, with everything before it
/// blanked out (line breaks kept, so that offsets and line numbers stay
/// those of the file). The definition the error was in is skipped whole, so
/// what it broke is not reported again; each later error is one a fresh
/// parse of the rest of the file finds. Any syntax error means no tree: a
/// tree without the broken definitions would report names they define as
/// missing.
pub fn parse_file(file: FileId, text: &str) -> std::result::Result<File, Vec<Diagnostic>> {
    let err = match CarepathParser::parse(Rule::file, text) {
        Ok(pairs) => return map_file(file, pairs),
        Err(e) => e,
    };
    let mut diags = vec![expected::syntax_error(file, text, &err)];
    let mut at = error_position(&err);
    let mut blanked: Option<String> = None;
    while diags.len() < MAX_ERRORS {
        let Some(restart) = restart_after(text, at) else {
            break;
        };
        let rest = blanked.get_or_insert_with(|| text.to_string());
        blank_before(rest, restart);
        match CarepathParser::parse(Rule::file, rest) {
            Ok(pairs) => {
                if let Err(more) = map_file(file, pairs) {
                    diags.extend(more);
                }
                break;
            }
            Err(e) => {
                let next = error_position(&e);
                if next <= at {
                    break;
                }
                // Read from the blanked copy, so that nothing before the
                // restart (an open brace, a quote) is blamed again.
                diags.push(expected::syntax_error(file, rest, &e));
                at = next;
            }
        }
    }
    Err(diags)
}

fn error_position(err: &pest::error::Error<Rule>) -> usize {
    match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

/// The start of the first line at or after `pos` (after it, when `pos` is
/// not at a line start) that starts with a definition keyword.
fn restart_after(text: &str, pos: usize) -> Option<usize> {
    let starts_definition = |line: &str| {
        expected::DEFINITION_KEYWORDS.iter().any(|k| {
            line.strip_prefix(k).is_some_and(|after| {
                !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
        })
    };
    let mut start = if pos == 0 || text.as_bytes().get(pos - 1) == Some(&b'\n') {
        pos
    } else {
        text[pos..].find('\n')? + pos + 1
    };
    while start < text.len() {
        if starts_definition(&text[start..]) {
            return Some(start);
        }
        start += text[start..].find('\n')? + 1;
    }
    None
}

/// Replace everything before `end` with blank space, keeping line breaks.
fn blank_before(text: &mut String, end: usize) {
    let blank: String = text[..end]
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    // Characters of several bytes become one space each: pad so that every
    // offset after `end` stays the same.
    let pad = end - blank.len();
    text.replace_range(..end, &format!("{blank}{}", " ".repeat(pad)));
}

/// The syntax tree of a file pest has read, or the problems met mapping its
/// definitions (each definition is mapped, so every one is reported).
fn map_file(
    file: FileId,
    mut pairs: Pairs<'_, Rule>,
) -> std::result::Result<File, Vec<Diagnostic>> {
    let mapper = Mapper { file };
    let root = pairs
        .next()
        .ok_or_else(|| vec![mapper.bug(Span::new(file, 0, 0))])?;
    let mut items = Vec::new();
    let mut diags = Vec::new();
    for pair in root.into_inner() {
        if pair.as_rule() == Rule::EOI {
            break;
        }
        match mapper.item(pair) {
            Ok(item) => items.push(item),
            Err(d) => diags.push(d),
        }
    }
    if diags.is_empty() {
        Ok(File { file, items })
    } else {
        Err(diags)
    }
}

struct Mapper {
    file: FileId,
}

/// Where the last token inside a pair ends (tokens never end in blank
/// space; the pair may, when it ends with a skipped optional part).
fn last_token_end(pair: &Pair<'_, Rule>) -> Option<usize> {
    let last = pair.clone().into_inner().last()?;
    Some(last_token_end(&last).unwrap_or(last.as_span().end()))
}

/// A definition's name, optional title, properties and span.
type Parts<P> = (Name, Option<Text>, Vec<Prop<P>>, Span);

/// Rules that are punctuation or keywords: present in the tree, but carrying
/// nothing the syntax tree needs.
fn is_token(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        lbrace
            | rbrace
            | arrow
            | comma
            | scale_lt
            | rparen
            | kw_import
            | kw_from
            | kw_protocol
            | kw_library
            | kw_setting
            | kw_question
            | kw_level
            | kw_rule
            | kw_route
            | kw_factors
            | kw_checklist
            | kw_actor
            | kw_contact
            | kw_accept
            | kw_procedure
            | kw_consult
            | kw_inform
            | kw_report_to
            | kw_else
            | kw_if_in_doubt
            | kw_if
            | kw_only_when
            | kw_on
            | kw_always
            | kw_use
            | kw_fragment
            | kw_levels
            | kw_ask_first
            | kw_title
            | kw_authority
            | kw_partner
            | kw_version
            | kw_effective
            | kw_review
            | kw_source
            | kw_policy
            | kw_otherwise
            | kw_cite
            | kw_note
            | kw_no_route
            | kw_answer
            | kw_answers
            | kw_asked_when
            | kw_police
            | kw_meaning
            | kw_example
            | kw_given
            | kw_when
            | kw_then
            | kw_strength
            | kw_for
            | kw_start
            | kw_step
            | kw_decision
            | kw_outcome
            | kw_by
            | kw_timing
            | kw_complete
            | kw_weigh
            | kw_applies
            | kw_include
            | kw_follows
            | kw_item
            | kw_detail
            | kw_phone
            | kw_web
            | kw_email
            | kw_because
            | kw_one_of
            | kw_scale
            | kw_count
            | kw_amount
            | kw_to
    )
}

/// The meaningful children of a pair, skipping keywords and punctuation.
struct Kids<'i> {
    inner: Pairs<'i, Rule>,
    span: Span,
}

impl<'i> Kids<'i> {
    fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.inner.by_ref().find(|p| !is_token(p.as_rule()))
    }

    fn expect(&mut self, m: &Mapper) -> Result<Pair<'i, Rule>> {
        self.next().ok_or_else(|| m.bug(self.span))
    }
}

impl Mapper {
    /// The span of what a pair holds. pest skips the blank space before an
    /// optional part even when the part is absent, so `title "A"` followed
    /// by a line break ends on the next line; a span ends where its last
    /// token does, so that a label sits under the line that holds it.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        let end = if s.as_str().ends_with(|c: char| c.is_whitespace()) {
            last_token_end(pair).unwrap_or(s.end())
        } else {
            s.end()
        };
        Span::new(self.file, s.start(), end)
    }

    fn kids<'i>(&self, pair: Pair<'i, Rule>) -> Kids<'i> {
        let span = self.span(&pair);
        Kids {
            inner: pair.into_inner(),
            span,
        }
    }

    fn bug(&self, span: Span) -> Diagnostic {
        Diagnostic::new(
            Code::SyntaxError,
            span,
            "the parser met a shape of text it does not know how to read",
        )
        .with_help("this is a bug in Carepath; please report it with this file")
    }

    fn name(&self, pair: Pair<'_, Rule>) -> Name {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }

    fn names(&self, kids: &mut Kids<'_>) -> Vec<Name> {
        let mut out = Vec::new();
        while let Some(p) = kids.next() {
            out.push(self.name(p));
        }
        out
    }

    fn text(&self, pair: Pair<'_, Rule>) -> Text {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        Spanned::new(decode_string(raw), span)
    }

    fn raw(&self, pair: Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }

    fn cite(&self, pair: Pair<'_, Rule>) -> Cite {
        pair.into_inner()
            .filter(|p| p.as_rule() == Rule::string)
            .map(|p| self.text(p))
            .collect()
    }

    /// `cite` or `note`, if the pair is one.
    fn common(&self, pair: Pair<'_, Rule>) -> Option<Common> {
        match pair.as_rule() {
            Rule::cite => Some(Common::Cite(self.cite(pair))),
            Rule::note => pair
                .into_inner()
                .find(|p| p.as_rule() == Rule::string)
                .map(|p| Common::Note(self.text(p))),
            _ => None,
        }
    }

    /// The optional `cite` after a header property.
    fn cite_tail(&self, kids: &mut Kids<'_>) -> Cite {
        kids.next().map(|p| self.cite(p)).unwrap_or_default()
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Result<Item> {
        Ok(match pair.as_rule() {
            Rule::import => Item::Import(self.import(pair)?),
            Rule::protocol => Item::Header(self.header(pair, HeaderKind::Protocol)?),
            Rule::library => Item::Header(self.header(pair, HeaderKind::Library)?),
            Rule::setting => Item::Setting(self.setting(pair)?),
            Rule::question => Item::Question(self.question(pair)?),
            Rule::level => Item::Level(self.level(pair)?),
            Rule::rule_def => Item::Rule(self.rule(pair)?),
            Rule::route => Item::Route(self.route(pair)?),
            Rule::factors => Item::Factors(self.factors(pair)?),
            Rule::checklist => Item::Checklist(self.checklist(pair)?),
            Rule::actor => Item::Actor(self.actor(pair)?),
            Rule::contact => Item::Contact(self.contact(pair)?),
            Rule::accept => Item::Accept(self.accept(pair)?),
            Rule::procedure => Item::Procedure(self.procedure(pair)?),
            Rule::fragment => Item::Fragment(self.fragment(pair)?),
            _ => return Err(self.bug(self.span(&pair))),
        })
    }

    fn import(&self, pair: Pair<'_, Rule>) -> Result<Import> {
        let span = self.span(&pair);
        let mut kids = self.kids(pair);
        let first = kids.expect(self)?;
        let (names, path) = if first.as_rule() == Rule::import_names {
            let mut nk = self.kids(first);
            let names = self.names(&mut nk);
            (Some(names), kids.expect(self)?)
        } else {
            (None, first)
        };
        Ok(Import {
            names,
            path: self.text(path),
            span,
        })
    }

    fn header(&self, pair: Pair<'_, Rule>, kind: HeaderKind) -> Result<Header> {
        let span = self.span(&pair);
        let mut kids = self.kids(pair);
        let name = self.name(kids.expect(self)?);
        let mut props = Vec::new();
        while let Some(p) = kids.next() {
            let pspan = self.span(&p);
            let rule = p.as_rule();
            let mut k = self.kids(p);
            let prop = match rule {
                Rule::note => {
                    let t = self.text(k.expect(self)?);
                    HeaderProp::Note(t)
                }
                Rule::policy => {
                    let kind_pair = k.expect(self)?;
                    let policy = match kind_pair.as_str() {
                        "most-serious" => Policy::MostSerious,
                        "first-match" => Policy::FirstMatch,
                        _ => Policy::NoOverlap,
                    };
                    let policy = Spanned::new(policy, self.span(&kind_pair));
                    HeaderProp::Policy(policy, self.cite_tail(&mut k))
                }
                Rule::otherwise => {
                    let level = self.name(k.expect(self)?);
                    HeaderProp::Otherwise(level, self.cite_tail(&mut k))
                }
                Rule::level_order => HeaderProp::Levels(self.names(&mut k)),
                Rule::ask_first => HeaderProp::AskFirst(self.names(&mut k)),
                Rule::effective | Rule::review => {
                    let date = self.raw(k.expect(self)?);
                    let cite = self.cite_tail(&mut k);
                    if rule == Rule::effective {
                        HeaderProp::Effective(date, cite)
                    } else {
                        HeaderProp::Review(date, cite)
                    }
                }
                _ => {
                    let text = self.text(k.expect(self)?);
                    let cite = self.cite_tail(&mut k);
                    match rule {
                        Rule::title => HeaderProp::Title(text, cite),
                        Rule::authority => HeaderProp::Authority(text, cite),
                        Rule::partner => HeaderProp::Partner(text, cite),
                        Rule::version => HeaderProp::Version(text, cite),
                        Rule::source => HeaderProp::Source(text, cite),
                        _ => return Err(self.bug(pspan)),
                    }
                }
            };
            props.push(Spanned::new(prop, pspan));
        }
        Ok(Header {
            kind,
            name,
            props,
            span,
        })
    }

    /// The shape shared by definitions: name, quoted title, properties.
    fn definition<'i, P>(
        &self,
        pair: Pair<'i, Rule>,
        mut prop: impl FnMut(Pair<'i, Rule>) -> Result<P>,
    ) -> Result<Parts<P>> {
        let span = self.span(&pair);
        let mut kids = self.kids(pair);
        let name = self.name(kids.expect(self)?);
        let mut title = None;
        let mut props = Vec::new();
        while let Some(p) = kids.next() {
            if p.as_rule() == Rule::string && title.is_none() && props.is_empty() {
                title = Some(self.text(p));
                continue;
            }
            let pspan = self.span(&p);
            props.push(Spanned::new(prop(p)?, pspan));
        }
        Ok((name, title, props, span))
    }

    fn required_title(&self, title: Option<Text>, span: Span) -> Result<Text> {
        title.ok_or_else(|| self.bug(span))
    }

    fn setting(&self, pair: Pair<'_, Rule>) -> Result<Setting> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(SettingProp::Common(c));
            }
            let pspan = self.span(&p);
            let mut k = self.kids(p);
            let text = k.next().ok_or_else(|| self.bug(pspan))?;
            Ok(SettingProp::NoRoute(self.text(text)))
        })?;
        Ok(Setting {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn options(&self, kids: &mut Kids<'_>) -> Result<Vec<OptionDef>> {
        let mut out: Vec<OptionDef> = Vec::new();
        // The end of the previous option when it was a bare name.
        let mut bare_end = None;
        while let Some(p) = kids.next() {
            let input = p.get_input();
            let start = p.as_span().start();
            if let (Some(end), Some(prev)) = (bare_end, out.last()) {
                let gap: &str = &input[end..start];
                if gap.chars().all(|c| c == ' ' || c == '\t') {
                    return Err(self.spaced_option(prev, &p));
                }
            }
            let mut k = self.kids(p);
            let name = self.name(k.expect(self)?);
            let mut title = None;
            let mut props = Vec::new();
            while let Some(x) = k.next() {
                if x.as_rule() == Rule::string && title.is_none() && props.is_empty() {
                    title = Some(self.text(x));
                } else if let Some(c) = self.common(x.clone()) {
                    props.push(c);
                } else {
                    return Err(self.bug(self.span(&x)));
                }
            }
            bare_end = (title.is_none() && props.is_empty()).then_some(name.span.end as usize);
            out.push(OptionDef { name, title, props });
        }
        Ok(out)
    }

    /// Two option names side by side on one line, `first offence "First
    /// offence"`, would read as two options (`first`, and `offence` with the
    /// title): almost always one name written with a space.
    fn spaced_option(&self, prev: &OptionDef, next: &Pair<'_, Rule>) -> Diagnostic {
        let word = next.clone().into_inner().next().map_or("", |p| p.as_str());
        let joined = format!("{}-{word}", prev.name.node);
        let end = next.as_span().start() + word.len();
        Diagnostic::new(
            Code::SyntaxError,
            Span::new(self.file, prev.name.span.start as usize, end),
            format!("a name cannot contain a space: `{} {word}`", prev.name.node),
        )
        .with_label("one name, or two options?")
        .with_help(format!(
            "join the words with `-` (`{joined}`), or separate two options with `,`"
        ))
    }

    fn answer_kind(&self, pair: Pair<'_, Rule>) -> Result<AnswerKind> {
        let rule = pair.as_rule();
        let mut k = self.kids(pair);
        Ok(match rule {
            Rule::yes_or_no => AnswerKind::YesNo,
            Rule::one_of => AnswerKind::OneOf(self.options(&mut k)?),
            Rule::scale => AnswerKind::Scale(self.options(&mut k)?),
            Rule::count => AnswerKind::Count {
                from: k.next().map(|p| self.raw(p)),
            },
            Rule::amount => AnswerKind::Amount {
                unit: k.next().map(|p| self.text(p)),
            },
            _ => return Err(self.bug(k.span)),
        })
    }

    fn question(&self, pair: Pair<'_, Rule>) -> Result<Question> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(QuestionProp::Common(c));
            }
            let rule = p.as_rule();
            let mut k = self.kids(p);
            let inner = k.expect(self)?;
            Ok(match rule {
                Rule::answer => QuestionProp::Answer(self.answer_kind(inner)?),
                _ => QuestionProp::AskedWhen(self.expr(inner)?),
            })
        })?;
        Ok(Question {
            text: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn level(&self, pair: Pair<'_, Rule>) -> Result<Level> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(LevelProp::Common(c));
            }
            let rule = p.as_rule();
            if rule == Rule::example {
                return Ok(LevelProp::Example(self.example(p)?));
            }
            if rule == Rule::police {
                return Ok(LevelProp::Police(self.police(p)?));
            }
            let mut k = self.kids(p);
            Ok(LevelProp::Meaning(self.text(k.expect(self)?)))
        })?;
        Ok(Level {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn example(&self, pair: Pair<'_, Rule>) -> Result<Example> {
        let span = self.span(&pair);
        let mut kids = self.kids(pair);
        let title = self.text(kids.expect(self)?);
        let mut props = Vec::new();
        while let Some(p) = kids.next() {
            let pspan = self.span(&p);
            let prop = match self.common(p.clone()) {
                Some(c) => ExampleProp::Common(c),
                None => {
                    let mut k = self.kids(p);
                    ExampleProp::Given(self.expr(k.expect(self)?)?)
                }
            };
            props.push(Spanned::new(prop, pspan));
        }
        Ok(Example { title, props, span })
    }

    fn rule(&self, pair: Pair<'_, Rule>) -> Result<RuleDef> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(RuleProp::Common(c));
            }
            let rule = p.as_rule();
            if rule == Rule::police {
                return Ok(RuleProp::Police(self.police(p)?));
            }
            let mut k = self.kids(p);
            let inner = k.expect(self)?;
            Ok(match rule {
                Rule::when => RuleProp::When(self.expr(inner)?),
                Rule::rule_then => RuleProp::Then(self.name(inner)),
                _ => {
                    let s = match inner.as_str() {
                        "must" => Strength::Must,
                        "should" => Strength::Should,
                        _ => Strength::May,
                    };
                    RuleProp::Strength(Spanned::new(s, self.span(&inner)))
                }
            })
        })?;
        Ok(RuleDef {
            name,
            title,
            props,
            span,
        })
    }

    /// `police report`, `police judgement by manager`, `police emergency for foster`.
    fn police(&self, pair: Pair<'_, Rule>) -> Result<Police> {
        let mut k = self.kids(pair);
        let kind = k.expect(self)?;
        let response = match kind.as_str() {
            "none" => PoliceResponse::None,
            "judgement" => PoliceResponse::Judgement,
            "advice" => PoliceResponse::Advice,
            "report" => PoliceResponse::Report,
            "prompt" => PoliceResponse::Prompt,
            "emergency" => PoliceResponse::Emergency,
            "unstated" => PoliceResponse::Unstated,
            "later" => PoliceResponse::OldLater,
            _ => PoliceResponse::OldImmediate,
        };
        let response = Spanned::new(response, self.span(&kind));
        let mut by = None;
        let mut settings = Vec::new();
        while let Some(p) = k.next() {
            match p.as_rule() {
                Rule::actor_ref => by = Some(self.name(p)),
                _ => settings.push(self.name(p)),
            }
        }
        Ok(Police {
            response,
            by,
            settings,
        })
    }

    fn procedure(&self, pair: Pair<'_, Rule>) -> Result<Procedure> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(ProcedureProp::Common(c));
            }
            if p.as_rule() == Rule::police {
                return Ok(ProcedureProp::Police(self.police(p)?));
            }
            let mut k = self.kids(p);
            Ok(ProcedureProp::When(self.expr(k.expect(self)?)?))
        })?;
        Ok(Procedure {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn route(&self, pair: Pair<'_, Rule>) -> Result<Route> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(RouteProp::Common(c));
            }
            Ok(match p.as_rule() {
                Rule::route_for => {
                    let mut k = self.kids(p);
                    RouteProp::For(self.names(&mut k))
                }
                Rule::start => {
                    let mut k = self.kids(p);
                    let mut names = self.names(&mut k);
                    let node = names.pop().ok_or_else(|| self.bug(k.span))?;
                    RouteProp::Start {
                        levels: names,
                        node,
                    }
                }
                Rule::use_fragment => {
                    let mut k = self.kids(p);
                    RouteProp::Use(self.name(k.expect(self)?))
                }
                Rule::step => RouteProp::Step(self.step(p)?),
                Rule::decision => RouteProp::Decision(self.decision(p)?),
                _ => RouteProp::Outcome(self.outcome(p)?),
            })
        })?;
        Ok(Route {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    /// A timing with its condition or qualifier, if any.
    fn fragment(&self, pair: Pair<'_, Rule>) -> Result<Fragment> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(RouteProp::Common(c));
            }
            Ok(match p.as_rule() {
                Rule::step => RouteProp::Step(self.step(p)?),
                Rule::decision => RouteProp::Decision(self.decision(p)?),
                _ => RouteProp::Outcome(self.outcome(p)?),
            })
        })?;
        Ok(Fragment {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn timing(&self, pair: Pair<'_, Rule>) -> Result<CondTiming> {
        let span = self.span(&pair);
        let mut k = self.kids(pair);
        let inner = k.expect(self)?;
        let timing = self.bare_timing(inner, span)?;
        let (mut when, mut qualifier) = (None, None);
        if let Some(cond) = k.next() {
            let mut ck = self.kids(cond);
            let x = ck.expect(self)?;
            if x.as_rule() == Rule::string {
                qualifier = Some(self.text(x));
            } else {
                when = Some(self.expr(x)?);
            }
        }
        Ok(CondTiming {
            timing,
            when,
            qualifier,
        })
    }

    fn bare_timing(&self, inner: Pair<'_, Rule>, span: Span) -> Result<Timing> {
        let rule = inner.as_rule();
        let mut ik = self.kids(inner);
        Ok(match rule {
            Rule::within | Rule::after => {
                let d = self.duration(ik.expect(self)?)?;
                if rule == Rule::within {
                    Timing::Within(d)
                } else {
                    Timing::After(d)
                }
            }
            Rule::every => {
                let from = self.raw(ik.expect(self)?);
                let second = ik.expect(self)?;
                let (to, unit) = if second.as_rule() == Rule::integer {
                    (Some(self.raw(second)), ik.expect(self)?)
                } else {
                    (None, second)
                };
                Timing::Every {
                    from,
                    to,
                    unit: unit_of(unit.as_str()),
                }
            }
            Rule::immediately => Timing::Immediately,
            Rule::timing_text => Timing::Text(self.text(ik.expect(self)?)),
            _ => return Err(self.bug(span)),
        })
    }

    fn duration(&self, pair: Pair<'_, Rule>) -> Result<Duration> {
        let mut k = self.kids(pair);
        let amount = self.raw(k.expect(self)?);
        let unit = unit_of(k.expect(self)?.as_str());
        Ok(Duration { amount, unit })
    }

    fn step(&self, pair: Pair<'_, Rule>) -> Result<Step> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(StepProp::Common(c));
            }
            let rule = p.as_rule();
            if rule == Rule::timing {
                return Ok(StepProp::Timing(self.timing(p)?));
            }
            if rule == Rule::action {
                return Ok(StepProp::Action(self.action(p)?));
            }
            let mut k = self.kids(p);
            Ok(match rule {
                Rule::only_when => StepProp::OnlyWhen(self.expr(k.expect(self)?)?),
                Rule::step_by => StepProp::By(self.by(&mut k)),
                Rule::complete => StepProp::Complete(self.names(&mut k)),
                _ => StepProp::Then(self.name(k.expect(self)?)),
            })
        })?;
        Ok(Step {
            text: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn decision(&self, pair: Pair<'_, Rule>) -> Result<Decision> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(DecisionProp::Common(c));
            }
            let rule = p.as_rule();
            if rule == Rule::timing {
                return Ok(DecisionProp::Timing(self.timing(p)?));
            }
            let mut k = self.kids(p);
            Ok(match rule {
                Rule::step_by => DecisionProp::By(self.by(&mut k)),
                Rule::weigh => DecisionProp::Weigh(self.names(&mut k)),
                Rule::decide_on => DecisionProp::On(self.expr(k.expect(self)?)?),
                Rule::always => {
                    let answer = k.expect(self)?;
                    let answer =
                        Spanned::new(answer.as_str().trim().to_string(), self.span(&answer));
                    let when = self.expr(k.expect(self)?)?;
                    DecisionProp::Always { answer, when }
                }
                Rule::answers => {
                    let inner = k.expect(self)?;
                    if inner.as_rule() == Rule::yes_or_no {
                        DecisionProp::Answers(Answers::YesNo)
                    } else {
                        let mut ok = self.kids(inner);
                        DecisionProp::Answers(Answers::OneOf(self.options(&mut ok)?))
                    }
                }
                _ => {
                    let answer = k.expect(self)?;
                    let answer =
                        Spanned::new(answer.as_str().trim().to_string(), self.span(&answer));
                    let target = self.name(k.expect(self)?);
                    DecisionProp::Branch { answer, target }
                }
            })
        })?;
        Ok(Decision {
            text: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    /// `by a, b for s, t`: the actors, then the settings after `for`.
    fn by(&self, k: &mut Kids<'_>) -> By {
        let mut by = By {
            actors: Vec::new(),
            settings: Vec::new(),
        };
        while let Some(p) = k.next() {
            match p.as_rule() {
                Rule::setting_ref => by.settings.push(self.name(p)),
                _ => by.actors.push(self.name(p)),
            }
        }
        by
    }

    fn action(&self, pair: Pair<'_, Rule>) -> Result<Action> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind_pair = inner.next().ok_or_else(|| self.bug(span))?;
        let kind = match kind_pair.as_str() {
            "contact" => ActionKind::Contact,
            "consult" => ActionKind::Consult,
            "inform" => ActionKind::Inform,
            _ => ActionKind::Report,
        };
        let mut action = Action {
            kind: Spanned::new(kind, self.span(&kind_pair)),
            targets: Vec::new(),
            when: None,
            in_doubt: false,
        };
        for p in inner {
            match p.as_rule() {
                Rule::action_target => {
                    let mut k = self.kids(p);
                    action.targets.push(self.names(&mut k));
                }
                Rule::action_cond => {
                    if p.as_str().starts_with("if") {
                        action.in_doubt = true;
                    } else {
                        let mut k = self.kids(p);
                        action.when = Some(self.expr(k.expect(self)?)?);
                    }
                }
                _ => {}
            }
        }
        Ok(action)
    }

    fn outcome(&self, pair: Pair<'_, Rule>) -> Result<Outcome> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(OutcomeProp::Common(c));
            }
            let mut k = self.kids(p);
            Ok(OutcomeProp::By(self.by(&mut k)))
        })?;
        Ok(Outcome {
            text: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn factors(&self, pair: Pair<'_, Rule>) -> Result<Factors> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(FactorsProp::Common(c));
            }
            let rule = p.as_rule();
            let mut k = self.kids(p);
            Ok(match rule {
                Rule::applies_when => FactorsProp::AppliesWhen(self.expr(k.expect(self)?)?),
                Rule::include => FactorsProp::Include(self.names(&mut k)),
                _ => FactorsProp::Factor(self.text(k.expect(self)?)),
            })
        })?;
        Ok(Factors {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn checklist(&self, pair: Pair<'_, Rule>) -> Result<Checklist> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(ChecklistProp::Common(c));
            }
            let rule = p.as_rule();
            if rule == Rule::item {
                return Ok(ChecklistProp::Item(self.checklist_item(p)?));
            }
            let mut k = self.kids(p);
            Ok(ChecklistProp::Follows(self.name(k.expect(self)?)))
        })?;
        Ok(Checklist {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn checklist_item(&self, pair: Pair<'_, Rule>) -> Result<ChecklistItem> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(ItemProp::Common(c));
            }
            let rule = p.as_rule();
            let mut k = self.kids(p);
            Ok(match rule {
                Rule::detail => ItemProp::Detail(self.text(k.expect(self)?)),
                _ => ItemProp::By(self.names(&mut k)),
            })
        })?;
        Ok(ChecklistItem {
            text: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn actor(&self, pair: Pair<'_, Rule>) -> Result<Actor> {
        let (name, title, props, span) = self.definition(pair, |p| {
            self.common(p.clone())
                .ok_or_else(|| self.bug(self.span(&p)))
        })?;
        Ok(Actor {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn contact(&self, pair: Pair<'_, Rule>) -> Result<Contact> {
        let (name, title, props, span) = self.definition(pair, |p| {
            if let Some(c) = self.common(p.clone()) {
                return Ok(ContactProp::Common(c));
            }
            let rule = p.as_rule();
            let mut k = self.kids(p);
            let text = self.text(k.expect(self)?);
            Ok(match rule {
                Rule::phone => ContactProp::Phone(text),
                Rule::web => ContactProp::Web(text),
                _ => ContactProp::Email(text),
            })
        })?;
        Ok(Contact {
            title: self.required_title(title, span)?,
            name,
            props,
            span,
        })
    }

    fn accept(&self, pair: Pair<'_, Rule>) -> Result<Accept> {
        let span = self.span(&pair);
        let mut kids = self.kids(pair);
        let code = self.name(kids.expect(self)?);
        let subject = kids.expect(self)?;
        let mut when = None;
        let mut names = Vec::new();
        let mut example = None;
        for p in subject.into_inner() {
            match p.as_rule() {
                Rule::accept_when => {
                    let mut k = self.kids(p);
                    when = Some(self.expr(k.expect(self)?)?);
                }
                Rule::accept_names => {
                    let mut k = self.kids(p);
                    names = self.names(&mut k);
                }
                Rule::example_title => {
                    let mut k = self.kids(p);
                    example = Some(self.text(k.expect(self)?));
                }
                _ => {}
            }
        }
        let reason = self.text(kids.expect(self)?);
        let cite = kids.next().map(|p| self.cite(p)).unwrap_or_default();
        Ok(Accept {
            code,
            when,
            names,
            example,
            reason,
            cite,
            span,
        })
    }

    fn expr(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        PRATT
            .map_primary(|p| self.primary(p))
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = self.span(&op).to(rhs.span);
                Ok(Spanned::new(ExprKind::Not(Box::new(rhs)), span))
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let span = lhs.span.to(rhs.span);
                let is_and = op.as_rule() == Rule::kw_and;
                // Extend a chain of the same operator rather than nest it;
                // both operators are associative, so this keeps the meaning.
                let kind = match (lhs.node, is_and) {
                    (ExprKind::And(mut parts), true) => {
                        parts.push(rhs);
                        ExprKind::And(parts)
                    }
                    (ExprKind::Or(mut parts), false) => {
                        parts.push(rhs);
                        ExprKind::Or(parts)
                    }
                    (node, _) => {
                        let lhs = Spanned::new(node, lhs.span);
                        if is_and {
                            ExprKind::And(vec![lhs, rhs])
                        } else {
                            ExprKind::Or(vec![lhs, rhs])
                        }
                    }
                };
                Ok(Spanned::new(kind, span))
            })
            .parse(pair.into_inner())
    }

    fn primary(&self, pair: Pair<'_, Rule>) -> Result<Expr> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::group => {
                let mut k = self.kids(pair);
                let inner = self.expr(k.expect(self)?)?;
                Ok(Spanned::new(inner.node, span))
            }
            Rule::test => {
                let mut k = self.kids(pair);
                let question = self.name(k.expect(self)?);
                // pest skips the blanks after the question before it tries
                // the optional tail; the span must not include them.
                let Some(tail) = k.next() else {
                    let span = question.span;
                    return Ok(Spanned::new(ExprKind::Question(question), span));
                };
                let span = question.span.to(self.span(&tail));
                match tail.as_rule() {
                    Rule::comparison => {
                        let mut t = self.kids(tail);
                        let op_pair = t.expect(self)?;
                        let op = match op_pair.as_str() {
                            "==" => CmpOp::Eq,
                            "!=" => CmpOp::Ne,
                            "<=" => CmpOp::Le,
                            ">=" => CmpOp::Ge,
                            "<" => CmpOp::Lt,
                            _ => CmpOp::Gt,
                        };
                        let op = Spanned::new(op, self.span(&op_pair));
                        let value = self.value(t.expect(self)?)?;
                        Ok(Spanned::new(
                            ExprKind::Compare {
                                question,
                                op,
                                value,
                            },
                            span,
                        ))
                    }
                    _ => {
                        let mut negated = false;
                        let mut values = Vec::new();
                        for p in tail.into_inner() {
                            match p.as_rule() {
                                Rule::kw_not => negated = true,
                                Rule::value => values.push(self.value(p)?),
                                _ => {}
                            }
                        }
                        Ok(Spanned::new(
                            ExprKind::In {
                                question,
                                negated,
                                values,
                            },
                            span,
                        ))
                    }
                }
            }
            _ => Err(self.bug(span)),
        }
    }

    fn value(&self, pair: Pair<'_, Rule>) -> Result<Value> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().ok_or_else(|| self.bug(span))?;
        let kind = match inner.as_rule() {
            Rule::number => ValueKind::Number(inner.as_str().to_string()),
            Rule::kw_yes => ValueKind::Yes,
            Rule::kw_no => ValueKind::No,
            _ => ValueKind::Name(inner.as_str().to_string()),
        };
        Ok(Spanned::new(kind, span))
    }
}

fn unit_of(text: &str) -> Unit {
    match text.trim_end_matches('s') {
        "hour" => Unit::Hours,
        "day" => Unit::Days,
        "week" => Unit::Weeks,
        _ => Unit::Months,
    }
}

/// Decode escapes and fold each line break, with the spaces around it, into
/// one space: a long note may be wrapped in the source without the wrapping
/// showing up in the outputs.
pub fn decode_string(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            '\n' | '\r' => {
                while out.ends_with(' ') || out.ends_with('\t') {
                    out.pop();
                }
                while matches!(chars.peek(), Some(' ' | '\t' | '\n' | '\r')) {
                    chars.next();
                }
                if !out.is_empty() {
                    out.push(' ');
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_fold_line_breaks_and_decode_escapes() {
        assert_eq!(decode_string("a\n    b"), "a b");
        assert_eq!(decode_string("a  \r\n  b\\n c"), "a b\n c");
        assert_eq!(decode_string(r#"say \"hi\" \\ ok"#), "say \"hi\" \\ ok");
    }
}
