//! Rules that span several keys of a spec, checked after it deserialized: names,
//! references, discriminators, auth and retry data, and every documented example.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde_json::Value;

use crate::check::{check_event_body, resolve_event, when_headers};
use crate::diagnostic::{did_you_mean, Reporter};
use crate::model::*;
use crate::yaml::Path;

/// Keys of `delivery` that `delivery.assumed` may name.
const DELIVERY_FACTS: &[&str] = &[
    "method",
    "content_type",
    "source_ips",
    "timeout",
    "success",
    "retry",
    "retry.schedule",
    "retry.circuit_breaker",
    "retry.retry_after_max",
    "headers",
];

/// Checks `spec`; `file` is the spec's path (its stem must match `provider` when it is a
/// `.yaml` file in a spec directory, see [`crate::load::load_dir`]).
pub(crate) fn validate(spec: &ProviderSpec, file: &str, r: &mut Reporter<'_>) {
    let root = Path::root();
    if !is_provider_name(&spec.provider) {
        r.at(
            &root.key("provider"),
            format!(
                "provider name `{}` must be lower snake_case (a-z, 0-9, _) or kebab-case (a-z, 0-9, -), starting with a letter",
                spec.provider
            ),
        );
    } else if let Some(stem) = spec_stem(file) {
        if stem != spec.provider {
            r.at(
                &root.key("provider"),
                format!(
                    "provider `{}` does not match the file name `{stem}.yaml`",
                    spec.provider
                ),
            )
            .hint(format!("rename the file or set `provider: {stem}`"));
        }
    }
    if spec.title.trim().is_empty() {
        r.at(&root.key("title"), "title must not be empty");
    }
    if spec.docs.is_empty() {
        r.at(
            &root.key("docs"),
            "list at least one link to the provider's webhook documentation",
        );
    }
    for (i, url) in spec.docs.iter().enumerate() {
        http_url(url, &root.key("docs").index(i), r);
    }
    delivery(&spec.delivery, &root.key("delivery"), r);
    for (i, scheme) in spec.auth.iter().enumerate() {
        auth(scheme, &root.key("auth").index(i), r);
    }
    let ctx = Ctx { types: &spec.types };
    envelope(spec, &ctx, r);
    for (name, shape) in &spec.types {
        let p = root.key("types").key(name.clone());
        if !is_pascal_ident(name) {
            r.at_key(&p, format!("type name `{name}` must be PascalCase (letters and digits, starting upper-case)"));
        }
        ctx.shape(shape, &p, Position::Type, r);
    }
    alias_cycles(&spec.types, &root.key("types"), r);
    events(spec, &ctx, r);
    api::validate(spec, &ctx, r);
}

fn spec_stem(file: &str) -> Option<&str> {
    let p = std::path::Path::new(file);
    let in_spec_dir = p
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|d| d == "spec");
    if in_spec_dir && p.extension().is_some_and(|e| e == "yaml") {
        p.file_stem().and_then(|s| s.to_str())
    } else {
        None
    }
}

fn is_snake_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A provider name: lower snake_case, or lower kebab-case (one `-` between words, no `_`),
/// whose Rust module is the snake_case spelling (`belvo-institution-status` ->
/// `belvo_institution_status`, [`crate::ir::module_name`]).
fn is_provider_name(s: &str) -> bool {
    if !s.contains('-') {
        return is_snake_ident(s);
    }
    !s.contains('_')
        && !s.ends_with('-')
        && !s.contains("--")
        && is_snake_ident(&s.replace('-', "_"))
}

fn is_pascal_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// RFC 9110 token characters.
fn is_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// A link a reader follows: a URI that starts with `http`.
fn http_url(url: &str, p: &Path, r: &mut Reporter<'_>) {
    if crate::check::check_format(url, Format::Uri).is_err() || !url.starts_with("http") {
        r.at(p, format!("`{url}` is not an http(s) URL"));
    }
}

/// A path appended to a base URL.
fn url_path(path: &str, p: &Path, r: &mut Reporter<'_>) {
    if !path.starts_with('/') {
        r.at(p, format!("path `{path}` must start with `/`"));
    }
}

fn header(name: &str, p: &Path, r: &mut Reporter<'_>) {
    if !is_header_name(name) {
        r.at(p, format!("`{name}` is not a valid HTTP header name"));
    }
}

fn delivery(d: &Delivery, p: &Path, r: &mut Reporter<'_>) {
    if d.content_type.trim().is_empty() || !d.content_type.contains('/') {
        r.at(
            &p.key("content_type"),
            format!(
                "`{}` is not a media type such as `application/json`",
                d.content_type
            ),
        );
    }
    if d.timeout.get().is_zero() {
        r.at(&p.key("timeout"), "timeout must be longer than zero");
    }
    for (i, ip) in d.source_ips.iter().enumerate() {
        if d.source_ips[..i].contains(ip) {
            r.at(
                &p.key("source_ips").index(i),
                format!("{ip} is listed twice"),
            );
        }
    }
    if let Success::Only(codes) = &d.success {
        for (i, c) in codes.iter().enumerate() {
            if codes[..i].contains(c) {
                r.at(
                    &p.key("success").key("only").index(i),
                    format!("{c} is listed twice"),
                );
            }
        }
    }
    for (i, h) in d.headers.iter().enumerate() {
        if h.description.trim().is_empty() {
            r.at(
                &p.key("headers").index(i).key("description"),
                format!("say what header `{}` carries", h.name),
            );
        }
    }
    if let Success::Only(codes) = &d.success {
        let sp = p.key("success").key("only");
        if codes.is_empty() {
            r.at(&sp, "list at least one status, or use `success: any2xx`");
        }
        for (i, c) in codes.iter().enumerate() {
            if !(100..=599).contains(c) {
                r.at(&sp.index(i), format!("{c} is not an HTTP status (100-599)"));
            }
        }
    }
    if let Some(status) = d.refusal {
        if !(400..=499).contains(&status) {
            r.at(
                &p.key("refusal"),
                format!("{status} is not a client error status (400-499): a refusal must not look delivered or retryable"),
            );
        }
    }
    retry(&d.retry, &p.key("retry"), r);
    let mut seen = BTreeSet::new();
    for (i, h) in d.headers.iter().enumerate() {
        header(&h.name, &p.key("headers").index(i).key("name"), r);
        if !seen.insert(h.name.to_ascii_lowercase()) {
            r.at(
                &p.key("headers").index(i).key("name"),
                format!("header `{}` is listed twice", h.name),
            );
        }
    }
    for key in d.assumed.keys() {
        if !DELIVERY_FACTS.contains(&key.as_str()) {
            let d = r.at_key(
                &p.key("assumed").key(key.clone()),
                format!("`{key}` is not a delivery fact that can be assumed"),
            );
            match did_you_mean(key, DELIVERY_FACTS.iter().copied()) {
                Some(m) => d.hint(format!("did you mean `{m}`?")),
                None => d.hint(format!("one of {}", DELIVERY_FACTS.join(", "))),
            }
        } else if d.assumed[key].trim().is_empty() {
            r.at(
                &p.key("assumed").key(key.clone()),
                "say why the value is assumed",
            );
        }
    }
}

fn retry(rt: &Retry, p: &Path, r: &mut Reporter<'_>) {
    let sp = p.key("schedule");
    match &rt.schedule {
        Schedule::None => {}
        Schedule::Exponential {
            initial,
            factor,
            max_retries,
            give_up_after,
        } => {
            let ep = sp.key("exponential");
            if initial.get().is_zero() {
                r.at(
                    &ep.key("initial"),
                    "the first delay must be longer than zero",
                );
            }
            if *factor < 2 {
                r.at(&ep.key("factor"), format!("factor {factor} does not grow the delay; use at least 2, or a `linear`/`fixed` schedule"));
            }
            if max_retries.is_none() && give_up_after.is_none() {
                r.at(
                    &ep,
                    "an exponential schedule needs a bound: `max_retries` or `give_up_after`",
                );
            }
            if max_retries == &Some(0) {
                r.at(&ep.key("max_retries"), "0 retries is `schedule: none`");
            }
            if let Some(g) = give_up_after {
                if g.get() < initial.get() {
                    r.at(
                        &ep.key("give_up_after"),
                        format!("gives up ({g}) before the first retry ({initial})"),
                    );
                }
            }
        }
        Schedule::Linear { step, retries } => {
            let lp = sp.key("linear");
            if step.get().is_zero() {
                r.at(&lp.key("step"), "step must be longer than zero");
            }
            if *retries == 0 {
                r.at(&lp.key("retries"), "0 retries is `schedule: none`");
            }
        }
        Schedule::Fixed { delays } => {
            if delays.is_empty() {
                r.at(
                    &sp.key("fixed").key("delays"),
                    "list at least one delay, or use `schedule: none`",
                );
            }
        }
    }
    if let Some(cb) = &rt.circuit_breaker {
        if !(cb.rejected_over > 0.0 && cb.rejected_over < 1.0) {
            r.at(
                &p.key("circuit_breaker").key("rejected_over"),
                format!("{} is not a fraction between 0 and 1", cb.rejected_over),
            );
        }
        if cb.window.get().is_zero() {
            r.at(
                &p.key("circuit_breaker").key("window"),
                "window must be longer than zero",
            );
        }
    }
}

fn auth(a: &AuthScheme, p: &Path, r: &mut Reporter<'_>) {
    match a {
        AuthScheme::Authorization(x) => {
            let p = p.key("authorization");
            header(&x.header, &p.key("header"), r);
            if x.schemes.is_empty() {
                r.at(
                    &p.key("schemes"),
                    "list at least one scheme (`basic`, `bearer`)",
                );
            }
        }
        AuthScheme::IdentifyingHeader(x) => {
            header(&x.header, &p.key("identifying_header").key("header"), r)
        }
        AuthScheme::Signature(h) => signature(h, &p.key("signature"), r),
        AuthScheme::Jwt(j) => {
            let p = p.key("jwt");
            header(&j.header, &p.key("header"), r);
            if j.algorithms.is_empty() {
                r.at(
                    &p.key("algorithms"),
                    "list the accepted `alg` values; an empty list would accept none",
                );
            }
            if j.max_age.get().is_zero() {
                r.at(&p.key("max_age"), "max_age must be longer than zero");
            }
            if j.issued_at_claim.is_empty() {
                r.at(
                    &p.key("issued_at_claim"),
                    "name the claim holding the issue time",
                );
            }
            if j.body_hash.claim.is_empty() {
                r.at(
                    &p.key("body_hash").key("claim"),
                    "name the claim holding the body digest",
                );
            }
            match &j.key_source {
                KeySource::Endpoint(k) => {
                    let kp = p.key("key_source").key("endpoint");
                    url_path(&k.path, &kp.key("path"), r);
                    base_urls(&k.base_urls, &kp.key("base_urls"), r);
                }
                KeySource::Jwks(k) => {
                    let kp = p.key("key_source").key("jwks");
                    if k.kid_header.is_empty() {
                        r.at(
                            &kp.key("kid_header"),
                            "name the JWT header field naming the key",
                        );
                    }
                    base_urls(&k.urls, &kp.key("urls"), r);
                }
            }
        }
    }
}

/// A key source's URLs per environment: at least one, each http(s).
fn base_urls(urls: &Pairs, p: &Path, r: &mut Reporter<'_>) {
    if urls.is_empty() {
        r.at(p, "list the URL of at least one environment");
    }
    for (env, url) in urls.iter() {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            r.at(
                &p.key(env.to_owned()),
                format!("`{url}` is not an http(s) URL"),
            );
        }
    }
}

fn signature(h: &SignatureAuth, p: &Path, r: &mut Reporter<'_>) {
    layout(h, p, r);
    if let Some(rot) = &h.rotation {
        if rot.max_active == 0 {
            r.at(
                &p.key("rotation").key("max_active"),
                "at least one key must be active",
            );
        }
    }
    if let Some(jws) = &h.jws {
        detached_jws(h, jws, p, r);
    }
    let public = !h.algorithm.is_secret();
    match h.key.encoding {
        SecretEncoding::Utf8 if public => {
            r.at(
                &p.key("key").key("encoding"),
                format!(
                    "the public key of {} is bytes: write it as `hex`, `base64`, `base64url` or `pem`",
                    h.algorithm.name()
                ),
            );
        }
        SecretEncoding::Pem if !public => {
            r.at(
                &p.key("key").key("encoding"),
                "an HMAC secret is not a PEM block: `utf8`, `hex`, `base64` or `base64url`",
            );
        }
        _ => {}
    }
}

/// A detached JWS: an algorithm JWS can name, base64url, one signature per header, and
/// the listed headers signed exactly when the signature lists them.
fn detached_jws(h: &SignatureAuth, jws: &DetachedJws, p: &Path, r: &mut Reporter<'_>) {
    if h.algorithm.jws_name().is_none() {
        r.at(
            &p.key("algorithm"),
            format!(
                "a JWS cannot carry {}: JWS names no such algorithm",
                h.algorithm.name()
            ),
        );
    }
    if h.encoding != SignatureEncoding::Base64url {
        r.at(&p.key("encoding"), "a JWS signature is `base64url`");
    }
    if h.format.separator.is_some() || h.format.label_separator.is_some() {
        r.at(
            &p.key("format"),
            "a detached JWS is the whole header value: use `format: {}`",
        );
    }
    if h.timestamp.as_ref().is_some_and(|t| t.label.is_some()) {
        r.at(
            &p.key("timestamp").key("label"),
            "a detached JWS has no labelled entries: give the timestamp's `header`",
        );
    }
    let signs_listed = signed_pieces(&h.signed).contains(&SignedPiece::SignedHeaders);
    match (&jws.headers_param, signs_listed) {
        (None, true) => {
            r.at(
                &p.key("jws"),
                "`{signed_headers}` is signed, but `headers_param` names no JWS parameter listing them",
            );
        }
        (Some(_), false) => {
            r.at(
                &p.key("signed"),
                "the signature lists headers (`jws.headers_param`) the template never signs: add `{signed_headers}`",
            );
        }
        _ => {}
    }
    for (i, name) in jws.signs_headers.iter().enumerate() {
        header(name, &p.key("jws").key("signs_headers").index(i), r);
    }
    if jws.key_url_param.is_some() && jws.key_urls.is_empty() {
        r.at(
            &p.key("jws").key("key_urls"),
            "list the provider's own key-set URLs: a signature naming any other is refused",
        );
    }
    for (i, url) in jws.key_urls.iter().enumerate() {
        if !url.starts_with("https://") {
            r.at(
                &p.key("jws").key("key_urls").index(i),
                format!("`{url}` is not an https URL"),
            );
        }
    }
}

/// Where a signature is and what it covers: the header, the signed template, the
/// timestamp and the entry format.
fn layout(h: &SignatureAuth, p: &Path, r: &mut Reporter<'_>) {
    header(&h.header, &p.key("header"), r);
    let mut uses_timestamp = false;
    let mut has_body = false;
    for piece in signed_pieces(&h.signed) {
        has_body |= piece.covers_body();
        uses_timestamp |= piece == SignedPiece::Timestamp;
        // A detached JWS that lists the timestamp's header signs it too.
        uses_timestamp |= piece == SignedPiece::SignedHeaders
            && h.jws.as_ref().is_some_and(|j| {
                h.timestamp
                    .as_ref()
                    .and_then(|t| t.header.as_deref())
                    .is_some_and(|t| j.signs_headers.iter().any(|n| n.eq_ignore_ascii_case(t)))
            });
        let unknown = match piece {
            SignedPiece::Unclosed(_) => {
                r.at(&p.key("signed"), format!("unclosed `{{` in `{}`", h.signed));
                continue;
            }
            SignedPiece::Header(name) if !is_header_name(name) => format!("header:{name}"),
            SignedPiece::Field(path) if !piece.is_known() => format!("field:{path}"),
            SignedPiece::SignedHeaders if h.jws.is_none() => {
                "signed_headers} (only a detached JWS lists headers: add `jws:`){".to_owned()
            }
            SignedPiece::Unknown(inside) => inside.to_owned(),
            _ => continue,
        };
        r.at(
            &p.key("signed"),
            format!("unknown placeholder `{{{unknown}}}` in `{}`", h.signed),
        )
        .hint(format!("placeholders are {SIGNED_PLACEHOLDERS}"));
    }
    if !has_body {
        r.at(
            &p.key("signed"),
            format!(
                "`{}` signs neither `{{body}}`, `{{form}}` nor a `{{field:…}}`: the payload would be unprotected",
                h.signed
            ),
        );
    }
    match (&h.timestamp, uses_timestamp) {
        (None, true) => {
            r.at(
                &p.key("signed"),
                "`{timestamp}` is signed but the scheme has no `timestamp:` source",
            );
        }
        (Some(ts), _) => {
            let tp = p.key("timestamp");
            if ts.header.is_some() == ts.label.is_some() {
                r.at(&tp, "give exactly one of `header` (a separate header) or `label` (an entry of the signature header)");
            }
            if let Some(hn) = &ts.header {
                header(hn, &tp.key("header"), r);
            }
            if ts.tolerance.get().is_zero() {
                r.at(&tp.key("tolerance"), "tolerance must be longer than zero");
            }
            if !uses_timestamp {
                r.at(&p.key("signed"), "a timestamp is configured but not part of what is signed, so it protects nothing");
            }
        }
        (None, false) => {}
    }
    let f = &h.format;
    if f.scheme.is_some() != f.label_separator.is_some() {
        r.at(&p.key("format"), "`scheme` and `label_separator` go together: entries look like `<scheme><label_separator><signature>`");
    }
    for (k, v) in [
        ("separator", &f.separator),
        ("label_separator", &f.label_separator),
        ("scheme", &f.scheme),
    ] {
        if v.as_deref() == Some("") {
            r.at(&p.key("format").key(k), format!("`{k}` must not be empty"));
        }
    }
}

fn envelope(spec: &ProviderSpec, ctx: &Ctx<'_>, r: &mut Reporter<'_>) {
    let ep = Path::root().key("envelope");
    for (name, shape) in &spec.envelope.fields {
        ctx.shape(
            shape,
            &ep.key("fields").key(name.clone()),
            Position::Field,
            r,
        );
    }
    let dp = Path::root().key("discriminator");
    // No discriminator: the bodies name no event, and every event is told apart by its
    // `select` alone (Statuspage); a body no `select` picks is unknown.
    if spec.discriminator.is_empty() {
        for (i, e) in spec
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.select.is_none())
        {
            r.at(
                &Path::root().key("events").index(i),
                format!(
                    "event `{}` has no `select`, but the spec has no discriminator",
                    e.name
                ),
            )
            .hint("name the fields that pick the event in `discriminator`, or give every event a `select:` (e.g. `present: [incident]`)");
        }
    }
    let mut seen = BTreeSet::new();
    for (i, d) in spec.discriminator.iter().enumerate() {
        if !seen.insert(d) {
            r.at(&dp.index(i), format!("`{d}` is listed twice"));
            continue;
        }
        if let Some(name) = header_ref(d) {
            header(name, &dp.index(i), r);
            continue;
        }
        // A body discriminator some event leaves out is absent from that event's bodies.
        let omitted = spec.events.iter().any(|e| !e.when.contains_key(d));
        match spec.envelope.fields.get(d) {
            None => {
                r.at(
                    &dp.index(i),
                    format!("discriminator `{d}` is not a field of the envelope"),
                )
                .hint(format!(
                    "declare `{d}: {{type: string}}` under `envelope.fields`, or write \
                     `header:NAME` for a header that names the event"
                ));
            }
            Some(s)
                if !matches!(s.kind, Some(Kind::String) | Some(Kind::Enum))
                    || (!s.is_required() && !omitted)
                    || s.nullable =>
            {
                r.at(
                    &ep.key("fields").key(d.clone()),
                    format!("discriminator `{d}` must be a required, non-null string"),
                )
                .hint("it may be optional only when some event's `when` leaves it out");
            }
            Some(s) if omitted && s.is_required() => {
                r.at(
                    &ep.key("fields").key(d.clone()),
                    format!("discriminator `{d}` is left out of some event's `when`, so it must be optional"),
                );
            }
            Some(_) => {}
        }
    }
    if let Some(pf) = &spec.envelope.payload_field {
        match spec.envelope.fields.get(pf) {
            None => {
                r.at(
                    &ep.key("payload_field"),
                    format!("payload field `{pf}` is not a field of the envelope"),
                );
            }
            Some(s) if !matches!(s.kind, Some(Kind::Object) | Some(Kind::Any)) => {
                r.at(
                    &ep.key("fields").key(pf.clone()),
                    format!("payload field `{pf}` must be `type: object`"),
                );
            }
            Some(_) => {}
        }
    }
    if let Some(pe) = &spec.envelope.payload_error {
        if spec.envelope.payload_field.is_none() {
            r.at(
                &ep.key("payload_error"),
                "`payload_error` needs a `payload_field` to stand in for",
            );
        }
        ctx.reference(pe, &ep.key("payload_error"), r);
        // Its first field is the key that marks a payload as the error shape.
        let is_object_with_fields = spec.types.get(pe).and_then(|t| spec.resolve(t)).map(|t| {
            t.kind == Some(Kind::Object) && t.fields.as_ref().is_some_and(|f| !f.is_empty())
        });
        if is_object_with_fields == Some(false) {
            r.at(
                &ep.key("payload_error"),
                format!("`{pe}` must be an object type with at least one field: its first field marks a payload as the error shape"),
            );
        }
    }
    for (i, path) in spec.envelope.subject.iter().enumerate() {
        if let Some(name) = header_ref(path) {
            header(name, &ep.key("subject").index(i), r);
            continue;
        }
        let found: Vec<Option<&Shape>> = spec
            .events
            .iter()
            .map(|e| field_at(spec, Some(e), path))
            .collect();
        let p = ep.key("subject").index(i);
        if found.iter().all(Option::is_none) {
            r.at(&p, format!("no event has a field at `{path}`"));
        } else if found.iter().flatten().any(|s| !id_like(spec, s)) {
            r.at(
                &p,
                format!("`{path}` must be a string or integer field to serve as an id"),
            );
        }
    }
    if let Some(path) = &spec.envelope.idempotency_key {
        let p = ep.key("idempotency_key");
        match (header_ref(path), field_at(spec, None, path)) {
            (Some(name), _) => header(name, &p, r),
            (None, None) => {
                r.at(&p, format!("`{path}` is not a field of the envelope"))
                    .hint("write `header:NAME` when the provider sends the id in a header");
            }
            // Optional: an event without it falls back to the body's digest.
            (None, Some(s)) if !id_like(spec, s) || s.nullable => {
                r.at(&p, format!("`{path}` must be a non-null string or integer"));
            }
            (None, Some(_)) => {}
        }
    }
}

/// The shape at a dotted path of an event's body (envelope only when `event` is `None`).
pub(crate) fn field_at<'s>(
    spec: &'s ProviderSpec,
    event: Option<&'s Event>,
    path: &str,
) -> Option<&'s Shape> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut cur: &Shape = match (spec.envelope.fields.get(first), event) {
        (Some(s), _) if spec.envelope.payload_field.as_deref() != Some(first) => s,
        (_, Some(e)) if spec.envelope.payload_field.as_deref() == Some(first) => {
            let next = parts.next()?;
            e.fields.get(next)?
        }
        (None, Some(e)) if spec.envelope.payload_field.is_none() => e.fields.get(first)?,
        _ => return None,
    };
    for part in parts {
        let resolved = spec.resolve(cur)?;
        cur = resolved.fields.as_ref()?.get(part)?;
    }
    Some(cur)
}

fn id_like(spec: &ProviderSpec, s: &Shape) -> bool {
    spec.resolve(s).is_some_and(|t| {
        matches!(t.kind, Some(Kind::String) | Some(Kind::Integer))
            && t.format.is_none_or(|f| matches!(f, Format::Uuid))
    })
}

fn events(spec: &ProviderSpec, ctx: &Ctx<'_>, r: &mut Reporter<'_>) {
    let root = Path::root().key("events");
    if spec.events.is_empty() {
        r.at(
            &Path::root().key("events"),
            "a provider needs at least one event",
        );
    }
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_when: BTreeMap<Vec<(&str, &str)>, Vec<usize>> = BTreeMap::new();
    for (i, e) in spec.events.iter().enumerate() {
        let p = root.index(i);
        if !is_pascal_ident(&e.name) {
            r.at(
                &p.key("name"),
                format!(
                    "event name `{}` must be PascalCase (letters and digits, starting upper-case)",
                    e.name
                ),
            );
        }
        if let Some(first) = names.insert(&e.name, i) {
            r.at(
                &p.key("name"),
                format!("event name `{}` is already used by events[{first}]", e.name),
            );
        }
        if e.description.trim().is_empty() {
            r.at(
                &p.key("description"),
                "describe when the provider sends this event",
            );
        }
        if !spec.discriminator.is_empty() && e.when.keys().all(|k| !spec.discriminator.contains(k))
        {
            r.at(
                &p.key("when"),
                "give a value for at least one discriminator",
            )
            .hint(format!("discriminators: {}", spec.discriminator.join(", ")));
        }
        for d in &spec.discriminator {
            match e.when.get(d) {
                // Left out: a header must always be given; a body field may be absent.
                None if header_ref(d).is_none() => {}
                None => {
                    r.at(
                        &p.key("when"),
                        format!("missing discriminator value for `{d}`"),
                    )
                    .hint(format!(
                        "add `{d}: <value>` to `when`: the header names every event"
                    ));
                }
                Some(v) if v.is_empty() => {
                    r.at(
                        &p.key("when").key(d.clone()),
                        "discriminator value must not be empty",
                    );
                }
                Some(v) => {
                    // A closed-enum discriminator only ever carries its listed values.
                    let closed = spec
                        .envelope
                        .fields
                        .get(d)
                        .and_then(|s| spec.resolve(s))
                        .filter(|s| s.kind == Some(Kind::Enum) && !s.open.unwrap_or(false));
                    if let Some(values) = closed.and_then(|s| s.values.as_ref()) {
                        if !values.contains(v) {
                            let dm = r.at(
                                &p.key("when").key(d.clone()),
                                format!("`{v}` is not one of the values of the closed enum `{d}`, so this event can never be chosen"),
                            );
                            match did_you_mean(v, values.iter().map(String::as_str)) {
                                Some(m) => dm.hint(format!("did you mean `{m}`?")),
                                None => dm.hint(
                                    "add it to the enum's `values`, or make the enum `open: true`",
                                ),
                            }
                        }
                    }
                }
            }
        }
        for k in e.when.keys() {
            if !spec.discriminator.contains(k) {
                let d = r.at_key(
                    &p.key("when").key(k.clone()),
                    format!("`{k}` is not a discriminator field"),
                );
                if let Some(m) = did_you_mean(k, spec.discriminator.iter().map(String::as_str)) {
                    d.hint(format!("did you mean `{m}`?"));
                }
            }
        }
        let key: Vec<(&str, &str)> = spec
            .discriminator
            .iter()
            .filter_map(|d| e.when.get(d).map(|v| (d.as_str(), v.as_str())))
            .collect();
        by_when.entry(key).or_default().push(i);
        for (name, shape) in &e.fields {
            let fp = p.key("fields").key(name.clone());
            if spec.envelope.payload_field.is_none() && spec.envelope.fields.contains_key(name) {
                r.at_key(
                    &fp,
                    format!("field `{name}` is already part of the envelope"),
                );
            }
            ctx.shape(shape, &fp, Position::Field, r);
        }
        if let Some(sel) = &e.select {
            select(spec, e, sel, &p.key("select"), r);
        }
        if let Some(answer) = &e.respond {
            respond(spec, e, answer, &p.key("respond"), r);
        }
    }
    for (when, idx) in &by_when {
        if idx.len() < 2 {
            continue;
        }
        let pair = when
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";");
        let defaults: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|i| spec.events[*i].select.is_none())
            .collect();
        for &i in defaults.iter().skip(1) {
            r.at(&root.index(i).key("when"), format!("`{pair}` is already used by event `{}`", spec.events[defaults[0]].name))
                .hint("give one of them a `select:` (e.g. `present: [account_id]`) to declare it a variant");
        }
        for (n, &i) in idx.iter().enumerate() {
            for &j in &idx[..n] {
                if spec.events[i].select.is_some() && spec.events[i].select == spec.events[j].select
                {
                    r.at(
                        &root.index(i).key("select"),
                        format!(
                            "same `select` as event `{}` for `{pair}`: they cannot be told apart",
                            spec.events[j].name
                        ),
                    );
                }
            }
        }
    }
    // Examples are checked against shapes; with a dangling `ref` every example would
    // repeat that error, so they wait until the references resolve.
    let dangling = r
        .found
        .iter()
        .any(|d| d.message.starts_with("unknown type `"));
    for (i, e) in spec.events.iter().enumerate().filter(|_| !dangling) {
        for (n, text) in e.examples.iter().enumerate() {
            example(spec, e, text, &root.index(i).key("examples").index(n), r);
        }
    }
}

fn select(spec: &ProviderSpec, e: &Event, sel: &Select, p: &Path, r: &mut Reporter<'_>) {
    if sel == &Select::default() {
        r.at(
            p,
            "an empty `select` matches everything; give `present`, `absent` or `json_type`",
        );
    }
    let top_level = |k: &str| {
        spec.envelope.fields.get(k).or_else(|| {
            spec.envelope
                .payload_field
                .is_none()
                .then(|| e.fields.get(k))
                .flatten()
        })
    };
    for (i, k) in sel.present.iter().enumerate() {
        if top_level(k).is_none() {
            r.at(
                &p.key("present").index(i),
                format!("`{k}` is not a top-level field of event `{}`", e.name),
            );
        }
    }
    for (i, k) in sel.absent.iter().enumerate() {
        if spec.envelope.fields.get(k).is_some_and(|s| s.is_required()) {
            r.at(&p.key("absent").index(i), format!("`{k}` is a required envelope field, so it is never absent and this variant can never match"));
        }
    }
    for (k, want) in &sel.json_type {
        let kp = p.key("json_type").key(k.clone());
        match top_level(k) {
            None => {
                r.at_key(
                    &kp,
                    format!("`{k}` is not a top-level field of event `{}`", e.name),
                );
            }
            Some(shape) => {
                let allowed = json_types(spec, shape);
                if !allowed.contains(want) {
                    let names: Vec<String> = allowed
                        .iter()
                        .map(|t| format!("`{}`", spelling(*t)))
                        .collect();
                    r.at(&kp, format!("`{k}` is declared as {}, so it is never `{}` and this variant can never match", names.join(" or "), spelling(*want)));
                }
            }
        }
    }
}

/// The one JSON type a value of `kind` has; `None` for `any`, which has every type.
/// A handshake answer: one body form, a real status, placeholders that name a field the
/// event declares (first path segment) or a valid header, `{hmac:…}` only with an HMAC
/// scheme.
fn respond(spec: &ProviderSpec, e: &Event, answer: &Respond, p: &Path, r: &mut Reporter<'_>) {
    match (&answer.text, &answer.json) {
        (None, None) => {
            r.at(p, "give the answer as `text:` or `json:`")
                .hint("e.g. `text: \"{body:challenge}\"` echoes the body's `challenge`");
        }
        (Some(_), Some(_)) => {
            r.at(p, "give `text:` or `json:`, not both");
        }
        _ => {}
    }
    if let Some(status) = answer.status.filter(|s| !(100..=599).contains(s)) {
        r.at(&p.key("status"), format!("{status} is not an HTTP status"));
    }
    if let Some(ct) = &answer.content_type {
        if !hookspec_core::media_type(ct).contains('/') {
            r.at(
                &p.key("content_type"),
                format!("`{ct}` is not a media type (`type/subtype`)"),
            );
        }
    }
    let rule = answer.rule();
    let at = p.key(if answer.json.is_some() {
        "json"
    } else {
        "text"
    });
    let pieces = match hookspec_core::respond_pieces(&rule.body) {
        Ok(pieces) => pieces,
        Err(reason) => {
            r.at(&at, reason);
            return;
        }
    };
    use hookspec_core::{RespondPiece, RespondSource};
    let has_hmac = spec
        .auth
        .iter()
        .any(|a| matches!(a, AuthScheme::Signature(s) if s.algorithm.is_secret()));
    for piece in pieces {
        let source = match piece {
            RespondPiece::Literal(_) => continue,
            RespondPiece::Value(source) => source,
            RespondPiece::Hmac(source) => {
                if !has_hmac {
                    r.at(&at, "`{hmac:…}` needs an `hmac` auth scheme")
                        .hint("its algorithm, encoding and secret make the answer");
                }
                source
            }
        };
        match source {
            RespondSource::Body(path) => {
                let first = path.split('.').next().unwrap_or_default();
                let declared = e.fields.contains_key(first)
                    || spec.envelope.fields.contains_key(first)
                    || spec.envelope.payload_field.as_deref() == Some(first);
                if !declared {
                    let d = r.at(
                        &at,
                        format!("`body:{path}` names `{first}`, which the event does not declare"),
                    );
                    if let Some(m) = did_you_mean(first, e.fields.keys().map(String::as_str)) {
                        d.hint(format!("did you mean `{m}`?"));
                    }
                }
            }
            RespondSource::Header(name) if !is_header_name(name) => {
                r.at(&at, format!("`{name}` is not a valid header name"));
            }
            RespondSource::Header(_) => {}
        }
    }
}

fn kind_json_type(kind: Kind) -> Option<JsonType> {
    match kind {
        Kind::String | Kind::Enum => Some(JsonType::String),
        Kind::Integer | Kind::Decimal => Some(JsonType::Number),
        Kind::Boolean => Some(JsonType::Boolean),
        Kind::Array => Some(JsonType::Array),
        Kind::Object | Kind::Map => Some(JsonType::Object),
        Kind::Any => None,
    }
}

/// The JSON types a value of `shape` can have (every type for `any`).
fn json_types(spec: &ProviderSpec, shape: &Shape) -> Vec<JsonType> {
    let Some(resolved) = spec.resolve(shape) else {
        return Vec::new();
    };
    let mut out = match resolved.kind.and_then(kind_json_type) {
        Some(t) => vec![t],
        None => vec![
            JsonType::Null,
            JsonType::Boolean,
            JsonType::Number,
            JsonType::String,
            JsonType::Array,
            JsonType::Object,
        ],
    };
    if (shape.nullable || resolved.nullable) && !out.contains(&JsonType::Null) {
        out.push(JsonType::Null);
    }
    out
}

/// A best guess at where the value at a JSON path sits in an example's text: the last
/// `"key":` of the path found in order, else the start.
fn line_of(text: &str, json_path: &str) -> (usize, usize) {
    let (mut offset, mut at) = (0, 0);
    for key in json_path
        .split(['.', '['])
        .skip(1)
        .filter(|k| !k.ends_with(']'))
    {
        let quoted = format!("\"{key}\"");
        match text[offset..].find(&quoted) {
            Some(i) => {
                at = offset + i;
                offset = at + quoted.len();
            }
            None => break,
        }
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = at - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

fn example(spec: &ProviderSpec, e: &Event, text: &str, p: &Path, r: &mut Reporter<'_>) {
    let label = format!(
        "event `{}` example {}",
        e.name,
        p.0.last()
            .map(|s| match s {
                crate::yaml::Seg::Index(i) => *i,
                _ => 0,
            })
            .unwrap_or(0)
    );
    let body: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(err) => {
            let message = err.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            r.inside(
                p,
                err.line(),
                err.column(),
                format!("{label} is not valid JSON: {message}"),
            );
            return;
        }
    };
    if spec.envelope.repeated_keys == crate::model::RepeatedKeys::Refuse {
        let mut de = serde_json::Deserializer::from_str(text);
        if let Ok(Some((key, object))) = hookspec_core::first_repeated_key(&mut de) {
            let (line, column) = line_of(text, &format!("{object}.{key}"));
            r.inside(
                p,
                line,
                column,
                format!(
                    "{label} repeats the key `{key}` in the object at `{object}`; the generated \
                     parser refuses such bodies. If the provider really sends them, set \
                     `envelope.repeated_keys: last_wins`"
                ),
            );
        }
    }
    for v in check_event_body(spec, e, &body) {
        let (line, column) = line_of(text, &v.path);
        r.inside(
            p,
            line,
            column,
            format!(
                "{label} does not match its shape at `{}`: {}",
                v.path, v.message
            ),
        );
    }
    if let Some(got) = resolve_event(spec, &when_headers(spec, e), &body) {
        if got.name != e.name {
            r.at(
                p,
                format!("{label} would be dispatched to event `{}`", got.name),
            )
            .hint("check the example's discriminator values and the events' `select` rules");
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Position {
    /// A field of an object, event or envelope: `required` applies.
    Field,
    /// A shared type, array item or map value.
    Type,
}

struct Ctx<'a> {
    types: &'a IndexMap<String, Shape>,
}

impl Ctx<'_> {
    fn reference(&self, name: &str, p: &Path, r: &mut Reporter<'_>) {
        if !self.types.contains_key(name) {
            let d = r.at(p, format!("unknown type `{name}`"));
            match did_you_mean(name, self.types.keys().map(String::as_str)) {
                Some(m) => d.hint(format!("did you mean `{m}`?")),
                None if self.types.is_empty() => d.hint("declare it under `types:`"),
                None => d.hint(format!(
                    "declared types: {}",
                    self.types.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            }
        }
    }

    fn shape(&self, s: &Shape, p: &Path, pos: Position, r: &mut Reporter<'_>) {
        if s.required.is_some() && pos == Position::Type {
            r.at(
                &p.key("required"),
                "`required` only applies to fields of an object",
            );
        }
        let kind = match (&s.kind, &s.reference) {
            (Some(_), Some(_)) => {
                r.at(p, "give either `type` or `ref`, not both");
                return;
            }
            (None, None) => {
                r.at(p, "missing `type` (or `ref` to a shared type)").hint(
                    "kinds: string, integer, decimal, boolean, array, object, map, enum, any",
                );
                return;
            }
            (None, Some(name)) => {
                self.reference(name, &p.key("ref"), r);
                for (key, set) in [
                    ("format", s.format.is_some()),
                    ("items", s.items.is_some()),
                    ("fields", s.fields.is_some()),
                    ("values", s.values.is_some()),
                    ("open", s.open.is_some()),
                    ("additional_fields", s.additional_fields.is_some()),
                ] {
                    if set {
                        r.at(&p.key(key), format!("`{key}` cannot be combined with `ref`; it belongs on the referenced type"));
                    }
                }
                return;
            }
            (Some(k), None) => *k,
        };
        let allowed = |key: &str| -> bool {
            match key {
                "format" => matches!(kind, Kind::String | Kind::Integer),
                "items" => matches!(kind, Kind::Array | Kind::Map),
                "fields" | "additional_fields" => kind == Kind::Object,
                "values" | "open" => kind == Kind::Enum,
                _ => true,
            }
        };
        for (key, set) in [
            ("format", s.format.is_some()),
            ("items", s.items.is_some()),
            ("fields", s.fields.is_some()),
            ("additional_fields", s.additional_fields.is_some()),
            ("values", s.values.is_some()),
            ("open", s.open.is_some()),
        ] {
            if set && !allowed(key) {
                r.at(
                    &p.key(key),
                    format!("`{key}` does not apply to `type: {}`", spelling(kind)),
                );
            }
        }
        if let Some(f) = s.format {
            if allowed("format") && f.applies_to() != kind {
                r.at(
                    &p.key("format"),
                    format!(
                        "format `{}` applies to `{}`, not `{}`",
                        spelling(f),
                        spelling(f.applies_to()),
                        spelling(kind)
                    ),
                );
            }
        }
        match kind {
            Kind::Array | Kind::Map => match &s.items {
                Some(items) => self.shape(items, &p.key("items"), Position::Type, r),
                None => {
                    r.at(p, format!("`type: {}` needs `items` (use `items: {{type: any}}` when anything goes)", spelling(kind)));
                }
            },
            Kind::Object => {
                for (name, f) in s.fields.iter().flatten() {
                    self.shape(f, &p.key("fields").key(name.clone()), Position::Field, r);
                }
            }
            Kind::Enum => match &s.values {
                None => {
                    r.at(p, "`type: enum` needs `values`");
                }
                Some(v) if v.is_empty() => {
                    r.at(&p.key("values"), "an enum needs at least one value");
                }
                Some(v) => {
                    let mut seen = BTreeSet::new();
                    for (i, x) in v.iter().enumerate() {
                        if !seen.insert(x) {
                            r.at(
                                &p.key("values").index(i),
                                format!("value `{x}` is listed twice"),
                            );
                        }
                    }
                }
            },
            _ => {}
        }
    }
}

/// Shared types that are only `ref:` to each other, round in a circle, describe nothing.
fn alias_cycles(types: &IndexMap<String, Shape>, p: &Path, r: &mut Reporter<'_>) {
    for start in types.keys() {
        let mut cur = start;
        let mut seen = BTreeSet::new();
        while let Some(next) = types.get(cur).and_then(|s| s.reference.as_ref()) {
            if !seen.insert(cur) {
                break;
            }
            if next == start {
                r.at(&p.key(start.clone()).key("ref"), format!("type `{start}` refers to itself through `ref` only; it never becomes a value"));
                break;
            }
            cur = next;
        }
    }
}

/// The `api:` section and events' `follow_up`: endpoints, parameter bindings, examples.
mod api {
    use serde_json::Value;

    use super::{
        http_url, is_header_name, is_snake_ident, json_types, kind_json_type, line_of, url_path,
        Ctx, Position,
    };
    use crate::check::{check_format, check_value};
    use crate::diagnostic::{did_you_mean, Reporter};
    use crate::model::*;
    use crate::yaml::Path;

    pub(super) fn validate(spec: &ProviderSpec, ctx: &Ctx<'_>, r: &mut Reporter<'_>) {
        let Some(api) = &spec.api else {
            for (i, e) in spec.events.iter().enumerate() {
                if e.follow_up.is_some() {
                    r.at_key(
                        &Path::root().key("events").index(i).key("follow_up"),
                        format!("event `{}` has a follow-up, but the spec has no `api:` section to name its endpoint", e.name),
                    )
                    .hint("add `api:` with `base_urls`, `auth`, `registration` and `endpoints`");
                }
            }
            return;
        };
        let p = Path::root().key("api");
        for (env, url) in &api.base_urls {
            base_url(url, &p.key("base_urls").key(env.clone()), r);
        }
        if !api.endpoints.is_empty() && api.base_urls.is_empty() {
            r.at_key(
                &p.key("endpoints"),
                "endpoints need `base_urls`: the base URL of at least one environment",
            );
        }
        if let Some(auth) = &api.auth {
            api_auth(auth, &p.key("auth"), r);
        }
        let dangling = r
            .found
            .iter()
            .any(|d| d.message.starts_with("unknown type `"));
        if let Some(err) = &api.error {
            response(
                spec,
                ctx,
                err,
                &p.key("error"),
                "the API error",
                dangling,
                r,
            );
        }
        if api.registration.description.trim().is_empty() {
            r.at(
                &p.key("registration").key("description"),
                "say how a receiver URL is registered",
            );
        }
        if let Some(url) = &api.registration.dashboard {
            http_url(url, &p.key("registration").key("dashboard"), r);
        }
        for (i, call) in api.registration.calls.iter().enumerate() {
            let cp = p.key("registration").key("calls").index(i);
            if let Some(ep) = endpoint_ref(api, &call.endpoint, &cp.key("endpoint"), r) {
                if !ep.params.contains_key(&call.param) {
                    unknown_param(ep, &call.endpoint, &call.param, &cp.key("param"), false, r);
                }
            }
        }
        if let Some(name) = &api.verification {
            endpoint_ref(api, name, &p.key("verification"), r);
        }
        for (name, ep) in &api.endpoints {
            let ep_path = p.key("endpoints").key(name.clone());
            if !is_snake_ident(name) {
                r.at_key(
                    &ep_path,
                    format!("endpoint name `{name}` must be lower snake_case"),
                );
            }
            endpoint(spec, ctx, api, name, ep, &ep_path, dangling, r);
        }
        for (i, e) in spec.events.iter().enumerate() {
            if let Some(f) = &e.follow_up {
                let fp = Path::root().key("events").index(i).key("follow_up");
                follow_up(spec, api, e, f, &fp, r);
            }
        }
    }

    fn base_url(url: &str, p: &Path, r: &mut Reporter<'_>) {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let host = rest.map(|h| h.split('/').next().unwrap_or(""));
        if host.is_none_or(str::is_empty) || check_format(url, Format::Uri).is_err() {
            r.at(p, format!("`{url}` is not an absolute http(s) URL"))
                .hint("write the scheme and host, e.g. `https://sandbox.example.com`");
        } else if url.ends_with('/') || url.contains(['?', '#']) {
            r.at(
                p,
                format!("`{url}` must end at the host or a path, without a trailing `/`, query or fragment"),
            )
            .hint("endpoint paths start with `/` and are appended to it");
        }
    }

    fn api_auth(auth: &ApiAuth, p: &Path, r: &mut Reporter<'_>) {
        match auth {
            ApiAuth::BodyFields(fields) if fields.is_empty() => {
                r.at(&p.key("body_fields"), "name at least one credential field");
            }
            ApiAuth::Headers(h) => {
                if h.is_empty() {
                    r.at(&p.key("headers"), "name at least one header");
                }
                for name in h.keys() {
                    if !is_header_name(name) {
                        r.at_key(
                            &p.key("headers").key(name.clone()),
                            format!("`{name}` is not a valid HTTP header name"),
                        );
                    }
                }
            }
            _ => {}
        }
        let names = auth.credentials();
        for (i, n) in names.iter().enumerate() {
            if !is_snake_ident(n) {
                r.at(p, format!("credential name `{n}` must be lower snake_case"));
            } else if names[..i].contains(n) {
                r.at(p, format!("credential `{n}` is named twice"));
            }
        }
    }

    fn endpoint_ref<'a>(
        api: &'a Api,
        name: &str,
        p: &Path,
        r: &mut Reporter<'_>,
    ) -> Option<&'a Endpoint> {
        let found = api.endpoints.get(name);
        if found.is_none() {
            let d = r.at(p, format!("unknown endpoint `{name}`"));
            match did_you_mean(name, api.endpoints.keys().map(String::as_str)) {
                Some(m) => d.hint(format!("did you mean `{m}`?")),
                None => d.hint("declare it under `api.endpoints`"),
            }
        }
        found
    }

    fn unknown_param(
        ep: &Endpoint,
        ep_name: &str,
        param: &str,
        p: &Path,
        key: bool,
        r: &mut Reporter<'_>,
    ) {
        let message = format!("endpoint `{ep_name}` has no parameter `{param}`");
        let d = if key {
            r.at_key(p, message)
        } else {
            r.at(p, message)
        };
        match did_you_mean(param, ep.params.keys().map(String::as_str)) {
            Some(m) => d.hint(format!("did you mean `{m}`?")),
            None => d.hint(format!(
                "declare it under the endpoint's `params` (declared: {})",
                if ep.params.is_empty() {
                    "none".to_owned()
                } else {
                    ep.params.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn endpoint(
        spec: &ProviderSpec,
        ctx: &Ctx<'_>,
        api: &Api,
        name: &str,
        ep: &Endpoint,
        p: &Path,
        dangling: bool,
        r: &mut Reporter<'_>,
    ) {
        url_path(&ep.path, &p.key("path"), r);
        if ep.description.trim().is_empty() {
            r.at(&p.key("description"), "say what the endpoint returns");
        }
        match ep.template_params() {
            Err(why) => {
                r.at(&p.key("path"), format!("path `{}`: {why}", ep.path));
            }
            Ok(names) => {
                for n in &names {
                    match ep.params.get(*n) {
                        Some(param) if param.location == ParamLocation::Path => {}
                        Some(_) => {
                            r.at(
                                &p.key("params").key(n.to_string()).key("in"),
                                format!(
                                    "`{n}` appears in the path template, so it must be `in: path`"
                                ),
                            );
                        }
                        None => {
                            r.at(
                                &p.key("path"),
                                format!("path parameter `{{{n}}}` is not declared under `params`"),
                            )
                            .hint(format!(
                                "add `{n}: {{in: path, type: string, description: ...}}`"
                            ));
                        }
                    }
                }
                for (pn, param) in &ep.params {
                    if param.location == ParamLocation::Path && !names.contains(&pn.as_str()) {
                        r.at(
                            &p.key("params").key(pn.clone()).key("in"),
                            format!(
                                "`{pn}` is `in: path` but the path `{}` has no `{{{pn}}}`",
                                ep.path
                            ),
                        );
                    }
                }
            }
        }
        let credentials = api
            .auth
            .as_ref()
            .map(ApiAuth::credentials)
            .unwrap_or_default();
        let body_auth = matches!(api.auth, Some(ApiAuth::BodyFields(_))) && ep.authenticated;
        for (pn, param) in &ep.params {
            let pp = p.key("params").key(pn.clone());
            if param.description.trim().is_empty() {
                r.at(&pp.key("description"), format!("say what `{pn}` is"));
            }
            if body_auth
                && param.location == ParamLocation::Body
                && credentials.contains(&pn.as_str())
            {
                r.at_key(&pp, format!("`{pn}` is a credential from `api.auth`; it is added to every authenticated call"));
            }
            if param.location == ParamLocation::Body && ep.method == ApiMethod::Get {
                r.at(
                    &pp.key("in"),
                    format!("`{pn}` is a body parameter of a GET endpoint"),
                )
                .hint("use `in: query`");
            }
            let scalar = matches!(
                param.kind,
                Kind::String | Kind::Integer | Kind::Decimal | Kind::Boolean
            );
            if param.location != ParamLocation::Body && !scalar {
                r.at(
                    &pp.key("type"),
                    format!(
                        "a {} parameter must be a string, integer, decimal or boolean",
                        spelling(param.location)
                    ),
                );
            }
            if let Some(f) = param.format {
                if f.applies_to() != param.kind {
                    r.at(
                        &pp.key("format"),
                        format!(
                            "format `{}` applies to `{}`, not `{}`",
                            spelling(f),
                            spelling(f.applies_to()),
                            spelling(param.kind)
                        ),
                    );
                }
            }
        }
        let label = format!("endpoint `{name}`'s response");
        response(
            spec,
            ctx,
            &ep.response,
            &p.key("response"),
            &label,
            dangling,
            r,
        );
    }

    fn response(
        spec: &ProviderSpec,
        ctx: &Ctx<'_>,
        resp: &ApiResponse,
        p: &Path,
        label: &str,
        dangling: bool,
        r: &mut Reporter<'_>,
    ) {
        if !(100..=599).contains(&resp.status) {
            r.at(
                &p.key("status"),
                format!("{} is not an HTTP status (100-599)", resp.status),
            );
        }
        ctx.shape(&resp.shape, &p.key("shape"), Position::Type, r);
        let ep = p.key("example");
        let value: Value = match serde_json::from_str(&resp.example) {
            Ok(v) => v,
            Err(err) => {
                let message = err.to_string();
                let message = message.split(" at line ").next().unwrap_or(&message);
                r.inside(
                    &ep,
                    err.line(),
                    err.column(),
                    format!("{label} example is not valid JSON: {message}"),
                );
                return;
            }
        };
        // With a dangling `ref` every example would repeat that error.
        if dangling {
            return;
        }
        for v in check_value(spec, &resp.shape, &value) {
            let (line, column) = line_of(&resp.example, &v.path);
            r.inside(
                &ep,
                line,
                column,
                format!(
                    "{label} example does not match its shape at `{}`: {}",
                    v.path, v.message
                ),
            );
        }
    }

    fn follow_up(
        spec: &ProviderSpec,
        api: &Api,
        e: &Event,
        f: &FollowUp,
        p: &Path,
        r: &mut Reporter<'_>,
    ) {
        let Some(ep) = endpoint_ref(api, &f.endpoint, &p.key("endpoint"), r) else {
            return;
        };
        for (name, param) in &ep.params {
            if param.required && !f.params.contains_key(name) {
                r.at_key(
                    &p.key("params"),
                    format!("endpoint `{}` requires `{name}`, but the follow-up does not bind it", f.endpoint),
                )
                .hint(format!("bind it: `{name}: {{payload: $.<field>}}`, `{{caller: {{name: ...}}}}` or `{{literal: ...}}`"));
            }
        }
        for (name, binding) in &f.params {
            let bp = p.key("params").key(name.clone());
            let Some(param) = ep.params.get(name) else {
                unknown_param(ep, &f.endpoint, name, &bp, true, r);
                continue;
            };
            match binding {
                Binding::Payload(path) => {
                    let at = bp.key("payload");
                    if let Some(shape) = payload_field(spec, e, path, &at, r) {
                        let types = json_types(spec, shape);
                        let want = kind_json_type(param.kind);
                        let fits = match (param.location, want) {
                            (ParamLocation::Body, Some(w)) => types.contains(&w),
                            (ParamLocation::Body, None) => true,
                            _ => types.iter().any(|t| {
                                matches!(t, JsonType::String | JsonType::Number | JsonType::Boolean)
                            }),
                        };
                        if !fits {
                            r.at(
                                &at,
                                format!(
                                    "`{path}` is {}, which does not fit `{name}` (`type: {}`)",
                                    types
                                        .iter()
                                        .map(|t| format!("`{}`", spelling(*t)))
                                        .collect::<Vec<_>>()
                                        .join(" or "),
                                    spelling(param.kind)
                                ),
                            );
                        }
                    }
                }
                Binding::Literal(v) => {
                    let shape = Shape {
                        kind: Some(param.kind),
                        format: param.format,
                        items: matches!(param.kind, Kind::Array | Kind::Map).then(|| {
                            Box::new(Shape {
                                kind: Some(Kind::Any),
                                ..Shape::default()
                            })
                        }),
                        ..Shape::default()
                    };
                    for v in check_value(spec, &shape, v) {
                        r.at(
                            &bp.key("literal"),
                            format!("literal for `{name}`: {}", v.message),
                        );
                    }
                }
                Binding::Caller(c) => {
                    if !is_snake_ident(&c.name) {
                        r.at(
                            &bp.key("caller").key("name"),
                            format!("caller value name `{}` must be lower snake_case", c.name),
                        );
                    }
                    if let Some(key) = &c.key {
                        payload_field(spec, e, key, &bp.key("caller").key("key"), r);
                    }
                }
                Binding::SincePrevious { from, to } => {
                    for (k, v) in [("from", from), ("to", to)] {
                        if !is_snake_ident(v) {
                            r.at(
                                &bp.key("since_previous").key(k),
                                format!("caller value name `{v}` must be lower snake_case"),
                            );
                        }
                    }
                    if param.location != ParamLocation::Query || param.kind != Kind::String {
                        r.at(&bp.key("since_previous"), format!("`since_previous` makes a `<from>,<to>` text, so `{name}` must be a `string` query parameter"));
                    }
                    if param.required {
                        r.at(&bp.key("since_previous"), format!("`since_previous` is left out on a first notification, so `{name}` cannot be required"));
                    }
                }
            }
        }
    }

    /// The shape at a `$.`-path of the event's body, if the path is there on every
    /// delivery of the event (required and non-null all the way down).
    fn payload_field<'s>(
        spec: &'s ProviderSpec,
        e: &'s Event,
        path: &str,
        p: &Path,
        r: &mut Reporter<'_>,
    ) -> Option<&'s Shape> {
        let Some(rest) = path.strip_prefix("$.") else {
            r.at(p, format!("`{path}` is not a payload path"))
                .hint("write a JSON path from the body's root, e.g. `$.item_id` or `$.data.id`");
            return None;
        };
        let mut parts = rest.split('.');
        let first = parts.next().unwrap_or("");
        let payload = spec.envelope.payload_field.as_deref();
        let mut fields: Vec<(&'s String, &'s Shape)> = if payload.is_none() {
            spec.envelope.fields.iter().chain(e.fields.iter()).collect()
        } else {
            spec.envelope.fields.iter().collect()
        };
        let mut seg = first;
        let mut walked = String::from("$");
        loop {
            if Some(seg) == payload && walked == "$" {
                if spec.envelope.payload_error.is_some() {
                    r.at(p, format!("`{path}` reads inside `{seg}`, which holds the provider's error shape instead when retrieval failed"))
                        .hint("bind an envelope field such as the subject id");
                    return None;
                }
                walked.push('.');
                walked.push_str(seg);
                fields = e.fields.iter().collect();
                seg = parts.next()?;
                continue;
            }
            walked.push('.');
            walked.push_str(seg);
            let Some((_, shape)) = fields.iter().find(|(k, _)| k.as_str() == seg) else {
                let d = r.at(
                    p,
                    format!("`{walked}` is not a field of event `{}`", e.name),
                );
                if let Some(m) = did_you_mean(seg, fields.iter().map(|(k, _)| k.as_str())) {
                    d.hint(format!("did you mean `{m}`?"));
                }
                return None;
            };
            let resolved = spec.resolve(shape)?;
            if !shape.is_required() || shape.nullable || resolved.nullable {
                r.at(p, format!("`{walked}` is optional or nullable in event `{}`, so the follow-up could not always be made", e.name));
                return None;
            }
            match parts.next() {
                None => return Some(shape),
                Some(next) => {
                    let Some(inner) = resolved
                        .fields
                        .as_ref()
                        .filter(|_| resolved.kind == Some(Kind::Object))
                    else {
                        r.at(
                            p,
                            format!("`{walked}` is not an object, so `{path}` cannot be read"),
                        );
                        return None;
                    };
                    fields = inner.iter().collect();
                    seg = next;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_provider_name;

    const STATUS_SPEC: &str = include_str!("../../spec/belvo-institution-status.yaml");

    #[test]
    fn provider_names_are_snake_or_kebab_case() {
        for ok in [
            "plaid",
            "standardwebhooks",
            "acme_pay",
            "belvo-institution-status",
            "a1-b2",
        ] {
            assert!(is_provider_name(ok), "`{ok}` should be accepted");
        }
        for bad in [
            "",
            "Acme",
            "Acme-Pay",
            "1acme",
            "-acme",
            "acme-",
            "acme--pay",
            "acme_pay-x",
            "acme pay",
            "acme.pay",
            "_acme",
        ] {
            assert!(!is_provider_name(bad), "`{bad}` should be refused");
        }
    }

    #[test]
    fn a_kebab_case_provider_loads_from_its_own_file_name_only() {
        let spec = crate::load_str("spec/belvo-institution-status.yaml", STATUS_SPEC)
            .expect("the kebab-case spec loads under its own name");
        assert_eq!(spec.provider, "belvo-institution-status");
        assert_eq!(crate::ir::lower(&spec).module, "belvo_institution_status");
        let err = crate::load_str("spec/belvo_institution_status.yaml", STATUS_SPEC)
            .expect_err("the snake_case file name does not match the kebab-case provider");
        assert!(
            err.to_string().contains("does not match the file name"),
            "{err}"
        );
    }
}
