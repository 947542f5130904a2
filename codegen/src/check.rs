//! Checking a JSON value against a spec shape: used to prove every documented example
//! matches its event, and by the conformance suite to classify captured traffic.

use std::fmt;

use serde_json::Value;

use crate::model::{header_ref, Event, Format, JsonType, Kind, ProviderSpec, Select, Shape};

/// One way a value breaks its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path of the offending value, e.g. `$.data.errors[0].code`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Checks a whole delivery body against `event` (envelope, discriminator and payload).
pub fn check_event_body<'s>(
    spec: &'s ProviderSpec,
    event: &'s Event,
    body: &Value,
) -> Vec<Violation> {
    let mut c = Checker {
        spec,
        out: Vec::new(),
    };
    let Some(obj) = body.as_object() else {
        c.fail("$", format!("expected an object, found {}", describe(body)));
        return c.out;
    };
    // Header discriminators are not in the body; a body discriminator the event's `when`
    // leaves out must be absent.
    for field in &spec.discriminator {
        if header_ref(field).is_none() && !event.when.contains_key(field) {
            if let Some(v) = obj.get(field) {
                c.fail(
                    &format!("$.{field}"),
                    format!(
                        "this event's bodies carry no `{field}`, found {}",
                        describe(v)
                    ),
                );
            }
        }
    }
    for (field, want) in event.when.iter().filter(|(k, _)| header_ref(k).is_none()) {
        match obj.get(field) {
            Some(Value::String(got)) if got == want => {}
            Some(other) => c.fail(
                &format!("$.{field}"),
                format!(
                    "expected `{want}` (this event's discriminator), found {}",
                    describe(other)
                ),
            ),
            None => c.fail(
                &format!("$.{field}"),
                format!("missing discriminator field (expected `{want}`)"),
            ),
        }
    }
    match &spec.envelope.payload_field {
        None => {
            let fields = spec.envelope.fields.iter().chain(event.fields.iter());
            c.object_fields(obj, fields, event.additional_fields, "$");
        }
        Some(payload) => {
            let envelope = spec.envelope.fields.iter().filter(|(k, _)| *k != payload);
            c.object_fields(obj, envelope, true, "$");
            let path = format!("$.{payload}");
            match obj.get(payload) {
                None => c.fail(&path, "missing required field".to_owned()),
                Some(data) => c.payload(event, data, &path),
            }
        }
    }
    c.out
}

/// Checks any JSON value against a shape of `spec` (an API response against its declared
/// shape, say); paths start at `$`.
pub fn check_value(spec: &ProviderSpec, shape: &Shape, value: &Value) -> Vec<Violation> {
    let mut c = Checker {
        spec,
        out: Vec::new(),
    };
    c.value(value, shape, "$");
    c.out
}

/// Whether `body` satisfies a variant's `select` conditions.
pub fn select_matches(select: &Select, body: &Value) -> bool {
    let get = |k: &String| body.get(k);
    select.present.iter().all(|k| get(k).is_some())
        && select.absent.iter().all(|k| get(k).is_none())
        && select
            .json_type
            .iter()
            .all(|(k, t)| get(k).is_some_and(|v| json_type(v) == *t))
}

/// The event a delivery dispatches to, following the spec's discriminator (header
/// values from `headers`, case-insensitive names) and variants; `None` for an event the
/// spec does not know. A body discriminator an event leaves out must be absent.
pub fn resolve_event<'s>(
    spec: &'s ProviderSpec,
    headers: &[(String, String)],
    body: &Value,
) -> Option<&'s Event> {
    let value = |d: &str| -> Option<&str> {
        match header_ref(d) {
            Some(name) => headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
            None => body.get(d).and_then(Value::as_str),
        }
    };
    let candidates = spec.events.iter().filter(|e| {
        spec.discriminator
            .iter()
            .all(|d| value(d) == e.when.get(d).map(String::as_str))
    });
    let mut fallback = None;
    for e in candidates {
        match &e.select {
            Some(s) if select_matches(s, body) => return Some(e),
            Some(_) => {}
            None => fallback = fallback.or(Some(e)),
        }
    }
    fallback
}

/// The header values an event's `when` names (GitHub's `X-GitHub-Event: push`), which a
/// delivery of it carries.
pub fn when_headers(spec: &ProviderSpec, event: &Event) -> Vec<(String, String)> {
    spec.discriminator
        .iter()
        .filter_map(|d| Some((header_ref(d)?.to_owned(), event.when.get(d)?.clone())))
        .collect()
}

/// The event a body alone belongs to: dispatched by its discriminator, or, for a
/// provider that names events in headers, the first event whose body discriminators and
/// shape it satisfies. `None` when none fits.
pub fn infer_event<'s>(spec: &'s ProviderSpec, body: &Value) -> Option<&'s Event> {
    resolve_event(spec, &[], body).or_else(|| {
        spec.events
            .iter()
            .filter(|e| e.when.keys().any(|k| header_ref(k).is_some()))
            .find(|e| check_event_body(spec, e, body).is_empty())
    })
}

/// The JSON type of a value.
pub fn json_type(v: &Value) -> JsonType {
    match v {
        Value::Null => JsonType::Null,
        Value::Bool(_) => JsonType::Boolean,
        Value::Number(_) => JsonType::Number,
        Value::String(_) => JsonType::String,
        Value::Array(_) => JsonType::Array,
        Value::Object(_) => JsonType::Object,
    }
}

struct Checker<'s> {
    spec: &'s ProviderSpec,
    out: Vec<Violation>,
}

impl<'s> Checker<'s> {
    fn fail(&mut self, path: &str, message: String) {
        self.out.push(Violation {
            path: path.to_owned(),
            message,
        });
    }

    fn payload(&mut self, event: &'s Event, data: &Value, path: &str) {
        let Some(obj) = data.as_object() else {
            self.fail(
                path,
                format!("expected an object, found {}", describe(data)),
            );
            return;
        };
        // The provider's error shape stands in for the payload when its marker key is
        // there, the same rule the runtime and the schemas apply.
        if let (Some(err_ty), Some(marker)) = (
            &self.spec.envelope.payload_error,
            self.spec.payload_error_marker(),
        ) {
            if let Some(shape) = self.spec.types.get(err_ty) {
                if obj.contains_key(marker) {
                    self.value(data, shape, path);
                    return;
                }
            }
        }
        self.object_fields(obj, event.fields.iter(), event.additional_fields, path);
    }

    fn object_fields(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        fields: impl Iterator<Item = (&'s String, &'s Shape)> + Clone,
        additional: bool,
        path: &str,
    ) {
        for (name, shape) in fields.clone() {
            let p = format!("{path}.{name}");
            match obj.get(name) {
                Some(v) => self.value(v, shape, &p),
                None if shape.is_required() => self.fail(&p, "missing required field".to_owned()),
                None => {}
            }
        }
        if !additional {
            for key in obj.keys() {
                if !fields.clone().any(|(n, _)| n == key) {
                    self.fail(
                        &format!("{path}.{key}"),
                        "field not allowed here".to_owned(),
                    );
                }
            }
        }
    }

    fn value(&mut self, v: &Value, shape: &'s Shape, path: &str) {
        let mut shape = shape;
        let mut nullable = shape.nullable;
        // Follow references; a cycle of pure aliases would have been refused by validation.
        let mut hops = 0;
        while let Some(name) = &shape.reference {
            match self.spec.types.get(name) {
                Some(t) if hops < 64 => {
                    shape = t;
                    nullable |= t.nullable;
                    hops += 1;
                }
                _ => {
                    self.fail(path, format!("unknown type `{name}`"));
                    return;
                }
            }
        }
        if v.is_null() {
            if !nullable && shape.kind != Some(Kind::Any) {
                self.fail(path, "null is not allowed here".to_owned());
            }
            return;
        }
        let Some(kind) = shape.kind else { return };
        match kind {
            Kind::Any => {}
            Kind::String => match v.as_str() {
                Some(s) => self.format(s, shape.format, path),
                None => self.wrong(path, "a string", v),
            },
            Kind::Integer => match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => {}
                _ => self.wrong(path, "an integer", v),
            },
            Kind::Decimal => {
                if !v.is_number() {
                    self.wrong(path, "a number", v)
                }
            }
            Kind::Boolean => {
                if !v.is_boolean() {
                    self.wrong(path, "a boolean", v)
                }
            }
            Kind::Enum => match v.as_str() {
                Some(s) => {
                    let values = shape.values.as_deref().unwrap_or_default();
                    if !shape.open.unwrap_or(false) && !values.iter().any(|x| x == s) {
                        let list = values
                            .iter()
                            .map(|x| format!("`{x}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        self.fail(path, format!("`{s}` is not one of {list}"));
                    }
                }
                None => self.wrong(path, "a string (enum value)", v),
            },
            Kind::Array => match (v.as_array(), &shape.items) {
                (Some(items), Some(item_shape)) => {
                    for (i, item) in items.iter().enumerate() {
                        self.value(item, item_shape, &format!("{path}[{i}]"));
                    }
                }
                (Some(_), None) => {}
                (None, _) => self.wrong(path, "an array", v),
            },
            Kind::Map => match (v.as_object(), &shape.items) {
                (Some(obj), Some(item_shape)) => {
                    for (k, item) in obj {
                        self.value(item, item_shape, &format!("{path}.{k}"));
                    }
                }
                (Some(_), None) => {}
                (None, _) => self.wrong(path, "an object (map)", v),
            },
            Kind::Object => match v.as_object() {
                Some(obj) => {
                    let fields = shape.fields.iter().flatten();
                    self.object_fields(obj, fields, shape.additional_fields.unwrap_or(true), path);
                }
                None => self.wrong(path, "an object", v),
            },
        }
    }

    fn wrong(&mut self, path: &str, expected: &str, v: &Value) {
        self.fail(path, format!("expected {expected}, found {}", describe(v)));
    }

    fn format(&mut self, s: &str, format: Option<Format>, path: &str) {
        let Some(format) = format else { return };
        if let Err(why) = check_format(s, format) {
            self.fail(path, why);
        }
    }
}

/// Checks a string against a format; the error says which format and why.
pub fn check_format(s: &str, format: Format) -> Result<(), String> {
    use time::format_description::well_known::Rfc3339;
    let ok = match format {
        Format::Uuid => uuid::Uuid::try_parse(s).is_ok(),
        Format::Date => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(s, &fmt).is_ok()
        }
        Format::DateTime => time::OffsetDateTime::parse(s, &Rfc3339).is_ok(),
        Format::Ipv4 => s.parse::<std::net::Ipv4Addr>().is_ok(),
        Format::Uri => {
            let scheme = s.split_once(':').map(|(a, _)| a).unwrap_or("");
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !s.contains(char::is_whitespace)
        }
        Format::Email => s.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !s.contains(char::is_whitespace)
        }),
        Format::UnixMs | Format::UnixS => true,
    };
    if ok {
        Ok(())
    } else {
        let name = serde_json::to_value(format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Err(format!("`{s}` is not a valid {name}"))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("string \"{}…\"", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("string \"{s}\""),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}
