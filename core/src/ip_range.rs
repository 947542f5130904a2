//! A source address or CIDR range, as providers publish them (GitHub publishes ranges).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One address (`192.0.2.1`) or a CIDR range (`192.0.2.0/24`, `2001:db8::/32`), IPv4 or
/// IPv6. Written as text; an address alone is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    /// The first address of the range (no bits set past the prefix).
    pub addr: IpAddr,
    /// How many leading bits are fixed: 32 (IPv4) or 128 (IPv6) for one address.
    pub prefix: u8,
}

impl IpRange {
    /// One address; usable in constants.
    pub const fn host(addr: IpAddr) -> Self {
        let prefix = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        IpRange { addr, prefix }
    }

    /// Bits in an address of this family.
    fn width(addr: IpAddr) -> u8 {
        match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    fn bits(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        }
    }

    /// The fixed bits: `prefix` leading ones within the family's `width`.
    fn mask(width: u8, prefix: u8) -> u128 {
        let all = u128::MAX >> (128 - u32::from(width));
        all & !all.checked_shr(u32::from(prefix)).unwrap_or(0)
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if Self::width(ip) != Self::width(self.addr) {
            return false;
        }
        let mask = Self::mask(Self::width(ip), self.prefix);
        Self::bits(ip) & mask == Self::bits(self.addr) & mask
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == Self::width(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        // The loader turns this exact message into its own, with a hint.
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| "invalid IP address syntax".to_owned())?;
        let width = Self::width(addr);
        let prefix = match prefix {
            None => width,
            Some(p) => match p.parse::<u8>() {
                Ok(p) if p <= width => p,
                _ => {
                    return Err(format!(
                        "`/{p}` is not a prefix length for this address (0 to {width})"
                    ))
                }
            },
        };
        let range = IpRange { addr, prefix };
        let mask = Self::mask(width, prefix);
        if Self::bits(addr) & !mask != 0 {
            let first = match addr {
                IpAddr::V4(_) => IpAddr::from(std::net::Ipv4Addr::from(
                    u32::try_from(Self::bits(addr) & mask).unwrap_or(0),
                )),
                IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::from(Self::bits(addr) & mask)),
            };
            return Err(format!(
                "`{s}` has bits set past its prefix; the range is `{first}/{prefix}`"
            ));
        }
        Ok(range)
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for IpRange {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IpRange".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "An IPv4 or IPv6 address, or a CIDR range such as `192.0.2.0/24`."
        })
    }
}
