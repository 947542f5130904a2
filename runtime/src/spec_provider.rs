//! A provider known only from a spec read at run time: verified by the same verifiers as
//! a generated module (they take the same core values), routed by its discriminator
//! table, its body kept as JSON. A provider written as YAML is received with no rebuild.

use std::fmt;
use std::sync::Arc;

use hookspec_core::{AuthScheme, DeliveryRules, Routing};

use crate::{body_digest, header_text, id_at, id_from, ParseError, Provider};

/// An event of a [`SpecProvider`]: the spec's name for it (`"Unknown"` when the table
/// has none) and the body as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecEvent {
    /// The spec's name of the event.
    pub name: &'static str,
    /// The discriminator values, one per field.
    pub discriminator: Vec<String>,
    /// The body.
    pub body: serde_json::Value,
}

/// Checks a known event's body against its shape: `Err((json_path, message))` when it
/// does not match. Given by whoever holds the spec's shapes (the code generator's checker).
pub type ShapeCheck =
    dyn Fn(&str, &serde_json::Value) -> Result<(), (String, String)> + Send + Sync;

/// Picks, among the events routing chose by discriminator values (`name` first), the one
/// a body is: several events may share values and differ in shape (Plaid's processor
/// variants carry `account_id` where the others carry `item_id`).
pub type Resolve = dyn Fn(&str, &serde_json::Value) -> Option<String> + Send + Sync;

/// A provider built from a spec's core values. Its rules are leaked once, when it is
/// built, so they live as long as the process (as a generated module's constants do).
#[derive(Clone)]
pub struct SpecProvider {
    name: &'static str,
    auth: &'static [AuthScheme],
    delivery: &'static DeliveryRules,
    routing: &'static Routing,
    fields: &'static [&'static str],
    /// Per field: some event's bodies lack it, so its absence is no error.
    may_lack: &'static [bool],
    check: Option<Arc<ShapeCheck>>,
    resolve: Option<Arc<Resolve>>,
    /// Read repeated keys' last copies instead of refusing the body.
    last_copies_win: bool,
}

impl SpecProvider {
    /// A provider named `name` with these rules.
    pub fn new(
        name: &str,
        auth: Vec<AuthScheme>,
        delivery: DeliveryRules,
        routing: Routing,
    ) -> Self {
        let routing: &'static Routing = Box::leak(Box::new(routing));
        let fields: Vec<&'static str> = routing.discriminator.iter().map(|f| &**f).collect();
        let may_lack: Vec<bool> = (0..fields.len())
            .map(|i| {
                routing
                    .events
                    .iter()
                    .any(|(values, _)| values.get(i).is_some_and(|v| v.is_empty()))
            })
            .collect();
        SpecProvider {
            name: Box::leak(name.to_owned().into_boxed_str()),
            auth: Box::leak(auth.into_boxed_slice()),
            delivery: Box::leak(Box::new(delivery)),
            routing,
            fields: Box::leak(fields.into_boxed_slice()),
            may_lack: Box::leak(may_lack.into_boxed_slice()),
            check: None,
            resolve: None,
            last_copies_win: false,
        }
    }

    /// Name events sharing discriminator values by their shape, as generated dispatch
    /// does; without it the first such event in the spec is named.
    pub fn with_resolver(
        mut self,
        resolve: impl Fn(&str, &serde_json::Value) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.resolve = Some(Arc::new(resolve));
        self
    }

    /// Read a body that repeats a key with the last copy winning, for a provider whose
    /// spec says it sends such bodies (`envelope.repeated_keys: last_wins`); without it
    /// they are refused.
    pub fn last_copies_win(mut self) -> Self {
        self.last_copies_win = true;
        self
    }

    /// Refuse (400) a known event whose body does not match its shape.
    pub fn with_check(
        mut self,
        check: impl Fn(&str, &serde_json::Value) -> Result<(), (String, String)> + Send + Sync + 'static,
    ) -> Self {
        self.check = Some(Arc::new(check));
        self
    }
}

impl fmt::Debug for SpecProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpecProvider")
            .field("name", &self.name)
            .field("events", &self.routing.events.len())
            .field("checks_shapes", &self.check.is_some())
            .finish_non_exhaustive()
    }
}

impl Provider for SpecProvider {
    type Event = SpecEvent;

    fn name(&self) -> &'static str {
        self.name
    }

    fn auth(&self) -> &'static [AuthScheme] {
        self.auth
    }

    fn delivery(&self) -> &'static DeliveryRules {
        self.delivery
    }

    fn parse(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<SpecEvent, ParseError> {
        let body = if self.last_copies_win {
            crate::last_copies_win(body)
        } else {
            ParseError::refuse_repeated_keys(body)?;
            std::borrow::Cow::Borrowed(body)
        };
        let body: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| ParseError::NotJson {
                message: e.to_string(),
            })?;
        if !body.is_object() {
            return Err(ParseError::NotJson {
                message: "not an object".into(),
            });
        }
        let mut values = Vec::with_capacity(self.fields.len());
        for (&field, &may_lack) in self.fields.iter().zip(self.may_lack) {
            if let Some(name) = crate::core::header_ref(field) {
                match header_text(headers, name) {
                    Some(v) => values.push(v),
                    None => {
                        return Err(ParseError::Discriminator {
                            field,
                            message: "missing header".to_owned(),
                        })
                    }
                }
                continue;
            }
            let problem = match body.get(field) {
                Some(serde_json::Value::String(s)) => {
                    values.push(s.clone());
                    continue;
                }
                None if may_lack => {
                    values.push(String::new());
                    continue;
                }
                Some(_) => "is not a string",
                None => "is missing",
            };
            return Err(ParseError::Discriminator {
                field,
                message: problem.to_owned(),
            });
        }
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let mut name: &'static str = self.routing.event(&refs).unwrap_or("Unknown");
        if let (true, Some(resolve)) = (name != "Unknown", &self.resolve) {
            if let Some(shaped) = resolve(name, &body) {
                if let Some((_, known)) = self.routing.events.iter().find(|(_, n)| **n == shaped) {
                    name = known;
                }
            }
        }
        if name != "Unknown" {
            if let Some(check) = &self.check {
                check(name, &body).map_err(|(path, message)| ParseError::Event {
                    event: name,
                    path,
                    message,
                })?;
            }
        }
        Ok(SpecEvent {
            name,
            discriminator: values,
            body,
        })
    }

    fn event_name(&self, event: &SpecEvent) -> &'static str {
        event.name
    }

    fn idempotency_key(&self, event: &SpecEvent, headers: &http::HeaderMap, body: &[u8]) -> String {
        let key: Vec<&str> = self
            .routing
            .idempotency_key
            .as_deref()
            .into_iter()
            .collect();
        id_from(headers, &key, |path| id_at(&event.body, path)).unwrap_or_else(|| body_digest(body))
    }

    fn subject_id(&self, event: &SpecEvent, headers: &http::HeaderMap) -> Option<String> {
        let paths: Vec<&str> = self.routing.subject.iter().map(|p| &**p).collect();
        id_from(headers, &paths, |path| id_at(&event.body, path))
    }

    fn respond(&self, event: &SpecEvent) -> Option<&'static hookspec_core::Respond> {
        self.routing.response(event.name)
    }

    fn unknown_fields(&self, _event: &SpecEvent) -> Vec<String> {
        // Without the generated types nothing tells a known field from an unknown one.
        Vec::new()
    }
}
