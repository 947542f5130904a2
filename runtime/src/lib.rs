//! # hookspec-runtime
//!
//! The hand-written runtime that generated provider modules build on: exact decimals,
//! lossless time types, tri-state optional-nullable fields, discriminator probing, the
//! parse error, delivery verification ([`verify`]), the receiving pipeline ([`receive`],
//! and an axum router with the `axum` feature) and follow-up requests.
//!
//! Emitted code names this crate by absolute path (`::hookspec_runtime::...`), so a module
//! generated from any spec compiles in any crate that depends on it (directly, or through
//! `hookspec`, whose `provider!` macro rewrites the path to `::hookspec::runtime`).

/// The shared vocabulary (auth schemes, delivery rules, credentials) generated constants
/// are written in.
pub use hookspec_core as core;
/// The header map generated code reads discriminators and ids from.
pub use http;
/// The serde the generated code derives with (`#[serde(crate = "::hookspec_runtime::serde")]`),
/// so a crate holding a generated module needs no serde dependency of its own.
pub use serde;
/// The serde_json the generated code parses with.
pub use serde_json;

#[cfg(feature = "axum")]
pub mod axum;
/// Without the `axum` feature a generated module has no `router`.
#[cfg(not(feature = "axum"))]
#[doc(hidden)]
#[macro_export]
macro_rules! provider_router {
    ($($t:tt)*) => {};
}
mod decimal;
mod error;
mod follow_up;
mod nullable;
mod payload;
mod probe;
mod receive;
mod repeated_keys;
pub mod respond;
mod scan;
mod single;
mod spec_provider;
mod time_types;
mod unknown_fields;
pub mod verify;

pub use decimal::Decimal;
pub use error::ParseError;
pub use follow_up::*;
pub use nullable::{optional_non_null, required_nullable, Nullable};
pub use payload::{ErrorShape, Payload};
pub use probe::{discriminators, header_text, routing_values, selectors, Selectors};
pub use receive::{
    admit, handle, receive, Admission, Claim, Config, Delivery, Handled, HandlerError, Handling,
    Outcome, Provider, Receipt, Receiver, VisitProvider, DEFAULT_BODY_LIMIT,
};
pub use repeated_keys::{last_copies_win, repeated_key, repeated_key_exact};
pub use respond::Answer;
pub use single::{single_pass, Dispatch, Replay};
pub use spec_provider::{Resolve, ShapeCheck, SpecEvent, SpecProvider};
pub use time_types::{Date, DateTime, UnixMs, UnixS};
pub use unknown_fields::{unknown_keys, UnknownFields};

/// An event the spec does not know: its discriminator values and the whole body.
///
/// Providers add events without notice; receiving one is never an error.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownEvent {
    /// `(field, value)` for each discriminator field, `None` where the body lacks it.
    pub discriminator: Vec<(&'static str, String)>,
    /// The body as JSON.
    pub raw: serde_json::Value,
}

impl serde::Serialize for UnknownEvent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

/// `sha256:` and the hex SHA-256 of `body`: the idempotency key of a delivery from a
/// provider that sends no delivery id. Computed over the raw bytes, so it is stable
/// across languages and never depends on re-serialization.
pub fn body_digest(body: &[u8]) -> String {
    use sha2::Digest;
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = sha2::Sha256::digest(body);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The string or integer at a dotted path of a JSON value (for events the spec does not
/// know, which have no struct to read from).
pub fn id_at(value: &serde_json::Value, path: &str) -> Option<String> {
    match follow_up::value_at(value, path)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first id found along routing `paths` (the spec's `subject` list, or its
/// `idempotency_key`), tried in order: a `header:NAME` from the delivery's headers, any
/// other path through `body_at`. Generated modules and [`SpecProvider`] both read ids
/// this way.
pub fn id_from(
    headers: &http::HeaderMap,
    paths: &[&str],
    mut body_at: impl FnMut(&str) -> Option<String>,
) -> Option<String> {
    paths
        .iter()
        .find_map(|path| match hookspec_core::header_ref(path) {
            Some(name) => probe::header_text(headers, name),
            None => body_at(path),
        })
}

/// FNV-1a over each discriminator value followed by a 0xff separator: generated dispatch
/// jumps on it instead of comparing strings arm by arm. The code generator computes the
/// same function at generation time.
#[inline]
pub fn discriminator_hash(values: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for &b in v.as_bytes().iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A parser straight into one event's struct, without dispatch (benchmark baseline).
pub type DirectParser<E> = fn(&[u8]) -> Result<E, serde_json::Error>;
