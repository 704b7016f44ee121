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
                    if a.0 == Id::Plain(name.into())
                        && let Id::Escaped(v) = &a.1
                    {
                        return Some(unescape(v));
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
        assert!(
            ids.iter().any(|n| n.starts_with("question_")),
            "{id}: the deciding questions"
        );
        let svg = fs::read_to_string(format!("out/{id}.svg")).expect("SVG");
        xml(&svg).unwrap_or_else(|e| panic!("out/{id}.svg: {e}"));
    }
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
        for ext in ["json", "dot"] {
            let built = fs::read(dir.join(format!("{id}.{ext}"))).expect("built");
            let committed = fs::read(format!("out/{id}.{ext}")).expect("committed");
            assert!(
                built == committed,
                "out/{id}.{ext} is stale: run `carepath build protocols/`"
            );
        }
        assert!(
            !dir.join(format!("{id}.svg")).exists(),
            "--no-svg writes no SVG"
        );
    }
    // Libraries are checked but have no outputs; nothing else is left.
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The rule pack, DOT and handbook page of each.
    assert_eq!(names.len(), 15, "{names:?}");
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
    assert_eq!(names, ["good.dot", "good.json"], "{}", text(&run.stderr));
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

        let svg = fs::read_to_string(out.join("hostile.svg")).expect("SVG");
        let doc = xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let shown: String = doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(shown.contains("<tag> & amp"), "{shown}");
        assert!(shown.contains("🚓"), "{shown}");
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
