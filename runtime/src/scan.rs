//! The byte-level scan behind the probes' fast path: steps through the top-level members
//! of a JSON object without parsing numbers or nested values. Every method answers `None`
//! for anything but plain, well-formed JSON, and the caller then falls back to serde.

/// A cursor over the top-level members of a JSON object.
pub(super) struct Members<'a> {
    b: &'a [u8],
    i: usize,
    first: bool,
}

impl<'a> Members<'a> {
    /// Starts at the object's opening brace.
    pub(super) fn new(b: &'a [u8]) -> Option<Self> {
        let i = skip_ws(b, 0);
        (b.get(i) == Some(&b'{')).then_some(Members {
            b,
            i: i + 1,
            first: true,
        })
    }

    /// The next key (`Some(None)` after the last member), leaving the cursor on its value.
    pub(super) fn key(&mut self) -> Option<Option<&'a [u8]>> {
        let mut i = skip_ws(self.b, self.i);
        match self.b.get(i)? {
            b'}' => return Some(None),
            b',' if !self.first => i = skip_ws(self.b, i + 1),
            b'"' if self.first => {}
            _ => return None,
        }
        self.first = false;
        let (key, end) = plain_string(self.b, i)?;
        let colon = skip_ws(self.b, end);
        if self.b.get(colon) != Some(&b':') {
            return None;
        }
        self.i = skip_ws(self.b, colon + 1);
        Some(Some(key))
    }

    /// The value as a string without escapes.
    pub(super) fn string(&mut self) -> Option<&'a [u8]> {
        let (text, end) = plain_string(self.b, self.i)?;
        self.i = end;
        Some(text)
    }

    /// Skips the value, answering its JSON type.
    pub(super) fn skip(&mut self) -> Option<&'static str> {
        let (kind, end) = value(self.b, self.i)?;
        self.i = end;
        Some(kind)
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Bytes that end the fast reading of a string: a quote, a backslash or a control byte.
const STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// A string without escapes or control characters at `i`: its text and the index after
/// its closing quote.
fn plain_string(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    while j < b.len() && !STOP[b[j] as usize] {
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then(|| (&b[i + 1..j], j + 1))
}

/// Skips the value at `i`: its JSON type and the index just after it.
fn value(b: &[u8], i: usize) -> Option<(&'static str, usize)> {
    match *b.get(i)? {
        b'"' => Some(("string", skip_string(b, i)?)),
        b'{' => Some(("object", skip_nested(b, i)?)),
        b'[' => Some(("array", skip_nested(b, i)?)),
        b't' if b[i..].starts_with(b"true") => Some(("boolean", i + 4)),
        b'f' if b[i..].starts_with(b"false") => Some(("boolean", i + 5)),
        b'n' if b[i..].starts_with(b"null") => Some(("null", i + 4)),
        b'-' | b'0'..=b'9' => {
            let len = b[i..]
                .iter()
                .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .unwrap_or(b.len() - i);
            Some(("number", i + len))
        }
        _ => None,
    }
}

/// The index after the string starting at `i` (escapes allowed).
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    None
}

/// The index after the object or array starting at `i`.
fn skip_nested(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = i;
    loop {
        match *b.get(j)? {
            b'"' => {
                j = skip_string(b, j)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
}

/// The values of `fields` when they are the object's last members, read backwards from
/// the closing brace, e.g. `..., "type": "item.created"}`. `None` unless every field is
/// among the trailing members, once each, with a plain string value.
///
/// Sound for well-formed JSON only: a quote found walking back over plain text is a real
/// delimiter when whitespace, a colon, a comma or a brace precedes it (inside a string a
/// quote must follow a backslash). Callers parse the whole body anyway.
pub(super) fn trailing<'a, const N: usize>(
    b: &'a [u8],
    fields: &[&'static str; N],
) -> Option<[&'a str; N]> {
    let mut found: [Option<&'a str>; N] = [None; N];
    let mut j = skip_ws_back(b, b.len());
    if j == 0 || b[j - 1] != b'}' {
        return None;
    }
    j -= 1;
    for _ in 0..N {
        let (value, start) = plain_string_back(b, skip_ws_back(b, j))?;
        let colon = skip_ws_back(b, start);
        if colon == 0 || b[colon - 1] != b':' {
            return None;
        }
        let (key, key_start) = plain_string_back(b, skip_ws_back(b, colon - 1))?;
        let before = skip_ws_back(b, key_start);
        if before == 0 || !matches!(b[before - 1], b',' | b'{') {
            return None;
        }
        let i = fields.iter().position(|f| f.as_bytes() == key)?;
        if found[i].is_some() {
            return None;
        }
        found[i] = Some(std::str::from_utf8(value).ok()?);
        j = before - 1;
    }
    let mut out = [""; N];
    for (o, f) in out.iter_mut().zip(found) {
        *o = f?;
    }
    Some(out)
}

fn skip_ws_back(b: &[u8], mut i: usize) -> usize {
    while i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') {
        i -= 1;
    }
    i
}

/// The string without escapes or control characters that ends just before `end`: its
/// text and the index of its opening quote.
fn plain_string_back(b: &[u8], end: usize) -> Option<(&[u8], usize)> {
    if end == 0 || b[end - 1] != b'"' {
        return None;
    }
    let close = end - 1;
    let mut i = close;
    while i > 0 && !STOP[b[i - 1] as usize] {
        i -= 1;
    }
    (i > 0 && b[i - 1] == b'"').then(|| (&b[i..close], i - 1))
}

/// The bytes [`keys_unique`] stops at: quotes and the structural characters.
const STRUCTURE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t[b',' as usize] = true;
    t
};

/// Whether no object of `b` repeats a key, read at byte level: `Some(true)` for none,
/// `Some(false)` when one does, `None` when a key has escapes (its bytes are not its
/// text) so only a real parse can tell. Exact for well-formed JSON; for anything else the
/// answer does not matter, since the parser refuses the body. Objects with many keys are
/// checked with a set, so a hostile body costs linear time, never quadratic.
pub(super) fn keys_unique(b: &[u8]) -> Option<bool> {
    if u32::try_from(b.len()).is_err() {
        return None;
    }
    // Reused between calls: the scan runs before every parse, and two allocations per
    // body cost as much as the scan itself.
    thread_local! {
        static SCRATCH: std::cell::RefCell<Scratch> = const {
            std::cell::RefCell::new(Scratch { keys: Vec::new(), frames: Vec::new() })
        };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            let Scratch { keys, frames } = &mut *scratch;
            keys.clear();
            frames.clear();
            scan_keys(b, keys, frames)
        }
        Err(_) => scan_keys(b, &mut Vec::new(), &mut Vec::new()),
    })
}

struct Scratch {
    /// The keys of the open objects, as `(start, end)` offsets into the body.
    keys: Vec<(u32, u32)>,
    frames: Vec<Frame>,
}

/// An open object or array.
struct Frame {
    object: bool,
    /// The next string is a key (just after `{` or `,` in an object).
    expect_key: bool,
    /// Where this object's keys start in `keys`.
    start: usize,
    /// Index of this object's key set, once it has too many keys to compare one by one.
    set: Option<usize>,
}

fn scan_keys(b: &[u8], keys: &mut Vec<(u32, u32)>, frames: &mut Vec<Frame>) -> Option<bool> {
    /// Keys compared one by one up to this many per object, then hashed.
    const LINEAR: usize = 16;
    let mut sets: Vec<std::collections::HashSet<&[u8]>> = Vec::new();
    let text = |&(s, e): &(u32, u32)| &b[s as usize..e as usize];
    let mut i = 0;
    loop {
        // Everything but quotes and structure is skipped in a tight loop.
        while i < b.len() && !STRUCTURE[b[i] as usize] {
            i += 1;
        }
        let Some(&c) = b.get(i) else { break };
        match c {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                while let Some(k) = memchr::memchr2(b'"', b'\\', &b[j.min(b.len())..]) {
                    j += k;
                    if b[j] == b'"' {
                        break;
                    }
                    escaped = true;
                    j += 2;
                }
                let end = j.min(b.len());
                i = end + 1;
                let Some(frame) = frames.last_mut() else {
                    continue;
                };
                if !(frame.object && frame.expect_key) {
                    continue;
                }
                if escaped {
                    return None;
                }
                frame.expect_key = false;
                let key = &b[start..end];
                let repeated = match frame.set {
                    Some(set) => !sets[set].insert(key),
                    None if keys[frame.start..].iter().any(|k| text(k) == key) => true,
                    None => {
                        keys.push((start as u32, end as u32));
                        if keys.len() - frame.start > LINEAR {
                            sets.push(keys.drain(frame.start..).map(|k| text(&k)).collect());
                            frame.set = Some(sets.len() - 1);
                        }
                        false
                    }
                };
                if repeated {
                    return Some(false);
                }
                continue;
            }
            b'{' | b'[' => frames.push(Frame {
                object: c == b'{',
                expect_key: true,
                start: keys.len(),
                set: None,
            }),
            b'}' | b']' => {
                if let Some(frame) = frames.pop() {
                    keys.truncate(frame.start);
                }
            }
            _ => {
                if let Some(frame) = frames.last_mut() {
                    frame.expect_key = frame.object;
                }
            }
        }
        i += 1;
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(body: &[u8]) -> Option<Vec<(String, &'static str)>> {
        let mut m = Members::new(body)?;
        let mut out = Vec::new();
        while let Some(k) = m.key()? {
            out.push((String::from_utf8_lossy(k).into_owned(), m.skip()?));
        }
        Some(out)
    }

    #[test]
    fn walks_pretty_and_compact_bodies() {
        let body = b"{\n  \"a\": \"x\",\n  \"b\": {\"c\": [1, \"]\", {\"d\": null}]},\n  \"e\": -1.5e3, \"f\": true, \"g\": \"q\\\"\"\n}\n";
        let m = members(body).unwrap();
        let kinds: Vec<(&str, &str)> = m.iter().map(|(k, t)| (k.as_str(), *t)).collect();
        assert_eq!(
            kinds,
            [
                ("a", "string"),
                ("b", "object"),
                ("e", "number"),
                ("f", "boolean"),
                ("g", "string")
            ]
        );
        assert_eq!(members(b" { } ").unwrap(), vec![]);
    }

    #[test]
    fn gives_up_on_what_it_cannot_read() {
        for body in [
            &b"[1]"[..],
            b"{\"a\" 1}",
            b"{\"a\": 1",
            b"{\"a\": 1 \"b\": 2}",
            b"{\"k\\u0061\": 1}",
            b"{\"a\": ]}",
            b"",
            b"{,\"a\": 1}",
            b"{\"a\": 1,}",
        ] {
            assert!(members(body).is_none(), "{}", String::from_utf8_lossy(body));
        }
        let mut m = Members::new(b"{\"a\": \"x\\\"y\"}").unwrap();
        assert_eq!(m.key(), Some(Some(&b"a"[..])));
        assert_eq!(m.string(), None, "escaped values take the serde path");
    }

    #[test]
    fn reads_trailing_members_backwards() {
        let body =
            b"{\"content\": {\"type\": \"x\"}, \"code\": \"c\",\n \"type\" : \"item.created\" }\n";
        assert_eq!(trailing(body, &["type"]), Some(["item.created"]));
        assert_eq!(
            trailing(body, &["type", "code"]),
            Some(["item.created", "c"])
        );
        for body in [
            &b"{\"type\": \"a\", \"x\": 1}"[..],
            b"{\"type\": \"a\\\"b\"}",
            b"{\"type\": 1}",
            b"\"type\": \"a\"}",
            b"{\"type\": \"a\", \"type\": \"b\"}",
            b"",
            b"}",
            b"\"}",
        ] {
            assert_eq!(
                trailing(body, &["type", "type2"]).map(|[a, _]| a),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(trailing(b"{\"type\": \"a\"}", &["type"]), Some(["a"]));
        assert_eq!(
            trailing(b"{\"type\": \"a\", \"type\": \"b\"}", &["type"]),
            Some(["b"])
        );
        assert_eq!(trailing(b"{\"t\\\"\": \"a\"}", &["type"]), None);
    }
}
