//! Embeds every `spec/*.yaml` of the workspace so `Suite::provider("plaid")` works
//! without a spec directory at run time, and a provider added as YAML is embedded with no
//! Rust written.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    // By stem, the provider name (`belvo` before `belvo-institution-status`).
    files.sort_by(|a: &std::path::PathBuf, b| a.file_stem().cmp(&b.file_stem()));
    let mut table = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        table.push_str(&format!(
            "    ({stem:?}, {:?}, include_str!({:?})),\n",
            format!("spec/{stem}.yaml"),
            f.canonicalize()
                .unwrap_or_else(|_| f.clone())
                .display()
                .to_string()
        ));
    }
    table.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("specs.rs");
    std::fs::write(out, table).expect("write the embedded spec table");
}
