//! The cases of one provider, derived from its validated spec.
//!
//! A case is plain data: what to send and what the provider would expect back. Signing
//! happens when a case runs (timestamps must be fresh), so cases hold raw bodies only.

use bytes::Bytes;
use hookspec_codegen::check::infer_event;
use hookspec_codegen::model::{header_ref, Kind, ProviderSpec, Shape};
use serde::Serialize;
use serde_json::Value;

/// What a case checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A documented example is acknowledged.
    Deliver,
    /// Payloads the spec does not list yet (new fields, events, enum values) are acknowledged.
    Tolerate,
    /// The same delivery twice is acknowledged twice.
    Idempotency,
    /// Related events in reverse order are each acknowledged.
    Ordering,
    /// A forged or damaged credential is refused.
    Auth,
    /// Hostile bodies are refused without killing the receiver.
    Robustness,
    /// The receiver answers well within the provider's timeout.
    Latency,
    /// Deliveries that fail are retried on the provider's schedule.
    Retry,
}

impl Check {
    /// The id segment, e.g. `deliver`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Deliver => "deliver",
            Check::Tolerate => "tolerate",
            Check::Idempotency => "idempotency",
            Check::Ordering => "ordering",
            Check::Auth => "auth",
            Check::Robustness => "robustness",
            Check::Latency => "latency",
            Check::Retry => "retry",
        }
    }
}

/// A hostile request of the robustness check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// Validly signed bytes that are not JSON.
    MalformedJson,
    /// A valid delivery labelled `text/plain`.
    WrongContentType,
    /// A validly signed empty body.
    EmptyBody,
    /// Validly signed JSON without the discriminator (its body fields removed, its
    /// headers not sent): nothing names the event.
    MissingDiscriminator,
    /// A valid event about an object the receiver has never seen (its subject id
    /// replaced by one no object has, of the same form); a `tolerate` case, not in
    /// [`Hostile::ALL`].
    UnknownSubject,
    /// A validly signed 10 MiB body.
    Oversized,
    /// A valid delivery sent a few bytes at a time.
    SlowBody,
}

impl Hostile {
    /// Every hostile request, in report order.
    pub const ALL: [Hostile; 6] = [
        Hostile::MalformedJson,
        Hostile::WrongContentType,
        Hostile::EmptyBody,
        Hostile::MissingDiscriminator,
        Hostile::Oversized,
        Hostile::SlowBody,
    ];

    /// The id segment, e.g. `malformed-json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hostile::MalformedJson => "malformed-json",
            Hostile::WrongContentType => "wrong-content-type",
            Hostile::EmptyBody => "empty-body",
            Hostile::MissingDiscriminator => "missing-discriminator",
            Hostile::UnknownSubject => "unknown-subject",
            Hostile::Oversized => "oversized-body",
            Hostile::SlowBody => "slow-body",
        }
    }

    /// Whether the body is garbage a receiver must refuse (not merely survive). A validly
    /// signed empty body, or JSON that names no event, may be acknowledged or refused:
    /// only a 5xx, a hang or a crash is wrong.
    pub fn must_refuse(self) -> bool {
        matches!(self, Hostile::MalformedJson | Hostile::Oversized)
    }
}

/// The subject id of the `unknown-subject` case: no real object has it.
pub const UNKNOWN_SUBJECT: &str = "hookspec-unknown-subject";

/// The unknown subject in the form of the id it replaces, so the event still matches its
/// shape: a number for a number, a UUID for a UUID, else [`UNKNOWN_SUBJECT`].
fn unknown_subject_like(id: &Value) -> Value {
    let is_uuid = |s: &str| {
        let parts: Vec<usize> = s.split('-').map(str::len).collect();
        parts == [8, 4, 4, 4, 12] && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
    };
    match id {
        Value::Number(_) => Value::from(987_654_321_987_u64),
        Value::String(s) if is_uuid(s) => "ffffffff-ffff-4fff-bfff-ffffffffffff".into(),
        _ => UNKNOWN_SUBJECT.into(),
    }
}

/// Size of the oversized body.
pub const OVERSIZED_BYTES: usize = 10 * 1024 * 1024;

/// How many deliveries the `latency/slow-handler` case sends at once.
pub const BURST: usize = 8;

/// What a case sends.
#[derive(Clone, Debug)]
pub enum Plan {
    /// Each body in order, validly signed; each must be acknowledged in time.
    Deliver {
        /// The bodies.
        bodies: Vec<Bytes>,
    },
    /// A handshake delivery, validly signed; the answer must be the one its rule renders.
    Handshake {
        /// The body.
        body: Bytes,
        /// The spec's answer rule.
        rule: hookspec_runtime::core::Respond,
    },
    /// A body with a forged or damaged credential; must be refused.
    Refuse {
        /// Index into the provider side's attack list.
        attack: usize,
        /// The body.
        body: Bytes,
    },
    /// A hostile request followed by a liveness probe.
    Hostile {
        /// Which one.
        hostile: Hostile,
        /// The body to send (already hostile).
        body: Bytes,
    },
    /// A valid delivery judged by response time.
    Latency {
        /// The body.
        body: Bytes,
    },
    /// [`BURST`] fresh copies of a valid delivery sent at once, each judged by response
    /// time: a receiver that handles before it answers falls behind when its handler is
    /// slow.
    Burst {
        /// The body the copies are made from.
        body: Bytes,
    },
    /// A delivery retried on the provider's schedule until acknowledged or given up.
    Retry {
        /// The body.
        body: Bytes,
    },
    /// The provider moves to a new signing key under a new `kid` (both served); a
    /// delivery signed with it must be acknowledged. Runs after every other case.
    KeyRotation {
        /// The body.
        body: Bytes,
    },
    /// Judged after every other case: the receiver asked the provider's key source for a
    /// key at least once (acknowledging signed deliveries without ever fetching a key
    /// means they were not verified).
    KeyFetched,
    /// Not run.
    Skip {
        /// Why.
        reason: String,
    },
}

/// One case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Stable id, `<provider>/<check>/<name>`.
    pub id: String,
    /// Provider name.
    pub provider: String,
    /// What it checks.
    pub check: Check,
    /// What it sends.
    pub plan: Plan,
}

impl Case {
    fn new(provider: &str, check: Check, name: &str, plan: Plan) -> Case {
        Case {
            id: format!("{provider}/{}/{name}", check.as_str()),
            provider: provider.to_owned(),
            check,
            plan,
        }
    }
}

/// A documented example: the event's discriminator name and the body as the provider sends it.
#[derive(Clone, Debug)]
pub struct Example {
    /// `TRANSACTIONS.SYNC_UPDATES_AVAILABLE`, with `#2`... for further examples of it.
    pub name: String,
    /// The verbatim body.
    pub body: Bytes,
    /// The answer the receiver owes it, when its event is a handshake (`respond:`).
    pub respond: Option<hookspec_runtime::core::Respond>,
    /// The headers that name its event, where the provider names events in headers.
    pub headers: Vec<(String, String)>,
}

/// The discriminator values of `event` joined by `.`, as case ids name events
/// (`TRANSACTIONS.SYNC_UPDATES_AVAILABLE`); a discriminator the event leaves out (absent
/// from its bodies, as GitHub's `ping` has no `action`) is skipped.
/// A spec with no discriminator (events told apart by `select` alone) names the event
/// by its spec name (`ComponentUpdate`).
pub fn event_key(spec: &ProviderSpec, event: &hookspec_codegen::model::Event) -> String {
    let key = spec
        .discriminator
        .iter()
        .filter_map(|d| event.when.get(d).map(String::as_str))
        .collect::<Vec<_>>()
        .join(".");
    if key.is_empty() {
        event.name.clone()
    } else {
        key
    }
}

/// For a spec with no discriminator: the top-level fields whose presence some event's
/// `select` requires (what picks the event instead).
fn selected_fields(spec: &ProviderSpec) -> Vec<&str> {
    let mut fields: Vec<&str> = Vec::new();
    for f in spec
        .events
        .iter()
        .filter_map(|e| e.select.as_ref())
        .flat_map(|s| &s.present)
    {
        if !fields.contains(&f.as_str()) {
            fields.push(f);
        }
    }
    fields
}

/// Every documented example of every event, in spec order, with unique names.
pub fn examples(spec: &ProviderSpec) -> Vec<Example> {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut out = Vec::new();
    for event in &spec.events {
        let key = event_key(spec, event);
        for example in &event.examples {
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let name = if *n == 1 {
                key.clone()
            } else {
                format!("{key}#{n}")
            };
            out.push(Example {
                name,
                body: Bytes::from(example.trim_end().to_owned()),
                respond: event.respond.as_ref().map(|r| r.rule()),
                headers: hookspec_codegen::check::when_headers(spec, event),
            });
        }
    }
    out
}

/// The body every liveness probe and single-delivery case uses: the first example of an
/// ordinary event (a handshake only when there is nothing else).
pub fn probe_body(spec: &ProviderSpec) -> Option<Bytes> {
    first_ordinary(&examples(spec)).map(|e| e.body.clone())
}

fn first_ordinary(examples: &[Example]) -> Option<&Example> {
    examples
        .iter()
        .find(|e| e.respond.is_none())
        .or(examples.first())
}

/// The cases of `spec` that need no credentials, in report order. `auth` cases are added
/// by the caller, which knows the attacks its signer can mount; `retry` only on request.
pub fn cases(spec: &ProviderSpec, auth: Vec<Case>, retry: bool) -> Vec<Case> {
    let p = spec.provider.as_str();
    let examples = examples(spec);
    let mut out: Vec<Case> = examples
        .iter()
        .map(|e| {
            let plan = match &e.respond {
                Some(rule) => Plan::Handshake {
                    body: e.body.clone(),
                    rule: rule.clone(),
                },
                None => Plan::Deliver {
                    bodies: vec![e.body.clone()],
                },
            };
            Case::new(p, Check::Deliver, &e.name, plan)
        })
        .collect();
    let Some(first) = first_ordinary(&examples) else {
        return out;
    };
    let first_json: Option<Value> = serde_json::from_slice(&first.body).ok();

    if let Some(v) = &first_json {
        out.push(Case::new(
            p,
            Check::Tolerate,
            "extra-field",
            Plan::Deliver {
                bodies: vec![pretty(&with_extra_fields(spec, v.clone()))],
            },
        ));
        out.push(Case::new(
            p,
            Check::Tolerate,
            "unknown-event",
            Plan::Deliver {
                bodies: vec![pretty(&as_unknown_event(spec, v.clone()))],
            },
        ));
    }
    if let Some(body) = examples
        .iter()
        .find_map(|e| with_unknown_enum_value(spec, &e.body))
    {
        out.push(Case::new(
            p,
            Check::Tolerate,
            "unknown-enum-value",
            Plan::Deliver {
                bodies: vec![pretty(&body)],
            },
        ));
    }

    if let Some(body) = with_unknown_subject(spec, &first.body) {
        out.push(Case::new(
            p,
            Check::Tolerate,
            "unknown-subject",
            Plan::Hostile {
                hostile: Hostile::UnknownSubject,
                body,
            },
        ));
    }

    out.push(Case::new(
        p,
        Check::Idempotency,
        "same-delivery-twice",
        Plan::Deliver {
            bodies: vec![first.body.clone(), first.body.clone()],
        },
    ));
    if let Some(group) = related_group(spec, &examples) {
        out.push(Case::new(
            p,
            Check::Ordering,
            "same-subject-reversed",
            Plan::Deliver {
                bodies: group.into_iter().rev().collect(),
            },
        ));
    }

    out.extend(auth);

    for hostile in Hostile::ALL {
        // With no discriminator nothing can be missing: a body without the fields the
        // events' `select`s look for is the `tolerate/unknown-event` case.
        if hostile == Hostile::MissingDiscriminator && spec.discriminator.is_empty() {
            continue;
        }
        out.push(Case::new(
            p,
            Check::Robustness,
            hostile.as_str(),
            Plan::Hostile {
                hostile,
                body: hostile_body(spec, hostile, &first.body),
            },
        ));
    }
    out.push(Case::new(
        p,
        Check::Latency,
        "first-example",
        Plan::Latency {
            body: first.body.clone(),
        },
    ));
    out.push(Case::new(
        p,
        Check::Latency,
        "slow-handler",
        Plan::Burst {
            body: first.body.clone(),
        },
    ));
    if retry {
        out.push(Case::new(
            p,
            Check::Retry,
            "schedule",
            Plan::Retry {
                body: first.body.clone(),
            },
        ));
    }
    out
}

/// An `auth` case for the attack at `index` of the provider side's list.
pub fn auth_case(spec: &ProviderSpec, name: &str, index: usize) -> Option<Case> {
    let body = probe_body(spec)?;
    Some(Case::new(
        &spec.provider,
        Check::Auth,
        name,
        Plan::Refuse {
            attack: index,
            body,
        },
    ))
}

/// The key cases of a JWT provider (`key-rotation`, `never-fetched-key`); none for
/// other providers.
pub fn key_cases(spec: &ProviderSpec) -> Vec<Case> {
    let (Some(_), Some(body)) = (crate::keys::jwt_scheme(spec), probe_body(spec)) else {
        return Vec::new();
    };
    let p = &spec.provider;
    vec![
        Case::new(p, Check::Auth, "key-rotation", Plan::KeyRotation { body }),
        Case::new(p, Check::Auth, "never-fetched-key", Plan::KeyFetched),
    ]
}

impl Case {
    /// What the case expects of the receiver, in words without the provider's numbers
    /// (the report states them).
    pub fn expects(&self) -> String {
        match &self.plan {
            Plan::Deliver { bodies } if bodies.len() > 1 => format!(
                "each of {} deliveries acknowledged with the provider's success status within its timeout",
                bodies.len()
            ),
            Plan::Deliver { .. } => {
                "acknowledged with the provider's success status within its timeout".to_owned()
            }
            Plan::Handshake { .. } => "the answer the spec's `respond:` rule gives".to_owned(),
            Plan::Refuse { .. } => "refused with 401 or 403".to_owned(),
            Plan::Hostile { hostile, .. } if hostile.must_refuse() => {
                "refused with a 4xx (or the connection closed, for the oversized body), then still alive".to_owned()
            }
            Plan::Hostile { .. } => "acknowledged or refused (no 5xx), then still alive".to_owned(),
            Plan::Latency { .. } => {
                "acknowledged within the timeout (a warning past a quarter of it)".to_owned()
            }
            Plan::Burst { .. } => format!(
                "each of {BURST} deliveries sent at once acknowledged within the timeout"
            ),
            Plan::Retry { .. } => {
                "acknowledged by the last attempt of the provider's retry schedule".to_owned()
            }
            Plan::KeyRotation { .. } => {
                "acknowledged when signed with a new key under a new key id".to_owned()
            }
            Plan::KeyFetched => "at least one request to the provider's key source".to_owned(),
            Plan::Skip { reason } => format!("not run: {reason}"),
        }
    }

    /// Why the expected outcome is what a receiver must do, in one sentence.
    pub fn why(&self) -> &'static str {
        let name = self.id.rsplit('/').next().unwrap_or_default();
        match (&self.plan, self.check) {
            (Plan::Skip { .. }, _) => {
                "the suite cannot run it as configured, so it judges nothing; the reason \
                 says what to give"
            }
            (Plan::Handshake { .. }, _) => {
                "the provider checks the endpoint with this exchange and does not deliver \
                 to it until the answer is right"
            }
            (Plan::KeyRotation { .. }, _) => {
                "providers move to new signing keys; a receiver must fetch a key id it has \
                 not seen rather than trust the one it cached"
            }
            (Plan::KeyFetched, _) => {
                "a JWT can only be verified with the provider's key: acknowledging signed \
                 deliveries without ever fetching one means they were not verified"
            }
            (_, Check::Deliver) => {
                "the provider documents this event; unless it is acknowledged in time, the \
                 provider retries it"
            }
            (_, Check::Tolerate) if name == "unknown-subject" => {
                "events can name objects the receiver has not stored yet, or has deleted; \
                 a 5xx or a crash makes the provider retry"
            }
            (_, Check::Tolerate) => {
                "providers add fields, events and enum values without notice; a 5xx here \
                 becomes a retry storm"
            }
            (_, Check::Idempotency) => {
                "providers deliver at least once: a redelivery must be acknowledged (and \
                 not processed twice)"
            }
            (_, Check::Ordering) => {
                "providers do not promise order: an older event may arrive after a newer one"
            }
            (_, Check::Auth) => {
                "a forged or damaged delivery must not be processed, and a 401/403 tells the \
                 sender it was not accepted (a 2xx tells it the forgery worked)"
            }
            (Plan::Hostile { hostile, .. }, _) if hostile.must_refuse() => {
                "garbage must be refused, and it must not take the receiver down"
            }
            (_, Check::Robustness) => {
                "the provider never sends this, but the receiver must survive it: \
                 acknowledging or refusing is fine, a 5xx, a hang or a crash is not"
            }
            (Plan::Burst { .. }, _) => {
                "providers deliver in bursts and retry what is not answered within their \
                 timeout; a receiver that does slow work before answering falls behind and \
                 turns a burst into a retry storm, one that stores and acknowledges (an \
                 inbox) does not"
            }
            (_, Check::Latency) => {
                "the provider gives up after its timeout and retries; answering after a \
                 quarter of it earns a warning"
            }
            (_, Check::Retry) => {
                "the provider's retry schedule is the receiver's window to recover; an \
                 event not acknowledged within it is lost"
            }
        }
    }

    /// When the case runs: 0 with the rest; 1 after them (it changes the provider's
    /// keys); 2 after that (it judges what the run did); 3 last (retries judge the
    /// provider's circuit breaker on everything before them).
    pub fn phase(&self) -> usize {
        match self.plan {
            Plan::KeyRotation { .. } => 1,
            Plan::KeyFetched => 2,
            Plan::Retry { .. } => 3,
            _ => 0,
        }
    }
}

/// A skipped `auth` case saying why no attack could be mounted.
pub fn auth_skipped(spec: &ProviderSpec, reason: &str) -> Case {
    Case::new(
        &spec.provider,
        Check::Auth,
        "credentials",
        Plan::Skip {
            reason: reason.to_owned(),
        },
    )
}

fn pretty(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_string_pretty(v).unwrap_or_default())
}

const EXTRA_FIELD: &str = "hookspec_unlisted_field";

/// Adds an unlisted field at the top level and inside the payload object.
fn with_extra_fields(spec: &ProviderSpec, mut v: Value) -> Value {
    let extra = serde_json::json!({"added_by": "hookspec", "nested": [1, "two", null]});
    if let Some(payload) = &spec.envelope.payload_field {
        if let Some(inner) = v.get_mut(payload).and_then(Value::as_object_mut) {
            inner.insert(EXTRA_FIELD.to_owned(), extra.clone());
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert(EXTRA_FIELD.to_owned(), extra);
    }
    v
}

/// Replaces the last discriminator value with one no event has, in the same letter case.
fn as_unknown_event(spec: &ProviderSpec, mut v: Value) -> Value {
    let Some(field) = spec.discriminator.last() else {
        // No discriminator: the envelope with a payload object no `select` asks for, in
        // place of the fields that pick the known events.
        if let Some(obj) = v.as_object_mut() {
            for f in selected_fields(spec) {
                obj.shift_remove(f);
            }
            obj.insert(
                "hookspec_unknown_event".to_owned(),
                serde_json::json!({"id": "hookspec"}),
            );
        }
        return v;
    };
    // A header names the event: a body of no known event's shape makes the signer send a
    // header value no event has.
    if hookspec_codegen::model::header_ref(field).is_some() {
        return serde_json::json!({"hookspec": "an event this spec does not know"});
    }
    let current = v.get(field).and_then(Value::as_str).unwrap_or_default();
    let upper = current.chars().any(char::is_uppercase) && !current.chars().any(char::is_lowercase);
    let mut unknown = if upper {
        "HOOKSPEC_UNKNOWN_EVENT".to_owned()
    } else if current.contains('.') {
        "hookspec.unknown_event".to_owned()
    } else {
        "hookspec_unknown_event".to_owned()
    };
    while spec
        .events
        .iter()
        .any(|e| e.when.get(field) == Some(&unknown))
    {
        unknown.push('_');
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert(field.clone(), Value::String(unknown));
    }
    v
}

const UNKNOWN_ENUM_VALUE: &str = "HOOKSPEC_UNKNOWN_VALUE";

/// The example with its first open-enum value replaced by one the spec does not list;
/// `None` when the example reaches no open enum.
fn with_unknown_enum_value(spec: &ProviderSpec, body: &[u8]) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let event = infer_event(spec, &v)?;
    let mut pointer = None;
    for (name, shape) in &spec.envelope.fields {
        if let Some(value) = v.get(name) {
            pointer = open_enum_at(spec, shape, value, format!("/{}", escape(name)));
        }
        if pointer.is_some() {
            break;
        }
    }
    if pointer.is_none() {
        let (base, payload) = match &spec.envelope.payload_field {
            Some(p) => (format!("/{}", escape(p)), v.get(p)?),
            None => (String::new(), &v),
        };
        pointer = event.fields.iter().find_map(|(name, shape)| {
            let value = payload.get(name)?;
            open_enum_at(spec, shape, value, format!("{base}/{}", escape(name)))
        });
    }
    *v.pointer_mut(&pointer?)? = Value::String(UNKNOWN_ENUM_VALUE.to_owned());
    Some(v)
}

fn open_enum_at(spec: &ProviderSpec, shape: &Shape, value: &Value, at: String) -> Option<String> {
    let shape = spec.resolve(shape)?;
    match shape.kind? {
        Kind::Enum if shape.open == Some(true) && value.is_string() => Some(at),
        Kind::Object => shape.fields.as_ref()?.iter().find_map(|(name, field)| {
            open_enum_at(
                spec,
                field,
                value.get(name)?,
                format!("{at}/{}", escape(name)),
            )
        }),
        Kind::Array => {
            let items = shape.items.as_deref()?;
            value
                .as_array()?
                .iter()
                .enumerate()
                .find_map(|(i, item)| open_enum_at(spec, items, item, format!("{at}/{i}")))
        }
        Kind::Map => {
            let items = shape.items.as_deref()?;
            value.as_object()?.iter().find_map(|(k, item)| {
                open_enum_at(spec, items, item, format!("{at}/{}", escape(k)))
            })
        }
        _ => None,
    }
}

/// JSON pointer escaping of one key.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Examples about the same subject, in document order: the largest group sharing a
/// subject value; failing that, the first examples with the same subject path rewritten
/// to share the first one's value. `None` when fewer than two examples have a subject.
fn related_group(spec: &ProviderSpec, examples: &[crate::cases::Example]) -> Option<Vec<Bytes>> {
    let parsed: Vec<(usize, String, Value)> = examples
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let v: Value = serde_json::from_slice(&e.body).ok()?;
            let path = spec
                .envelope
                .subject
                .iter()
                .find(|p| subject_value(&v, p).is_some())?
                .clone();
            Some((i, path, v))
        })
        .collect();
    let mut groups: indexmap::IndexMap<(String, String), Vec<usize>> = Default::default();
    for (i, path, v) in &parsed {
        let value = subject_value(v, path)?.to_string();
        groups.entry((path.clone(), value)).or_default().push(*i);
    }
    let best = groups
        .values()
        .max_by(|a, b| a.len().cmp(&b.len()).then(std::cmp::Ordering::Greater));
    if let Some(g) = best.filter(|g| g.len() >= 2) {
        return Some(
            g.iter()
                .take(3)
                .map(|&i| examples[i].body.clone())
                .collect(),
        );
    }
    // No two examples share a subject: make three of them share the first one's.
    let (_, path, first) = parsed.first()?;
    let shared = subject_value(first, path)?.clone();
    let group: Vec<Bytes> = parsed
        .iter()
        .filter(|(_, p, _)| p == path)
        .take(3)
        .map(|(_, _, v)| {
            let mut v = v.clone();
            if let Some(slot) = subject_slot(&mut v, path) {
                *slot = shared.clone();
            }
            pretty(&v)
        })
        .collect();
    (group.len() >= 2).then_some(group)
}

/// `body` with every subject id it carries (the spec's body subject paths) replaced by
/// [`UNKNOWN_SUBJECT`]; `None` when it carries none.
fn with_unknown_subject(spec: &ProviderSpec, body: &Bytes) -> Option<Bytes> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let mut replaced = false;
    for path in spec
        .envelope
        .subject
        .iter()
        .filter(|p| header_ref(p).is_none())
    {
        if let Some(slot) = subject_slot(&mut v, path).filter(|s| !s.is_null()) {
            *slot = unknown_subject_like(slot);
            replaced = true;
        }
    }
    replaced.then(|| pretty(&v))
}

/// The subject ids of `spec`'s documented examples (and of the delivery headers a subject
/// path names, as the provider's documentation shows them): the objects a stateful
/// receiver built from them would know.
pub fn known_subjects(spec: &ProviderSpec) -> Vec<String> {
    let mut out: Vec<String> = spec
        .envelope
        .subject
        .iter()
        .filter_map(|p| header_ref(p))
        .filter_map(|name| {
            let h = spec
                .delivery
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))?;
            h.value.clone().or_else(|| h.example.clone())
        })
        .collect();
    for example in spec.events.iter().flat_map(|e| &e.examples) {
        let Ok(v) = serde_json::from_str::<Value>(example) else {
            continue;
        };
        for path in spec
            .envelope
            .subject
            .iter()
            .filter(|p| header_ref(p).is_none())
        {
            match subject_value(&v, path) {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(other) => out.push(other.to_string()),
                None => {}
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Plan {
    /// Every body this plan sends, for changing them in place (`--set`, `--subject`).
    /// The unknown-subject case keeps its subject.
    pub fn bodies_mut(&mut self) -> Vec<&mut Bytes> {
        match self {
            Plan::Deliver { bodies } => bodies.iter_mut().collect(),
            Plan::Hostile {
                hostile: Hostile::UnknownSubject,
                ..
            }
            | Plan::KeyFetched
            | Plan::Skip { .. } => Vec::new(),
            Plan::Handshake { body, .. }
            | Plan::Refuse { body, .. }
            | Plan::Hostile { body, .. }
            | Plan::Latency { body }
            | Plan::Burst { body }
            | Plan::Retry { body }
            | Plan::KeyRotation { body } => vec![body],
        }
    }
}

fn subject_value<'v>(v: &'v Value, dotted: &str) -> Option<&'v Value> {
    let found = dotted.split('.').try_fold(v, |v, k| v.get(k))?;
    (!found.is_null()).then_some(found)
}

fn subject_slot<'v>(v: &'v mut Value, dotted: &str) -> Option<&'v mut Value> {
    dotted.split('.').try_fold(v, |v, k| v.get_mut(k))
}

/// The hostile variant of a valid body.
fn hostile_body(spec: &ProviderSpec, hostile: Hostile, valid: &Bytes) -> Bytes {
    match hostile {
        Hostile::MissingDiscriminator => match serde_json::from_slice::<Value>(valid) {
            Ok(Value::Object(mut fields)) => {
                for d in spec
                    .discriminator
                    .iter()
                    .filter(|d| header_ref(d).is_none())
                {
                    fields.shift_remove(d.as_str());
                }
                pretty(&Value::Object(fields))
            }
            _ => valid.clone(),
        },
        // Cut in the middle of the document: an unterminated object.
        Hostile::MalformedJson => {
            let mut cut = valid[..valid.len() / 2].to_vec();
            cut.extend_from_slice(b"\"unterminated");
            Bytes::from(cut)
        }
        Hostile::WrongContentType | Hostile::SlowBody => valid.clone(),
        Hostile::UnknownSubject => {
            with_unknown_subject(spec, valid).unwrap_or_else(|| valid.clone())
        }
        Hostile::EmptyBody => Bytes::new(),
        // The same for every provider: built once, shared (`Bytes` clones are cheap).
        Hostile::Oversized => {
            static BIG: std::sync::OnceLock<Bytes> = std::sync::OnceLock::new();
            BIG.get_or_init(|| {
                let mut big = Vec::with_capacity(OVERSIZED_BYTES + 32);
                big.extend_from_slice(b"{\"padding\": \"");
                big.resize(OVERSIZED_BYTES - 2, b'x');
                big.extend_from_slice(b"\"}");
                Bytes::from(big)
            })
            .clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> ProviderSpec {
        crate::specs::builtin(name).expect("builtin spec")
    }

    #[test]
    fn deliver_ids_join_discriminator_values_and_number_repeats() {
        let cases = cases(&spec("plaid"), Vec::new(), false);
        let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        assert!(ids.contains(&"plaid/deliver/TRANSACTIONS.SYNC_UPDATES_AVAILABLE"));
        let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "ids are unique");
    }

    #[test]
    fn unknown_event_is_not_a_known_event() {
        for name in ["plaid", "belvo", "bridge", "vezgo"] {
            let s = spec(name);
            let first: Value = serde_json::from_slice(&probe_body(&s).unwrap()).unwrap();
            let unknown = as_unknown_event(&s, first);
            assert!(
                hookspec_codegen::check::resolve_event(&s, &[], &unknown).is_none(),
                "{name}"
            );
        }
    }

    #[test]
    fn unknown_enum_value_lands_on_an_open_enum() {
        let s = spec("belvo");
        let cases = cases(&s, Vec::new(), false);
        let case = cases
            .iter()
            .find(|c| c.id == "belvo/tolerate/unknown-enum-value")
            .expect("belvo has open enums in its examples");
        let Plan::Deliver { bodies } = &case.plan else {
            panic!("deliver plan")
        };
        let text = std::str::from_utf8(&bodies[0]).unwrap();
        assert!(text.contains(UNKNOWN_ENUM_VALUE));
    }

    #[test]
    fn ordering_group_shares_one_subject() {
        let s = spec("vezgo");
        let group = related_group(&s, &examples(&s)).expect("two vezgo examples");
        let subjects: Vec<String> = group
            .iter()
            .map(|b| {
                let v: Value = serde_json::from_slice(b).unwrap();
                subject_value(&v, "account.id").unwrap().to_string()
            })
            .collect();
        assert!(subjects.len() >= 2);
        assert!(subjects.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn hostile_bodies() {
        let s = spec("plaid");
        let valid = Bytes::from_static(b"{\"a\": \"b\"}");
        assert!(
            serde_json::from_slice::<Value>(&hostile_body(&s, Hostile::MalformedJson, &valid))
                .is_err()
        );
        assert_eq!(
            hostile_body(&s, Hostile::Oversized, &valid).len(),
            OVERSIZED_BYTES
        );
        assert!(
            serde_json::from_slice::<Value>(&hostile_body(&s, Hostile::Oversized, &valid)).is_ok()
        );
        let named = Bytes::from_static(
            b"{\"webhook_type\": \"ITEM\", \"webhook_code\": \"ERROR\", \"item_id\": \"i\"}",
        );
        let unnamed: Value =
            serde_json::from_slice(&hostile_body(&s, Hostile::MissingDiscriminator, &named))
                .unwrap();
        assert_eq!(unnamed, serde_json::json!({"item_id": "i"}));
    }
}
