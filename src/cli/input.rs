//! Finding and reading the files named on the command line, and the reader
//! the workspace uses to follow imports.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use carepath::model::{ReadError, Workspace};
use carepath::source::{FileId, display_path};

/// A file to compile, and the folder tree its imports must stay inside.
pub struct Input {
    pub path: PathBuf,
    pub root_dir: PathBuf,
}

/// A problem with a path named on the command line (exit status 2).
pub struct IoProblem {
    pub path: PathBuf,
    pub message: String,
}

impl IoProblem {
    pub fn new(path: &Path, message: impl Into<String>) -> IoProblem {
        IoProblem {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Expand the paths named by the user: a file stands for itself, a folder
/// for every `.carepath` file below it (sorted, hidden folders skipped).
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<IoProblem>) {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match fs::metadata(p) {
            Err(e) => problems.push(IoProblem::new(p, describe(&e))),
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                if let Err(e) = walk(p, &mut found) {
                    problems.push(IoProblem::new(p, describe(&e)));
                    continue;
                }
                found.sort();
                if found.is_empty() {
                    problems.push(IoProblem::new(p, "the folder holds no `.carepath` files"));
                }
                for f in found {
                    inputs.push(Input {
                        path: f,
                        root_dir: p.clone(),
                    });
                }
            }
            Ok(_) => inputs.push(Input {
                path: p.clone(),
                root_dir: p.parent().map(Path::to_path_buf).unwrap_or_default(),
            }),
        }
    }
    (inputs, problems)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "carepath") {
            out.push(path);
        }
    }
    Ok(())
}

/// Read a file as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = fs::read(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Other(describe(&e)),
    })?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

pub fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or folder".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Load every input into a workspace. Imports are read from disk but must
/// resolve, after following links, to a file inside one of the inputs'
/// folder trees.
pub fn load(inputs: &[Input]) -> (Workspace, Vec<FileId>, Vec<IoProblem>) {
    let roots: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| {
            let dir = if i.root_dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                &i.root_dir
            };
            fs::canonicalize(dir).ok()
        })
        .collect();
    let mut reader = |path: &Path| -> Result<String, ReadError> {
        let real = fs::canonicalize(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Other(describe(&e)),
        })?;
        if !roots.iter().any(|r| real.starts_with(r)) {
            return Err(ReadError::OutsideRoot);
        }
        read_text(path)
    };
    let mut ws = Workspace::new();
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        match read_text(&input.path) {
            Ok(text) => ids.push(ws.add_root(&input.path, &input.root_dir, text, &mut reader)),
            Err(e) => problems.push(IoProblem::new(&input.path, e.to_string())),
        }
    }
    (ws, ids, problems)
}

impl std::fmt::Display for IoProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot read `{}`: {}",
            display_path(&self.path),
            self.message
        )
    }
}
