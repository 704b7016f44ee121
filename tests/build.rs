//! `carepath build` and what it writes: rule packs that validate against
//! the committed schema, DOT that parses, SVG that is well-formed, the same
//! bytes on every build, nothing written for a protocol with errors, and
//! hostile text that breaks none of it.

use crate::support::{PROTOCOLS, scratch, text};
use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use carepath::emit;
use graphviz_rust::dot_structures::{Graph, Id, Stmt};

fn carepath(args: &[&str]) -> Output {
    crate::support::run_carepath(args, "", Stdio::piped(), Stdio::piped())
}

fn schema() -> serde_json::Value {
    serde_json::from_str(
        &fs::read_to_string("schema/carepath-rulepack-3.schema.json").expect("schema"),
    )
    .expect("the schema is JSON")
}

#[test]
fn the_committed_schema_is_current() {
    let committed = fs::read_to_string("schema/carepath-rulepack-3.schema.json").expect("schema");
    assert!(
        committed == emit::schema_json(),
        "schema/carepath-rulepack-3.schema.json is stale: run `cargo run -- schema > schema/carepath-rulepack-3.schema.json`"
    );
    let printed = carepath(&["schema"]);
    assert!(printed.status.success());
    assert_eq!(text(&printed.stdout), committed);
}

#[test]
fn every_committed_rule_pack_validates_against_the_schema() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid schema");
    for id in PROTOCOLS {
        let path = format!("out/{id}.json");
        let pack: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("rule pack")).expect("JSON");
        let errors: Vec<String> = validator
            .iter_errors(&pack)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        // And it reads back into the types it was written from.
        let typed: emit::pack::RulePack = serde_json::from_value(pack).expect("reads back");
        assert_eq!(typed.format, emit::pack::FORMAT);
        assert_eq!(typed.protocol.id, id);
    }
}

#[test]
fn the_schema_rejects_what_is_not_a_rule_pack() {
    let validator = jsonschema::validator_for(&schema()).expect("a valid schema");
    let mut pack: serde_json::Value =
        serde_json::from_str(&fs::read_to_string("out/dorset.json").expect("rule pack"))
            .expect("JSON");
    assert!(validator.is_valid(&pack));
    pack["format"] = "carepath-rulepack/1".into();
    assert!(!validator.is_valid(&pack), "another format version");
    pack["format"] = emit::pack::FORMAT.into();
    pack["levels"][0]["police"][0]["response"] = "sometimes".into();
    assert!(!validator.is_valid(&pack), "an unknown police response");
    pack["levels"][0]["police"][0]["response"] = "later".into();
    assert!(!validator.is_valid(&pack), "an old police response");
    pack["levels"][0]["police"][0]["response"] = "none".into();
    pack["rules"][0]["when"] = serde_json::json!({});
    assert!(!validator.is_valid(&pack), "an empty condition");
}

fn parse_dot(dot: &str) -> Graph {
    graphviz_rust::parse(dot).unwrap_or_else(|e| panic!("DOT does not parse: {e}\n{dot}"))
}

/// Every node statement of a graph, with its subgraphs'.
fn node_ids(stmts: &[Stmt], out: &mut Vec<String>) {
    for s in stmts {
        match s {
            Stmt::Node(n) => {
                if let Id::Plain(id) = &n.id.0
                    && !n.attributes.is_empty()
                {
                    out.push(id.clone());
                }
            }
            Stmt::Subgraph(g) => node_ids(&g.stmts, out),
            _ => {}
        }
    }
}

fn stmts(g: &Graph) -> &[Stmt] {
    match g {
        Graph::DiGraph { stmts, .. } | Graph::Graph { stmts, .. } => stmts,
    }
}

/// The value of attribute `name` of node `id`, unquoted and unescaped.
fn node_attr(stmts: &[Stmt], id: &str, name: &str) -> Option<String> {
    for s in stmts {
        match s {
            Stmt::Node(n) if n.id.0 == Id::Plain(id.into()) => {
                for a in &n.attributes {
                    if a.0 == Id::Plain(name.into()) {
                        match &a.1 {
                            Id::Escaped(v) => return Some(unescape(v)),
                            Id::Html(v) => return Some(html_text(v)),
                            _ => {}
                        }
                    }
                }
            }
            Stmt::Subgraph(g) => {
                if let Some(v) = node_attr(&g.stmts, id, name) {
                    return Some(v);
                }
            }
            _ => {}
        }
    }
    None
}

/// The text of a Graphviz HTML-like label: tags dropped (a line break as
/// a space), the XML entities read back.
fn html_text(label: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut tag = String::new();
    for c in label[1..label.len() - 1].chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                if tag.starts_with("BR") || tag.starts_with("/TD") {
                    out.push(' ');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    assert!(!in_tag, "an unclosed tag in {label}");
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn unescape(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => panic!("a trailing backslash in {quoted}"),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_committed_flowcharts_parse_and_show_every_level_and_route_step() {
    for id in PROTOCOLS {
        let dot = fs::read_to_string(format!("out/{id}.dot")).expect("DOT");
        let graph = parse_dot(&dot);
        let mut ids = Vec::new();
        node_ids(stmts(&graph), &mut ids);
        let pack: emit::pack::RulePack =
            serde_json::from_str(&fs::read_to_string(format!("out/{id}.json")).expect("pack"))
                .expect("pack");
        for (i, level) in pack.levels.iter().enumerate() {
            let label =
                node_attr(stmts(&graph), &format!("level_{i}"), "label").expect("a level node");
            let first_word = level.title.split_whitespace().next().expect("a title");
            assert!(
                label.starts_with(first_word),
                "{id}: {label:?} for {}",
                level.title
            );
        }
        // Each route's own nodes are drawn in it (`r<route>_n<node>`); the
        // nodes of a shared fragment once, for every route that uses it
        // (`f<fragment>_n<node>`).
        let own: usize = pack
            .routes
            .iter()
            .map(|r| r.nodes.iter().filter(|n| n.fragment.is_none()).count())
            .sum();
        let shared: BTreeSet<(&str, &str)> = pack
            .routes
            .iter()
            .flat_map(|r| &r.nodes)
            .filter_map(|n| n.fragment.as_deref().map(|f| (f, n.id.as_str())))
            .collect();
        let is_route_node = |n: &str| {
            let parts: Vec<&str> = n.split('_').collect();
            matches!(parts.as_slice(), [r, n] if (r.starts_with('r') || r.starts_with('f'))
                && n.starts_with('n')
                && [&r[1..], &n[1..]].iter().all(|d| d.parse::<usize>().is_ok()))
        };
        let drawn = ids.iter().filter(|n| is_route_node(n)).count();
        assert_eq!(
            drawn,
            own + shared.len(),
            "{id}: every route node once, and a fragment's once"
        );
        // The main picture lists every rule under its level,
        // with its condition as the pack writes it.
        for rule in &pack.rules {
            let at = pack
                .levels
                .iter()
                .position(|l| l.id == rule.level)
                .expect("the rule's level");
            let label = node_attr(stmts(&graph), &format!("level_{at}"), "label").expect("level");
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                words(&label).contains(&words(&rule.when_text)),
                "{id}: rule {} under {}",
                rule.id,
                rule.level
            );
        }
        assert!(
            !ids.iter().any(|n| n.starts_with("question_")),
            "{id}: the question diagram is a picture of its own"
        );
        let svg = fs::read_to_string(format!("out/{id}.svg")).expect("SVG");
        xml(&svg).unwrap_or_else(|e| panic!("out/{id}.svg: {e}"));

        // The question diagram: every level, and the deciding questions.
        let dot = fs::read_to_string(format!("out/{id}-questions.dot")).expect("DOT");
        let graph = parse_dot(&dot);
        let mut ids = Vec::new();
        node_ids(stmts(&graph), &mut ids);
        for i in 0..pack.levels.len() {
            assert!(ids.contains(&format!("level_{i}")), "{id}: level {i}");
        }
        assert!(
            ids.iter().any(|n| n.starts_with("question_")),
            "{id}: the deciding questions"
        );
        let svg = fs::read_to_string(format!("out/{id}-questions.svg")).expect("SVG");
        xml(&svg).unwrap_or_else(|e| panic!("out/{id}-questions.svg: {e}"));
    }
}

/// A3, the long side and the short side, in points.
const A3: (f64, f64) = (1191.0, 842.0);

/// The smallest text an SVG prints when scaled to fit one A3 page (either
/// way round, never enlarged), in points; and its size in points.
fn a3_text(svg: &str) -> (f64, (f64, f64)) {
    let doc = xml(svg).unwrap_or_else(|e| panic!("{e}"));
    let root = doc.root_element();
    let points = |name: &str| -> f64 {
        let v = root.attribute(name).unwrap_or_else(|| panic!("no {name}"));
        v.trim_end_matches("pt")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}"))
    };
    let (w, h) = (points("width"), points("height"));
    let view: Vec<f64> = root
        .attribute("viewBox")
        .expect("a viewBox")
        .split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect();
    // Points per user unit.
    let unit = (w / view[2]).min(h / view[3]);
    // The scale the transforms above a node apply (Graphviz: `scale(1 1)`).
    let scaled = |n: roxmltree::Node<'_, '_>| -> f64 {
        n.ancestors()
            .filter_map(|a| a.attribute("transform"))
            .filter_map(|t| t.split("scale(").nth(1))
            .map(|t| {
                t.split([' ', ',', ')'])
                    .next()
                    .and_then(|x| x.parse::<f64>().ok())
                    .unwrap_or(1.0)
            })
            .product()
    };
    let smallest = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let size = n
                .ancestors()
                .find_map(|a| a.attribute("font-size"))
                .unwrap_or_else(|| panic!("text without a font size: {:?}", n.text()));
            let size: f64 = size.trim_end_matches("px").parse().expect("a size");
            size * scaled(n) * unit
        })
        .fold(f64::INFINITY, f64::min);
    let fit = (A3.1 / w)
        .min(A3.0 / h)
        .max((A3.0 / w).min(A3.1 / h))
        .min(1.0);
    (smallest * fit, (w, h))
}

#[test]
fn every_main_picture_is_readable_on_one_a3_page() {
    // Every protocol in protocols/, as committed (drawn by Graphviz) and
    // as the built-in renderer draws it.
    let own = scratch("a3-own");
    let run = Command::new(env!("CARGO_BIN_EXE_carepath"))
        .args(["build", "protocols/", "--out", own.to_str().expect("utf-8")])
        .env("PATH", "")
        .output()
        .expect("runs");
    assert!(run.status.success(), "{}", text(&run.stderr));
    let mut checked = 0;
    for entry in fs::read_dir("protocols").expect("protocols/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "carepath") {
            continue;
        }
        let id = path
            .file_stem()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        // Graphviz's layout is the one published (and measured at 6 pt or
        // more); the built-in renderer ranks and packs more loosely, and
        // its pictures print at 5 pt or more (Dorset's, the largest, at
        // about 5.3).
        for (dir, least) in [(PathBuf::from("out"), 6.0), (own.clone(), 5.0)] {
            let file = dir.join(format!("{id}.svg"));
            let svg = fs::read_to_string(&file).expect("a picture per protocol");
            let (size, (w, h)) = a3_text(&svg);
            assert!(
                size >= least,
                "{}: {w:.0} x {h:.0} pt prints its smallest text at {size:.1} pt on A3",
                file.display()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * PROTOCOLS.len());
}

#[test]
fn the_a3_measure_reads_size_scale_and_fit() {
    let svg = |w: f64, h: f64, view: (f64, f64), text: &str| {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}pt" height="{h}pt" viewBox="0 0 {} {}">{text}</svg>"#,
            view.0, view.1
        )
    };
    let ten = r#"<text font-size="10">a</text><text font-size="14">b</text>"#;
    // A3 landscape exactly: printed as drawn.
    let (size, _) = a3_text(&svg(1191.0, 842.0, (1191.0, 842.0), ten));
    assert!((size - 10.0).abs() < 1e-9, "{size}");
    // Smaller than A3: never enlarged.
    let (size, _) = a3_text(&svg(300.0, 300.0, (300.0, 300.0), ten));
    assert!((size - 10.0).abs() < 1e-9, "{size}");
    // Twice A3's long side: half the size, whichever way round.
    let (size, _) = a3_text(&svg(2382.0, 842.0, (2382.0, 842.0), ten));
    assert!((size - 5.0).abs() < 1e-9, "{size}");
    let (size, _) = a3_text(&svg(842.0, 2382.0, (842.0, 2382.0), ten));
    assert!((size - 5.0).abs() < 1e-9, "{size}");
    // Two points per user unit, and a group scaled by a half.
    let (size, _) = a3_text(&svg(1191.0, 842.0, (595.5, 421.0), ten));
    assert!((size - 20.0).abs() < 1e-9, "{size}");
    let half = r#"<g transform="scale(0.5 0.5)"><text font-size="10">a</text></g>"#;
    let (size, _) = a3_text(&svg(1191.0, 842.0, (1191.0, 842.0), half));
    assert!((size - 5.0).abs() < 1e-9, "{size}");
}

/// Parse SVG as XML (Graphviz's has a doctype).
fn xml(svg: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(svg, options)
}

/// Build into a fresh folder; the output and the folder.
fn build(name: &str, inputs: &[&str], extra: &[&str]) -> (Output, PathBuf) {
    let out = scratch(name);
    let mut args = vec!["build"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["--out", out.to_str().expect("utf-8")]);
    args.extend_from_slice(extra);
    (carepath(&args), out)
}

#[test]
fn building_the_protocols_reproduces_out_byte_for_byte() {
    let (first, dir) = build("rebuild", &["protocols/"], &["--no-svg"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let table = text(&first.stdout);
    assert!(table.starts_with("protocol "), "{table}");
    for id in PROTOCOLS {
        assert!(table.contains(&format!("\n{id} ")), "{id} in\n{table}");
        for name in [
            format!("{id}.json"),
            format!("{id}.dot"),
            format!("{id}-questions.dot"),
        ] {
            let built = fs::read(dir.join(&name)).expect("built");
            let committed = fs::read(format!("out/{name}")).expect("committed");
            assert!(
                built == committed,
                "out/{name} is stale: run `carepath build protocols/`"
            );
        }
        for name in [format!("{id}.svg"), format!("{id}-questions.svg")] {
            assert!(!dir.join(name).exists(), "--no-svg writes no SVG");
        }
    }
    // Libraries are checked but have no outputs; nothing else is left.
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The rule pack, the two DOT files and the handbook page of each.
    assert_eq!(names.len(), 4 * PROTOCOLS.len(), "{names:?}");
}

#[test]
fn the_rule_pack_records_the_sources_and_the_accepted_findings() {
    let pack: emit::pack::RulePack =
        serde_json::from_str(&fs::read_to_string("out/stockport.json").expect("pack"))
            .expect("pack");
    assert_eq!(pack.source.files[0].path, "stockport.carepath");
    assert!(
        pack.source
            .files
            .iter()
            .any(|f| f.path.starts_with("common/"))
    );
    let text = fs::read_to_string("protocols/stockport.carepath").expect("source");
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(pack.source.files[0].sha256, digest);
    let codes: Vec<&str> = pack
        .accepted_findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "carepath::gap",
            "carepath::gap",
            "carepath::incomplete-checklist"
        ]
    );
    assert!(pack.accepted_findings.iter().all(|f| !f.reason.is_empty()));
}

const BAD: &str = r#"protocol broken {
  title "Broken" authority "Example Council" source "Example" policy most-serious
}
setting home "Home" { no route "not needed here" }
level low "Low" { police none }
rule r { when unknown-question then low }
"#;

#[test]
fn a_protocol_with_errors_writes_nothing_and_keeps_its_old_files() {
    let dir = scratch("broken-src");
    fs::write(dir.join("broken.carepath"), BAD).expect("write");
    let out = scratch("broken-out");
    fs::write(out.join("broken.json"), "previous").expect("write");
    let run = carepath(&[
        "build",
        dir.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("carepath::unknown-name"));
    assert_eq!(
        fs::read_to_string(out.join("broken.json")).expect("kept"),
        "previous"
    );
    let names: Vec<_> = fs::read_dir(&out).expect("out").collect();
    assert_eq!(names.len(), 1, "no temporary files left behind");
}

#[test]
fn one_broken_protocol_does_not_stop_the_others() {
    let dir = scratch("one-broken-src");
    fs::write(dir.join("broken.carepath"), BAD).expect("write");
    fs::write(dir.join("syntax.carepath"), "protocol syntax {").expect("write");
    fs::write(
        dir.join("good.carepath"),
        BAD.replace("broken", "good")
            .replace("unknown-question", "not-asked-yet")
            .replace(
                "level low",
                "question not-asked-yet \"Anything?\" { answer yes or no }\nlevel low",
            ),
    )
    .expect("write");
    let out = scratch("one-broken-out");
    let run = carepath(&[
        "build",
        dir.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--no-svg",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let mut names: Vec<String> = fs::read_dir(&out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["good-questions.dot", "good.dot", "good.html", "good.json"],
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn a_missing_input_exits_2() {
    let (run, _) = build("missing", &["no-such-folder/"], &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("no-such-folder"));
}

/// Text that has broken DOT, SVG and JSON writers elsewhere.
const HOSTILE: &str =
    "Quote \\\" back\\\\slash <tag> & amp \\n new line 🚓 \u{202e}שלום עולם\u{202c} end\\\\";

fn hostile_protocol() -> String {
    format!(
        r#"protocol hostile {{
  title "{h}" authority "{h}" source "{h}" policy most-serious otherwise low
  note "{h}"
}}
setting home "{h}"
question risk "{h}?" {{ answer yes or no }}
question drug "{h}" {{ answer one of {{ a "{h}", b "B" }} }}
level low "{h}" {{ police none meaning "{h}" example "{h}" {{ given not risk and drug == b }} }}
level high "{h} high" {{ police emergency }}
rule r "{h}" {{ when risk or drug == a then high cite "{h}" }}
route homes "{h}" {{
  for home
  start low -> handle
  start high -> ask
  step handle "{h}" {{ then done note "{h}" }}
  decision ask "{h}" {{ answers yes or no yes -> done no -> handle }}
  outcome done "{h}"
}}
"#,
        h = HOSTILE
    )
}

#[test]
fn hostile_text_breaks_nothing() {
    let src = scratch("hostile-src");
    fs::write(src.join("hostile.carepath"), hostile_protocol()).expect("write");
    let check = carepath(&["check", src.to_str().expect("utf-8")]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    // The text as the language reads it: escapes decoded.
    let plain = "Quote \" back\\slash <tag> & amp \n new line 🚓 \u{202e}שלום עולם\u{202c} end\\";

    for renderer in ["graphviz-or-own", "own"] {
        let out = scratch(&format!("hostile-out-{renderer}"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_carepath"));
        cmd.args([
            "build",
            src.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ]);
        if renderer == "own" {
            cmd.env("PATH", "");
        }
        let run = cmd.output().expect("runs");
        assert!(run.status.success(), "{}", text(&run.stderr));
        if renderer == "own" {
            assert!(
                text(&run.stderr).contains("install Graphviz"),
                "{}",
                text(&run.stderr)
            );
        }

        let pack: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join("hostile.json")).expect("pack"))
                .expect("JSON");
        assert_eq!(pack["protocol"]["title"]["value"], plain);
        assert_eq!(pack["levels"][0]["examples"][0]["title"], plain);
        assert_eq!(pack["routes"][0]["nodes"][0]["notes"][0], plain);

        let dot = fs::read_to_string(out.join("hostile.dot")).expect("DOT");
        let graph = parse_dot(&dot);
        let tooltip = node_attr(stmts(&graph), "r0_n0", "tooltip").expect("a tooltip");
        assert!(tooltip.ends_with(plain), "{tooltip:?}");
        let label = node_attr(stmts(&graph), "r0_n0", "label").expect("a label");
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            words(&label),
            words(plain),
            "wrapping changes only the spaces"
        );

        // The level's column, an HTML-like label: its title and its rule's
        // title come back as text.
        let column = node_attr(stmts(&graph), "level_1", "label").expect("a column");
        assert!(
            words(&column).starts_with(&words(plain)),
            "{column:?} starts with the level's title"
        );
        assert!(column.contains("<tag> & amp"), "{column:?}");

        // The question diagram: the question's text, escaped and read back.
        let dot = fs::read_to_string(out.join("hostile-questions.dot")).expect("DOT");
        let graph = parse_dot(&dot);
        let question = node_attr(stmts(&graph), "question_0", "label").expect("a question");
        assert!(
            words(&question).concat().contains("<tag>&amp"),
            "{question:?}"
        );
        let level = node_attr(stmts(&graph), "level_0", "label").expect("a level");
        assert!(
            words(&level).starts_with(&words(plain)),
            "{level:?} starts with the level's title"
        );

        for name in ["hostile.svg", "hostile-questions.svg"] {
            let svg = fs::read_to_string(out.join(name)).expect("SVG");
            let doc = xml(&svg).unwrap_or_else(|e| panic!("{name}: {e}\n{svg}"));
            assert!(
                !doc.descendants().any(|n| n.has_tag_name("tag")),
                "{name}: the protocol's text is never markup"
            );
            let shown: String = doc
                .descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<Vec<_>>()
                .join(" ");
            assert!(shown.contains("<tag> & amp"), "{name}: {shown}");
            assert!(shown.contains("🚓"), "{name}: {shown}");
            assert!(shown.contains("שלום"), "{name}: {shown}");
        }
    }
}

#[test]
fn the_committed_decision_schema_is_current() {
    let committed =
        fs::read_to_string("schema/carepath-decision-1.schema.json").expect("decision schema");
    assert!(
        committed == carepath::eval::decision::schema_json(),
        "schema/carepath-decision-1.schema.json is stale: run `cargo run -- schema decision > schema/carepath-decision-1.schema.json`"
    );
    let printed = carepath(&["schema", "decision"]);
    assert_eq!(text(&printed.stdout), committed);
}

#[test]
fn the_decision_schema_rejects_what_is_not_a_decision() {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string("schema/carepath-decision-1.schema.json").expect("decision schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let engine = carepath::eval::Engine::from_json(
        &fs::read_to_string("out/dorset.json").expect("the committed pack"),
    )
    .expect("loads");
    let answers = engine
        .answers(&crate::support::quiet_dorset())
        .expect("answers");
    let decision = engine.decide(&answers, "residential").expect("decided");
    let good = serde_json::to_value(&decision).expect("serialises");
    assert!(validator.is_valid(&good), "{good}");
    let mut unknown = good.clone();
    unknown["levle"] = "level-3".into();
    assert!(!validator.is_valid(&unknown), "an unknown member");
    let mut wrong = good.clone();
    wrong["police"]["response"] = "sometimes".into();
    assert!(!validator.is_valid(&wrong), "a response that is not one");
    let mut old = good;
    old["format"] = "carepath-decision/0".into();
    assert!(!validator.is_valid(&old), "another format");
}
