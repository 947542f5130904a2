//! Answering a handshake delivery (the spec's `respond:`) from the request alone, so a
//! generated receiver passes a provider's endpoint verification without user code.

use std::borrow::Cow;

use hookspec_core::{respond_pieces, Respond, RespondPiece, RespondSource};

use crate::ParseError;

/// A rendered handshake answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Renders `rule` for a delivery of `event` with these headers and body; `ack` is the
/// provider's success status, used when the rule names none, and `mac` gives the
/// receiver's HMAC of a value for `{hmac:…}` (`None`: it holds no HMAC secret). A
/// placeholder whose value is missing (or `null`) is a malformed handshake.
pub fn answer(
    rule: &Respond,
    event: &'static str,
    headers: &http::HeaderMap,
    body: &[u8],
    ack: u16,
    mac: &dyn Fn(&[u8]) -> Option<String>,
) -> Result<Answer, ParseError> {
    let fail = |path: &str, message: &str| ParseError::Event {
        event,
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let pieces = respond_pieces(&rule.body).map_err(|m| fail("", &m))?;
    let reads_body = pieces.iter().any(|p| {
        matches!(
            p,
            RespondPiece::Value(RespondSource::Body(_))
                | RespondPiece::Hmac(RespondSource::Body(_))
        )
    });
    let json = if reads_body {
        Some(
            serde_json::from_slice::<serde_json::Value>(body).map_err(|e| ParseError::NotJson {
                message: e.to_string(),
            })?,
        )
    } else {
        None
    };
    let mut out = String::with_capacity(rule.body.len());
    for piece in pieces {
        let (source, hmac) = match piece {
            RespondPiece::Literal(text) => {
                out.push_str(text);
                continue;
            }
            RespondPiece::Value(source) => (source, false),
            RespondPiece::Hmac(source) => (source, true),
        };
        let value: Cow<'_, str> = match source {
            RespondSource::Body(path) => {
                let found = path
                    .split('.')
                    .try_fold(json.as_ref(), |v, key| v.map(|v| v.get(key)))
                    .flatten();
                match found {
                    Some(serde_json::Value::String(s)) => Cow::Borrowed(s.as_str()),
                    Some(serde_json::Value::Null) | None => {
                        return Err(fail(path, "the handshake answer needs this value"))
                    }
                    Some(other) => Cow::Owned(other.to_string()),
                }
            }
            RespondSource::Header(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(Cow::Borrowed)
                .ok_or_else(|| fail(name, "the handshake answer needs this header"))?,
        };
        let value = match hmac {
            false => value,
            true => Cow::Owned(mac(value.as_bytes()).ok_or_else(|| {
                fail(
                    "",
                    "the handshake answer needs an HMAC secret the receiver does not hold",
                )
            })?),
        };
        if rule.json {
            // Inside a JSON string: escaped as its contents, without the quotes.
            let quoted = serde_json::Value::String(value.into_owned()).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        } else {
            out.push_str(&value);
        }
    }
    Ok(Answer {
        status: rule.status.unwrap_or(ack),
        content_type: rule.content_type.to_string(),
        body: out.into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_mac(_: &[u8]) -> Option<String> {
        None
    }

    fn rule(body: &'static str, json: bool) -> Respond {
        Respond {
            status: None,
            content_type: if json {
                "application/json"
            } else {
                "text/plain"
            }
            .into(),
            body: body.into(),
            json,
        }
    }

    #[test]
    fn text_and_json_answers_are_filled_from_the_request() {
        let body = br#"{"type":"url_verification","challenge":"3eZb\"rw","n":{"k":7}}"#;
        let mut headers = http::HeaderMap::new();
        headers.insert("x-id", "abc".parse().unwrap());
        let text = answer(
            &rule("{body:challenge}", false),
            "E",
            &headers,
            body,
            200,
            &no_mac,
        )
        .unwrap();
        assert_eq!(text.body, br#"3eZb"rw"#);
        assert_eq!(
            (text.status, text.content_type.as_str()),
            (200, "text/plain")
        );
        let json = answer(
            &rule(
                r#"{"challenge":"{body:challenge}","k":"{body:n.k}","id":"{header:X-Id}"}"#,
                true,
            ),
            "E",
            &headers,
            body,
            204,
            &no_mac,
        )
        .unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"challenge": "3eZb\"rw", "k": "7", "id": "abc"})
        );
        assert_eq!(json.status, 204);
    }

    #[test]
    fn a_missing_value_is_a_malformed_handshake() {
        let headers = http::HeaderMap::new();
        for body in [&br#"{"type":"x"}"#[..], br#"{"challenge":null}"#] {
            let err = answer(
                &rule("{body:challenge}", false),
                "E",
                &headers,
                body,
                200,
                &no_mac,
            );
            assert!(
                matches!(&err, Err(ParseError::Event { path, .. }) if path == "challenge"),
                "{err:?}"
            );
        }
        assert!(matches!(
            answer(
                &rule("{body:challenge}", false),
                "E",
                &headers,
                b"not json",
                200,
                &no_mac
            ),
            Err(ParseError::NotJson { .. })
        ));
        assert!(answer(
            &rule("{header:X-Id}", false),
            "E",
            &headers,
            b"{}",
            200,
            &no_mac
        )
        .is_err());
        // An HMAC answer without a secret to make it with.
        let crc = rule("{hmac:body:challenge}", false);
        assert!(answer(&crc, "E", &headers, br#"{"challenge":"x"}"#, 200, &no_mac).is_err());
    }

    #[test]
    fn an_hmac_answer_is_the_receivers_mac_of_the_value() {
        let crc = rule(r#"{"response_token":"sha256={hmac:body:crc_token}"}"#, true);
        let body = br#"{"crc_token":"The quick brown fox jumps over the lazy dog"}"#;
        let seen = std::cell::RefCell::new(Vec::new());
        let mac = |value: &[u8]| {
            seen.borrow_mut().push(value.to_vec());
            Some("97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=".to_owned())
        };
        let got = answer(&crc, "E", &http::HeaderMap::new(), body, 200, &mac).unwrap();
        assert_eq!(
            seen.into_inner(),
            [b"The quick brown fox jumps over the lazy dog".to_vec()]
        );
        let parsed: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(
            parsed["response_token"],
            "sha256=97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
        );
    }
}
