//! The code generator's integration tests as one binary: each file under `tests/` would be
//! a test binary of its own, linked on its own. Data (fixtures, broken specs) stays beside
//! in `tests/fixtures` and `tests/bad-specs`.

mod bad_specs;
mod build_script;
mod docs;
mod emit;
mod follow_up;
mod import_openapi;
mod module;
mod open_formats;
mod specs;
