//! Errors that point at the spec: file, line, column, key path, what is wrong, and a hint.

use std::fmt;

use crate::yaml::{Path, Pos, Positions};

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
    pub(crate) found: Vec<Diagnostic>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &'a str, positions: &'a Positions) -> Self {
        Reporter {
            file,
            positions,
            found: Vec::new(),
        }
    }

    /// An error about the value at `path`.
    pub(crate) fn at(&mut self, path: &Path, message: impl Into<String>) -> &mut Diagnostic {
        let pos = self.positions.value(path);
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

/// The closest candidate to a misspelt word, if any is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
