//! Helpers shared by the integration tests: loading sources from memory or
//! from disk, and checking them the way `carepath check` does.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use carepath::diagnostic::Diagnostic;
use carepath::diagnostic::render::{HumanStyle, render_human};
use carepath::model::{ReadError, Workspace, normalize_path};
use carepath::source::FileId;

/// Files in memory, by path.
#[derive(Default, Clone)]
pub struct MemoryFs {
    pub files: BTreeMap<PathBuf, String>,
}

impl MemoryFs {
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }

    pub fn reader(&self) -> impl FnMut(&Path) -> Result<String, ReadError> + '_ {
        move |p: &Path| {
            self.files
                .get(&normalize_path(p))
                .cloned()
                .ok_or(ReadError::NotFound)
        }
    }
}

/// Reads from disk, as the command line does.
pub fn disk_reader(path: &Path) -> Result<String, ReadError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ReadError::NotFound),
        Err(e) => Err(ReadError::Other(e.to_string())),
    }
}

/// Load `root` (from `fs`) and check it: loading problems and every
/// diagnostic of the compiler, sorted.
pub fn check_memory(fs: &MemoryFs, root: &str) -> (Workspace, Vec<Diagnostic>) {
    let mut ws = Workspace::new();
    let text = fs.files[&PathBuf::from(root)].clone();
    let mut reader = fs.reader();
    let id = ws.add_root(Path::new(root), Path::new(""), text, &mut reader);
    let diags = check_loaded(&ws, &[id]);
    (ws, diags)
}

/// Load files from disk with `root_dir` as the folder imports must stay in.
pub fn check_disk(paths: &[PathBuf], root_dir: &Path) -> (Workspace, Vec<Diagnostic>) {
    let mut ws = Workspace::new();
    let mut ids = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p).expect("test input is readable");
        ids.push(ws.add_root(p, root_dir, text, &mut disk_reader));
    }
    let diags = check_loaded(&ws, &ids);
    (ws, diags)
}

pub fn check_loaded(ws: &Workspace, roots: &[FileId]) -> Vec<Diagnostic> {
    let mut all = carepath::diagnostic::Diagnostics::new();
    all.extend(ws.diagnostics());
    for &root in roots {
        all.extend(carepath::check(ws, root).diagnostics);
    }
    all.sorted(&ws.sources)
}

/// Render diagnostics as `carepath check` does without colour.
pub fn render(ws: &Workspace, diags: &[Diagnostic]) -> String {
    let style = HumanStyle {
        color: false,
        width: 100,
    };
    diags
        .iter()
        .map(|d| render_human(d, &ws.sources, style))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Bytes a command printed, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch folder for one test, emptied first.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The protocols in `protocols/` (with rule packs in `out/`), by id.
pub const PROTOCOLS: [&str; 5] = [
    "derbyshire",
    "dorset",
    "stockport",
    "west-sussex",
    "wiltshire",
];

/// Run the command with `stdin` as its input, standard output and standard
/// error going where they are told, and no colour.
pub fn run_carepath(
    args: &[&str],
    stdin: &str,
    stdout: std::process::Stdio,
    stderr: std::process::Stdio,
) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_carepath"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(std::process::Stdio::piped())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("carepath runs");
    // A command that ends before reading its input (a usage error) closes
    // the pipe: that is not a failure of the test.
    let written = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("input written: {e}");
    }
    child.wait_with_output().expect("carepath ends")
}

/// A protocol given as text, compiled as `carepath build` compiles it: its
/// model and rule pack. Imports resolve to nothing; `what` names the case
/// in the failure message when the text has errors.
pub fn compile_in_memory(
    name: &str,
    source: &str,
    what: &str,
) -> (carepath::model::Model, carepath::emit::pack::RulePack) {
    let mut ws = Workspace::new();
    let mut none = |_: &Path| Err(ReadError::NotFound);
    let root = ws.add_source(name, source, &mut none);
    let checked = carepath::check(&ws, root);
    let errors = error_lines(&checked.diagnostics);
    assert!(errors.is_empty(), "{what}: {}\n{source}", errors.join("\n"));
    let model = checked.model.expect("no errors, so a model");
    let files = [carepath::emit::SourceText {
        path: name.into(),
        text: source,
    }];
    let pack = carepath::emit::rule_pack(&model, &files, &checked.diagnostics);
    (model, pack)
}

/// The errors among `diags`, one line each, for a failure message.
pub fn error_lines(diags: &[Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

/// Every question of Dorset answered for a residential home: nothing
/// happened (Level 1, by the `otherwise` level).
pub fn quiet_dorset() -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::json!({
        "serious-harm-risk": false, "substantial-damage-risk": false,
        "significant-disorder-risk": false, "sexual-abuse": "none", "weapon": false,
        "damage": "none", "drugs": "none", "theft": "none", "assault": false,
        "repeated-behaviour": false, "victim": false, "prolonged": false,
        "dealing-concern": false
    });
    v.as_object().expect("object").clone()
}

/// Fails unless `decision` validates against the committed decision schema
/// (`schema/carepath-decision-1.schema.json`), the contract apps read.
pub fn assert_valid_decision(decision: &serde_json::Value, what: &str) {
    static VALIDATOR: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/carepath-decision-1.schema.json");
        let text = std::fs::read_to_string(path).expect("the committed decision schema");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("a valid schema")
    });
    let errors: Vec<String> = VALIDATOR
        .iter_errors(decision)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: the decision does not validate: {errors:?}"
    );
}
