use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::ParseError;

/// What dispatch needs from a body before choosing the event's type: the discriminator
/// values, and which of a few fields are present and with what JSON type.
#[derive(Debug, Default)]
pub struct Probe<'a> {
    /// Discriminator values, in the order asked for.
    pub values: Vec<Option<Cow<'a, str>>>,
    /// For each asked-for selector field: its JSON type (`"null"`, `"string"`, ...) or
    /// `None` when absent.
    pub present: Vec<Option<&'static str>>,
}

impl Probe<'_> {
    /// Whether selector field `i` is present.
    pub fn has(&self, i: usize) -> bool {
        self.present[i].is_some()
    }

    /// Whether selector field `i` has JSON type `ty`.
    pub fn is(&self, i: usize, ty: &str) -> bool {
        self.present[i] == Some(ty)
    }
}

/// Reads the top level of `body` once, borrowing the discriminator strings and skipping
/// everything else without allocating.
pub fn probe<'a>(
    body: &'a [u8],
    discriminators: &[&'static str],
    selectors: &[&'static str],
) -> Result<Probe<'a>, ParseError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = ProbeSeed {
        discriminators,
        selectors,
    };
    let probe = seed.deserialize(&mut de).map_err(|e| ParseError::NotJson {
        message: e.to_string(),
    })?;
    de.end().map_err(|e| ParseError::NotJson {
        message: e.to_string(),
    })?;
    for (value, field) in probe.values.iter().zip(discriminators) {
        if value.is_none() {
            return Err(ParseError::Discriminator {
                field,
                message: "missing, or not a string".to_owned(),
            });
        }
    }
    Ok(probe)
}

struct ProbeSeed<'s> {
    discriminators: &'s [&'static str],
    selectors: &'s [&'static str],
}

impl<'de> DeserializeSeed<'de> for ProbeSeed<'_> {
    type Value = Probe<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProbeSeed<'_> {
    type Value = Probe<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut probe = Probe {
            values: vec![None; self.discriminators.len()],
            present: vec![None; self.selectors.len()],
        };
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if let Some(i) = self.discriminators.iter().position(|d| *d == key) {
                let v = map.next_value::<Kind<'de>>()?;
                probe.values[i] = v.text;
                if let Some(j) = self.selectors.iter().position(|s| *s == key) {
                    probe.present[j] = Some(v.kind);
                }
            } else if let Some(j) = self.selectors.iter().position(|s| *s == key) {
                probe.present[j] = Some(map.next_value::<Kind<'de>>()?.kind);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(probe)
    }
}

/// A value's JSON type, and its text when it is a string.
struct Kind<'a> {
    kind: &'static str,
    text: Option<Cow<'a, str>>,
}

impl<'de> serde::Deserialize<'de> for Kind<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

macro_rules! kind {
    ($($method:ident($ty:ty) => $name:literal),* $(,)?) => {
        $(fn $method<E: serde::de::Error>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(Kind { kind: $name, text: None })
        })*
    };
}

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    kind! {
        visit_bool(bool) => "boolean",
        visit_i64(i64) => "number",
        visit_u64(u64) => "number",
        visit_f64(f64) => "number",
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Kind {
            kind: "string",
            text: Some(Cow::Borrowed(v)),
        })
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Kind {
            kind: "string",
            text: Some(Cow::Owned(v.to_owned())),
        })
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Kind {
            kind: "null",
            text: None,
        })
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Kind {
            kind: "null",
            text: None,
        })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Kind {
            kind: "array",
            text: None,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // With arbitrary precision on, serde_json hands numbers over as a one-entry map.
        let mut kind = "object";
        while let Some(k) = map.next_key::<Cow<'de, str>>()? {
            if k == "$serde_json::private::Number" {
                kind = "number";
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(Kind { kind, text: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_discriminators_and_selectors() {
        let body = br#"{"webhook_type": "TRANSACTIONS", "x": {"a": [1, 2]}, "account_id": "a", "error": null, "webhook_code": "DEFAULT_UPDATE", "n": 1.5}"#;
        let p = probe(
            body,
            &["webhook_type", "webhook_code"],
            &["item_id", "account_id", "error", "n"],
        )
        .unwrap();
        assert_eq!(p.values[0].as_deref(), Some("TRANSACTIONS"));
        assert_eq!(p.values[1].as_deref(), Some("DEFAULT_UPDATE"));
        assert!(!p.has(0));
        assert!(p.is(1, "string"));
        assert!(p.is(2, "null"));
        assert!(p.is(3, "number"));
    }

    #[test]
    fn refuses_bodies_without_a_discriminator() {
        assert!(matches!(
            probe(b"{\"a\": 1}", &["type"], &[]),
            Err(ParseError::Discriminator { field: "type", .. })
        ));
        assert!(matches!(
            probe(b"{\"type\": 1}", &["type"], &[]),
            Err(ParseError::Discriminator { .. })
        ));
        assert!(matches!(
            probe(b"[1]", &["type"], &[]),
            Err(ParseError::NotJson { .. })
        ));
        assert!(matches!(
            probe(b"{\"type\": \"a\"} x", &["type"], &[]),
            Err(ParseError::NotJson { .. })
        ));
    }
}
