//! The inbox's integration tests, as one binary (one build and link instead of one per
//! file). SQLite always; Postgres and NATS JetStream where `HOOKSPEC_TEST_POSTGRES_URL`
//! and `HOOKSPEC_TEST_NATS_URL` name servers (skipped, saying so, where they do not).
//!
//! Time in the stores comes from a `ManualClock` the tests advance, so leases, retry
//! times and the retention run out when a test says, not after it sleeps.

mod common;

mod cli;
mod nats;
mod postgres;
mod sqlite;
mod store_failure;
mod workers;
