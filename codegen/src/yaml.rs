//! YAML text to a JSON value plus the source position of every node.
//!
//! Serde's typed deserialization loses positions, so the loader keeps them here, keyed by
//! the node's path, and maps any error path (serde's or validation's) back to a line and
//! column. Numbers keep YAML 1.2 core-schema meaning; quoted scalars always stay strings.

use std::collections::HashMap;
use std::fmt;

use marked_yaml::types::{MarkedScalarNode, Node};
use serde_json::{Map, Number, Value};

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path into a document, shown as `events[3].fields.item_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// The empty path (the document root).
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.into()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// The path one step up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let mut p = self.clone();
        p.0.pop().map(|_| p)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Where a node and (for mapping values) its key start.
#[derive(Debug, Clone, Copy)]
pub struct NodePos {
    /// Start of the value.
    pub value: Pos,
    /// Start of the key naming it, when it is a mapping value.
    pub key: Option<Pos>,
}

/// Positions of every node of one document.
#[derive(Debug, Default)]
pub struct Positions(HashMap<Path, NodePos>);

impl Positions {
    /// Position of the value at `path`, or of its nearest ancestor that has one.
    pub fn value(&self, path: &Path) -> Pos {
        self.nearest(path)
            .map(|n| n.value)
            .unwrap_or(Pos { line: 1, column: 1 })
    }

    /// Position of the key naming `path` (falls back to the value, then ancestors).
    pub fn key(&self, path: &Path) -> Pos {
        self.nearest(path)
            .map(|n| n.key.unwrap_or(n.value))
            .unwrap_or(Pos { line: 1, column: 1 })
    }

    /// Whether the document has a node at `path`.
    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }

    fn nearest(&self, path: &Path) -> Option<&NodePos> {
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(n) = self.0.get(&cur) {
                return Some(n);
            }
            p = cur.parent();
        }
        None
    }
}

fn pos_of(span: &marked_yaml::Span) -> Pos {
    span.start()
        .map(|m| Pos {
            line: m.line(),
            column: m.column(),
        })
        .unwrap_or(Pos { line: 1, column: 1 })
}

/// Converts a parsed YAML tree to JSON, recording positions. Parse with
/// `prevent_coercion(true)` so quoted scalars stay strings.
pub fn to_json(node: &Node) -> (Value, Positions) {
    let mut positions = Positions::default();
    let value = convert(node, Path::root(), None, &mut positions);
    (value, positions)
}

fn convert(node: &Node, path: Path, key: Option<Pos>, out: &mut Positions) -> Value {
    let value_pos = pos_of(node.span());
    out.0.insert(
        path.clone(),
        NodePos {
            value: value_pos,
            key,
        },
    );
    match node {
        Node::Scalar(s) => scalar(s),
        Node::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| convert(n, path.index(i), None, out))
                .collect(),
        ),
        Node::Mapping(map) => {
            let mut obj = Map::new();
            for (k, v) in map.iter() {
                let key_text = k.as_str().to_owned();
                let kp = pos_of(k.span());
                let child = convert(v, path.key(key_text.clone()), Some(kp), out);
                obj.insert(key_text, child);
            }
            Value::Object(obj)
        }
    }
}

/// YAML 1.2 core schema for plain scalars; quoted scalars are strings.
fn scalar(s: &MarkedScalarNode) -> Value {
    let text = s.as_str();
    if !s.may_coerce() {
        return Value::String(text.to_owned());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if is_int(text) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = text.parse::<u64>() {
            return Value::Number(u.into());
        }
    }
    if is_float(text) {
        if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

fn is_int(t: &str) -> bool {
    let d = t.strip_prefix(['-', '+']).unwrap_or(t);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

fn is_float(t: &str) -> bool {
    let d = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exp) = match d.find(['e', 'E']) {
        Some(i) => (&d[..i], Some(&d[i + 1..])),
        None => (d, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && frac.is_none_or(digits)
        && (!whole.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exp_ok && (frac.is_some() || exp.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        let opts = marked_yaml::LoaderOptions::default().prevent_coercion(true);
        let text = "a: 1\nb: 1.5\nc: '1'\nd: ~\ne: 2021.06.01\nf: true\ng: 1e3\n";
        let node = marked_yaml::parse_yaml_with_options(0, text, opts).unwrap();
        let (v, pos) = to_json(&node);
        assert_eq!(v["a"], 1);
        assert_eq!(v["b"], 1.5);
        assert_eq!(v["c"], "1");
        assert!(v["d"].is_null());
        assert_eq!(v["e"], "2021.06.01");
        assert_eq!(v["f"], true);
        assert_eq!(v["g"], 1000.0);
        assert_eq!(pos.key(&Path::root().key("c")), Pos { line: 3, column: 1 });
        assert_eq!(
            pos.value(&Path::root().key("c")),
            Pos { line: 3, column: 4 }
        );
    }
}
