//! The crate's integration tests, one binary: each module was a test binary of its own,
//! and one binary builds and links once. Tests here share one process, so none of them
//! sets environment variables or relies on a fixed port.

mod cli;
mod common;
mod engine;
mod html_report;
mod keys;
mod mock_api;
mod official_libraries;
mod published_vectors;
mod reference;
mod spec_dir;
mod stateful_example;
mod suite;
