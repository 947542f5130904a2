//! The message view and the signature base (RFC 9421 section 2.5): derived components,
//! field canonicalization (`sf`, `key`, `bs`, `req`) and the `@signature-params` line.

use base64::Engine as _;

use super::components::{self, ComponentId, ParamValue, SignatureParams};
use super::SignatureError;

/// How an application knows a structured field's type (RFC 9421 section 2.1.1: `;sf`
/// needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// An Item.
    Item,
    /// A List.
    List,
    /// A Dictionary.
    Dictionary,
}

#[derive(Debug, Clone, Copy)]
enum Control<'a> {
    Request {
        method: &'a str,
        target_uri: &'a str,
    },
    Response {
        status: u16,
    },
}

/// A borrowed view of one HTTP message: its control data and its header lines as
/// `(name, value)` pairs in the order received (repeated names are separate pairs).
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    control: Control<'a>,
    headers: &'a [(&'a str, &'a str)],
    request: Option<&'a Message<'a>>,
    structured: &'a [(&'a str, FieldType)],
}

impl<'a> Message<'a> {
    /// A request: its method and target URI (absolute, `https://host/path?query`, or in
    /// origin form `/path?query`, when `@authority` then comes from `Host`).
    pub fn request(
        method: &'a str,
        target_uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Self {
        Message {
            control: Control::Request { method, target_uri },
            headers,
            request: None,
            structured: &[],
        }
    }

    /// A response with its status code.
    pub fn response(status: u16, headers: &'a [(&'a str, &'a str)]) -> Self {
        Message {
            control: Control::Response { status },
            headers,
            request: None,
            structured: &[],
        }
    }

    /// The request a response answers, for components with the `req` parameter.
    pub fn answering(mut self, request: &'a Message<'a>) -> Self {
        self.request = Some(request);
        self
    }

    /// The structured fields whose type the application knows (`;sf` on others fails).
    pub fn structured_fields(mut self, types: &'a [(&'a str, FieldType)]) -> Self {
        self.structured = types;
        self
    }

    /// Every value of the header `name` (case-insensitive), in order.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &'a str> + '_ {
        let name = name.to_owned();
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| *v)
    }
}

/// The signature base for `params` over `message` (bytes signed and verified). Fails
/// when a covered component has no value, repeats, or has unknown or incompatible
/// parameters.
pub fn signature_base(
    message: &Message<'_>,
    params: &SignatureParams,
) -> Result<String, SignatureError> {
    let mut base = String::new();
    for (i, c) in params.components.iter().enumerate() {
        if params.components[..i].iter().any(|p| p.same_as(c)) {
            return Err(SignatureError::component(c, "covered twice"));
        }
        let value = component_value(message, c)?;
        if value.contains(['\n', '\r']) || !value.is_ascii() {
            return Err(SignatureError::component(
                c,
                "value is not ASCII on one line",
            ));
        }
        base.push_str(&c.serialize()?);
        base.push_str(": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push_str("\"@signature-params\": ");
    base.push_str(&params.serialize()?);
    Ok(base)
}

fn component_value(message: &Message<'_>, c: &ComponentId) -> Result<String, SignatureError> {
    let derived = c.name.starts_with('@');
    let allowed: &[&str] = match (derived, c.name.as_str()) {
        (true, "@query-param") => &["req", "name"],
        (true, _) => &["req"],
        (false, _) => &["sf", "key", "bs", "req", "tr"],
    };
    if let Some((k, _)) = c
        .params
        .iter()
        .find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        return Err(SignatureError::component(
            c,
            format!("parameter `{k}` not understood"),
        ));
    }
    if let Some((k, _)) = c
        .params
        .iter()
        .find(|(k, v)| k != "name" && k != "key" && *v != ParamValue::Bool(true))
    {
        return Err(SignatureError::component(
            c,
            format!("parameter `{k}` must be a true flag"),
        ));
    }
    let context = if c.has_flag("req") {
        match (message.control, message.request) {
            (Control::Response { .. }, Some(request)) => request,
            (Control::Response { .. }, None) => {
                return Err(SignatureError::component(c, "no related request"))
            }
            (Control::Request { .. }, _) => {
                return Err(SignatureError::component(c, "`req` on a request"))
            }
        }
    } else {
        message
    };
    if derived {
        derived_value(context, c)
    } else {
        field_value(context, c)
    }
}

fn derived_value(message: &Message<'_>, c: &ComponentId) -> Result<String, SignatureError> {
    let (method, target) = match (message.control, c.name.as_str()) {
        (Control::Response { status }, "@status") => return Ok(format!("{status:03}")),
        (Control::Request { .. }, "@status") => {
            return Err(SignatureError::component(c, "`@status` on a request"))
        }
        (Control::Request { method, target_uri }, _) => (method, Uri::split(target_uri)),
        (Control::Response { .. }, _) => {
            return Err(SignatureError::component(
                c,
                "request component on a response",
            ))
        }
    };
    let path = if target.path.is_empty() {
        "/"
    } else {
        target.path
    };
    let query = target.query.unwrap_or("");
    Ok(match c.name.as_str() {
        "@method" => method.to_owned(),
        "@target-uri" => target.whole.to_owned(),
        "@authority" => authority(message, &target)
            .ok_or_else(|| SignatureError::component(c, "no authority"))?,
        "@scheme" => target
            .scheme
            .ok_or_else(|| SignatureError::component(c, "no scheme in the target URI"))?
            .to_ascii_lowercase(),
        "@request-target" => match target.query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        },
        "@path" => path.to_owned(),
        "@query" => format!("?{query}"),
        "@query-param" => {
            let name = c
                .string_param("name")
                .ok_or_else(|| SignatureError::component(c, "no `name` parameter"))?;
            query_param(query, name).map_err(|reason| SignatureError::component(c, reason))?
        }
        _ => return Err(SignatureError::component(c, "unknown derived component")),
    })
}

/// The parts of a target URI, unparsed beyond splitting (values are signed as sent).
struct Uri<'a> {
    whole: &'a str,
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> Uri<'a> {
    fn split(whole: &'a str) -> Self {
        let no_fragment = whole.split('#').next().unwrap_or("");
        let (scheme, rest) = match no_fragment.split_once("://") {
            Some((s, r)) if !s.contains(['/', '?']) => (Some(s), r),
            _ => (None, no_fragment),
        };
        let (authority, rest) = match scheme {
            Some(_) => {
                let end = rest.find(['/', '?']).unwrap_or(rest.len());
                (Some(&rest[..end]), &rest[end..])
            }
            None => (None, rest),
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        Uri {
            whole,
            scheme,
            authority,
            path,
            query,
        }
    }
}

/// Host lowercased, userinfo and the scheme's default port dropped (RFC 9110 4.2.3).
fn authority(message: &Message<'_>, target: &Uri<'_>) -> Option<String> {
    let raw = match target.authority {
        Some(a) => a,
        None => message.header_values("host").next()?.trim(),
    };
    let host = raw.rsplit('@').next().unwrap_or(raw).to_ascii_lowercase();
    let default_port = match target.scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Some(":443"),
        Some("http") => Some(":80"),
        _ => None,
    };
    Some(match default_port {
        Some(port) if host.ends_with(port) => host[..host.len() - port.len()].to_owned(),
        _ => host,
    })
}

/// The single named parameter, decoded as `application/x-www-form-urlencoded` and
/// re-encoded (RFC 9421 section 2.2.8).
fn query_param(query: &str, name: &str) -> Result<String, &'static str> {
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        if form_encode(&form_decode(n)) == name {
            if found.is_some() {
                return Err("the query parameter occurs more than once");
            }
            found = Some(form_encode(&form_decode(v)));
        }
    }
    found.ok_or("the query parameter is absent")
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes all but `*-._` and alphanumerics; space as `%20` as RFC 9421's own
/// example shows (`with+plus+whitespace` signs as `with%20plus%20whitespace`).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"*-._".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn field_value(message: &Message<'_>, c: &ComponentId) -> Result<String, SignatureError> {
    if c.has_flag("tr") {
        return Err(SignatureError::component(c, "trailers are not supported"));
    }
    let bs = c.has_flag("bs");
    let key = c.string_param("key");
    let sf = c.has_flag("sf");
    if bs && (sf || key.is_some()) {
        return Err(SignatureError::component(c, "`bs` with `sf` or `key`"));
    }
    let values: Vec<String> = message.header_values(&c.name).map(canonical_line).collect();
    if values.is_empty() {
        return Err(SignatureError::component(c, "field absent"));
    }
    if bs {
        let engine = base64::engine::general_purpose::STANDARD;
        let wrapped: Vec<String> = values
            .iter()
            .map(|v| format!(":{}:", engine.encode(v)))
            .collect();
        return Ok(wrapped.join(", "));
    }
    let combined = values.join(", ");
    if let Some(key) = key {
        let dict = components::parse_dictionary(&combined, "dictionary field")
            .map_err(|e| SignatureError::component(c, e))?;
        let member = dict
            .get(key)
            .ok_or_else(|| SignatureError::component(c, "no such dictionary member"))?;
        return Ok(components::serialize_member(member));
    }
    if sf {
        let kind = message
            .structured
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&c.name))
            .map(|(_, t)| *t)
            .ok_or_else(|| SignatureError::component(c, "structured type unknown"))?;
        let out = match kind {
            FieldType::Item => components::reserialize::<sfv::Item>(&combined),
            FieldType::List => components::reserialize::<sfv::List>(&combined),
            FieldType::Dictionary => components::reserialize::<sfv::Dictionary>(&combined),
        };
        return out.map_err(|e| SignatureError::component(c, e));
    }
    Ok(combined)
}

/// One field line: surrounding whitespace trimmed, obsolete line folding made one space.
fn canonical_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut lines = value.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first.trim_end_matches('\r'));
    }
    for line in lines {
        out.truncate(out.trim_end_matches([' ', '\t']).len());
        out.push(' ');
        out.push_str(line.trim_start_matches([' ', '\t']).trim_end_matches('\r'));
    }
    out.trim_matches([' ', '\t']).to_owned()
}
