//! The editor server's budget: after a change to the largest seed protocol
//! (Dorset, with its imports), the diagnostics to publish are ready within
//! 50 ms. Each iteration is one edit as `carepath lsp` receives it: the new
//! text replaces the document and every open file that depends on it is
//! checked again. Run with `cargo bench --bench lsp`.

use std::path::{Path, PathBuf};

use carepath::editor::Editor;
use carepath::model::ReadError;

fn main() {
    divan::main();
}

fn protocols() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols")
}

fn read(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|e| ReadError::Other(e.to_string()))
}

/// Dorset open, then edited back and forth between two texts (the second
/// with a rule's level misspelt, so the diagnostics differ each time).
#[divan::bench(sample_count = 20)]
fn change_to_diagnostics(bencher: divan::Bencher) {
    let path = protocols().join("dorset.carepath");
    let text = read(&path).expect("the seed protocol is readable");
    let broken = text.replacen("then level-2", "then level-9", 1);
    assert_ne!(text, broken, "the edit changes the text");
    let mut editor = Editor::new();
    let mut reader = read;
    let opened = editor.open(path.clone(), text.clone(), 1, &mut reader);
    assert!(!opened.is_empty(), "opening publishes diagnostics");
    let mut version = 1;
    bencher.bench_local(|| {
        version += 1;
        let next = if version % 2 == 0 { &broken } else { &text };
        let published = editor.change(&path, next.clone(), version, &mut reader);
        assert!(!published.is_empty());
        published
    });
}
