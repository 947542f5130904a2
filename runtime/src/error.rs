use std::fmt;

/// Why a body could not be parsed into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is not a JSON object.
    NotJson {
        /// serde_json's message.
        message: String,
    },
    /// A discriminator field is missing or not a string, so no event can be chosen.
    Discriminator {
        /// The field.
        field: &'static str,
        /// What was wrong.
        message: String,
    },
    /// An object in the body repeats a key. Readers disagree on which copy counts, so
    /// such a body is refused before any of them reads it (I-JSON, RFC 7493, forbids it).
    RepeatedKey {
        /// The repeated key, unescaped.
        key: String,
        /// JSON path of the object that repeats it: `$`, `$.data.items[1]`.
        object: String,
    },
    /// The body is a known event but does not match its shape.
    Event {
        /// The event chosen by the discriminator.
        event: &'static str,
        /// JSON path of the failing field, e.g. `data.errors[0].code`.
        path: String,
        /// What was wrong.
        message: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotJson { message } => write!(f, "body is not a JSON object: {message}"),
            ParseError::Discriminator { field, message } => {
                write!(f, "discriminator `{field}`: {message}")
            }
            ParseError::RepeatedKey { key, object } => write!(
                f,
                "the object at `{object}` repeats the key `{key}`; readers would disagree on its value"
            ),
            ParseError::Event {
                event,
                path,
                message,
            } => write!(f, "event `{event}` at `{path}`: {message}"),
        }
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// `Err` when an object of `body` repeats a key: every parse path calls this first, so
    /// dispatch, the handler and the kept body can never read different values.
    #[inline]
    pub fn refuse_repeated_keys(body: &[u8]) -> Result<(), ParseError> {
        match crate::repeated_key(body) {
            Some((key, object)) => Err(ParseError::RepeatedKey { key, object }),
            None => Ok(()),
        }
    }
}

impl ParseError {
    /// Parses `body` as `T` for `event`; on failure re-reads it tracking the path, so the
    /// error names the field (the fast path pays nothing for this).
    #[inline(never)] // one frame per event type keeps `Event::parse`'s own frame small
    pub fn parse_event<T: serde::de::DeserializeOwned>(
        event: &'static str,
        body: &[u8],
    ) -> Result<T, ParseError> {
        match serde_json::from_slice(body) {
            Ok(v) => Ok(v),
            Err(_) => {
                let mut de = serde_json::Deserializer::from_slice(body);
                match serde_path_to_error::deserialize::<_, T>(&mut de) {
                    Ok(v) => Ok(v),
                    Err(e) => Err(ParseError::Event {
                        event,
                        path: e.path().to_string(),
                        message: e.inner().to_string(),
                    }),
                }
            }
        }
    }
}
