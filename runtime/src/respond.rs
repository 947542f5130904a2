//! Answering a handshake delivery (the spec's `respond:`) from the request alone, so a
//! generated receiver passes a provider's endpoint verification without user code.

use std::borrow::Cow;

use hookspec_core::{respond_pieces, Respond, RespondPiece};

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
/// provider's success status, used when the rule names none. A placeholder whose value is
/// missing (or `null`) is a malformed handshake.
pub fn answer(
    rule: &Respond,
    event: &'static str,
    headers: &http::HeaderMap,
    body: &[u8],
    ack: u16,
) -> Result<Answer, ParseError> {
    let fail = |path: &str, message: &str| ParseError::Event {
        event,
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let pieces = respond_pieces(&rule.body).map_err(|m| fail("", &m))?;
    let json = if pieces.iter().any(|p| matches!(p, RespondPiece::Body(_))) {
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
        let value: Cow<'_, str> = match piece {
            RespondPiece::Literal(text) => {
                out.push_str(text);
                continue;
            }
            RespondPiece::Body(path) => {
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
            RespondPiece::Header(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(Cow::Borrowed)
                .ok_or_else(|| fail(name, "the handshake answer needs this header"))?,
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
        let text = answer(&rule("{body:challenge}", false), "E", &headers, body, 200).unwrap();
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
            let err = answer(&rule("{body:challenge}", false), "E", &headers, body, 200);
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
                200
            ),
            Err(ParseError::NotJson { .. })
        ));
        assert!(answer(&rule("{header:X-Id}", false), "E", &headers, b"{}", 200).is_err());
    }
}
