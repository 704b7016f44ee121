//! Synthetic protocols for benchmarks: many questions of every kind, many
//! rules testing a few questions each, routes for two settings. Generated
//! from a seed, so every run measures the same text. The tests use them too
//! (`tests/equivalence.rs`), with the constructs of the second model of
//! decisions turned on ([`Decisions`]).

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

/// What the second model of decisions adds to a protocol: the setting
/// tested in conditions, `may` rules (which suggest a level and do not
/// decide it), police responses per rule and per setting, and procedures
/// alongside the level. All off by default ([`protocol`]), so the
/// benchmarks' protocols keep their text; drawn from a generator of their
/// own, so turning them on changes nothing else.
#[derive(Clone, Copy, Debug, Default)]
pub struct Decisions {
    /// One rule in this many also tests the setting (0: none).
    pub setting_tests: u64,
    /// One rule in this many is `strength may` (0: none).
    pub may: u64,
    /// One rule in this many has police responses of its own, for every
    /// setting, for one, or both (0: none).
    pub rule_police: u64,
    /// Each level has a police response of its own for foster carers.
    pub setting_police: bool,
    /// Procedures, each with a condition like a rule's (which may test the
    /// setting) and a route for both settings.
    pub procedures: usize,
}

/// Police responses, least police first; `unstated` compares with nothing.
const RESPONSES: [&str; 7] = [
    "none",
    "judgement by manager",
    "advice",
    "report",
    "prompt",
    "emergency",
    "unstated",
];

/// The settings of every synthetic protocol.
const SETTINGS: [&str; 2] = ["residential", "foster"];

#[derive(Clone, Copy)]
enum Kind {
    YesNo,
    OneOf(usize),
    Scale(usize),
    Count,
    Amount,
}

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

/// The text of a protocol of the given shape.
pub fn protocol(shape: &Shape) -> String {
    protocol_with(shape, &Decisions::default())
}

/// The text of a protocol of the given shape, with what `more` asks for of
/// the second model of decisions.
pub fn protocol_with(shape: &Shape, more: &Decisions) -> String {
    let mut rng = Rng::new(shape.seed);
    // The constructs of `more` draw from here, never from `rng`.
    let mut extra = Rng::new(shape.seed ^ 0x9e37_79b9_7f4a_7c15);
    let one_in = |rng: &mut Rng, n: u64| n > 0 && rng.below(n) == 0;
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
        let mut police = ["none", "report", "emergency"][l.min(2)].to_string();
        if more.setting_police {
            let r = RESPONSES[extra.below(RESPONSES.len() as u64) as usize];
            police.push_str(&format!(" police {r} for foster"));
        }
        let _ = writeln!(
            out,
            "level level-{l} \"Level {l}\" {{ police {police} cite \"3.{l}\" }}"
        );
    }

    // A test of the setting, in a rule or a procedure.
    let setting_atom = |extra: &mut Rng| {
        [
            "setting == foster",
            "setting == residential",
            "setting != foster",
            "setting in {residential, foster}",
        ][extra.below(4) as usize]
    };
    for r in 0..shape.rules {
        let span = (shape.max_tests - shape.min_tests + 1) as u64;
        let tests = shape.min_tests + rng.below(span) as usize;
        let mut atoms = Vec::with_capacity(tests);
        for _ in 0..tests {
            let q = rng.below(shape.questions as u64) as usize;
            let atom = test(&mut rng, kinds[q], q, shape.narrow);
            atoms.push(atom);
        }
        let level = rng.below(shape.levels as u64);
        let mut props = String::new();
        if one_in(&mut extra, more.setting_tests) {
            let at = extra.below(atoms.len() as u64 + 1) as usize;
            atoms.insert(at, setting_atom(&mut extra).to_string());
        }
        if one_in(&mut extra, more.may) {
            props.push_str("  strength may\n");
        }
        if one_in(&mut extra, more.rule_police) {
            props.push_str(&police_lines(&mut extra));
        }
        let _ = writeln!(
            out,
            "rule r{r} \"Rule {r}\" {{\n  when {}\n  then level-{level}\n{props}  cite \"4.{r}\"\n}}",
            atoms.join(" and ")
        );
    }

    // Procedures: one to three tests, the setting among them sometimes.
    for p in 0..more.procedures {
        let mut atoms = Vec::new();
        for _ in 0..1 + extra.below(3) {
            let q = extra.below(shape.questions as u64) as usize;
            atoms.push(test(&mut extra, kinds[q], q, shape.narrow));
        }
        if one_in(&mut extra, more.setting_tests) {
            atoms.push(setting_atom(&mut extra).to_string());
        }
        let police = if extra.below(3) == 0 {
            String::new()
        } else {
            police_lines(&mut extra)
        };
        let _ = writeln!(
            out,
            "procedure proc-{p} \"Procedure {p}\" {{\n  when {}\n{police}  cite \"6.{p}\"\n}}",
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
    for p in 0..more.procedures {
        let _ = writeln!(out, "  start proc-{p} -> proc-step-{p}");
        let _ = writeln!(
            out,
            "  step proc-step-{p} \"Follow procedure {p}\" {{ by manager then done }}"
        );
    }
    out.push_str("  outcome done \"Recorded\"\n}\n");
    out
}

/// One to two police responses of a rule or procedure: for every setting,
/// for one, or both, one line each.
fn police_lines(rng: &mut Rng) -> String {
    let mut lines = String::new();
    let mut line = |rng: &mut Rng, setting: Option<&str>| {
        let response = RESPONSES[rng.below(RESPONSES.len() as u64) as usize];
        let _ = match setting {
            None => writeln!(lines, "  police {response}"),
            Some(s) => writeln!(lines, "  police {response} for {s}"),
        };
    };
    match rng.below(4) {
        0 => line(rng, None),
        1 => {
            let s = SETTINGS[rng.below(2) as usize];
            line(rng, Some(s));
        }
        2 => {
            line(rng, None);
            line(rng, Some("foster"));
        }
        _ => {
            line(rng, Some("residential"));
            line(rng, Some("foster"));
        }
    }
    lines
}

/// A test of question `q`, of kind `kind`, as a rule writes it.
fn test(rng: &mut Rng, kind: Kind, q: usize, narrow: bool) -> String {
    match kind {
        Kind::OneOf(n) if narrow => format!("q{q} == o{}", rng.below(n as u64)),
        Kind::Scale(n) if narrow => format!("q{q} == s{}", rng.below(n as u64)),
        Kind::Count if narrow => format!("q{q} == {}", 1 + rng.below(5)),
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
        // Protocols compare amounts with a few thresholds, not with a new
        // value in every rule.
        Kind::Amount => format!(
            "q{q} > {}",
            [50, 100, 250, 500, 1000][rng.below(5) as usize]
        ),
    }
}

/// Dorset's protocol (`dorset`, the text of `protocols/dorset.carepath`)
/// with `n` rules appended that each compare one of its two occasion counts
/// with a threshold of its own (`>= 3`, `>= 4`, ...) and test one other
/// question: the shape that gives the counts one answer class per
/// threshold.
pub fn dorset_with_thresholds(dorset: &str, n: usize) -> String {
    const COUNTS: [&str; 2] = ["bc-occasion", "a-occasion"];
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
