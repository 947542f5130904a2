//! The inbox's stored-record decoding (a JetStream claim marker, and a stored message's
//! headers and payload) on arbitrary bytes: never a panic, and whatever decodes is stored
//! and read back unchanged (`hookspec_inbox::nats::check_record_round_trip`).
//!
//! Input: the marker, a NUL byte, header lines (`Name: value`), a NUL byte, the payload.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let marker = parts.next().unwrap_or_default();
    let head = parts.next().unwrap_or_default();
    let payload = parts.next().unwrap_or_default();
    let text = String::from_utf8_lossy(head);
    let headers: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    if let Err(finding) = hookspec_inbox::nats::check_record_round_trip(marker, &headers, payload) {
        panic!("{finding}");
    }
});
