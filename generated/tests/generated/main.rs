//! The provider modules' integration tests as one binary: each file under `tests/` would be
//! a test binary of its own, linked on its own. `tests/common` is shared with the benches.

#[path = "../common/mod.rs"]
mod common;
mod examples;
mod follow_up;
mod receive;
mod repeated_keys;
mod schemas;
mod single_pass;
mod unknown_fields;
mod verify;
mod verify_http_keys;
mod verify_vectors;
