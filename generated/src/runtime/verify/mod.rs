//! Verifying that a delivery comes from the provider, driven by the spec's data.

mod scheme;

pub use scheme::*;
