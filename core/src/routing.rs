//! How a body names its event and its ids: the discriminator table and the envelope paths
//! a receiver reads without knowing any event's shape.

use crate::{List, Text};

/// The routing facts of a provider's bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// Top-level body fields whose values pick the event.
    pub discriminator: List<Text>,
    /// Each event's discriminator values (one per field, in order) and its name.
    pub events: List<(List<Text>, Text)>,
    /// Dotted paths to what an event is about, tried in order.
    pub subject: List<Text>,
    /// Dotted path to the provider's own delivery id, when it sends one.
    pub idempotency_key: Option<Text>,
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
}
