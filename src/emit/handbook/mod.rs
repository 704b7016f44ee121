//! The handbook page (`out/<id>.html`): one self-contained HTML file per
//! protocol for boards and carers, built from the rule pack alone so that
//! it says exactly what apps are given and nothing the pack does not.
//!
//! The page holds the protocol's header, its levels from least to most
//! serious (police response in words and colour), the rules in the
//! document's own words, the procedures, each route as an HTML flowchart
//! that reads on a phone, the checklists, factor lists, contacts, notes and
//! accepted findings, and the pictures the build drew (inlined SVG). A
//! "try an incident" panel (`page.js`) asks the questions that matter one
//! at a time by walking the pack's compiled `decision`, and evaluates the
//! procedures and routes with the pack's JsonLogic, so that it reaches what
//! `carepath decide` reaches on the same answers.
//!
//! Nothing is fetched: CSS, script and pictures are inline, and the page is
//! the same bytes for the same pack and pictures. Every text from the pack
//! is escaped for the context it lands in; the pack itself is embedded for
//! the script as JSON in `<script type="application/json">` with `<`, `>`,
//! `&` and the two JavaScript line separators written as `\uXXXX`, so no
//! text can end the element or be read as markup.

use std::fmt::Write as _;

use super::pack::{
    self, Citation, Effect, NodeKind, Police, QuestionKind, Response, RulePack, Strength,
};

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// A picture to show on the page: a title and the SVG text the build drew.
#[derive(Clone, Copy, Debug)]
pub struct Picture<'a> {
    pub title: &'a str,
    pub svg: &'a str,
}

/// The handbook page for a rule pack, with the pictures given.
pub fn page(pack: &RulePack, pictures: &[Picture<'_>]) -> String {
    let mut p = Page {
        pack,
        out: String::with_capacity(256 * 1024),
    };
    p.document(pictures);
    p.out
}

/// Text escaped for HTML text and for attribute values in double quotes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` element: the characters
/// that could end the element or start markup, and the line separators
/// older JavaScript reads as line ends, as `\uXXXX` escapes. They can occur
/// only inside JSON strings, where the escape means the same character.
pub fn script_json(value: &impl serde::Serialize) -> String {
    let text = serde_json::to_string(value).expect("a rule pack serialises");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document as an element to put in HTML: without the XML prolog,
/// doctype and comments before the `<svg` element.
pub fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => svg[i..].trim_end(),
        None => "",
    }
}

/// The police response's class name (its colour on the page; the words are
/// always written beside it).
fn response_class(r: Response) -> &'static str {
    match r {
        Response::None => "none",
        Response::Judgement => "judgement",
        Response::Advice => "advice",
        Response::Report => "report",
        Response::Prompt => "prompt",
        Response::Emergency => "emergency",
        Response::Unstated => "unstated",
    }
}

fn response_words(r: Response) -> &'static str {
    crate::model::Response::from(r).words()
}

fn strength_words(s: Strength, e: Effect) -> &'static str {
    match (s, e) {
        (Strength::Must, _) => "must: decides the level",
        (Strength::Should, _) => "should: decides the level",
        (Strength::May, Effect::Suggests) | (Strength::May, Effect::Decides) => {
            "may: suggests the level, does not decide it"
        }
    }
}

fn kind_words(k: QuestionKind) -> &'static str {
    match k {
        QuestionKind::Setting => "the setting",
        QuestionKind::YesNo => "yes or no",
        QuestionKind::OneOf => "one of",
        QuestionKind::Scale => "a scale, least first",
        QuestionKind::Count => "a count",
        QuestionKind::Amount => "an amount in pounds",
    }
}

/// A telephone number as a `tel:` URI: digits and a leading `+` only, so
/// "0300 123 4567 (option 2)" dials the number; `None` when nothing is left.
fn tel_uri(phone: &str) -> Option<String> {
    let mut out = String::new();
    for c in phone.chars() {
        if c.is_ascii_digit() || (c == '+' && out.is_empty()) {
            out.push(c);
        } else if c == '(' || c.is_alphabetic() {
            // Extensions and words after the number are not dialled.
            if out.chars().any(|d| d.is_ascii_digit()) {
                break;
            }
        }
    }
    out.chars()
        .any(|c| c.is_ascii_digit())
        .then(|| format!("tel:{out}"))
}

/// An element id made from a pack id: pack ids are the language's
/// identifiers, but the page does not rely on it.
fn anchor(kind: &str, id: &str) -> String {
    let mut out = String::from(kind);
    out.push('-');
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}_", c as u32);
        }
    }
    out
}

/// An actor's title, or the id itself when the pack has no such actor (as
/// `carepath decide` shows it).
fn actor_title<'a>(pack: &'a RulePack, id: &'a str) -> &'a str {
    pack.actors
        .iter()
        .find(|a| a.id == id)
        .map_or(id, |a| a.title.as_str())
}

/// The document the protocol itself is written in: the one named like the
/// protocol, else the one its title cites. Citations of it give the
/// section alone.
fn main_document(pack: &RulePack) -> Option<&str> {
    let id = pack.protocol.id.as_str();
    pack.documents
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.id.as_str())
        .or_else(|| {
            pack.protocol
                .title
                .cites
                .first()
                .map(|c| c.document.as_str())
        })
}

struct Page<'p> {
    pack: &'p RulePack,
    out: String,
}

impl<'p> Page<'p> {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn text(&mut self, s: &str) {
        self.out.push_str(&escape(s));
    }

    fn actor_title<'a>(&self, id: &'a str) -> &'a str
    where
        'p: 'a,
    {
        actor_title(self.pack, id)
    }

    fn setting_title<'a>(&self, id: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.pack
            .settings
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| s.title.as_str())
    }

    fn document_title<'a>(&self, id: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.pack
            .documents
            .iter()
            .find(|d| d.id == id)
            .map_or(id, |d| d.title.as_str())
    }

    fn document(&mut self, pictures: &[Picture<'_>]) {
        let pack = self.pack;
        let title = pack.protocol.title.value.as_str();
        self.push("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        self.push("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        // No request may leave the page, even by mistake: a policy that
        // allows only what is inline.
        self.push("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'\"/>\n");
        let _ = writeln!(
            self.out,
            "<meta name=\"generator\" content=\"{} {}\"/>",
            escape(&pack.compiler.name),
            escape(&pack.compiler.version)
        );
        // An empty icon, so that the browser does not ask for /favicon.ico.
        self.push("<link rel=\"icon\" href=\"data:,\"/>\n<title>");
        self.text(title);
        self.push(": handbook</title>\n<style>\n");
        self.push(CSS);
        self.push("</style>\n</head>\n<body>\n");
        self.push("<a class=\"skip\" href=\"#main\">Skip to the content</a>\n");
        self.push("<header class=\"masthead\">\n<p class=\"kicker\">Police involvement protocol: handbook</p>\n<h1>");
        self.text(title);
        self.push("</h1>\n");
        // On a phone in the middle of an incident, the panel comes first.
        self.push("<p class=\"jump\"><a href=\"#try\">Try an incident: what to do now</a></p>\n");
        self.header_facts();
        self.push("<div class=\"search\" role=\"search\"><label for=\"search\">Search this page</label> <input id=\"search\" type=\"search\" autocomplete=\"off\" placeholder=\"e.g. drugs, 999, social worker\"/><p id=\"search-status\" class=\"search-status\" aria-live=\"polite\"></p></div>\n");
        self.push("</header>\n");
        let sections = self.sections(pictures);
        self.push("<nav class=\"toc\" aria-labelledby=\"toc-title\"><h2 id=\"toc-title\">Contents</h2><ol>\n");
        for (id, name) in &sections {
            let _ = writeln!(self.out, "<li><a href=\"#{id}\">{}</a></li>", escape(name));
        }
        self.push("</ol></nav>\n<main id=\"main\">\n");
        for (id, _) in &sections {
            match id.as_str() {
                "try" => self.try_panel(),
                "levels" => self.levels(),
                "procedures" => self.procedures(),
                "routes" => self.routes(),
                "questions" => self.questions(),
                "checklists" => self.checklists(),
                "factors" => self.factors(),
                "contacts" => self.contacts(),
                "open" => self.accepted(),
                "notes" => self.notes(),
                "pictures" => self.pictures(pictures),
                "sources" => self.sources(),
                _ => {}
            }
        }
        self.push("</main>\n<footer class=\"foot\"><p>Written by ");
        self.text(&format!("{} {}", pack.compiler.name, pack.compiler.version));
        self.push(" from the rule pack <code>");
        self.text(&pack.protocol.id);
        self.push(".json</code>");
        if let Some(i) = &pack.integrity {
            self.push(" (SHA-256 <code class=\"digest\">");
            self.text(&i.digest);
            self.push("</code>)");
        }
        self.push(". The pack is what apps and <code>carepath decide</code> use; this page shows the same.</p></footer>\n");
        self.push("<script type=\"application/json\" id=\"pack\">");
        let json = script_json(pack);
        self.push(&json);
        self.push("</script>\n<script type=\"application/json\" id=\"words\">");
        let words: std::collections::BTreeMap<&str, &str> = [
            Response::None,
            Response::Judgement,
            Response::Advice,
            Response::Report,
            Response::Prompt,
            Response::Emergency,
            Response::Unstated,
        ]
        .into_iter()
        .map(|r| (response_class(r), response_words(r)))
        .collect();
        self.push(&script_json(&words));
        self.push("</script>\n<script>\n");
        self.push(SCRIPT);
        self.push("</script>\n</body>\n</html>\n");
    }

    /// The sections the page has, in order, with their headings: empty
    /// lists get no section.
    fn sections(&self, pictures: &[Picture<'_>]) -> Vec<(String, String)> {
        let p = self.pack;
        let mut out = vec![
            ("try", "Try an incident"),
            ("levels", "Levels and their criteria"),
        ];
        if !p.procedures.is_empty() {
            out.push(("procedures", "Procedures alongside the level"));
        }
        if !p.routes.is_empty() || p.settings.iter().any(|s| s.no_route.is_some()) {
            out.push(("routes", "Routes: what happens next"));
        }
        out.push(("questions", "The questions asked"));
        if !p.checklists.is_empty() {
            out.push(("checklists", "Checklists"));
        }
        if !p.factors.is_empty() {
            out.push(("factors", "Factors to weigh"));
        }
        if !p.contacts.is_empty() || !p.actors.is_empty() {
            out.push(("contacts", "Contacts and who is who"));
        }
        out.push(("open", "What the document leaves open"));
        if !self.pack.protocol.notes.is_empty()
            || self.pack.settings.iter().any(|s| !s.notes.is_empty())
        {
            out.push(("notes", "Notes on the protocol"));
        }
        if !pictures.is_empty() {
            out.push(("pictures", "Pictures"));
        }
        out.push(("sources", "Source documents"));
        out.into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    }

    fn cites(&mut self, cites: &[Citation]) {
        if cites.is_empty() {
            return;
        }
        self.push("<p class=\"cites\"><span class=\"label\">Source:</span> ");
        for (i, c) in cites.iter().enumerate() {
            if i > 0 {
                self.push("; ");
            }
            let doc = self.document_title(&c.document);
            self.push("<cite title=\"");
            self.text(doc);
            self.push("\">");
            self.text(&c.section);
            // The protocol's own document goes without saying; a section
            // of another (the common vocabulary, a checklist) says whose.
            if Some(c.document.as_str()) != main_document(self.pack) {
                self.push(" (");
                self.text(doc);
                self.push(")");
            }
            self.push("</cite>");
        }
        self.push("</p>\n");
    }

    fn notes_list(&mut self, notes: &[String]) {
        if notes.is_empty() {
            return;
        }
        self.push("<details class=\"notes\"><summary>Notes (");
        self.push(&notes.len().to_string());
        self.push(")</summary><ul>\n");
        for n in notes {
            self.push("<li>");
            self.text(n);
            self.push("</li>\n");
        }
        self.push("</ul></details>\n");
    }

    fn badge(&mut self, r: Response, by: Option<&str>) {
        let _ = write!(
            self.out,
            "<span class=\"badge r-{}\"><span class=\"dot\" aria-hidden=\"true\"></span>",
            response_class(r)
        );
        self.text(response_words(r));
        if let Some(by) = by {
            let by = self.actor_title(by);
            self.push(", by ");
            self.text(by);
        }
        self.push("</span>");
    }

    /// Police responses: one per setting list, the general one first.
    fn police(&mut self, list: &[Police]) {
        if list.is_empty() {
            return;
        }
        self.push("<ul class=\"police\">\n");
        for p in list {
            self.push("<li><span class=\"label\">Police:</span> ");
            if !p.settings.is_empty() {
                let names: Vec<&str> = p.settings.iter().map(|s| self.setting_title(s)).collect();
                self.push("<span class=\"for\">");
                self.text(&names.join(", "));
                self.push(":</span> ");
            } else if list.len() > 1 {
                self.push("<span class=\"for\">Other settings:</span> ");
            }
            self.badge(p.response, p.by.as_deref());
            self.push("</li>\n");
        }
        self.push("</ul>\n");
    }

    fn header_facts(&mut self) {
        let pr = &self.pack.protocol;
        self.push("<dl class=\"facts\">\n");
        let row = |page: &mut Self, name: &str, values: &[&pack::CitedText]| {
            if values.is_empty() {
                return;
            }
            page.push("<div><dt>");
            page.text(name);
            page.push("</dt><dd>");
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    page.push("<br/>");
                }
                page.text(&v.value);
                if !v.cites.is_empty() {
                    let sections: Vec<&str> = v.cites.iter().map(|c| c.section.as_str()).collect();
                    page.push(" <span class=\"cite-inline\">(");
                    page.text(&sections.join("; "));
                    page.push(")</span>");
                }
            }
            page.push("</dd></div>\n");
        };
        let auth: Vec<&pack::CitedText> = pr.authorities.iter().collect();
        row(self, "Authorities", &auth);
        let partners: Vec<&pack::CitedText> = pr.partners.iter().collect();
        row(self, "Partners", &partners);
        for (name, v) in [
            ("Version", &pr.version),
            ("In effect from", &pr.effective),
            ("Review due", &pr.review),
            ("Source", &pr.source),
        ] {
            if let Some(v) = v {
                row(self, name, &[v]);
            }
        }
        if let Some(main) = main_document(self.pack) {
            let doc = self.document_title(main);
            self.push("<div><dt>Citations</dt><dd>Section numbers are those of <cite>");
            self.text(doc);
            self.push("</cite>; a section of another document names it.</dd></div>\n");
        }
        if !self.pack.settings.is_empty() {
            let names: Vec<String> = self.pack.settings.iter().map(|s| s.title.clone()).collect();
            self.push("<div><dt>Settings</dt><dd>");
            self.text(&names.join("; "));
            self.push("</dd></div>\n");
        }
        self.push("</dl>\n");
    }

    fn try_panel(&mut self) {
        self.push("<section id=\"try\" class=\"try\" aria-labelledby=\"try-title\">\n<h2 id=\"try-title\">Try an incident</h2>\n");
        self.push("<p class=\"lead\">Answer the questions that matter for an incident, one at a time, and see its level, the police response, the procedures and the route, with the paragraphs behind them. It follows the rule pack exactly as <code>carepath decide</code> does; nothing you enter leaves this page.</p>\n");
        self.push("<div id=\"try-panel\" class=\"panel\" aria-live=\"polite\"><noscript><p>The panel needs JavaScript; everything else on this page works without it.</p></noscript></div>\n");
        self.push("</section>\n");
    }

    fn open_section(&mut self, id: &str, title: &str, lead: &str) {
        let _ = write!(
            self.out,
            "<section id=\"{id}\" class=\"sect\" aria-labelledby=\"{id}-title\">\n<h2 id=\"{id}-title\">"
        );
        self.text(title);
        self.push("</h2>\n");
        if !lead.is_empty() {
            self.push("<p class=\"lead\">");
            self.text(lead);
            self.push("</p>\n");
        }
    }

    fn levels(&mut self) {
        let pack = self.pack;
        let policy = match pack.policy.kind {
            pack::PolicyKind::MostSerious => {
                "When rules of several levels apply, the most serious level is taken."
            }
            pack::PolicyKind::FirstMatch => {
                "When several rules apply, the first of them in the document's order decides."
            }
            pack::PolicyKind::NoOverlap => {
                "The document's rules are not meant to apply together; an incident matched by rules of two levels has no level."
            }
        };
        let otherwise = match &pack.policy.otherwise {
            Some(l) => {
                let t = pack
                    .levels
                    .iter()
                    .find(|x| &x.id == l)
                    .map_or(l.as_str(), |x| x.title.as_str());
                format!(" An incident that no rule places is at {t}.")
            }
            None => " An incident that no rule places has no level.".to_owned(),
        };
        self.open_section(
            "levels",
            "Levels and their criteria",
            &format!("From least to most serious. {policy}{otherwise}"),
        );
        self.cites(&pack.policy.cites);
        self.push("<ol class=\"levels\">\n");
        for l in &pack.levels {
            let class = l
                .police
                .iter()
                .find(|p| p.settings.is_empty())
                .or(l.police.first())
                .map_or("unstated", |p| response_class(p.response));
            let _ = writeln!(
                self.out,
                "<li class=\"level item r-{class}\" id=\"{}\">",
                anchor("level", &l.id)
            );
            self.push("<h3><span class=\"rank\">");
            self.push(&(l.rank + 1).to_string());
            self.push("</span> ");
            self.text(&l.title);
            self.push("</h3>\n");
            self.police(&l.police);
            if let Some(m) = &l.meaning {
                self.push("<p class=\"meaning\">");
                self.text(m);
                self.push("</p>\n");
            }
            self.cites(&l.cites);
            let rules: Vec<&pack::Rule> = pack.rules.iter().filter(|r| r.level == l.id).collect();
            if !rules.is_empty() {
                self.push("<h4>Criteria: an incident is here if</h4>\n<ul class=\"rules\">\n");
                for r in rules {
                    self.rule(r);
                }
                self.push("</ul>\n");
            }
            if !l.examples.is_empty() {
                self.push("<h4>Examples</h4>\n<ul class=\"examples\">\n");
                for e in &l.examples {
                    self.push("<li class=\"item\">");
                    self.text(&e.title);
                    if let Some(g) = &e.given_text {
                        self.push(" <code class=\"cond\">");
                        self.text(g);
                        self.push("</code>");
                    }
                    self.cites(&e.cites);
                    self.notes_list(&e.notes);
                    self.push("</li>\n");
                }
                self.push("</ul>\n");
            }
            self.notes_list(&l.notes);
            self.push("</li>\n");
        }
        self.push("</ol>\n</section>\n");
    }

    fn rule(&mut self, r: &pack::Rule) {
        let _ = write!(
            self.out,
            "<li class=\"rule item\" id=\"{}\">",
            anchor("rule", &r.id)
        );
        if let Some(t) = &r.title {
            self.push("<strong>");
            self.text(t);
            self.push("</strong> ");
        }
        self.push("<code class=\"cond\">");
        self.text(&r.when_text);
        self.push("</code> <span class=\"strength s-");
        self.push(match r.strength {
            Strength::Must => "must",
            Strength::Should => "should",
            Strength::May => "may",
        });
        self.push("\">");
        self.text(strength_words(r.strength, r.effect));
        self.push("</span> <span class=\"id\">");
        self.text(&r.id);
        self.push("</span>\n");
        self.police(&r.police);
        self.cites(&r.cites);
        self.notes_list(&r.notes);
        self.push("</li>\n");
    }

    fn procedures(&mut self) {
        self.open_section(
            "procedures",
            "Procedures alongside the level",
            "Each runs, with its own route, whenever its condition holds, whatever the level.",
        );
        self.push("<ul class=\"cards\">\n");
        for p in &self.pack.procedures {
            let _ = write!(
                self.out,
                "<li class=\"card item\" id=\"{}\"><h3>",
                anchor("procedure", &p.id)
            );
            self.text(&p.title);
            self.push("</h3>\n<p><span class=\"label\">When:</span> <code class=\"cond\">");
            self.text(&p.when_text);
            self.push("</code></p>\n");
            self.police(&p.police);
            self.cites(&p.cites);
            self.notes_list(&p.notes);
            self.push("</li>\n");
        }
        self.push("</ul>\n</section>\n");
    }

    fn routes(&mut self) {
        let pack = self.pack;
        self.open_section(
            "routes",
            "Routes: what happens next",
            "Each setting's route, step by step. Where a level, a rule or a procedure starts a route is marked; a decision lists where each answer leads.",
        );
        for s in &pack.settings {
            if let Some(why) = &s.no_route {
                self.push("<p class=\"item no-route\"><strong>");
                self.text(&s.title);
                self.push(":</strong> no route. ");
                self.text(why);
                self.push("</p>\n");
            }
        }
        for (ri, r) in pack.routes.iter().enumerate() {
            let _ = writeln!(
                self.out,
                "<article class=\"route\" id=\"{}\" aria-labelledby=\"{}-title\">",
                anchor("route", &r.id),
                anchor("route", &r.id)
            );
            let _ = write!(self.out, "<h3 id=\"{}-title\">", anchor("route", &r.id));
            self.text(&r.title);
            self.push("</h3>\n");
            if !r.settings.is_empty() {
                let names: Vec<&str> = r.settings.iter().map(|s| self.setting_title(s)).collect();
                self.push("<p><span class=\"label\">For:</span> ");
                self.text(&names.join("; "));
                self.push("</p>\n");
            }
            self.cites(&r.cites);
            self.notes_list(&r.notes);
            self.push("<ol class=\"flow\">\n");
            for n in &r.nodes {
                self.route_node(ri, n);
            }
            self.push("</ol>\n</article>\n");
        }
        self.push("</section>\n");
    }

    fn node_anchor(&self, ri: usize, node: &str) -> String {
        anchor(&format!("r{ri}"), node)
    }

    fn route_node(&mut self, ri: usize, n: &pack::RouteNode) {
        let pack = self.pack;
        let r = &pack.routes[ri];
        let kind = match n.kind {
            NodeKind::Step => "step",
            NodeKind::Decision => "decision",
            NodeKind::Outcome => "outcome",
        };
        let _ = write!(
            self.out,
            "<li class=\"node item n-{kind}\" id=\"{}\">",
            self.node_anchor(ri, &n.id)
        );
        let starts: Vec<String> = r
            .starts
            .iter()
            .filter(|s| s.node == n.id)
            .map(|s| {
                if let Some(l) = &s.level {
                    let t = pack
                        .levels
                        .iter()
                        .find(|x| &x.id == l)
                        .map_or(l.as_str(), |x| x.title.as_str());
                    format!("Start for {t}")
                } else if let Some(p) = &s.procedure {
                    let t = pack
                        .procedures
                        .iter()
                        .find(|x| &x.id == p)
                        .map_or(p.as_str(), |x| x.title.as_str());
                    format!("Start for the procedure {t}")
                } else if let Some(rule) = &s.rule {
                    format!("Start for incidents decided by rule {rule}")
                } else {
                    "Start".to_owned()
                }
            })
            .collect();
        for s in starts {
            self.push("<span class=\"start\">");
            self.text(&s);
            self.push("</span> ");
        }
        self.push("<p class=\"node-text\"><span class=\"kind\">");
        self.push(match n.kind {
            NodeKind::Step => "Step",
            NodeKind::Decision => "Decision",
            NodeKind::Outcome => "Outcome",
        });
        self.push(":</span> ");
        self.text(&n.text);
        self.push("</p>\n");
        if let Some(t) = &n.only_when_text {
            self.push(
                "<p class=\"only\"><span class=\"label\">Only when:</span> <code class=\"cond\">",
            );
            self.text(t);
            self.push("</code></p>\n");
        }
        if !n.by.is_empty() {
            self.push("<p class=\"by\"><span class=\"label\">Who:</span> ");
            let parts: Vec<String> =
                n.by.iter()
                    .map(|b| {
                        let t = self.actor_title(&b.actor).to_owned();
                        if b.settings.is_empty() {
                            t
                        } else {
                            let s: Vec<&str> =
                                b.settings.iter().map(|s| self.setting_title(s)).collect();
                            format!("{t} ({})", s.join(", "))
                        }
                    })
                    .collect();
            self.text(&parts.join("; "));
            self.push("</p>\n");
        }
        if !n.actions.is_empty() {
            self.push("<ul class=\"actions\">\n");
            for a in &n.actions {
                self.push("<li>");
                self.push(match a.kind {
                    pack::ActionKind::Contact => "Contact ",
                    pack::ActionKind::Consult => "Consult ",
                    pack::ActionKind::Inform => "Inform ",
                    pack::ActionKind::Report => "Report to ",
                });
                for (i, chain) in a.targets.iter().enumerate() {
                    if i > 0 {
                        self.push(" and ");
                    }
                    for (j, t) in chain.iter().enumerate() {
                        if j > 0 {
                            self.push(", else ");
                        }
                        self.target(t);
                    }
                }
                if let Some(w) = &a.when_text {
                    self.push(" <span class=\"only\">only when <code class=\"cond\">");
                    self.text(w);
                    self.push("</code></span>");
                }
                if a.in_doubt {
                    self.push(" <span class=\"only\">in cases of doubt</span>");
                }
                self.push("</li>\n");
            }
            self.push("</ul>\n");
        }
        if !n.timing.is_empty() {
            self.push("<p class=\"timing\"><span class=\"label\">When:</span> ");
            for (i, t) in n.timing.iter().enumerate() {
                if i > 0 {
                    self.push("; ");
                }
                self.text(&t.text);
                if let Some(w) = &t.when_text {
                    self.push(" (if <code class=\"cond\">");
                    self.text(w);
                    self.push("</code>)");
                }
                if let Some(q) = &t.qualifier {
                    self.push(", ");
                    self.text(q);
                }
            }
            self.push("</p>\n");
        }
        for (label, ids, kind) in [
            ("Complete:", &n.complete, "checklist"),
            ("Weigh:", &n.weigh, "factors"),
        ] {
            if ids.is_empty() {
                continue;
            }
            self.push("<p><span class=\"label\">");
            self.push(label);
            self.push("</span> ");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    self.push("; ");
                }
                let title = if kind == "checklist" {
                    pack.checklists
                        .iter()
                        .find(|c| &c.id == id)
                        .map_or(id.as_str(), |c| c.title.as_str())
                } else {
                    pack.factors
                        .iter()
                        .find(|c| &c.id == id)
                        .map_or(id.as_str(), |c| c.title.as_str())
                };
                let _ = write!(self.out, "<a href=\"#{}\">", anchor(kind, id));
                self.text(title);
                self.push("</a>");
            }
            self.push("</p>\n");
        }
        if let Some(on) = &n.on {
            if let Some(q) = &on.question {
                let t = pack
                    .questions
                    .iter()
                    .find(|x| &x.id == q)
                    .map_or(q.as_str(), |x| x.text.as_str());
                self.push(
                    "<p class=\"on\"><span class=\"label\">Settled by the answer to:</span> ",
                );
                self.text(t);
                self.push("</p>\n");
            } else if let Some(w) = &on.when_text {
                self.push(
                    "<p class=\"on\"><span class=\"label\">Yes when:</span> <code class=\"cond\">",
                );
                self.text(w);
                self.push("</code></p>\n");
            }
        }
        for a in &n.always {
            let t = n
                .answers
                .iter()
                .find(|x| x.id == a.answer)
                .map_or(a.answer.as_str(), |x| x.title.as_str());
            self.push(
                "<p class=\"on\"><span class=\"label\">The document fixes the answer</span> ",
            );
            self.text(t);
            self.push(" when <code class=\"cond\">");
            self.text(&a.when_text);
            self.push("</code></p>\n");
        }
        match n.kind {
            NodeKind::Step => {
                if let Some(next) = &n.next {
                    let text = r
                        .nodes
                        .iter()
                        .find(|x| &x.id == next)
                        .map_or(next.as_str(), |x| x.text.as_str());
                    let _ = write!(
                        self.out,
                        "<p class=\"next\"><span aria-hidden=\"true\">&#8595;</span> Then: <a href=\"#{}\">",
                        self.node_anchor(ri, next)
                    );
                    self.text(text);
                    self.push("</a></p>\n");
                }
            }
            NodeKind::Decision => {
                self.push("<ul class=\"branches\">\n");
                for b in &n.branches {
                    let title = n
                        .answers
                        .iter()
                        .find(|x| x.id == b.answer)
                        .map_or(b.answer.as_str(), |x| x.title.as_str());
                    let text = r
                        .nodes
                        .iter()
                        .find(|x| x.id == b.to)
                        .map_or(b.to.as_str(), |x| x.text.as_str());
                    self.push("<li><span class=\"answer\">");
                    self.text(title);
                    let _ = write!(
                        self.out,
                        "</span> <span aria-hidden=\"true\">&#8594;</span> <a href=\"#{}\">",
                        self.node_anchor(ri, &b.to)
                    );
                    self.text(text);
                    self.push("</a></li>\n");
                }
                self.push("</ul>\n");
            }
            NodeKind::Outcome => {
                self.push("<p class=\"end\">End of the route.</p>\n");
            }
        }
        if let Some(f) = &n.fragment {
            self.push("<p class=\"fragment\">Shared steps: ");
            self.text(f);
            self.push("</p>\n");
        }
        self.cites(&n.cites);
        self.notes_list(&n.notes);
        self.push("</li>\n");
    }

    /// A contact or actor named by a step: a contact with a phone number is
    /// a `tel:` link.
    fn target(&mut self, id: &str) {
        let pack = self.pack;
        if let Some(c) = pack.contacts.iter().find(|c| c.id == id) {
            self.text(&c.title);
            if let Some(phone) = &c.phone {
                self.push(" ");
                self.phone(phone);
            }
        } else {
            self.text(actor_title(pack, id));
        }
    }

    fn phone(&mut self, phone: &str) {
        match tel_uri(phone) {
            Some(uri) => {
                self.push("<a class=\"tel\" href=\"");
                self.text(&uri);
                self.push("\">");
                self.text(phone);
                self.push("</a>");
            }
            None => {
                self.push("<span class=\"tel\">");
                self.text(phone);
                self.push("</span>");
            }
        }
    }

    fn questions(&mut self) {
        self.open_section(
            "questions",
            "The questions asked",
            "The facts of an incident that the rules test, in the order staff are asked them.",
        );
        self.push("<ol class=\"questions\">\n");
        for q in &self.pack.questions {
            let _ = write!(
                self.out,
                "<li class=\"item\" id=\"{}\"><p><strong>",
                anchor("question", &q.id)
            );
            self.text(&q.text);
            self.push("</strong> <span class=\"id\">");
            self.text(&q.id);
            self.push("</span> <span class=\"kindq\">(");
            self.push(kind_words(q.kind));
            if let Some(m) = q.minimum {
                self.push(&format!(", at least {m}"));
            }
            self.push(")</span></p>\n");
            if !q.options.is_empty() {
                self.push("<ul class=\"options\">\n");
                for o in &q.options {
                    self.push("<li>");
                    self.text(&o.title);
                    self.push(" <span class=\"id\">");
                    self.text(&o.id);
                    self.push("</span>");
                    self.cites(&o.cites);
                    self.notes_list(&o.notes);
                    self.push("</li>\n");
                }
                self.push("</ul>\n");
            }
            if let Some(a) = &q.asked_when_text {
                self.push("<p><span class=\"label\">Asked only when:</span> <code class=\"cond\">");
                self.text(a);
                self.push("</code></p>\n");
            }
            self.cites(&q.cites);
            self.notes_list(&q.notes);
            self.push("</li>\n");
        }
        self.push("</ol>\n</section>\n");
    }

    fn checklists(&mut self) {
        self.open_section("checklists", "Checklists", "");
        for c in &self.pack.checklists {
            let _ = write!(
                self.out,
                "<article class=\"card item\" id=\"{}\"><h3>",
                anchor("checklist", &c.id)
            );
            self.text(&c.title);
            self.push("</h3>\n");
            if let Some(f) = &c.follows {
                let t = self
                    .pack
                    .checklists
                    .iter()
                    .find(|x| &x.id == f)
                    .map_or(f.as_str(), |x| x.title.as_str());
                self.push("<p>Follows ");
                self.text(t);
                self.push("</p>\n");
            }
            self.push("<ol class=\"check\">\n");
            for i in &c.items {
                self.push("<li>");
                self.text(&i.text);
                if let Some(d) = &i.detail {
                    self.push("<br/><span class=\"detail\">");
                    self.text(d);
                    self.push("</span>");
                }
                if !i.by.is_empty() {
                    let who: Vec<&str> = i.by.iter().map(|a| self.actor_title(a)).collect();
                    self.push(" <span class=\"by\">(");
                    self.text(&who.join(", "));
                    self.push(")</span>");
                }
                self.cites(&i.cites);
                self.notes_list(&i.notes);
                self.push("</li>\n");
            }
            self.push("</ol>\n");
            self.cites(&c.cites);
            self.notes_list(&c.notes);
            self.push("</article>\n");
        }
        self.push("</section>\n");
    }

    fn factors(&mut self) {
        self.open_section("factors", "Factors to weigh", "");
        for f in &self.pack.factors {
            let _ = write!(
                self.out,
                "<article class=\"card item\" id=\"{}\"><h3>",
                anchor("factors", &f.id)
            );
            self.text(&f.title);
            self.push("</h3>\n");
            if let Some(w) = &f.applies_when_text {
                self.push(
                    "<p><span class=\"label\">For incidents where:</span> <code class=\"cond\">",
                );
                self.text(w);
                self.push("</code></p>\n");
            }
            if !f.items.is_empty() {
                self.push("<ul>\n");
                for i in &f.items {
                    self.push("<li>");
                    self.text(i);
                    self.push("</li>\n");
                }
                self.push("</ul>\n");
            }
            if !f.includes.is_empty() {
                self.push("<p>Also: ");
                for (i, id) in f.includes.iter().enumerate() {
                    if i > 0 {
                        self.push("; ");
                    }
                    let t = self
                        .pack
                        .factors
                        .iter()
                        .find(|x| &x.id == id)
                        .map_or(id.as_str(), |x| x.title.as_str());
                    let _ = write!(self.out, "<a href=\"#{}\">", anchor("factors", id));
                    self.text(t);
                    self.push("</a>");
                }
                self.push("</p>\n");
            }
            self.cites(&f.cites);
            self.notes_list(&f.notes);
            self.push("</article>\n");
        }
        self.push("</section>\n");
    }

    fn contacts(&mut self) {
        self.open_section("contacts", "Contacts and who is who", "");
        if !self.pack.contacts.is_empty() {
            self.push("<ul class=\"cards contacts\">\n");
            for c in &self.pack.contacts {
                let _ = write!(
                    self.out,
                    "<li class=\"card item\" id=\"{}\"><h3>",
                    anchor("contact", &c.id)
                );
                self.text(&c.title);
                self.push("</h3>\n");
                if let Some(p) = &c.phone {
                    self.push("<p><span class=\"label\">Phone:</span> ");
                    self.phone(p);
                    self.push("</p>\n");
                }
                if let Some(w) = &c.web {
                    self.push("<p><span class=\"label\">Web:</span> ");
                    let lower = w.to_ascii_lowercase();
                    if lower.starts_with("https://") || lower.starts_with("http://") {
                        self.push("<a rel=\"noopener noreferrer\" href=\"");
                        self.text(w);
                        self.push("\">");
                        self.text(w);
                        self.push("</a>");
                    } else {
                        self.text(w);
                    }
                    self.push("</p>\n");
                }
                if let Some(e) = &c.email {
                    self.push("<p><span class=\"label\">Email:</span> ");
                    if e.contains('@') && !e.contains(char::is_whitespace) {
                        self.push("<a href=\"mailto:");
                        self.text(e);
                        self.push("\">");
                        self.text(e);
                        self.push("</a>");
                    } else {
                        self.text(e);
                    }
                    self.push("</p>\n");
                }
                self.cites(&c.cites);
                self.notes_list(&c.notes);
                self.push("</li>\n");
            }
            self.push("</ul>\n");
        }
        if !self.pack.actors.is_empty() {
            self.push("<h3>Who is who</h3>\n<ul class=\"actors\">\n");
            for a in &self.pack.actors {
                let _ = write!(
                    self.out,
                    "<li class=\"item\" id=\"{}\">",
                    anchor("actor", &a.id)
                );
                self.push("<strong>");
                self.text(&a.title);
                self.push("</strong>");
                self.cites(&a.cites);
                self.notes_list(&a.notes);
                self.push("</li>\n");
            }
            self.push("</ul>\n");
        }
        self.push("</section>\n");
    }

    fn accepted(&mut self) {
        self.open_section(
            "open",
            "What the document leaves open",
            "Findings of Carepath's analysis that the protocol accepts on purpose, with its reasons.",
        );
        if self.pack.accepted_findings.is_empty() {
            self.push(
                "<p class=\"item\">The analysis found nothing the protocol had to accept.</p>\n",
            );
        } else {
            self.push("<ul class=\"cards\">\n");
            for f in &self.pack.accepted_findings {
                self.push("<li class=\"card item\"><p><strong>");
                self.text(&f.reason);
                self.push("</strong></p>\n<p class=\"finding\"><span class=\"id\">");
                self.text(&f.code);
                self.push("</span> ");
                self.text(&f.message);
                self.push("</p>\n");
                if let Some(w) = &f.applies_when_text {
                    self.push("<p><span class=\"label\">For incidents where:</span> <code class=\"cond\">");
                    self.text(w);
                    self.push("</code></p>\n");
                }
                self.cites(&f.cites);
                self.push("</li>\n");
            }
            self.push("</ul>\n");
        }
        self.push("</section>\n");
    }

    fn notes(&mut self) {
        self.open_section("notes", "Notes on the protocol", "");
        self.push("<ul class=\"prose item\">\n");
        for n in &self.pack.protocol.notes {
            self.push("<li>");
            self.text(n);
            self.push("</li>\n");
        }
        self.push("</ul>\n");
        for s in &self.pack.settings {
            if s.notes.is_empty() && s.cites.is_empty() {
                continue;
            }
            self.push("<div class=\"item\"><h3>");
            self.text(&s.title);
            self.push("</h3>\n");
            self.cites(&s.cites);
            if !s.notes.is_empty() {
                self.push("<ul class=\"prose\">\n");
                for n in &s.notes {
                    self.push("<li>");
                    self.text(n);
                    self.push("</li>\n");
                }
                self.push("</ul>\n");
            }
            self.push("</div>\n");
        }
        self.push("</section>\n");
    }

    fn pictures(&mut self, pictures: &[Picture<'_>]) {
        self.open_section(
            "pictures",
            "Pictures",
            "The diagrams drawn from the same rule pack. Scroll sideways inside a picture if it is wider than the screen.",
        );
        for (i, p) in pictures.iter().enumerate() {
            let _ = write!(
                self.out,
                "<figure class=\"picture item\" id=\"picture-{i}\"><figcaption>"
            );
            self.text(p.title);
            let _ = write!(
                self.out,
                "</figcaption><div class=\"svg-wrap\" tabindex=\"0\" role=\"img\" aria-label=\"{}\">",
                escape(p.title)
            );
            self.push(inline_svg(p.svg));
            self.push("</div></figure>\n");
        }
        self.push("</section>\n");
    }

    fn sources(&mut self) {
        self.open_section("sources", "Source documents", "");
        self.push("<ul>\n");
        for d in &self.pack.documents {
            self.push("<li class=\"item\"><strong>");
            self.text(&d.title);
            self.push("</strong> <span class=\"id\">");
            self.text(&d.id);
            self.push("</span>");
            if let Some(s) = &d.source {
                self.push("<br/>");
                self.text(s);
            }
            self.push("</li>\n");
        }
        self.push("</ul>\n<p>Compiled from ");
        for (i, f) in self.pack.source.files.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push("<code>");
            self.text(&f.path);
            self.push("</code>");
        }
        self.push(" (source SHA-256 <code class=\"digest\">");
        self.text(&self.pack.source.sha256.clone());
        self.push("</code>).</p>\n</section>\n");
    }
}
