//! The example crate's integration tests as one binary: each file under `tests/` would be
//! a test binary of its own, linked on its own.

mod repeated_keys;
mod router;
