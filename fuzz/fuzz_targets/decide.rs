//! Arbitrary answers against the five committed rule packs: checking,
//! deciding and choosing the next question never panic, and a decision is
//! only given when the answers settle it.
#![no_main]

use std::sync::OnceLock;

use carepath::eval::Engine;
use libfuzzer_sys::fuzz_target;

const PACKS: [&str; 5] = [
    include_str!("../../out/derbyshire.json"),
    include_str!("../../out/dorset.json"),
    include_str!("../../out/stockport.json"),
    include_str!("../../out/west-sussex.json"),
    include_str!("../../out/wiltshire.json"),
];

fn engines() -> &'static [Engine] {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        PACKS
            .iter()
            .map(|p| Engine::from_json(p).expect("a committed pack loads"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let engine = &engines()[which as usize % PACKS.len()];
    let Ok(text) = std::str::from_utf8(rest) else { return };
    // Typed answers, as `--answer q=v` and the interactive prompt read them.
    if let Some((q, v)) = text.split_once('=') {
        let _ = engine.parse_answer(q, v);
    }
    let Ok(serde_json::Value::Object(given)) = serde_json::from_str(text) else { return };
    let Ok(answers) = engine.answers(&given) else { return };
    let next = engine.next_question(&answers).map(|q| q.id.clone());
    for s in &engine.pack.settings {
        if engine.decide(&answers, &s.id).is_ok() {
            assert!(next.is_none(), "decided, yet {next:?} could still change the level");
        }
    }
});
