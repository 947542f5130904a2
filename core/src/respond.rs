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

/// One piece of an answer template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespondPiece<'a> {
    /// Text sent as it is.
    Literal(&'a str),
    /// `{body:a.b}`: the value at a dotted path of the JSON body (a string as it is, any
    /// other value as its JSON text).
    Body(&'a str),
    /// `{header:NAME}`: a request header's value.
    Header(&'a str),
}

/// Splits an answer template into pieces. Only `{body:…}` and `{header:…}` are
/// placeholders; every other brace is literal text (a JSON answer is full of them).
pub fn respond_pieces(template: &str) -> Result<Vec<RespondPiece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut literal_start = 0;
    let mut offset = 0;
    while let Some(at) = rest.find('{') {
        let after = &rest[at + 1..];
        let kind = ["body:", "header:"]
            .into_iter()
            .find(|prefix| after.starts_with(prefix));
        let Some(kind) = kind else {
            offset += at + 1;
            rest = after;
            continue;
        };
        let Some(end) = after.find('}') else {
            return Err(format!("`{{{kind}` is never closed with `}}`"));
        };
        let name = &after[kind.len()..end];
        if name.is_empty() || name.contains(['{', ' ']) {
            return Err(format!(
                "`{{{kind}{name}}}` needs a {} without spaces or braces",
                if kind == "body:" {
                    "dotted path"
                } else {
                    "header name"
                }
            ));
        }
        let start = offset + at;
        if start > literal_start {
            pieces.push(RespondPiece::Literal(&template[literal_start..start]));
        }
        pieces.push(match kind {
            "body:" => RespondPiece::Body(name),
            _ => RespondPiece::Header(name),
        });
        offset = start + 1 + end + 1;
        literal_start = offset;
        rest = &template[offset..];
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

    #[test]
    fn placeholders_are_found_and_other_braces_are_text() {
        assert_eq!(
            respond_pieces("{body:challenge}").unwrap(),
            [Body("challenge")]
        );
        assert_eq!(
            respond_pieces(r#"{"challenge":"{body:a.b}","id":"{header:X-Id}"}"#).unwrap(),
            [
                Literal(r#"{"challenge":""#),
                Body("a.b"),
                Literal(r#"","id":""#),
                Header("X-Id"),
                Literal(r#""}"#),
            ]
        );
        assert_eq!(respond_pieces("plain {x}").unwrap(), [Literal("plain {x}")]);
        assert_eq!(respond_pieces("").unwrap(), []);
    }

    #[test]
    fn broken_placeholders_are_errors() {
        assert!(respond_pieces("{body:challenge")
            .unwrap_err()
            .contains("never closed"));
        assert!(respond_pieces("{body:}").is_err());
        assert!(respond_pieces("{header:a b}").is_err());
    }
}
