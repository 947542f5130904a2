//! The one-pass parse: the discriminator values are read as the object's first keys
//! arrive, and the chosen event's struct then reads the rest of the same object.
//!
//! Anything unusual (escaped keys or values, a repeated discriminator, a body that does
//! not parse) answers `None`, and the caller takes the two-pass path, which gives the
//! exact errors. A `Some` is always what the two-pass path would have answered.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde::Deserialize as _;

use super::{probe, scan, UnknownEvent};

/// Implemented by each provider's `Event`: picks the event for `values` and reads it
/// from `map` into `out`. Leaving `out` empty sends the body to the two-pass path.
///
/// The event is written in place rather than returned: events are large, and returning
/// one up through serde's layers copies it at each.
pub trait Dispatch<const N: usize>: Sized {
    /// Chooses and reads the event.
    fn dispatch<'de, A: MapAccess<'de>>(
        body: &'de [u8],
        values: [&'de str; N],
        map: &mut Replay<'de, A, N>,
        out: &mut Option<Self>,
    ) -> Result<(), A::Error>;
}

/// Parses `body` in one pass into `out`, left `None` for the two-pass path.
///
/// `tail` allows reading discriminators that come last (Bridge sends `type` after the
/// payload) with a backward scan from the closing brace. The generator sets it only when
/// every event's struct declares every discriminator field: a repeated discriminator then
/// fails the struct's own parse, so the last value (what the backward scan sees) can never
/// win over the first (what the two-pass scan sees).
pub fn single_pass<E: Dispatch<N>, const N: usize>(
    body: &[u8],
    fields: &[&'static str; N],
    tail: bool,
    out: &mut Option<E>,
) {
    let mut de = serde_json::Deserializer::from_slice(body);
    let visitor = OnePass::<E, N> {
        body,
        fields,
        tail,
        out: &mut *out,
    };
    // Like `serde_json::from_slice`: nothing but whitespace may follow.
    if (&mut de).deserialize_map(visitor).is_err() || de.end().is_err() {
        *out = None;
    }
}

/// How many leading members the one-pass path keeps before falling back to a byte scan.
const BUFFERED: usize = 4;

struct OnePass<'f, 'o, E, const N: usize> {
    body: &'f [u8],
    fields: &'f [&'static str; N],
    tail: bool,
    out: &'o mut Option<E>,
}

impl<'de, E: Dispatch<N>, const N: usize> Visitor<'de> for OnePass<'de, '_, E, N> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // The members read before every discriminator is known, for the struct to re-read.
        let mut entries = [("", ""); BUFFERED];
        let mut len = 0;
        let mut values: [Option<&'de str>; N] = [None; N];
        let mut missing = N;
        // A key already taken from `map` whose value is still unread there.
        let mut pending = None;
        let mut from_tail = false;
        let mut trailing = None;
        while missing > 0 {
            // Borrowed only: an escaped key or value fails here and goes the two-pass way.
            let Some(key) = map.next_key::<&'de str>()? else {
                return Ok(()); // a missing discriminator: the two-pass path reports it
            };
            let field = self.fields.iter().position(|f| *f == key);
            if field.is_none() && len == 0 && self.tail {
                // Bridge sends `type` after the payload: read it backwards from the end.
                trailing = scan::trailing(self.body, self.fields);
            }
            if len == entries.len() || (field.is_none() && trailing.is_some()) {
                // Leave this member to the struct and find the rest with a byte scan.
                pending = Some(key);
                break;
            }
            match field {
                Some(i) if values[i].is_some() => return Ok(()),
                Some(i) => {
                    values[i] = Some(map.next_value::<&'de str>()?);
                    missing -= 1;
                    entries[len] = (key, values[i].unwrap_or_default());
                }
                // Belvo sends `webhook_id` first: plain strings are kept; anything else
                // fails here and takes the two-pass path.
                None => entries[len] = (key, map.next_value::<&'de str>()?),
            }
            len += 1;
        }
        if missing > 0 {
            let scanned = match trailing {
                Some(found) => {
                    from_tail = true;
                    found
                }
                _ => match probe::scan_discriminators(self.body, self.fields) {
                    Some(found) => found,
                    None => return Ok(()),
                },
            };
            for (v, s) in values.iter_mut().zip(scanned) {
                match v {
                    Some(v) if *v != s => return Ok(()),
                    Some(_) => {}
                    None => *v = Some(s),
                }
            }
        }
        let values = values.map(Option::unwrap_or_default);
        let mut replay = Replay {
            entries,
            len,
            pos: 0,
            pending,
            live: map,
            from_tail,
        };
        E::dispatch(self.body, values, &mut replay, self.out)
    }
}

/// The object as the chosen struct sees it: the discriminator entries (and the one other
/// key) already taken from the live map, then the rest of the live map.
pub struct Replay<'de, A, const N: usize> {
    entries: [(&'de str, &'de str); BUFFERED],
    len: usize,
    pos: usize,
    pending: Option<&'de str>,
    live: A,
    from_tail: bool,
}

impl<'de, A: MapAccess<'de>, const N: usize> Replay<'de, A, N> {
    /// Reads the chosen event's struct from the whole object into `out`.
    #[inline(never)] // one frame per event type keeps `dispatch`'s own frame small
    pub fn read<T: serde::Deserialize<'de>, E>(
        &mut self,
        out: &mut Option<E>,
        event: fn(T) -> E,
    ) -> Result<(), A::Error> {
        *out = Some(event(T::deserialize(MapAccessDeserializer::new(self))?));
        Ok(())
    }

    /// An event the spec does not know, kept whole; `None` when a discriminator came from
    /// the backward scan (the two-pass path decides which of repeated values counts).
    pub fn unknown<E>(
        &mut self,
        fields: &[&'static str; N],
        values: [&'de str; N],
        out: &mut Option<E>,
        event: fn(UnknownEvent) -> E,
    ) -> Result<(), A::Error> {
        if self.from_tail {
            return Ok(());
        }
        let raw = serde_json::Value::deserialize(MapAccessDeserializer::new(self))?;
        let discriminator = fields
            .iter()
            .zip(values)
            .map(|(k, v)| (*k, v.to_owned()))
            .collect();
        *out = Some(event(UnknownEvent { discriminator, raw }));
        Ok(())
    }
}

impl<'de, A: MapAccess<'de>, const N: usize> MapAccess<'de> for Replay<'de, A, N> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.pos < self.len {
            return seed
                .deserialize(Str::new(self.entries[self.pos].0))
                .map(Some);
        }
        if let Some(key) = self.pending.take() {
            // Its value is the live map's next value.
            return seed.deserialize(Str::new(key)).map(Some);
        }
        self.live.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        if self.pos < self.len {
            let value = self.entries[self.pos].1;
            self.pos += 1;
            return seed.deserialize(Str::new(value));
        }
        self.live.next_value_seed(seed)
    }
}

/// A string re-read from the buffer, answering as serde_json does for a string (plain
/// `BorrowedStrDeserializer` differs for options and newtypes).
struct Str<'de, E> {
    s: &'de str,
    error: std::marker::PhantomData<E>,
}

impl<'de, E> Str<'de, E> {
    fn new(s: &'de str) -> Self {
        Str {
            s,
            error: std::marker::PhantomData,
        }
    }
}

impl<'de, E: serde::de::Error> Deserializer<'de> for Str<'de, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        v.visit_borrowed_str(self.s)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, E> {
        v.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, E> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, E> {
        BorrowedStrDeserializer::new(self.s).deserialize_enum(name, variants, v)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}
