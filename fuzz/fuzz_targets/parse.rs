//! Any bytes in, diagnostics out: parse and lower never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut ws = carepath::model::Workspace::new();
    // Imports resolve to nothing: the fuzzer exercises one file at a time.
    let mut no_files = |_: &std::path::Path| Err(carepath::model::ReadError::NotFound);
    let root = ws.add_source("fuzz.carepath", text, &mut no_files);
    let _ = carepath::check(&ws, root);
});
