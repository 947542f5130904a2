//! How long the full suite takes per provider against the bundled reference receiver,
//! and how many deliveries per second the suite gets through at several concurrencies.
//!
//! Every iteration plays a freshly started receiver (started and stopped outside the
//! timing), so each run's deliveries are new to it as they are in a real first run.

use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use hookspec_codegen::ProviderSpec;
use std::collections::BTreeMap;

use hookspec_conformance::keys::{self, KeyRing, KeyServer};
use hookspec_conformance::{bundled, Credentials, Suite};
use tokio::runtime::Runtime;

struct Bench {
    runtime: Runtime,
    specs: Vec<ProviderSpec>,
    rings: BTreeMap<String, KeyRing>,
    keys: KeyServer,
}

impl Bench {
    fn new() -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let specs = hookspec_conformance::specs::builtin_all().expect("built-in specs");
        let rings = keys::rings(&specs, |p| {
            Some(hookspec_signer::test_signing_key(&format!("{p} bench")))
        });
        let keys = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind the key endpoint");
            KeyServer::start(listener, keys::sources(&specs, &rings)).expect("start the key server")
        });
        Bench {
            runtime,
            specs,
            rings,
            keys,
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials {
            jwt_keys: self.rings.clone(),
            ..Credentials::test()
        }
    }

    /// Total time of `iters` runs of `suite`, each against a receiver of its own; panics
    /// when a case fails, since a failing run measures something else.
    fn time_runs(&self, suite: &Suite, iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let receiver = self
                .runtime
                .block_on(bundled::start(&self.specs, &self.keys.base_urls(), &[]))
                .expect("start the reference receiver");
            let url = receiver.url();
            let start = Instant::now();
            let report = self.runtime.block_on(suite.run(&url)).expect("suite runs");
            total += start.elapsed();
            assert!(report.passed(), "{}", report.to_pretty());
            self.runtime
                .block_on(receiver.shutdown(Duration::from_secs(1)));
        }
        total
    }
}

fn suites(c: &mut Criterion) {
    let bench = Bench::new();

    // The CLI's defaults (concurrency 4, a 2 s slow-body case), so the numbers are what a
    // user waits for.
    let mut group = c.benchmark_group("full_suite");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(10));
    for spec in &bench.specs {
        let suite = Suite::from_specs(vec![spec.clone()]).credentials(bench.credentials());
        group.bench_function(spec.provider.as_str(), |b| {
            b.iter_custom(|iters| bench.time_runs(&suite, iters))
        });
    }
    group.finish();

    let deliver = Suite::from_specs(bench.specs.clone())
        .credentials(bench.credentials())
        .only("*/deliver/*");
    let deliveries = deliver.cases().expect("cases").len() as u64;
    let mut group = c.benchmark_group("deliveries");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(deliveries));
    for concurrency in [1, 4, 16] {
        let suite = deliver.clone().concurrency(concurrency);
        group.bench_with_input(
            BenchmarkId::new("concurrency", concurrency),
            &suite,
            |b, suite| b.iter_custom(|iters| bench.time_runs(suite, iters)),
        );
    }
    group.finish();

    bench.runtime.block_on(bench.keys.shutdown());
}

criterion_group!(benches, suites);
criterion_main!(benches);
