//! Bodies that repeat a key in one object are refused before any parser reads them.
//!
//! JSON leaves a repeated key's meaning open (RFC 8259 only says names "SHOULD be
//! unique"; I-JSON, RFC 7493, forbids them), and readers disagree: a byte scan stops at the
//! first copy, serde takes the last. Dispatch, the handler and anything downstream that
//! re-reads the body must never see different events in one delivery, so a body with a
//! repeated key is a [`ParseError::RepeatedKey`](crate::ParseError::RepeatedKey) and never
//! reaches them.

use std::borrow::Cow;

/// The first key that `body` repeats within one object, with the JSON path of that
/// object (`$`, `$.data`, `$.items[2]`), or `None` when no object repeats a key. A body
/// that is not JSON answers `None`: the parser reports that with its own error.
pub fn repeated_key(body: &[u8]) -> Option<(String, String)> {
    // A byte scan settles almost every body at a fraction of a parse; a repeat (to name
    // it and its object) or an escaped key (whose text only a parse knows) takes the
    // exact reading.
    match crate::scan::keys_unique(body) {
        Some(true) => None,
        Some(false) | None => repeated_key_exact(body),
    }
}

/// [`repeated_key`] by a full serde walk alone: the reference the byte scan is held to
/// (the fuzz targets compare them).
#[doc(hidden)]
pub fn repeated_key_exact(body: &[u8]) -> Option<(String, String)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    // The whole body is walked even past a repeat: a body that is not JSON after all is
    // the parser's to report.
    let found = hookspec_core::first_repeated_key(&mut de).ok()?;
    de.end().ok()?;
    found
}

/// `body` as every reader of a provider that sends repeated keys must see it: unchanged
/// when no object repeats a key (or it is not JSON: the parser reports that), else
/// re-serialized with the last copy of each repeated key, so dispatch, the handler and the
/// kept body cannot disagree. Number text is kept exactly when serde_json's
/// `arbitrary_precision` is on, as the `hookspec` crate turns it on.
pub fn last_copies_win(body: &[u8]) -> Cow<'_, [u8]> {
    if repeated_key(body).is_none() {
        return Cow::Borrowed(body);
    }
    match serde_json::from_slice::<serde_json::Value>(body).and_then(|v| serde_json::to_vec(&v)) {
        Ok(rewritten) => Cow::Owned(rewritten),
        Err(_) => Cow::Borrowed(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repeated(body: &str) -> Option<(String, String)> {
        repeated_key(body.as_bytes())
    }

    #[test]
    fn unique_keys_pass_at_every_depth() {
        assert_eq!(
            repeated(r#"{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]}}"#),
            None
        );
        assert_eq!(repeated(r#"[1,"x",null,true,{"k":1.50}]"#), None);
    }

    #[test]
    fn the_first_repeat_is_named_with_its_object() {
        assert_eq!(
            repeated(r#"{"webhook_type":"S","webhook_code":"A","webhook_code":"B"}"#),
            Some(("webhook_code".into(), "$".into()))
        );
        assert_eq!(
            repeated(r#"{"data":{"items":[{"id":1},{"id":2,"id":3}]}}"#),
            Some(("id".into(), "$.data.items[1]".into()))
        );
    }

    /// The differential the fuzzer found: an escaped spelling is the same key.
    #[test]
    fn escaped_spellings_are_the_same_key() {
        assert_eq!(
            repeated(r#"{"\u0078":1,"type":"a","typ\u0065":"b"}"#),
            Some(("type".into(), "$".into()))
        );
        assert_eq!(
            repeated(r#"{"x":1,"\u0078":2}"#),
            Some(("x".into(), "$".into()))
        );
    }

    /// Many keys switch the search to a set; repeats are still found.
    #[test]
    fn wide_objects_are_checked_too() {
        let mut body = String::from("{");
        for i in 0..100 {
            body.push_str(&format!("\"k{i}\":{i},"));
        }
        body.push_str("\"k7\":0}");
        assert_eq!(repeated(&body), Some(("k7".into(), "$".into())));
        assert_eq!(repeated(&body.replace("\"k7\":0}", "\"k100\":0}")), None);
    }

    /// The byte scan keeps each object's keys apart: a key may recur in sibling and
    /// nested objects, and a string value is never taken for a key.
    #[test]
    fn keys_belong_to_their_own_object() {
        for body in [
            r#"{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":"a","d":{"c":"c"}}"#,
            r#"{"x":[{"k":1,"v":[1,{"k":2}]},{"k":3}],"k":["k","k"]}"#,
        ] {
            assert_eq!(repeated(body), None, "{body}");
            assert_eq!(repeated_key_exact(body.as_bytes()), None, "{body}");
        }
        assert_eq!(
            repeated(r#"{"a":{"b":1},"c":[1],"a":2}"#),
            Some(("a".into(), "$".into()))
        );
    }

    /// Not JSON, or JSON the parser refuses for depth: the parser's own error tells.
    #[test]
    fn bodies_that_are_not_json_are_left_to_the_parser() {
        assert_eq!(repeated("{\"a\":1,\"a\""), None);
        assert_eq!(repeated("not json"), None);
    }
}
