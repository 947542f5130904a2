//! The catalogue of broken specs: each file in `bad-specs/` is the minimal valid spec
//! (`fixtures/minimal.yaml`) with exactly one defect, and its diagnostics are snapshotted
//! so a change in what the loader says (or where it points) shows up in review.

use std::path::Path;

use hookspec_codegen::load_str;

const MINIMAL: &str = include_str!("../fixtures/minimal.yaml");

#[test]
fn minimal_spec_is_valid() {
    if let Err(e) = load_str("fixtures/minimal.yaml", MINIMAL) {
        panic!("the catalogue's base spec must load:\n{e}");
    }
}

/// The base of the `api:` and `follow_up` bad specs: `minimal.yaml` with an API section.
const WITH_API: &str = include_str!("../fixtures/with-api.yaml");

#[test]
fn spec_with_api_is_valid() {
    if let Err(e) = load_str("fixtures/with-api.yaml", WITH_API) {
        panic!("the API catalogue's base spec must load:\n{e}");
    }
}

#[test]
fn bad_specs_are_refused_with_positioned_diagnostics() {
    insta::glob!("../bad-specs", "*.yaml", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let file = format!("bad-specs/{name}");
        let text = std::fs::read_to_string(path).expect("read bad spec");
        let error = match load_str(&file, &text) {
            Ok(_) => panic!("{file} loaded, but it has a deliberate defect"),
            Err(e) => e,
        };
        assert!(
            !error.diagnostics.is_empty(),
            "{file}: an error without diagnostics"
        );
        let lines = text.lines().count().max(1);
        for d in &error.diagnostics {
            assert_eq!(d.file, file);
            assert!(d.pos.line >= 1, "{file}: line 0 in {d}");
            assert!(d.pos.column >= 1, "{file}: column 0 in {d}");
            assert!(
                d.pos.line <= lines + 1,
                "{file}: line {} is past the end of the file in {d}",
                d.pos.line
            );
            assert!(!d.message.trim().is_empty(), "{file}: empty message in {d}");
            assert!(!d.path.is_empty(), "{file}: empty key path in {d}");
        }
        insta::assert_snapshot!(error.to_string());
    });
}

#[test]
fn bad_spec_names_are_kebab_case() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-specs");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("bad-specs directory") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let stem = name
            .strip_suffix(".yaml")
            .unwrap_or_else(|| panic!("{name}: only .yaml files belong here"));
        assert!(
            !stem.is_empty()
                && !stem.starts_with('-')
                && !stem.ends_with('-')
                && !stem.contains("--")
                && stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{name}: name bad specs in kebab-case after their defect"
        );
        count += 1;
    }
    assert!(count >= 30, "the catalogue has only {count} bad specs");
}

/// Runs the loader on `text`, failing the test (with the input) if it panics.
fn never_panics(what: &str, text: &str) {
    let result = std::panic::catch_unwind(|| {
        let _ = load_str("fuzz.yaml", text);
    });
    if result.is_err() {
        panic!("the loader panicked on {what}:\n{text}");
    }
}

/// A small deterministic generator (xorshift64*), so failures reproduce without extra crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn garbage_and_truncated_inputs_never_panic() {
    let mut inputs = 0;

    // Every prefix cut at a line end, and cut in the middle of each line.
    let line_ends: Vec<usize> = MINIMAL.match_indices('\n').map(|(i, _)| i).collect();
    for (n, &end) in line_ends.iter().enumerate() {
        never_panics(&format!("the first {} lines", n + 1), &MINIMAL[..end]);
        let start = if n == 0 { 0 } else { line_ends[n - 1] + 1 };
        let mid = (start + end) / 2;
        if MINIMAL.is_char_boundary(mid) {
            never_panics(&format!("line {} cut in half", n + 1), &MINIMAL[..mid]);
            inputs += 1;
        }
        inputs += 1;
    }

    // Every line dropped in turn.
    let lines: Vec<&str> = MINIMAL.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        never_panics(&format!("line {} dropped", skip + 1), &text.join("\n"));
        inputs += 1;
    }

    // Random byte flips and splices of YAML punctuation, with a fixed seed.
    const NOISE: &[u8] = b"{}[]:,-?|>&*!%@#'\"\t\n \\0x";
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for round in 0..400 {
        let mut bytes = MINIMAL.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[i] ^= 1 << rng.below(8),
                1 => bytes[i] = NOISE[rng.below(NOISE.len())],
                2 => bytes.insert(i, NOISE[rng.below(NOISE.len())]),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        never_panics(&format!("mutation round {round}"), &text);
        inputs += 1;
    }

    // Degenerate documents.
    for text in [
        "",
        " ",
        "\n",
        "~",
        "null",
        "[]",
        "{}",
        "---",
        "--- |\n  x",
        "...",
        "a",
        "\t",
        "\u{feff}",
        "provider:",
        "provider: [",
        "{provider: {",
        "? [a]\n: b",
        "*a",
        "&a x",
        "!tag x",
        "provider: acme\n---\nprovider: other\n",
        "\"unterminated",
        "'x",
        "- - - -",
    ] {
        never_panics("a degenerate document", text);
        inputs += 1;
    }
    // Deep nesting must be refused, not overflow the stack (which would abort, not panic).
    for depth in [10, 30, 64, 65, 100, 300, 1_000, 5_000] {
        let block: String = (0..depth)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let wide: String = (0..depth)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        let deep_type = MINIMAL.replacen(
            "types:\n",
            &format!(
                "types:\n  Deep: {}{{type: string}}{}\n",
                "{type: object, fields: {x: ".repeat(depth),
                "}}".repeat(depth)
            ),
            1,
        );
        for text in [
            format!("provider: {}{}", "[".repeat(depth), "]".repeat(depth)),
            format!("provider: {}", "{a: ".repeat(depth)),
            format!("docs:\n{}x\n", "- ".repeat(depth)),
            format!("types:\n{block}"),
            format!("types:\n{wide}"),
            deep_type,
        ] {
            never_panics(&format!("nesting {depth} deep"), &text);
            inputs += 1;
        }
    }

    // Characters YAML does not allow, and a byte order mark.
    for c in [
        '\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{feff}', '\u{fffe}', '\r',
    ] {
        for at in [0, MINIMAL.len() / 2, MINIMAL.len()] {
            let at = (0..=at)
                .rev()
                .find(|i| MINIMAL.is_char_boundary(*i))
                .unwrap_or(0);
            let text = format!("{}{c}{}", &MINIMAL[..at], &MINIMAL[at..]);
            never_panics(&format!("U+{:04X} at byte {at}", u32::from(c)), &text);
            inputs += 1;
        }
    }
    assert!(inputs >= 300, "only {inputs} inputs were tried");
}
