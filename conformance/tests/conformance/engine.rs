//! The exchange engine against hostile receivers: each misbehaviour becomes a distinct
//! observation within the bound, never a stuck test.

use std::time::Duration;

use bytes::Bytes;
use hookspec_conformance::http::{exchange, Limits, Observed, Outgoing, OutgoingBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{timeout, Instant};

const LIMITS: Limits = Limits {
    deadline: Duration::from_millis(400),
    max_response_bytes: 1024,
};

/// How long a raw server's handler may hold its connection: far longer than any bound
/// the tests assert, so a client that waited for the server to let go fails them. (The
/// handlers die with the test's runtime anyway.)
const HOLD: Duration = Duration::from_secs(60);

/// What the tests allow an exchange that must end at its own deadline (400 ms): not a
/// speed check (a loaded machine may be slow), only that it did not wait for the server,
/// which holds on for [`HOLD`].
const ENDED_ON_ITS_OWN: Duration = Duration::from_secs(20);

/// A raw TCP server on loopback that serves `connections` connections with `handle`,
/// each bounded to [`HOLD`], then stops.
async fn raw_server<F, Fut>(connections: usize, handle: F) -> std::net::SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..connections {
            let Ok(Ok((stream, _))) = timeout(Duration::from_secs(5), listener.accept()).await
            else {
                return;
            };
            let fut = handle(stream);
            tokio::spawn(async move {
                let _ = timeout(HOLD, fut).await;
            });
        }
    });
    addr
}

/// Reads a request head and a `Content-Length` body; returns the body.
async fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            let mut body = buf[end + 4..].to_vec();
            while body.len() < len {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            return body;
        }
    }
}

fn post(addr: std::net::SocketAddr, body: &'static [u8]) -> Outgoing {
    Outgoing {
        method: http::Method::POST,
        url: format!("http://{addr}/plaid").parse().unwrap(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: OutgoingBody::Full(Bytes::from_static(body)),
    }
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_hung_within_the_deadline() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        // Keep the socket open without a word, like a handler that sets 401 and never sends it.
        std::future::pending::<()>().await;
    })
    .await;
    let start = Instant::now();
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    assert_eq!(x.observed, Observed::Hung);
    assert!(start.elapsed() < ENDED_ON_ITS_OWN, "{:?}", start.elapsed());
    assert!(x.elapsed >= LIMITS.deadline);
}

#[tokio::test]
async fn a_receiver_that_closes_the_socket_closed_early() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        drop(s);
    })
    .await;
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    assert!(
        matches!(x.observed, Observed::ClosedEarly { .. }),
        "{:?}",
        x.observed
    );
    assert!(x.observed.to_string().starts_with("closed early: "));
}

#[tokio::test]
async fn a_receiver_that_aborts_the_connection_is_reset() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        // Linger zero: closing sends RST, not FIN.
        let _ = s.set_zero_linger();
        drop(s);
    })
    .await;
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    assert!(
        matches!(x.observed, Observed::Reset { .. }),
        "{:?}",
        x.observed
    );
    assert_eq!(x.observed.to_string(), "reset: connection reset by peer");
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    assert_eq!(
        x.observed,
        Observed::Refused {
            detail: "connection refused".into()
        }
    );
}

#[tokio::test]
async fn a_redirect_is_observed_not_followed() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:1/plaid?loop=1\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    assert_eq!(x.observed.status(), Some(307));
    // The port in the Location header does not leak into the observation.
    assert_eq!(
        x.observed.to_string(),
        "307 redirect to /plaid?loop=1 (not followed)"
    );
}

#[tokio::test]
async fn a_huge_response_is_capped() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n")
            .await;
        let block = vec![b'a'; 64 * 1024];
        for _ in 0..1600 {
            if s.write_all(&block).await.is_err() {
                return;
            }
        }
    })
    .await;
    let start = Instant::now();
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    let Observed::Status { code, body, .. } = &x.observed else {
        panic!("{:?}", x.observed)
    };
    assert_eq!(*code, 200);
    assert_eq!(body.bytes_read, 1024);
    assert!(body.truncated);
    // The cap is shown by the bytes read; this only guards against reading on to the end.
    assert!(start.elapsed() < ENDED_ON_ITS_OWN, "{:?}", start.elapsed());
}

#[tokio::test]
async fn a_stalled_body_after_the_head_is_truncated_not_hung() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok")
            .await;
        // The rest of the body never comes.
        std::future::pending::<()>().await;
    })
    .await;
    let start = Instant::now();
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    let Observed::Status { code, body, .. } = &x.observed else {
        panic!("{:?}", x.observed)
    };
    assert_eq!((*code, body.bytes_read, body.truncated), (200, 2, true));
    assert!(start.elapsed() < ENDED_ON_ITS_OWN, "{:?}", start.elapsed());
}

#[tokio::test]
async fn garbage_instead_of_http_is_a_bad_response() {
    let addr = raw_server(1, |mut s| async move {
        let _ = read_request(&mut s).await;
        let _ = s.write_all(b"SMTP ready\r\n\r\n").await;
    })
    .await;
    let x = exchange(post(addr, b"{}"), LIMITS).await;
    assert!(
        matches!(x.observed, Observed::BadResponse { .. }),
        "{:?}",
        x.observed
    );
}

#[tokio::test]
async fn a_trickled_body_arrives_whole_and_takes_its_time() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let addr = raw_server(1, move |mut s| {
        let tx = tx.lock().unwrap().take();
        async move {
            let body = read_request(&mut s).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .await;
            if let Some(tx) = tx {
                let _ = tx.send(body);
            }
        }
    })
    .await;
    let body = Bytes::from_static(b"{\"webhook_type\": \"ITEM\", \"webhook_code\": \"ERROR\"}");
    let mut request = post(addr, b"");
    request.body = OutgoingBody::Trickle {
        bytes: body.clone(),
        chunks: 5,
        interval: Duration::from_millis(40),
    };
    let limits = Limits {
        deadline: Duration::from_secs(2),
        ..LIMITS
    };
    let x = exchange(request, limits).await;
    assert_eq!(x.observed.status(), Some(200));
    assert!(x.elapsed >= Duration::from_millis(160), "{:?}", x.elapsed);
    assert_eq!(rx.await.unwrap(), body.to_vec());
}
