//! `carepath diff`: what one version of a protocol changes against another.
//!
//! Each side is a protocol file (compiled to its rule pack, as `build`
//! compiles it), a rule pack (read by the engine's reader, so a damaged or
//! modified pack is refused as `decide` refuses it), or a file at a git
//! revision, read with `git show` from the file's own repository without
//! touching the work tree; the imports of a protocol at a revision are read
//! at the same revision. The comparison itself is the library's
//! (`carepath::review`).

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use carepath::diagnostic::Diagnostics;
use carepath::emit;
use carepath::emit::pack::RulePack;
use carepath::eval::{Engine, Integrity};
use carepath::model::{ReadError, Workspace, normalize_path};
use carepath::review::findings::{self, Finding};
use carepath::review::{self, picture, render};
use carepath::source::{FileId, display_path};

use super::Status;
use super::build::{run_dot, source_texts};
use super::input::{describe, expand, load, read_text};
use super::output::{self, errln};
use super::report::{self, ErrorFormat};
use super::terminal_safe;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people, on a terminal.
    #[default]
    Human,
    /// One JSON object (`carepath schema diff` prints its schema).
    Json,
    /// Markdown, for a review meeting's papers.
    Markdown,
    /// The diff flowchart as DOT, for Graphviz: the new version's picture
    /// with what it removed drawn back in, each element marked by its
    /// change.
    Dot,
}

#[derive(clap::Args)]
pub struct Args {
    /// The version compared against: a protocol (`.carepath`) or a rule
    /// pack (`.json`). With `--from`, the file whose revisions are
    /// compared.
    old: PathBuf,
    /// The version under review. Leave it out with `--from`.
    #[arg(conflicts_with = "from")]
    new: Option<PathBuf>,
    /// Compare OLD as it was at this git revision with OLD in the work
    /// tree (or at `--to`). Files are read with `git show` from the
    /// repository that holds OLD; the work tree is not touched.
    #[arg(long, value_name = "REV")]
    from: Option<String>,
    /// With `--from`: compare with OLD at this revision instead of the
    /// work tree.
    #[arg(long, value_name = "REV", requires = "from")]
    to: Option<String>,
    /// How to print the changes.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// When to exit with status 1: `any` behavioural change (the default),
    /// `more-police` (some incident class moved to more police
    /// involvement, to stop such a revision in CI), `less-police`, or
    /// `police-change` (either way). Changes in text alone never fail.
    #[arg(long, value_enum, default_value_t = FailOn::Any, value_name = "CHANGE")]
    fail_on: FailOn,
    /// Also write the diff flowchart to this file: `.svg` (drawn with
    /// Graphviz `dot`, which must be installed) or `.dot`.
    #[arg(long, value_name = "FILE")]
    picture: Option<PathBuf>,
    /// Use rule packs changed after `carepath build` wrote them, as
    /// `decide --allow-modified` does; they are still checked for
    /// everything the compiler guarantees.
    #[arg(long)]
    allow_modified: bool,
}

/// Where one side's text comes from.
enum Origin<'a> {
    Disk(&'a Path),
    Git { path: &'a Path, rev: &'a str },
}

pub fn run(args: Args) -> Status {
    let (old, new) = match (&args.new, &args.from) {
        (Some(new), None) => (Origin::Disk(&args.old), Origin::Disk(new)),
        (None, Some(from)) => (
            Origin::Git {
                path: &args.old,
                rev: from,
            },
            match &args.to {
                Some(to) => Origin::Git {
                    path: &args.old,
                    rev: to,
                },
                None => Origin::Disk(&args.old),
            },
        ),
        _ => {
            errln!(
                "error: say what to compare {} with: a second file, or a git revision with --from REV",
                terminal_safe(&display_path(&args.old))
            );
            return Status::Usage;
        }
    };
    let picture = match args.picture.as_deref().map(PictureKind::of).transpose() {
        Ok(p) => p,
        Err(message) => {
            errln!("error: {}", terminal_safe(&message));
            return Status::Usage;
        }
    };
    let integrity = if args.allow_modified {
        Integrity::AllowModified
    } else {
        Integrity::Verify
    };
    let (old, new) = match (side(&old, integrity), side(&new, integrity)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(message), _) | (_, Err(message)) => {
            errln!("error: {}", terminal_safe(&message));
            return Status::Usage;
        }
    };
    let checked = old.findings.as_deref().zip(new.findings.as_deref());
    let review = review::compare_checked(&old.pack, &new.pack, &old.label, &new.label, checked);
    output::out(&match args.format {
        Format::Human => render::human(
            &review,
            render::Style {
                color: colour_on_stdout(),
            },
        ),
        Format::Json => review::to_json(&review),
        Format::Markdown => render::markdown(&review),
        Format::Dot => picture::to_dot(&review, &old.pack, &new.pack),
    });
    if let (Some(kind), Some(path)) = (picture, &args.picture)
        && let Err(message) =
            write_picture(path, kind, &picture::to_dot(&review, &old.pack, &new.pack))
    {
        errln!("error: {}", terminal_safe(&message));
        return Status::Usage;
    }
    // 1 when behaviour differs (or, with --fail-on, in the way named);
    // behaviour that could not be compared is trouble.
    let b = &review.behaviour;
    if let Some(why) = &b.not_compared {
        errln!(
            "error: behaviour could not be compared: {}",
            terminal_safe(why)
        );
        return Status::Usage;
    }
    let fails = match args.fail_on {
        FailOn::Any => b.differs(),
        FailOn::MorePolice => b.summary.more_police > 0,
        FailOn::LessPolice => b.summary.less_police > 0,
        FailOn::PoliceChange => {
            b.summary.more_police + b.summary.less_police + b.summary.police_not_comparable > 0
        }
    };
    if fails { Status::Errors } else { Status::Ok }
}

/// Which behavioural changes make `carepath diff` exit with status 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any incident handled differently (level, police, procedures or
    /// route).
    #[default]
    Any,
    /// Some incident class moved to more police involvement.
    MorePolice,
    /// Some incident class moved to less police involvement.
    LessPolice,
    /// Police involvement changed for some incident class, either way or
    /// where it cannot be ranked.
    PoliceChange,
}

/// What `--picture` writes, by the file's extension.
#[derive(Clone, Copy)]
enum PictureKind {
    Dot,
    Svg,
}

impl PictureKind {
    fn of(path: &Path) -> Result<PictureKind, String> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("svg") => Ok(PictureKind::Svg),
            Some(e) if e.eq_ignore_ascii_case("dot") => Ok(PictureKind::Dot),
            _ => Err(format!(
                "cannot write the picture to {}: name a .svg or .dot file",
                display_path(path)
            )),
        }
    }
}

/// Write the diff flowchart, as DOT or laid out as SVG by Graphviz, through
/// a hidden temporary beside the file renamed over it, so that the file is
/// either the old one or the whole new picture. The temporary's name is not
/// one `build` cleans up, so a build into the same folder cannot remove it.
fn write_picture(path: &Path, kind: PictureKind, dot: &str) -> Result<(), String> {
    let shown = display_path(path);
    let bytes = match kind {
        PictureKind::Dot => dot.as_bytes().to_vec(),
        PictureKind::Svg => run_dot(dot).map_err(|e| {
            if graphviz_missing() {
                format!(
                    "cannot draw {shown}: Graphviz `dot` is not installed; install Graphviz, or write the picture as .dot"
                )
            } else {
                format!("cannot draw {shown}: Graphviz `dot` failed: {e}")
            }
        })?,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("cannot write the picture to {shown}: it is not a file name"))?;
    let tmp = dir.join(format!(".{name}.{}.diff.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {shown}: {}", describe(&e)));
    }
    Ok(())
}

/// Whether Graphviz `dot` cannot be run at all.
fn graphviz_missing() -> bool {
    !Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Colour on a terminal (or when `CLICOLOR_FORCE` is set), and never when
/// `NO_COLOR` is set.
fn colour_on_stdout() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    !set("NO_COLOR") && (set("CLICOLOR_FORCE") || std::io::stdout().is_terminal())
}

/// One side, ready to compare: its rule pack and what to call it.
struct Loaded {
    pack: RulePack,
    label: String,
    /// What its check found, when it was checked from its protocol.
    findings: Option<Vec<Finding>>,
}

fn side(origin: &Origin<'_>, integrity: Integrity) -> Result<Loaded, String> {
    match *origin {
        Origin::Disk(path) => {
            let label = display_path(path);
            let (pack, findings) = if is_protocol(path) {
                let (inputs, mut problems) = expand(&[path.to_path_buf()]);
                let (ws, roots, read_problems) = load(&inputs);
                problems.extend(read_problems);
                if let Some(p) = problems.first() {
                    return Err(p.to_string());
                }
                let (pack, findings) = compile(&ws, roots[0], &label)?;
                (pack, Some(findings))
            } else {
                let text = read_text(path).map_err(|e| format!("cannot read {label}: {e}"))?;
                (read_pack(&text, &label, integrity)?, None)
            };
            Ok(Loaded {
                pack,
                label,
                findings,
            })
        }
        Origin::Git { path, rev } => {
            let tree = GitTree::open(path, rev)?;
            let label = format!("{} at {rev} ({})", display_path(path), tree.short);
            let text = tree.read_root()?;
            let (pack, findings) = if is_protocol(path) {
                let mut ws = Workspace::new();
                let mut reader = |p: &Path| tree.read(p);
                let root = ws.add_root(&tree.file, &tree.dir, text, &mut reader);
                let (pack, findings) = compile(&ws, root, &label)?;
                (pack, Some(findings))
            } else {
                (read_pack(&text, &label, integrity)?, None)
            };
            Ok(Loaded {
                pack,
                label,
                findings,
            })
        }
    }
}

fn is_protocol(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "carepath")
}

/// A rule pack read as `decide` reads one: format, digest (unless allowed
/// to differ) and everything the compiler guarantees.
pub(super) fn read_pack(text: &str, label: &str, integrity: Integrity) -> Result<RulePack, String> {
    Engine::from_json_with(text, integrity)
        .map(|engine| engine.pack)
        .map_err(|e| format!("cannot use {label}: {e}"))
}

/// Compile a loaded protocol to its rule pack as `build` does, with the
/// findings of its check. Its errors are reported as `check` reports them.
fn compile(ws: &Workspace, root: FileId, label: &str) -> Result<(RulePack, Vec<Finding>), String> {
    compile_protocol(ws, root, label)?
        .ok_or_else(|| format!("{label} is a library, not a protocol"))
}

/// [`compile`], with `None` for a library (which has no rule pack).
pub(super) fn compile_protocol(
    ws: &Workspace,
    root: FileId,
    label: &str,
) -> Result<Option<(RulePack, Vec<Finding>)>, String> {
    let checked = carepath::check(ws, root);
    let mut diags = Diagnostics::new();
    diags.extend(ws.diagnostics());
    diags.extend(checked.diagnostics.iter().cloned());
    let model = match checked.model {
        Some(m) if !m.is_protocol() => return Ok(None),
        Some(m) if diags.error_count() == 0 => m,
        _ => {
            let errors: Vec<_> = diags
                .sorted(&ws.sources)
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            report::diagnostics(ErrorFormat::Human, &ws.sources, &errors);
            return Err(format!("{label} has errors, so it cannot be compared"));
        }
    };
    let pack = emit::rule_pack(&model, &source_texts(ws, root), &checked.diagnostics);
    Ok(Some((pack, findings::of_diagnostics(&checked.diagnostics))))
}

/// A file's repository at one revision.
struct GitTree {
    /// The repository's top folder, as git names it.
    top: PathBuf,
    /// The commit the revision names.
    commit: String,
    /// Its abbreviated name, for people.
    short: String,
    /// The file, as a path under `top`, and its folder: imports may not
    /// leave that folder's tree, as on disk.
    file: PathBuf,
    dir: PathBuf,
    /// The revision as the user wrote it.
    rev: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<Output, String> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {}", describe(&e)))
}

fn stdout_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim_end().to_string()
}

impl GitTree {
    /// The repository holding `path`, at `rev`, with `path` present there.
    fn open(path: &Path, rev: &str) -> Result<GitTree, String> {
        let shown = display_path(path);
        if rev.is_empty() || rev.starts_with('-') {
            return Err(format!("`{rev}` is not a git revision"));
        }
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = std::fs::canonicalize(parent)
            .map_err(|e| format!("cannot read {shown} at {rev}: {}", describe(&e)))?;
        let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
        if !top.status.success() {
            return Err(format!(
                "cannot read {shown} at {rev}: {} is not in a git repository",
                display_path(&dir)
            ));
        }
        let top = PathBuf::from(stdout_line(&top));
        let spec = format!("{rev}^{{commit}}");
        let commit = git(&dir, &["rev-parse", "--verify", "--quiet", &spec])?;
        if !commit.status.success() {
            return Err(format!(
                "cannot read {shown} at {rev}: the repository at {} has no revision `{rev}`",
                display_path(&top)
            ));
        }
        let commit = stdout_line(&commit);
        let short = git(&dir, &["rev-parse", "--short", &commit])?;
        let short = if short.status.success() {
            stdout_line(&short)
        } else {
            commit.clone()
        };
        let name = path
            .file_name()
            .ok_or_else(|| format!("{shown} is not a file"))?;
        let tree = GitTree {
            file: dir.join(name),
            dir,
            top,
            commit,
            short,
            rev: rev.to_string(),
        };
        let rel = tree
            .in_repo(&tree.file)
            .ok_or_else(|| format!("cannot read {shown} at {rev}: it is outside its repository"))?;
        if !tree.exists(&rel)? {
            return Err(format!(
                "cannot read {shown} at {rev}: `{rel}` does not exist at that revision"
            ));
        }
        Ok(tree)
    }

    /// `path` as git names it at a revision: relative to the top, with `/`.
    fn in_repo(&self, path: &Path) -> Option<String> {
        let rel = normalize_path(path)
            .strip_prefix(&self.top)
            .ok()?
            .to_path_buf();
        Some(display_path(&rel))
    }

    fn exists(&self, rel: &str) -> Result<bool, String> {
        let spec = format!("{}:{rel}", self.commit);
        Ok(git(&self.top, &["cat-file", "-e", &spec])?.status.success())
    }

    fn read_root(&self) -> Result<String, String> {
        self.read(&self.file).map_err(|e| {
            format!(
                "cannot read {} at {}: {e}",
                display_path(&self.file),
                self.rev
            )
        })
    }

    /// A file's text at the revision: the workspace's reader.
    fn read(&self, path: &Path) -> Result<String, ReadError> {
        let rel = self.in_repo(path).ok_or(ReadError::OutsideRoot)?;
        let spec = format!("{}:{rel}", self.commit);
        let shown = git(&self.top, &["show", &spec]).map_err(ReadError::Other)?;
        if !shown.status.success() {
            return match self.exists(&rel) {
                Ok(false) => Err(ReadError::NotFound),
                Ok(true) => Err(ReadError::Other(
                    String::from_utf8_lossy(&shown.stderr).trim().to_string(),
                )),
                Err(e) => Err(ReadError::Other(e)),
            };
        }
        String::from_utf8(shown.stdout).map_err(|_| ReadError::NotUtf8)
    }
}
