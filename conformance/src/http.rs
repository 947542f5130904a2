//! One HTTP/1.1 exchange with a receiver, observed rather than trusted.
//!
//! Every request gets a fresh connection, so a receiver that breaks one connection cannot
//! poison the next case. Nothing here follows redirects, retries or waits without a
//! deadline: a hostile receiver becomes an [`Observed`] value, never a stuck run.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How much of a response body is read before the rest is dropped.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A request to send.
#[derive(Clone)]
pub struct Outgoing {
    /// HTTP method.
    pub method: http::Method,
    /// Absolute `http://` URL.
    pub url: http::Uri,
    /// Headers in the order they are sent (`Host` and `Content-Length` are added).
    pub headers: Vec<(String, String)>,
    /// What is sent as the body, and how fast.
    pub body: OutgoingBody,
}

impl std::fmt::Debug for Outgoing {
    // Header values carry credentials and signatures; only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A request body.
#[derive(Clone, Debug)]
pub enum OutgoingBody {
    /// Sent as fast as the connection takes it.
    Full(Bytes),
    /// Sent in `chunks` pieces with `interval` between them, to catch receivers that
    /// assume a body arrives at once.
    Trickle {
        /// The whole body.
        bytes: Bytes,
        /// Number of pieces.
        chunks: usize,
        /// Pause before each piece after the first.
        interval: Duration,
    },
}

impl OutgoingBody {
    /// The body's bytes, however they are paced.
    pub fn bytes(&self) -> &Bytes {
        match self {
            OutgoingBody::Full(b) | OutgoingBody::Trickle { bytes: b, .. } => b,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    fn into_body(self) -> UnsyncBoxBody<Bytes, Infallible> {
        match self {
            OutgoingBody::Full(b) => Full::new(b).boxed_unsync(),
            OutgoingBody::Trickle {
                bytes,
                chunks,
                interval,
            } => {
                let size = bytes.len().div_ceil(chunks.max(1)).max(1);
                let pieces: Vec<Bytes> = (0..bytes.len())
                    .step_by(size)
                    .map(|at| bytes.slice(at..(at + size).min(bytes.len())))
                    .collect();
                let stream = futures_util::stream::unfold(
                    (pieces.into_iter(), true),
                    move |(mut rest, first)| async move {
                        let piece = rest.next()?;
                        if !first {
                            tokio::time::sleep(interval).await;
                        }
                        Some((Ok::<_, Infallible>(Frame::data(piece)), (rest, false)))
                    },
                );
                StreamBody::new(stream).boxed_unsync()
            }
        }
    }
}

/// `endpoint` as a request target: only absolute `http://` URLs, which is all
/// [`exchange`] can reach.
pub fn endpoint_uri(endpoint: &str) -> Result<http::Uri, String> {
    let url: http::Uri = endpoint.parse().map_err(|e| format!("{endpoint}: {e}"))?;
    if url.scheme_str() != Some("http") || url.authority().is_none() {
        return Err(format!(
            "{endpoint}: only absolute http:// URLs are supported"
        ));
    }
    Ok(url)
}

/// Whether something accepts a TCP connection at `url`'s host and port within `wait`
/// (the suite's liveness check, and the wait for a receiver it started).
pub async fn accepts_connections(url: &http::Uri, wait: std::time::Duration) -> bool {
    let Some(authority) = url.authority() else {
        return false;
    };
    let connect = TcpStream::connect((authority.host(), authority.port_u16().unwrap_or(80)));
    matches!(tokio::time::timeout(wait, connect).await, Ok(Ok(_)))
}

/// The HTTP method a spec's deliveries use.
pub fn delivery_method(method: hookspec_codegen::model::HttpMethod) -> http::Method {
    match method {
        hookspec_codegen::model::HttpMethod::Post => http::Method::POST,
        hookspec_codegen::model::HttpMethod::Put => http::Method::PUT,
    }
}

/// A request header's value as the suite may show or save it: credentials (the
/// `Authorization` value, headers named like a secret, token, password or API key) are
/// the receiver's own and are redacted; signatures prove one body only and are shown.
pub fn shown_header_value<'a>(name: &str, value: &'a str) -> &'a str {
    let name = name.to_ascii_lowercase();
    let credential = name == "authorization"
        || ["secret", "token", "password", "api-key", "apikey"]
            .iter()
            .any(|w| name.contains(w));
    if credential {
        "[redacted]"
    } else {
        value
    }
}

/// Bounds of one exchange.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// From the start of the connection to the response head; past it the receiver is
    /// [`Observed::Hung`].
    pub deadline: Duration,
    /// Response body bytes read; the rest is not read and the body marked truncated.
    pub max_response_bytes: usize,
}

/// What a receiver did with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// It answered with a status.
    Status {
        /// HTTP status code.
        code: u16,
        /// The `Location` header of a redirect (never followed).
        location: Option<String>,
        /// What was read of the response body.
        body: BodyDigest,
    },
    /// No response head arrived within the deadline (the connection may be open).
    Hung,
    /// The connection was reset (or aborted) before a response arrived.
    Reset {
        /// What the transport reported.
        detail: String,
    },
    /// The receiver closed the connection before answering (or while we were sending).
    ClosedEarly {
        /// What the transport reported.
        detail: String,
    },
    /// Nothing accepted the connection.
    Refused {
        /// What the transport reported.
        detail: String,
    },
    /// The network gave up on the connection (an operating-system timeout) before the
    /// suite's own deadline.
    TimedOut {
        /// What the transport reported.
        detail: String,
    },
    /// Something answered, but not with valid HTTP/1.1.
    BadResponse {
        /// What was wrong.
        detail: String,
    },
}

impl Observed {
    /// The status code, when the receiver answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Observed::Status { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The response body digest, when the receiver answered.
    pub fn body(&self) -> Option<&BodyDigest> {
        match self {
            Observed::Status { body, .. } => Some(body),
            _ => None,
        }
    }
}

impl std::fmt::Display for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Observed::Status {
                code,
                location: Some(to),
                ..
            } if (300..400).contains(code) => {
                write!(f, "{code} redirect to {} (not followed)", location_path(to))
            }
            Observed::Status { code, .. } => write!(f, "{code}"),
            Observed::Hung => f.write_str("hung: no response before the deadline"),
            Observed::Reset { detail } => write!(f, "reset: {detail}"),
            Observed::ClosedEarly { detail } => write!(f, "closed early: {detail}"),
            Observed::Refused { detail } => write!(f, "refused: {detail}"),
            Observed::TimedOut { detail } => write!(f, "timed out: {detail}"),
            Observed::BadResponse { detail } => write!(f, "bad response: {detail}"),
        }
    }
}

/// Host and port of an absolute redirect target change from run to run; the path says
/// what the receiver meant.
fn location_path(location: &str) -> String {
    match location.parse::<http::Uri>() {
        Ok(uri) if uri.authority().is_some() => uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        _ => location.to_owned(),
    }
}

/// A digest of the response body bytes that were read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BodyDigest {
    /// `sha256:<hex>` of the bytes read.
    pub sha256: String,
    /// How many bytes were read.
    pub bytes_read: u64,
    /// Whether the body went on past the cap, or stalled before its end.
    pub truncated: bool,
}

/// One exchange: what happened and how long it took.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The outcome.
    pub observed: Observed,
    /// From the start of the connection to the response head (or to the verdict).
    pub elapsed: Duration,
    /// The response headers, when there was a response.
    pub response_headers: Vec<(String, String)>,
    /// What was read of the response body (at most the cap; empty without a response).
    pub response_body: Bytes,
}

/// Sends `request` on a new connection and observes the answer within `limits`.
pub async fn exchange(request: Outgoing, limits: Limits) -> Exchange {
    let start = Instant::now();
    let deadline = start + limits.deadline;
    let head = tokio::time::timeout_at(deadline, send(request)).await;
    let elapsed = start.elapsed();
    let mut response_headers = Vec::new();
    let mut response_body = Bytes::new();
    let observed = match head {
        Err(_) => Observed::Hung,
        Ok(Err(observed)) => observed,
        Ok(Ok((response, connection))) => {
            response_headers = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            // A body that stalls gets at most one more second past the deadline.
            let body_deadline = deadline.max(Instant::now()) + Duration::from_secs(1);
            let (observed, body) =
                read_response(response, limits.max_response_bytes, body_deadline).await;
            response_body = body;
            drop(connection);
            observed
        }
    };
    Exchange {
        observed,
        elapsed,
        response_headers,
        response_body,
    }
}

/// Aborts the task driving a connection when dropped, so a receiver that never closes
/// its socket does not keep a task alive after the exchange.
struct ConnectionTask(tokio::task::JoinHandle<()>);

impl Drop for ConnectionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn send(
    request: Outgoing,
) -> Result<(hyper::Response<hyper::body::Incoming>, ConnectionTask), Observed> {
    let authority = request
        .url
        .authority()
        .ok_or_else(|| Observed::Refused {
            detail: "the URL has no host".to_owned(),
        })?
        .clone();
    let port = authority.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((authority.host(), port))
        .await
        .map_err(|e| from_io(&e, true))?;
    // Small webhook requests should not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| classify(&e))?;
    let task = ConnectionTask(tokio::spawn(async move {
        let _ = connection.await;
    }));

    let path = request
        .url
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut builder = hyper::Request::builder()
        .method(request.method)
        .uri(path)
        .header(http::header::HOST, authority.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let length = request.body.len();
    builder = builder.header(http::header::CONTENT_LENGTH, length);
    let built = builder
        .body(request.body.into_body())
        .map_err(|e| Observed::BadResponse {
            detail: format!("the suite built an invalid request: {e}"),
        })?;
    let response = sender.send_request(built).await.map_err(|e| classify(&e))?;
    Ok((response, task))
}

async fn read_response(
    response: hyper::Response<hyper::body::Incoming>,
    cap: usize,
    deadline: Instant,
) -> (Observed, Bytes) {
    let code = response.status().as_u16();
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mut body = response.into_body();
    let mut hasher = Sha256::new();
    let mut kept = Vec::new();
    let mut read = 0usize;
    let mut truncated = false;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                truncated = true;
                break;
            }
            Ok(None) => break,
            // A body cut short after a valid head still counts as an answer; the digest
            // covers what arrived.
            Ok(Some(Err(_))) => {
                truncated = true;
                break;
            }
            Ok(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let take = data.len().min(cap - read);
                    hasher.update(&data[..take]);
                    kept.extend_from_slice(&data[..take]);
                    read += take;
                    if take < data.len() {
                        truncated = true;
                        break;
                    }
                }
            }
        }
    }
    let observed = Observed::Status {
        code,
        location,
        body: BodyDigest {
            sha256: format!("sha256:{}", hex(&hasher.finalize())),
            bytes_read: read as u64,
            truncated,
        },
    };
    (observed, Bytes::from(kept))
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn classify(e: &hyper::Error) -> Observed {
    if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() {
        return Observed::BadResponse {
            detail: e.to_string(),
        };
    }
    let io = std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>());
    match io {
        Some(io) => from_io(io, false),
        None if e.is_incomplete_message() || e.is_closed() || e.is_canceled() => {
            Observed::ClosedEarly {
                detail: "connection closed without a response".to_owned(),
            }
        }
        None => Observed::Reset {
            detail: e.to_string(),
        },
    }
}

/// An I/O failure as what it means for the receiver: refused, reset, closed early or
/// timed out (anything else counts as refused while connecting, reset after).
fn from_io(e: &std::io::Error, connecting: bool) -> Observed {
    use std::io::ErrorKind as K;
    let detail = io_detail(e);
    match e.kind() {
        K::ConnectionRefused => Observed::Refused { detail },
        K::ConnectionReset | K::ConnectionAborted => Observed::Reset { detail },
        K::BrokenPipe | K::UnexpectedEof => Observed::ClosedEarly { detail },
        K::TimedOut => Observed::TimedOut { detail },
        _ if connecting => Observed::Refused { detail },
        _ => Observed::Reset { detail },
    }
}

/// The kind of an I/O error in plain words; the OS message text differs per platform.
fn io_detail(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".to_owned(),
        K::ConnectionReset => "connection reset by peer".to_owned(),
        K::ConnectionAborted => "connection aborted".to_owned(),
        K::BrokenPipe => "connection closed while sending".to_owned(),
        K::UnexpectedEof => "connection closed without a response".to_owned(),
        K::TimedOut => "timed out".to_owned(),
        _ => e.to_string(),
    }
}
