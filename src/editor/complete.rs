//! Completion from the text before the cursor.
//!
//! The file being typed rarely parses, so the context is read from the
//! tokens before the cursor (which block it is in, the word before it)
//! and the names offered come from the last text of the file that parsed
//! and from what it imports. Only what is valid at the cursor is offered:
//! levels after `then` in a rule, steps after `then` in a route, the
//! options of the question being compared, police responses after `police`,
//! the properties of the block the cursor is in, and so on.

use lsp_types::{CompletionItem, CompletionItemKind};

use crate::diagnostic::Code;
use crate::source::FileId;
use crate::syntax::ast::{self, Item};

use super::index::{self, DefKind, Index};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Str,
    Num,
    Sym(&'a str),
}

/// The tokens of `text`, or `None` when it ends inside a string or a
/// comment (where nothing is completed).
fn tokens(text: &str) -> Option<Vec<Tok<'_>>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("//") {
            match text[i..].find('\n') {
                Some(n) => i += n + 1,
                None => return None,
            }
        } else if c == b'"' {
            i += 1;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'\\') => i += 2,
                    Some(b'"') => break,
                    Some(_) => i += 1,
                }
            }
            i += 1;
            out.push(Tok::Str);
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            out.push(Tok::Word(&text[start..i]));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num);
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let len = if ["->", "==", "!=", "<=", ">="].contains(&two) {
                2
            } else {
                text[i..].chars().next().map_or(1, char::len_utf8)
            };
            out.push(Tok::Sym(&text[i..i + len]));
            i += len;
        }
    }
    Some(out)
}

/// What kind of block the cursor is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Top,
    Header,
    Setting,
    Question,
    OptionList,
    OptionBody,
    Membership,
    Level,
    Example,
    Rule,
    Procedure,
    Route,
    Fragment,
    Step,
    Decision,
    Outcome,
    Factors,
    Checklist,
    Item,
    Actor,
    Contact,
}

fn opener(word: &str) -> Option<Block> {
    Some(match word {
        "protocol" | "library" => Block::Header,
        "setting" => Block::Setting,
        "question" => Block::Question,
        "level" => Block::Level,
        "example" => Block::Example,
        "rule" => Block::Rule,
        "procedure" => Block::Procedure,
        "route" => Block::Route,
        "fragment" => Block::Fragment,
        "step" => Block::Step,
        "decision" => Block::Decision,
        "outcome" => Block::Outcome,
        "factors" => Block::Factors,
        "checklist" => Block::Checklist,
        "item" => Block::Item,
        "actor" => Block::Actor,
        "contact" => Block::Contact,
        _ => return None,
    })
}

const DEFINITIONS: &[&str] = &[
    "import",
    "protocol",
    "library",
    "setting",
    "question",
    "level",
    "rule",
    "route",
    "fragment",
    "factors",
    "checklist",
    "actor",
    "contact",
    "procedure",
    "accept",
];

fn properties(block: Block) -> &'static [&'static str] {
    match block {
        Block::Top => DEFINITIONS,
        Block::Header => &[
            "title",
            "authority",
            "partner",
            "version",
            "effective",
            "review",
            "source",
            "policy",
            "otherwise",
            "levels",
            "ask first",
            "note",
        ],
        Block::Setting => &["no route", "cite", "note"],
        Block::Question => &["answer", "asked when", "cite", "note"],
        Block::OptionList | Block::Membership => &[],
        Block::OptionBody | Block::Actor => &["cite", "note"],
        Block::Level => &["police", "meaning", "example", "cite", "note"],
        Block::Example => &["given", "cite", "note"],
        Block::Rule => &["when", "then", "police", "strength", "cite", "note"],
        Block::Procedure => &["when", "police", "cite", "note"],
        Block::Route => &[
            "for", "start", "use", "step", "decision", "outcome", "cite", "note",
        ],
        Block::Fragment => &["step", "decision", "outcome", "cite", "note"],
        Block::Step => &[
            "only when",
            "by",
            "contact",
            "consult",
            "inform",
            "report to",
            "timing",
            "complete",
            "then",
            "cite",
            "note",
        ],
        Block::Decision => &[
            "by", "weigh", "answers", "on", "always", "timing", "yes", "no", "cite", "note",
        ],
        Block::Outcome => &["by", "cite", "note"],
        Block::Factors => &["applies when", "include", "cite", "note"],
        Block::Checklist => &["follows", "item", "cite", "note"],
        Block::Item => &["detail", "by", "cite", "note"],
        Block::Contact => &["phone", "web", "email", "cite", "note"],
    }
}

pub const POLICE: &[&str] = &[
    "none",
    "judgement",
    "advice",
    "report",
    "prompt",
    "emergency",
    "unstated",
];

/// The open blocks at the end of the tokens, outermost first, each with
/// the index of its `{` and the name after its keyword.
fn blocks<'a>(toks: &[Tok<'a>]) -> Vec<(Block, usize, Option<&'a str>)> {
    let mut stack: Vec<(Block, usize, Option<&'a str>)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Sym("{") => {
                let word = |k: usize| match toks.get(k) {
                    Some(Tok::Word(w)) => Some(*w),
                    _ => None,
                };
                let before = i.checked_sub(1).and_then(word);
                let block = if before == Some("of") || before == Some("scale") {
                    (Block::OptionList, None)
                } else if before == Some("in") {
                    (Block::Membership, None)
                } else if stack.last().is_some_and(|b| b.0 == Block::OptionList) {
                    (Block::OptionBody, None)
                } else {
                    // The keyword that starts the statement: the nearest
                    // opener since the enclosing block's brace.
                    let floor = stack.last().map_or(0, |b| b.1 + 1);
                    (floor..i)
                        .rev()
                        .find_map(|k| {
                            let w = word(k)?;
                            let b = opener(w)?;
                            // `contact` and `report` are actions inside a
                            // step; only a definition at the top opens one.
                            if b == Block::Contact && !stack.is_empty() {
                                return None;
                            }
                            Some((b, word(k + 1)))
                        })
                        .unwrap_or((Block::Top, None))
                };
                stack.push((block.0, i, block.1));
            }
            Tok::Sym("}") => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack
}

/// The completions at byte `offset` of `text`; `prefix` is the part of the
/// name already typed. Names come from `index`, for `file`.
pub fn complete(
    text: &str,
    offset: usize,
    index: Option<(&Index<'_>, FileId)>,
) -> (usize, Vec<CompletionItem>) {
    let bytes = text.as_bytes();
    let mut start = offset;
    while start > 0 {
        let c = bytes[start - 1];
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
            start -= 1;
        } else {
            break;
        }
    }
    let prefix = &text[start..offset];
    let Some(toks) = tokens(&text[..start]) else {
        return (start, Vec::new());
    };
    let stack = blocks(&toks);
    let block = stack.last().map_or(Block::Top, |b| b.0);
    let floor = stack.last().map_or(0, |b| b.1 + 1);
    let local = &toks[floor..];
    let mut c = Offer {
        items: Vec::new(),
        index,
    };

    let word_at = |k: usize| match local.get(k) {
        Some(Tok::Word(w)) => Some(*w),
        _ => None,
    };
    match local.last() {
        None | Some(Tok::Sym("}")) => c.keywords(properties(block)),
        Some(Tok::Sym(op)) if ["==", "!=", "<", "<=", ">", ">="].contains(op) => {
            if let Some(q) = local.len().checked_sub(2).and_then(word_at) {
                c.answers(q);
            }
        }
        Some(Tok::Sym("->")) => c.nodes(&stack),
        Some(Tok::Sym("(")) => c.condition_start(),
        Some(Tok::Sym(",")) if block == Block::Membership => {
            let toks_before = &toks[..stack.last().map_or(0, |b| b.1)];
            if let Some(q) = membership_question(toks_before) {
                c.answers(q);
            }
        }
        Some(Tok::Sym(",")) => {
            // The keyword that starts the list: before `name , name , ...`.
            let mut k = local.len() - 1;
            while k >= 2 && local[k] == Tok::Sym(",") && matches!(local[k - 1], Tok::Word(_)) {
                k -= 2;
            }
            if let Some(w) = word_at(k) {
                c.after(w, block, &stack, local, k);
            }
        }
        Some(Tok::Word(w)) => {
            let k = local.len() - 1;
            if !c.after(w, block, &stack, local, k) && block != Block::Top {
                // After a finished statement: a new property, or more of a
                // condition.
                c.keywords(properties(block));
                if in_condition(local) {
                    c.keywords(&["and", "or"]);
                }
            }
        }
        Some(Tok::Str | Tok::Num) => {
            c.keywords(properties(block));
            if in_condition(local) {
                c.keywords(&["and", "or"]);
            }
        }
        Some(Tok::Sym(_)) => {}
    }
    if block == Block::Membership && local.is_empty() {
        let toks_before = &toks[..stack.last().map_or(0, |b| b.1)];
        if let Some(q) = membership_question(toks_before) {
            c.answers(q);
        }
    }
    let mut items = c.items;
    items.retain(|i| i.label.starts_with(prefix) && i.label != prefix);
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(i.label.clone()));
    (start, items)
}

/// The question of `q in {` / `q not in {`, from the tokens before the `{`.
fn membership_question<'a>(toks: &[Tok<'a>]) -> Option<&'a str> {
    let n = toks.len();
    let at = |k: usize| match toks.get(k) {
        Some(Tok::Word(w)) => Some(*w),
        _ => None,
    };
    match at(n.checked_sub(2)?)? {
        "not" => at(n.checked_sub(3)?),
        q => Some(q),
    }
}

/// Whether the last statement of a block is a condition still being
/// written (a `when` or `given` with no other property keyword after it).
fn in_condition(local: &[Tok<'_>]) -> bool {
    for t in local.iter().rev() {
        if let Tok::Word(w) = t {
            match *w {
                "when" | "given" | "on" | "and" | "or" | "not" => return true,
                "then" | "police" | "cite" | "note" | "strength" | "by" | "timing" | "complete"
                | "answer" | "example" | "meaning" => return false,
                _ => {}
            }
        }
    }
    false
}

struct Offer<'i, 'w> {
    items: Vec<CompletionItem>,
    index: Option<(&'i Index<'w>, FileId)>,
}

impl Offer<'_, '_> {
    fn keywords(&mut self, words: &[&str]) {
        for w in words {
            self.items.push(CompletionItem {
                label: (*w).to_string(),
                kind: Some(CompletionItemKind::KEYWORD),
                ..Default::default()
            });
        }
    }

    fn names(&mut self, kinds: &[DefKind]) {
        let Some((index, file)) = self.index else {
            return;
        };
        let mut found = Vec::new();
        for &kind in kinds {
            for (f, d) in index.visible(file) {
                if d.kind == kind {
                    found.push(item(index, f, d));
                }
            }
        }
        found.sort_by(|a, b| a.label.cmp(&b.label));
        self.items.extend(found);
    }

    fn condition_start(&mut self) {
        self.names(index::QUESTION);
        self.keywords(&["not", "setting"]);
    }

    /// The answers a question may be compared with.
    fn answers(&mut self, question: &str) {
        let Some((index, file)) = self.index else {
            return;
        };
        if question == "setting" && index.lookup(file, DefKind::Question, "setting").is_none() {
            self.names(index::SETTING);
            return;
        }
        let Some((qf, q)) = index.lookup(file, DefKind::Question, question) else {
            return;
        };
        let yes_no = index.ws.ast(qf).and_then(|a| a.items.get(q.item)).is_some_and(|i| {
            matches!(i, Item::Question(q) if q.props.iter().any(|p| matches!(p.node, ast::QuestionProp::Answer(ast::AnswerKind::YesNo))))
        });
        if yes_no {
            self.keywords(&["yes", "no"]);
        }
        for d in index.defs(qf) {
            if d.kind == DefKind::Option && d.item == q.item {
                self.items.push(item(index, qf, d));
            }
        }
    }

    /// The steps, decisions and outcomes of the enclosing route or fragment.
    fn nodes(&mut self, stack: &[(Block, usize, Option<&str>)]) {
        let Some((index, file)) = self.index else {
            return;
        };
        let Some(&(kind, _, Some(name))) = stack.first() else {
            return;
        };
        let kind = match kind {
            Block::Route => DefKind::Route,
            Block::Fragment => DefKind::Fragment,
            _ => return,
        };
        let Some((rf, route)) = index.lookup(file, kind, name) else {
            return;
        };
        let mut owners = vec![(rf, route.item)];
        owners.extend(index.fragments_used(rf, route.item));
        for (f, it) in owners {
            for d in index.defs(f) {
                if d.kind == DefKind::Node && d.item == it {
                    self.items.push(item(index, f, d));
                }
            }
        }
    }

    /// What may follow the keyword `w` (the token at `k` of the block's
    /// tokens); false when `w` is not a keyword that takes something.
    fn after(
        &mut self,
        w: &str,
        block: Block,
        stack: &[(Block, usize, Option<&str>)],
        local: &[Tok<'_>],
        k: usize,
    ) -> bool {
        let prev = k.checked_sub(1).and_then(|p| match local.get(p) {
            Some(Tok::Word(w)) => Some(*w),
            _ => None,
        });
        match w {
            "when" | "and" | "or" | "not" | "given" | "on" => self.condition_start(),
            "then" if matches!(block, Block::Step) => self.nodes(stack),
            "then" => self.names(index::LEVEL),
            "police" if block != Block::Top => self.keywords(POLICE),
            "by" => self.names(index::ACTOR),
            "for" => self.names(index::SETTING),
            "contact" | "consult" | "inform" | "else" if block == Block::Step => {
                self.names(index::CONTACT)
            }
            "to" if prev == Some("report") && block == Block::Step => self.names(index::CONTACT),
            "complete" | "follows" => self.names(index::CHECKLIST),
            "weigh" | "include" => self.names(index::FACTORS),
            "use" => self.names(index::FRAGMENT),
            "start" => self.names(index::ENTRY),
            "levels" | "otherwise" => self.names(index::LEVEL),
            "first" if prev == Some("ask") => self.names(index::QUESTION),
            "strength" => self.keywords(&["must", "should", "may"]),
            "policy" => self.keywords(&["most-serious", "first-match", "no-overlap"]),
            "answer" => self.keywords(&["yes or no", "one of", "scale", "count", "amount"]),
            "answers" => self.keywords(&["yes or no", "one of"]),
            "accept" if block == Block::Top => {
                let codes: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
                self.keywords(&codes);
            }
            _ => return false,
        }
        true
    }
}

/// A completion for a definition, with its title as the detail.
fn item(index: &Index<'_>, file: FileId, d: &index::Def) -> CompletionItem {
    let kind = match d.kind {
        DefKind::Question => CompletionItemKind::VARIABLE,
        DefKind::Option => CompletionItemKind::ENUM_MEMBER,
        DefKind::Level => CompletionItemKind::CONSTANT,
        DefKind::Rule | DefKind::Procedure => CompletionItemKind::FUNCTION,
        DefKind::Node | DefKind::Route | DefKind::Fragment => CompletionItemKind::MODULE,
        DefKind::Actor | DefKind::Contact => CompletionItemKind::REFERENCE,
        _ => CompletionItemKind::VALUE,
    };
    let title = title_of(index, file, d);
    CompletionItem {
        label: d.name.clone(),
        kind: Some(kind),
        detail: Some(match title {
            Some(t) => format!("{}: {t}", d.kind.word()),
            None => d.kind.word().to_string(),
        }),
        ..Default::default()
    }
}

/// The title or text a definition is written with.
pub fn title_of(index: &Index<'_>, file: FileId, d: &index::Def) -> Option<String> {
    let item = index.ws.ast(file)?.items.get(d.item)?;
    let text = match (d.kind, item) {
        (DefKind::Option, Item::Question(q)) => q.props.iter().find_map(|p| match &p.node {
            ast::QuestionProp::Answer(ast::AnswerKind::OneOf(os) | ast::AnswerKind::Scale(os)) => {
                os.iter()
                    .find(|o| o.name.span == d.span)
                    .and_then(|o| o.title.as_ref())
            }
            _ => None,
        })?,
        (DefKind::Node, Item::Route(ast::Route { props, .. }))
        | (DefKind::Node, Item::Fragment(ast::Fragment { props, .. })) => {
            props.iter().find_map(|p| match &p.node {
                ast::RouteProp::Step(s) if s.name.span == d.span => Some(&s.text),
                ast::RouteProp::Decision(x) if x.name.span == d.span => Some(&x.text),
                ast::RouteProp::Outcome(o) if o.name.span == d.span => Some(&o.text),
                _ => None,
            })?
        }
        (DefKind::ChecklistItem, Item::Checklist(c)) => {
            c.props.iter().find_map(|p| match &p.node {
                ast::ChecklistProp::Item(it) if it.name.span == d.span => Some(&it.text),
                _ => None,
            })?
        }
        (_, Item::Question(q)) => &q.text,
        (_, Item::Level(x)) => &x.title,
        (_, Item::Rule(x)) => x.title.as_ref()?,
        (_, Item::Setting(x)) => &x.title,
        (_, Item::Route(x)) => &x.title,
        (_, Item::Fragment(x)) => &x.title,
        (_, Item::Factors(x)) => &x.title,
        (_, Item::Checklist(x)) => &x.title,
        (_, Item::Actor(x)) => &x.title,
        (_, Item::Contact(x)) => &x.title,
        (_, Item::Procedure(x)) => &x.title,
        _ => return None,
    };
    Some(text.node.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let (_, items) = complete(text, text.len(), None);
        items.into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn the_block_decides_the_properties() {
        assert!(labels("rule r \"R\" {\n  ").contains(&"strength".to_string()));
        assert!(!labels("rule r \"R\" {\n  ").contains(&"meaning".to_string()));
        assert!(labels("level l \"L\" {\n  ").contains(&"meaning".to_string()));
        assert_eq!(
            labels("route r \"R\" {\n step s \"S\" {\n  con"),
            ["contact", "consult"]
        );
        assert_eq!(labels("contact c \"C\" { ph"), ["phone"]);
        assert_eq!(labels("le"), ["level"]);
    }

    #[test]
    fn police_responses_follow_police() {
        assert_eq!(labels("level l \"L\" { police "), POLICE);
        assert_eq!(labels("level l \"L\" { police em"), ["emergency"]);
    }

    #[test]
    fn nothing_inside_strings_or_comments() {
        assert!(labels("rule r \"R ").is_empty());
        assert!(labels("rule r \"R\" { // the ").is_empty());
        // A closed string and a finished comment do not count.
        assert!(!labels("rule r \"a \\\" b\" { // x\n  ").is_empty());
    }
}
