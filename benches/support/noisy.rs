//! A generated protocol with a diagnostic on almost every line, for timing
//! the human report (`benches/report.rs`, `tests/robustness.rs`).

use std::fmt::Write;

/// About 65 bytes per question, and a diagnostic for each, so that the text
/// and the report both grow with `questions`: every question but the first
/// is unused (a warning pointing at its line), and before every eighth a
/// checklist leaves out an item of the one at the top of the file (a warning
/// pointing at its line and back at the top).
pub fn many_diagnostics(questions: usize) -> String {
    let mut out = String::with_capacity(questions * 72 + 400);
    out.push_str(
        "protocol noisy {\n  title \"A protocol with a finding on every line\"\n  authority \"Benchmark Council\"\n  source \"Generated\"\n  policy most-serious\n  otherwise low\n}\n",
    );
    out.push_str("setting home \"Home\" { no route \"not part of this protocol\" }\n");
    out.push_str("level low \"Low\" { police none }\nlevel high \"High\" { police emergency }\n");
    out.push_str(
        "checklist base \"Base\" {\n  item first \"First\"\n  item second \"Second\"\n}\n",
    );
    for i in 0..questions {
        if i > 0 && i % 8 == 0 {
            let _ = writeln!(
                out,
                "checklist c{i} \"Checklist {i}\" {{ follows base item first \"First\" }}"
            );
        }
        let _ = writeln!(
            out,
            "question q{i} \"Is question {i} answered?\" {{ answer yes or no }}"
        );
    }
    out.push_str("rule r \"Rule\" { when q0 then high }\n");
    out
}
