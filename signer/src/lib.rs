//! # hookspec-signer
//!
//! The provider's side of hookspec's authentication schemes: signs deliveries the way a
//! spec (`hookspec_codegen::model::ProviderSpec`) says the provider does, builds the
//! attacks a receiver must refuse, and writes cross-language test vectors.
//!
//! Everything here uses **test keys and secrets made for this purpose**: they are derived
//! from public labels, so they are not secret and must never guard anything real.

mod keys;

pub use keys::{public_jwk, test_signing_key};
