//! How the message pieces that are not copied as sent are written: the one definition the
//! verifier and `hookspec-signer` both fill templates with, so the two cannot drift.

use std::borrow::Cow;

/// The path of a URL, without the query or fragment (`/` when it has none).
pub fn url_path(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    let from_path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    from_path.split(['?', '#']).next().unwrap_or("/")
}

/// `{form}`: every parameter of a form body sorted by name then value, each written as its
/// name then its value with nothing between; a pair sent twice counts once, as Twilio's
/// libraries sign it.
pub fn sorted_form(body: &[u8]) -> Vec<u8> {
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = form_urlencoded::parse(body).collect();
    pairs.sort();
    pairs.dedup();
    let mut out = Vec::with_capacity(body.len());
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// `{form:NAME}`: that parameter's value, empty when absent.
pub fn form_param(body: &[u8], name: &str) -> Vec<u8> {
    form_urlencoded::parse(body)
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default()
}

/// `{field:PATH}`: a JSON value's field at the dotted path, strings without their quotes
/// and other values as JSON, empty when absent.
pub fn json_field(body: &serde_json::Value, path: &str) -> Vec<u8> {
    let field = path.split('.').try_fold(body, |at, name| at.get(name));
    match field {
        Some(serde_json::Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
        None => Vec::new(),
    }
}

/// One line of `{signed_headers}`: the name as the signature lists it, `: `, the value and
/// a line feed.
pub fn listed_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_written_as_the_model_says() {
        assert_eq!(url_path("https://h.example/a/b?x=1#f"), "/a/b");
        assert_eq!(url_path("https://h.example"), "/");
        assert_eq!(sorted_form(b"b=2&a=1+x&a=0&b=2"), b"a0a1 xb2");
        assert_eq!(form_param(b"a=1&b=%2B2", "b"), b"+2");
        assert_eq!(form_param(b"a=1", "b"), b"");
        let body = serde_json::json!({"a": {"b": "s"}, "n": 1});
        assert_eq!(json_field(&body, "a.b"), b"s");
        assert_eq!(json_field(&body, "n"), b"1");
        assert_eq!(json_field(&body, "a.c"), b"");
        let mut out = Vec::new();
        listed_header(&mut out, "X-T", b"v");
        assert_eq!(out, b"X-T: v\n");
    }
}
