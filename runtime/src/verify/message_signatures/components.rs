//! Component identifiers and signature parameters: parsed from `Signature-Input` and
//! serialized strictly (RFC 8941 section 4) for the signature base and for signing.

use std::fmt;

use sfv::{BareItem, Dictionary, FieldType, KeyRef, ListEntry, Parser, StringRef, TokenRef};

use super::SignatureError;

/// A parameter value on a component identifier or on the signature parameters. Only
/// the bare-item types RFC 9421's registries use (Decimal, Date, Display String are
/// refused when parsing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// An Integer (`created`, `expires`).
    Integer(i64),
    /// A String (`keyid`, `alg`, `nonce`, `tag`, a component's `key` or `name`).
    String(String),
    /// A Token.
    Token(String),
    /// A Boolean; `true` is a bare flag (`;sf`, `;bs`, `;req`).
    Bool(bool),
    /// A Byte Sequence.
    Bytes(Vec<u8>),
}

/// `(name, value)` parameters in the order they are serialized.
pub type Params = Vec<(String, ParamValue)>;

/// One covered component: a lowercase field name or a derived `@` name, with its
/// parameters in order (`"@query-param";name="Pet"`, `"example-dict";key="a"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentId {
    /// The component name.
    pub name: String,
    /// The component's parameters, in order.
    pub params: Params,
}

impl ComponentId {
    /// A component with no parameters; field names are lowercased.
    pub fn new(name: &str) -> Self {
        ComponentId {
            name: lower_unless_derived(name),
            params: Vec::new(),
        }
    }

    /// Adds a flag parameter (`sf`, `bs`, `req`, `tr`).
    pub fn flag(mut self, param: &str) -> Self {
        self.params.push((param.into(), ParamValue::Bool(true)));
        self
    }

    /// Adds a String parameter (`key="a"`, `name="Pet"`).
    pub fn string(mut self, param: &str, value: &str) -> Self {
        self.params
            .push((param.into(), ParamValue::String(value.into())));
        self
    }

    /// Parses an identifier as written in a signature base or a `Signature-Input` list
    /// (`"@query-param";name="Pet"`); a bare name without quotes (`@method`,
    /// `Content-Type`) is taken as that name with no parameters.
    pub fn parse(text: &str) -> Result<Self, SignatureError> {
        if !text.starts_with('"') {
            return Ok(ComponentId::new(text));
        }
        let item: sfv::Item = Parser::new(text)
            .parse()
            .map_err(|e| SignatureError::malformed("component identifier", e))?;
        from_item(&item)
    }

    /// The value of a String parameter.
    pub fn string_param(&self, param: &str) -> Option<&str> {
        self.params.iter().find_map(|(k, v)| match v {
            ParamValue::String(s) if k == param => Some(s.as_str()),
            _ => None,
        })
    }

    /// Whether the flag parameter is set to true.
    pub fn has_flag(&self, param: &str) -> bool {
        self.params
            .iter()
            .any(|(k, v)| k == param && *v == ParamValue::Bool(true))
    }

    /// Equality as RFC 9421 defines it: same name, same parameters in any order.
    pub fn same_as(&self, other: &ComponentId) -> bool {
        self.name == other.name
            && self.params.len() == other.params.len()
            && self.params.iter().all(|p| other.params.contains(p))
    }

    /// The strict serialization (`"name";param`), as in the signature base.
    pub fn serialize(&self) -> Result<String, SignatureError> {
        let name = StringRef::from_str(&self.name)
            .map_err(|e| SignatureError::component(&self.name, e))?;
        let mut out = String::new();
        let params = sfv::ItemSerializer::with_buffer(&mut out).bare_item(name);
        write_params(params, &self.params)?;
        Ok(out)
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.serialize() {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{:?}", self.name),
        }
    }
}

/// The covered components and the signature's metadata parameters, both in order: the
/// value of one `Signature-Input` member and of the base's `@signature-params` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureParams {
    /// The covered components, in order.
    pub components: Vec<ComponentId>,
    /// The metadata parameters (`created`, `keyid`, ...), in order.
    pub params: Params,
}

impl SignatureParams {
    /// Parameters covering `components`, with no metadata yet.
    pub fn new(components: Vec<ComponentId>) -> Self {
        SignatureParams {
            components,
            params: Vec::new(),
        }
    }

    /// Appends a metadata parameter (the order of calls is the serialized order).
    pub fn param(mut self, name: &str, value: ParamValue) -> Self {
        self.params.push((name.into(), value));
        self
    }

    /// Appends `created` (Unix seconds).
    pub fn created(self, unix: i64) -> Self {
        self.param("created", ParamValue::Integer(unix))
    }

    /// Appends `expires` (Unix seconds).
    pub fn expires(self, unix: i64) -> Self {
        self.param("expires", ParamValue::Integer(unix))
    }

    /// Appends `keyid`.
    pub fn keyid(self, keyid: &str) -> Self {
        self.param("keyid", ParamValue::String(keyid.into()))
    }

    /// Appends `alg`.
    pub fn alg(self, alg: super::Algorithm) -> Self {
        self.param("alg", ParamValue::String(alg.name().into()))
    }

    /// Appends `nonce`.
    pub fn nonce(self, nonce: &str) -> Self {
        self.param("nonce", ParamValue::String(nonce.into()))
    }

    /// Appends `tag`.
    pub fn tag(self, tag: &str) -> Self {
        self.param("tag", ParamValue::String(tag.into()))
    }

    /// An Integer metadata parameter.
    pub fn integer(&self, name: &str) -> Option<i64> {
        self.params.iter().find_map(|(k, v)| match v {
            ParamValue::Integer(i) if k == name => Some(*i),
            _ => None,
        })
    }

    /// A String metadata parameter.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.params.iter().find_map(|(k, v)| match v {
            ParamValue::String(s) if k == name => Some(s.as_str()),
            _ => None,
        })
    }

    /// The strict serialization as an Inner List with parameters.
    pub fn serialize(&self) -> Result<String, SignatureError> {
        let mut list = sfv::ListSerializer::new();
        {
            let mut inner = list.inner_list();
            for c in &self.components {
                let name = StringRef::from_str(&c.name)
                    .map_err(|e| SignatureError::component(&c.name, e))?;
                write_params(inner.bare_item(name), &c.params)?;
            }
            write_params(inner.finish(), &self.params)?;
        }
        Ok(list.finish().unwrap_or_default())
    }
}

/// Every member of a `Signature-Input` dictionary, in order.
pub(crate) fn parse_signature_input(
    value: &str,
) -> Result<Vec<(String, SignatureParams)>, SignatureError> {
    let dict = parse_dictionary(value, "Signature-Input")?;
    dict.iter()
        .map(|(label, entry)| {
            let ListEntry::InnerList(list) = entry else {
                return Err(SignatureError::malformed(
                    "Signature-Input",
                    format!("member `{}` is not an inner list", label.as_str()),
                ));
            };
            let components = list.items.iter().map(from_item).collect::<Result<_, _>>()?;
            let params = from_sfv_params(&list.params, "Signature-Input")?;
            Ok((
                label.as_str().to_owned(),
                SignatureParams { components, params },
            ))
        })
        .collect()
}

/// Every member of a `Signature` dictionary: label and signature bytes.
pub(crate) fn parse_signature(value: &str) -> Result<Vec<(String, Vec<u8>)>, SignatureError> {
    let dict = parse_dictionary(value, "Signature")?;
    dict.iter()
        .map(|(label, entry)| match entry {
            ListEntry::Item(sfv::Item {
                bare_item: BareItem::ByteSequence(bytes),
                ..
            }) => Ok((label.as_str().to_owned(), bytes.clone())),
            _ => Err(SignatureError::malformed(
                "Signature",
                format!("member `{}` is not a byte sequence", label.as_str()),
            )),
        })
        .collect()
}

pub(crate) fn parse_dictionary(
    value: &str,
    what: &'static str,
) -> Result<Dictionary, SignatureError> {
    Parser::new(value)
        .parse()
        .map_err(|e| SignatureError::malformed(what, e))
}

/// Strict re-serialization of a structured field's value (`;sf`).
pub(crate) fn reserialize<T: FieldType>(value: &str) -> Result<String, sfv::Error>
where
    T::SerializeResult: Into<Option<String>>,
{
    let parsed: T = Parser::new(value).parse()?;
    Ok(parsed.serialize().into().unwrap_or_default())
}

/// Strict serialization of one dictionary member's value (`;key=`), without its key.
pub(crate) fn serialize_member(entry: &ListEntry) -> String {
    let mut list = sfv::ListSerializer::new();
    list.members(std::iter::once(entry));
    list.finish().unwrap_or_default()
}

fn from_item(item: &sfv::Item) -> Result<ComponentId, SignatureError> {
    let BareItem::String(name) = &item.bare_item else {
        return Err(SignatureError::malformed(
            "Signature-Input",
            "a covered component is not a string",
        ));
    };
    Ok(ComponentId {
        name: name.as_str().to_owned(),
        params: from_sfv_params(&item.params, "component identifier")?,
    })
}

fn from_sfv_params(params: &sfv::Parameters, what: &'static str) -> Result<Params, SignatureError> {
    params
        .iter()
        .map(|(k, v)| {
            let value = match v {
                BareItem::Integer(i) => ParamValue::Integer(i64::from(*i)),
                BareItem::String(s) => ParamValue::String(s.as_str().to_owned()),
                BareItem::Token(t) => ParamValue::Token(t.as_str().to_owned()),
                BareItem::Boolean(b) => ParamValue::Bool(*b),
                BareItem::ByteSequence(b) => ParamValue::Bytes(b.clone()),
                _ => {
                    return Err(SignatureError::malformed(
                        what,
                        format!("parameter `{}` has an unsupported type", k.as_str()),
                    ))
                }
            };
            Ok((k.as_str().to_owned(), value))
        })
        .collect()
}

fn write_params<W: std::borrow::BorrowMut<String>>(
    mut out: sfv::ParameterSerializer<W>,
    params: &Params,
) -> Result<(), SignatureError> {
    let bad = |k: &str, e: sfv::Error| SignatureError::malformed("parameter", format!("{k}: {e}"));
    for (k, v) in params {
        let key = KeyRef::from_str(k).map_err(|e| bad(k, e))?;
        out = match v {
            ParamValue::Integer(i) => {
                let i = sfv::Integer::try_from(*i).map_err(|e| bad(k, e))?;
                out.parameter(key, i)
            }
            ParamValue::String(s) => {
                out.parameter(key, StringRef::from_str(s).map_err(|e| bad(k, e))?)
            }
            ParamValue::Token(t) => {
                out.parameter(key, TokenRef::from_str(t).map_err(|e| bad(k, e))?)
            }
            ParamValue::Bool(b) => out.parameter(key, *b),
            ParamValue::Bytes(b) => out.parameter(key, b.as_slice()),
        };
    }
    Ok(())
}

fn lower_unless_derived(name: &str) -> String {
    if name.starts_with('@') {
        name.to_owned()
    } else {
        name.to_ascii_lowercase()
    }
}
