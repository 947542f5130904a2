//! The verifier against requests signed with real keys by `hookspec-signer`: every
//! attack per provider, source addresses and proxies, key and secret rotation, the key
//! cache, configuration errors, secrets kept out of output, and garbage headers.

use crate::common;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::{at, body, header_map, spec};
use hookspec::runtime::verify::*;
use hookspec_signer::{Attack, Signer, SigningCredentials, VECTOR_CLOCK};

const NOW: u64 = VECTOR_CLOCK;

/// A verifier for a provider's emitted `AUTH` and `DELIVERY`, the ones users get.
fn try_verifier(provider: &str, credentials: Credentials) -> Result<Verifier, ConfigError> {
    Verifier::new(
        hookspec::auth(provider).expect("provider"),
        hookspec::delivery(provider).expect("provider"),
        credentials,
    )
}

fn verifier(provider: &str, credentials: Credentials) -> Verifier {
    try_verifier(provider, credentials).expect("verifier")
}

async fn run(
    v: &Verifier,
    headers: &[(String, String)],
    body: &[u8],
    peer: Option<IpAddr>,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let headers = header_map(headers);
    v.verify(
        &Request {
            headers: &headers,
            body,
            peer,
            target: None,
        },
        now,
    )
    .await
}

#[tokio::test]
async fn every_attack_is_refused_with_its_error_and_honest_requests_pass() {
    let expected_attacks: &[(&str, &[Attack])] = &[
        ("belvo", &[Attack::MissingHeader, Attack::WrongCredentials]),
        (
            "bridge",
            &[
                Attack::MissingHeader,
                Attack::WrongSecret,
                Attack::TamperedBody,
                Attack::OtherSchemeOnly,
                Attack::TruncatedSignature,
            ],
        ),
        (
            "plaid",
            &[
                Attack::MissingHeader,
                Attack::WrongKey,
                Attack::TamperedBody,
                Attack::ExpiredIat,
                Attack::FutureIat,
                Attack::MissingIat,
                Attack::AlgNone,
                Attack::AlgHs256,
                Attack::UnknownKid,
                Attack::ExpiredKey,
                Attack::TruncatedSignature,
            ],
        ),
        ("vezgo", &[Attack::MissingHeader, Attack::UnknownClient]),
        (
            "twilio",
            &[
                Attack::MissingHeader,
                Attack::WrongSecret,
                Attack::TamperedBody,
                Attack::TruncatedSignature,
            ],
        ),
        (
            "sendgrid",
            &[
                Attack::MissingHeader,
                Attack::WrongSecret,
                Attack::TamperedBody,
                Attack::ExpiredIat,
                Attack::FutureIat,
                Attack::TruncatedSignature,
            ],
        ),
        (
            "truelayer",
            &[
                Attack::MissingHeader,
                Attack::WrongSecret,
                Attack::TamperedBody,
                Attack::ExpiredIat,
                Attack::FutureIat,
                Attack::AlgNone,
                Attack::AlgHs256,
                Attack::TruncatedSignature,
                Attack::KeyUrlNotAllowed,
            ],
        ),
    ];
    // The table is pinned for these; every bundled provider runs its derived attacks.
    for provider in hookspec::PROVIDERS {
        let s = spec(provider);
        let signer = Signer::new(s, SigningCredentials::test(s));
        let attacks = signer.attacks();
        assert!(
            s.auth.is_empty() || !attacks.is_empty(),
            "{provider}: no attack derived from its schemes"
        );
        if let Some((_, pinned)) = expected_attacks.iter().find(|(p, _)| p == provider) {
            assert_eq!(&attacks, pinned, "{provider}");
        }
        // The same table for the emitted constants and for the spec read at run time
        // (its own core values, leaked as a run-time provider's are): one verifier code.
        let generated = verifier(provider, common::test_credentials(s));
        let run_time = Verifier::new(
            common::schemes(s),
            common::delivery(s),
            common::test_credentials(s),
        )
        .expect("verifier from the spec");
        for v in [generated, run_time] {
            attack_table(provider, s, &signer, &v).await;
        }
    }
}

/// Every example honestly signed passes `v`; every attack on `provider` fails with its
/// error and status.
async fn attack_table(
    provider: &str,
    s: &hookspec_codegen::model::ProviderSpec,
    signer: &Signer<'_>,
    v: &Verifier,
) {
    // Sent as the suite sends: to the signer's URL, with the spec's content type.
    let target = signer.target().clone();
    let sent = |headers: Vec<(String, String)>| {
        let mut all = vec![("Content-Type".to_owned(), s.delivery.content_type.clone())];
        all.extend(headers);
        all
    };
    // Every example of every event, honestly signed, passes.
    for example in s.events.iter().flat_map(|e| &e.examples) {
        let headers = sent(signer.sign(example.as_bytes(), at(NOW)));
        assert_eq!(
            run_to(v, &headers, example.as_bytes(), &target, at(NOW)).await,
            Ok(()),
            "{provider}"
        );
    }
    let body = body(s);
    for attack in signer.attacks() {
        let forged = signer.attack(attack, &body, at(NOW)).expect("applies");
        let err = run_to(v, &sent(forged.headers), &forged.body, &target, at(NOW))
            .await
            .expect_err(attack.id());
        assert_eq!(
            err.kind(),
            forged.expected_error,
            "{provider} {}: {err}",
            attack.id()
        );
        assert_eq!(
            err.status(),
            if err.kind() == "unknown_client" {
                403
            } else {
                401
            }
        );
    }
}

#[tokio::test]
async fn jwt_age_limits_are_inclusive_and_use_the_given_clock() {
    let s = spec("plaid");
    let signer = Signer::new(s, SigningCredentials::test(s));
    let v = verifier("plaid", common::test_credentials(s));
    let body = body(s);
    let headers = signer.sign(&body, at(NOW));
    // Five minutes old is still fine, one second more is not; one minute ahead likewise.
    assert_eq!(run(&v, &headers, &body, None, at(NOW + 300)).await, Ok(()));
    assert_eq!(
        run(&v, &headers, &body, None, at(NOW + 301)).await,
        Err(VerifyError::TokenTooOld { age_secs: 301 })
    );
    assert_eq!(run(&v, &headers, &body, None, at(NOW - 60)).await, Ok(()));
    assert_eq!(
        run(&v, &headers, &body, None, at(NOW - 61)).await,
        Err(VerifyError::TokenFromFuture { ahead_secs: 61 })
    );
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

/// A spec may publish CIDR ranges (GitHub does): an address inside one is let through,
/// one outside is refused, IPv4 and IPv6.
#[tokio::test]
async fn source_ranges_from_the_spec() {
    let mut s = spec("bridge").clone();
    s.delivery.source_ips = vec![
        "192.30.252.0/22".parse().unwrap(),
        "2a0a:a440::/29".parse().unwrap(),
    ];
    let s: &'static hookspec_codegen::model::ProviderSpec = Box::leak(Box::new(s));
    let signer = Signer::new(s, SigningCredentials::test(s));
    let body = body(s);
    let signed = signer.sign(&body, at(NOW));
    let v = Verifier::new(
        common::schemes(s),
        common::delivery(s),
        common::test_credentials(s).source_ips(SourceIpCheck::Enforce),
    )
    .unwrap();
    for (peer, allowed) in [
        ("192.30.252.1", true),
        ("192.30.255.254", true),
        ("192.30.248.1", false),
        ("2a0a:a447::5", true),
        ("2a0a:a448::5", false),
    ] {
        let verdict = run(&v, &signed, &body, Some(ip(peer)), at(NOW)).await;
        if allowed {
            assert_eq!(verdict, Ok(()), "{peer}");
        } else {
            assert_eq!(
                verdict,
                Err(VerifyError::SourceNotAllowed { ip: ip(peer) }),
                "{peer}"
            );
        }
    }
}

#[tokio::test]
async fn source_addresses_and_forwarded_for() {
    let s = spec("bridge");
    let signer = Signer::new(s, SigningCredentials::test(s));
    let body = body(s);
    let signed = signer.sign(&body, at(NOW));
    let with_xff = |xff: &str| {
        let mut h = signed.clone();
        h.push(("X-Forwarded-For".into(), xff.into()));
        h
    };
    let bridge_ip = "63.32.31.5";
    let enforce = || common::test_credentials(s).source_ips(SourceIpCheck::Enforce);

    let v = verifier("bridge", enforce());
    assert_eq!(
        run(&v, &signed, &body, Some(ip(bridge_ip)), at(NOW)).await,
        Ok(())
    );
    // IPv4-mapped IPv6 peers are the same address.
    assert_eq!(
        run(&v, &signed, &body, Some(ip("::ffff:63.32.31.5")), at(NOW)).await,
        Ok(())
    );
    let wrong = run(&v, &signed, &body, Some(ip("203.0.113.9")), at(NOW))
        .await
        .unwrap_err();
    assert_eq!(
        wrong,
        VerifyError::SourceNotAllowed {
            ip: ip("203.0.113.9")
        }
    );
    assert_eq!(wrong.status(), 403);
    // Without trusted proxies the header is ignored, whichever way it points.
    let spoofed = with_xff(bridge_ip);
    assert_eq!(
        run(&v, &spoofed, &body, Some(ip("203.0.113.9")), at(NOW)).await,
        Err(VerifyError::SourceNotAllowed {
            ip: ip("203.0.113.9")
        })
    );
    assert_eq!(
        run(
            &v,
            &with_xff("203.0.113.9"),
            &body,
            Some(ip(bridge_ip)),
            at(NOW)
        )
        .await,
        Ok(())
    );
    // A peer without a known address cannot be checked.
    assert_eq!(run(&v, &signed, &body, None, at(NOW)).await, Ok(()));

    // Behind a trusted proxy the client is the right-most untrusted entry.
    let v = verifier("bridge", enforce().trusted_proxies([net("10.0.0.0/8")]));
    let proxy = Some(ip("10.1.2.3"));
    assert_eq!(
        run(&v, &with_xff(bridge_ip), &body, proxy, at(NOW)).await,
        Ok(())
    );
    assert_eq!(
        run(
            &v,
            &with_xff(&format!("{bridge_ip}, 10.9.9.9")),
            &body,
            proxy,
            at(NOW)
        )
        .await,
        Ok(())
    );
    // A client that writes the provider's address in front gains nothing.
    assert_eq!(
        run(
            &v,
            &with_xff(&format!("{bridge_ip}, 198.51.100.7")),
            &body,
            proxy,
            at(NOW)
        )
        .await,
        Err(VerifyError::SourceNotAllowed {
            ip: ip("198.51.100.7")
        })
    );
    // A spoofed header from a peer that is not a trusted proxy is ignored.
    assert_eq!(
        run(
            &v,
            &with_xff(bridge_ip),
            &body,
            Some(ip("198.51.100.7")),
            at(NOW)
        )
        .await,
        Err(VerifyError::SourceNotAllowed {
            ip: ip("198.51.100.7")
        })
    );
    // The proxy itself without a header is not the provider.
    assert_eq!(
        run(&v, &signed, &body, proxy, at(NOW)).await,
        Err(VerifyError::SourceNotAllowed { ip: ip("10.1.2.3") })
    );
    assert_eq!(
        run(&v, &with_xff("not-an-ip"), &body, proxy, at(NOW))
            .await
            .unwrap_err()
            .kind(),
        "malformed_header"
    );

    // Extra allowed nets, and the check turned off.
    let v = verifier("bridge", enforce().allow_ips([net("127.0.0.0/8")]));
    assert_eq!(
        run(&v, &signed, &body, Some(ip("127.0.0.1")), at(NOW)).await,
        Ok(())
    );
    let v = verifier(
        "bridge",
        common::test_credentials(s).source_ips(SourceIpCheck::Off),
    );
    assert_eq!(
        run(&v, &signed, &body, Some(ip("203.0.113.9")), at(NOW)).await,
        Ok(())
    );
}

#[tokio::test]
async fn bridge_secret_rotation() {
    let s = spec("bridge");
    let body = body(s);
    let (old, new) = (
        "bridge secret before rotation",
        "bridge secret after rotation",
    );
    let sign = |secrets: &[&str]| {
        let mut c = SigningCredentials::test(s);
        c.shared.hmac_secrets = secrets.iter().map(|x| x.to_string()).collect();
        Signer::new(s, c).sign(&body, at(NOW))
    };
    let both = sign(&[new, old]);
    assert_eq!(both[0].1.matches("v1=").count(), 2);
    let creds = || Credentials::new().source_ips(SourceIpCheck::Off);
    // During the overlap the receiver holds both secrets: either entry may match.
    let during = verifier("bridge", creds().hmac_secret(old).hmac_secret(new));
    for headers in [sign(&[old]), sign(&[new]), both.clone()] {
        assert_eq!(run(&during, &headers, &body, None, at(NOW)).await, Ok(()));
    }
    // Once the old secret is dropped, its signature alone no longer passes.
    let after = verifier("bridge", creds().hmac_secret(new));
    assert_eq!(run(&after, &both, &body, None, at(NOW)).await, Ok(()));
    assert_eq!(
        run(&after, &sign(&[old]), &body, None, at(NOW)).await,
        Err(VerifyError::NoMatchingSignature)
    );
    // Entries of other labels are skipped even when they hold a valid MAC.
    let mixed = vec![(both[0].0.clone(), format!("v0=garbage,{}", both[0].1))];
    assert_eq!(run(&after, &mixed, &body, None, at(NOW)).await, Ok(()));
}

/// A key source that counts fetches and serves what the test puts in it.
#[derive(Clone, Default)]
struct Counting {
    keys: Arc<Mutex<HashMap<String, Result<Jwk, KeyError>>>>,
    fetches: Arc<AtomicUsize>,
    delay: Duration,
}

impl Counting {
    fn put(&self, kid: &str, key: Result<Jwk, KeyError>) {
        self.keys.lock().unwrap().insert(kid.to_owned(), key);
    }
    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl KeySource for Counting {
    fn fetch<'a>(&'a self, kid: &'a str) -> KeyFuture<'a> {
        Box::pin(async move {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.keys
                .lock()
                .unwrap()
                .get(kid)
                .cloned()
                .unwrap_or(Err(KeyError::NotFound))
        })
    }
}

fn jwk(signing: &SigningCredentials, kid: &str) -> Jwk {
    let key = signing.jwt_key.as_ref().expect("JWT key");
    Jwk::from_json(&hookspec_signer::public_jwk(key, kid), Some("expired_at")).unwrap()
}

fn plaid_signer(label: &str, kid: &str) -> (SigningCredentials, Signer<'static>) {
    let s = spec("plaid");
    let mut c = SigningCredentials::test(s);
    c.jwt_key = Some(hookspec_signer::test_signing_key(label));
    c.kid = kid.to_owned();
    (c.clone(), Signer::new(s, c))
}

#[tokio::test]
async fn plaid_key_rotation_fetches_the_new_kid_and_refuses_the_retired_key() {
    let s = spec("plaid");
    let body = body(s);
    let source = Counting::default();
    let (old_creds, old) = plaid_signer("plaid rotation old", "kid-old");
    let (new_creds, new) = plaid_signer("plaid rotation new", "kid-new");
    source.put("kid-old", Ok(jwk(&old_creds, "kid-old")));
    let refresh = Duration::from_secs(600);
    let v = verifier(
        "plaid",
        Credentials::new()
            .source_ips(SourceIpCheck::Off)
            .key_source(source.clone())
            .key_refresh(refresh),
    );
    assert_eq!(
        run(&v, &old.sign(&body, at(NOW)), &body, None, at(NOW)).await,
        Ok(())
    );
    assert_eq!(
        run(&v, &old.sign(&body, at(NOW + 1)), &body, None, at(NOW + 1)).await,
        Ok(())
    );
    assert_eq!(source.fetches(), 1, "the second delivery uses the cache");

    // Plaid rotates: a new key appears and the old one gets expired_at.
    source.put("kid-new", Ok(jwk(&new_creds, "kid-new")));
    source.put(
        "kid-old",
        Ok(jwk(&old_creds, "kid-old").retired(Some(NOW as i64))),
    );
    let t = NOW + 10;
    assert_eq!(
        run(&v, &new.sign(&body, at(t)), &body, None, at(t)).await,
        Ok(())
    );
    assert_eq!(source.fetches(), 2, "an unknown kid is fetched");
    // Until the refresh interval the cached old key is still believed...
    assert_eq!(
        run(&v, &old.sign(&body, at(t)), &body, None, at(t)).await,
        Ok(())
    );
    // ...then it is fetched again and refused.
    let later = NOW + refresh.as_secs() + 1;
    assert_eq!(
        run(&v, &old.sign(&body, at(later)), &body, None, at(later)).await,
        Err(VerifyError::ExpiredKey {
            kid: "kid-old".into()
        })
    );
    assert_eq!(source.fetches(), 3);
    assert_eq!(
        run(&v, &new.sign(&body, at(t)), &body, None, at(t)).await,
        Ok(())
    );
    assert_eq!(source.fetches(), 3);
}

/// Found by fuzzing: a key refresh (or retry) interval too large for `SystemTime`
/// panicked when the cache computed the next refresh. Now the key is kept for good.
#[tokio::test]
async fn key_cache_takes_refresh_intervals_too_large_for_the_clock() {
    let s = spec("plaid");
    let body = body(s);
    let source = Counting::default();
    let (creds, signer) = plaid_signer("plaid huge refresh", "kid-huge");
    source.put("kid-huge", Ok(jwk(&creds, "kid-huge")));
    let v = verifier(
        "plaid",
        Credentials::new()
            .source_ips(SourceIpCheck::Off)
            .key_source(source.clone())
            .key_refresh(Duration::MAX)
            .key_retry(Duration::MAX),
    );
    for t in [NOW, NOW + 86_400] {
        assert_eq!(
            run(&v, &signer.sign(&body, at(t)), &body, None, at(t)).await,
            Ok(())
        );
    }
    assert_eq!(source.fetches(), 1);
    // A failed fetch is retried after the retry interval; the unknown kid must not
    // panic either.
    let (_, stranger) = plaid_signer("plaid huge refresh stranger", "kid-unknown");
    assert!(
        run(&v, &stranger.sign(&body, at(NOW)), &body, None, at(NOW))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_for_a_new_kid_fetch_it_once() {
    let s = spec("plaid");
    let body = Arc::new(body(s));
    let source = Counting {
        delay: Duration::from_millis(50),
        ..Counting::default()
    };
    let (creds, signer) = plaid_signer("plaid single flight", "kid-sf");
    source.put("kid-sf", Ok(jwk(&creds, "kid-sf")));
    let v = verifier(
        "plaid",
        Credentials::new()
            .source_ips(SourceIpCheck::Off)
            .key_source(source.clone()),
    );
    let headers = Arc::new(signer.sign(&body, at(NOW)));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (v, headers, body) = (v.clone(), headers.clone(), body.clone());
            tokio::spawn(async move { run(&v, &headers, &body, None, at(NOW)).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
    }
    assert_eq!(source.fetches(), 1);
}

#[tokio::test]
async fn failed_fetches_are_retried_after_a_while_not_cached_forever() {
    let s = spec("plaid");
    let body = body(s);
    let source = Counting::default();
    let (creds, signer) = plaid_signer("plaid flaky", "kid-flaky");
    source.put("kid-flaky", Err(KeyError::Unavailable("down".into())));
    let retry = Duration::from_secs(10);
    let v = verifier(
        "plaid",
        Credentials::new()
            .source_ips(SourceIpCheck::Off)
            .key_source(source.clone())
            .key_retry(retry),
    );
    let headers = signer.sign(&body, at(NOW));
    let err = run(&v, &headers, &body, None, at(NOW)).await.unwrap_err();
    assert_eq!(err.kind(), "key_unavailable");
    assert_eq!(err.status(), 503);
    source.put("kid-flaky", Ok(jwk(&creds, "kid-flaky")));
    // Within the retry window the failure is remembered (no second fetch)...
    assert_eq!(
        run(&v, &headers, &body, None, at(NOW + 1))
            .await
            .unwrap_err()
            .kind(),
        "key_unavailable"
    );
    assert_eq!(source.fetches(), 1);
    // ...after it, the key is asked for again.
    assert_eq!(run(&v, &headers, &body, None, at(NOW + 11)).await, Ok(()));
    assert_eq!(source.fetches(), 2);
    // An outage during a later refresh keeps the key it has.
    source.put("kid-flaky", Err(KeyError::Unavailable("down again".into())));
    let later = NOW + 2 * 3600;
    assert_eq!(
        run(&v, &signer.sign(&body, at(later)), &body, None, at(later)).await,
        Ok(())
    );
    assert_eq!(source.fetches(), 3);
}

#[test]
fn configuration_errors_name_what_is_missing() {
    let err = |p: &str, c: Credentials| try_verifier(p, c).unwrap_err();
    assert_eq!(
        err("plaid", Credentials::new()),
        ConfigError::MissingKeySource
    );
    assert_eq!(
        err("bridge", Credentials::new()),
        ConfigError::MissingHmacSecret
    );
    assert_eq!(
        err("belvo", Credentials::new()),
        ConfigError::MissingAuthorization
    );
    assert_eq!(
        err("vezgo", Credentials::new()),
        ConfigError::MissingClientId
    );
    for p in hookspec::PROVIDERS {
        let v = verifier(p, Credentials::new().unverified());
        assert!(v.is_unverified());
    }
    // A base64 secret that is not base64.
    use std::borrow::Cow::Borrowed as B;
    static B64: [AuthScheme; 1] = [AuthScheme::Signature(SignatureAuth {
        header: B("webhook-signature"),
        algorithm: SignatureAlgorithm::HmacSha256,
        encoding: SignatureEncoding::Base64,
        signed: B("{body}"),
        format: hookspec::runtime::core::SignatureFormat {
            separator: Some(B(" ")),
            label_separator: Some(B(",")),
            scheme: Some(B("v1")),
        },
        jws: None,
        timestamp: None,
        key: hookspec::runtime::core::SecretFormat {
            encoding: SecretEncoding::Base64,
            strip_prefix: Some(B("whsec_")),
        },
        rotation: None,
        optional: false,
        description: None,
    })];
    let delivery = &hookspec::bridge::DELIVERY;
    let c = Credentials::new()
        .hmac_secret("whsec_c2VjcmV0")
        .hmac_secret("whsec_not base64!");
    let err = Verifier::new(&B64, delivery, c).unwrap_err();
    assert_eq!(
        err,
        ConfigError::BadSecretEncoding {
            what: "HMAC secret",
            index: 1,
            expected: "base64 (standard alphabet, padding optional) after the prefix `whsec_`"
                .into()
        }
    );
    assert!(err.to_string().starts_with("HMAC secret #1 is not written"));
    // Unpadded base64 (a dashboard that drops the `=`) is the same key as padded.
    for unpadded in ["whsec_c2VjcmV0MQ", "whsec_c2VjcmV0MQ=="] {
        let c = Credentials::new().hmac_secret(unpadded);
        assert!(Verifier::new(&B64, delivery, c).is_ok(), "{unpadded}");
    }
}

#[tokio::test]
async fn unverified_accepts_unsigned_requests() {
    let v = verifier(
        "plaid",
        Credentials::new()
            .unverified()
            .source_ips(SourceIpCheck::Off),
    );
    assert_eq!(run(&v, &[], b"{}", None, at(NOW)).await, Ok(()));
    // The source check still applies unless turned off.
    let v = verifier("plaid", Credentials::new().unverified());
    assert_eq!(
        run(&v, &[], b"{}", Some(ip("203.0.113.9")), at(NOW))
            .await
            .unwrap_err()
            .kind(),
        "source_not_allowed"
    );
}

#[tokio::test]
async fn no_secret_in_debug_or_errors() {
    let secrets = [
        "hookspec test password",
        "hookspec test secret for bridge #1",
        "plaid-api-secret-value",
    ];
    let c = Credentials::new()
        .basic("user", secrets[0])
        .hmac_secret(secrets[1])
        .key_source(
            HttpKeySource::new(hookspec::plaid::KEY_ENDPOINT, "http://127.0.0.1:9")
                .unwrap()
                .credential("secret", secrets[2]),
        );
    let mut text = format!(
        "{c:?} {:?} {:?}",
        Secret::from(secrets[1]),
        HttpKeySource::new(hookspec::plaid::KEY_ENDPOINT, "http://x")
            .unwrap()
            .credential("secret", secrets[2])
    );
    for p in ["plaid", "bridge", "belvo", "vezgo"] {
        let s = spec(p);
        let signer = Signer::new(s, SigningCredentials::test(s));
        let v = verifier(p, common::test_credentials(s));
        text += &format!("{v:?} {:?}", signer.credentials());
        for attack in signer.attacks() {
            let forged = signer.attack(attack, &body(s), at(NOW)).unwrap();
            let e = run(&v, &forged.headers, &forged.body, None, at(NOW))
                .await
                .unwrap_err();
            text += &format!("{e} {e:?}");
        }
    }
    for s in secrets {
        assert!(!text.contains(s), "`{s}` leaked");
    }
    assert!(text.contains("Secret(redacted)"));
}

#[tokio::test]
async fn garbage_and_truncated_headers_never_panic_or_pass() {
    let garbage = [
        "",
        " ",
        ".",
        "..",
        "...",
        "a.b.c",
        "v1=",
        "v1=zz",
        ",,,",
        "=",
        "Basic",
        "Bearer ",
        "\t",
        "eyJhbGciOiJFUzI1NiJ9..",
        "eyJ9.eyJ9.AAAA",
        "v1=v1=v1",
        "%%%",
    ];
    for p in ["plaid", "bridge", "belvo", "vezgo"] {
        let s = spec(p);
        let signer = Signer::new(s, SigningCredentials::test(s));
        let v = verifier(p, common::test_credentials(s));
        let body = body(s);
        let honest = signer.sign(&body, at(NOW));
        for (i, (name, value)) in honest.iter().enumerate() {
            let mut candidates: Vec<String> = garbage.iter().map(|g| g.to_string()).collect();
            candidates.extend((0..value.len()).map(|n| value[..n].to_owned()));
            for bad in candidates {
                let mut h = honest.clone();
                h[i] = (name.clone(), bad.clone());
                let outcome = run(&v, &h, &body, None, at(NOW)).await;
                assert!(outcome.is_err(), "{p}: `{name}: {bad}` passed");
            }
        }
        // Bodies cut short fail too.
        for n in [0, 1, body.len() / 2, body.len() - 1] {
            let outcome = run(&v, &honest, &body[..n], None, at(NOW)).await;
            // Belvo and Vezgo sign nothing over the body, so only the others can notice.
            let body_bound = !matches!(p, "belvo" | "vezgo");
            assert_eq!(outcome.is_err(), body_bound, "{p}: a body cut at {n}");
        }
    }
}

/// The model-to-runtime conversion the layout test below relies on gives what the code
/// generator emits for every real provider.
#[test]
fn test_scheme_conversion_matches_the_emitted_constants() {
    for s in common::specs() {
        let p = s.provider.as_str();
        assert_eq!(common::schemes(s), hookspec::auth(p).unwrap(), "{p}");
        assert_eq!(common::delivery(s), hookspec::delivery(p).unwrap(), "{p}");
    }
}

/// Other providers' signature layouts, written as spec data only (no code): each is
/// signed by the signer from the model and checked by the verifier from static data.
#[tokio::test]
async fn hmac_layouts_of_other_providers_are_spec_data() {
    use hookspec_codegen::core::Duration as D;
    use hookspec_codegen::model as m;
    let five_minutes = D(Duration::from_secs(300));
    let hmac = |header: &'static str,
                algorithm,
                encoding,
                signed: &'static str,
                format: (
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    )| m::SignatureAuth {
        header: header.into(),
        algorithm,
        encoding,
        signed: signed.into(),
        format: m::SignatureFormat {
            separator: format.0.map(Into::into),
            label_separator: format.1.map(Into::into),
            scheme: format.2.map(Into::into),
        },
        jws: None,
        timestamp: None,
        key: m::SecretFormat::default(),
        rotation: None,
        optional: false,
        description: None,
    };
    let stripe = m::SignatureAuth {
        // Stripe's library refuses only old timestamps.
        jws: None,
        timestamp: Some(m::SignedTimestamp {
            header: None,
            label: Some("t".into()),
            tolerance: five_minutes,
            window: m::ToleranceWindow::PastOnly,
            unit: m::TimestampUnit::UnixSeconds,
        }),
        ..hmac(
            "Stripe-Signature",
            m::SignatureAlgorithm::HmacSha256,
            m::SignatureEncoding::HexLower,
            "{timestamp}.{body}",
            (Some(","), Some("="), Some("v1")),
        )
    };
    let github = hmac(
        "X-Hub-Signature-256",
        m::SignatureAlgorithm::HmacSha256,
        m::SignatureEncoding::HexLower,
        "{body}",
        (None, Some("="), Some("sha256")),
    );
    let standard = m::SignatureAuth {
        jws: None,
        timestamp: Some(m::SignedTimestamp {
            header: Some("webhook-timestamp".into()),
            label: None,
            tolerance: five_minutes,
            window: m::ToleranceWindow::BothWays,
            unit: m::TimestampUnit::UnixSeconds,
        }),
        key: m::SecretFormat {
            encoding: m::SecretEncoding::Base64,
            strip_prefix: Some("whsec_".into()),
        },
        ..hmac(
            "webhook-signature",
            m::SignatureAlgorithm::HmacSha256,
            m::SignatureEncoding::Base64,
            "{header:webhook-id}.{timestamp}.{body}",
            (Some(" "), Some(","), Some("v1")),
        )
    };
    let sha512 = hmac(
        "X-Sig",
        m::SignatureAlgorithm::HmacSha512,
        m::SignatureEncoding::Base64url,
        "{body}",
        (None, None, None),
    );
    let sha1 = hmac(
        "X-Sig",
        m::SignatureAlgorithm::HmacSha1,
        m::SignatureEncoding::HexUpper,
        "{body}",
        (None, None, None),
    );

    for (name, scheme) in [
        ("stripe", stripe),
        ("github", github),
        ("standard", standard),
        ("sha512", sha512),
        ("sha1", sha1),
    ] {
        let mut s = spec("bridge").clone();
        s.auth = vec![m::AuthScheme::Signature(scheme.clone())];
        s.delivery.headers = vec![m::Header {
            name: "webhook-id".into(),
            description: "delivery id".into(),
            value: Some("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W".into()),
            example: None,
            generate: None,
        }];
        let s: &'static m::ProviderSpec = Box::leak(Box::new(s));
        let signer = Signer::new(s, SigningCredentials::test(s));
        let v = Verifier::new(
            common::schemes(s),
            common::delivery(s),
            common::test_credentials(s),
        )
        .unwrap();
        let body = body(s);
        let honest = signer.sign(&body, at(NOW));
        assert_eq!(
            run(&v, &honest, &body, None, at(NOW)).await,
            Ok(()),
            "{name}: {honest:?}"
        );
        let attacks = signer.attacks();
        assert!(
            attacks.contains(&Attack::TamperedBody) && attacks.contains(&Attack::WrongSecret),
            "{name}"
        );
        assert_eq!(
            scheme.timestamp.is_some(),
            attacks.contains(&Attack::ExpiredIat),
            "{name}"
        );
        assert_eq!(
            scheme.format.scheme.is_some(),
            attacks.contains(&Attack::OtherSchemeOnly),
            "{name}"
        );
        let ahead_checked = scheme
            .timestamp
            .as_ref()
            .is_some_and(|t| t.future_tolerance().is_some());
        assert_eq!(
            ahead_checked,
            attacks.contains(&Attack::FutureIat),
            "{name}"
        );
        if scheme.timestamp.is_some() {
            // An hour ahead: refused where the tolerance applies both ways, accepted where
            // the provider checks only the past (a receiver clock running behind).
            let ahead = signer.sign(&body, at(NOW + 3600));
            let verdict = run(&v, &ahead, &body, None, at(NOW)).await;
            if ahead_checked {
                assert!(
                    matches!(verdict, Err(VerifyError::TokenFromFuture { .. })),
                    "{name}: {verdict:?}"
                );
            } else {
                assert_eq!(verdict, Ok(()), "{name}");
            }
        }
        for attack in attacks {
            let forged = signer.attack(attack, &body, at(NOW)).unwrap();
            let err = run(&v, &forged.headers, &forged.body, None, at(NOW))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), forged.expected_error, "{name} {}", attack.id());
        }
        if scheme.timestamp.is_some() {
            // The signed timestamp is bound: changing it breaks the MAC.
            let moved: Vec<(String, String)> = honest
                .iter()
                .map(|(n, v)| {
                    (
                        n.clone(),
                        v.replace(&NOW.to_string(), &(NOW + 1).to_string()),
                    )
                })
                .collect();
            assert_eq!(
                run(&v, &moved, &body, None, at(NOW)).await,
                Err(VerifyError::NoMatchingSignature),
                "{name}"
            );
        }
    }
}

async fn run_to(
    v: &Verifier,
    headers: &[(String, String)],
    body: &[u8],
    target: &hookspec_signer::Target,
    now: SystemTime,
) -> Result<(), VerifyError> {
    let headers = header_map(headers);
    let request = Request::new(&headers, body).target(&target.method, &target.url);
    v.verify(&request, now).await
}

/// Every algorithm of the model, over a message that covers the timestamp, the request
/// line and the body: the signer's delivery passes, the same one sent elsewhere fails, and
/// every attack the model derives for it is refused with the error it names.
#[tokio::test]
async fn every_signature_algorithm_signs_verifies_and_refuses_its_attacks() {
    use hookspec_codegen::model as m;
    for algorithm in m::SignatureAlgorithm::ALL {
        let key = match algorithm {
            a if a.is_secret() => m::SecretEncoding::Base64,
            m::SignatureAlgorithm::Ed25519 => m::SecretEncoding::Hex,
            _ => m::SecretEncoding::Pem,
        };
        let name = algorithm.name();
        let s = common::with_signature(algorithm, "{timestamp}.{method} {url}|{body}", key, |h| {
            h.format = m::SignatureFormat {
                separator: Some(",".into()),
                label_separator: Some("=".into()),
                scheme: Some("v1".into()),
            };
            h.timestamp = Some(m::SignedTimestamp {
                header: None,
                label: Some("t".into()),
                tolerance: hookspec_codegen::core::Duration(Duration::from_secs(300)),
                window: m::ToleranceWindow::BothWays,
                unit: m::TimestampUnit::UnixSeconds,
            });
        });
        let signer = Signer::new(s, SigningCredentials::test(s));
        let target = signer.target().clone();
        let v = Verifier::new(
            common::schemes(s),
            common::delivery(s),
            common::test_credentials(s),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(v.needs_target(), "{name}");
        let body = body(s);
        let honest = signer.sign(&body, at(NOW));
        assert_eq!(
            run_to(&v, &honest, &body, &target, at(NOW)).await,
            Ok(()),
            "{name}: {honest:?}"
        );
        let elsewhere = hookspec_signer::Target {
            url: format!("{}?again=1", target.url),
            ..target.clone()
        };
        assert_eq!(
            run_to(&v, &honest, &body, &elsewhere, at(NOW)).await,
            Err(VerifyError::NoMatchingSignature),
            "{name}: the URL is signed"
        );
        let attacks = signer.attacks();
        for expected in [
            Attack::MissingHeader,
            Attack::WrongSecret,
            Attack::TamperedBody,
            Attack::ExpiredIat,
            Attack::FutureIat,
            Attack::OtherSchemeOnly,
            Attack::TruncatedSignature,
        ] {
            assert!(attacks.contains(&expected), "{name}: {expected:?}");
        }
        for attack in attacks {
            let forged = signer.attack(attack, &body, at(NOW)).unwrap();
            let err = run_to(&v, &forged.headers, &forged.body, &target, at(NOW))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), forged.expected_error, "{name} {}", attack.id());
        }
    }
}
