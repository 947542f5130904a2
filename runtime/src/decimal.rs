use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON number kept as its exact decimal text: `1678.12` stays `1678.12`.
///
/// Money and counters must not pass through a binary float. The number is held as
/// `serde_json`'s arbitrary-precision `Number`, which stores the text it was parsed from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(serde_json::Number);

impl Decimal {
    /// The exact text, e.g. `"1678.12"`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The value as `f64`, for display or arithmetic where rounding is acceptable.
    pub fn to_f64(&self) -> f64 {
        self.0.as_f64().unwrap_or(f64::NAN)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.as_str())
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decimal {
    type Err = serde_json::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::Number::from_str(s).map(Decimal)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Number::deserialize(d).map(Decimal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_exact_text() {
        for text in [
            "1678.12",
            "0.10",
            "1.0",
            "-0",
            "12345678901234567890.000000001",
        ] {
            let d: Decimal = serde_json::from_str(text).unwrap();
            assert_eq!(d.as_str(), text);
            assert_eq!(serde_json::to_string(&d).unwrap(), text);
        }
        assert!(serde_json::from_str::<Decimal>("\"1.5\"").is_err());
    }
}
