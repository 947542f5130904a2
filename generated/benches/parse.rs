//! `Event::parse` (probe the discriminator, then parse the chosen struct) side by side
//! with `serde_json::from_slice` straight into each example's own struct, and into
//! `serde_json::Value`, over every documented example of each provider. Compare the
//! ratios within one run: the machine's noise cancels out, the ratios do not.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use hookspec::runtime::DirectParser as Direct;

/// `(example body, direct parser of its event)` for every example of `provider`.
fn examples<E>(provider: &str, direct: &[(&str, Direct<E>)]) -> Vec<(Vec<u8>, Direct<E>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let specs = hookspec_codegen::load_dir(&dir).expect("specs load");
    let spec = &specs
        .iter()
        .find(|s| s.spec.provider == provider)
        .expect("provider")
        .spec;
    let mut out = Vec::new();
    for e in &spec.events {
        let parser = direct
            .iter()
            .find(|(n, _)| *n == e.name)
            .expect("a direct parser per event")
            .1;
        out.extend(e.examples.iter().map(|x| (x.clone().into_bytes(), parser)));
    }
    out
}

fn compare<E>(
    c: &mut Criterion,
    provider: &str,
    parse: fn(&[u8]) -> Result<E, hookspec::runtime::ParseError>,
    direct: &[(&str, Direct<E>)],
) {
    let all = examples(provider, direct);
    let bytes: usize = all.iter().map(|(b, _)| b.len()).sum();
    let mut g = c.benchmark_group(format!("parse/{provider}"));
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("event_parse", |b| {
        b.iter(|| {
            for (body, _) in &all {
                std::hint::black_box(parse(std::hint::black_box(body)).unwrap());
            }
        })
    });
    g.bench_function("direct_struct", |b| {
        b.iter(|| {
            for (body, direct) in &all {
                std::hint::black_box(direct(std::hint::black_box(body)).unwrap());
            }
        })
    });
    g.bench_function("value", |b| {
        b.iter(|| {
            for (body, _) in &all {
                std::hint::black_box(
                    serde_json::from_slice::<serde_json::Value>(std::hint::black_box(body))
                        .unwrap(),
                );
            }
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    use hookspec::{belvo, bridge, plaid, vezgo};
    compare(
        c,
        "plaid",
        plaid::Event::parse,
        plaid::Event::DIRECT_PARSERS,
    );
    compare(
        c,
        "belvo",
        belvo::Event::parse,
        belvo::Event::DIRECT_PARSERS,
    );
    compare(
        c,
        "bridge",
        bridge::Event::parse,
        bridge::Event::DIRECT_PARSERS,
    );
    compare(
        c,
        "vezgo",
        vezgo::Event::parse,
        vezgo::Event::DIRECT_PARSERS,
    );
}

criterion_group!(parse, benches);
criterion_main!(parse);
