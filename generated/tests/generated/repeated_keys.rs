//! Regression tests for what fuzzing found in the parsers: a body that repeats a key was
//! read one way by dispatch and another by the kept body, depending on unrelated bytes.
//! Every parse path now refuses such a body with `ParseError::RepeatedKey`, and what is
//! accepted re-serializes to JSON that parses to the same event.

use std::path::Path;

use hookspec::runtime::ParseError;

use crate::common;

fn specs() -> Vec<hookspec_codegen::LoadedSpec> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    hookspec_codegen::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn repeated(key: &str) -> ParseError {
    ParseError::RepeatedKey {
        key: key.to_owned(),
        object: "$".to_owned(),
    }
}

/// The fuzzer's pair: the first copy of `webhook_code` decided the event, unless an
/// escaped key in front sent the body to the fallback parser, where the last copy did.
#[test]
fn a_repeated_discriminator_is_refused_whatever_comes_before_it() {
    let plain = br#"{"webhook_type":"S","webhook_code":"A","webhook_code":"B"}"#;
    let escaped = br#"{"\u0078":1,"webhook_type":"S","webhook_code":"A","webhook_code":"B"}"#;
    for body in [&plain[..], &escaped[..]] {
        let text = String::from_utf8_lossy(body);
        assert_eq!(
            hookspec::plaid::Event::parse(body),
            Err(repeated("webhook_code")),
            "{text}"
        );
        assert_eq!(
            hookspec::plaid::Event::parse_two_pass(body),
            Err(repeated("webhook_code")),
            "{text}"
        );
    }
}

/// A valid `PRODUCT_READY` with a trailing repeated `webhook_code` was refused as a
/// bad event, or, with an escaped key in front, accepted as an unknown event: now it is
/// the same refusal either way, naming the key.
#[test]
fn a_valid_event_with_a_trailing_repeat_is_refused_the_same_way_on_every_path() {
    let spec = specs()
        .into_iter()
        .find(|s| s.spec.provider == "plaid")
        .unwrap()
        .spec;
    let event = spec
        .events
        .iter()
        .find(|e| e.name == "AssetsProductReady")
        .unwrap_or_else(|| {
            panic!(
                "{:?}",
                spec.events.iter().map(|e| &e.name).collect::<Vec<_>>()
            )
        });
    let example = event.examples[0].trim_end();
    let open = example.find('{').unwrap() + 1;
    let close = example.rfind('}').unwrap();
    let trailing = format!(
        "{},\"webhook_code\":\"SOMETHING_ELSE\"}}",
        &example[..close].trim_end()
    );
    let escaped_first = format!("{{\"\\u0078\":1,{}", &trailing[open..]);
    for body in [&trailing, &escaped_first] {
        assert_eq!(
            hookspec::plaid::Event::parse(body.as_bytes()),
            Err(repeated("webhook_code")),
            "{body}"
        );
        assert_eq!(
            hookspec::plaid::Event::parse_two_pass(body.as_bytes()),
            Err(repeated("webhook_code")),
            "{body}"
        );
    }
    // The example itself still parses.
    assert!(hookspec::plaid::Event::parse(example.as_bytes()).is_ok());
}

/// Every documented example of every provider, with its first key repeated at the end,
/// is refused by the provider's delivery parser, naming that key.
#[test]
fn every_provider_refuses_every_example_with_a_repeated_key() {
    let mut checked = 0;
    for loaded in specs() {
        let spec = &loaded.spec;
        for event in &spec.events {
            for text in &event.examples {
                let doc: serde_json::Value = serde_json::from_str(text).unwrap();
                let Some((first, value)) = doc.as_object().and_then(|o| o.iter().next()) else {
                    continue;
                };
                let close = text.rfind('}').unwrap();
                let body = format!(
                    "{},{}:{}}}",
                    &text[..close].trim_end(),
                    serde_json::Value::String(first.clone()),
                    value
                );
                let headers =
                    common::header_map(&hookspec_codegen::check::when_headers(spec, event));
                let parsed = hookspec::parse_delivery(&spec.provider, &headers, body.as_bytes())
                    .expect("provider exists");
                assert_eq!(
                    parsed.err(),
                    Some(repeated(first)),
                    "{} {}",
                    spec.provider,
                    event.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 100, "only {checked} examples");
}

/// An accepted unknown event re-serializes to JSON that parses to the same event (the
/// fuzzer found one that did not, through a repeated key the kept body had dropped).
#[test]
fn unknown_events_re_serialize_to_json_that_parses_the_same() {
    let bodies: [&[u8]; 3] = [
        br#"{"webhook_type":"NEW_THING","webhook_code":"X","item_id":"i"}"#,
        br#"{"\u0078":1,"webhook_type":"S","webhook_code":"A"}"#,
        br#"{"webhook_type":"S\u00e9","webhook_code":"\"quoted\"","n":1.50e3}"#,
    ];
    for body in bodies {
        let event = hookspec::plaid::Event::parse(body).unwrap();
        let again = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            hookspec::plaid::Event::parse(&again).as_ref(),
            Ok(&event),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}
