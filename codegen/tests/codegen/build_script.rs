//! `build::Build` as a build script uses it: `$OUT_DIR/<provider>.rs` from a spec, or the
//! spec's diagnostics.

use std::path::Path;

use hookspec_codegen::build::Build;

#[test]
fn writes_the_module_or_reports_the_spec() {
    let out = std::env::temp_dir().join(format!("hookspec-build-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    // The only test in this binary, so setting the variable races with nothing.
    std::env::set_var("OUT_DIR", &out);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emit-fixture.yaml");

    let written = Build::new().spec(&fixture).try_run().unwrap();
    assert_eq!(written, [out.join("fixture.rs")]);
    let text = std::fs::read_to_string(&written[0]).unwrap();
    assert!(text.contains("\npub mod fixture {\n"));
    assert!(text.contains("::hookspec::runtime::") && !text.contains("hookspec_runtime"));

    let broken = out.join("broken.yaml");
    let yaml = std::fs::read_to_string(&fixture).unwrap();
    std::fs::write(&broken, yaml.replacen("timeout: 5s", "timeout: soon", 1)).unwrap();
    let err = Build::new().spec(&broken).try_run().unwrap_err();
    let line = yaml
        .lines()
        .position(|l| l.contains("timeout: 5s"))
        .unwrap()
        + 1;
    assert!(
        err.starts_with(&format!("{}:{line}:", broken.display())),
        "{err}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
