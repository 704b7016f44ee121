//! `carepath build`: check protocols, then write each one's rule pack,
//! its two pictures (the levels with their rules and the routes, and the
//! exact question diagram), each as DOT and SVG, and its handbook page.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use carepath::analysis::Space;
use carepath::check;
use carepath::diagnostic::{Diagnostic, Diagnostics};
use carepath::emit::{self, SourceText};
use carepath::model::{Model, Workspace};
use carepath::source::{FileId, display_path};
use carepath::syntax::ast::{HeaderKind, Item};

use super::Status;
use super::input::{IoProblem, describe, expand, load};
use super::output::{errln, outln};
use super::publish::{OutDir, OutputFile};
use super::report::{self, Counts, Deny, ErrorFormat};
use super::terminal_safe;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    check: super::check::Args,
    /// Where to write `<id>.json`, the picture `<id>.dot` and `<id>.svg`,
    /// the question diagram `<id>-questions.dot` and `.svg`, and the
    /// handbook page `<id>.html`.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Write the rule pack and DOT only, not the SVGs.
    #[arg(long)]
    no_svg: bool,
}

/// One line of the summary table: every protocol found gets one, saying
/// what happened to it.
struct Row {
    /// The protocol's id, or the file's path when it has none to show.
    protocol: String,
    levels: usize,
    rules: usize,
    routes: usize,
    warnings: usize,
    errors: usize,
    result: String,
}

/// A protocol ready to write.
struct Built {
    row: usize,
    id: String,
    files: Vec<OutputFile>,
}

pub fn run(args: Args) -> Status {
    let Args {
        check: common,
        out,
        no_svg,
    } = args;
    let (inputs, mut problems) = expand(&common.paths);
    let (ws, roots, read_problems) = load(&inputs);
    problems.extend(read_problems);

    let loading = ws.diagnostics();
    let mut all = Diagnostics::new();
    all.extend(loading.iter().cloned());
    let mut rows = Vec::new();
    let mut svg = SvgRenderer::find(no_svg);
    let mut ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut built: Vec<Built> = Vec::new();

    for &root in &roots {
        let checked = check(&ws, root);
        let files = source_files(&ws, root);
        let mut diags = Diagnostics::new();
        diags.extend(checked.diagnostics);
        // Problems found while loading the files this protocol reads
        // (a syntax error in a library it imports, an import not found)
        // count against it, though they are reported once for the run.
        let mut own = Diagnostics::new();
        own.extend(
            loading
                .iter()
                .filter(|d| files.contains(&d.span.file))
                .cloned(),
        );
        if common.deny == Some(Deny::Warnings) {
            diags.deny_warnings();
            own.deny_warnings();
        }
        let errors = diags.error_count() + own.error_count();
        let warnings = diags.warning_count() + own.warning_count();
        let found: Vec<Diagnostic> = diags.iter().cloned().collect();
        all.extend(diags.iter().cloned());
        let path = ws.sources.get(root).path.clone();
        let header = declared_header(&ws, root);
        let mut row = Row {
            protocol: match &header {
                Some((HeaderKind::Protocol, id)) => id.clone(),
                _ => display_path(&path),
            },
            levels: 0,
            rules: 0,
            routes: 0,
            warnings,
            errors,
            result: String::new(),
        };
        let model = checked.model.filter(|_| errors == 0);
        match (model, header) {
            (Some(model), _) if model.is_protocol() => {
                row.levels = model.levels.len();
                row.rules = model.rules.len();
                row.routes = model.routes.len();
                if let Some(first) = ids.get(&model.header.id) {
                    row.result = format!(
                        "not built: protocol `{}` is also defined in {}",
                        model.header.id,
                        display_path(first)
                    );
                    problems.push(IoProblem::new(
                        &path,
                        format!(
                            "protocol `{}` is also defined in {}; each protocol needs its own id",
                            model.header.id,
                            display_path(first)
                        ),
                    ));
                } else {
                    ids.insert(model.header.id.clone(), path.clone());
                    match render(&ws, root, &model, &found, &mut svg) {
                        Ok(files) => built.push(Built {
                            row: rows.len(),
                            id: model.header.id.clone(),
                            files,
                        }),
                        Err(message) => {
                            row.errors += 1;
                            row.result = format!("not built: {message}");
                            problems.push(IoProblem::building(&path, message));
                        }
                    }
                }
                rows.push(row);
            }
            // A library that checks cleanly has nothing to build.
            (Some(_), _) | (None, Some((HeaderKind::Library, _))) if errors == 0 => {}
            _ => {
                row.result = not_built(&ws, root, &files, &diags, &own);
                rows.push(row);
            }
        }
    }

    let sorted = all.sorted(&ws.sources);
    let mut counts = Counts::of(&sorted);
    report::io_problems(common.error_format, &problems);
    // Accepted findings are counted and recorded in the rule pack; people
    // read them with `check`. Tools get everything.
    let shown: Vec<Diagnostic> = match common.error_format {
        ErrorFormat::Human => sorted
            .iter()
            .filter(|d| !d.is_accepted())
            .cloned()
            .collect(),
        ErrorFormat::Json => sorted.clone(),
    };
    report::diagnostics(common.error_format, &ws.sources, &shown);

    // Write what was built, each protocol's files as one set. Protocols with
    // errors write nothing, so their previous outputs stay as they were.
    let mut write_problems = Vec::new();
    if !built.is_empty() {
        let waiting = || {
            errln!(
                "waiting for another build writing to {}",
                display_path(&out)
            )
        };
        match OutDir::open(&out, waiting) {
            Err(e) => {
                write_problems.push(IoProblem::writing(&out, describe(&e)));
                for b in &built {
                    rows[b.row].result = format!("not written: cannot use {}", display_path(&out));
                }
            }
            Ok(dir) => {
                for b in &built {
                    rows[b.row].result = match dir.publish(&b.id, &b.files) {
                        Ok(()) => b
                            .files
                            .iter()
                            .map(|(name, _)| display_path(&out.join(name)))
                            .collect::<Vec<_>>()
                            .join(" "),
                        Err(f) => {
                            let why =
                                format!("cannot write {}: {}", display_path(&f.path), f.message);
                            write_problems.push(IoProblem::writing(&f.path, f.message));
                            format!("not written ({why}); the previous files are unchanged")
                        }
                    };
                }
            }
        }
    }
    report::io_problems(common.error_format, &write_problems);
    problems.extend(write_problems);
    if let Some(warning) = svg.warning() {
        errln!("warning: {warning}");
    }
    if common.error_format == ErrorFormat::Human {
        print_table(&rows);
    }
    counts.errors += problems.len();
    report::summary(common.error_format, roots.len(), counts);

    Status::of(problems.len(), counts.errors)
}

/// What a file declares itself to be, if it parsed: its header's kind and
/// name.
fn declared_header(ws: &Workspace, root: FileId) -> Option<(HeaderKind, String)> {
    ws.ast(root)?.items.iter().find_map(|item| match item {
        Item::Header(h) => Some((h.kind, h.name.node.clone())),
        _ => None,
    })
}

/// Why a protocol was not built, naming the files with errors.
fn not_built(
    ws: &Workspace,
    root: FileId,
    files: &[FileId],
    diags: &Diagnostics,
    own: &Diagnostics,
) -> String {
    let mut with_errors: Vec<FileId> = Vec::new();
    for d in diags.iter().chain(own.iter()).filter(|d| d.is_error()) {
        if !with_errors.contains(&d.span.file) {
            with_errors.push(d.span.file);
        }
    }
    with_errors.sort_by_key(|f| (*f != root, !files.contains(f), *f));
    let n = diags.error_count() + own.error_count();
    let what = if n == 1 { "error" } else { "errors" };
    let names: Vec<String> = with_errors
        .iter()
        .map(|f| ws.sources.get(*f).name())
        .collect();
    if names.is_empty() {
        format!("not built: {n} {what}")
    } else {
        format!("not built: {n} {what} in {}", names.join(", "))
    }
}

/// The files of one protocol, in memory: rule pack, DOT, (unless turned
/// off) SVG, and the handbook page.
fn render(
    ws: &Workspace,
    root: FileId,
    model: &Model,
    found: &[Diagnostic],
    svg: &mut SvgRenderer,
) -> Result<Vec<OutputFile>, String> {
    let pack = emit::rule_pack(model, &source_texts(ws, root), found);
    // What the compiler accepts, `decide` must read: a pack that would not
    // load is not written.
    let json = emit::checked_pack_json(&pack)
        .map_err(|e| format!("its rule pack could not be read back: {e}"))?;
    let id = &model.header.id;
    let mut files = vec![(format!("{id}.json"), json.into_bytes())];
    // The main picture, then the exact question diagram.
    let pictures = [
        (id.clone(), emit::dot::picture(model)),
        (
            format!("{id}-questions"),
            emit::dot::question_diagram(&mut Space::safety_first(model)),
        ),
    ];
    for (name, chart) in &pictures {
        let dot = emit::dot::to_dot(chart);
        files.push((format!("{name}.dot"), dot.clone().into_bytes()));
        if let Some(bytes) = svg.render(&dot, chart) {
            files.push((format!("{name}.svg"), bytes));
        }
    }
    files.push((format!("{id}.html"), handbook(&pack, &files).into_bytes()));
    Ok(files)
}

/// The handbook page for a pack, with every SVG among the protocol's files
/// inlined as a picture, in the order they are written.
fn handbook(pack: &emit::pack::RulePack, files: &[OutputFile]) -> String {
    let svgs: Vec<(&str, String)> = files
        .iter()
        .filter(|(name, _)| name.ends_with(".svg"))
        .map(|(name, bytes)| (name.as_str(), String::from_utf8_lossy(bytes).into_owned()))
        .collect();
    let titles: Vec<String> = svgs
        .iter()
        .map(|(name, _)| {
            if name.ends_with("-questions.svg") {
                format!("The exact question diagram, safety questions first ({name})")
            } else {
                format!("The levels side by side with their rules, and the routes ({name})")
            }
        })
        .collect();
    let pictures: Vec<emit::handbook::Picture<'_>> = svgs
        .iter()
        .zip(&titles)
        .map(|((_, svg), title)| emit::handbook::Picture { title, svg })
        .collect();
    emit::handbook::page(pack, &pictures)
}

/// The protocol's file, then every file it imports, each once, in the order
/// first reached.
/// The protocol's source files as its rule pack records them: each path
/// relative to the protocol file's folder.
pub(super) fn source_texts(ws: &Workspace, root: FileId) -> Vec<SourceText<'_>> {
    let base = ws
        .sources
        .get(root)
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    source_files(ws, root)
        .into_iter()
        .map(|f| {
            let file = ws.sources.get(f);
            SourceText {
                path: relative(&file.path, &base),
                text: &file.text,
            }
        })
        .collect()
}

fn source_files(ws: &Workspace, root: FileId) -> Vec<FileId> {
    let mut seen = vec![root];
    let mut i = 0;
    while i < seen.len() {
        for f in ws.imports(seen[i]).iter().flatten() {
            if !seen.contains(f) {
                seen.push(*f);
            }
        }
        i += 1;
    }
    seen
}

/// `path` relative to the folder `base`, with `/` separators.
fn relative(path: &Path, base: &Path) -> String {
    let p: Vec<Component<'_>> = path.components().collect();
    let b: Vec<Component<'_>> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); b.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Renders SVG with Graphviz `dot` when it is installed, else with the
/// built-in renderer (and says so once).
struct SvgRenderer {
    off: bool,
    graphviz: bool,
    fell_back: Option<String>,
}

impl SvgRenderer {
    fn find(off: bool) -> SvgRenderer {
        let graphviz = !off
            && Command::new("dot")
                .arg("-V")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        SvgRenderer {
            off,
            graphviz,
            fell_back: None,
        }
    }

    fn render(&mut self, dot: &str, chart: &emit::dot::Flowchart) -> Option<Vec<u8>> {
        if self.off {
            return None;
        }
        if self.graphviz {
            match run_dot(dot) {
                Ok(svg) => return Some(svg),
                Err(e) => {
                    self.fell_back
                        .get_or_insert(format!("Graphviz `dot` failed ({e}); the SVG flowcharts were drawn by Carepath's own renderer"));
                }
            }
        } else {
            self.fell_back.get_or_insert(
                "Graphviz `dot` is not installed, so the SVG flowcharts were drawn by Carepath's own renderer; install Graphviz for better diagrams".into(),
            );
        }
        Some(emit::svg::render(chart).into_bytes())
    }

    fn warning(&self) -> Option<&str> {
        self.fell_back.as_deref()
    }
}

pub(super) fn run_dot(dot: &str) -> Result<Vec<u8>, String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().ok_or("no input to dot")?;
    let text = dot.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn print_table(rows: &[Row]) {
    let header = [
        "protocol", "levels", "rules", "routes", "warnings", "errors", "result",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                terminal_safe(&r.protocol).into_owned(),
                r.levels.to_string(),
                r.rules.to_string(),
                r.routes.to_string(),
                r.warnings.to_string(),
                r.errors.to_string(),
                terminal_safe(&r.result).into_owned(),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(width).enumerate() {
            let pad = w - c.chars().count();
            if i == 0 || i == 6 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
            s.push_str("  ");
        }
        s.trim_end().to_string()
    };
    outln!("{}", line(&header.map(String::from)));
    for row in &cells {
        outln!("{}", line(row));
    }
}
