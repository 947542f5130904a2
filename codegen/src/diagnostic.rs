//! Errors that point at the spec: file, line, column, key path, what is wrong, and a hint.

use std::fmt;

use serde_json::Value;

use crate::yaml::{Path, Pos, Positions, Seg};

/// One problem in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The spec file as given to the loader.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// The key path of the offending node, e.g. `events[3].fields.item_id.type`.
    pub path: String,
    /// What is wrong, including what was expected.
    pub message: String,
    /// How to fix it, when that is obvious.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}\n  at: {}",
            self.file, self.pos.line, self.pos.column, self.message, self.path
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in one spec file (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// Collects diagnostics for one file, resolving paths to positions.
pub(crate) struct Reporter<'a> {
    file: &'a str,
    positions: &'a Positions,
    doc: Option<&'a Value>,
    source: Option<&'a str>,
    pub(crate) found: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &'a str, positions: &'a Positions) -> Self {
        Reporter {
            file,
            positions,
            doc: None,
            source: None,
            found: Vec::new(),
        }
    }

    /// Lets the reporter see the document the positions belong to, so that an error about
    /// a whole mapping or list points at its key (see [`node_pos`]).
    pub(crate) fn with_document(mut self, doc: &'a Value) -> Self {
        self.doc = Some(doc);
        self
    }

    /// An error about the value at `path`.
    pub(crate) fn at(&mut self, path: &Path, message: impl Into<String>) -> &mut Diagnostic {
        let pos = match self.doc {
            Some(doc) => node_pos(self.positions, doc, path),
            None => self.positions.value(path),
        };
        self.push(pos, path, message.into())
    }

    /// Lets the reporter read the spec's text, to point inside block scalars.
    pub(crate) fn with_source(mut self, source: &'a str) -> Self {
        self.source = Some(source);
        self
    }

    /// An error at `line`/`column` (1-based) of the text of the block scalar at `path`
    /// (an example's JSON); falls back to the scalar itself when it is not a block.
    pub(crate) fn inside(
        &mut self,
        path: &Path,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let start = self.positions.value(path);
        let pos = self
            .source
            .and_then(|src| block_line(src, start, line, column))
            .unwrap_or(start);
        self.push(pos, path, message.into())
    }

    /// An error about the key naming `path` (e.g. a misspelt or duplicate key).
    pub(crate) fn at_key(&mut self, path: &Path, message: impl Into<String>) -> &mut Diagnostic {
        let pos = self.positions.key(path);
        self.push(pos, path, message.into())
    }

    fn push(&mut self, pos: Pos, path: &Path, message: String) -> &mut Diagnostic {
        self.found.push(Diagnostic {
            file: self.file.to_owned(),
            pos,
            path: path.to_string(),
            message,
            hint: None,
        });
        self.found.last_mut().expect("just pushed")
    }

    pub(crate) fn finish(mut self) -> Result<(), SpecError> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found
            .sort_by(|a, b| a.pos.cmp(&b.pos).then_with(|| a.message.cmp(&b.message)));
        self.found.dedup();
        Err(SpecError {
            diagnostics: self.found,
        })
    }
}

impl Diagnostic {
    /// Adds a hint.
    pub(crate) fn hint(&mut self, hint: impl Into<String>) {
        self.hint = Some(hint.into());
    }
}

/// Where `line`/`column` of a literal or folded block scalar's content falls in the file,
/// given the scalar's position (its indicator, or its content's first character).
fn block_line(src: &str, start: Pos, line: usize, column: usize) -> Option<Pos> {
    let lines: Vec<&str> = src.lines().collect();
    let at_start = lines
        .get(start.line.checked_sub(1)?)?
        .get(start.column.checked_sub(1)?..)?;
    let is_indicator = |t: &str| {
        let t = t.trim_end();
        (t.starts_with('|') || t.starts_with('>')) && t.len() <= 3
    };
    if is_indicator(at_start) {
        // The position is the indicator: the content starts on the next non-empty line.
        let first = (start.line..lines.len()).find(|&i| !lines[i].trim().is_empty())?;
        let indent = lines[first].len() - lines[first].trim_start().len();
        return Some(Pos {
            line: first + line,
            column: indent + column,
        });
    }
    // The position is the content's first character, right below the indicator.
    let above = lines.get(start.line.checked_sub(2)?)?;
    let indicator = above.trim_end().rsplit(' ').next()?;
    is_indicator(indicator).then(|| Pos {
        line: start.line + line - 1,
        column: start.column - 1 + column,
    })
}

/// The closest candidate to a misspelt word, if any is close enough to suggest: one that
/// differs only in case, else one within a few edits (one for short words, so that `GET`
/// does not suggest `PUT`).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(c);
    }
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 1.max(c.chars().count() / 3) && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Where to point for the node at `path` (or its nearest existing ancestor).
///
/// A scalar: its value. A mapping or list: the key naming it, or, for a list item, where
/// its first entry starts; the parser's own start of a block mapping is where its first
/// *value* begins, which would point at an unrelated line. An empty value (`key:` with
/// nothing after it): its key, since the value's position is wherever the next token is.
pub(crate) fn node_pos(positions: &Positions, doc: &Value, path: &Path) -> Pos {
    let mut path = path.clone();
    let value = loop {
        if let Some(v) = lookup(doc, &path) {
            break v;
        }
        match path.parent() {
            Some(p) => path = p,
            None => return positions.value(&path),
        }
    };
    let has_key = matches!(path.0.last(), Some(Seg::Key(_)));
    match value {
        Value::Object(_) | Value::Array(_) | Value::Null if has_key => positions.key(&path),
        _ => start_of(positions, value, &path),
    }
}

/// The first position inside the node at `path`: its own, or its first entry's if earlier.
fn start_of(positions: &Positions, value: &Value, path: &Path) -> Pos {
    let own = positions.value(path);
    let first = match value {
        Value::Object(m) => m.keys().map(|k| positions.key(&path.key(k.clone()))).min(),
        Value::Array(a) => a.first().map(|v| start_of(positions, v, &path.index(0))),
        _ => None,
    };
    first.map_or(own, |f| f.min(own))
}

/// The value at `path` in `doc`.
pub(crate) fn lookup<'v>(doc: &'v Value, path: &Path) -> Option<&'v Value> {
    let mut cur = doc;
    for seg in &path.0 {
        cur = match seg {
            Seg::Key(k) => cur.get(k)?,
            Seg::Index(i) => cur.get(i)?,
        };
    }
    Some(cur)
}
