//! The `validate` reader on arbitrary captures (JSON lines or a HAR file), for every
//! provider, through to its JSON and text reports: never a panic.

#![no_main]

use hookspec_conformance::validate::{captured, validate};
use hookspec_fuzz::{spec, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = split(data, 0) else { return };
    let text = String::from_utf8_lossy(input.body);
    let payloads = captured(&text);
    let report = validate(spec(input.provider), &payloads);
    let _ = report.to_json();
    let _ = report.to_pretty();
});
