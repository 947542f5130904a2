//! Loading spec files: YAML parse, typed deserialization, then semantic validation,
//! every failure reported with file, line, column and key path.

use std::path::{Path as FsPath, PathBuf};

use marked_yaml::types::Node;
use marked_yaml::LoadError;
use serde_json::Value;

use crate::diagnostic::{did_you_mean, lookup, node_pos, Diagnostic, Reporter, SpecError};
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

/// Deepest nesting of mappings and lists a spec may have. Real specs stay far below it;
/// much deeper input would exhaust the stack of the recursive steps after parsing.
const MAX_DEPTH: usize = 64;

/// A coarse bound on nesting, estimated from the text before parsing (the parser itself
/// recurses per level): indentation plus open flow brackets.
const MAX_TEXT_DEPTH: usize = 320;

/// Parses and validates one spec given as text. `file` is only used in diagnostics.
pub fn load_str(file: &str, text: &str) -> Result<ProviderSpec, SpecError> {
    // A byte order mark may start the file; the parser would take it for part of a key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some((pos, c)) = source::control_char(text) {
        return Err(single(
            file,
            pos,
            &source::path_at(text, pos.line),
            format!(
                "the file contains the character U+{:04X}, which YAML does not allow",
                u32::from(c)
            ),
            Some(
                "remove it (at some such characters the YAML parser silently stops reading)"
                    .to_owned(),
            ),
        ));
    }
    if let Some(pos) = source::too_deep(text, MAX_TEXT_DEPTH) {
        return Err(too_deep(file, text, pos));
    }
    let node = marked_yaml::parse_yaml_with_options(
        0,
        text,
        marked_yaml::LoaderOptions::default()
            .error_on_duplicate_keys(true)
            .prevent_coercion(true),
    )
    .map_err(|e| yaml_error(file, text, &e))?;
    if let Some(pos) = second_document(text) {
        return Err(single(
            file,
            pos,
            &Path::root(),
            "a second YAML document starts here; a spec file holds exactly one".to_owned(),
            Some(
                "remove the `---` (or `...`) line and what follows, or move it to its own file"
                    .to_owned(),
            ),
        ));
    }
    if let Some(pos) = node_too_deep(&node, MAX_DEPTH) {
        return Err(too_deep(file, text, pos));
    }
    let (value, positions) = yaml::to_json(&node);
    if value.as_object().is_some_and(|m| m.is_empty()) {
        return Err(single(
            file,
            Pos { line: 1, column: 1 },
            &Path::root(),
            "the spec is empty".to_owned(),
            Some(START_HINT.to_owned()),
        ));
    }
    unfilled(file, &value, &positions)?;
    let spec: ProviderSpec = serde_path_to_error::deserialize(value.clone())
        .map_err(|e| serde_error(file, &positions, &value, e))?;
    let mut reporter = Reporter::new(file, &positions)
        .with_document(&value)
        .with_source(text);
    validate::validate(&spec, file, &mut reporter);
    reporter.finish()?;
    Ok(spec)
}

/// Refuses a spec that still holds values starting with `FILL IN` (what
/// `cargo xtask import-openapi` writes for facts OpenAPI does not carry): one diagnostic
/// per value, naming its key path and what it asks for, before anything else is checked.
fn unfilled(file: &str, value: &Value, positions: &Positions) -> Result<(), SpecError> {
    let marker = crate::import_openapi::FILL_IN;
    let mut found = Vec::new();
    let mut stack = vec![(Path::root(), value)];
    while let Some((path, v)) = stack.pop() {
        match v {
            Value::String(s) if s.trim_start().starts_with(marker) => {
                let what = s.trim_start()[marker.len()..]
                    .trim_start_matches([':', ' '])
                    .trim();
                let what = if what.is_empty() { "a value" } else { what };
                found.push(Diagnostic {
                    file: file.to_owned(),
                    pos: positions.value(&path),
                    path: path.to_string(),
                    message: format!("{path} is not filled in: {what}"),
                    hint: Some(format!(
                        "replace the `{marker}` text with what the provider documents (the \
                         comment above it lists the forms); where it documents nothing, choose a \
                         value and say why under `delivery.assumed`"
                    )),
                });
            }
            Value::Object(m) => {
                for (k, c) in m.iter().rev() {
                    stack.push((path.key(k.clone()), c));
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate().rev() {
                    stack.push((path.index(i), c));
                }
            }
            _ => {}
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    found.sort_by_key(|d| d.pos);
    Err(SpecError { diagnostics: found })
}

const START_HINT: &str =
    "a spec is a mapping that starts with `provider: <name>` and `title: <Name>`; see spec/vezgo.yaml";

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

/// Every `*.yaml` file in `dir`, sorted by stem (the provider name: `belvo` before
/// `belvo-institution-status`, which a sort on the whole file name would reverse).
pub fn spec_files(dir: &FsPath) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort_by(|a, b| (a.file_stem(), a).cmp(&(b.file_stem(), b)));
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

fn too_deep(file: &str, text: &str, pos: Pos) -> SpecError {
    let mut path = source::path_at(text, pos.line);
    if path.0.len() > 8 {
        path.0.truncate(8);
        path = path.key("…");
    }
    single(
        file,
        pos,
        &path,
        format!("nested too deeply: a spec may nest mappings and lists at most {MAX_DEPTH} levels"),
        Some("move nested shapes to `types:` and `ref:` them".to_owned()),
    )
}

/// Where a second YAML document starts, if the text has one: the parser reads only the
/// first, so anything after a `---` or `...` line would be silently ignored.
fn second_document(text: &str) -> Option<Pos> {
    // Content seen in the current document; a `---` seen; a `...` seen.
    let (mut content, mut started, mut ended) = (false, false, false);
    for (i, line) in text.lines().enumerate() {
        let pos = Pos {
            line: i + 1,
            column: 1,
        };
        let marker = |m: &str| {
            line.strip_prefix(m)
                .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        let trimmed = line.trim_start();
        if let Some(rest) = marker("---") {
            if content || started || ended {
                return Some(pos);
            }
            started = true;
            let rest = rest.trim_start();
            content = !rest.is_empty() && !rest.starts_with('#');
        } else if marker("...").is_some() {
            ended = true;
        } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
            if ended {
                return Some(pos);
            }
            // Directives (`%YAML 1.2`) may precede the document's content.
            content = content || !trimmed.starts_with('%');
        }
    }
    None
}

/// Where the first node nested deeper than `max` levels is, if any (without recursing).
fn node_too_deep(node: &Node, max: usize) -> Option<Pos> {
    let at = |span: &marked_yaml::Span| {
        span.start().map(|m| Pos {
            line: m.line(),
            column: m.column(),
        })
    };
    let mut stack = vec![(node, 0, at(node.span()))];
    while let Some((n, depth, pos)) = stack.pop() {
        let children: Vec<(&Node, Option<Pos>)> = match n {
            Node::Mapping(m) => m.iter().map(|(k, v)| (v, at(k.span()))).collect(),
            Node::Sequence(s) => s.iter().map(|v| (v, at(v.span()))).collect(),
            Node::Scalar(_) => continue,
        };
        if depth >= max {
            return Some(pos.unwrap_or(Pos { line: 1, column: 1 }));
        }
        stack.extend(children.into_iter().map(|(c, p)| (c, depth + 1, p.or(pos))));
    }
    None
}

fn yaml_error(file: &str, text: &str, e: &LoadError) -> SpecError {
    let at = |m: &marked_yaml::Marker| Pos {
        line: m.line(),
        column: m.column(),
    };
    let (pos, message, hint) = match e {
        LoadError::TopLevelMustBeMapping(m) => (
            source::first_content(text).unwrap_or(at(m)),
            match source::describe_top(text) {
                "empty" => "the spec is empty".to_owned(),
                what => format!("the document is {what}, but a spec must be a mapping of keys"),
            },
            Some(START_HINT.to_owned()),
        ),
        LoadError::TopLevelMustBeSequence(m) => {
            (at(m), "the document must be a sequence".to_owned(), None)
        }
        LoadError::UnexpectedAnchor(m) => match source::prop_near(text, at(m), &['&', '*']) {
            Some((c, name, pos)) => (
                pos,
                format!(
                    "YAML {} `{c}{name}` is not supported in specs",
                    if c == '&' { "anchor" } else { "alias" }
                ),
                Some(ANCHOR_HINT.to_owned()),
            ),
            None => (
                at(m),
                "YAML anchors and aliases are not supported in specs".to_owned(),
                Some(ANCHOR_HINT.to_owned()),
            ),
        },
        LoadError::MappingKeyMustBeScalar(m) => (
            at(m),
            "a mapping key must be a plain name, not a list or mapping".to_owned(),
            Some("write `name: value`".to_owned()),
        ),
        LoadError::UnexpectedTag(m) => {
            let (pos, what) = match source::prop_near(text, at(m), &['!']) {
                Some((_, name, pos)) => (pos, format!("tag `!{name}` is")),
                None => (at(m), "tags are".to_owned()),
            };
            (
                pos,
                format!("YAML {what} not supported in specs"),
                Some("remove the tag: each key's type is fixed by the spec format".to_owned()),
            )
        }
        LoadError::ScanError(m, s) => scan_error(text, at(m), &scan_message(s)),
        LoadError::DuplicateKey(d) => {
            let (first_line, first_column) = d
                .prev_key
                .span()
                .start()
                .map_or((0, 0), |m| (m.line(), m.column()));
            let pos = d
                .key
                .span()
                .start()
                .map(at)
                .unwrap_or(Pos { line: 1, column: 1 });
            (
                pos,
                format!(
                    "duplicate key `{}` (first defined at line {first_line}, column {first_column})",
                    d.key.as_str()
                ),
                Some(
                    "each key may appear once per mapping; remove or merge one of them".to_owned(),
                ),
            )
        }
    };
    let path = match e {
        LoadError::TopLevelMustBeMapping(_) => Path::root(),
        _ => source::path_at(text, pos.line),
    };
    single(file, pos, &path, message, hint)
}

const ANCHOR_HINT: &str =
    "write the value out; to share a shape, declare it under `types:` and `ref:` it";

/// Explains a YAML scanner or parser error in terms of the spec text: where the real
/// mistake is (an unclosed bracket or quote, an indentation slip, a tab) and what to do.
fn scan_error(text: &str, at: Pos, raw: &str) -> (Pos, String, Option<String>) {
    let scan = source::scan(text, at, usize::MAX);
    let here = source::char_at(text, at);
    let gave_up = format!("line {}, column {}", at.line, at.column);
    if raw.contains("trailing content after") {
        let q = source::char_at(
            text,
            Pos {
                line: at.line,
                column: at.column.saturating_sub(1),
            },
        )
        .filter(|c| matches!(c, '"' | '\''))
        .unwrap_or('"');
        let (other, inside) = if q == '\'' {
            ('"', "write it twice (`''`)")
        } else {
            ('\'', "escape it (`\\\"`)")
        };
        return (
            at,
            format!("unexpected text after the closing `{q}` of a quoted value"),
            Some(format!(
                "to put `{q}` inside the value, {inside} or quote the value with `{other}` instead"
            )),
        );
    }
    if raw.contains("must be followed by a valid YAML whitespace") {
        return (
            source::first_tab(text, at.line).unwrap_or(at),
            "`:` must be followed by a space".to_owned(),
            Some("replace the tab after `:` with a space".to_owned()),
        );
    }
    let quote = scan
        .quote
        .or_else(|| here.filter(|c| matches!(c, '"' | '\'')).map(|c| (c, at)));
    if let (true, Some((q, pos))) = (raw.contains("quoted scalar"), quote) {
        return (
            pos,
            format!("the quoted string starting here is not closed with `{q}`"),
            Some(format!(
                "add the closing `{q}`; a quoted string continues on the next line only if that line is indented further"
            )),
        );
    }
    let flowish = raw.contains("flow ")
        || raw.contains("did not find expected ',' or")
        || raw.contains("illegal placement of ':'")
        || raw.contains("end of stream");
    if let (true, Some((open, pos))) = (flowish, scan.open.last()) {
        let close = if *open == '[' { ']' } else { '}' };
        return (
            *pos,
            format!(
                "`{open}` is not closed: no matching `{close}` before {gave_up}, where the YAML parser gave up"
            ),
            Some(format!("add the missing `{close}`")),
        );
    }
    if raw.contains("tabs disallowed") || (here == Some('\t')) {
        let pos = source::first_tab(text, at.line).unwrap_or(at);
        return (
            pos,
            "a tab is used for indentation; YAML indents with spaces only".to_owned(),
            Some("replace the tab with spaces".to_owned()),
        );
    }
    if let Some(c @ (']' | '}')) = here {
        let open = if c == ']' { '[' } else { '{' };
        return (
            at,
            format!("`{c}` closes nothing: there is no open `{open}` before it"),
            Some(format!("remove the extra `{c}`")),
        );
    }
    if raw.contains("unexpected character") || raw.contains("cannot start any token") {
        if let Some(c) = here {
            let what = match c {
                '`' => "a backtick".to_owned(),
                c => format!("`{c}`"),
            };
            return (
                at,
                format!("a plain value cannot start with {what}"),
                Some("put the value in quotes".to_owned()),
            );
        }
    }
    if raw.contains("found unknown anchor") {
        let (pos, what) = match source::prop_near(text, at, &['*']) {
            Some((_, name, pos)) => (pos, format!("alias `*{name}` is")),
            None => (at, "aliases are".to_owned()),
        };
        return (
            pos,
            format!("YAML {what} not supported in specs"),
            Some(ANCHOR_HINT.to_owned()),
        );
    }
    let layout = raw.contains("mapping values are not allowed")
        || raw.contains("did not find expected key")
        || raw.contains("did not find expected '-' indicator")
        || raw.contains("could not find expected ':'");
    if layout {
        if raw.contains("mapping values are not allowed") && source::colon_before(text, at) {
            return (
                at,
                "a plain value cannot contain `: `".to_owned(),
                Some("put the whole value in quotes".to_owned()),
            );
        }
        if let Some(pos) = source::list_item_among_keys(text, at.line) {
            return (
                pos,
                "a list item (`- `) among the keys of a mapping".to_owned(),
                Some("remove the `- `, or indent the list under the key it belongs to".to_owned()),
            );
        }
        if let Some(pos) = source::keyless_line_before(text, at.line) {
            return (
                pos,
                "expected `key: value`, but this line has no `:` after its key".to_owned(),
                Some(
                    "add the `:` (YAML read the line as a value continuing onto the next line)"
                        .to_owned(),
                ),
            );
        }
        return (
            source::first_content_on(text, at.line).unwrap_or(at),
            "this line's indentation does not fit the lines before it, so YAML cannot tell which mapping it belongs to".to_owned(),
            Some("keys of one mapping start in the same column; a nested mapping or list goes further in than its key".to_owned()),
        );
    }
    (at, format!("invalid YAML: {raw}"), None)
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
    doc: &Value,
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
    let (message, hint, pos, path) = explain(&raw, path, positions, doc);
    single(file, pos, &path, message, hint)
}

/// Turns serde's message into ours, with a "did you mean" where a name is close; returns
/// the message, a hint, where to point and the key path to show.
fn explain(
    raw: &str,
    path: Path,
    positions: &Positions,
    doc: &Value,
) -> (String, Option<String>, Pos, Path) {
    for what in ["field", "variant"] {
        let prefix = format!("unknown {what} `");
        if let Some(rest) = raw.strip_prefix(&prefix) {
            let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
            let expected = backticked(tail);
            let hint = match expected.as_slice() {
                [] => None,
                [only] => Some(format!("the only accepted value here is `{only}`")),
                _ => did_you_mean(name, expected.iter().map(String::as_str))
                    .map(|m| format!("did you mean `{m}`?")),
            };
            let expected_text = match expected.as_slice() {
                [] => "no keys are allowed here".to_owned(),
                [only] => format!("expected `{only}`"),
                _ => format!(
                    "expected one of {}",
                    expected
                        .iter()
                        .map(|x| format!("`{x}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            // An unknown key is the thing to point at; an unknown value, the value.
            let key_path = if path.0.last() == Some(&Seg::Key(name.to_owned())) {
                Some(path.clone())
            } else if positions.contains(&path.key(name)) && !is_scalar_at(doc, &path) {
                Some(path.key(name))
            } else {
                None
            };
            let noun = match (what, &key_path) {
                ("field", _) => "field",
                (_, Some(_)) => "key",
                _ => "value",
            };
            let message = format!("unknown {noun} `{name}`, {expected_text}");
            return match key_path {
                Some(kp) => (message, hint, positions.key(&kp), kp),
                None => (message, hint, node_pos(positions, doc, &path), path),
            };
        }
    }
    let pos = node_pos(positions, doc, &path);
    if let Some(rest) = raw.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        return (
            format!("missing required key `{name}`"),
            Some(format!("add `{name}:` to this mapping")),
            pos,
            path,
        );
    }
    if raw == "invalid IP address syntax" {
        let value = lookup(doc, &path).and_then(Value::as_str).unwrap_or("");
        return (
            format!("`{value}` is not an IP address"),
            Some(
                "write an IPv4 address like `192.0.2.1`, an IPv6 address like `2001:db8::1`, or a \
                 CIDR range like `192.0.2.0/24`"
                    .to_owned(),
            ),
            pos,
            path,
        );
    }
    // With serde_json's `arbitrary_precision` (on for the whole workspace), a number that
    // does not fit an integer field is reported this tersely; say what was expected.
    if raw == "invalid number" {
        let found_value = lookup(doc, &path);
        let kind = match found_value {
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "invalid value",
            _ => "wrong type",
        };
        return (
            format!(
                "{kind}: expected a whole number (0 or more), found {}",
                found_words("", found_value)
            ),
            type_hint(found_value, "u32", &path),
            pos,
            path,
        );
    }
    for (prefix, kind) in [
        ("invalid type: ", "wrong type"),
        ("invalid value: ", "invalid value"),
    ] {
        let Some(rest) = raw.strip_prefix(prefix) else {
            continue;
        };
        let Some((found, expected)) = rest.rsplit_once(", expected ") else {
            continue;
        };
        let found_value = lookup(doc, &path);
        let hint = type_hint(found_value, expected, &path);
        return (
            format!(
                "{kind}: expected {}, found {}",
                expected_words(expected),
                found_words(found, found_value)
            ),
            hint,
            pos,
            path,
        );
    }
    (raw.to_owned(), None, pos, path)
}

/// serde's name for an expected type, in the spec's words.
fn expected_words(expected: &str) -> String {
    let words = match expected {
        "a map" => "a mapping (`key: value` pairs)",
        "a sequence" => "a list",
        "string or map" => "a name or a mapping",
        "a boolean" => "`true` or `false`",
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        e if e.starts_with("struct ") => "a mapping (`key: value` pairs)",
        e => e,
    };
    match expected {
        "u16" => "a whole number from 0 to 65535".to_owned(),
        _ => words.to_owned(),
    }
}

/// serde's description of what was found, in the spec's words.
fn found_words(found: &str, value: Option<&Value>) -> String {
    match (found, value) {
        ("null", _) => "nothing (an empty value)".to_owned(),
        ("sequence", _) => "a list".to_owned(),
        ("map", _) => "a mapping".to_owned(),
        (_, Some(Value::Number(n))) => format!("the number {n}"),
        (f, _) => f.replace('`', ""),
    }
}

fn type_hint(found: Option<&Value>, expected: &str, path: &Path) -> Option<String> {
    let numeric =
        expected.starts_with('u') || expected.starts_with('i') || expected.starts_with('f');
    let numeric = numeric
        && expected[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == 's' || c == 'i' || c == 'z' || c == 'e');
    match found? {
        Value::Null => match path.0.last() {
            Some(Seg::Key(k)) => Some(format!("give `{k}` a value")),
            _ => Some("give it a value".to_owned()),
        },
        Value::String(s) if numeric && s.trim().parse::<f64>().is_ok() => {
            Some("write the number without quotes".to_owned())
        }
        Value::String(s) if expected == "a boolean" => Some(
            match s.to_ascii_lowercase().as_str() {
                "yes" | "y" | "on" => "write `true` (YAML 1.2 reads `yes` and `on` as text)",
                "no" | "n" | "off" => "write `false` (YAML 1.2 reads `no` and `off` as text)",
                _ => "write `true` or `false`, without quotes",
            }
            .to_owned(),
        ),
        Value::Number(n) if expected.contains("duration") => {
            Some(format!("add a unit, e.g. `{n}s` or `{n}m`"))
        }
        Value::Array(_) if expected == "a map" || expected.starts_with("struct ") => {
            Some("write `key: value` pairs instead of a list".to_owned())
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_)
            if expected == "a map" || expected.starts_with("struct ") =>
        {
            Some("write its `key: value` pairs on the lines below, indented under it".to_owned())
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) if expected == "a sequence" => {
            Some("write a list: `[a, b]`, or one `- item` per line".to_owned())
        }
        _ => None,
    }
}

fn is_scalar_at(doc: &Value, path: &Path) -> bool {
    lookup(doc, path).is_some_and(|v| !v.is_object() && !v.is_array())
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// Facts about the spec text that the YAML parser's errors do not give: the key path at a
/// line, brackets and quotes left open, anchors and tags. These are heuristics over
/// block-style YAML, used only to make error messages point at the real mistake.
mod source {
    use crate::yaml::{Path, Pos};

    /// The text's lines, without line ends, numbered like the parser numbers them.
    fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
        text.split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
    }

    fn line(text: &str, no: usize) -> Option<&str> {
        lines(text).nth(no.checked_sub(1)?).map(|(_, l)| l)
    }

    fn indent_of(line: &str) -> usize {
        line.chars().take_while(|c| *c == ' ' || *c == '\t').count()
    }

    fn is_blank(line: &str) -> bool {
        let t = line.trim_start();
        t.is_empty() || t.starts_with('#')
    }

    /// The character at a position.
    pub(super) fn char_at(text: &str, pos: Pos) -> Option<char> {
        line(text, pos.line)?
            .chars()
            .nth(pos.column.checked_sub(1)?)
    }

    /// The first non-blank character of a line.
    pub(super) fn first_content_on(text: &str, no: usize) -> Option<Pos> {
        let l = line(text, no)?;
        (!is_blank(l)).then(|| Pos {
            line: no,
            column: indent_of(l) + 1,
        })
    }

    /// The first character of the document that is not blank or a comment.
    pub(super) fn first_content(text: &str) -> Option<Pos> {
        lines(text)
            .filter(|(_, l)| !is_blank(l) && !l.starts_with("---") && !l.starts_with('%'))
            .find_map(|(no, _)| first_content_on(text, no))
    }

    /// What the top level of a non-mapping document is, in words.
    pub(super) fn describe_top(text: &str) -> &'static str {
        let first = first_content(text).and_then(|p| char_at(text, p));
        match first {
            Some('-' | '[') => "a list",
            Some(_) => "a single value",
            None => "empty",
        }
    }

    /// The first tab in a line's indentation (or anywhere in it).
    pub(super) fn first_tab(text: &str, no: usize) -> Option<Pos> {
        let col = line(text, no)?.chars().position(|c| c == '\t')?;
        Some(Pos {
            line: no,
            column: col + 1,
        })
    }

    /// Whether the line holds a `: ` before `at`, so a colon at `at` is inside a value.
    pub(super) fn colon_before(text: &str, at: Pos) -> bool {
        let Some(l) = line(text, at.line) else {
            return false;
        };
        let head: String = l.chars().take(at.column.saturating_sub(1)).collect();
        let head = head.trim_start();
        let head = head.strip_prefix("- ").unwrap_or(head);
        !head.starts_with(['"', '\'', '{', '[']) && head.contains(": ")
    }

    /// The content line before `no`, if it sits at the same indentation and has no `:`:
    /// a key whose colon is missing, which YAML reads as a value continuing onto line `no`.
    pub(super) fn keyless_line_before(text: &str, no: usize) -> Option<Pos> {
        let this = line(text, no)?;
        let (prev_no, prev) = lines(text)
            .take(no.checked_sub(1)?)
            .filter(|(_, l)| !is_blank(l))
            .last()?;
        let body = prev.trim();
        let keyless = !body.contains(": ")
            && !body.ends_with(':')
            && !body.starts_with(['-', '[', '{', '"', '\'', '|', '>', '?', '&', '*', '!']);
        (keyless && indent_of(prev) == indent_of(this) && !is_blank(this)).then(|| Pos {
            line: prev_no,
            column: indent_of(prev) + 1,
        })
    }

    /// The first character YAML does not allow in a file (C0 and C1 controls other than
    /// tab, line feed, carriage return and NEL; DEL; U+FFFE and U+FFFF; a BOM after the start).
    pub(super) fn control_char(text: &str) -> Option<(Pos, char)> {
        lines(text).find_map(|(no, l)| {
            l.chars()
                .position(|c| {
                    (c < ' ' && c != '\t')
                        || ('\u{7f}'..='\u{9f}').contains(&c) && c != '\u{85}'
                        || matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}')
                })
                .map(|i| {
                    let c = l.chars().nth(i).unwrap_or('\0');
                    (
                        Pos {
                            line: no,
                            column: i + 1,
                        },
                        c,
                    )
                })
        })
    }

    /// Line `no` if it is a list item (`- `) right after a `key: value` line at the same
    /// indentation: an item among the keys of a mapping.
    pub(super) fn list_item_among_keys(text: &str, no: usize) -> Option<Pos> {
        let this = line(text, no)?;
        let body = this.trim_start();
        if !(body.starts_with("- ") || body == "-") {
            return None;
        }
        let (_, prev) = lines(text)
            .take(no.checked_sub(1)?)
            .filter(|(_, l)| !is_blank(l))
            .last()?;
        let prev_body = prev.trim_start();
        let prev_is_key = !prev_body.starts_with('-')
            && split_key(prev_body).is_some_and(|(_, value)| !value.is_empty());
        (prev_is_key && indent_of(prev) == indent_of(this)).then(|| Pos {
            line: no,
            column: indent_of(this) + 1,
        })
    }

    /// What is open at a point of the text.
    #[derive(Debug, Default)]
    pub(super) struct Scan {
        /// Flow brackets (`[`, `{`) still open, innermost last.
        pub(super) open: Vec<(char, Pos)>,
        /// A quoted string still open.
        pub(super) quote: Option<(char, Pos)>,
        /// Anchors (`&`), aliases (`*`) and tags (`!`) seen, with their names.
        pub(super) props: Vec<(char, String, Pos)>,
        /// The first line whose nesting (indentation, `- ` indicators and open brackets)
        /// exceeds the limit given to [`scan`].
        pub(super) too_deep: Option<Pos>,
    }

    /// Tokenizes the text up to (not including) `stop`, tracking brackets, quotes and
    /// properties; block scalars (`|`, `>`) are skipped as text.
    pub(super) fn scan(text: &str, stop: Pos, limit: usize) -> Scan {
        let mut s = Scan::default();
        let mut block_owner: Option<usize> = None;
        for (no, raw) in lines(text) {
            if no > stop.line {
                break;
            }
            let chars: Vec<char> = raw.chars().collect();
            let indent = indent_of(raw);
            let in_text = s.quote.is_some() || !s.open.is_empty();
            if !in_text {
                if let Some(owner) = block_owner {
                    if is_blank(raw) || indent > owner {
                        continue;
                    }
                    block_owner = None;
                }
            }
            // The structural prefix: indentation and `- `, `? `, `: ` indicators.
            let mut col = indent;
            if !in_text {
                while col < chars.len()
                    && matches!(chars[col], '-' | '?' | ':')
                    && chars.get(col + 1).is_none_or(|c| *c == ' ' || *c == '\t')
                {
                    col += 1;
                    while chars.get(col).is_some_and(|c| *c == ' ' || *c == '\t') {
                        col += 1;
                    }
                }
            }
            if s.too_deep.is_none() && !is_blank(raw) && col + s.open.len() > limit {
                s.too_deep = Some(Pos {
                    line: no,
                    column: 1,
                });
            }
            let key_col = col;
            let mut prev: Option<char> = (col > indent).then_some('-');
            let mut j = if in_text { 0 } else { col };
            while j < chars.len() {
                let here = Pos {
                    line: no,
                    column: j + 1,
                };
                if here >= stop {
                    return s;
                }
                let c = chars[j];
                if let Some((q, _)) = s.quote {
                    if q == '"' && c == '\\' {
                        j += 2;
                        continue;
                    }
                    if c == q {
                        if q == '\'' && chars.get(j + 1) == Some(&'\'') {
                            j += 2;
                            continue;
                        }
                        s.quote = None;
                        prev = Some(c);
                    }
                    j += 1;
                    continue;
                }
                let in_flow = !s.open.is_empty();
                let ws_before = j == 0 || chars[j - 1] == ' ' || chars[j - 1] == '\t';
                let token_start = match prev {
                    None => true,
                    Some('[' | '{' | ',') => in_flow,
                    Some(':') => ws_before || in_flow,
                    Some('-' | '?') => ws_before,
                    _ => false,
                };
                match c {
                    ' ' | '\t' => {
                        j += 1;
                        continue;
                    }
                    '#' if ws_before => break,
                    '"' | '\'' if token_start => s.quote = Some((c, here)),
                    '[' | '{' if token_start || in_flow => {
                        s.open.push((c, here));
                        if s.too_deep.is_none() && key_col + s.open.len() > limit {
                            s.too_deep = Some(here);
                        }
                    }
                    ']' | '}' if in_flow => {
                        s.open.pop();
                    }
                    '&' | '*' | '!' if token_start => {
                        let name: String = chars[j + 1..]
                            .iter()
                            .take_while(|c| {
                                !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}')
                            })
                            .collect();
                        j += 1 + name.chars().count();
                        s.props.push((c, name, here));
                        continue;
                    }
                    '|' | '>' if token_start && !in_flow => {
                        block_owner = Some(key_col);
                        break;
                    }
                    _ => {}
                }
                prev = Some(c);
                j += 1;
            }
        }
        s
    }

    /// The anchor, alias or tag (one of `kinds`) nearest before `at` on its line or the
    /// lines above, else the first one after it on its line.
    pub(super) fn prop_near(text: &str, at: Pos, kinds: &[char]) -> Option<(char, String, Pos)> {
        let end_of_line = Pos {
            line: at.line,
            column: usize::MAX,
        };
        let props: Vec<_> = scan(text, end_of_line, usize::MAX)
            .props
            .into_iter()
            .filter(|(c, _, _)| kinds.contains(c))
            .collect();
        let before = props.iter().rposition(|(_, _, p)| *p <= at);
        let i = before.or_else(|| props.iter().position(|(_, _, p)| *p > at))?;
        props.into_iter().nth(i)
    }

    /// The first line nested deeper than `limit` (indentation plus open brackets).
    pub(super) fn too_deep(text: &str, limit: usize) -> Option<Pos> {
        scan(
            text,
            Pos {
                line: usize::MAX,
                column: usize::MAX,
            },
            limit,
        )
        .too_deep
    }

    enum Frame {
        /// A key; `parent` when its value continues on the following lines.
        Key {
            indent: usize,
            name: String,
            parent: bool,
        },
        /// A list item.
        Item { indent: usize, index: usize },
    }

    /// Drops frames that cannot hold a key at column `col`.
    fn pop_for_key(stack: &mut Vec<Frame>, col: usize) {
        while let Some(top) = stack.last() {
            let holds = match top {
                Frame::Key { indent, parent, .. } => *parent && *indent < col,
                Frame::Item { indent, .. } => *indent < col,
            };
            if holds {
                break;
            }
            stack.pop();
        }
    }

    /// Drops frames that cannot hold a list item at column `col`; returns its index.
    fn pop_for_item(stack: &mut Vec<Frame>, col: usize) -> usize {
        while let Some(top) = stack.last() {
            match top {
                Frame::Item { indent, index } if *indent == col => {
                    let next = index + 1;
                    stack.pop();
                    return next;
                }
                Frame::Key { indent, parent, .. } if *parent && *indent <= col => return 0,
                Frame::Item { indent, .. } if *indent < col => return 0,
                _ => {
                    stack.pop();
                }
            }
        }
        0
    }

    /// Splits `key: value` (plain or quoted key); `None` when the text is not a key.
    fn split_key(rest: &str) -> Option<(String, &str)> {
        let (key, after) = match rest.chars().next()? {
            q @ ('"' | '\'') => {
                let body = &rest[1..];
                let end = body.find(q)?;
                let after = body[end + 1..].trim_start_matches([' ', '\t']);
                (body[..end].to_owned(), after.strip_prefix(':')?)
            }
            c if "[]{}#&*!|>%@`?,".contains(c) => return None,
            _ => {
                let mut from = 0;
                let colon = loop {
                    let k = from + rest[from..].find(':')?;
                    if rest[k + 1..].is_empty() || rest[k + 1..].starts_with([' ', '\t']) {
                        break k;
                    }
                    from = k + 1;
                };
                let key = rest[..colon].trim_end();
                if key.contains(" #") {
                    return None;
                }
                (key.to_owned(), &rest[colon + 1..])
            }
        };
        if !after.is_empty() && !after.starts_with([' ', '\t']) {
            return None;
        }
        Some((key, after.trim()))
    }

    /// The key path of line `target`: the key on that line, or the mapping or list that
    /// holds it. Follows block structure by indentation; flow collections are opaque.
    pub(super) fn path_at(text: &str, target: usize) -> Path {
        let mut stack: Vec<Frame> = Vec::new();
        let mut block_owner: Option<usize> = None;
        for (no, raw) in lines(text) {
            if no > target {
                break;
            }
            let indent = indent_of(raw);
            if let Some(owner) = block_owner {
                if is_blank(raw) || indent > owner {
                    continue;
                }
                block_owner = None;
            }
            if is_blank(raw) {
                continue;
            }
            if indent == 0 && (raw.starts_with("---") || raw.starts_with("...")) {
                stack.clear();
                continue;
            }
            let mut col = indent;
            let mut rest = &raw[indent..];
            loop {
                if rest == "-" || rest.starts_with("- ") || rest.starts_with("-\t") {
                    let index = pop_for_item(&mut stack, col);
                    stack.push(Frame::Item { indent: col, index });
                    let after = rest[1..].trim_start_matches([' ', '\t']);
                    col += rest.len() - after.len();
                    rest = after;
                    if is_blank(rest) {
                        break;
                    }
                    continue;
                }
                match split_key(rest) {
                    Some((name, value)) => {
                        pop_for_key(&mut stack, col);
                        let mut value = value;
                        while value.starts_with(['&', '!']) {
                            value = value
                                .split_once([' ', '\t'])
                                .map_or("", |(_, v)| v.trim_start());
                        }
                        let block = value.starts_with(['|', '>']);
                        if block {
                            block_owner = Some(col);
                        }
                        stack.push(Frame::Key {
                            indent: col,
                            name,
                            parent: block || value.is_empty() || value.starts_with('#'),
                        });
                    }
                    None if no == target => pop_for_key(&mut stack, col),
                    None => {}
                }
                break;
            }
        }
        let mut path = Path::root();
        for frame in stack {
            path = match frame {
                Frame::Key { name, .. } => path.key(name),
                Frame::Item { index, .. } => path.index(index),
            };
        }
        path
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const DOC: &str = "a:\n  b: 1\n  c:\n    - x: 1\n      y: |\n        text: here\n      z: 2\n    - w: 3\ndocs:\n- one\n- two\n";

        #[test]
        fn path_at_follows_indentation() {
            let at = |l| path_at(DOC, l).to_string();
            assert_eq!(at(1), "a");
            assert_eq!(at(2), "a.b");
            assert_eq!(at(4), "a.c[0].x");
            assert_eq!(at(6), "a.c[0].y");
            assert_eq!(at(7), "a.c[0].z");
            assert_eq!(at(8), "a.c[1].w");
            assert_eq!(at(11), "docs[1]");
        }

        #[test]
        fn scan_finds_open_brackets_and_quotes() {
            let text = "a: [1, 2\nb: \"x\ny: '[' \nz: {k: [v]}\n";
            let s = scan(text, Pos { line: 2, column: 1 }, usize::MAX);
            assert_eq!(s.open, vec![('[', Pos { line: 1, column: 4 })]);
            let s = scan(text, Pos { line: 3, column: 1 }, usize::MAX);
            assert_eq!(s.quote, Some(('"', Pos { line: 2, column: 4 })));
            let s = scan(
                "a: '[x'\nb: {c: d}\n",
                Pos { line: 9, column: 1 },
                usize::MAX,
            );
            assert!(s.open.is_empty() && s.quote.is_none());
        }
    }
}
