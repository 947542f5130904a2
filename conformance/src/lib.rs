//! # hookspec-conformance
//!
//! Plays a webhook provider against any receiver over HTTP and reports whether the
//! receiver survives what the provider sends. It reads the same validated spec model as
//! the code generator ([`hookspec_codegen`]), so a provider added as YAML is testable
//! with no Rust written.
//!
//! ```no_run
//! # async fn f() -> Result<(), hookspec_conformance::SuiteError> {
//! let report = hookspec_conformance::Suite::provider("plaid")
//!     .run("http://127.0.0.1:8080")
//!     .await?;
//! hookspec_conformance::report::redacted_settings()
//!     .bind(|| insta::assert_yaml_snapshot!(report));
//! # Ok(()) }
//! ```

pub mod bundled;
pub mod cases;
pub mod follow_ups;
pub mod html_report;
pub mod http;
pub mod keys;
pub mod mock_api;
pub mod provider;
pub mod receiver_cmd;
pub mod record;
pub mod report;
pub mod send;
pub mod serving;
pub mod specs;
pub mod suite;
pub mod validate;

pub use hookspec_codegen::{load_dir, LoadedSpec};
pub use provider::{Credentials, SharedCredentials};
pub use report::{Outcome, Report, REDACTIONS};
pub use suite::{Suite, SuiteError};
