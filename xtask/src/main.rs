//! `cargo xtask`: the project's generator and spec tools.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use hookspec_codegen::generate;

mod features;
mod fuzz_providers;
mod fuzz_seeds;

#[derive(Parser)]
#[command(about = "hookspec developer tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate every output from spec/*.yaml.
    Generate {
        /// Write nothing; fail naming each stale or missing file.
        #[arg(long)]
        check: bool,
    },
    /// Write starting corpora for the fuzz targets (`fuzz/corpus/<target>/`) from the
    /// specs, the refused specs, the documented examples and the test vectors.
    FuzzSeeds {
        /// Where to write them.
        #[arg(long, default_value = "fuzz/corpus")]
        out: PathBuf,
    },
    /// One line per event: provider, event name, discriminator values.
    ListEvents {
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
    },
    /// One line per follow-up call: provider, event, method, path template.
    ListEndpoints {
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
    },
    /// Write each provider's webhooks as an OpenAPI 3.1 or AsyncAPI 3.0 document (the files
    /// `generate` keeps under generated/openapi and generated/asyncapi).
    Export {
        /// Which format.
        format: ExportFormat,
        /// Only this provider.
        #[arg(long)]
        provider: Option<String>,
        /// Where to write (default: the format's directory under generated/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a commented spec/NAME.yaml that validates.
    NewProvider {
        /// Lower snake_case provider name.
        name: String,
    },
    /// Write a spec skeleton from an OpenAPI 3.0/3.1 document (YAML or JSON). Delivery and
    /// auth come out as `FILL IN` values the loader refuses until they are replaced.
    ImportOpenapi {
        /// The OpenAPI document.
        file: PathBuf,
        /// Lower snake_case provider name.
        #[arg(long)]
        provider: String,
        /// Take events from the component schemas whose names match this glob (e.g.
        /// `*Webhook`) instead of the document's `webhooks`.
        #[arg(long)]
        schemas: Option<String>,
        /// The body fields whose values pick the event, comma-separated (e.g.
        /// `webhook_type,webhook_code`); found from single-value enums when not given.
        #[arg(long, value_delimiter = ',')]
        discriminator: Option<Vec<String>>,
        /// Where to write the skeleton; `spec/NAME.yaml` by default. Never overwritten.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// OpenAPI 3.1: events under `webhooks`, API endpoints under `paths`.
    Openapi,
    /// AsyncAPI 3.0: one HTTP channel, a message and a `receive` operation per event.
    Asyncapi,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

/// Where the test vectors go; not under codegen's `GENERATED_DIRS` because the signer, not
/// codegen, makes them.
const VECTOR_DIR: &str = "generated/test-vectors";

/// `generated/test-vectors/<provider>.json`: signed deliveries and attacks with their
/// expected outcome, for verifiers in any language (see `hookspec_signer::test_vectors`).
fn test_vectors(spec: &hookspec_codegen::model::ProviderSpec) -> generate::Output {
    let mut contents = serde_json::to_string_pretty(&hookspec_signer::test_vectors(spec))
        .expect("JSON values always serialize");
    contents.push('\n');
    generate::Output {
        path: Path::new(VECTOR_DIR).join(format!("{}.json", spec.provider)),
        contents,
    }
}

/// `generated/test-vectors/vectors.schema.json`: the vector files' JSON Schema.
fn vectors_schema() -> generate::Output {
    let mut contents = serde_json::to_string_pretty(&hookspec_signer::vectors_schema())
        .expect("JSON values always serialize");
    contents.push('\n');
    generate::Output {
        path: Path::new(VECTOR_DIR).join(hookspec_signer::VECTORS_SCHEMA_FILE),
        contents,
    }
}

/// [`generate::orphans`] plus the vector files no longer produced (a removed provider's).
/// JSON carries no `@generated` marker, so every `.json` in [`VECTOR_DIR`] counts as ours.
fn orphans(root: &Path, outputs: &[generate::Output]) -> Vec<PathBuf> {
    let mut found = generate::orphans(root, outputs);
    let entries = std::fs::read_dir(root.join(VECTOR_DIR))
        .into_iter()
        .flatten();
    found.extend(
        entries
            .flatten()
            .map(|e| Path::new(VECTOR_DIR).join(e.file_name()))
            .filter(|rel| rel.extension().is_some_and(|x| x == "json"))
            .filter(|rel| !outputs.iter().any(|o| &o.path == rel)),
    );
    found.sort();
    found
}

/// The specs in spec/, or only `provider`'s; an unknown provider is an error.
fn chosen_specs(root: &Path, provider: Option<&str>) -> Result<Vec<hookspec_codegen::LoadedSpec>> {
    let specs =
        hookspec_codegen::load_dir(&root.join("spec")).map_err(|e| anyhow::anyhow!("{e}"))?;
    match provider {
        None => Ok(specs),
        Some(p) => {
            let chosen: Vec<_> = specs.into_iter().filter(|s| s.spec.provider == p).collect();
            if chosen.is_empty() {
                bail!("no provider `{p}` in spec/");
            }
            Ok(chosen)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = workspace_root();
    match cli.command {
        Command::Generate { check } => {
            let (specs, mut outputs) =
                generate::outputs(&root).map_err(|e| anyhow::anyhow!("{e}"))?;
            outputs.extend(specs.iter().map(|s| test_vectors(&s.spec)));
            outputs.push(vectors_schema());
            // Each spec's module sits behind a cargo feature of `hookspec`, written into the
            // manifest's provider block.
            let providers: Vec<_> = specs
                .iter()
                .map(|s| hookspec_codegen::ir::lower(&s.spec))
                .collect();
            outputs.push(fuzz_providers::output(&providers));
            let mut stale = generate::stale(&root, &outputs);
            if features::sync(&root, &providers, check)? {
                stale.push(root.join("generated/Cargo.toml"));
            }
            let orphans = orphans(&root, &outputs);
            if check {
                for p in &stale {
                    eprintln!("stale: {}", p.display());
                }
                for p in &orphans {
                    eprintln!("no longer generated: {}", p.display());
                }
                let n = stale.len() + orphans.len();
                if n > 0 {
                    bail!("{n} generated file(s) are out of date: run `cargo xtask generate` and commit");
                }
                println!("{} generated files are up to date", outputs.len());
            } else {
                for o in outputs.iter().filter(|o| stale.contains(&o.path)) {
                    let path = root.join(&o.path);
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    std::fs::write(&path, &o.contents)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("wrote {}", o.path.display());
                }
                for p in &orphans {
                    std::fs::remove_file(root.join(p))
                        .with_context(|| format!("removing {}", p.display()))?;
                    println!("removed {} (no longer generated)", p.display());
                }
                println!(
                    "{} generated files, {} rewritten, {} removed",
                    outputs.len(),
                    stale.len(),
                    orphans.len()
                );
            }
        }
        Command::FuzzSeeds { out } => {
            let out = if out.is_absolute() {
                out
            } else {
                root.join(out)
            };
            for (target, n) in fuzz_seeds::write(&root, &out)? {
                println!("{target}: {n} seeds in {}", out.join(target).display());
            }
        }
        Command::ListEvents { provider } => {
            let chosen = chosen_specs(&root, provider.as_deref())?;
            for line in generate::list_events(chosen.iter().map(|s| &s.spec)) {
                println!("{line}");
            }
        }
        Command::ListEndpoints { provider } => {
            let chosen: Vec<_> = chosen_specs(&root, provider.as_deref())?
                .iter()
                .map(|s| hookspec_codegen::ir::lower(&s.spec))
                .collect();
            for line in hookspec_codegen::emit_follow_up::list_endpoints(&chosen) {
                println!("{line}");
            }
        }
        Command::Export {
            format,
            provider,
            out,
        } => {
            let emit = match format {
                ExportFormat::Openapi => hookspec_codegen::emit_openapi::output,
                ExportFormat::Asyncapi => hookspec_codegen::emit_asyncapi::output,
            };
            for s in chosen_specs(&root, provider.as_deref())? {
                let o = emit(&hookspec_codegen::ir::lower(&s.spec));
                let path = match &out {
                    Some(dir) => dir.join(o.path.file_name().expect("outputs are files")),
                    None => root.join(&o.path),
                };
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, &o.contents)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
        }
        Command::NewProvider { name } => {
            let path = root.join("spec").join(format!("{name}.yaml"));
            if path.exists() {
                bail!("{} already exists", path.display());
            }
            let text = hookspec_codegen::scaffold::new_provider(&name);
            hookspec_codegen::load_str(&path.display().to_string(), &text)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&path, text)?;
            println!(
                "wrote {}; edit it, then run `cargo xtask generate`",
                path.display()
            );
        }
        Command::ImportOpenapi {
            file,
            provider,
            schemas,
            discriminator,
            out,
        } => import_openapi(&root, &file, provider, schemas, discriminator, out)?,
    }
    Ok(())
}

fn import_openapi(
    root: &Path,
    file: &Path,
    provider: String,
    schemas: Option<String>,
    discriminator: Option<Vec<String>>,
    out: Option<PathBuf>,
) -> Result<()> {
    use hookspec_codegen::import_openapi as import;
    let valid_name = provider.starts_with(|c: char| c.is_ascii_lowercase())
        && provider
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_name {
        bail!("--provider `{provider}` must be lower snake_case (e.g. `acme` or `acme_pay`)");
    }
    let path = out.unwrap_or_else(|| root.join("spec").join(format!("{provider}.yaml")));
    if path.exists() {
        bail!(
            "{} already exists; it is never overwritten (pass --out elsewhere, or remove it)",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let opts = import::Options {
        provider,
        schemas,
        discriminator,
    };
    let done = import::import(&text, &opts).with_context(|| format!("{}", file.display()))?;
    std::fs::write(&path, &done.yaml).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {}: {} event(s), {} shared type(s)",
        path.display(),
        done.events,
        done.types
    );
    for s in &done.skipped {
        println!("  not carried over: {s}");
    }
    let shown = path.display().to_string();
    let report = |heading: &str, e: hookspec_codegen::SpecError| {
        println!("{heading} ({}):", e.diagnostics.len());
        for d in &e.diagnostics {
            println!(
                "  {}:{}:{}: {}",
                d.file, d.pos.line, d.pos.column, d.message
            );
        }
    };
    if let Err(e) = hookspec_codegen::load_str(&shown, &done.yaml) {
        report("to fill in before the spec loads", e);
    }
    // What the loader will say once those are filled: checked with stand-in values.
    if let Err(e) = hookspec_codegen::load_str(&shown, &import::stand_in(&done.yaml)) {
        report("once they are filled in, the loader will also report", e);
    }
    Ok(())
}
