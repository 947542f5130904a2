//! Handshakes: deliveries a receiver must answer with a specific body rather than a bare
//! status (Slack's `url_verification` echoes its `challenge`). The spec states the answer
//! as a template over the request; the receiver renders it without user code, and the
//! conformance suite checks the rendered answer.

use crate::Text;

/// How a receiver answers one event itself (the spec's `respond:`, with a JSON answer
/// already written out as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Respond {
    /// The status to answer with; the provider's success status when absent.
    pub status: Option<u16>,
    /// The answer's `Content-Type`.
    pub content_type: Text,
    /// The answer's body: literal text with placeholders ([`respond_pieces`]).
    pub body: Text,
    /// Whether the body is JSON: substituted values are then escaped as JSON string
    /// contents (placeholders sit inside JSON strings).
    pub json: bool,
}

/// Where a placeholder's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespondSource<'a> {
    /// `body:a.b`: the value at a dotted path of the JSON body (a string as it is, any
    /// other value as its JSON text).
    Body(&'a str),
    /// `header:NAME`: a request header's value.
    Header(&'a str),
}

/// One piece of an answer template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespondPiece<'a> {
    /// Text sent as it is.
    Literal(&'a str),
    /// `{body:a.b}` or `{header:NAME}`: a value of the request.
    Value(RespondSource<'a>),
    /// `{hmac:body:a.b}` or `{hmac:header:NAME}`: that value's HMAC with the provider's
    /// `hmac` scheme (its algorithm and signature encoding) keyed with the receiver's
    /// secret, which proves the receiver holds it (a CRC-style challenge).
    Hmac(RespondSource<'a>),
}

/// Splits an answer template into pieces. Only `{body:…}`, `{header:…}` and `{hmac:…}`
/// are placeholders; every other brace is literal text (a JSON answer is full of them).
pub fn respond_pieces(template: &str) -> Result<Vec<RespondPiece<'_>>, String> {
    const KINDS: [&str; 3] = ["body:", "header:", "hmac:"];
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut search = 0;
    while let Some(at) = template[search..].find('{').map(|i| search + i) {
        let after = &template[at + 1..];
        let Some(kind) = KINDS.into_iter().find(|k| after.starts_with(k)) else {
            search = at + 1;
            continue;
        };
        let Some(end) = after.find('}') else {
            return Err(format!("`{{{kind}` is never closed with `}}`"));
        };
        let inner = &after[..end];
        let (hmac, source) = match inner.strip_prefix("hmac:") {
            Some(rest) => (true, rest),
            None => (false, inner),
        };
        let source = if let Some(path) = source.strip_prefix("body:") {
            RespondSource::Body(path)
        } else if let Some(name) = source.strip_prefix("header:") {
            RespondSource::Header(name)
        } else {
            return Err(format!(
                "`{{{inner}}}` must be `{{hmac:body:PATH}}` or `{{hmac:header:NAME}}`"
            ));
        };
        let (RespondSource::Body(name) | RespondSource::Header(name)) = source;
        if name.is_empty() || name.contains(['{', ' ']) {
            return Err(format!(
                "`{{{inner}}}` needs a dotted path or header name without spaces or braces"
            ));
        }
        if at > literal_start {
            pieces.push(RespondPiece::Literal(&template[literal_start..at]));
        }
        pieces.push(if hmac {
            RespondPiece::Hmac(source)
        } else {
            RespondPiece::Value(source)
        });
        literal_start = at + 1 + end + 1;
        search = literal_start;
    }
    if literal_start < template.len() {
        pieces.push(RespondPiece::Literal(&template[literal_start..]));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RespondPiece::*;
    use RespondSource::{Body, Header};

    #[test]
    fn placeholders_are_found_and_other_braces_are_text() {
        assert_eq!(
            respond_pieces("{body:challenge}").unwrap(),
            [Value(Body("challenge"))]
        );
        assert_eq!(
            respond_pieces(r#"{"challenge":"{body:a.b}","id":"{header:X-Id}"}"#).unwrap(),
            [
                Literal(r#"{"challenge":""#),
                Value(Body("a.b")),
                Literal(r#"","id":""#),
                Value(Header("X-Id")),
                Literal(r#""}"#),
            ]
        );
        assert_eq!(respond_pieces("plain {x}").unwrap(), [Literal("plain {x}")]);
        assert_eq!(
            respond_pieces("sha256={hmac:body:crc_token}").unwrap(),
            [Literal("sha256="), Hmac(Body("crc_token"))]
        );
        assert_eq!(respond_pieces("").unwrap(), []);
    }

    #[test]
    fn broken_placeholders_are_errors() {
        assert!(respond_pieces("{body:challenge")
            .unwrap_err()
            .contains("never closed"));
        assert!(respond_pieces("{body:}").is_err());
        assert!(respond_pieces("{header:a b}").is_err());
        assert!(respond_pieces("{hmac:crc_token}")
            .unwrap_err()
            .contains("hmac:body:"));
    }
}
