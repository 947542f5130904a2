//! Every provider's parser on arbitrary bodies (and routing headers), held to three
//! agreements: the one-pass parser answers what the two-pass parser answers; an accepted
//! event re-serialized parses to the same event; the run-time spec provider (the
//! reference receiver's `--spec-dir` path) picks the same event, and refuses what the
//! generated parser refuses as not JSON, repeated keys or no discriminator.

#![no_main]

use std::sync::OnceLock;

use hookspec::runtime::{ParseError, Provider as _};
use hookspec_fuzz::{spec, split, with_provider};
use libfuzzer_sys::fuzz_target;

/// The run-time provider of each spec, built once (it leaks its rules by design).
fn runtime_provider(provider: &str) -> &'static hookspec::runtime::SpecProvider {
    static BUILT: OnceLock<Vec<(String, hookspec::runtime::SpecProvider)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        hookspec_fuzz::specs()
            .iter()
            .map(|s| {
                (
                    s.provider.clone(),
                    hookspec_reference_receiver::spec_provider(s),
                )
            })
            .collect()
    });
    &built.iter().find(|(p, _)| p == provider).expect("listed").1
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = split(data, 0) else { return };
    let spec = spec(input.provider);
    // One value per routing header, in the spec's order.
    let mut values = input.head.split(|&b| b == b'\n');
    let mut headers = http::HeaderMap::new();
    for d in &spec.discriminator {
        if let Some(name) = hookspec_codegen::model::header_ref(d) {
            let value = values.next().unwrap_or_default();
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value),
            ) {
                headers.insert(n, v);
            }
        }
    }
    let body = input.body;
    // The byte scan that settles most bodies against the full serde walk.
    assert_eq!(
        hookspec::runtime::repeated_key(body),
        hookspec::runtime::repeated_key_exact(body),
        "the repeated-key scan and walk disagree"
    );
    let parsed = hookspec::parse_delivery(input.provider, &headers, body).expect("listed");

    // One pass against two (providers that route on the body only; the others have one
    // path).
    let routed = spec
        .discriminator
        .iter()
        .any(|d| hookspec_codegen::model::header_ref(d).is_some());
    if !routed {
        with_provider!(input.provider, |m| {
            assert_eq!(
                m::Event::parse(body),
                m::Event::parse_two_pass(body),
                "one-pass and two-pass parsers disagree"
            );
        });
    }

    // Re-serialized, an accepted event parses to itself.
    if let Ok(event) = &parsed {
        let again = serde_json::to_vec(event).expect("an event serializes");
        let back = hookspec::parse_delivery(input.provider, &headers, &again).expect("listed");
        assert_eq!(
            back.as_ref(),
            Ok(event),
            "re-serialized event parses differently: {}",
            String::from_utf8_lossy(&again)
        );
    }

    // The run-time provider built from the same spec.
    let by_spec = runtime_provider(input.provider).parse(&headers, body);
    match (&parsed, &by_spec) {
        (Ok(event), Ok(found)) => assert_eq!(event.name(), found.name, "events differ"),
        (
            Err(
                e @ (ParseError::NotJson { .. }
                | ParseError::RepeatedKey { .. }
                | ParseError::Discriminator { .. }),
            ),
            Ok(found),
        ) => panic!(
            "generated parser: {e}; spec provider accepted {}",
            found.name
        ),
        _ => {}
    }
});
