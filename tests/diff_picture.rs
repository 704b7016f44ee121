//! The diff flowchart (`carepath diff --format dot`, `--picture`, and
//! `carepath::review::picture`): the DOT parses and Graphviz lays it out,
//! every kind of change is drawn in its colour, line style and marker with
//! a legend, hostile text stays text, and the Dorset seed scenario (6.18's
//! Class A example moved to Level 3) draws that example as changed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use carepath::review::{self, picture, picture::Mark};
use graphviz_rust::dot_structures::{Attribute, EdgeTy, Graph, Id, Stmt, Vertex};
use serde_json::{Value, json};

use crate::diff::{carepath_in, pack, pack_value, status};
use crate::support::{scratch, text};

fn diff_dot(old: &Value, new: &Value) -> String {
    let (old, new) = (pack(old), pack(new));
    let review = review::compare(&old, &new, "old", "new");
    picture::to_dot(&review, &old, &new)
}

fn parse(dot: &str) -> Graph {
    graphviz_rust::parse(dot).unwrap_or_else(|e| panic!("DOT does not parse: {e}\n{dot}"))
}

fn graphviz() -> bool {
    Command::new("dot")
        .arg("-V")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Lay the DOT out with Graphviz as SVG, and check the SVG is well-formed
/// XML; `None` when Graphviz is not installed.
fn svg_of(dot: &str) -> Option<String> {
    if !graphviz() {
        return None;
    }
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dot runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = dot.to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(input.as_bytes())
    });
    let out = child.wait_with_output().expect("dot ends");
    writer.join().expect("written").expect("written");
    assert!(out.status.success(), "dot: {}", text(&out.stderr));
    let svg = String::from_utf8(out.stdout).expect("UTF-8");
    assert_well_formed(&svg);
    Some(svg)
}

fn assert_well_formed(svg: &str) {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(svg, options)
        .unwrap_or_else(|e| panic!("the SVG is not well-formed: {e}"));
}

fn stmts(g: &Graph) -> &[Stmt] {
    match g {
        Graph::DiGraph { stmts, .. } | Graph::Graph { stmts, .. } => stmts,
    }
}

/// A node drawn with attributes: its id and its attributes by name, the
/// values as DOT writes them (quoted strings unquoted, HTML labels as
/// they are).
type Attrs = Vec<(String, String)>;

fn value(id: &Id) -> String {
    match id {
        Id::Html(s) | Id::Plain(s) | Id::Anonymous(s) => s.clone(),
        Id::Escaped(s) => s
            .trim_matches('"')
            .replace("\\\"", "\"")
            .replace("\\\\", "\\"),
    }
}

fn attrs(list: &[Attribute]) -> Attrs {
    list.iter().map(|a| (value(&a.0), value(&a.1))).collect()
}

fn get<'a>(a: &'a Attrs, name: &str) -> &'a str {
    a.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn nodes(list: &[Stmt], out: &mut Vec<(String, Attrs)>) {
    for s in list {
        match s {
            Stmt::Node(n) if !n.attributes.is_empty() => {
                out.push((value(&n.id.0), attrs(&n.attributes)));
            }
            Stmt::Subgraph(g) => nodes(&g.stmts, out),
            _ => {}
        }
    }
}

fn all_nodes(g: &Graph) -> Vec<(String, Attrs)> {
    let mut out = Vec::new();
    nodes(stmts(g), &mut out);
    out
}

/// The drawn edges: from node, to node, attributes.
fn edges(g: &Graph) -> Vec<(String, String, Attrs)> {
    let mut out = Vec::new();
    for s in stmts(g) {
        if let Stmt::Edge(e) = s
            && let EdgeTy::Pair(Vertex::N(a), Vertex::N(b)) = &e.ty
        {
            out.push((value(&a.0), value(&b.0), attrs(&e.attributes)));
        }
    }
    out
}

/// Text as a label shows it, without the line breaks and strike-through
/// the picture puts in.
fn flat(label: &str) -> String {
    label
        .replace(r#"<BR ALIGN="LEFT"/>"#, " ")
        .replace("<BR/>", " ")
        .replace("<S>", "")
        .replace("</S>", "")
}

/// The route nodes whose label holds `needle` (as HTML writes it).
fn steps_with(g: &Graph, needle: &str) -> Vec<(String, Attrs)> {
    all_nodes(g)
        .into_iter()
        .filter(|(_, a)| get(a, "shape") == "box" && flat(get(a, "label")).contains(needle))
        .collect()
}

/// The cells of a column's list that hold `needle`, as HTML: from its
/// `<TD` to its `</TD>`.
fn cells_with(dot: &str, needle: &str) -> Vec<String> {
    dot.split("<TD")
        .skip(1)
        .map(|c| c.split("</TD>").next().unwrap_or_default().to_string())
        .filter(|c| flat(c).contains(needle))
        .collect()
}

fn cell_with(dot: &str, needle: &str) -> String {
    let found = cells_with(dot, needle);
    assert_eq!(found.len(), 1, "one cell holds {needle:?}: {found:#?}");
    found.into_iter().next().expect("one")
}

/// Whether a cell of a column is drawn with `mark`: its fill, outline
/// colour and line style, and the marker in the mark's colour.
fn assert_cell_marked(cell: &str, mark: Mark) {
    assert!(
        cell.contains(&format!(r#"BGCOLOR="{}""#, mark.fill())),
        "{mark:?} fill: {cell}"
    );
    assert!(
        cell.contains(&format!(
            r#"COLOR="{}" STYLE="{}""#,
            mark.colour(),
            mark.line()
        )),
        "{mark:?} outline: {cell}"
    );
    assert!(
        cell.contains(&format!(
            r#"<FONT COLOR="{}"><B>{}</B></FONT>"#,
            mark.colour(),
            mark.marker()
        )),
        "{mark:?} marker: {cell}"
    );
    assert!(cell.contains(r#"BORDER="1""#), "{mark:?} outlined: {cell}");
}

#[test]
fn the_marks_differ_in_colour_and_in_a_cue_that_needs_no_colour() {
    for (i, a) in Mark::ALL.iter().enumerate() {
        for b in &Mark::ALL[i + 1..] {
            assert_ne!(a.colour(), b.colour(), "{a:?} {b:?}");
            assert_ne!(a.fill(), b.fill(), "{a:?} {b:?}");
            // Told apart without colour: by the marker, or (unchanged
            // against the rest) by having none.
            assert_ne!(a.marker(), b.marker(), "{a:?} {b:?}");
        }
    }
    assert_eq!(Mark::Removed.line(), "dashed");
    assert_eq!(Mark::Wording.line(), "dotted");
}

/// Dorset's pack with one rule of each kind of change (among Level 2's,
/// whose titles are not also examples' titles), and its first route with a
/// step taken out (the step before it now leads past it).
fn every_kind_of_change() -> (Value, Value) {
    let old = pack_value("dorset");
    let mut new = old.clone();
    let rules = new["rules"].as_array_mut().expect("rules");
    let mut added = rules[0].clone();
    added["id"] = json!("a-rule-the-revision-adds");
    added["title"] = json!("A rule the revision adds");
    rules.push(added);
    rules[7]["strength"] = json!(if rules[7]["strength"] == "must" {
        "should"
    } else {
        "must"
    });
    rules[8]["id"] = json!("a-new-name");
    let reworded = format!("{} (reworded)", rules[9]["title"].as_str().expect("title"));
    rules[9]["title"] = json!(reworded);
    rules.remove(10);
    let nodes = new["routes"][0]["nodes"].as_array_mut().expect("nodes");
    let at = nodes
        .iter()
        .position(|n| n["id"] == "consider-referral")
        .expect("the step");
    let after = nodes[at]["next"].clone();
    nodes.remove(at);
    let before = nodes
        .iter_mut()
        .find(|n| n["next"] == "consider-referral")
        .expect("the step before");
    before["next"] = after;
    (old, new)
}

/// How a rule's entry begins: its title and its strength.
fn rule_entry(v: &Value, rule: usize) -> String {
    let r = &v["rules"][rule];
    format!(
        "{} [{}",
        r["title"].as_str().expect("a title"),
        r["strength"].as_str().expect("a strength")
    )
}

#[test]
fn every_kind_of_change_is_drawn_in_its_colour_style_and_marker() {
    let (old, new) = every_kind_of_change();
    let dot = diff_dot(&old, &new);
    let g = parse(&dot);

    assert_cell_marked(
        &cell_with(&dot, "A rule the revision adds [must"),
        Mark::Added,
    );
    let changed = cell_with(&dot, &rule_entry(&new, 7));
    assert_cell_marked(&changed, Mark::Changed);
    assert!(changed.contains("changed: strength"), "{changed}");
    let renamed = cell_with(&dot, &rule_entry(&new, 8));
    assert_cell_marked(&renamed, Mark::Renamed);
    let old_id = old["rules"][8]["id"].as_str().expect("id");
    assert!(renamed.contains(&format!("was {old_id}")), "{renamed}");
    assert_cell_marked(&cell_with(&dot, &rule_entry(&new, 9)), Mark::Wording);
    let removed = cell_with(&dot, &rule_entry(&old, 10));
    assert_cell_marked(&removed, Mark::Removed);
    assert!(removed.contains("<S>"), "struck through: {removed}");
    // A rule nothing happened to is drawn plain.
    let plain = cell_with(&dot, &rule_entry(&old, 11));
    assert!(plain.contains(r#"BORDER="0""#), "{plain}");
    assert!(!plain.contains("<B>"), "no marker: {plain}");

    // The step taken out (the foster route keeps its own), the one before
    // it (its next changed), and the links: the two old ones dashed, the
    // new one bold.
    let gone: Vec<_> = steps_with(&g, "The setting, in liaison with the")
        .into_iter()
        .filter(|(_, a)| get(a, "color") == Mark::Removed.colour())
        .collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
    let (gone, gone_attrs) = &gone[0];
    assert!(get(gone_attrs, "style").contains("dashed"));
    assert!(get(gone_attrs, "label").contains("<S>"));
    let before = steps_with(&g, "Staff manage situation and decide on sanctions");
    assert_eq!(before.len(), 1);
    let (before, before_attrs) = &before[0];
    assert_eq!(get(before_attrs, "color"), Mark::Changed.colour());
    assert!(get(before_attrs, "label").contains("<B>~</B>"));
    let links = edges(&g);
    let from = |a: &str| -> Vec<(String, Attrs)> {
        links
            .iter()
            .filter(|(f, _, _)| f == a)
            .map(|(_, t, attrs)| (t.clone(), attrs.clone()))
            .collect()
    };
    let out_of_before = from(before);
    assert_eq!(out_of_before.len(), 2, "{out_of_before:?}");
    let (to_gone, to_after): (Vec<_>, Vec<_>) =
        out_of_before.into_iter().partition(|(t, _)| t == gone);
    let out_of_gone = from(gone);
    assert_eq!(out_of_gone.len(), 1);
    for (_, l) in to_gone.iter().chain(&out_of_gone) {
        assert_eq!(get(l, "color"), Mark::Removed.colour());
        assert_eq!(get(l, "style"), "dashed");
        assert_eq!(get(l, "taillabel"), "−");
    }
    let (after, l) = &to_after[0];
    assert_eq!(
        after, &out_of_gone[0].0,
        "the new link leads where the old one went"
    );
    assert_eq!(get(l, "color"), Mark::Added.colour());
    assert_eq!(get(l, "style"), "bold");
    assert_eq!(get(l, "taillabel"), "+");

    // The legend shows every mark as the picture draws it.
    let legend = all_nodes(&g)
        .into_iter()
        .find(|(id, _)| id == "legend")
        .expect("a legend");
    let label = get(&legend.1, "label");
    for mark in Mark::ALL {
        // The cell that ends with the mark's words after its marker.
        let ending = if mark == Mark::Unchanged {
            format!(">{}", mark.words())
        } else {
            format!("{}</B></FONT> {}", mark.marker(), mark.words())
        };
        let cells: Vec<String> = label
            .split("<TD")
            .map(|c| c.split("</TD>").next().unwrap_or_default().to_string())
            .filter(|c| flat(c).trim_end().ends_with(&ending))
            .collect();
        assert_eq!(cells.len(), 1, "{mark:?}: {label}");
        let cell = &cells[0];
        if mark == Mark::Unchanged {
            assert!(cell.contains(r#"BORDER="0""#), "{cell}");
        } else {
            assert_cell_marked(cell, mark);
        }
    }
    assert!(flat(label).contains("dashed with −"), "{label}");
    if let Some(svg) = svg_of(&dot) {
        assert!(svg.contains("A rule the revision adds"));
    }
}

/// The clusters of a graph: their attributes.
fn clusters(g: &Graph) -> Vec<Attrs> {
    stmts(g)
        .iter()
        .filter_map(|s| match s {
            Stmt::Subgraph(sg) if value(&sg.id).starts_with("cluster_") => Some(
                sg.stmts
                    .iter()
                    .filter_map(|s| match s {
                        Stmt::Attribute(a) => Some((value(&a.0), value(&a.1))),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[test]
fn levels_routes_and_procedures_added_and_removed_are_drawn() {
    let old = pack_value("dorset");
    let mut new = old.clone();
    let foster = new["routes"].as_array_mut().expect("routes").remove(1);
    let mut route = new["routes"][0].clone();
    route["id"] = json!("a-new-route");
    route["title"] = json!("A route the revision adds");
    route["settings"] = json!([]);
    new["routes"].as_array_mut().expect("routes").push(route);
    let procedure = new["procedures"]
        .as_array_mut()
        .expect("procedures")
        .remove(1);
    let mut level = new["levels"][0].clone();
    level["id"] = json!("level-4");
    level["title"] = json!("Level 4 – a level the revision adds");
    level["examples"] = json!([]);
    new["levels"].as_array_mut().expect("levels").push(level);
    let dot = diff_dot(&old, &new);
    let g = parse(&dot);

    let cluster = |title: &str| {
        clusters(&g)
            .into_iter()
            .find(|a| get(a, "label").replace("\\n", " ").contains(title))
            .unwrap_or_else(|| panic!("a cluster for {title}"))
    };
    let gone = cluster(foster["title"].as_str().expect("title"));
    assert!(get(&gone, "style").contains("dashed"), "{gone:?}");
    assert_eq!(get(&gone, "color"), Mark::Removed.colour());
    assert!(get(&gone, "label").starts_with("−"), "{gone:?}");
    let added = cluster("A route the revision adds");
    assert_eq!(get(&added, "color"), Mark::Added.colour());
    assert!(get(&added, "label").starts_with("+"), "{added:?}");
    assert!(!get(&added, "style").contains("dashed"));
    // The removed route's steps are drawn, dashed and struck through.
    let foster_step = foster["nodes"][0]["text"].as_str().expect("text");
    let drawn = steps_with(&g, &foster_step[..20]);
    assert_eq!(drawn.len(), 1, "{drawn:?}");
    assert!(get(&drawn[0].1, "style").contains("dashed"));
    assert!(get(&drawn[0].1, "label").contains("<S>"));

    let removed = cell_with(&dot, procedure["title"].as_str().expect("title"));
    assert_cell_marked(&removed, Mark::Removed);
    let column = all_nodes(&g)
        .into_iter()
        .find(|(_, a)| flat(get(a, "label")).contains("Level 4 – a level the revision adds"))
        .expect("the added level's column");
    let label = get(&column.1, "label");
    assert!(
        label.starts_with(&format!(
            r#"<<TABLE BORDER="2" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3" COLOR="{}""#,
            Mark::Added.colour()
        )),
        "{label}"
    );
    assert!(label.contains(&format!(r#"<TD BGCOLOR="{}""#, Mark::Added.fill())));
    assert!(label.contains("<B>+</B>"));
    if let Some(svg) = svg_of(&dot) {
        assert!(svg.contains("stroke-dasharray"), "dashed outlines drawn");
    }
}

/// DOT text with its quoted strings left out.
fn outside_quotes(dot: &str) -> String {
    let mut out = String::new();
    let mut chars = dot.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => break,
                _ => {}
            }
        }
    }
    out
}

const HOSTILE: &str = "Say \"hi\" \\ <script>alert(1)</script> & <B>bold</B>\nline ] } -> \x1b[31m";

#[test]
fn hostile_text_stays_text() {
    let old = pack_value("dorset");
    let mut new = old.clone();
    new["protocol"]["id"] = json!(HOSTILE);
    new["protocol"]["title"]["value"] = json!(HOSTILE);
    new["levels"][0]["title"] = json!(HOSTILE);
    new["rules"][0]["title"] = json!(HOSTILE);
    new["rules"][0]["when_text"] = json!(HOSTILE);
    new["routes"][0]["title"] = json!(HOSTILE);
    new["routes"][0]["nodes"][0]["text"] = json!(HOSTILE);
    new["routes"][0]["nodes"][0]["notes"] = json!([HOSTILE]);
    new["procedures"][0]["id"] = json!(HOSTILE);
    let dot = diff_dot(&old, &new);
    let g = parse(&dot);
    // Quoted strings are text to Graphviz; HTML labels, the rest, must
    // hold the text escaped.
    let html = outside_quotes(&dot);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<B>bold"), "{html}");
    assert!(!dot.contains('\x1b'), "control characters dropped");
    assert!(dot.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;B&gt;bold"));
    // In quoted strings (a cluster's title, a tooltip, the graph's id) the
    // text comes back as it was, less the control character.
    let clean = HOSTILE.replace('\x1b', "");
    let Graph::DiGraph { id, .. } = &g else {
        panic!("a digraph")
    };
    assert!(value(id).starts_with(&clean.replace('\n', "\\n")), "{id:?}");
    let tip = all_nodes(&g)
        .into_iter()
        .map(|(_, a)| get(&a, "tooltip").to_string())
        .find(|t| t.contains("alert"))
        .expect("the note in a tooltip");
    assert!(tip.contains(&clean.replace('\n', "\\n")), "{tip}");
    if let Some(svg) = svg_of(&dot) {
        let doc = roxmltree::Document::parse_with_options(
            &svg,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .expect("well-formed");
        assert!(
            !doc.descendants().any(|n| n.has_tag_name("script")),
            "no script element"
        );
        let texts: String = doc
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(texts.contains("<script>alert(1)</script>"), "shown as text");
    }
}

// ------------------------------------------------------ the seed scenario

/// `protocols/` copied into `dir`, with `dorset-revised.carepath`: 6.18's
/// Class A example moved to Level 3, with the rule that decides it.
fn seed_scenario(name: &str) -> PathBuf {
    let dir = scratch(name);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
    for sub in ["", "common"] {
        fs::create_dir_all(dir.join(sub)).expect("folder");
        for entry in fs::read_dir(from.join(sub)).expect("protocols") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "carepath") {
                fs::copy(&path, dir.join(sub).join(path.file_name().expect("name")))
                    .expect("copied");
            }
        }
    }
    let dorset = fs::read_to_string(dir.join("dorset.carepath")).expect("dorset");
    let example = "  example \"Possession of Class A drugs\" {\n    given drugs == possession and drug-class == class-a and a-occasion == 1\n    cite \"6.18\"\n  }\n";
    assert!(dorset.contains(example), "the seed example is there");
    let moved = dorset.replacen(example, "", 1);
    let at = moved
        .find("  example \"Risk of serious harm\"")
        .expect("Level 3's first example");
    let moved = format!("{}{example}{}", &moved[..at], &moved[at..]);
    let rule = "and a-occasion == 1\n  then level-2";
    assert!(moved.contains(rule), "the rule is there");
    let moved = moved.replacen(rule, "and a-occasion == 1\n  then level-3", 1);
    fs::write(dir.join("dorset-revised.carepath"), moved).expect("written");
    dir
}

const SEED: [&str; 3] = ["diff", "dorset.carepath", "dorset-revised.carepath"];

#[test]
fn the_dorset_scenario_draws_the_class_a_example_as_changed() {
    let dir = seed_scenario("diff-picture-seed");
    let o = carepath_in(&dir, &[&SEED[..], &["--format", "dot"]].concat(), &[]);
    assert_eq!(status(&o), 1, "{}", text(&o.stderr));
    let dot = text(&o.stdout);
    let g = parse(&dot);
    let level = |title: &str| {
        all_nodes(&g)
            .into_iter()
            .find(|(_, a)| get(a, "label").contains(&format!("<B>{title}")))
            .unwrap_or_else(|| panic!("a column for {title}"))
            .1
    };
    // At Level 3, changed, saying where from; at Level 2, where it was.
    let level_3 = level("Level 3 – Always report to Police");
    let label = get(&level_3, "label");
    let cell = cell_with(label, "Possession of Class A drugs [6.18]");
    assert_cell_marked(&cell, Mark::Changed);
    assert!(cell.contains("moved from Level 2"), "{cell}");
    let rule = cell_with(label, "Possession of Class A drugs (the first occasion)");
    assert_cell_marked(&rule, Mark::Changed);
    assert!(rule.contains("level: level-2 → level-3"), "{rule}");
    let level_2 = level("Level 2 – Either way dependent on circumstances");
    let label = get(&level_2, "label");
    let ghost = cell_with(label, "Possession of Class A drugs: moved to Level 3");
    assert!(ghost.contains(r#"STYLE="dashed""#), "{ghost}");
    assert!(ghost.contains("<I>"), "{ghost}");
    assert!(!label.contains("Possession of Class A drugs [6.18]"));
    // Nothing else is marked changed in substance, and no route changed.
    // The legend's rows, the rule and the example at Level 3, and where
    // each was at Level 2; nothing added or removed but in the legend.
    assert_eq!(dot.matches("<B>~</B>").count(), 6, "{dot}");
    assert_eq!(dot.matches("<B>+</B>").count(), 1, "{dot}");
    assert_eq!(dot.matches("<B>−</B>").count(), 1, "{dot}");
    for (_, _, l) in edges(&g) {
        assert_ne!(get(&l, "color"), Mark::Added.colour());
        assert_ne!(get(&l, "color"), Mark::Removed.colour());
    }
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("diff_picture_dorset_class_a", dot);
    });

    // `--picture` writes the same DOT, and Graphviz's SVG of it, beside
    // the usual report.
    let o = carepath_in(&dir, &[&SEED[..], &["--picture", "seed.dot"]].concat(), &[]);
    assert_eq!(status(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("Possession of Class A drugs"));
    assert_eq!(
        fs::read_to_string(dir.join("seed.dot")).expect("written"),
        dot
    );
    if graphviz() {
        let o = carepath_in(&dir, &[&SEED[..], &["--picture", "seed.svg"]].concat(), &[]);
        assert_eq!(status(&o), 1, "{}", text(&o.stderr));
        let svg = fs::read_to_string(dir.join("seed.svg")).expect("written");
        assert_well_formed(&svg);
        assert!(svg.contains("moved from Level 2"));
    }
    let left: Vec<_> = fs::read_dir(&dir)
        .expect("folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary left: {left:?}");
}

#[test]
fn a_picture_that_cannot_be_drawn_is_a_clear_error() {
    let dir = seed_scenario("diff-picture-errors");
    // Neither SVG nor DOT: refused before anything is compared.
    let o = carepath_in(&dir, &[&SEED[..], &["--picture", "seed.png"]].concat(), &[]);
    assert_eq!(status(&o), 2);
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains("cannot write the picture to seed.png: name a .svg or .dot file"),
        "{}",
        text(&o.stderr)
    );
    // SVG without Graphviz: nothing on the path, so no `dot`.
    let empty = dir.join("no-programs");
    fs::create_dir_all(&empty).expect("folder");
    let path = empty.to_str().expect("a path");
    let o = carepath_in(
        &dir,
        &[&SEED[..], &["--picture", "seed.svg"]].concat(),
        &[("PATH", path)],
    );
    assert_eq!(status(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(
            "cannot draw seed.svg: Graphviz `dot` is not installed; install Graphviz, or write the picture as .dot"
        ),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.join("seed.svg").exists());
    // A folder that is not there.
    let o = carepath_in(
        &dir,
        &[&SEED[..], &["--picture", "missing/seed.dot"]].concat(),
        &[],
    );
    assert_eq!(status(&o), 2);
    assert!(
        text(&o.stderr).contains("cannot write missing/seed.dot"),
        "{}",
        text(&o.stderr)
    );
}
