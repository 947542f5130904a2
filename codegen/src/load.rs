//! Loading spec files: YAML parse, typed deserialization, then semantic validation,
//! every failure reported with file, line, column and key path.

use std::path::{Path as FsPath, PathBuf};

use marked_yaml::LoadError;

use crate::diagnostic::{did_you_mean, Diagnostic, Reporter, SpecError};
use crate::model::ProviderSpec;
use crate::validate;
use crate::yaml::{self, Path, Pos, Positions, Seg};

/// A spec that parsed and passed validation, with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The file it was read from.
    pub file: PathBuf,
    /// The validated model.
    pub spec: ProviderSpec,
}

/// Parses and validates one spec given as text. `file` is only used in diagnostics.
pub fn load_str(file: &str, text: &str) -> Result<ProviderSpec, SpecError> {
    let node = marked_yaml::parse_yaml_with_options(
        0,
        text,
        marked_yaml::LoaderOptions::default()
            .error_on_duplicate_keys(true)
            .prevent_coercion(true),
    )
    .map_err(|e| yaml_error(file, &e))?;
    let (value, positions) = yaml::to_json(&node);
    let spec: ProviderSpec = serde_path_to_error::deserialize(value.clone())
        .map_err(|e| serde_error(file, &positions, &value, e))?;
    let mut reporter = Reporter::new(file, &positions);
    validate::validate(&spec, file, &mut reporter);
    reporter.finish()?;
    Ok(spec)
}

/// Reads, parses and validates one spec file.
pub fn load_file(path: &FsPath) -> Result<LoadedSpec, SpecError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SpecError {
        diagnostics: vec![Diagnostic {
            file: file.clone(),
            pos: Pos { line: 1, column: 1 },
            path: Path::root().to_string(),
            message: format!("cannot read the file: {e}"),
            hint: None,
        }],
    })?;
    let spec = load_str(&file, &text)?;
    Ok(LoadedSpec {
        file: path.to_owned(),
        spec,
    })
}

/// Every `*.yaml` file in `dir`, sorted by name.
pub fn spec_files(dir: &FsPath) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads every spec in `dir`; on failure returns every file's diagnostics together.
pub fn load_dir(dir: &FsPath) -> Result<Vec<LoadedSpec>, SpecError> {
    let files = spec_files(dir).map_err(|e| SpecError {
        diagnostics: vec![Diagnostic {
            file: dir.display().to_string(),
            pos: Pos { line: 1, column: 1 },
            path: Path::root().to_string(),
            message: format!("cannot list the spec directory: {e}"),
            hint: None,
        }],
    })?;
    let mut specs = Vec::new();
    let mut diagnostics = Vec::new();
    for f in files {
        match load_file(&f) {
            Ok(s) => specs.push(s),
            Err(e) => diagnostics.extend(e.diagnostics),
        }
    }
    if diagnostics.is_empty() {
        Ok(specs)
    } else {
        Err(SpecError { diagnostics })
    }
}

fn single(file: &str, pos: Pos, path: &Path, message: String, hint: Option<String>) -> SpecError {
    SpecError {
        diagnostics: vec![Diagnostic {
            file: file.to_owned(),
            pos,
            path: path.to_string(),
            message,
            hint,
        }],
    }
}

fn yaml_error(file: &str, e: &LoadError) -> SpecError {
    let at = |m: &marked_yaml::Marker| Pos {
        line: m.line(),
        column: m.column(),
    };
    let root = Path::root();
    let (pos, message, hint) = match e {
        LoadError::TopLevelMustBeMapping(m) => (
            at(m),
            "the document must be a mapping of spec keys".to_owned(),
            Some("a spec starts with `provider: <name>`".to_owned()),
        ),
        LoadError::TopLevelMustBeSequence(m) => {
            (at(m), "the document must be a sequence".to_owned(), None)
        }
        LoadError::UnexpectedAnchor(m) => (
            at(m),
            "YAML anchors and aliases are not supported in specs".to_owned(),
            Some("use a shared type under `types:` and `ref:` it instead".to_owned()),
        ),
        LoadError::MappingKeyMustBeScalar(m) => {
            (at(m), "mapping keys must be plain strings".to_owned(), None)
        }
        LoadError::UnexpectedTag(m) => (
            at(m),
            "YAML tags (`!something`) are not supported in specs".to_owned(),
            None,
        ),
        LoadError::ScanError(m, s) => (at(m), format!("invalid YAML: {}", scan_message(s)), None),
        LoadError::DuplicateKey(d) => {
            let first = d.prev_key.span().start().map(|m| m.line()).unwrap_or(0);
            let pos = d
                .key
                .span()
                .start()
                .map(at)
                .unwrap_or(Pos { line: 1, column: 1 });
            (
                pos,
                format!(
                    "duplicate key `{}` (first defined on line {first})",
                    d.key.as_str()
                ),
                Some("each key may appear once per mapping".to_owned()),
            )
        }
    };
    single(file, pos, &root, message, hint)
}

/// The scanner's message without its own position suffix (we print ours).
fn scan_message(s: &impl std::fmt::Display) -> String {
    let text = s.to_string();
    match text.find(" at byte ").or_else(|| text.find(" at line ")) {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn serde_error(
    file: &str,
    positions: &Positions,
    doc: &serde_json::Value,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> SpecError {
    let mut path = Path::root();
    for seg in e.path().iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => path = path.index(*index),
            serde_path_to_error::Segment::Map { key } => path = path.key(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => path = path.key(variant.clone()),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    let raw = e.inner().to_string();
    let (message, hint, pos) = explain(&raw, &path, positions, doc);
    single(file, pos, &path, message, hint)
}

/// Turns serde's message into ours, with a "did you mean" where a name is close.
fn explain(
    raw: &str,
    path: &Path,
    positions: &Positions,
    doc: &serde_json::Value,
) -> (String, Option<String>, Pos) {
    for what in ["field", "variant"] {
        let prefix = format!("unknown {what} `");
        if let Some(rest) = raw.strip_prefix(&prefix) {
            let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
            let expected = backticked(tail);
            let hint = did_you_mean(name, expected.iter().map(String::as_str))
                .map(|m| format!("did you mean `{m}`?"));
            let expected_text = if expected.is_empty() {
                "no keys here".to_owned()
            } else {
                format!(
                    "expected one of {}",
                    expected
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            // An unknown field's own key is the thing to point at.
            let own_key = match what {
                "field" => positions.contains(&path.key(name)),
                _ => positions.contains(path) && !is_scalar_at(doc, path),
            };
            let pos = if own_key {
                positions.key(&path.key(name))
            } else {
                positions.value(path)
            };
            return (
                format!("unknown {what} `{name}`, {expected_text}"),
                hint,
                pos,
            );
        }
    }
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return (
            format!("missing required key `{name}`"),
            Some(format!("add `{name}:` to this mapping")),
            positions.key(path),
        );
    }
    (
        raw.replace("invalid type: ", "wrong type: "),
        None,
        positions.value(path),
    )
}

fn is_scalar_at(doc: &serde_json::Value, path: &Path) -> bool {
    let mut cur = doc;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(k) => cur.get(k),
            Seg::Index(i) => cur.get(i),
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    !cur.is_object() && !cur.is_array()
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}
