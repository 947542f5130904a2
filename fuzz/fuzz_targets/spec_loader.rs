//! The spec loader on arbitrary text: a typed diagnostic or a spec, never a panic or a
//! hang. A spec that loads is also turned into the run-time provider (the reference
//! receiver's `--spec-dir` path), which then parses the spec's own examples.

#![no_main]

use hookspec::runtime::Provider as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = hookspec_codegen::load_str("fuzz.yaml", text) else {
        return;
    };
    let runtime = hookspec_reference_receiver::spec_provider(&spec);
    for event in &spec.events {
        let headers = http::HeaderMap::new();
        for example in &event.examples {
            let _ = runtime.parse(&headers, example.as_bytes());
        }
    }
});
