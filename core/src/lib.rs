//! # hookspec-core
//!
//! The one vocabulary every part of hookspec speaks: auth schemes and their signed
//! templates, secret and timestamp rules, delivery rules, the success status and the
//! credentials a receiver shares with a provider.
//!
//! Every type is owned data (read from YAML by the spec loader) that can also be written
//! as a `const` or `static` literal (so generated modules state a provider's rules
//! directly): text is [`Text`] and lists are [`List`], both `Cow<'static, _>`.

mod auth;
mod credentials;
mod delivery;
mod duration;
mod ip_range;
mod pairs;
mod repeated_keys;
mod respond;
mod routing;

pub use auth::*;
pub use credentials::{AuthorizationValue, Credentials, KeyApi};
pub use delivery::{media_type, DeliveryRules, Success};
pub use duration::Duration;
pub use ip_range::IpRange;
pub use pairs::Pairs;
pub use repeated_keys::first_repeated_key;
pub use respond::{respond_pieces, Respond, RespondPiece, RespondSource};
pub use routing::{header_ref, respond_for, Routing};

/// Text that is either a literal in a generated constant or read from a spec.
pub type Text = std::borrow::Cow<'static, str>;

/// A list that is either a literal in a generated constant or read from a spec.
pub type List<T> = std::borrow::Cow<'static, [T]>;
