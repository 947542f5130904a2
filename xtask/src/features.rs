//! The `hookspec` crate's cargo features for the specs: each provider module sits behind a
//! feature named after it (`hookspec_codegen::emit_rust::feature`), and `providers` turns
//! all of them on (it is in `default`, and the workspace depends on it). `generate` writes
//! that block of `generated/Cargo.toml`, so a new spec needs no manifest edit.

use std::path::Path;

use anyhow::{bail, Context};
use hookspec_codegen::ir::Provider;

const BEGIN: &str = "# BEGIN provider features (written by `cargo xtask generate`)\n";
const END: &str = "# END provider features\n";
const MANIFEST: &str = "generated/Cargo.toml";

/// The block of provider features for `providers`.
fn block(providers: &[Provider]) -> String {
    let names: Vec<&str> = providers
        .iter()
        .map(hookspec_codegen::emit_rust::feature)
        .collect();
    let all: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let mut out = format!("{BEGIN}providers = [{}]\n", all.join(", "));
    for n in &names {
        out.push_str(&format!("{n} = []\n"));
    }
    out.push_str(END);
    out
}

/// Brings the manifest's provider block up to date; with `check`, only says whether it
/// is. `Ok(true)` when it was (or, checking, is) stale.
pub fn sync(root: &Path, providers: &[Provider], check: bool) -> anyhow::Result<bool> {
    let path = root.join(MANIFEST);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {MANIFEST}"))?;
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!(
            "{MANIFEST} lacks the provider feature block (`{}` ... `{}`)",
            BEGIN.trim(),
            END.trim()
        );
    };
    let updated = format!(
        "{}{}{}",
        &text[..start],
        block(providers),
        &text[end + END.len()..]
    );
    if updated == text {
        return Ok(false);
    }
    if !check {
        std::fs::write(&path, updated).with_context(|| format!("writing {MANIFEST}"))?;
    }
    Ok(true)
}
