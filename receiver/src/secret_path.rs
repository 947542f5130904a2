//! A secret path segment as a provider's credential, for providers that authenticate nothing
//! (Statuspage signs nothing and publishes no addresses): the provider is mounted at
//! `/<provider>/<token>`, and any other path under `/<provider>` is answered 404, exactly as
//! a path that does not exist, so a guess learns nothing. The token is compared in constant
//! time over SHA-256 digests, so neither its bytes nor its length leak through timing.

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest token accepted: 22 URL-safe characters carry 128 bits when random.
pub const MIN_LEN: usize = 22;

/// Checks that `token` is long enough and made of characters a path segment keeps as they
/// are (letters, digits, `-`, `_`).
pub fn check_token(token: &str) -> Result<(), String> {
    if token.len() < MIN_LEN {
        return Err(format!(
            "a secret path token needs at least {MIN_LEN} characters (128 random bits), got {}",
            token.len()
        ));
    }
    if let Some(c) = token
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "a secret path token may hold only letters, digits, `-` and `_`, not {c:?}"
        ));
    }
    Ok(())
}

/// `router`, reachable only below `/<token>`: the first path segment must be the token,
/// and the router sees the rest of the path.
pub fn guard(router: Router, token: &str) -> Router {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    Router::new()
        .fallback_service(router)
        .layer(middleware::from_fn_with_state(digest, check_segment))
}

/// Passes the request on, its first path segment removed, when that segment is the token.
async fn check_segment(State(digest): State<[u8; 32]>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let (segment, rest) = match path.strip_prefix('/').unwrap_or(path).split_once('/') {
        Some((segment, rest)) => (segment, format!("/{rest}")),
        None => (path.trim_start_matches('/'), "/".to_owned()),
    };
    let given: [u8; 32] = Sha256::digest(segment.as_bytes()).into();
    if !bool::from(given.ct_eq(&digest)) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let rewritten = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(rewritten.parse().expect("a path taken from a valid URI"));
    *req.uri_mut() = Uri::from_parts(parts).expect("only the path changed");
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_be_long_and_path_safe() {
        assert!(check_token("short").is_err());
        assert!(check_token("aaaaaaaaaaaaaaaaaaaaa/b").is_err());
        assert!(check_token("aaaaaaaaaaaaaaaaaaaa b").is_err());
        assert!(check_token("Zk3-_q9LmP0aBcDeFgHiJk").is_ok());
    }
}
