//! `--record DIR`: every exchange of a run saved for debugging, one JSON line each.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::http::{shown_header_value, Exchange, Outgoing};
use crate::report::{shown_body, ExchangeRecord};

/// Request bodies up to this size are saved whole; larger ones only by digest.
const MAX_SAVED_BODY: usize = 64 * 1024;

/// Writes `<dir>/<case id with / as __>.jsonl`.
pub struct Recorder {
    dir: PathBuf,
}

impl Recorder {
    /// A recorder writing under `dir`, created if missing.
    pub fn new(dir: &Path) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(dir)?;
        Ok(Recorder {
            dir: dir.to_owned(),
        })
    }

    /// Appends one exchange of case `id`. A failed write loses only that record; it must
    /// not fail the case it describes.
    pub fn exchange(&self, id: &str, request: &Outgoing, x: &Exchange) {
        let file = self.dir.join(format!("{}.jsonl", file_name(id)));
        let body = request.body.bytes();
        let line = json!({
            "request": {
                "method": request.method.as_str(),
                "url": request.url.to_string(),
                "headers": request.headers.iter().map(|(n, v)| json!([n, shown_header_value(n, v)])).collect::<Vec<_>>(),
                "body_bytes": body.len(),
                "body_sha256": crate::http::hex(&Sha256::digest(body)),
                "body": (body.len() <= MAX_SAVED_BODY).then(|| String::from_utf8_lossy(body)),
            },
            "response": {
                "observed": x.observed.to_string(),
                "status": x.observed.status(),
                "headers": x.response_headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                "body": x.observed.body(),
                "elapsed_ms": x.elapsed.as_millis() as u64,
            },
        });
        let write = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = write {
            eprintln!("hookspec-conformance: cannot record an exchange of {id}: {e}");
        }
    }
}

/// `request` and what came back as a report keeps them: credentials redacted, bodies as
/// text cut to what a report shows.
pub fn exchange_record(request: &Outgoing, x: &Exchange) -> ExchangeRecord {
    ExchangeRecord {
        method: request.method.as_str().to_owned(),
        url: request.url.to_string(),
        request_headers: request
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), shown_header_value(n, v).to_owned()))
            .collect(),
        request_body: shown_body(request.body.bytes()),
        request_bytes: request.body.len(),
        observed: x.observed.to_string(),
        response_headers: x.response_headers.clone(),
        response_body: shown_body(&x.response_body),
        elapsed_ms: x.elapsed.as_millis() as u64,
    }
}

/// A file name for a case id: path separators and unusual characters become `_`.
fn file_name(id: &str) -> String {
    id.replace('/', "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-#".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
