//! Synthetic protocols for benchmarks: many questions of every kind, many
//! rules testing a few questions each, routes for two settings. Generated
//! from a seed, so every run measures the same text.

#![allow(dead_code)]

use std::fmt::Write;

/// A small deterministic generator (xorshift64*), so the benchmarks need no
/// random-number crate and always build the same protocols.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub struct Shape {
    pub questions: usize,
    pub rules: usize,
    pub levels: usize,
    /// Fewest and most questions a rule tests.
    pub min_tests: usize,
    pub max_tests: usize,
    /// Narrow tests (one option, one value) rather than broad ones.
    pub narrow: bool,
    pub policy: &'static str,
    pub otherwise: bool,
    pub seed: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    YesNo,
    OneOf(usize),
    Scale(usize),
    Count,
    Amount,
}

/// The text of a protocol of the given shape.
/// The 10,000-rule protocol the emit and decide benchmarks use: 40
/// questions, rules testing 1 to 4 of them, four levels, most serious wins.
pub fn ten_thousand_rules() -> String {
    protocol(&Shape {
        questions: 40,
        rules: 10_000,
        levels: 4,
        min_tests: 1,
        max_tests: 4,
        narrow: false,
        policy: "most-serious",
        otherwise: false,
        seed: 11,
    })
}

pub fn protocol(shape: &Shape) -> String {
    let mut rng = Rng::new(shape.seed);
    let mut out = String::with_capacity(shape.rules * 160 + shape.questions * 120);
    let _ = writeln!(
        out,
        "protocol synthetic {{\n  title \"A synthetic protocol\"\n  authority \"Benchmark Council\"\n  source \"Generated\"\n  policy {}",
        shape.policy
    );
    if shape.otherwise {
        out.push_str("  otherwise level-0\n");
    }
    out.push_str("}\n");
    out.push_str("setting residential \"Children's homes\" { cite \"1.1\" }\n");
    out.push_str("setting foster \"Foster carers\" { cite \"1.2\" }\n");
    out.push_str("actor staff \"Staff\"\nactor manager \"Manager\"\ncontact police-999 \"Police\" { phone \"999\" }\n");

    let mut kinds = Vec::with_capacity(shape.questions);
    for i in 0..shape.questions {
        let kind = match rng.below(5) {
            0 => Kind::YesNo,
            1 => Kind::OneOf(2 + rng.below(4) as usize),
            2 => Kind::Scale(3 + rng.below(3) as usize),
            3 => Kind::Count,
            _ => Kind::Amount,
        };
        kinds.push(kind);
        let _ = write!(
            out,
            "question q{i} \"Is question {i} answered?\" {{\n  answer "
        );
        match kind {
            Kind::YesNo => out.push_str("yes or no"),
            Kind::OneOf(n) => {
                out.push_str("one of { ");
                for o in 0..n {
                    let _ = write!(out, "o{o} \"Option {o}\" ");
                }
                out.push('}');
            }
            Kind::Scale(n) => {
                out.push_str("scale { ");
                for o in 0..n {
                    if o > 0 {
                        out.push_str("< ");
                    }
                    let _ = write!(out, "s{o} ");
                }
                out.push('}');
            }
            Kind::Count => out.push_str("count from 1"),
            Kind::Amount => out.push_str("amount \"£\""),
        }
        let _ = writeln!(out, "\n  cite \"2.{i}\"\n}}");
    }

    for l in 0..shape.levels {
        let police = ["none", "report", "emergency"][l.min(2)];
        let _ = writeln!(
            out,
            "level level-{l} \"Level {l}\" {{ police {police} cite \"3.{l}\" }}"
        );
    }

    for r in 0..shape.rules {
        let span = (shape.max_tests - shape.min_tests + 1) as u64;
        let tests = shape.min_tests + rng.below(span) as usize;
        let mut atoms = Vec::with_capacity(tests);
        for _ in 0..tests {
            let q = rng.below(shape.questions as u64) as usize;
            let atom = match kinds[q] {
                Kind::OneOf(n) if shape.narrow => format!("q{q} == o{}", rng.below(n as u64)),
                Kind::Scale(n) if shape.narrow => format!("q{q} == s{}", rng.below(n as u64)),
                Kind::Count if shape.narrow => format!("q{q} == {}", 1 + rng.below(5)),
                Kind::YesNo => {
                    if rng.below(2) == 0 {
                        format!("q{q}")
                    } else {
                        format!("not q{q}")
                    }
                }
                Kind::OneOf(n) => match rng.below(2) {
                    0 => format!("q{q} == o{}", rng.below(n as u64)),
                    _ => format!("q{q} in {{o0, o{}}}", 1 + rng.below(n as u64 - 1)),
                },
                Kind::Scale(n) => format!("q{q} >= s{}", rng.below(n as u64)),
                Kind::Count => format!("q{q} >= {}", 1 + rng.below(5)),
                // Protocols compare amounts with a few thresholds, not
                // with a new value in every rule.
                Kind::Amount => format!(
                    "q{q} > {}",
                    [50, 100, 250, 500, 1000][rng.below(5) as usize]
                ),
            };
            atoms.push(atom);
        }
        let level = rng.below(shape.levels as u64);
        let _ = writeln!(
            out,
            "rule r{r} \"Rule {r}\" {{\n  when {}\n  then level-{level}\n  cite \"4.{r}\"\n}}",
            atoms.join(" and ")
        );
    }

    out.push_str("route main \"Main route\" {\n  for residential, foster\n  cite \"5\"\n");
    for l in 0..shape.levels {
        let _ = writeln!(out, "  start level-{l} -> step-{l}");
        let _ = writeln!(
            out,
            "  step step-{l} \"Respond to a level {l} incident\" {{ by staff contact police-999 timing within 24 hours then done }}"
        );
    }
    out.push_str("  outcome done \"Recorded\"\n}\n");
    out
}

/// Dorset's protocol (`dorset`, the text of `protocols/dorset.carepath`)
/// with `n` rules appended that each compare one of its two occasion counts
/// with a threshold of its own (`>= 3`, `>= 4`, ...) and test one other
/// question: the shape that gives the counts one answer class per
/// threshold.
pub fn dorset_with_thresholds(dorset: &str, n: usize) -> String {
    const COUNTS: [&str; 2] = ["bc-possession-occasion", "a-possession-occasion"];
    const OTHERS: [&str; 6] = [
        "prolonged",
        "repeated-behaviour",
        "weapon",
        "theft == minor",
        "damage == moderate",
        "assault and injury == minor",
    ];
    let mut out = String::with_capacity(dorset.len() + n * 120);
    out.push_str(dorset);
    for i in 0..n {
        let _ = writeln!(
            out,
            "rule extra-{i} \"Threshold {i}\" {{\n  when {} >= {} and {}\n  then level-2\n  cite \"6.18\"\n}}",
            COUNTS[i % 2],
            3 + i,
            OTHERS[i % OTHERS.len()]
        );
    }
    out
}

/// The rule pack of [`dorset_with_thresholds`], compiled in memory (lowered
/// and emitted; imports read from `protocols/common/`). The analysis is
/// skipped: it adds nothing to the pack but accepted findings, which this
/// protocol has none of.
pub fn dorset_threshold_pack(n: usize) -> carepath::emit::pack::RulePack {
    use carepath::model::{ReadError, Workspace, lower};
    use std::path::Path;

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocols");
    let path = dir.join("dorset.carepath");
    let dorset = std::fs::read_to_string(&path).expect("protocols/dorset.carepath is readable");
    let text = dorset_with_thresholds(&dorset, n);
    let mut read = |p: &Path| std::fs::read_to_string(p).map_err(|_| ReadError::NotFound);
    let mut ws = Workspace::new();
    let root = ws.add_root(&path, &dir, text.clone(), &mut read);
    let lowered = lower(&ws, root);
    let errors: Vec<String> = lowered
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let model = lowered.model.expect("no errors, so a model");
    let files = [carepath::emit::SourceText {
        path: "dorset.carepath".into(),
        text: &text,
    }];
    carepath::emit::rule_pack(&model, &files, &lowered.diagnostics)
}
