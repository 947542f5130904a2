//! The open-format commands as a user runs them: `export` writes what `generate` keeps in
//! `generated/`, and `import-openapi` writes a skeleton that names every fact to fill in and
//! never overwrites a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("xtask runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn export_writes_the_checked_in_documents() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    for (format, sub, ext) in [
        ("openapi", "generated/openapi", "openapi.json"),
        ("asyncapi", "generated/asyncapi", "asyncapi.json"),
    ] {
        let out = xtask(&["export", format, "--provider", "vezgo", "--out", out_dir]);
        assert!(out.status.success(), "{}", text(&out));
        let file = format!("vezgo.{ext}");
        let written = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        let kept = std::fs::read_to_string(root().join(sub).join(&file)).unwrap();
        assert_eq!(written, kept, "{format}");
    }
    // Only the provider asked for.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    let out = xtask(&["export", "openapi", "--provider", "nope", "--out", out_dir]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no provider `nope` in spec/"),
        "{}",
        text(&out)
    );
}

#[test]
fn import_openapi_names_each_fact_to_fill_in_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("acme.yaml");
    let fixture = root().join("codegen/tests/fixtures/openapi/acme.yaml");
    let args = [
        "import-openapi",
        fixture.to_str().unwrap(),
        "--provider",
        "acme",
        "--out",
        target.to_str().unwrap(),
    ];
    let out = xtask(&args);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("3 event(s)"), "{said}");
    for fact in [
        "delivery.source_ips",
        "delivery.timeout",
        "delivery.success",
        "delivery.retry.schedule",
        "auth",
    ] {
        assert!(
            said.contains(&format!("{fact} is not filled in")),
            "{fact}: {said}"
        );
    }
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.contains("provider: acme"));

    std::fs::write(&target, "mine").unwrap();
    let out = xtask(&args);
    assert!(!out.status.success());
    assert!(text(&out).contains("never overwritten"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine");
}
