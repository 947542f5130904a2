use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub time::Date);

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .format(format_description!("[year]-[month]-[day]"))
            .map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        time::Date::parse(&text, format_description!("[year]-[month]-[day]"))
            .map(Date)
            .map_err(|e| {
                serde::de::Error::custom(format!("`{text}` is not a YYYY-MM-DD date: {e}"))
            })
    }
}

/// An RFC 3339 date-time. Keeps the text it was read from, so `...58.000Z` is written
/// back as `...58.000Z` and not normalised.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DateTime {
    value: time::OffsetDateTime,
    text: String,
}

impl DateTime {
    /// The instant.
    pub fn value(&self) -> time::OffsetDateTime {
        self.value
    }

    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<time::OffsetDateTime> for DateTime {
    fn from(value: time::OffsetDateTime) -> Self {
        let text = value.format(&Rfc3339).unwrap_or_default();
        DateTime { value, text }
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateTime({})", self.text)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match time::OffsetDateTime::parse(&text, &Rfc3339) {
            Ok(value) => Ok(DateTime { value, text }),
            Err(e) => Err(serde::de::Error::custom(format!(
                "`{text}` is not an RFC 3339 date-time: {e}"
            ))),
        }
    }
}

macro_rules! unix_time {
    ($name:ident, $doc:literal, $per_second:expr) => {
        #[doc = $doc]
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The instant, or `None` when out of range.
            pub fn to_datetime(self) -> Option<time::OffsetDateTime> {
                let nanos = i128::from(self.0) * (1_000_000_000 / $per_second);
                time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
            }
        }
    };
}

unix_time!(UnixMs, "Unix time in milliseconds, as sent.", 1_000);
unix_time!(UnixS, "Unix time in seconds, as sent.", 1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let dt: DateTime = serde_json::from_str("\"2024-12-26T10:45:58.000Z\"").unwrap();
        assert_eq!(
            serde_json::to_string(&dt).unwrap(),
            "\"2024-12-26T10:45:58.000Z\""
        );
        assert_eq!(dt.value().unix_timestamp(), 1_735_209_958);
        let d: Date = serde_json::from_str("\"2023-01-03\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2023-01-03\"");
        assert!(serde_json::from_str::<Date>("\"2023-13-03\"").is_err());
        let ms: UnixMs = serde_json::from_str("1612782588323").unwrap();
        assert_eq!(ms.to_datetime().unwrap().unix_timestamp(), 1_612_782_588);
    }
}
