//! The transport facts of a delivery that a receiver acts on.

use serde::{Deserialize, Serialize};

use crate::{Duration, IpRange, List, Text};

/// Which statuses the provider counts as a successful delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Success {
    /// Any status from 200 to 299.
    Any2xx,
    /// Only the listed statuses (Plaid: only 200).
    Only(List<u16>),
}

impl Success {
    /// The status a receiver answers with when it accepts a delivery.
    pub fn ack(&self) -> u16 {
        match self {
            Success::Any2xx => 200,
            Success::Only(list) => list.first().copied().unwrap_or(200),
        }
    }

    /// Whether the provider counts `status` as delivered.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            Success::Any2xx => (200..300).contains(&status),
            Success::Only(list) => list.contains(&status),
        }
    }

    /// How a report names the accepted statuses: `2xx`, or the list (`200`, `200 or 204`).
    pub fn describe(&self) -> String {
        match self {
            Success::Any2xx => "2xx".to_owned(),
            Success::Only(list) => list
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// The delivery facts a receiver checks: content type, source addresses, the provider's
/// timeout and which statuses count as delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRules {
    /// `Content-Type` of the body.
    pub content_type: Text,
    /// Addresses and ranges deliveries come from; empty when the provider publishes none.
    pub source_ips: List<IpRange>,
    /// How long the provider waits for an answer.
    pub timeout: Duration,
    /// Which statuses count as delivered.
    pub success: Success,
    /// The status the provider expects for a delivery whose signature or credentials fail
    /// (GoCardless: 498); 401 when it names none.
    pub refusal: Option<u16>,
}

impl DeliveryRules {
    /// The status to answer a failed check with: the provider's refusal status in place
    /// of 401; 403 (sender not allowed) and 503 (key unavailable) stay what they are.
    pub fn refusal_status(&self, status: u16) -> u16 {
        match (status, self.refusal) {
            (401, Some(refusal)) => refusal,
            _ => status,
        }
    }

    /// The media type of `content_type` without its parameters: what a received
    /// `Content-Type` is compared with (`application/json; charset=utf-8` names
    /// `application/json`).
    pub fn media_type(&self) -> &str {
        media_type(&self.content_type)
    }
}

/// The media type of a `Content-Type` value, without parameters (`charset`, ...).
pub fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}
