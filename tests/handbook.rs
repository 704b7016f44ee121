//! The handbook pages (`out/<id>.html`): the same bytes on every build,
//! well-formed, every text from the pack escaped; and, in a real browser
//! (Chromium, driven over the DevTools protocol), pages that load with no
//! error and no request, show every level, rule, citation and contact, hold
//! their layout on a phone and a desktop, run no hostile text, meet the
//! basic accessibility checks (headings in order, labelled controls,
//! captioned pictures, WCAG AA contrast, the panel usable by keyboard), and
//! whose "try an incident" panel reaches what `Engine::decide` reaches on
//! the same answers.
//!
//! The browser tests need Chromium (`apt-get install chromium
//! chromium-driver`). Without it they say they were skipped, unless
//! `CAREPATH_BROWSER_TESTS=required` (as CI sets), when they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carepath::emit::handbook::{self, Picture};
use carepath::emit::pack::RulePack;
use carepath::eval::Engine;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Network, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::{Map, Value, json};

use crate::support::{PROTOCOLS, compile_in_memory, scratch, text};

fn committed(id: &str) -> (String, RulePack) {
    let json = fs::read_to_string(format!("out/{id}.json")).expect("a committed rule pack");
    let pack: RulePack = serde_json::from_str(&json).expect("a rule pack");
    (json, pack)
}

fn committed_page(id: &str) -> String {
    fs::read_to_string(format!("out/{id}.html")).expect("a committed handbook page")
}

// ---------------------------------------------------------------- no browser

#[test]
fn building_writes_the_committed_pages_byte_for_byte() {
    let mut runs = Vec::new();
    for name in ["handbook-build-1", "handbook-build-2"] {
        let out = scratch(name);
        let run = crate::support::run_carepath(
            &["build", "protocols/", "--out", out.to_str().expect("utf-8")],
            "",
            std::process::Stdio::piped(),
            std::process::Stdio::piped(),
        );
        assert!(run.status.success(), "{}", text(&run.stderr));
        runs.push(out);
    }
    for id in PROTOCOLS {
        let first = fs::read(runs[0].join(format!("{id}.html"))).expect("a page");
        let second = fs::read(runs[1].join(format!("{id}.html"))).expect("a page");
        assert!(first == second, "{id}.html differs between two builds");
        assert!(
            first == committed_page(id).into_bytes(),
            "out/{id}.html is stale: run `carepath build protocols/`"
        );
    }
}

/// The elements HTML closes by itself.
const VOID: &[&str] = &["meta", "link", "br", "input", "img", "hr"];

/// Checks that every element of `html` is closed, in order, outside raw
/// text (`script`, `style`); that attribute values are quoted and contain
/// no `<`; and returns the element names opened, for further checks.
fn well_formed(html: &str) -> Result<Vec<String>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut opened = Vec::new();
    let mut rest = html;
    let mut seen_doctype = false;
    while let Some(i) = rest.find('<') {
        let text = &rest[..i];
        if text.contains('>') && !stack.is_empty() {
            return Err(format!(
                "a bare `>` in text: {:?}",
                &text[..text.len().min(80)]
            ));
        }
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("an unclosed comment")?;
            rest = &after[end + 3..];
            continue;
        }
        if rest.starts_with("<!DOCTYPE") || rest.starts_with("<?xml") {
            if rest.starts_with("<!DOCTYPE html>") && stack.is_empty() && !seen_doctype {
                seen_doctype = true;
                rest = &rest["<!DOCTYPE html>".len()..];
                continue;
            }
            return Err(format!(
                "a doctype or prolog inside the page: {}",
                &rest[..40.min(rest.len())]
            ));
        }
        if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("an unclosed end tag")?;
            let name = after[..end].trim().to_ascii_lowercase();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("`</{name}>` closes {other:?}")),
            }
            rest = &after[end + 1..];
            continue;
        }
        // A start tag: its name, then attributes until `>` or `/>`.
        let body = &rest[1..];
        let name_end = body
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or("an unclosed start tag")?;
        let name = body[..name_end].to_ascii_lowercase();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
        {
            return Err(format!(
                "a bad tag name in {:?}",
                &rest[..rest.len().min(40)]
            ));
        }
        let mut j = name_end;
        let bytes = body.as_bytes();
        let self_closed;
        loop {
            let c = *bytes.get(j).ok_or("an unclosed start tag")?;
            match c {
                b'"' | b'\'' => {
                    let close = body[j + 1..]
                        .find(c as char)
                        .ok_or("an unclosed attribute value")?;
                    if body[j + 1..j + 1 + close].contains('<') {
                        return Err(format!("`<` in an attribute value of <{name}>"));
                    }
                    j += close + 2;
                }
                b'>' => {
                    self_closed = j > 0 && bytes[j - 1] == b'/';
                    break;
                }
                b'<' => return Err(format!("`<` inside the tag <{name}>")),
                _ => j += 1,
            }
        }
        rest = &body[j + 1..];
        opened.push(name.clone());
        if self_closed || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            let end = rest.find(&close).ok_or(format!("an unclosed <{name}>"))?;
            rest = &rest[end..];
        }
        stack.push(name);
    }
    if !stack.is_empty() {
        return Err(format!("left open: {stack:?}"));
    }
    if !seen_doctype {
        return Err("no doctype".into());
    }
    Ok(opened)
}

#[test]
fn the_committed_pages_are_well_formed_and_self_contained() {
    for id in PROTOCOLS {
        let page = committed_page(id);
        let opened = well_formed(&page).unwrap_or_else(|e| panic!("out/{id}.html: {e}"));
        assert!(
            opened.iter().any(|t| t == "svg"),
            "{id}: the picture is inlined"
        );
        for banned in ["iframe", "img", "object", "embed", "link"] {
            let count = opened.iter().filter(|t| *t == banned).count();
            // The one link is the empty icon that keeps the browser from
            // asking for /favicon.ico.
            let allowed = usize::from(banned == "link");
            assert_eq!(count, allowed, "{id}: <{banned}> elements");
        }
        assert_eq!(
            page.matches("<script").count(),
            3,
            "{id}: two data blocks and the script"
        );
        for external in ["src=\"http", "href=\"//", "url(http", "@import"] {
            assert!(!page.contains(external), "{id}: {external}");
        }
        // The headings go down one level at a time.
        let mut last = 0;
        for level in heading_levels(&page) {
            assert!(level <= last + 1, "{id}: h{level} after h{last}");
            last = level;
        }
    }
}

fn heading_levels(html: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut rest = html;
    // Only the page's own markup: stop at the data for the script.
    if let Some(end) = rest.find("<script") {
        rest = &rest[..end];
    }
    while let Some(i) = rest.find("<h") {
        let c = rest.as_bytes().get(i + 2).copied().unwrap_or(b'x');
        if (b'1'..=b'6').contains(&c) {
            out.push(usize::from(c - b'0'));
        }
        rest = &rest[i + 2..];
    }
    out
}

#[test]
fn the_embedded_pack_is_the_pack_and_cannot_end_its_element() {
    for id in PROTOCOLS {
        let (json, pack) = committed(id);
        let page = committed_page(id);
        let data = script_block(&page, "pack");
        assert!(!data.contains('<') && !data.contains('>') && !data.contains('&'));
        let embedded: Value = serde_json::from_str(data).expect("JSON");
        let original: Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(
            embedded, original,
            "{id}: the page carries the pack unchanged"
        );
        assert_eq!(handbook::page(&pack, &[]), handbook::page(&pack, &[]));
    }
}

fn script_block<'a>(page: &'a str, id: &str) -> &'a str {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = page.find(&open).expect("the data block") + open.len();
    let end = page[start..].find("</script>").expect("its end") + start;
    &page[start..end]
}

/// Hostile text: markup, a script that would set a global, the end of a
/// script element, quotes, right-to-left text and marks, emoji.
const HOSTILE: &str = "Q\\\"uote ' <b>bold</b> <script>window.hostileRan=1</script> </script><script>window.hostileRan=2</script> <img src=x onerror=\\\"window.hostileRan=3\\\"> &amp; & \u{202e}שלום\u{202c} مرحبا 🚓 👩🏽‍⚖️ \u{2028}line";

/// The hostile text as the language reads it (escapes decoded).
fn hostile_plain() -> String {
    HOSTILE.replace("\\\"", "\"")
}

/// A protocol with hostile text in every place a person writes text.
fn hostile_protocol() -> String {
    format!(
        r#"protocol hostile {{
  title "{h}" cite "{h}"
  authority "{h}" cite "{h}"
  partner "{h}"
  version "{h}"
  source "{h}"
  policy most-serious otherwise low
  note "{h}"
}}
setting home "{h}" {{ note "{h}" }}
setting foster "{h} foster" {{ no route "{h}" }}
actor carer "{h}" {{ cite "{h}" note "{h}" }}
contact line "{h}" {{ phone "0300 123 4567 {h}" email "{h}" web "{h}" note "{h}" }}
question risk "{h}?" {{ answer yes or no note "{h}" }}
question drug "{h}" {{ answer one of {{ a "{h}", b "B" }} }}
level low "{h}" {{ police none meaning "{h}" example "{h}" {{ given not risk and drug == b }} note "{h}" }}
level high "{h} high" {{ police emergency meaning "{h}" }}
rule r "{h}" {{ when risk or drug == a then high cite "{h}" note "{h}" }}
procedure p "{h}" {{ when drug == a cite "{h}" note "{h}" }}
factors f "{h}" {{ cite "{h}" - "{h}" }}
checklist c "{h}" {{ item i "{h}" {{ by carer detail "{h}" }} }}
route homes "{h}" {{
  for home
  note "{h}"
  start low -> handle
  start high -> ask
  start p -> handle
  step handle "{h}" {{ by carer contact line timing "{h}" complete c then done note "{h}" cite "{h}" }}
  decision ask "{h}" {{ answers yes or no weigh f yes -> done no -> handle }}
  outcome done "{h}"
}}
"#,
        h = HOSTILE
    )
}

fn hostile_page() -> (RulePack, String) {
    let (_, pack) = compile_in_memory("hostile.carepath", &hostile_protocol(), "hostile");
    let svg = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><text>{}</text></svg>\n",
        handbook::escape(&hostile_plain())
    );
    let title = hostile_plain();
    let page = handbook::page(
        &pack,
        &[Picture {
            title: &title,
            svg: &svg,
        }],
    );
    (pack, page)
}

#[test]
fn hostile_text_is_escaped_in_every_context() {
    let (pack, page) = hostile_page();
    well_formed(&page).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        page.matches("<script").count(),
        3,
        "no script but the page's own"
    );
    assert!(!page.contains("<b>bold"), "no markup from the pack");
    assert!(!page.contains("<img"), "no element from the pack");
    assert!(page.contains("&lt;script&gt;window.hostileRan=1&lt;/script&gt;"));
    assert!(!page.contains("<?xml"), "the picture's prolog is dropped");
    let data = script_block(&page, "pack");
    assert!(!data.contains('\u{2028}'), "line separators are escaped");
    let embedded: RulePack = serde_json::from_str(data).expect("the embedded pack");
    assert_eq!(embedded, pack);
    assert_eq!(embedded.protocol.title.value, hostile_plain());
    // A phone number with text after it still dials the number.
    assert!(page.contains("href=\"tel:03001234567\""), "a tel: link");
}

#[test]
fn inline_svg_drops_what_comes_before_the_element() {
    let svg = "<?xml version=\"1.0\"?>\n<!-- c -->\n<!DOCTYPE svg>\n<svg a=\"1\"></svg>\n";
    assert_eq!(handbook::inline_svg(svg), "<svg a=\"1\"></svg>");
    assert_eq!(handbook::inline_svg("no picture"), "");
}

// ---------------------------------------------------------------- browser

/// Where Chromium is, or why the browser tests cannot run: the reason is
/// printed, and is a failure when CI requires the browser tests.
fn chromium() -> Option<PathBuf> {
    let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
    let found = std::env::var_os("CAREPATH_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(candidates.iter().map(PathBuf::from))
        .find(|p| p.is_file());
    if found.is_none() {
        let why = "Chromium is not installed (`apt-get install chromium chromium-driver`)";
        if std::env::var("CAREPATH_BROWSER_TESTS").as_deref() == Ok("required") {
            panic!("the browser tests are required, but {why}");
        }
        eprintln!("handbook browser tests skipped: {why}");
    }
    found
}

/// A fresh headless Chromium, with its own profile, that fetches nothing
/// on its own.
fn launch(name: &str) -> Option<Browser> {
    let path = chromium()?;
    let profile = scratch(&format!("chromium-{name}"));
    let args: Vec<&OsStr> = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(path))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 900)))
        .user_data_dir(Some(profile))
        .idle_browser_timeout(Duration::from_secs(300))
        .args(args)
        .build()
        .expect("launch options");
    Some(Browser::new(options).expect("Chromium starts"))
}

/// What a tab saw: console errors, exceptions and every request.
#[derive(Default)]
struct Seen {
    errors: Vec<String>,
    requests: Vec<String>,
}

fn watch(tab: &Arc<Tab>) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let sink = Arc::clone(&seen);
    tab.enable_log().expect("Log.enable");
    tab.enable_runtime().expect("Runtime.enable");
    tab.call_method(Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .expect("Network.enable");
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let mut seen = sink.lock().expect("lock");
        match event {
            Event::NetworkRequestWillBeSent(e) => seen.requests.push(e.params.request.url.clone()),
            Event::RuntimeExceptionThrown(e) => seen.errors.push(as_json(&e.params).to_string()),
            Event::RuntimeConsoleAPICalled(e) => {
                let v = as_json(&e.params);
                if v["type"] == "error" || v["type"] == "warning" || v["type"] == "assert" {
                    seen.errors.push(v["args"].to_string());
                }
            }
            Event::LogEntryAdded(e) => {
                let v = as_json(&e.params.entry);
                if v["level"] == "error" || v["level"] == "warning" {
                    seen.errors.push(v.to_string());
                }
            }
            _ => {}
        }
    }))
    .expect("a listener");
    seen
}

/// An event's parameters as JSON, to read them without naming every type.
fn as_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_default()
}

fn file_url(path: &Path) -> String {
    let abs = fs::canonicalize(path).expect("the page exists");
    let mut url = String::from("file://");
    for c in abs.to_str().expect("utf-8").chars() {
        if c.is_ascii_alphanumeric() || "/-_.~".contains(c) {
            url.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                url.push_str(&format!("%{b:02X}"));
            }
        }
    }
    url
}

/// Evaluate a script that returns a string (JSON), and parse it.
fn eval(tab: &Tab, script: &str) -> Value {
    let result = tab.evaluate(script, false).expect("the script runs");
    match result.value {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Some(v) => v,
        None => Value::Null,
    }
}

fn open(tab: &Arc<Tab>, path: &Path) {
    // The machine may be busy: a page of 400 kB can take a while to load.
    tab.set_default_timeout(Duration::from_secs(90));
    tab.navigate_to(&file_url(path))
        .expect("navigates")
        .wait_until_navigated()
        .expect("loads");
}

fn set_width(tab: &Tab, width: u32, height: u32) {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: 1.0,
        mobile: width < 600,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .expect("the viewport is set");
}

fn screenshot(tab: &Tab, name: &str) {
    let dir = std::env::temp_dir().join("handbook-shots");
    fs::create_dir_all(&dir).expect("a folder for screenshots");
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("a screenshot");
    fs::write(dir.join(format!("{name}.png")), png).expect("the screenshot is written");
}

/// Whitespace collapsed, as the page's text is compared with the pack's.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page's own text (not the data for its script).
const MAIN_TEXT: &str = "JSON.stringify(document.querySelector('main').textContent)";

const NO_HORIZONTAL_SCROLL: &str = "JSON.stringify({scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, width: window.innerWidth})";

#[test]
fn every_page_loads_offline_shows_everything_and_fits_a_phone() {
    let Some(browser) = launch("pages") else {
        return;
    };
    let tab = browser.new_tab().expect("a tab");
    let seen = watch(&tab);
    for id in PROTOCOLS {
        let path = PathBuf::from(format!("out/{id}.html"));
        let url = file_url(&path);
        {
            let mut s = seen.lock().expect("lock");
            s.errors.clear();
            s.requests.clear();
        }
        set_width(&tab, 1280, 900);
        open(&tab, &path);
        let shown = squash(eval(&tab, MAIN_TEXT).as_str().expect("text"));
        let (_, pack) = committed(id);
        let mut missing = Vec::new();
        let mut expect = |what: &str, s: &str| {
            if !shown.contains(&squash(s)) {
                missing.push(format!("{what} {s:?}"));
            }
        };
        for l in &pack.levels {
            expect("level", &l.title);
            if let Some(m) = &l.meaning {
                expect("meaning", m);
            }
            for e in &l.examples {
                expect("example", &e.title);
            }
        }
        let mut cites = Vec::new();
        for r in &pack.rules {
            expect("rule", &r.when_text);
            cites.extend(r.cites.iter());
        }
        for p in &pack.procedures {
            expect("procedure", &p.title);
            expect("procedure condition", &p.when_text);
            cites.extend(p.cites.iter());
        }
        for l in &pack.levels {
            cites.extend(l.cites.iter());
        }
        for r in &pack.routes {
            for n in &r.nodes {
                expect("route step", &n.text);
                cites.extend(n.cites.iter());
            }
        }
        for c in &cites {
            expect("citation", &c.section);
        }
        for c in &pack.contacts {
            expect("contact", &c.title);
            if let Some(p) = &c.phone {
                expect("phone", p);
            }
        }
        for c in &pack.checklists {
            for i in &c.items {
                expect("checklist item", &i.text);
            }
        }
        for f in &pack.factors {
            for i in &f.items {
                expect("factor", i);
            }
        }
        for f in &pack.accepted_findings {
            expect("accepted finding", &f.reason);
        }
        assert!(missing.is_empty(), "{id}: not on the page: {missing:#?}");
        let phones = eval(
            &tab,
            "JSON.stringify([].map.call(document.querySelectorAll('main a[href^=\"tel:\"]'), a => a.getAttribute('href')))",
        );
        for c in pack.contacts.iter().filter(|c| c.phone.is_some()) {
            let digits: String = c
                .phone
                .as_deref()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert!(
                phones.as_array().expect("links").iter().any(|h| h
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches("tel:")
                    .trim_start_matches('+')
                    .starts_with(&digits[..digits.len().min(3)])),
                "{id}: a tel: link for {}",
                c.title
            );
        }
        screenshot(&tab, &format!("{id}-1280"));
        let fit = eval(&tab, NO_HORIZONTAL_SCROLL);
        assert!(
            fit["scroll"].as_u64() <= fit["width"].as_u64(),
            "{id} at 1280 px: {fit}"
        );

        set_width(&tab, 360, 740);
        let fit = eval(&tab, NO_HORIZONTAL_SCROLL);
        assert!(
            fit["scroll"].as_u64() <= fit["width"].as_u64(),
            "{id} at 360 px: {fit}"
        );
        screenshot(&tab, &format!("{id}-360"));
        // The panel with a decision shown, and the routes, on a phone.
        let state = run_incident(&tab, &Map::new(), 0);
        assert!(state.get("result").is_some(), "{id}: {state}");
        eval(
            &tab,
            "document.getElementById('try-result').scrollIntoView(); '\"\"'",
        );
        let fit = eval(&tab, NO_HORIZONTAL_SCROLL);
        assert!(
            fit["scroll"].as_u64() <= fit["width"].as_u64(),
            "{id} at 360 px with a decision: {fit}"
        );
        screenshot(&tab, &format!("{id}-360-decision"));
        eval(
            &tab,
            "document.getElementById('routes').scrollIntoView(); '\"\"'",
        );
        screenshot(&tab, &format!("{id}-360-routes"));
        // The search box filters sections.
        let found = eval(
            &tab,
            "(function(){var s=document.getElementById('search'); s.value='zzzz-nothing'; s.dispatchEvent(new Event('input')); var none=document.querySelectorAll('main > section.sect:not([hidden])').length; s.value=''; s.dispatchEvent(new Event('input')); var all=document.querySelectorAll('main > section.sect:not([hidden])').length; return JSON.stringify([none, all]);})()",
        );
        assert_eq!(
            found[0], 0,
            "{id}: a search for nothing hides every section"
        );
        assert!(
            found[1].as_u64() > Some(3),
            "{id}: clearing the search shows them again"
        );

        let s = seen.lock().expect("lock");
        assert!(s.errors.is_empty(), "{id}: console errors: {:#?}", s.errors);
        let others: Vec<&String> = s.requests.iter().filter(|r| **r != url).collect();
        assert!(
            others.is_empty(),
            "{id}: requests besides the page: {others:#?}"
        );
    }
}

/// The state of the panel: the question it asks (with the answers it
/// offers), or the decision it shows.
const STATE: &str = r#"(function () {
  var panel = document.getElementById('try-panel');
  var fs = panel.querySelector('fieldset[data-question]');
  var err = panel.querySelector('#try-error:not([hidden])');
  if (fs) {
    return JSON.stringify({ ask: fs.getAttribute('data-question'),
      options: [].map.call(fs.querySelectorAll('input[type=radio]'), function (i) { return i.value; }),
      number: !!fs.querySelector('#try-number'), error: err ? err.textContent : null });
  }
  var r = panel.querySelector('#try-result');
  if (r) {
    return JSON.stringify({ result: {
      level: r.getAttribute('data-level'), police: r.getAttribute('data-police'),
      by: r.getAttribute('data-police-by'),
      procedures: [].map.call(r.querySelectorAll('[data-procedure]'), function (e) { return e.getAttribute('data-procedure'); }),
      routes: [].map.call(r.querySelectorAll('[data-route]'), function (w) {
        return { id: w.getAttribute('data-route'),
          steps: [].map.call(w.querySelectorAll('[data-step]'), function (e) { return e.getAttribute('data-step'); }) };
      }),
      answers: [].map.call(r.querySelectorAll('[data-q]'), function (e) { return [e.getAttribute('data-q'), JSON.parse(e.getAttribute('data-v'))]; })
    } });
  }
  return JSON.stringify({ failure: panel.textContent });
})()"#;

/// Answer the question the panel asks with `value` and press Next.
fn answer(tab: &Tab, value: &Value) {
    let script = format!(
        r#"(function (v) {{
  var fs = document.querySelector('#try-panel fieldset[data-question]');
  var n = fs.querySelector('#try-number');
  if (n) {{ n.value = String(v); }} else {{
    var r = [].find.call(fs.querySelectorAll('input[type=radio]'), function (i) {{ return i.value === String(v); }});
    r.click();
  }}
  document.getElementById('try-next').click();
  return '""';
}})({})"#,
        serde_json::to_string(value).expect("JSON")
    );
    eval(tab, &script);
}

/// Start again, then answer every question the panel asks: from `answers`
/// where it has one the panel offers, else the `pick`-th offered answer
/// (a count's minimum, an amount of 0). The panel's last state.
fn run_incident(tab: &Tab, answers: &Map<String, Value>, pick: usize) -> Value {
    eval(
        tab,
        "(function(){var b=document.getElementById('try-restart'); if (b && !b.disabled) b.click(); return '\"\"';})()",
    );
    for _ in 0..200 {
        let state = eval(tab, STATE);
        let Some(q) = state["ask"].as_str() else {
            return state;
        };
        assert!(
            state["error"].is_null(),
            "the panel refused an answer: {state}"
        );
        let options: Vec<String> = state["options"]
            .as_array()
            .expect("options")
            .iter()
            .map(|o| o.as_str().expect("a value").to_owned())
            .collect();
        let offered = |v: &Value| match v {
            Value::Bool(b) => options.contains(&b.to_string()),
            Value::String(s) => options.contains(s),
            _ => state["number"] == true,
        };
        let value = match answers.get(q) {
            Some(v) if offered(v) => v.clone(),
            _ if state["number"] == true => json!(0),
            _ => {
                let o = &options[pick % options.len()];
                match o.as_str() {
                    "true" => json!(true),
                    "false" => json!(false),
                    _ => json!(o),
                }
            }
        };
        answer(tab, &value);
        // A count with a minimum above 0 is refused once; give the minimum.
        if state["number"] == true {
            let after = eval(tab, STATE);
            if after["ask"].as_str() == Some(q) && !after["error"].is_null() {
                answer(tab, &json!(1));
            }
        }
    }
    panic!("the panel kept asking");
}

/// A place in the compiled decision (a node or an outcome) and the answers
/// that lead there.
type Walk = (Option<u32>, Option<u32>, Map<String, Value>);

/// Incidents to try for a pack: the seed cases of its document, a path of
/// the compiled decision to each of its outcomes in every setting, and,
/// for each procedure, the answers each way its condition can hold.
fn incidents(id: &str, pack: &RulePack) -> Vec<(String, Map<String, Value>)> {
    let mut out = Vec::new();
    let settings: Vec<&str> = pack.settings.iter().map(|s| s.id.as_str()).collect();
    let setting_q = pack
        .questions
        .iter()
        .find(|q| q.kind == carepath::emit::pack::QuestionKind::Setting)
        .map(|q| q.id.clone());
    let with_setting = |s: &str, mut m: Map<String, Value>| {
        if let Some(q) = &setting_q {
            m.insert(q.clone(), json!(s));
        }
        m
    };
    if let Ok(text) = fs::read_to_string(format!("tests/seeds/{id}.toml")) {
        let table: toml::Table = toml::from_str(&text).expect("a seed table");
        // A few of the document's own incidents: the rest come below.
        for case in table["case"].as_array().expect("cases").iter().take(6) {
            let setting = case["setting"].as_str().expect("a setting");
            if !settings.contains(&setting) {
                continue;
            }
            let answers: Map<String, Value> = case["answers"]
                .as_table()
                .expect("answers")
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_value(v).expect("JSON")))
                .collect();
            out.push((
                format!("seed {}", case["id"].as_str().unwrap_or_default()),
                with_setting(setting, answers),
            ));
        }
    }
    let decision = pack.decision.as_ref().expect("a compiled decision");
    // One path to each level (and to "no level"), in the first setting
    // that reaches it.
    let mut reached: BTreeSet<Option<String>> = BTreeSet::new();
    for start in &decision.starts {
        let mut paths: BTreeMap<u32, Map<String, Value>> = BTreeMap::new();
        let mut todo: Vec<Walk> = vec![(start.node, start.outcome, Map::new())];
        let mut visited = BTreeSet::new();
        while let Some((node, outcome, path)) = todo.pop() {
            if let Some(o) = outcome {
                paths.entry(o).or_insert(path);
                continue;
            }
            let Some(n) = node else { continue };
            // One path per node is enough to reach every outcome below it.
            if !visited.insert(n) {
                continue;
            }
            let node = &decision.nodes[n as usize];
            for b in &node.branches {
                let mut p = path.clone();
                if let Some(a) = b.answers.first() {
                    p.insert(node.question.clone(), a.clone());
                } else if !b.not_asked {
                    let v = b.at_least.clone().map_or(json!(0), Value::Number);
                    p.insert(node.question.clone(), v);
                }
                todo.push((b.node, b.outcome, p));
            }
        }
        for (o, path) in paths {
            if !reached.insert(decision.outcomes[o as usize].level.clone()) {
                continue;
            }
            out.push((
                format!("decision path to outcome {o} in {}", start.setting),
                with_setting(&start.setting, path),
            ));
        }
    }
    for p in &pack.procedures {
        for (k, wish) in wishes(&p.when).into_iter().take(4).enumerate() {
            let s = settings[k % settings.len()];
            out.push((
                format!("procedure {} way {k} in {s}", p.id),
                with_setting(s, wish),
            ));
        }
    }
    out
}

/// The answers that make a condition hold, each way it can (a branch of
/// each `or`), as far as its tests name an answer; at most 16 ways.
fn wishes(e: &Value) -> Vec<Map<String, Value>> {
    let Some((op, args)) = e.as_object().and_then(|o| o.iter().next()) else {
        return vec![Map::new()];
    };
    let args = args.as_array().cloned().unwrap_or_default();
    let var = |v: &Value| v["var"].as_str().map(str::to_owned);
    let one = |k: Option<String>, v: Value| {
        let mut m = Map::new();
        if let Some(k) = k {
            m.insert(k, v);
        }
        vec![m]
    };
    match op.as_str() {
        "===" if !args[1].is_null() => one(var(&args[0]), args[1].clone()),
        "in" => one(var(&args[0]), args[1][0].clone()),
        ">=" => one(var(&args[0]), args[1].clone()),
        ">" => one(
            var(&args[0]),
            json!(args[1].as_f64().unwrap_or(0.0).floor() as i64 + 1),
        ),
        "or" => args.iter().flat_map(wishes).take(16).collect(),
        "and" => {
            let mut ways = vec![Map::new()];
            for a in &args {
                let mut next = Vec::new();
                for w in &ways {
                    for x in wishes(a) {
                        let mut m = w.clone();
                        m.extend(x);
                        next.push(m);
                    }
                }
                next.truncate(16);
                ways = next;
            }
            ways
        }
        _ => vec![Map::new()],
    }
}

fn response_name(r: carepath::emit::pack::Response) -> String {
    serde_json::to_value(r)
        .expect("JSON")
        .as_str()
        .expect("a name")
        .to_owned()
}

#[test]
fn the_panel_decides_as_the_engine_does() {
    let Some(browser) = launch("panel") else {
        return;
    };
    let tab = browser.new_tab().expect("a tab");
    let seen = watch(&tab);
    let mut total = 0;
    for id in PROTOCOLS {
        let (json, pack) = committed(id);
        let engine = Engine::from_json(&json).expect("the pack loads");
        open(&tab, Path::new(&format!("out/{id}.html")));
        let setting_q = pack
            .questions
            .iter()
            .find(|q| q.kind == carepath::emit::pack::QuestionKind::Setting)
            .map(|q| q.id.clone());
        let mut levels = BTreeSet::new();
        let mut procedures = BTreeSet::new();
        for (k, (name, wanted)) in incidents(id, &pack).into_iter().enumerate() {
            total += 1;
            let state = run_incident(&tab, &wanted, k);
            let result = &state["result"];
            assert!(result.is_object(), "{id}, {name}: {state}");
            let mut given: Map<String, Value> = result["answers"]
                .as_array()
                .expect("answers")
                .iter()
                .map(|p| (p[0].as_str().expect("an id").to_owned(), p[1].clone()))
                .collect();
            let setting = match &setting_q {
                Some(q) => wanted[q].as_str().expect("a setting").to_owned(),
                None => pack.settings[0].id.clone(),
            };
            if let Some(q) = &setting_q {
                given.entry(q.clone()).or_insert(json!(setting));
                assert_eq!(given[q], json!(setting), "{id}, {name}: the setting asked");
            }
            let answers = engine
                .answers(&given)
                .unwrap_or_else(|e| panic!("{id}, {name}: the panel's answers {given:?}: {e:?}"));
            let what = format!("{id}, {name}, answers {}", Value::Object(given.clone()));
            match engine.decide(&answers, &setting) {
                Ok(d) => {
                    assert_eq!(result["level"], d.level.id, "{what}: level");
                    assert_eq!(
                        result["police"],
                        response_name(d.police.response),
                        "{what}: police"
                    );
                    assert_eq!(
                        result["by"],
                        d.police.by.unwrap_or_default(),
                        "{what}: who judges"
                    );
                    let procs: Vec<&str> = d.procedures.iter().map(|p| p.id).collect();
                    assert_eq!(result["procedures"], json!(procs), "{what}: procedures");
                    let routes: Vec<Value> = d
                        .route
                        .iter()
                        .chain(d.procedures.iter().filter_map(|p| p.route.as_ref()))
                        .map(|r| json!({"id": r.id, "steps": r.steps.iter().map(|s| s.id).collect::<Vec<_>>()}))
                        .collect();
                    assert_eq!(result["routes"], json!(routes), "{what}: routes");
                    levels.insert(d.level.id.to_owned());
                    procedures.extend(procs.iter().map(|p| (*p).to_owned()));
                }
                Err(errors) => {
                    assert_eq!(
                        result["level"], "",
                        "{what}: the engine gives no level ({errors:?})"
                    );
                    assert!(
                        errors
                            .iter()
                            .any(|e| matches!(e, carepath::eval::AnswerError::NoLevel { .. })),
                        "{what}: {errors:?}"
                    );
                }
            }
        }
        let decision = pack.decision.as_ref().expect("a compiled decision");
        let reachable: BTreeSet<String> = decision
            .outcomes
            .iter()
            .filter_map(|o| o.level.clone())
            .collect();
        assert_eq!(
            levels, reachable,
            "{id}: every level the decision reaches was tried"
        );
        let all: BTreeSet<String> = pack.procedures.iter().map(|p| p.id.clone()).collect();
        assert_eq!(procedures, all, "{id}: every procedure was reached");
    }
    let s = seen.lock().expect("lock");
    assert!(s.errors.is_empty(), "console errors: {:#?}", s.errors);
    eprintln!("{total} incidents decided in the panel agreed with the engine");
}

#[test]
fn hostile_text_is_shown_and_never_run() {
    let Some(browser) = launch("hostile") else {
        return;
    };
    let (_, page) = hostile_page();
    let dir = scratch("handbook-hostile");
    let path = dir.join("hostile.html");
    fs::write(&path, &page).expect("the page is written");
    let tab = browser.new_tab().expect("a tab");
    let seen = watch(&tab);
    open(&tab, &path);
    let ran = eval(&tab, "JSON.stringify(String(window.hostileRan))");
    assert_eq!(ran, "undefined", "a script from the pack ran");
    let plain = squash(&hostile_plain());
    let shown = squash(eval(&tab, MAIN_TEXT).as_str().expect("text"));
    assert!(
        shown.contains(&plain),
        "the hostile text is shown literally"
    );
    assert!(
        eval(&tab, "JSON.stringify(document.title)")
            .as_str()
            .expect("a title")
            .contains("<script>window.hostileRan=1</script>")
    );
    let bold = eval(
        &tab,
        "JSON.stringify(document.querySelectorAll('main b, main img, main script').length)",
    );
    assert_eq!(bold, 0, "no element from the pack");
    // Through the panel too: a decision full of hostile text.
    let state = run_incident(
        &tab,
        &Map::from_iter([
            ("setting".into(), json!("home")),
            ("risk".into(), json!(true)),
        ]),
        0,
    );
    assert_eq!(state["result"]["level"], "high", "{state}");
    let result_text = squash(
        eval(
            &tab,
            "JSON.stringify(document.getElementById('try-result').textContent)",
        )
        .as_str()
        .expect("text"),
    );
    assert!(result_text.contains(&plain), "{result_text}");
    assert_eq!(
        eval(&tab, "JSON.stringify(String(window.hostileRan))"),
        "undefined"
    );
    let s = seen.lock().expect("lock");
    assert!(s.errors.is_empty(), "console errors: {:#?}", s.errors);
}

/// What a page offers readers of a screen reader, the keyboard and poor
/// eyesight: headings that step down one level at a time from one `h1`;
/// every control with a label or a name; every picture with a text
/// alternative; and every text at least WCAG AA contrast against the
/// background it is drawn on (4.5:1, 3:1 for large text), read from the
/// computed styles. Text inside the pictures is left out (Graphviz draws
/// black on the level colours, checked where they are chosen).
const ACCESSIBLE: &str = r#"(function () {
  var out = { headings: [], unlabelled: [], unnamed: [], pictures: [], contrast: [] };
  var last = 0;
  [].forEach.call(document.querySelectorAll('h1, h2, h3, h4, h5, h6'), function (h) {
    var n = Number(h.tagName[1]);
    if ((last === 0 && n !== 1) || (last > 0 && (n > last + 1 || n === 1))) {
      out.headings.push(h.tagName + ' ' + h.textContent.slice(0, 40) + ' after h' + last);
    }
    last = n;
  });
  [].forEach.call(document.querySelectorAll('input, select, textarea'), function (c) {
    if (!(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby')) {
      out.unlabelled.push(c.outerHTML.slice(0, 80));
    }
  });
  [].forEach.call(document.querySelectorAll('button, a[href]'), function (b) {
    if (!b.textContent.trim() && !b.getAttribute('aria-label')) { out.unnamed.push(b.outerHTML.slice(0, 80)); }
  });
  [].forEach.call(document.querySelectorAll('main svg'), function (s) {
    var fig = s.closest('figure');
    var caption = fig && fig.querySelector('figcaption');
    if (!(caption && caption.textContent.trim()) && !s.getAttribute('aria-label')) { out.pictures.push(s.outerHTML.slice(0, 80)); }
  });
  function rgb(c) { var m = c.match(/[\d.]+/g) || []; return m.map(Number); }
  function lum(c) {
    return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
    function ch(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  }
  function background(e) {
    for (; e && e.nodeType === 1; e = e.parentElement) {
      var c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) { return c; }
    }
    return [255, 255, 255];
  }
  var seen = {};
  var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (var t = walker.nextNode(); t; t = walker.nextNode()) {
    var e = t.parentElement;
    if (!t.textContent.trim() || e.closest('svg, script, style, [hidden], details:not([open]) > :not(summary)')) { continue; }
    var s = getComputedStyle(e);
    if (s.visibility === 'hidden' || s.display === 'none' || e.getClientRects().length === 0) { continue; }
    var fg = rgb(s.color), bg = background(e);
    var a = lum(fg), b = lum(bg);
    var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    var size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    var need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) {
      var key = e.tagName + '.' + e.className + ' ' + s.color + ' on ' + bg.join(',');
      if (!seen[key]) { seen[key] = 1; out.contrast.push(key + ' ' + ratio.toFixed(2) + ': ' + t.textContent.trim().slice(0, 40)); }
    }
  }
  return JSON.stringify(out);
})()"#;

/// Where the keyboard's focus is: the element's id, or its tag, and
/// whether it is inside the "try an incident" panel.
const FOCUS: &str = "JSON.stringify({ at: document.activeElement.id || document.activeElement.tagName, panel: !!document.activeElement.closest('#try-panel'), type: document.activeElement.type || null })";

#[test]
fn every_page_is_accessible_and_the_panel_works_by_keyboard() {
    let Some(browser) = launch("keyboard") else {
        return;
    };
    let tab = browser.new_tab().expect("a tab");
    // The checks find what they look for: a page with one of each fault.
    let dir = scratch("handbook-faults");
    let faults = dir.join("faults.html");
    fs::write(
        &faults,
        r#"<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><h1>a</h1><h3>b</h3>
<input id="x"/><button></button><main><figure><svg width="10" height="10"></svg></figure>
<p style="color:#aaa">faint</p></main></body></html>"#,
    )
    .expect("the page is written");
    open(&tab, &faults);
    let found = eval(&tab, ACCESSIBLE);
    for what in ["headings", "unlabelled", "unnamed", "pictures", "contrast"] {
        assert_eq!(
            found[what].as_array().map(Vec::len),
            Some(1),
            "{what} in {found}"
        );
    }
    let seen = watch(&tab);
    for id in PROTOCOLS {
        let path = PathBuf::from(format!("out/{id}.html"));
        // On a phone, where the page is most likely read in an incident.
        set_width(&tab, 360, 740);
        open(&tab, &path);
        let found = eval(&tab, ACCESSIBLE);
        for what in ["headings", "unlabelled", "unnamed", "pictures", "contrast"] {
            assert_eq!(found[what], json!([]), "{id}: {what}");
        }
        // From the top of the page, with the keyboard alone: Tab until the
        // panel's first answer has the focus, Space to choose it, Enter to
        // go on; the panel then asks the next question, and the focus is on
        // it, not lost at the top of the page. Every page has the same
        // panel and the same page order, and a key press takes a third of a
        // second, so this is tried on the largest page only.
        if id != "dorset" {
            continue;
        }
        let first = eval(&tab, STATE);
        let asked = first["ask"].as_str().expect("the panel asks").to_owned();
        let mut presses = 0;
        loop {
            tab.press_key("Tab").expect("Tab");
            presses += 1;
            let at = eval(&tab, FOCUS);
            if at["panel"] == true && at["type"] == "radio" {
                break;
            }
            assert!(presses < 40, "{id}: the panel is not reached by Tab: {at}");
        }
        tab.press_key(" ").expect("Space");
        tab.press_key("Enter").expect("Enter");
        let next = eval(&tab, STATE);
        assert!(
            next["ask"].as_str().is_some_and(|q| q != asked) || next.get("result").is_some(),
            "{id}: the panel went on from {asked}: {next}"
        );
        let at = eval(&tab, FOCUS);
        assert_eq!(
            at["panel"], true,
            "{id}: the focus stays in the panel: {at}"
        );
    }
    let s = seen.lock().expect("lock");
    assert!(s.errors.is_empty(), "console errors: {:#?}", s.errors);
}
