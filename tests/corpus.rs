//! Every file in `protocols/` goes through parse and lower without a
//! diagnostic, and its model is kept as a snapshot: a change to an encoding,
//! or to how the compiler reads one, shows up as a reviewable diff.

use std::path::{Path, PathBuf};

use crate::support::check_disk;
use carepath::model::summary::dump;

fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .to_path_buf()
}

#[test]
fn protocols_lower_to_their_models() {
    insta::with_settings!({ snapshot_path => "corpus", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!("../protocols", "**/*.carepath", |path| {
            let path = relative(path);
            let (ws, diags) = check_disk(std::slice::from_ref(&path), Path::new("protocols"));
            let errors: Vec<String> = diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            assert!(errors.is_empty(), "{}: {}", path.display(), errors.join("\n"));
            let root = ws.sources.find(&path).expect("the root was loaded");
            let model = carepath::check(&ws, root).model.expect("no errors, so a model");
            insta::assert_snapshot!(dump(&model));
        });
    });
}
