//! # hookspec-signer
//!
//! The provider's side of hookspec's authentication schemes: signs deliveries the way a
//! spec ([`ProviderSpec`]) says the provider does, builds the attacks a receiver must
//! refuse, and writes cross-language test vectors.
//!
//! Everything made by [`SigningCredentials::test`] is **test material made for this
//! purpose**: keys and secrets are derived from public labels, so they are not secret and
//! must never guard anything real.

mod attack;
mod keys;
pub mod message_signatures;
mod private_key;
mod sign;
mod vectors;
mod vectors_schema;

pub use attack::Attack;
pub use keys::{ed25519_seed_from_text, jwk_thumbprint, public_jwk, test_signing_key};
pub use sign::{
    AuthorizationValue, Credentials, SignedRequest, Signer, SigningCredentials, Target,
};
pub use vectors::{test_vectors, VECTOR_CLOCK};
pub use vectors_schema::{vectors_schema, VECTORS_SCHEMA_FILE};

#[doc(no_inline)]
pub use hookspec_codegen::model::ProviderSpec;
