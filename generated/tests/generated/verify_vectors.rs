//! Every case of every `generated/test-vectors/*.json` file through the real `Verifier`,
//! configured only from the file's test material, at the case's recorded clock.

use crate::common;

use hookspec::runtime::verify::{Credentials, Jwk, Request, SourceIpCheck, StaticKeys, Verifier};
use serde_json::Value;

fn credentials(material: &Value) -> Credentials {
    let mut c = Credentials::new().source_ips(SourceIpCheck::Off);
    if let Some(jwks) = material["jwks"].as_array() {
        let keys = jwks
            .iter()
            .map(|j| Jwk::from_json(j, Some("expired_at")).expect("vector JWK reads"));
        c = c.key_source(StaticKeys::new(keys));
    }
    for s in material["hmac_secrets"].as_array().into_iter().flatten() {
        c = c.hmac_secret(s.as_str().expect("secret text"));
    }
    for k in material["public_keys"].as_array().into_iter().flatten() {
        c = c.public_key(k.as_str().expect("public key text"));
    }
    let auth = &material["authorization"];
    match auth["scheme"].as_str() {
        Some("basic") => {
            c = c.basic(
                auth["user"].as_str().expect("user"),
                auth["password"].as_str().expect("password"),
            )
        }
        Some("bearer") => c = c.bearer(auth["token"].as_str().expect("token")),
        _ => {}
    }
    for id in material["client_ids"].as_array().into_iter().flatten() {
        c = c.client_id(id.as_str().expect("client id"));
    }
    c
}

#[tokio::test]
async fn every_vector_case_gets_its_recorded_outcome() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let mut files = 0;
    let mut checked = 0;
    for spec in common::specs() {
        let path = dir.join(format!("{}.json", spec.provider));
        let text = std::fs::read_to_string(&path).expect("a vector file per provider");
        assert!(
            text.ends_with("}\n"),
            "{}: pretty JSON with a trailing newline",
            path.display()
        );
        let file: Value = serde_json::from_str(&text).expect("vector JSON");
        assert_eq!(file["provider"], spec.provider.as_str());
        assert!(file["test_material"]["notice"]
            .as_str()
            .is_some_and(|n| n.contains("not secret")));
        let verifier = Verifier::new(
            hookspec::auth(&spec.provider).expect("emitted provider"),
            hookspec::delivery(&spec.provider).expect("emitted provider"),
            credentials(&file["test_material"]),
        )
        .expect("the test material configures a verifier");
        let cases = file["cases"].as_array().expect("cases");
        // A provider that authenticates nothing (Statuspage: a secret URL only) has no
        // scheme to sign with or forge, so its file lists no cases.
        if spec.auth.is_empty() {
            assert!(
                cases.is_empty(),
                "{}: cases without a scheme",
                spec.provider
            );
            assert_eq!(file["schemes"], serde_json::json!([]), "{}", spec.provider);
            files += 1;
            continue;
        }
        assert!(
            cases.iter().any(|c| c["expected"]["accept"] == true),
            "{}: a positive case",
            spec.provider
        );
        assert!(
            cases.iter().any(|c| c["expected"]["accept"] == false),
            "{}: negative cases",
            spec.provider
        );
        for case in cases {
            let id = case["id"].as_str().expect("id");
            let headers: Vec<(String, String)> = case["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap().to_owned(),
                        h[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let headers = common::header_map(&headers);
            let body = case["body"].as_str().expect("body").as_bytes();
            let now = common::at(case["now"].as_u64().expect("now"));
            let mut request = Request::new(&headers, body);
            if let (Some(method), Some(url)) = (case["method"].as_str(), case["url"].as_str()) {
                request = request.target(method, url);
            }
            // A case with secrets of its own is checked by a verifier holding those.
            let own;
            let verifier = match case.get("hmac_secrets") {
                Some(secrets) => {
                    let mut material = file["test_material"].clone();
                    material["hmac_secrets"] = secrets.clone();
                    own = Verifier::new(
                        hookspec::auth(&spec.provider).expect("emitted provider"),
                        hookspec::delivery(&spec.provider).expect("emitted provider"),
                        credentials(&material),
                    )
                    .expect("the case's secrets configure a verifier");
                    &own
                }
                None => &verifier,
            };
            let outcome = verifier.verify(&request, now).await;
            let expected = &case["expected"];
            if expected["accept"] == true {
                assert_eq!(outcome, Ok(()), "{}/{id}", spec.provider);
            } else {
                let err = outcome.expect_err(&format!("{}/{id} must be refused", spec.provider));
                assert_eq!(
                    Some(err.kind()),
                    expected["error"].as_str(),
                    "{}/{id}: {err}",
                    spec.provider
                );
                assert_eq!(
                    Some(u64::from(err.status())),
                    expected["status"].as_u64(),
                    "{}/{id}",
                    spec.provider
                );
            }
            checked += 1;
        }
        files += 1;
    }
    assert_eq!(files, common::specs().len());
    assert!(checked >= 20, "only {checked} cases");
}

#[test]
fn vector_files_are_what_the_signer_makes_now() {
    // The same guard as `cargo xtask generate --check`, here so `cargo test` notices too.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    for spec in common::specs() {
        let mut want = serde_json::to_string_pretty(&hookspec_signer::test_vectors(spec)).unwrap();
        want.push('\n');
        let have = std::fs::read_to_string(dir.join(format!("{}.json", spec.provider))).unwrap();
        assert!(
            have == want,
            "{}: run `cargo xtask generate`",
            spec.provider
        );
    }
}

/// Every vector file is an instance of the schema written beside it, and the schema is
/// what the signer describes now.
#[test]
fn vector_files_follow_their_json_schema() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-vectors");
    let text = std::fs::read_to_string(dir.join(hookspec_signer::VECTORS_SCHEMA_FILE))
        .expect("the schema beside the vectors");
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema, hookspec_signer::vectors_schema());
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    for spec in common::specs() {
        let path = dir.join(format!("{}.json", spec.provider));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&file)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
    // A case the schema refuses: an error kind no verifier names.
    let mut broken: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stripe.json")).unwrap()).unwrap();
    broken["cases"][1]["expected"]["error"] = "made_up_error".into();
    assert!(!validator.is_valid(&broken));
}
