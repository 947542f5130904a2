//! Parses every documented example of one provider 100 times, one way, for counting
//! instructions with callgrind (wall clock on shared machines is too noisy to compare):
//!
//! ```sh
//! cargo build --release -p hookspec --example parse_cost
//! for mode in setup parse direct; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/parse_cost plaid $mode 2>&1 | grep refs
//! done
//! ```
//!
//! `(parse - setup) / (direct - setup)` is the cost of `Event::parse` relative to
//! `serde_json::from_slice` straight into each example's own struct.

use hookspec::runtime::{DirectParser, ParseError};

fn examples<E>(
    provider: &str,
    direct: &[(&str, DirectParser<E>)],
) -> Vec<(Vec<u8>, DirectParser<E>)> {
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

fn run<E>(
    provider: &str,
    mode: &str,
    parse: fn(&[u8]) -> Result<E, ParseError>,
    direct: &[(&str, DirectParser<E>)],
) {
    let all = examples(provider, direct);
    for _ in 0..100 {
        for (body, direct) in &all {
            match mode {
                "parse" => drop(std::hint::black_box(
                    parse(std::hint::black_box(body)).expect("parses"),
                )),
                "direct" => drop(std::hint::black_box(
                    direct(std::hint::black_box(body)).expect("parses"),
                )),
                _ => {}
            }
        }
    }
}

fn main() {
    use hookspec::{belvo, bridge, plaid, vezgo};
    let args: Vec<String> = std::env::args().collect();
    let (provider, mode) = match args.as_slice() {
        [_, p, m] if ["setup", "parse", "direct"].contains(&m.as_str()) => (p.as_str(), m.as_str()),
        _ => {
            eprintln!("usage: parse_cost <provider> setup|parse|direct");
            std::process::exit(2);
        }
    };
    match provider {
        "plaid" => run(
            provider,
            mode,
            plaid::Event::parse,
            plaid::Event::DIRECT_PARSERS,
        ),
        "belvo" => run(
            provider,
            mode,
            belvo::Event::parse,
            belvo::Event::DIRECT_PARSERS,
        ),
        "bridge" => run(
            provider,
            mode,
            bridge::Event::parse,
            bridge::Event::DIRECT_PARSERS,
        ),
        "vezgo" => run(
            provider,
            mode,
            vezgo::Event::parse,
            vezgo::Event::DIRECT_PARSERS,
        ),
        other => {
            eprintln!(
                "unknown provider `{other}`; one of {:?}",
                hookspec::PROVIDERS
            );
            std::process::exit(2);
        }
    }
}
