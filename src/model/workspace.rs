//! The files of a run: the ones named on the command line and everything they
//! import, each parsed once.
//!
//! The workspace never touches the file system itself: the caller passes a
//! `read` function (the CLI reads from disk, tests from memory). Import paths
//! are resolved here, relative to the importing file, and may not leave the
//! folder tree of the file named by the user.

use std::collections::{HashMap, VecDeque};
use std::path::{Component, Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Sources, display_path};
use crate::syntax::{self, ast};

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    NotUtf8,
    /// The file is outside the folder tree being checked (e.g. through a
    /// symbolic link).
    OutsideRoot,
    Other(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::NotUtf8 => f.write_str("it is not UTF-8 text"),
            ReadError::OutsideRoot => f.write_str("it is outside the folder being checked"),
            ReadError::Other(e) => f.write_str(e),
        }
    }
}

/// Reads a file's text for the workspace.
pub type Reader<'a> = dyn FnMut(&Path) -> Result<String, ReadError> + 'a;

struct Loaded {
    /// `None` when the file has a syntax error.
    ast: Option<ast::File>,
    /// The folder tree its imports must stay in.
    root_dir: PathBuf,
    /// One entry per import item, in source order: the imported file, or
    /// `None` when it could not be loaded.
    imports: Vec<Option<FileId>>,
}

#[derive(Default)]
pub struct Workspace {
    pub sources: Sources,
    files: Vec<Loaded>,
    by_path: HashMap<PathBuf, FileId>,
    roots: Vec<FileId>,
    diagnostics: Vec<Diagnostic>,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Add a file named by the user, whose text the caller has read, and load
    /// everything it imports through `read`. `root_dir` is the folder whose
    /// tree imports may not leave.
    pub fn add_root(
        &mut self,
        path: &Path,
        root_dir: &Path,
        text: String,
        read: &mut Reader<'_>,
    ) -> FileId {
        let path = normalize(path);
        let id = match self.by_path.get(&path) {
            Some(&id) => id,
            None => self.add_file(path, normalize(root_dir), text),
        };
        if !self.roots.contains(&id) {
            self.roots.push(id);
        }
        self.load_imports(id, read);
        id
    }

    /// A root added from memory, resolving imports through `read`; a
    /// convenience for tests and embedding applications.
    pub fn add_source(&mut self, path: &str, text: &str, read: &mut Reader<'_>) -> FileId {
        let p = Path::new(path);
        let dir = p.parent().unwrap_or(Path::new(""));
        self.add_root(p, dir, text.to_string(), read)
    }

    pub fn roots(&self) -> &[FileId] {
        &self.roots
    }

    /// Problems met while loading: syntax errors, imports that could not be
    /// followed, and import cycles (each reported once, however many roots
    /// reach it).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = self.diagnostics.clone();
        out.extend(self.import_cycles());
        out.extend(self.duplicate_protocols());
        out
    }

    /// Two root files that declare the same protocol id would write the same
    /// rule pack: the second of each pair is an error.
    fn duplicate_protocols(&self) -> Vec<Diagnostic> {
        let mut first: std::collections::HashMap<&str, &ast::Header> =
            std::collections::HashMap::new();
        let mut out = Vec::new();
        for &root in &self.roots {
            let Some(file) = self.ast(root) else { continue };
            let header = file.items.iter().find_map(|i| match i {
                ast::Item::Header(h) if h.kind == ast::HeaderKind::Protocol => Some(h),
                _ => None,
            });
            let Some(h) = header else { continue };
            match first.get(h.name.node.as_str()) {
                Some(earlier) => out.push(
                    Diagnostic::new(
                        Code::DuplicateProtocol,
                        h.name.span,
                        format!(
                            "two files declare the protocol `{}`, so both would be built as `{}.json`",
                            h.name.node, h.name.node
                        ),
                    )
                    .with_label("second declaration")
                    .with_secondary(earlier.name.span, "first declaration")
                    .with_help("give each protocol its own id, or check one of the files at a time"),
                ),
                None => {
                    first.insert(&h.name.node, h);
                }
            }
        }
        out
    }

    /// One diagnostic per cycle of imports, found as the strongly connected
    /// components of the import graph and reported at the import that leaves
    /// the component's first file (by path).
    fn import_cycles(&self) -> Vec<Diagnostic> {
        let mut graph: DiGraph<FileId, usize> = DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..self.files.len())
            .map(|i| graph.add_node(FileId(i as u32)))
            .collect();
        for (i, f) in self.files.iter().enumerate() {
            for (k, t) in f.imports.iter().enumerate() {
                if let Some(t) = t {
                    graph.add_edge(nodes[i], nodes[t.0 as usize], k);
                }
            }
        }
        let mut out = Vec::new();
        for scc in tarjan_scc(&graph) {
            let self_loop = scc.len() == 1 && graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let name = |n: NodeIndex| self.sources.get(graph[n]).name();
            let start = *scc.iter().min_by_key(|n| name(**n)).expect("non-empty");
            let Some((path, k)) = crate::graph::cycle_from(&graph, &scc, start) else {
                continue;
            };
            let file = graph[start];
            let span = self.ast(file).and_then(|a| {
                a.items
                    .iter()
                    .filter_map(|i| match i {
                        ast::Item::Import(imp) => Some(imp.path.span),
                        _ => None,
                    })
                    .nth(k)
            });
            let Some(span) = span else { continue };
            let names: Vec<String> = path.iter().map(|n| format!("`{}`", name(*n))).collect();
            out.push(
                Diagnostic::new(
                    Code::ImportCycle,
                    span,
                    format!("import cycle: {}", names.join(" imports ")),
                )
                .with_label("this import starts the cycle")
                .with_help("move what the files need from each other into a third file that they all import"),
            );
        }
        out
    }

    pub fn ast(&self, id: FileId) -> Option<&ast::File> {
        self.files[id.0 as usize].ast.as_ref()
    }

    pub fn imports(&self, id: FileId) -> &[Option<FileId>] {
        &self.files[id.0 as usize].imports
    }

    fn add_file(&mut self, path: PathBuf, root_dir: PathBuf, text: String) -> FileId {
        let id = self.sources.add(path.clone(), text);
        let ast = match syntax::parse(id, &self.sources.get(id).text) {
            Ok(f) => Some(f),
            Err(d) => {
                self.diagnostics.extend(d);
                None
            }
        };
        self.files.push(Loaded {
            ast,
            root_dir,
            imports: Vec::new(),
        });
        self.by_path.insert(path, id);
        id
    }

    fn load_imports(&mut self, start: FileId, read: &mut Reader<'_>) {
        let mut queue = VecDeque::from([start]);
        while let Some(file) = queue.pop_front() {
            let index = file.0 as usize;
            if !self.files[index].imports.is_empty() {
                continue;
            }
            let Some(ast) = &self.files[index].ast else {
                continue;
            };
            let imports: Vec<ast::Import> = ast
                .items
                .iter()
                .filter_map(|i| match i {
                    ast::Item::Import(imp) => Some(imp.clone()),
                    _ => None,
                })
                .collect();
            let root_dir = self.files[index].root_dir.clone();
            let importer = self.sources.get(file).path.clone();
            let mut targets = Vec::new();
            for imp in imports {
                let target = match resolve_import(&importer, &imp.path.node, &root_dir) {
                    Err(why) => {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::ImportOutsideRoot,
                                imp.path.span,
                                format!("the import `{}` leaves the folder being checked", imp.path.node),
                            )
                            .with_label(why)
                            .with_help(format!(
                                "imports are relative to the importing file and must stay inside `{}`",
                                shown_dir(&root_dir)
                            )),
                        );
                        None
                    }
                    Ok(path) => match self.by_path.get(&path) {
                        Some(&id) => Some(id),
                        None => match read(&path) {
                            Ok(text) => {
                                let id = self.add_file(path, root_dir.clone(), text);
                                queue.push_back(id);
                                Some(id)
                            }
                            Err(ReadError::OutsideRoot) => {
                                self.diagnostics.push(
                                    Diagnostic::new(
                                        Code::ImportOutsideRoot,
                                        imp.path.span,
                                        format!(
                                            "the import `{}` leaves the folder being checked",
                                            imp.path.node
                                        ),
                                    )
                                    .with_label("this file lies outside the folder tree")
                                    .with_help(format!(
                                        "imports must stay inside `{}`",
                                        shown_dir(&root_dir)
                                    )),
                                );
                                None
                            }
                            Err(e) => {
                                self.diagnostics.push(
                                    Diagnostic::new(
                                        Code::ImportNotFound,
                                        imp.path.span,
                                        format!("cannot import `{}`: {e}", display_path(&path)),
                                    )
                                    .with_label("imported here")
                                    .with_help(
                                        "import paths are relative to the importing file, e.g. `common/actors.carepath`",
                                    ),
                                );
                                None
                            }
                        },
                    },
                };
                targets.push(target);
            }
            // An empty list means "not yet loaded"; a file with no imports
            // stays empty and costs nothing to revisit.
            self.files[index].imports = targets;
        }
    }
}

fn shown_dir(dir: &Path) -> String {
    let s = display_path(dir);
    if s.is_empty() { ".".into() } else { s }
}

/// Resolve an import written in `importer` to a normalized path, or say why
/// it leaves `root_dir`.
pub fn resolve_import(importer: &Path, import: &str, root_dir: &Path) -> Result<PathBuf, String> {
    let written = Path::new(import);
    if written.has_root() || import.starts_with('/') || import.contains(':') {
        return Err("imports are relative paths, not absolute ones".into());
    }
    let base = importer.parent().unwrap_or(Path::new(""));
    let path = normalize(&base.join(written));
    let root = normalize(root_dir);
    let starts_up = |p: &Path| p.components().next() == Some(Component::ParentDir);
    // A root such as `../protocols` may itself start with `..`; a path that
    // climbs above a root that does not is outside it.
    let escapes = starts_up(&path) && !starts_up(&root);
    if escapes || !path.starts_with(&root) {
        return Err(format!("this resolves to `{}`", display_path(&path)));
    }
    Ok(path)
}

/// Remove `.` and resolve `..` lexically (without looking at the disk).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_resolve_relative_to_the_importer() {
        let r = resolve_import(
            Path::new("protocols/dorset.carepath"),
            "common/actors.carepath",
            Path::new("protocols"),
        );
        assert_eq!(r, Ok(PathBuf::from("protocols/common/actors.carepath")));
        let r = resolve_import(
            Path::new("protocols/common/a.carepath"),
            "../common/./b.carepath",
            Path::new("protocols"),
        );
        assert_eq!(r, Ok(PathBuf::from("protocols/common/b.carepath")));
    }

    #[test]
    fn imports_may_not_leave_the_root() {
        let root = Path::new("protocols");
        assert!(resolve_import(Path::new("protocols/a.carepath"), "../x.carepath", root).is_err());
        assert!(resolve_import(Path::new("protocols/a.carepath"), "/etc/passwd", root).is_err());
        assert!(resolve_import(Path::new("a.carepath"), "../x.carepath", Path::new("")).is_err());
        assert!(resolve_import(Path::new("a.carepath"), "lib/x.carepath", Path::new("")).is_ok());
    }
}
