//! Reading what dispatch needs from a body before choosing the event's type.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{scan, ParseError};

/// The discriminator values of `body`, in the order of `fields`, borrowed where possible.
///
/// A byte scan stops as soon as it has every field, without parsing the rest; the chosen
/// event's own parse checks the whole body anyway. Anything unusual (escapes, malformed
/// JSON, a missing or non-string discriminator) falls back to a full serde pass, which
/// gives the precise error.
pub fn discriminators<'a, const N: usize>(
    body: &'a [u8],
    fields: &[&'static str; N],
) -> Result<[Cow<'a, str>; N], ParseError> {
    match scan_discriminators(body, fields) {
        Some(found) => Ok(found.map(Cow::Borrowed)),
        None => {
            let full = probe_with_serde(body, fields, &[])?;
            let mut values = full.values.into_iter();
            Ok(std::array::from_fn(|_| {
                values.next().flatten().unwrap_or_default()
            }))
        }
    }
}

/// The discriminator values of a delivery whose spec names events in headers as well as
/// body fields (`header:X-GitHub-Event`, `action`), in the order of `fields`. A missing
/// header is an error, as a missing body discriminator is elsewhere; a body field an
/// event's bodies lack reads as empty (no event's value is empty).
pub fn routing_values<'a, const N: usize>(
    headers: &'a http::HeaderMap,
    body: &'a [u8],
    fields: &[&'static str; N],
) -> Result<[Cow<'a, str>; N], ParseError> {
    // One streaming pass reads each body field's text and type: an absent one is allowed
    // here, one that is not a string is not.
    let body_fields: Vec<&'static str> = fields
        .iter()
        .copied()
        .filter(|f| hookspec_core::header_ref(f).is_none())
        .collect();
    let probe = read_probe(body, &body_fields, &body_fields)?;
    let mut from_body = probe.values.into_iter().zip(probe.present);
    let mut out: [Cow<'a, str>; N] = std::array::from_fn(|_| Cow::Borrowed(""));
    for (slot, field) in out.iter_mut().zip(fields) {
        let missing = |message: &str| ParseError::Discriminator {
            field,
            message: message.to_owned(),
        };
        *slot = match hookspec_core::header_ref(field) {
            Some(name) => match headers.get(name).map(http::HeaderValue::to_str) {
                Some(Ok(v)) => Cow::Borrowed(v),
                Some(Err(_)) => return Err(missing("the header is not visible ASCII")),
                None => return Err(missing("missing header")),
            },
            None => match from_body.next() {
                Some((Some(text), _)) => text,
                Some((None, None)) | None => Cow::Borrowed(""),
                Some((None, Some(_))) => return Err(missing("not a string")),
            },
        };
    }
    Ok(out)
}

/// A header's value as text, when present and visible ASCII: an idempotency key or a
/// subject the provider sends in a header.
pub fn header_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// The fast path: stops at the last discriminator; `None` sends the body to serde.
pub(super) fn scan_discriminators<'a, const N: usize>(
    body: &'a [u8],
    fields: &[&'static str; N],
) -> Option<[&'a str; N]> {
    let mut found: [Option<&'a str>; N] = [None; N];
    let mut missing = N;
    let mut members = scan::Members::new(body)?;
    while missing > 0 {
        let key = members.key()??;
        match fields.iter().position(|f| f.as_bytes() == key) {
            // A repeated discriminator is for serde to judge.
            Some(i) if found[i].is_none() => {
                found[i] = Some(std::str::from_utf8(members.string()?).ok()?);
                missing -= 1;
            }
            Some(_) => return None,
            None => {
                members.skip()?;
            }
        }
    }
    Some(found.map(Option::unwrap_or_default))
}

/// Presence and JSON type of a few top-level fields, for telling shape variants apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selectors(Vec<Option<&'static str>>);

impl Selectors {
    /// Whether field `i` is present.
    pub fn has(&self, i: usize) -> bool {
        self.0[i].is_some()
    }

    /// Whether field `i` has JSON type `ty` (`"null"`, `"string"`, `"number"`, ...).
    pub fn is(&self, i: usize, ty: &str) -> bool {
        self.0[i] == Some(ty)
    }
}

/// Reads which of `fields` the top level of `body` has, and with what JSON type.
///
/// `stop`: a field whose sight alone settles the choice (the generator passes one only for
/// an arm with a single shape variant, when seeing the field decides that variant); the
/// scan ends there, and fields not yet seen read as absent, which cannot change the outcome.
pub fn selectors(
    body: &[u8],
    fields: &[&'static str],
    stop: Option<usize>,
) -> Result<Selectors, ParseError> {
    let scanned = (|| {
        let mut present = vec![None; fields.len()];
        let mut members = scan::Members::new(body)?;
        while let Some(key) = members.key()? {
            let kind = members.skip()?;
            if let Some(i) = fields.iter().position(|f| f.as_bytes() == key) {
                present[i] = Some(kind);
                if stop == Some(i) {
                    break;
                }
            }
        }
        Some(present)
    })();
    match scanned {
        Some(present) => Ok(Selectors(present)),
        None => probe_with_serde(body, &[], fields).map(|p| Selectors(p.present)),
    }
}

/// Everything the serde fallback reads.
#[derive(Debug, Default)]
struct Probe<'a> {
    values: Vec<Option<Cow<'a, str>>>,
    present: Vec<Option<&'static str>>,
}

/// The full serde pass: exact errors for malformed bodies, and every discriminator must
/// be a string.
fn probe_with_serde<'a>(
    body: &'a [u8],
    discriminators: &[&'static str],
    selectors: &[&'static str],
) -> Result<Probe<'a>, ParseError> {
    let probe = read_probe(body, discriminators, selectors)?;
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

/// One serde pass over `body`: the text of each of `discriminators` that is a string, and
/// the JSON type of each of `selectors` that is present.
fn read_probe<'a>(
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
        let [t, c] = discriminators(body, &["webhook_type", "webhook_code"]).unwrap();
        assert_eq!((&*t, &*c), ("TRANSACTIONS", "DEFAULT_UPDATE"));
        assert!(matches!(t, Cow::Borrowed(_)), "the fast path borrows");
        let s = selectors(body, &["item_id", "account_id", "error", "n"], None).unwrap();
        assert!(!s.has(0));
        assert!(s.is(1, "string"));
        assert!(s.is(2, "null"));
        assert!(s.is(3, "number"));
    }

    #[test]
    fn selector_scan_stops_at_the_deciding_field() {
        let body = br#"{"item_id": "i", "x": 1, "account_id": "a"}"#;
        let all = selectors(body, &["account_id", "item_id"], None).unwrap();
        assert!(all.has(0) && all.has(1));
        // Stopping at `item_id` leaves `account_id` unread: absent as far as the caller
        // knows, which is only passed when seeing `item_id` already decides.
        let stopped = selectors(body, &["account_id", "item_id"], Some(1)).unwrap();
        assert!(!stopped.has(0) && stopped.has(1));
    }

    #[test]
    fn fast_path_agrees_with_serde() {
        let bodies: &[&[u8]] = &[
            br#"{"type": "a", "content": {"x": [1, {"type": "nested"}], "s": "q\"}"}, "sel": -1.5e3}"#,
            br#"{"content": {"type": "inner"}, "timestamp": 1, "type": "outer"}"#,
            br#"  {"t\u0079pe": "escaped key", "type": "b"}"#,
            br#"{"type": "esc\"aped"}"#,
            br#"{"other": true, "type": "c", "sel": null}"#,
            br#"{"sel": [1, "]"], "type": "d"}"#,
        ];
        for body in bodies {
            let text = String::from_utf8_lossy(body);
            let slow = probe_with_serde(body, &["type"], &["sel"]).unwrap();
            let [fast] = discriminators(body, &["type"]).unwrap();
            assert_eq!(Some(fast), slow.values[0].clone(), "{text}");
            assert_eq!(
                selectors(body, &["sel"], None).unwrap().0,
                slow.present,
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_bodies_without_a_discriminator() {
        assert!(matches!(
            discriminators(b"{\"a\": 1}", &["type"]),
            Err(ParseError::Discriminator { field: "type", .. })
        ));
        assert!(matches!(
            discriminators(b"{\"type\": 1}", &["type"]),
            Err(ParseError::Discriminator { .. })
        ));
        assert!(matches!(
            discriminators(b"[1]", &["type"]),
            Err(ParseError::NotJson { .. })
        ));
        assert!(matches!(
            discriminators(br#"{"type": "unterminated"#, &["type"]),
            Err(ParseError::NotJson { .. })
        ));
        // Trailing bytes are left for the event's own parse to refuse (see the crate's tests).
        assert!(discriminators(b"{\"type\": \"a\"} x", &["type"]).is_ok());
    }
}
