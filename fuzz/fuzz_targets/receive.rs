//! The whole receive path (verify, media type, parse, dispatch) of every provider and
//! auth scheme, with arbitrary headers (signatures, timestamps, `Authorization`, client
//! ids, `X-Forwarded-For`, content types) and bodies. The oracle: in forging mode the
//! receiver holds credentials this target never signs with and that appear in no seed, so
//! any 2xx is a forged delivery accepted. In signing mode the body is signed for real
//! (at a timestamp the input shifts) and extra headers ride along; only a panic fails.
//!
//! Control bytes: mode (even: forge, odd: sign), then the timestamp shift in minutes
//! (signed byte).

#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::time::Duration;

use hookspec::runtime::verify::{Request, Target};
use hookspec_fuzz::{
    header_lines, now, receiver_credentials, runtime, spec, split, with_provider, Defaults,
};
use hookspec_signer::{Signer, SigningCredentials};
use libfuzzer_sys::fuzz_target;

/// Per provider: the config of a receiver holding the test credentials (signing mode) or
/// ones held back from every input (forging mode), and the test signer.
struct Side {
    known: hookspec::runtime::Config,
    held_back: hookspec::runtime::Config,
    signer: Signer<'static>,
}

fn side(provider: &'static str) -> &'static Side {
    static SIDES: OnceLock<Vec<(&'static str, Side)>> = OnceLock::new();
    let sides = SIDES.get_or_init(|| {
        hookspec::PROVIDERS
            .iter()
            .map(|&p| {
                let spec = spec(p);
                let test = SigningCredentials::test(spec);
                let hidden = SigningCredentials::derived(spec, "hookspec fuzz: held back");
                let config = |c| hookspec::config(p, c).expect("listed").expect("config");
                let side = Side {
                    known: config(receiver_credentials(spec, &test)),
                    held_back: config(receiver_credentials(spec, &hidden)),
                    signer: Signer::new(spec, test),
                };
                (p, side)
            })
            .collect()
    });
    &sides
        .iter()
        .find(|(p, _)| *p == provider)
        .expect("listed")
        .1
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = split(data, 2) else { return };
    let side = side(input.provider);
    let forging = input.control[0] % 2 == 0;
    let shift = Duration::from_secs(60 * u64::from((input.control[1] as i8).unsigned_abs()));
    let at = if (input.control[1] as i8) < 0 {
        now() - shift
    } else {
        now() + shift
    };
    let mut headers = http::HeaderMap::new();
    if !forging {
        for (name, value) in side.signer.sign(input.body, at) {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                headers.append(n, v);
            }
        }
    }
    for (name, value) in header_lines(input.head) {
        // Signing mode keeps the real signature; other headers ride along.
        if forging || !headers.contains_key(&name) {
            headers.append(name, value);
        }
    }
    if !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    let request = Request {
        headers: &headers,
        body: input.body,
        peer: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        // Where the signer says it sends, for schemes that sign the URL.
        target: Some(Target {
            method: &side.signer.target().method,
            url: &side.signer.target().url,
        }),
    };
    let config = if forging {
        &side.held_back
    } else {
        &side.known
    };
    let receipt = with_provider!(input.provider, |m| runtime().block_on(m::receive(
        &Defaults,
        config,
        &request,
        now()
    )))
    .expect("listed");
    // A provider that authenticates nothing (Statuspage) has no signature to forge: only
    // its receiver's secret URL keeps strangers out, which this target does not model.
    if forging && !spec(input.provider).auth.is_empty() {
        assert!(
            !(200..300).contains(&receipt.status),
            "{}: a delivery not signed with the receiver's credentials was accepted ({}): {headers:?}",
            input.provider,
            receipt.status
        );
    }
});
