//! `send`: one documented event fired at a receiver, with field overrides and real
//! signing, the way a provider's "trigger" button does it.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hookspec_codegen::model::ProviderSpec;
use serde_json::Value;

use crate::cases::event_key;
use crate::http::{
    delivery_method, endpoint_uri, exchange, shown_header_value, Exchange, Limits, Observed,
    Outgoing, OutgoingBody,
};
use crate::provider::{acknowledged, ProviderSide};
use crate::suite::humanize;

/// Why a one-off delivery could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No event has this name or discriminator value.
    UnknownEvent {
        /// What was asked for.
        event: String,
        /// Every event of the provider, as `Name (DISCRIMINATOR)`.
        known: Vec<String>,
    },
    /// The event has fewer documented examples than the number asked for.
    NoSuchExample {
        /// The event asked for.
        event: String,
        /// The 1-based number asked for.
        number: usize,
        /// How many examples the event has.
        count: usize,
    },
    /// An override does not fit the example's JSON.
    BadOverride {
        /// The dotted path.
        path: String,
        /// Why it does not fit.
        reason: String,
    },
    /// The endpoint is not an absolute `http://` URL.
    BadUrl(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::UnknownEvent { event, known } => write!(
                f,
                "no event `{event}`; events (name or discriminator value): {}",
                known.join(", ")
            ),
            SendError::NoSuchExample {
                event,
                number,
                count,
            } => write!(
                f,
                "`{event}` has {count} documented example(s); there is no example {number}"
            ),
            SendError::BadOverride { path, reason } => write!(f, "--set {path}: {reason}"),
            SendError::BadUrl(e) => write!(f, "bad receiver URL: {e}"),
        }
    }
}

impl std::error::Error for SendError {}

/// The headers that name `event` (as [`example`] reads it), where the provider names
/// events in headers; empty otherwise or for an unknown event.
pub fn event_headers(spec: &ProviderSpec, event: &str) -> Vec<(String, String)> {
    spec.events
        .iter()
        .find(|e| e.name == event || event_key(spec, e) == event)
        .map(|e| hookspec_codegen::check::when_headers(spec, e))
        .unwrap_or_default()
}

/// Documented example `number` (1-based) of `event`, which is an event's name
/// (`SyncUpdatesAvailable`) or its discriminator values joined by `.`
/// (`TRANSACTIONS.SYNC_UPDATES_AVAILABLE`, covering every shape variant under them).
/// The bytes are the spec's text without trailing whitespace, as `deliver` cases send.
pub fn example(spec: &ProviderSpec, event: &str, number: usize) -> Result<Bytes, SendError> {
    let matching: Vec<_> = spec
        .events
        .iter()
        .filter(|e| e.name == event || event_key(spec, e) == event)
        .collect();
    if matching.is_empty() {
        return Err(SendError::UnknownEvent {
            event: event.to_owned(),
            known: spec
                .events
                .iter()
                .map(|e| format!("{} ({})", e.name, event_key(spec, e)))
                .collect(),
        });
    }
    let examples: Vec<&String> = matching.iter().flat_map(|e| &e.examples).collect();
    number
        .checked_sub(1)
        .and_then(|i| examples.get(i))
        .map(|text| Bytes::from(text.trim_end().to_owned()))
        .ok_or_else(|| SendError::NoSuchExample {
            event: event.to_owned(),
            number,
            count: examples.len(),
        })
}

/// One `--set PATH=VALUE`: a dotted path into the body (array items by index) and the
/// value to put there.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The path as given, e.g. `data.items.0.id`.
    pub path: String,
    /// The value: `VALUE` parsed as JSON when it parses, else the text as a string.
    pub value: Value,
    /// Only where the value fits the field's type: a non-numeric id leaves a number
    /// field alone (`--subject` names one object; a UUID must not land in an integer id).
    pub only_if_it_fits: bool,
}

impl std::str::FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Override, String> {
        let (path, raw) = s
            .split_once('=')
            .ok_or_else(|| format!("expected PATH=VALUE, got `{s}`"))?;
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!("`{path}` is not a dotted path like `data.item_id`"));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        Ok(Override {
            path: path.to_owned(),
            value,
            only_if_it_fits: false,
        })
    }
}

/// `body` with every override applied in order, re-serialized. Missing object keys
/// along a path are created; array indexes must exist.
pub fn apply_overrides(body: &[u8], overrides: &[Override]) -> Result<Bytes, SendError> {
    let mut doc: Value = serde_json::from_slice(body).map_err(|e| SendError::BadOverride {
        path: overrides
            .first()
            .map(|o| o.path.clone())
            .unwrap_or_default(),
        reason: format!("the example is not JSON: {e}"),
    })?;
    for o in overrides {
        set(&mut doc, o)?;
    }
    Ok(Bytes::from(doc.to_string()))
}

/// `body` with each override applied where its whole path already exists (a run's
/// `--set` reaches every event that has the field and leaves the others alone); a number
/// field stays a number when the value is numeric text. The bytes are unchanged when
/// none applies or the body is not JSON.
pub fn apply_where_present(body: &Bytes, overrides: &[Override]) -> Bytes {
    // Most runs have no `--set`: no parse of every body (the oversized one is 10 MiB).
    if overrides.is_empty() {
        return body.clone();
    }
    let Ok(mut doc) = serde_json::from_slice::<Value>(body) else {
        return body.clone();
    };
    let mut changed = false;
    for o in overrides {
        let slot = o.path.split('.').try_fold(&mut doc, |v, k| match v {
            Value::Object(map) => map.get_mut(k),
            Value::Array(items) => k.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        });
        if let Some(slot) = slot {
            let numeric = match (&*slot, &o.value) {
                (Value::Number(_), Value::String(text)) => serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(Value::is_number),
                _ => None,
            };
            if o.only_if_it_fits && slot.is_number() && numeric.is_none() {
                continue;
            }
            *slot = numeric.unwrap_or_else(|| o.value.clone());
            changed = true;
        }
    }
    if changed {
        Bytes::from(doc.to_string())
    } else {
        body.clone()
    }
}

fn set(doc: &mut Value, o: &Override) -> Result<(), SendError> {
    let fail = |reason: String| SendError::BadOverride {
        path: o.path.clone(),
        reason,
    };
    let segments: Vec<&str> = o.path.split('.').collect();
    let mut at = doc;
    for (depth, segment) in segments.iter().enumerate() {
        let last = depth + 1 == segments.len();
        let here = segments[..depth].join(".");
        let here = if here.is_empty() { "the body" } else { &here };
        at = match at {
            Value::Object(map) => {
                if last {
                    map.insert((*segment).to_owned(), o.value.clone());
                    return Ok(());
                }
                map.entry((*segment).to_owned())
                    .or_insert_with(|| Value::Object(Default::default()))
            }
            Value::Array(items) => {
                let len = items.len();
                let index: usize = segment.parse().map_err(|_| {
                    fail(format!("`{here}` is an array; `{segment}` is not an index"))
                })?;
                let item = items.get_mut(index).ok_or_else(|| {
                    fail(format!(
                        "`{here}` has {len} item(s); index {index} is past its end"
                    ))
                })?;
                if last {
                    *item = o.value.clone();
                    return Ok(());
                }
                item
            }
            other => {
                let kind = match other {
                    Value::Null => "null",
                    Value::Bool(_) => "a boolean",
                    Value::Number(_) => "a number",
                    _ => "a string",
                };
                return Err(fail(format!(
                    "`{here}` is {kind}, which has no field `{segment}`"
                )));
            }
        };
    }
    Ok(())
}

/// A delivery sent and what came back.
#[derive(Debug)]
pub struct Sent {
    /// What was sent.
    pub request: Outgoing,
    /// What the receiver did.
    pub exchange: Exchange,
    /// The provider's timeout.
    pub timeout: Duration,
    /// Whether the provider would count the delivery as acknowledged.
    pub delivered: bool,
}

/// How much of a response body [`Sent::render`] shows.
pub const SHOWN_BODY_BYTES: usize = 8 * 1024;

/// Signs `body` as the provider does now (with the `given` header values) and sends it
/// to `endpoint` (the provider's full URL). The receiver gets the provider's timeout plus `grace` to answer.
pub async fn send(
    side: &ProviderSide,
    endpoint: &str,
    body: Bytes,
    given: &[(String, String)],
    grace: Duration,
) -> Result<Sent, SendError> {
    let url = endpoint_uri(endpoint).map_err(SendError::BadUrl)?;
    let spec = side.spec();
    let request = Outgoing {
        method: delivery_method(spec.delivery.method),
        url,
        headers: side.sign(&body, SystemTime::now(), given),
        body: OutgoingBody::Full(body),
    };
    let timeout = spec.delivery.timeout.get();
    let limits = Limits {
        deadline: timeout + grace,
        max_response_bytes: SHOWN_BODY_BYTES,
    };
    let x = exchange(request.clone(), limits).await;
    let delivered = x
        .observed
        .status()
        .is_some_and(|code| acknowledged(spec, code) && x.elapsed <= timeout);
    Ok(Sent {
        request,
        exchange: x,
        timeout,
        delivered,
    })
}

impl Sent {
    /// The request (headers, body) and the response (status, headers, body up to
    /// [`SHOWN_BODY_BYTES`]) in the style of `curl -v`, then the verdict.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let r = &self.request;
        let _ = writeln!(out, "> {} {}", r.method, r.url);
        for (name, value) in &r.headers {
            let _ = writeln!(out, "> {name}: {}", shown_header_value(name, value));
        }
        let _ = writeln!(out, ">");
        quote(&mut out, "> ", r.body.bytes(), false);
        let x = &self.exchange;
        let ms = x.elapsed.as_millis();
        match &x.observed {
            Observed::Status { code, body, .. } => {
                let reason = http::StatusCode::from_u16(*code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                let _ = writeln!(out, "< {code} {reason} ({ms} ms)");
                for (name, value) in &x.response_headers {
                    let _ = writeln!(out, "< {name}: {value}");
                }
                let _ = writeln!(out, "<");
                quote(&mut out, "< ", &x.response_body, body.truncated);
            }
            other => {
                let _ = writeln!(out, "< {other} ({ms} ms)");
            }
        }
        let verdict = if self.delivered {
            format!(
                "delivered: acknowledged within the {} timeout",
                humanize(self.timeout)
            )
        } else if x.observed.status().is_some() && x.elapsed > self.timeout {
            format!(
                "not delivered: answered after the {} timeout",
                humanize(self.timeout)
            )
        } else {
            format!(
                "not delivered: the provider does not count `{}` as acknowledged",
                x.observed
            )
        };
        out.push_str(&verdict);
        out.push('\n');
        out
    }
}

/// `bytes` as text lines behind `prefix`, at most [`SHOWN_BODY_BYTES`] of them.
fn quote(out: &mut String, prefix: &str, bytes: &[u8], truncated: bool) {
    let shown = &bytes[..bytes.len().min(SHOWN_BODY_BYTES)];
    for line in String::from_utf8_lossy(shown).lines() {
        let _ = writeln!(out, "{prefix}{line}");
    }
    if truncated || shown.len() < bytes.len() {
        let _ = writeln!(out, "{prefix}[... cut after {} bytes]", shown.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Override {
        s.parse().unwrap()
    }

    /// `--set` writes what it is given; `--subject`'s override skips number fields when
    /// its id is not a number, and turns numeric text into a number.
    #[test]
    fn subject_overrides_keep_number_fields_numbers() {
        let body = Bytes::from_static(br#"{"c":{"item_id":1,"user_uuid":"u"}}"#);
        let subject = |path: &str, id: &str| Override {
            path: path.to_owned(),
            value: serde_json::Value::String(id.to_owned()),
            only_if_it_fits: true,
        };
        let uuid = "3f1c9a7e-5b2d";
        let out = apply_where_present(
            &body,
            &[subject("c.item_id", uuid), subject("c.user_uuid", uuid)],
        );
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["c"]["item_id"], 1);
        assert_eq!(doc["c"]["user_uuid"], uuid);
        let out = apply_where_present(&body, &[subject("c.item_id", "4242")]);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["c"]["item_id"], 4242);
        let out = apply_where_present(&body, &[o(&format!("c.item_id={uuid}"))]);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["c"]["item_id"], uuid);
    }

    #[test]
    fn values_parse_as_json_or_stay_text() {
        assert_eq!(o("a=12").value, serde_json::json!(12));
        assert_eq!(o("a=true").value, serde_json::json!(true));
        assert_eq!(o("a=\"12\"").value, serde_json::json!("12"));
        assert_eq!(o("a=hello world").value, serde_json::json!("hello world"));
        assert_eq!(o("a={\"b\":[1]}").value, serde_json::json!({"b": [1]}));
        assert_eq!(o("a=").value, serde_json::json!(""));
        assert!("noequals".parse::<Override>().is_err());
        assert!("a..b=1".parse::<Override>().is_err());
    }

    #[test]
    fn overrides_set_nested_fields_and_array_items() {
        let body = br#"{"a":{"b":1},"list":[{"id":"x"},{"id":"y"}]}"#;
        let out = apply_overrides(
            body,
            &[
                o("a.b=2"),
                o("list.1.id=z"),
                o("new.deep=null"),
                o("top=text"),
            ],
        )
        .unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a":{"b":2},"list":[{"id":"x"},{"id":"z"}],"new":{"deep":null},"top":"text"})
        );
    }

    #[test]
    fn overrides_that_do_not_fit_are_typed_errors() {
        let body = br#"{"a":"s","list":[1]}"#;
        for (set, want) in [
            ("a.b=1", "`a` is a string"),
            ("list.3=1", "index 3 is past its end"),
            ("list.x=1", "`x` is not an index"),
        ] {
            let err = apply_overrides(body, &[o(set)]).unwrap_err().to_string();
            assert!(err.contains(want), "{set}: {err}");
        }
    }

    #[test]
    fn events_by_name_or_discriminator() {
        let spec = crate::specs::builtin("plaid").unwrap();
        let event = spec.events.iter().find(|e| !e.examples.is_empty()).unwrap();
        let key = event_key(&spec, event);
        let by_name = example(&spec, &event.name, 1).unwrap();
        assert_eq!(by_name, example(&spec, &key, 1).unwrap());
        assert_eq!(by_name.as_ref(), event.examples[0].trim_end().as_bytes());
        assert!(matches!(
            example(&spec, &event.name, 99),
            Err(SendError::NoSuchExample { number: 99, .. })
        ));
        assert!(matches!(
            example(&spec, &event.name, 0),
            Err(SendError::NoSuchExample { .. })
        ));
        let err = example(&spec, "NOPE.NOPE", 1).unwrap_err().to_string();
        assert!(err.contains(&event.name), "{err}");
    }
}
