//! Finding the fields a parsed event carries that the spec does not know. Generated
//! structs keep such fields (so nothing is lost and bodies re-serialize as received); this
//! walk lists where they are, for drift logging: "the provider started sending X".

use std::collections::BTreeMap;

use super::{Date, DateTime, Decimal, Nullable, Payload, UnixMs, UnixS};

/// A value that can list the JSON paths of its fields the spec does not know.
pub trait UnknownFields {
    /// Appends the path (`$.data.new_field`) of each unknown field at or below `path`.
    fn unknown_fields_into(&self, path: &str, out: &mut Vec<String>);
}

/// Leaves: nothing below them can be unknown. `Value` is the spec's `any`, where every
/// shape is allowed.
macro_rules! leaf {
    ($($t:ty),*) => {$(
        impl UnknownFields for $t {
            fn unknown_fields_into(&self, _: &str, _: &mut Vec<String>) {}
        }
    )*};
}

leaf!(
    String,
    i64,
    bool,
    Decimal,
    Date,
    DateTime,
    UnixMs,
    UnixS,
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>
);

impl<T: UnknownFields> UnknownFields for Option<T> {
    fn unknown_fields_into(&self, path: &str, out: &mut Vec<String>) {
        if let Some(v) = self {
            v.unknown_fields_into(path, out);
        }
    }
}

impl<T: UnknownFields> UnknownFields for Nullable<T> {
    fn unknown_fields_into(&self, path: &str, out: &mut Vec<String>) {
        if let Nullable::Value(v) = self {
            v.unknown_fields_into(path, out);
        }
    }
}

impl<T: UnknownFields> UnknownFields for Vec<T> {
    fn unknown_fields_into(&self, path: &str, out: &mut Vec<String>) {
        for (i, v) in self.iter().enumerate() {
            v.unknown_fields_into(&format!("{path}[{i}]"), out);
        }
    }
}

impl<T: UnknownFields> UnknownFields for BTreeMap<String, T> {
    fn unknown_fields_into(&self, path: &str, out: &mut Vec<String>) {
        for (k, v) in self {
            v.unknown_fields_into(&format!("{path}.{k}"), out);
        }
    }
}

impl<T: UnknownFields, E: UnknownFields> UnknownFields for Payload<T, E> {
    fn unknown_fields_into(&self, path: &str, out: &mut Vec<String>) {
        match self {
            Payload::Data(t) => t.unknown_fields_into(path, out),
            Payload::Error(e) => e.unknown_fields_into(path, out),
        }
    }
}

/// Appends `path.key` for each key of a struct's kept unknown fields.
pub fn unknown_keys(
    extra: &serde_json::Map<String, serde_json::Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    out.extend(extra.keys().map(|k| format!("{path}.{k}")));
}
