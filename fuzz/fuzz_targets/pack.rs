//! Any bytes in as a rule pack: loading refuses what it cannot use with an
//! error, never a panic, and a pack that loads can decide.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(engine) = carepath::eval::Engine::from_json(text) else { return };
    let answers = engine
        .answers(&serde_json::Map::new())
        .expect("no answers are never bad answers");
    let _ = engine.next_question(&answers);
    for s in &engine.pack.settings {
        let _ = engine.decide(&answers, &s.id);
    }
});
