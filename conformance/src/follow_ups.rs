//! Follow-up cases: after a documented event is delivered, did the receiver make the call
//! back to the provider that the spec's `follow_up` describes, with the right parameters?
//!
//! One case per `deliver` case whose event has a follow-up, with the id
//! `<provider>/follow-up/<EVENT-ID>`. The suite watches the [`CallLog`] of the mock API
//! from the moment the delivery is sent; the case passes when a call to the endpoint
//! carries, per parameter, what [`FollowUpDef::expected`] asks of it: values bound to the
//! payload exactly, values only the receiver holds present (keyed ones, when they follow
//! the mock's naming, for the right key), and a `<from>,<to>` date range or nothing for
//! "since the previous notification".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hookspec_codegen::check::check_format;
use hookspec_codegen::ir::{self, Expected, FollowUpDef};
use hookspec_codegen::model::{Binding, Format, Kind, ParamLocation, ProviderSpec};
use serde_json::Value;

use crate::cases::{self, Check};
use crate::mock_api::{Call, CallLog, Verdict};
use crate::report::{CaseReport, Outcome};

/// The check name and id segment of follow-up cases.
pub const CHECK: &str = "follow-up";

/// How long after its delivery a follow-up call may still arrive.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);

/// The value the mock's naming gives a receiver-held value: `mock-<name>-<key>` for one
/// looked up by a payload value (`mock-access_token-<item_id>`), `mock-<name>` otherwise.
/// A receiver configured with these lets the suite check it used the right record's value.
pub fn mock_value(name: &str, key: Option<&str>) -> String {
    match key {
        Some(k) => format!("mock-{name}-{k}"),
        None => format!("mock-{name}"),
    }
}

/// The follow-up expected after one deliver case.
#[derive(Debug, Clone)]
pub struct FollowUpCase {
    /// `<provider>/follow-up/<EVENT-ID>`.
    pub id: String,
    /// The deliver case it follows.
    pub deliver_id: String,
    /// Provider name.
    pub provider: String,
    /// The spec's event name.
    pub event: String,
    /// Endpoint name.
    pub endpoint: String,
    /// `METHOD /path/template`.
    pub route: String,
    /// Per bound parameter: what the call should carry, and facts to judge it by.
    pub params: Vec<ExpectedParam>,
}

/// One parameter of a follow-up case.
#[derive(Debug, Clone)]
pub struct ExpectedParam {
    /// Its name.
    pub name: String,
    /// What it should carry.
    pub expected: Expected,
    /// Whether the endpoint requires it (an optional caller value may be left out).
    pub required: bool,
    /// The payload path of a caller value's key (`item_id`), when it has one.
    pub key_path: Option<String>,
}

/// Every follow-up case of `spec`, keyed by the id of the deliver case it follows.
pub fn follow_up_cases(spec: &ProviderSpec) -> BTreeMap<String, FollowUpCase> {
    let Some(api) = &spec.api else {
        return BTreeMap::new();
    };
    let lowered = ir::lower(spec);
    // `cases::examples` walks events and their examples in spec order; so does this.
    let events = lowered
        .events
        .iter()
        .flat_map(|e| e.examples.iter().map(move |_| e));
    let mut out = BTreeMap::new();
    for (event, example) in events.zip(cases::examples(spec)) {
        let Some(def) = &event.follow_up else {
            continue;
        };
        let Some(endpoint) = api.endpoints.get(&def.endpoint) else {
            continue;
        };
        let Ok(body) = serde_json::from_slice::<Value>(&example.body) else {
            continue;
        };
        let deliver_id = format!(
            "{}/{}/{}",
            spec.provider,
            Check::Deliver.as_str(),
            example.name
        );
        out.insert(
            deliver_id.clone(),
            FollowUpCase {
                id: format!("{}/{CHECK}/{}", spec.provider, example.name),
                deliver_id,
                provider: spec.provider.clone(),
                event: event.name.clone(),
                endpoint: def.endpoint.clone(),
                route: format!("{} {}", endpoint.method.as_str(), endpoint.path),
                params: expected_params(def, &body, |name| {
                    endpoint.params.get(name).is_none_or(|p| p.required)
                }),
            },
        );
    }
    out
}

fn expected_params(
    def: &FollowUpDef,
    body: &Value,
    required: impl Fn(&str) -> bool,
) -> Vec<ExpectedParam> {
    def.expected(body)
        .into_iter()
        .map(|(name, expected)| {
            let key_path = def.bindings.iter().find_map(|(n, b)| match b {
                Binding::Caller(c) if *n == name => c.key.clone(),
                _ => None,
            });
            ExpectedParam {
                required: required(&name),
                name,
                expected,
                key_path,
            }
        })
        .collect()
}

/// What one call got wrong, or `None` when it is the expected follow-up.
pub fn problem(case: &FollowUpCase, call: &Call) -> Option<String> {
    if let Verdict::Refused(why) = &call.verdict {
        return Some(format!("refused by mock: {why}"));
    }
    for p in &case.params {
        let got = call.params.get(&p.name);
        let is_text = call.locations.get(&p.name) != Some(&ParamLocation::Body);
        match (&p.expected, got) {
            (Expected::Missing, _) => {}
            (Expected::Value(want), None) => {
                return Some(format!(
                    "wrong parameter {}: expected {}, got nothing",
                    p.name,
                    show(want)
                ))
            }
            (Expected::Value(want), Some(got)) => {
                let same = if is_text {
                    text_of(want) == text_of(got)
                } else {
                    want == got
                };
                if !same {
                    return Some(format!(
                        "wrong parameter {}: expected {}, got {}",
                        p.name,
                        show(want),
                        show(got)
                    ));
                }
            }
            (Expected::Caller { .. }, None) if !p.required => {}
            (Expected::Caller { name, .. }, None) => {
                return Some(format!(
                    "wrong parameter {}: expected the receiver's `{name}`, got nothing",
                    p.name
                ))
            }
            (Expected::Caller { name, key }, Some(got)) => {
                let text = text_of(got);
                if text.is_empty() {
                    return Some(format!(
                        "wrong parameter {}: expected the receiver's `{name}`, got an empty value",
                        p.name
                    ));
                }
                let prefix = format!("{}-", mock_value(name, None));
                if let (Some(key), Some(rest)) = (key, text.strip_prefix(&prefix)) {
                    if rest != text_of(key) {
                        return Some(format!(
                            "wrong parameter {}: expected the `{name}` of {} {}, got the one of {}",
                            p.name,
                            p.key_path.as_deref().unwrap_or("the key"),
                            show(key),
                            show(&Value::String(rest.to_owned()))
                        ));
                    }
                }
            }
            (Expected::SincePrevious, None) => {}
            (Expected::SincePrevious, Some(got)) => {
                let text = text_of(got);
                let ok = text.split_once(',').is_some_and(|(from, to)| {
                    check_format(from, Format::Date).is_ok()
                        && check_format(to, Format::Date).is_ok()
                        && from <= to
                });
                if !ok {
                    return Some(format!(
                        "wrong parameter {}: expected `<from>,<to>` dates since the previous notification, got {}",
                        p.name,
                        show(got)
                    ));
                }
            }
        }
    }
    None
}

/// Judges one case on the calls made after its delivery: pass on the first call that is
/// right; otherwise the first problem of the first call to the endpoint, or `missing`.
pub fn judge(case: &FollowUpCase, calls: &[Call]) -> Result<(), String> {
    let mut first_problem = None;
    for call in calls
        .iter()
        .filter(|c| c.provider == case.provider && c.endpoint.as_deref() == Some(&case.endpoint))
    {
        match problem(case, call) {
            None => return Ok(()),
            Some(p) => {
                first_problem.get_or_insert(p);
            }
        }
    }
    Err(first_problem.unwrap_or_else(|| "missing".to_owned()))
}

/// A follow-up case waiting for its call: the log cursor and time when its delivery was sent.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The case.
    pub case: FollowUpCase,
    /// How many calls the log held just before the delivery.
    pub cursor: usize,
    /// When the delivery was sent.
    pub sent: Instant,
}

/// Waits, polling `log`, until every pending case has its call or `wait` has passed since
/// its delivery; answers one report per case, in the order given.
pub async fn settle(log: &CallLog, pending: Vec<Pending>, wait: Duration) -> Vec<CaseReport> {
    let mut verdicts: Vec<Option<(Result<(), String>, Duration)>> = vec![None; pending.len()];
    loop {
        let now = Instant::now();
        for (p, verdict) in pending.iter().zip(verdicts.iter_mut()) {
            if verdict.is_some() {
                continue;
            }
            let calls = log.since(p.cursor);
            let judged = judge(&p.case, &calls);
            let at = calls
                .iter()
                .filter(|c| c.endpoint.as_deref() == Some(&p.case.endpoint))
                .map(|c| c.at.saturating_duration_since(p.sent))
                .next()
                .unwrap_or_else(|| now.saturating_duration_since(p.sent));
            if judged.is_ok() || now >= p.sent + wait {
                *verdict = Some((judged, at));
            }
        }
        if verdicts.iter().all(Option::is_some) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pending
        .into_iter()
        .zip(verdicts)
        .map(|(p, v)| {
            let (judged, elapsed) = v.unwrap_or((Err("missing".to_owned()), Duration::ZERO));
            report(&p.case, judged, elapsed, wait)
        })
        .collect()
}

fn report(
    case: &FollowUpCase,
    judged: Result<(), String>,
    elapsed: Duration,
    wait: Duration,
) -> CaseReport {
    let (outcome, observed) = match judged {
        Ok(()) => (Outcome::Pass, format!("made: {}", case.route)),
        Err(why) if why == "missing" => (
            Outcome::Fail,
            format!(
                "missing: no call to {} within {}",
                case.route,
                crate::suite::humanize(wait)
            ),
        ),
        Err(why) => (Outcome::Fail, why),
    };
    CaseReport {
        elapsed_ms: elapsed.as_millis() as u64,
        ..CaseReport::new(
            &case.id,
            &case.provider,
            CHECK,
            outcome,
            format!(
                "{} ({}) {}",
                case.route,
                case.endpoint,
                describe_params(case)
            ),
            "the event asks the receiver to call the provider back for the data it \
             announces; without the call, or with the wrong parameters, the receiver \
             never has it"
                .to_owned(),
            observed,
        )
    }
}

fn describe_params(case: &FollowUpCase) -> String {
    let parts: Vec<String> = case
        .params
        .iter()
        .map(|p| match &p.expected {
            Expected::Value(v) => format!("{}={}", p.name, show(v)),
            Expected::Caller { name, key: Some(k) } => {
                format!("{}=<{name} of {}>", p.name, text_of(k))
            }
            Expected::Caller { name, key: None } => format!("{}=<{name}>", p.name),
            Expected::SincePrevious => format!("{}=<since previous, or absent>", p.name),
            Expected::Missing => format!("{}=<not in the payload>", p.name),
        })
        .collect();
    if parts.is_empty() {
        "with no parameters".to_owned()
    } else {
        format!("with {}", parts.join(", "))
    }
}

/// A plausible value for a receiver-held value that is looked up by nothing, by the
/// parameter's kind and format (the bundled receiver is configured with these).
pub fn plausible_value(name: &str, kind: Kind, format: Option<Format>) -> String {
    match (kind, format) {
        (Kind::Integer | Kind::Decimal, _) => "0".to_owned(),
        (Kind::Boolean, _) => "false".to_owned(),
        (_, Some(Format::Date)) => "2024-01-01".to_owned(),
        (_, Some(Format::DateTime)) => "2024-01-01T00:00:00Z".to_owned(),
        (_, Some(Format::Uuid)) => "00000000-0000-4000-8000-000000000000".to_owned(),
        _ => mock_value(name, None),
    }
}

/// The receiver-held values a receiver needs for `specs`' follow-ups under the mock's
/// naming: `(name, None)` with a plausible value for values looked up by nothing, and
/// `(name, Some(prefix))` for values derived as `prefix + key`.
pub fn caller_values(
    specs: &[ProviderSpec],
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut fixed = BTreeMap::new();
    let mut derived = BTreeMap::new();
    for spec in specs {
        let Some(api) = &spec.api else { continue };
        for event in &spec.events {
            let Some(f) = &event.follow_up else { continue };
            for (param, binding) in &f.params {
                let Binding::Caller(c) = binding else {
                    continue;
                };
                if c.key.is_some() {
                    derived.insert(c.name.clone(), format!("{}-", mock_value(&c.name, None)));
                } else if let Some(p) = api
                    .endpoints
                    .get(&f.endpoint)
                    .and_then(|e| e.params.get(param))
                {
                    fixed.insert(c.name.clone(), plausible_value(&c.name, p.kind, p.format));
                }
            }
        }
    }
    (fixed, derived)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn show(v: &Value) -> String {
    format!("`{}`", text_of(v))
}

/// `cases` with each follow-up report placed right after the deliver case it follows.
pub fn interleave(cases: Vec<CaseReport>, follow_ups: Vec<CaseReport>) -> Vec<CaseReport> {
    let deliver_id = |r: &CaseReport| {
        r.id.replacen(
            &format!("/{CHECK}/"),
            &format!("/{}/", Check::Deliver.as_str()),
            1,
        )
    };
    let mut by_deliver: BTreeMap<String, Vec<CaseReport>> = BTreeMap::new();
    for r in follow_ups {
        by_deliver.entry(deliver_id(&r)).or_default().push(r);
    }
    let mut out = Vec::with_capacity(cases.len() + by_deliver.len());
    for case in cases {
        let after = by_deliver.remove(&case.id);
        out.push(case);
        out.extend(after.into_iter().flatten());
    }
    out.extend(by_deliver.into_values().flatten());
    out
}
