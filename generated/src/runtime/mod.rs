//! The hand-written runtime the generated provider modules build on: exact decimals,
//! lossless time types, tri-state optional-nullable fields, discriminator probing, and
//! the parse error.

mod decimal;
mod error;
mod nullable;
mod payload;
mod probe;
mod time_types;

pub use decimal::Decimal;
pub use error::ParseError;
pub use nullable::{required_nullable, Nullable};
pub use payload::Payload;
pub use probe::{probe, Probe};
pub use time_types::{Date, DateTime, UnixMs, UnixS};

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
