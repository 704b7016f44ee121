//! Writing each protocol's outputs into the output folder as one set:
//! every file of a protocol is replaced together, or none is.
//!
//! - The folder is locked (an advisory lock on the folder itself, so no
//!   lock file is left behind) while files are written, so two builds into
//!   one folder take turns and a reader never finds one build's rule pack
//!   beside another's flowchart.
//! - A protocol's files are first written to hidden temporaries beside their
//!   targets (`.<name>.<pid>.tmp`) and synced; only when all of them are
//!   written are they renamed over the targets. A failed write removes the
//!   temporaries and leaves the previous set as it was.
//! - The previous files are kept as hidden backups until every rename has
//!   succeeded, so a rename that fails half-way puts the old set back.
//! - An interrupt (Ctrl-C, SIGTERM, SIGHUP) removes the temporaries of the
//!   set being written, after that set's renames if they had begun; a build
//!   that finds temporaries left by a build that was killed outright removes
//!   them before it writes.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The extensions of the files a protocol's set can hold; a file of the
/// set that a build no longer writes (the SVG under `--no-svg`) is removed
/// with the rest, so that it cannot outlive the rule pack it was drawn from.
pub const SET_EXTENSIONS: &[&str] = &["json", "dot", "svg"];

/// What follows the protocol's id in the names of its set's files: the
/// rule pack and main picture (`<id>.svg`), and the question diagram
/// (`<id>-questions.svg`).
pub const SET_NAMES: &[&str] = &["", "-questions"];

/// One file of a set: its name in the output folder and its bytes.
pub type OutputFile = (String, Vec<u8>);

/// A write that failed: which file, and why.
pub struct WriteFailure {
    pub path: PathBuf,
    pub message: String,
}

/// Temporaries and backups in flight, removed on an interrupt. The lock is
/// held while a set is being renamed into place, so an interrupt waits for
/// the set to be whole.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

fn in_flight() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Remove what is in flight and end the run, as a shell expects of a
/// command stopped by a signal (status 130).
fn install_interrupt_cleanup() {
    HANDLER.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let mut files = in_flight();
            for f in files.drain(..) {
                if is_backup(&f) {
                    continue;
                }
                let _ = fs::remove_file(f);
            }
            std::process::exit(130);
        });
    });
}

/// The output folder, locked for this build.
pub struct OutDir {
    path: PathBuf,
    /// Held open for the lock; unlocked when dropped.
    _lock: File,
}

impl OutDir {
    /// Create the folder if needed and lock it, waiting for another build
    /// that holds it (and saying so on `waiting`).
    pub fn open(path: &Path, waiting: impl FnOnce()) -> io::Result<OutDir> {
        fs::create_dir_all(path)?;
        let lock = File::open(path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                waiting();
                lock.lock()?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        install_interrupt_cleanup();
        let dir = OutDir {
            path: path.to_path_buf(),
            _lock: lock,
        };
        dir.remove_stale();
        Ok(dir)
    }

    /// Temporaries and backups left by a build that was killed: while the
    /// folder is locked no other build is writing, so every one is stale.
    /// A backup still present means its set's renames were cut short, so it
    /// is put back first.
    fn remove_stale(&self) {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| stale_target(p).is_some())
            .collect();
        names.sort();
        for p in names {
            let Some((target, backup)) = stale_target(&p) else {
                continue;
            };
            if backup && !target.exists() {
                let _ = fs::rename(&p, &target);
            } else {
                let _ = fs::remove_file(&p);
            }
        }
    }

    /// Replace one protocol's set with `files`. On failure the previous set
    /// is left as it was, and the failure names the file.
    pub fn publish(&self, id: &str, files: &[OutputFile]) -> Result<(), WriteFailure> {
        let pid = std::process::id();
        let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
        for (name, bytes) in files {
            let target = self.path.join(name);
            let tmp = self.path.join(format!(".{name}.{pid}.tmp"));
            in_flight().push(tmp.clone());
            temps.push((tmp.clone(), target.clone()));
            if let Err(e) = write_synced(&tmp, bytes) {
                self.discard(&temps);
                return Err(WriteFailure {
                    path: target,
                    message: describe(&e),
                });
            }
        }
        // Files of the set that this build does not write.
        let dropped: Vec<PathBuf> = SET_NAMES
            .iter()
            .flat_map(|suffix| {
                SET_EXTENSIONS
                    .iter()
                    .map(move |ext| self.path.join(format!("{id}{suffix}.{ext}")))
            })
            .filter(|p| p.exists() && !temps.iter().any(|(_, t)| t == p))
            .collect();

        let mut flight = in_flight();
        let result = self.swap(&temps, &dropped, pid, &mut flight);
        flight.clear();
        drop(flight);
        if result.is_err() {
            for (tmp, _) in &temps {
                let _ = fs::remove_file(tmp);
            }
        }
        let _ = File::open(&self.path).and_then(|d| d.sync_all());
        result
    }

    /// Rename the temporaries over their targets and remove the dropped
    /// files, keeping backups until all of it has worked.
    fn swap(
        &self,
        temps: &[(PathBuf, PathBuf)],
        dropped: &[PathBuf],
        pid: u32,
        flight: &mut Vec<PathBuf>,
    ) -> Result<(), WriteFailure> {
        let mut backups: Vec<(PathBuf, PathBuf)> = Vec::new();
        let olds = temps.iter().map(|(_, t)| t).chain(dropped);
        for target in olds {
            if !target.exists() {
                continue;
            }
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let backup = self.path.join(format!(".{name}.{pid}.bak"));
            let _ = fs::remove_file(&backup);
            if let Err(e) = fs::hard_link(target, &backup) {
                restore(&backups);
                return Err(WriteFailure {
                    path: target.clone(),
                    message: format!("cannot keep the previous file: {}", describe(&e)),
                });
            }
            flight.push(backup.clone());
            backups.push((backup, target.clone()));
        }
        let mut failure = None;
        for (tmp, target) in temps {
            if let Err(e) = fs::rename(tmp, target) {
                failure = Some(WriteFailure {
                    path: target.clone(),
                    message: describe(&e),
                });
                break;
            }
        }
        if failure.is_none() {
            for d in dropped {
                if let Err(e) = fs::remove_file(d) {
                    failure = Some(WriteFailure {
                        path: d.clone(),
                        message: format!("cannot remove the stale file: {}", describe(&e)),
                    });
                    break;
                }
            }
        }
        match failure {
            None => {
                for (b, _) in &backups {
                    let _ = fs::remove_file(b);
                }
                Ok(())
            }
            Some(f) => {
                // New files without an old one to put back are removed, so
                // that no half set remains.
                for (_, target) in temps {
                    if !backups.iter().any(|(_, t)| t == target) {
                        let _ = fs::remove_file(target);
                    }
                }
                restore(&backups);
                Err(f)
            }
        }
    }

    fn discard(&self, temps: &[(PathBuf, PathBuf)]) {
        let mut flight = in_flight();
        for (tmp, _) in temps {
            let _ = fs::remove_file(tmp);
        }
        flight.clear();
    }
}

/// Put backups back over their targets.
fn restore(backups: &[(PathBuf, PathBuf)]) {
    for (backup, target) in backups {
        let _ = fs::rename(backup, target);
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn is_backup(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "bak")
}

/// For a temporary or backup this module writes (`.<name>.<pid>.tmp` or
/// `.<name>.<pid>.bak`, where `<name>` is a file of a set), the target it
/// stands for and whether it is a backup.
fn stale_target(path: &Path) -> Option<(PathBuf, bool)> {
    let file = path.file_name()?.to_str()?;
    let rest = file.strip_prefix('.')?;
    let (rest, backup) = if let Some(r) = rest.strip_suffix(".tmp") {
        (r, false)
    } else {
        (rest.strip_suffix(".bak")?, true)
    };
    let (name, pid) = rest.rsplit_once('.')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (_, ext) = name.rsplit_once('.')?;
    if !SET_EXTENSIONS.contains(&ext) {
        return None;
    }
    Some((path.with_file_name(name), backup))
}

fn describe(e: &io::Error) -> String {
    super::input::describe(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_temporaries_and_backups_are_recognised_and_nothing_else() {
        let t = |s: &str| stale_target(Path::new(s));
        assert_eq!(
            t("out/.dorset.json.123.tmp"),
            Some((PathBuf::from("out/dorset.json"), false))
        );
        assert_eq!(
            t("out/.dorset.svg.9.bak"),
            Some((PathBuf::from("out/dorset.svg"), true))
        );
        assert_eq!(t("out/dorset.json"), None);
        assert_eq!(t("out/.notes.txt.12.tmp"), None);
        assert_eq!(t("out/.dorset.json.abc.tmp"), None);
        assert_eq!(t("out/.dorset.json..tmp"), None);
    }
}
