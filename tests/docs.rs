//! `docs/diagnostics.md` describes every diagnostic code with a wrong and a
//! right example. This test runs them all: the documentation cannot drift
//! from the compiler.

use crate::support::{MemoryFs, check_memory};
use carepath::diagnostic::{Code, Severity};

const DOC: &str = include_str!("../docs/diagnostics.md");

/// Codes whose wrong example cannot be written out in the document.
/// Codes whose wrong example is abbreviated (the ui tests produce them).
/// `duplicate-protocol` needs two files checked together (tests/ui/together).
const NOT_RUNNABLE: &[Code] = &[
    Code::NestingTooDeep,
    Code::AnalysisIncomplete,
    Code::DuplicateProtocol,
];

struct Block {
    info: String,
    body: String,
}

/// Sections by code, each with its fenced blocks; and the prelude (the first
/// untagged `carepath` block).
fn sections() -> (String, Vec<(String, Vec<Block>)>) {
    let mut prelude = None;
    let mut sections: Vec<(String, Vec<Block>)> = Vec::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("### `carepath::") {
            let name = rest.split('`').next().unwrap_or_default().to_string();
            sections.push((name, Vec::new()));
        } else if let Some(info) = line.strip_prefix("```") {
            if info.is_empty() {
                continue;
            }
            let mut body = String::new();
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            if info == "carepath" && prelude.is_none() && sections.is_empty() {
                prelude = Some(body);
            } else if let Some((_, blocks)) = sections.last_mut() {
                blocks.push(Block {
                    info: info.to_string(),
                    body,
                });
            }
        }
    }
    (
        prelude.expect("the document starts with a prelude"),
        sections,
    )
}

fn fixtures() -> MemoryFs {
    MemoryFs::default()
        .with(
            "common.carepath",
            "library common { title \"Common\" }\nactor staff \"Staff\"\nquestion risk \"Is anyone at risk?\" { answer yes or no }\n",
        )
        .with("loop-a.carepath", "library loop-a { title \"A\" }\nimport \"loop-b.carepath\"\n")
        .with("loop-b.carepath", "library loop-b { title \"B\" }\nimport \"loop-a.carepath\"\n")
        .with(
            "other-protocol.carepath",
            "protocol other { title \"Other\" authority \"A\" source \"S\" policy most-serious }\n",
        )
}

fn codes_of(prelude: &str, block: &Block) -> Vec<(Code, Severity)> {
    let whole_file = block.info.ends_with("-file");
    let text = if whole_file {
        block.body.clone()
    } else {
        format!("{prelude}{}", block.body)
    };
    let fs = fixtures().with("example.carepath", &text);
    let (_, diags) = check_memory(&fs, "example.carepath");
    diags.iter().map(|d| (d.code, d.severity)).collect()
}

#[test]
fn every_code_is_documented_with_examples_that_hold() {
    let (prelude, sections) = sections();
    let mut failures = Vec::new();
    for &code in Code::ALL {
        let Some((_, blocks)) = sections.iter().find(|(n, _)| n == code.name()) else {
            failures.push(format!("{code}: no section in docs/diagnostics.md"));
            continue;
        };
        let wrong: Vec<&Block> = blocks.iter().filter(|b| b.info.contains("wrong")).collect();
        let right: Vec<&Block> = blocks.iter().filter(|b| b.info.contains("right")).collect();
        if wrong.is_empty() || right.is_empty() {
            failures.push(format!("{code}: needs a wrong and a right example"));
            continue;
        }
        for b in wrong {
            if !b.info.starts_with("carepath") {
                if !NOT_RUNNABLE.contains(&code) {
                    failures.push(format!("{code}: wrong example is not runnable"));
                }
                continue;
            }
            let got = codes_of(&prelude, b);
            if !got.iter().any(|(c, _)| *c == code) {
                failures.push(format!("{code}: wrong example gives {got:?}"));
            }
        }
        for b in right {
            let got = codes_of(&prelude, b);
            if got.iter().any(|(c, s)| *c == code || *s == Severity::Error) {
                failures.push(format!("{code}: right example gives {got:?}"));
            }
        }
    }
    for (name, _) in &sections {
        if Code::from_name(name).is_none() {
            failures.push(format!("docs/diagnostics.md documents unknown code {name}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
