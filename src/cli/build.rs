//! `carepath build`: check protocols, then write each one's rule pack,
//! DOT flowchart and SVG flowchart.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use carepath::analysis::Space;
use carepath::check;
use carepath::diagnostic::{Diagnostic, Diagnostics};
use carepath::emit::{self, SourceText};
use carepath::model::{Model, Workspace};
use carepath::source::{FileId, display_path};

use super::Status;
use super::input::{expand, load};
use super::report::{self, Counts, Deny, ErrorFormat};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    check: super::check::Args,
    /// Where to write `<id>.json`, `<id>.dot` and `<id>.svg`.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Write the rule pack and DOT only, not the SVG.
    #[arg(long)]
    no_svg: bool,
}

/// A file to write: its name in the output folder and its bytes.
type OutputFile = (String, Vec<u8>);

/// One line of the summary table.
struct Row {
    protocol: String,
    levels: usize,
    rules: usize,
    routes: usize,
    warnings: usize,
    errors: usize,
    written: Vec<String>,
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

    let mut all = Diagnostics::new();
    all.extend(ws.diagnostics());
    let mut rows = Vec::new();
    let mut svg = SvgRenderer::find(no_svg);
    let mut ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut outputs: Vec<Vec<OutputFile>> = Vec::new();

    for &root in &roots {
        let checked = check(&ws, root);
        let mut diags = Diagnostics::new();
        diags.extend(checked.diagnostics);
        if common.deny == Some(Deny::Warnings) {
            diags.deny_warnings();
        }
        let (errors, warnings) = (diags.error_count(), diags.warning_count());
        let found: Vec<Diagnostic> = diags.iter().cloned().collect();
        all.extend(diags.iter().cloned());
        let path = ws.sources.get(root).path.clone();
        let Some(model) = checked.model.filter(|m| m.is_protocol()) else {
            if errors > 0 {
                rows.push(Row {
                    protocol: display_path(&path),
                    levels: 0,
                    rules: 0,
                    routes: 0,
                    warnings,
                    errors,
                    written: Vec::new(),
                });
            }
            continue;
        };
        let mut row = Row {
            protocol: model.header.id.clone(),
            levels: model.levels.len(),
            rules: model.rules.len(),
            routes: model.routes.len(),
            warnings,
            errors,
            written: Vec::new(),
        };
        if errors > 0 {
            rows.push(row);
            continue;
        }
        if let Some(first) = ids.get(&model.header.id) {
            problems.push(super::input::IoProblem::new(
                &path,
                format!(
                    "protocol `{}` is also defined in {}; each protocol needs its own id",
                    model.header.id,
                    display_path(first)
                ),
            ));
            continue;
        }
        ids.insert(model.header.id.clone(), path.clone());
        let files = render(&ws, root, &model, &found, &mut svg);
        row.written = files.iter().map(|(name, _)| name.clone()).collect();
        outputs.push(files);
        rows.push(row);
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

    // Write what was built: every file of every good protocol, each
    // atomically. Protocols with errors wrote nothing above, so their
    // previous outputs stay as they were.
    let mut write_problems = Vec::new();
    if let Err(e) = fs::create_dir_all(&out) {
        write_problems.push(super::input::IoProblem::new(
            &out,
            super::input::describe(&e),
        ));
    } else {
        for files in &outputs {
            for (name, bytes) in files {
                let target = out.join(name);
                if let Err(e) = write_atomically(&target, bytes) {
                    write_problems.push(super::input::IoProblem::new(
                        &target,
                        super::input::describe(&e),
                    ));
                }
            }
        }
    }
    if !write_problems.is_empty() {
        for r in &mut rows {
            r.written.clear();
        }
    }
    report::io_problems(common.error_format, &write_problems);
    problems.extend(write_problems);
    if let Some(warning) = svg.warning() {
        eprintln!("warning: {warning}");
    }
    if common.error_format == ErrorFormat::Human {
        print_table(&rows, &out);
    }
    counts.errors += problems.len();
    report::summary(common.error_format, roots.len(), counts);

    Status::of(problems.len(), counts.errors)
}

/// The files of one protocol, in memory: rule pack, DOT and (unless turned
/// off) SVG.
fn render(
    ws: &Workspace,
    root: FileId,
    model: &Model,
    found: &[Diagnostic],
    svg: &mut SvgRenderer,
) -> Vec<OutputFile> {
    let base = ws
        .sources
        .get(root)
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let texts: Vec<SourceText<'_>> = source_files(ws, root)
        .into_iter()
        .map(|f| {
            let file = ws.sources.get(f);
            SourceText {
                path: relative(&file.path, &base),
                text: &file.text,
            }
        })
        .collect();
    let pack = emit::rule_pack(model, &texts, found);
    let mut space = Space::new(model);
    let chart = emit::dot::flowchart(&mut space);
    let dot = emit::dot::to_dot(&chart);
    let id = &model.header.id;
    let mut files = vec![
        (format!("{id}.json"), emit::pack_json(&pack).into_bytes()),
        (format!("{id}.dot"), dot.clone().into_bytes()),
    ];
    if let Some(bytes) = svg.render(&dot, &chart) {
        files.push((format!("{id}.svg"), bytes));
    }
    files
}

/// The protocol's file, then every file it imports, each once, in the order
/// first reached.
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

/// Write through a temporary file in the same folder, then rename: readers
/// see the old file or the new one, never half of one.
fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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

fn run_dot(dot: &str) -> Result<Vec<u8>, String> {
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

fn print_table(rows: &[Row], out: &Path) {
    let header = [
        "protocol",
        "levels",
        "rules",
        "routes",
        "warnings",
        "errors",
        "files written",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.protocol.clone(),
                r.levels.to_string(),
                r.rules.to_string(),
                r.routes.to_string(),
                r.warnings.to_string(),
                r.errors.to_string(),
                if r.written.is_empty() {
                    "none".into()
                } else {
                    r.written
                        .iter()
                        .map(|w| display_path(&out.join(w)))
                        .collect::<Vec<_>>()
                        .join(" ")
                },
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
    println!("{}", line(&header.map(String::from)));
    for row in &cells {
        println!("{}", line(row));
    }
}
