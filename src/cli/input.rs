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

/// A file that could not be read, written or built (exit status 2).
pub struct IoProblem {
    pub path: PathBuf,
    pub message: String,
    pub action: Action,
}

/// What could not be done with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Read,
    Write,
    Build,
}

impl IoProblem {
    /// A file that could not be read, or a path that cannot be used.
    pub fn new(path: &Path, message: impl Into<String>) -> IoProblem {
        IoProblem {
            path: path.to_path_buf(),
            message: message.into(),
            action: Action::Read,
        }
    }

    /// A file that could not be written.
    pub fn writing(path: &Path, message: impl Into<String>) -> IoProblem {
        IoProblem {
            action: Action::Write,
            ..IoProblem::new(path, message)
        }
    }

    /// A protocol that checked cleanly but could not be built.
    pub fn building(path: &Path, message: impl Into<String>) -> IoProblem {
        IoProblem {
            action: Action::Build,
            ..IoProblem::new(path, message)
        }
    }
}

/// Expand the paths named by the user: a file stands for itself, a folder
/// for every `.carepath` file below it (sorted, hidden files and folders
/// skipped). Inside a folder, a link is followed only when it leads to a
/// file inside the same folder tree, as imports are; links to folders are
/// not followed.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<IoProblem>) {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match fs::metadata(p) {
            Err(e) => problems.push(IoProblem::new(p, describe(&e))),
            Ok(m) if m.is_dir() => {
                let root = match fs::canonicalize(p) {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push(IoProblem::new(p, describe(&e)));
                        continue;
                    }
                };
                let mut found = Vec::new();
                if let Err(e) = walk(p, &root, &mut found, &mut problems) {
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

fn walk(
    dir: &Path,
    root: &Path,
    out: &mut Vec<PathBuf>,
    problems: &mut Vec<IoProblem>,
) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, root, out, problems)?;
        } else if path.extension().is_some_and(|e| e == "carepath") {
            if kind.is_symlink() {
                match fs::canonicalize(&path) {
                    Ok(real) if real.starts_with(root) && real.is_file() => {}
                    Ok(real) if real.starts_with(root) => continue,
                    Ok(_) => {
                        problems.push(IoProblem::new(
                            &path,
                            format!(
                                "it is a link to a file outside `{}`, so it was not read",
                                display_path(root)
                            ),
                        ));
                        continue;
                    }
                    Err(e) => {
                        problems.push(IoProblem::new(&path, describe(&e)));
                        continue;
                    }
                }
            }
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
        io::ErrorKind::StorageFull => "no space left on the device".into(),
        io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        io::ErrorKind::QuotaExceeded => "the disk quota is exceeded".into(),
        _ => {
            // "No such device (os error 19)" -> "no such device"
            let text = e.to_string();
            let text = match text.rfind(" (os error ") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
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
        let verb = match self.action {
            Action::Read => "read",
            Action::Write => "write",
            Action::Build => "build",
        };
        write!(
            f,
            "cannot {verb} `{}`: {}",
            display_path(&self.path),
            self.message
        )
    }
}
