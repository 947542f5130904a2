//! A spec that says its provider sends bodies with repeated keys
//! (`envelope.repeated_keys: last_wins`, the emitter fixture): every parse path reads the
//! last copy, so dispatch and the event agree. (Bundled providers refuse such bodies:
//! `generated/tests/generated/repeated_keys.rs`.)

use own_provider::emitter_fixture::via_macro::fixture::Event;

const CHANGED: &str = r#"{"kind": "thing", "code": "changed", "id": "d1", "sent_at": 1612782588323,
 "data": {"type": "a", "loginName": null, "amount": 10.50, "status": "paused",
          "tags": {"x": ["y"]}, "account": {"id": 7}, "on": null}}"#;

#[test]
fn the_last_copy_of_a_repeated_key_wins_on_every_path() {
    // A repeated discriminator, and a repeated field inside the payload.
    let body = CHANGED
        .replacen(
            r#""code": "changed""#,
            r#""code": "removed", "code": "changed""#,
            1,
        )
        .replacen(r#""amount": 10.50"#, r#""amount": 1, "amount": 10.50"#, 1);
    let with_x = |t: &str| t.replacen(r#"{"kind""#, r#"{"\u0078": 1, "kind""#, 1);
    for (text, written_once) in [
        (body.clone(), CHANGED.to_owned()),
        (with_x(&body), with_x(CHANGED)),
    ] {
        let expected = Event::parse(written_once.as_bytes()).unwrap();
        let one = Event::parse(text.as_bytes()).unwrap();
        assert_eq!(Event::parse_two_pass(text.as_bytes()).as_ref(), Ok(&one));
        // `changed`, not `removed`; amount 10.50, not 1: the document as if each key
        // had been written once, with its last value.
        assert_eq!(one, expected, "{text}");
    }
}
