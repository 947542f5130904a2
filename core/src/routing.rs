//! How a body names its event and its ids: the discriminator table and the envelope paths
//! a receiver reads without knowing any event's shape.

use crate::{List, Respond, Text};

/// The header a routing entry names (`header:X-GitHub-Event` names `X-GitHub-Event`);
/// `None` for a body field or path.
pub fn header_ref(entry: &str) -> Option<&str> {
    entry.strip_prefix("header:").filter(|h| !h.is_empty())
}

/// The routing facts of a provider's deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// Top-level body fields (or `header:NAME` headers) whose values pick the event.
    pub discriminator: List<Text>,
    /// Each event's discriminator values (one per field, in order; empty for a body field
    /// the event's bodies lack) and its name.
    pub events: List<(List<Text>, Text)>,
    /// Dotted paths (or `header:NAME`) to what an event is about, tried in order.
    pub subject: List<Text>,
    /// Dotted path (or `header:NAME`) to the provider's own delivery id, when it sends one.
    pub idempotency_key: Option<Text>,
    /// The events a receiver answers itself (handshakes), by event name.
    pub responses: List<(Text, Respond)>,
}

impl Routing {
    /// The event named by these discriminator values, if the spec has one. A shape
    /// variant shares its values with the event it varies, so the first one listed wins.
    pub fn event(&self, values: &[&str]) -> Option<&str> {
        self.events
            .iter()
            .find(|(want, _)| {
                want.len() == values.len() && want.iter().zip(values).all(|(w, v)| w == v)
            })
            .map(|(_, name)| &**name)
    }

    /// How the receiver answers `event` itself, when it is a handshake.
    pub fn response(&self, event: &str) -> Option<&Respond> {
        respond_for(&self.responses, event)
    }
}

/// The handshake rule of `event` among `responses`.
pub fn respond_for<'r>(responses: &'r [(Text, Respond)], event: &str) -> Option<&'r Respond> {
    responses
        .iter()
        .find(|(name, _)| name == event)
        .map(|(_, rule)| rule)
}
