//! Finding a key that an object repeats, over any serde deserializer: the runtime refuses
//! such webhook bodies and the spec loader refuses such examples, with the same reading
//! of what a key is (escapes decoded, so `"a"` and `"\u0061"` are one key).

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Walks the whole value `de` holds and answers the first key an object repeats, with the
/// JSON path of that object (`$`, `$.data`, `$.items[2]`); `Ok(None)` when none does. An
/// error is the deserializer's own (the input is not well formed).
pub fn first_repeated_key<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<(String, String)>, D::Error> {
    let found = RefCell::new(None);
    let path = RefCell::new(Vec::new());
    Walk {
        found: &found,
        path: &path,
    }
    .deserialize(de)?;
    Ok(found.into_inner())
}

/// Where the walk is: object keys and array indexes from the root.
enum Step<'de> {
    Key(Cow<'de, str>),
    Index(usize),
}

#[derive(Clone, Copy)]
struct Walk<'a, 'de> {
    found: &'a RefCell<Option<(String, String)>>,
    path: &'a RefCell<Vec<Step<'de>>>,
}

impl Walk<'_, '_> {
    fn path_text(&self) -> String {
        let mut out = String::from("$");
        for step in self.path.borrow().iter() {
            match step {
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    // With serde_json's `arbitrary_precision` a number arrives as a one-entry map with a
    // private key; walking it as a map is harmless (one key, never repeated).

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            self.path.borrow_mut().push(Step::Index(i));
            let more = seq.next_element_seed(self)?;
            self.path.borrow_mut().pop();
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Objects in webhook bodies are small: a linear search beats hashing below a few
        // dozen keys, and a set takes over past that.
        const LINEAR: usize = 32;
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        let mut set: Option<std::collections::HashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let repeated = match &mut set {
                Some(set) => !set.insert(key.clone()),
                None => {
                    let repeated = keys.contains(&key);
                    keys.push(key.clone());
                    if keys.len() > LINEAR {
                        set = Some(keys.drain(..).collect());
                    }
                    repeated
                }
            };
            if repeated && self.found.borrow().is_none() {
                *self.found.borrow_mut() = Some((key.to_string(), self.path_text()));
            }
            self.path.borrow_mut().push(Step::Key(key));
            map.next_value_seed(self)?;
            self.path.borrow_mut().pop();
        }
        Ok(())
    }
}

/// A key, borrowed from the body unless it has escapes: `"a"` and `"\u0061"` are the same
/// key, and only the unescaped text tells.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}
