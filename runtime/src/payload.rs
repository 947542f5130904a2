use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An event payload that the provider may replace with its error shape (Belvo sends
/// `data: {errors: [...]}` instead of the event's data when retrieval failed).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload<T, E> {
    /// The event's own fields.
    Data(T),
    /// The provider's error shape.
    Error(E),
}

impl<T, E> Payload<T, E> {
    /// The event's data, unless the provider sent its error shape.
    pub fn data(&self) -> Option<&T> {
        match self {
            Payload::Data(t) => Some(t),
            Payload::Error(_) => None,
        }
    }
}

impl<T: Serialize, E: Serialize> Serialize for Payload<T, E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Data(t) => t.serialize(s),
            Payload::Error(e) => e.serialize(s),
        }
    }
}

/// The provider's error shape, and the key whose presence marks it (the first field of
/// the spec's `payload_error` type; the loader and the schemas decide by the same key).
pub trait ErrorShape {
    /// The marking key.
    const MARKER: &'static str;
}

impl<'de, T: DeserializeOwned, E: DeserializeOwned + ErrorShape> Deserialize<'de>
    for Payload<T, E>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Each branch keeps serde's own message, so a broken payload still says which
        // field failed.
        let value = serde_json::Value::deserialize(d)?;
        let is_error = value.get(E::MARKER).is_some();
        if is_error {
            E::deserialize(value)
                .map(Payload::Error)
                .map_err(serde::de::Error::custom)
        } else {
            T::deserialize(value)
                .map(Payload::Data)
                .map_err(serde::de::Error::custom)
        }
    }
}
