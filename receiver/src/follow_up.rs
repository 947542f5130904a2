//! Follow-up calls: after accepting an event whose spec names a call back to the provider
//! (Belvo's `GET /api/accounts/?link=...`, Plaid's `/item/get`), the receiver makes it in
//! the background, after the delivery was acknowledged, as a real receiver should.
//!
//! The request comes from the generated `follow_up(&ctx)`; this module supplies what only
//! a receiver knows: the API base URL, the credentials, values it holds per record (an
//! item's access token) and the date of the previous notification of the same kind.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hookspec::runtime::{Delivery, FollowUp, FollowUpContext, Provider};
use serde_json::Value;

use crate::faults::{self, Fault};

/// The caller value names the specs use for "since the previous notification" ranges.
const PREVIOUS_DATE: &str = "previous_notification_date";
const THIS_DATE: &str = "notification_date";

/// How long one follow-up call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Values only the receiver holds, as the follow-ups' `caller` bindings name them.
#[derive(Clone, Default)]
pub struct CallerValues {
    /// Per-record values by `(name, key)`: the access token of one item.
    pub stored: BTreeMap<(String, String), String>,
    /// Values by name alone (`after_id`, a date window).
    pub fixed: BTreeMap<String, String>,
    /// Per-record values derived from the key: the value of `name` is its prefix followed
    /// by the key (how a mock provider's test tokens are named).
    pub derived: BTreeMap<String, String>,
}

impl fmt::Debug for CallerValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Stored values are tokens: show which exist, not what they are.
        f.debug_struct("CallerValues")
            .field("stored", &self.stored.keys().collect::<Vec<_>>())
            .field("fixed", &self.fixed.keys().collect::<Vec<_>>())
            .field("derived", &self.derived.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl CallerValues {
    /// The value of `name` for the record `key`, when the receiver has one.
    pub fn get(&self, name: &str, key: Option<&str>) -> Option<String> {
        if let Some(key) = key {
            if let Some(v) = self.stored.get(&(name.to_owned(), key.to_owned())) {
                return Some(v.clone());
            }
            if let Some(prefix) = self.derived.get(name) {
                return Some(format!("{prefix}{key}"));
            }
        }
        self.fixed.get(name).cloned()
    }
}

/// Where and with what follow-up calls are made.
#[derive(Clone, Default)]
pub struct FollowUpTarget {
    /// Base URL below which each provider's API is at `/<provider>` (a mock serving several
    /// providers); overridden per provider by `base_urls`.
    pub base_url: Option<String>,
    /// A provider's API base URL, by provider name.
    pub base_urls: BTreeMap<String, String>,
    /// API credentials by the names the specs' `api.auth` gives them (`client_id`,
    /// `secret`, `secret_id`, `secret_password`).
    pub credentials: BTreeMap<String, String>,
    /// Values the receiver holds.
    pub values: CallerValues,
}

impl fmt::Debug for FollowUpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FollowUpTarget")
            .field("base_url", &self.base_url)
            .field("base_urls", &self.base_urls)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .field("values", &self.values)
            .finish()
    }
}

impl FollowUpTarget {
    /// The API base URL of `provider`.
    pub fn base_url_of(&self, provider: &str) -> Option<String> {
        self.base_urls.get(provider).cloned().or_else(|| {
            self.base_url
                .as_ref()
                .map(|b| format!("{}/{provider}", b.trim_end_matches('/')))
        })
    }
}

/// Makes follow-up calls; shared by every provider's handler.
pub(crate) struct FollowUps {
    target: FollowUpTarget,
    client: reqwest::Client,
    faults: Arc<[Fault]>,
    /// The date of the last notification per `(provider, event, subject)`.
    previous: Mutex<HashMap<(String, String, String), String>>,
}

impl FollowUps {
    pub(crate) fn new(target: FollowUpTarget, faults: Arc<[Fault]>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
        Ok(FollowUps {
            target,
            client,
            faults,
            previous: Mutex::new(HashMap::new()),
        })
    }

    /// The call `event` asks for, ready to send; `None` when it asks for none, or when a
    /// value it needs is missing (logged).
    pub(crate) fn prepare<P: Provider>(
        &self,
        provider: &P,
        event: &P::Event,
        delivery: &Delivery,
    ) -> Option<FollowUp> {
        if self.faults.contains(&Fault::SkipFollowUp) {
            return None;
        }
        let base = self.target.base_url_of(delivery.provider)?;
        let today = date_of(delivery.received_at);
        let mut ctx = FollowUpContext::new("sandbox")
            .with_base_url(base)
            .with_value(THIS_DATE, today.clone());
        if let Some(previous) = self.remember(delivery, today) {
            ctx = ctx.with_value(PREVIOUS_DATE, previous);
        }
        // A first build shows which held values it needs, each with the record it is for.
        let draft = provider.follow_up(event, &ctx)?;
        let wrong_record = self.faults.contains(&Fault::WrongFollowUpParams);
        for p in draft.placeholders.iter().filter(|p| !p.credential) {
            match self.target.values.get(p.name, p.key.as_deref()) {
                Some(v) => ctx = ctx.with_value(p.name, v),
                None => {
                    tracing::warn!(
                        provider = delivery.provider,
                        event = delivery.event,
                        value = p.name,
                        "follow-up skipped: the receiver holds no such value"
                    );
                    return None;
                }
            }
        }
        let mut call = provider.follow_up(event, &ctx)?;
        if wrong_record {
            faults::botch_follow_up(&mut call, delivery.subject_id.as_deref());
        }
        for p in call.placeholders.clone().iter().filter(|p| p.credential) {
            match self.target.credentials.get(p.name) {
                Some(v) => {
                    call.fill(p.name, v);
                }
                None => {
                    tracing::warn!(
                        provider = delivery.provider,
                        credential = p.name,
                        "follow-up skipped: no such API credential configured"
                    );
                    return None;
                }
            }
        }
        call.is_complete().then_some(call)
    }

    /// Records this notification's date; answers the previous one of the same kind about
    /// the same subject.
    fn remember(&self, delivery: &Delivery, today: String) -> Option<String> {
        let key = (
            delivery.provider.to_owned(),
            delivery.event.to_owned(),
            delivery.subject_id.clone().unwrap_or_default(),
        );
        let mut previous = self.previous.lock().unwrap_or_else(|p| p.into_inner());
        previous.insert(key, today)
    }

    /// Sends `call`; the outcome is logged (endpoint and status, never a credential).
    pub(crate) async fn send(&self, call: FollowUp) {
        let method =
            reqwest::Method::from_bytes(call.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = self.client.request(method, call.url_with_query());
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        if let Some((user, password)) = &call.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(body) = &call.json_body {
            request = request.body(serde_json::to_vec(body).unwrap_or_default());
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                let parsed = match response.bytes().await {
                    Ok(bytes) => serde_json::from_slice::<Value>(&bytes).is_ok(),
                    Err(_) => false,
                };
                tracing::debug!(endpoint = call.endpoint, parsed, "follow-up made");
            }
            Ok(response) => tracing::warn!(
                endpoint = call.endpoint,
                status = response.status().as_u16(),
                "follow-up refused by the provider"
            ),
            Err(e) => tracing::warn!(endpoint = call.endpoint, error = %e, "follow-up failed"),
        }
    }
}

/// `YYYY-MM-DD` (UTC) of a time.
fn date_of(t: SystemTime) -> String {
    let date = time::OffsetDateTime::from(t).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(date_of(SystemTime::UNIX_EPOCH), "1970-01-01");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_251_199); // 2024-02-29T23:59:59Z
        assert_eq!(date_of(t), "2024-02-29");
    }

    #[test]
    fn held_values_prefer_stored_then_derived_then_fixed() {
        let mut v = CallerValues::default();
        v.stored
            .insert(("access_token".into(), "item-1".into()), "tok-1".into());
        v.derived.insert("access_token".into(), "mock-".into());
        v.fixed.insert("after_id".into(), "0".into());
        assert_eq!(
            v.get("access_token", Some("item-1")).as_deref(),
            Some("tok-1")
        );
        assert_eq!(
            v.get("access_token", Some("item-2")).as_deref(),
            Some("mock-item-2")
        );
        assert_eq!(v.get("after_id", None).as_deref(), Some("0"));
        assert_eq!(v.get("cursor", Some("item-1")), None);
        assert!(!format!("{v:?}").contains("tok-1"));
    }
}
