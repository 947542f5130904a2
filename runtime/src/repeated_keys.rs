//! Bodies that repeat a key in one object are refused before any parser reads them.
//!
//! JSON leaves a repeated key's meaning open (RFC 8259 only says names "SHOULD be
//! unique"; I-JSON, RFC 7493, forbids them), and readers disagree: a byte scan stops at the
//! first copy, serde takes the last. Dispatch, the handler and anything downstream that
//! re-reads the body must never see different events in one delivery, so a body with a
//! repeated key is a [`ParseError::RepeatedKey`](crate::ParseError::RepeatedKey) and never
//! reaches them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The first key that `body` repeats within one object, with the JSON path of that
/// object (`$`, `$.data`, `$.items[2]`), or `None` when no object repeats a key. A body
/// that is not JSON answers `None`: the parser reports that with its own error.
pub fn repeated_key(body: &[u8]) -> Option<(String, String)> {
    let found = RefCell::new(None);
    let path = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let walk = Walk {
        found: &found,
        path: &path,
    };
    // The whole body is walked even past a repeat: a body that is not JSON after all is
    // the parser's to report.
    if walk.deserialize(&mut de).is_err() || de.end().is_err() {
        return None;
    }
    found.into_inner()
}

/// Where the walk is: object keys and array indexes from the root.
enum Step<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

#[derive(Clone, Copy)]
struct Walk<'a, 'de> {
    found: &'a RefCell<Option<(String, String)>>,
    path: &'a RefCell<Vec<Step<'de>>>,
}

impl Walk<'_, '_> {
    fn path_text(&self) -> String {
        let mut out = String::from("$");
        for step in self.path.borrow().iter() {
            match step {
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    // With serde_json's `arbitrary_precision` a number arrives as a one-entry map with a
    // private key; walking it as a map is harmless (one key, never repeated).

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            self.path.borrow_mut().push(Step::Index(i));
            let more = seq.next_element_seed(self)?;
            self.path.borrow_mut().pop();
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Objects in webhook bodies are small: a linear search beats hashing below a few
        // dozen keys, and a set takes over past that.
        const LINEAR: usize = 32;
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        let mut set: Option<std::collections::HashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let repeated = match &mut set {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let repeated = keys.contains(&key);
                    keys.push(key.clone());
                    if keys.len() > LINEAR {
                        set = Some(keys.drain(..).collect());
                    }
                    repeated
                }
            };
            if repeated && self.found.borrow().is_none() {
                *self.found.borrow_mut() = Some((key.to_string(), self.path_text()));
            }
            self.path.borrow_mut().push(Step::Key(key));
            map.next_value_seed(self)?;
            self.path.borrow_mut().pop();
        }
        Ok(())
    }
}

/// A key, borrowed from the body unless it has escapes: `"a"` and `"\u0061"` are the same
/// key, and only the unescaped text tells.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
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

    /// Not JSON, or JSON the parser refuses for depth: the parser's own error tells.
    #[test]
    fn bodies_that_are_not_json_are_left_to_the_parser() {
        assert_eq!(repeated("{\"a\":1,\"a\""), None);
        assert_eq!(repeated("not json"), None);
    }
}
