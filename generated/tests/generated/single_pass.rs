//! The one-pass dispatch leaves unusual bodies to the two-pass path (runtime `single`).

use hookspec::runtime::{single_pass, Dispatch};
use hookspec::vezgo;

/// What the one-pass path answers, `None` when it leaves the body to the two-pass path.
fn one_pass<E: Dispatch<1>>(body: &str, fields: &[&'static str; 1]) -> Option<E> {
    let mut out = None;
    single_pass(body.as_bytes(), fields, true, &mut out);
    out
}

#[test]
fn leaves_unusual_bodies_to_the_two_pass_path() {
    let fields = &vezgo::Event::DISCRIMINATOR;
    let user = r#""user": {"id": "u", "loginName": "l"}, "account": {"id": "a", "provider": "p"}"#;
    let plain = format!(r#"{{"hook": "SyncAccount", {user}}}"#);
    assert_eq!(
        one_pass::<vezgo::Event>(&plain, fields).unwrap().name(),
        "SyncAccount"
    );
    let last = format!(r#"{{{user}, "hook": "SyncAccount"}}"#);
    assert_eq!(
        one_pass::<vezgo::Event>(&last, fields).unwrap().name(),
        "SyncAccount"
    );
    for body in [
        format!(r#"{{"hook": "Sync\u0041ccount", {user}}}"#),
        format!(r#"{{"hook": "SyncAccount", "hook": "SyncError", {user}}}"#),
        format!(r#"{{{user}, "hook": "SyncAccount", "hook": "SyncError"}}"#),
        format!(r#"{{"hook": "SyncAccount", {user}}} x"#),
        format!(r#"{{"n": 1, "hook": "SyncAccount", {user}}}"#),
        r#"{"hook": 1}"#.to_owned(),
        r#"{"a": "b"}"#.to_owned(),
        "[1]".to_owned(),
        // A repeated discriminator the backward scan sees last must not decide an
        // unknown event: the two-pass path reads the first.
        r#"{"x": 1, "hook": "SyncAccount", "hook": "Brand new"}"#.to_owned(),
    ] {
        assert_eq!(one_pass::<vezgo::Event>(&body, fields), None, "{body}");
    }
    // Unknown events read in one pass keep their discriminator and whole body.
    let unknown = r#"{"hook": "Brand new", "x": [1, {"y": null}]}"#;
    let event = one_pass::<vezgo::Event>(unknown, fields).unwrap();
    assert_eq!(Ok(&event), vezgo::Event::parse(unknown.as_bytes()).as_ref());
}
