//! hookspec-runtime's integration tests: one binary, one module per area.

mod message_signatures;
mod signatures;
