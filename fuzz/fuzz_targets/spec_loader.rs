//! The spec loader on arbitrary text: a typed diagnostic or a spec, never a panic or a
//! hang. A spec that loads is also lowered as the code generator lowers it, and its own
//! examples are checked against its shapes as the run-time spec provider checks bodies.
//! (The run-time provider itself leaks its rules once per spec by design, so it is fuzzed
//! through the parse target, built once per bundled spec.)

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = hookspec_codegen::load_str("fuzz.yaml", text) else {
        return;
    };
    let _ = hookspec_codegen::ir::lower(&spec);
    let _ = spec.routing();
    for event in &spec.events {
        for example in &event.examples {
            if let Ok(body) = serde_json::from_str::<serde_json::Value>(example) {
                let _ = hookspec_codegen::check::check_event_body(&spec, event, &body);
            }
        }
    }
});
