//! `cargo xtask fuzz-seeds`: starting corpora for the fuzz targets in `fuzz/`, from what
//! the repository already has: the specs, the refused specs of the loader's tests, every
//! documented example, the signed test vectors. Written to `fuzz/corpus/<target>/` (not
//! checked in; the layout of each input is described in `fuzz/src/lib.rs`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use hookspec_codegen::model::ProviderSpec;
use hookspec_signer::{Signer, SigningCredentials};

/// Writes every corpus under `out`; returns how many inputs each target got.
pub fn write(root: &Path, out: &Path) -> Result<Vec<(&'static str, usize)>> {
    let mut specs: Vec<ProviderSpec> = hookspec_codegen::load_dir(&root.join("spec"))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .map(|s| s.spec)
        .collect();
    // The fuzz targets pick a provider by its index in `hookspec::PROVIDERS`, which is
    // sorted by name.
    specs.sort_by(|a, b| a.provider.cmp(&b.provider));
    let mut counts = Vec::new();
    for (target, inputs) in [
        ("spec_loader", spec_texts(root)?),
        ("parse", parse_inputs(&specs)),
        ("receive", receive_inputs(root, &specs)?),
        ("validate", validate_inputs(&specs)),
        ("inbox_record", inbox_records(&specs)),
    ] {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (i, input) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:04}")), input)?;
        }
        counts.push((target, inputs.len()));
    }
    Ok(counts)
}

/// Every YAML file of `spec/`, the loader's refused specs and the test fixtures' specs.
fn spec_texts(root: &Path) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for dir in [
        "spec",
        "codegen/tests/bad-specs",
        "conformance/tests/fixtures/handshakes",
        "conformance/tests/fixtures/header-routed",
        "conformance/tests/fixtures/jwks",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .with_context(|| format!("reading {dir}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for f in files {
            out.push(std::fs::read(&f)?);
        }
    }
    Ok(out)
}

/// `[provider][routing header values, one per line]\0[body]` per documented example.
fn parse_inputs(specs: &[ProviderSpec]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        for event in &spec.events {
            let values: Vec<String> = hookspec_codegen::check::when_headers(spec, event)
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            for example in &event.examples {
                let mut input = vec![i as u8];
                input.extend(values.join("\n").bytes());
                input.push(0);
                input.extend(example.as_bytes());
                out.push(input);
            }
        }
    }
    out
}

/// Per documented example: signing mode with the event's own headers, and forging mode
/// with the headers the test credentials sign it with (which the forging receiver does
/// not hold); then every signed case of the published test vectors, forging.
fn receive_inputs(root: &Path, specs: &[ProviderSpec]) -> Result<Vec<Vec<u8>>> {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let mut out = Vec::new();
    let input = |i: usize, mode: u8, headers: &[(String, String)], body: &[u8]| {
        let mut input = vec![i as u8, mode, 0];
        for (name, value) in headers {
            input.extend(format!("{name}: {value}\n").bytes());
        }
        input.push(0);
        input.extend(body);
        input
    };
    for (i, spec) in specs.iter().enumerate() {
        let signer = Signer::new(spec, SigningCredentials::test(spec));
        for event in &spec.events {
            let named = hookspec_codegen::check::when_headers(spec, event);
            for example in &event.examples {
                out.push(input(i, 1, &named, example.as_bytes()));
                let mut signed = signer.sign(example.as_bytes(), at);
                signed.extend(named.iter().cloned());
                out.push(input(i, 0, &signed, example.as_bytes()));
            }
        }
        let vectors = root.join(format!("generated/test-vectors/{}.json", spec.provider));
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&vectors)?)?;
        for case in doc["cases"].as_array().into_iter().flatten() {
            let headers: Vec<(String, String)> = case["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| Some((h[0].as_str()?.to_owned(), h[1].as_str()?.to_owned())))
                .collect();
            let body = case["body"].as_str().unwrap_or_default();
            out.push(input(i, 0, &headers, body.as_bytes()));
        }
    }
    Ok(out)
}

/// `marker NUL header-lines NUL payload`: every documented example as a stored JetStream
/// message of the inbox (the `Hookspec-*` headers `inbox/src/nats.rs` writes), beside a
/// claim marker in each state.
fn inbox_records(specs: &[ProviderSpec]) -> Vec<Vec<u8>> {
    let markers = [
        r#"{"state":"pending","attempts":0,"seq":1,"gen":0,"error":null,"next":0}"#,
        r#"{"state":"processing","worker":"host-1/0","until":1750000120000,"attempts":2,"seq":7,"gen":0,"error":"not ready","next":0}"#,
        r#"{"state":"done","at":1750000000000,"attempts":1,"seq":9,"gen":3,"error":null,"next":0}"#,
        r#"{"state":"dead","at":1750000000000,"attempts":8,"seq":12,"gen":0,"error":"gave up","next":1750000060000}"#,
    ];
    let mut out = Vec::new();
    let examples = specs
        .iter()
        .flat_map(|s| s.events.iter().map(move |e| (s, e)))
        .flat_map(|(s, e)| e.examples.iter().map(move |x| (s, e, x)));
    for (i, (spec, event, example)) in examples.enumerate() {
        let quoted = |s: &str| serde_json::Value::from(s).to_string();
        let key = format!("sha256:{i:064x}");
        let head = [
            format!("Nats-Msg-Id: {}.{i}", spec.provider),
            format!("Hookspec-Provider: {}", quoted(&spec.provider)),
            format!("Hookspec-Event: {}", quoted(&event.name)),
            format!("Hookspec-Key: {}", quoted(&key)),
            r#"Hookspec-Headers: [["content-type","application/json"],["x-client-id","c"]]"#
                .to_owned(),
            "Hookspec-Peer: 52.21.26.131".to_owned(),
            "Hookspec-Received-At: 1750000000000".to_owned(),
            format!("Hookspec-Gen: {}", i % 3),
            format!("Hookspec-Id: {}", i + 1),
            format!("Hookspec-Error: {}", quoted("handler said no")),
        ]
        .join("\n");
        let mut input = markers[i % markers.len()].as_bytes().to_vec();
        input.push(0);
        input.extend(head.bytes());
        input.push(0);
        input.extend(example.bytes());
        out.push(input);
    }
    out
}

/// `[provider][captures]`: a provider's examples as JSON lines, and as a HAR file.
fn validate_inputs(specs: &[ProviderSpec]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let examples: Vec<serde_json::Value> = spec
            .events
            .iter()
            .flat_map(|e| &e.examples)
            .filter_map(|x| serde_json::from_str(x).ok())
            .collect();
        let lines: Vec<String> = examples.iter().map(|v| v.to_string()).collect();
        let mut input = vec![i as u8, 0];
        input.extend(lines.join("\n").bytes());
        out.push(input);
        let entries: Vec<serde_json::Value> = lines
            .iter()
            .map(|body| {
                serde_json::json!({"request": {
                    "method": "POST",
                    "url": format!("https://receiver.example/{}", spec.provider),
                    "postData": {"mimeType": "application/json", "text": body},
                }})
            })
            .collect();
        let har = serde_json::json!({"log": {"version": "1.2", "entries": entries}});
        let mut input = vec![i as u8, 0];
        input.extend(har.to_string().bytes());
        out.push(input);
    }
    out
}
