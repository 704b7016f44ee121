//! Bad input, one small file each in `tests/ui/`, with a snapshot of what
//! `carepath check` prints for it: the source snippet and the message.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{check_disk, render};
use carepath::diagnostic::Code;

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .to_path_buf()
}

#[test]
fn ui() {
    insta::with_settings!({ snapshot_path => "ui/snapshots", prepend_module_to_snapshot => false }, {
        insta::glob!("ui/*.carepath", |path| {
            let path = relative(path);
            let (ws, diags) = check_disk(std::slice::from_ref(&path), Path::new("tests/ui"));
            assert!(!diags.is_empty(), "{} should give a diagnostic", path.display());
            let codes: Vec<String> = diags.iter().map(|d| format!("{} ({})", d.code, d.severity)).collect();
            let report = format!("{}\n\n{}", codes.join("\n"), render(&ws, &diags));
            insta::assert_snapshot!(report);
        });
    });
}

/// The files of `tests/ui/together/`, which are checked in one run: what
/// only files checked together can show.
fn together() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("tests/ui/together")
        .expect("tests/ui/together exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "carepath"))
        .map(|p| relative(&p))
        .collect();
    paths.sort();
    paths
}

#[test]
fn ui_files_checked_together() {
    let paths = together();
    let (ws, diags) = check_disk(&paths, Path::new("tests/ui/together"));
    let codes: Vec<String> = diags
        .iter()
        .map(|d| format!("{} ({})", d.code, d.severity))
        .collect();
    let report = format!("{}\n\n{}", codes.join("\n"), render(&ws, &diags));
    insta::with_settings!({ snapshot_path => "ui/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("ui_together", report);
    });
}

/// Together the files show every code the language stage reports.
#[test]
fn ui_files_cover_every_code() {
    let mut seen = BTreeSet::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir("tests/ui")
        .expect("tests/ui exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "carepath"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 30,
        "at least 30 bad-input files, found {}",
        paths.len()
    );
    for p in &paths {
        let (_, diags) = check_disk(std::slice::from_ref(p), Path::new("tests/ui"));
        seen.extend(diags.iter().map(|d| d.code));
    }
    let (_, diags) = check_disk(&together(), Path::new("tests/ui/together"));
    seen.extend(diags.iter().map(|d| d.code));
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .map(|c| c.to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "no file in tests/ui shows {}",
        missing.join(", ")
    );
}
