//! The macro crate's integration tests, one binary (each file under `tests/` would link
//! on its own).

mod compile_fail;
