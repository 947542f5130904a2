//! The shared vocabulary's own rules: what generated constants, the loader and every
//! consumer rely on.

use std::borrow::Cow::Borrowed as B;

use hookspec_core::{
    AuthScheme, Duration, Pairs, Routing, SecretEncoding, SecretFormat, SignatureAlgorithm,
    SignatureAuth, SignatureEncoding, SignatureFormat, SignatureLen, SignedPiece, SignedTimestamp,
    Success, ToleranceWindow,
};

/// A scheme written as a constant, as generated modules do.
const STRIPE_LIKE: AuthScheme = AuthScheme::Signature(SignatureAuth {
    header: B("Signature"),
    algorithm: SignatureAlgorithm::HmacSha256,
    encoding: SignatureEncoding::HexLower,
    signed: B("{timestamp}.{body}"),
    format: SignatureFormat {
        separator: Some(B(",")),
        label_separator: Some(B("=")),
        scheme: Some(B("v1")),
    },
    jws: None,
    timestamp: Some(SignedTimestamp {
        header: Some(B("Signature-Timestamp")),
        label: None,
        tolerance: Duration::from_secs(300),
        window: ToleranceWindow::BothWays,
        unit: hookspec_core::TimestampUnit::UnixSeconds,
    }),
    key: SecretFormat {
        encoding: SecretEncoding::Base64,
        strip_prefix: Some(B("whsec_")),
    },
    rotation: None,
    optional: false,
    description: None,
});

#[test]
fn a_constant_equals_the_same_scheme_read_from_json() {
    let read: AuthScheme = serde_json::from_value(serde_json::json!({
        "signature": {
            "header": "Signature",
            "algorithm": "hmac-sha256",
            "encoding": "hex-lower",
            "signed": "{timestamp}.{body}",
            "format": {"separator": ",", "label_separator": "=", "scheme": "v1"},
            "timestamp": {"header": "Signature-Timestamp", "tolerance": "5m"},
            "key": {"encoding": "base64", "strip_prefix": "whsec_"}
        }
    }))
    .unwrap();
    assert_eq!(read, STRIPE_LIKE);
    assert_eq!(read.headers(), ["Signature", "Signature-Timestamp"]);
}

#[test]
fn secrets_lose_their_prefix_and_are_decoded() {
    let AuthScheme::Signature(h) = STRIPE_LIKE else {
        unreachable!()
    };
    assert_eq!(h.key.strip("whsec_c2VjcmV0"), "c2VjcmV0");
    assert_eq!(h.key.key("whsec_c2VjcmV0").as_deref(), Some(&b"secret"[..]));
    // Without the prefix the whole text is the encoded key; a non-base64 one has no key.
    assert_eq!(h.key.key("c2VjcmV0").as_deref(), Some(&b"secret"[..]));
    assert_eq!(h.key.key("whsec_not base64!"), None);
    let plain = SecretFormat::default();
    assert_eq!(plain.key("whsec_x").as_deref(), Some(&b"whsec_x"[..]));
}

#[test]
fn signed_templates_split_into_their_pieces() {
    let AuthScheme::Signature(h) = STRIPE_LIKE else {
        unreachable!()
    };
    assert_eq!(
        hookspec_core::signed_pieces(&h.signed),
        [
            SignedPiece::Timestamp,
            SignedPiece::Literal("."),
            SignedPiece::Body
        ]
    );
    assert_eq!(
        hookspec_core::signed_pieces("{header:webhook-id}.{nonce}{body"),
        [
            SignedPiece::Header("webhook-id"),
            SignedPiece::Literal("."),
            SignedPiece::Unknown("nonce"),
            SignedPiece::Unclosed("{body"),
        ]
    );
    assert_eq!(
        hookspec_core::signed_pieces(
            "{url}{form}|{method} {path}|{form:To}{field:a.b}{x:y}{form:}"
        ),
        [
            SignedPiece::Url,
            SignedPiece::Form,
            SignedPiece::Literal("|"),
            SignedPiece::Method,
            SignedPiece::Literal(" "),
            SignedPiece::Path,
            SignedPiece::Literal("|"),
            SignedPiece::FormParam("To"),
            SignedPiece::Field("a.b"),
            SignedPiece::Unknown("x:y"),
            SignedPiece::Unknown("form:"),
        ]
    );
}

#[test]
fn algorithms_name_themselves_and_their_signatures() {
    for a in SignatureAlgorithm::ALL {
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json, a.name(), "the spec spelling is the name");
        let back: SignatureAlgorithm = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }
    assert!(SignatureAlgorithm::HmacSha1.is_secret());
    assert!(!SignatureAlgorithm::Ed25519.is_secret());
    let fixed = SignatureAlgorithm::EcdsaP256Sha256.signature_len();
    assert!(fixed.admits(64) && !fixed.admits(63) && !fixed.admits(72));
    let der = SignatureAlgorithm::EcdsaP256Sha256Der.signature_len();
    assert_eq!(der, SignatureLen::AtMost(72));
    assert!(der.admits(70) && der.admits(72) && !der.admits(73) && !der.admits(0));
}

#[test]
fn public_keys_may_be_pem_blocks() {
    let pem = SecretEncoding::Pem.encode(b"\x30\x03\x02\x01\x05");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    assert_eq!(
        SecretEncoding::Pem.decode(&pem).as_deref(),
        Some(&b"\x30\x03\x02\x01\x05"[..])
    );
    // Any label, surrounding text and line breaks; a block with no end has no key.
    let rsa = "x\n-----BEGIN RSA PUBLIC KEY-----\nMAMCAQU=\n-----END RSA PUBLIC KEY-----\n";
    assert_eq!(
        SecretEncoding::Pem.decode(rsa).as_deref(),
        Some(&b"\x30\x03\x02\x01\x05"[..])
    );
    assert_eq!(
        SecretEncoding::Pem.decode("-----BEGIN PUBLIC KEY-----\nMAMCAQU=\n"),
        None
    );
}

#[test]
fn success_statuses() {
    let only = Success::Only(B(&[200, 204]));
    assert!(only.accepts(204) && !only.accepts(201));
    assert_eq!(only.ack(), 200);
    assert_eq!(only.describe(), "200 or 204");
    assert!(Success::Any2xx.accepts(299) && !Success::Any2xx.accepts(300));
    assert_eq!(Success::Any2xx.describe(), "2xx");
}

#[test]
fn pairs_keep_their_order_and_refuse_a_repeated_name() {
    let pairs: Pairs = serde_json::from_str(
        r#"{"sandbox": "https://s.example", "production": "https://p.example"}"#,
    )
    .unwrap();
    assert_eq!(pairs.keys().collect::<Vec<_>>(), ["sandbox", "production"]);
    assert_eq!(pairs.get("production"), Some("https://p.example"));
    assert_eq!(
        serde_json::to_string(&pairs).unwrap(),
        r#"{"sandbox":"https://s.example","production":"https://p.example"}"#
    );
    let err = serde_json::from_str::<Pairs>(r#"{"a": "1", "a": "2"}"#).unwrap_err();
    assert!(err.to_string().contains("`a` is given twice"), "{err}");
}

#[test]
fn routing_picks_the_event_by_every_discriminator_value() {
    let routing = Routing {
        discriminator: B(&[B("type"), B("code")]),
        events: B(&[(B(&[B("ITEM"), B("ERROR")]), B("ItemError"))]),
        subject: B(&[]),
        idempotency_key: None,
        responses: B(&[]),
    };
    assert_eq!(routing.event(&["ITEM", "ERROR"]), Some("ItemError"));
    assert_eq!(routing.response("ItemError"), None);
    assert_eq!(routing.event(&["ITEM", "OTHER"]), None);
    assert_eq!(routing.event(&["ITEM"]), None);
}

#[test]
fn source_ranges_parse_print_and_contain() {
    use hookspec_core::IpRange;
    let host: IpRange = "192.0.2.7".parse().unwrap();
    assert_eq!(host.prefix, 32);
    assert_eq!(host.to_string(), "192.0.2.7");
    assert!(host.contains("192.0.2.7".parse().unwrap()));
    assert!(!host.contains("192.0.2.8".parse().unwrap()));

    let range: IpRange = "192.30.252.0/22".parse().unwrap();
    assert_eq!(range.to_string(), "192.30.252.0/22");
    for (ip, inside) in [
        ("192.30.252.0", true),
        ("192.30.255.255", true),
        ("192.30.251.255", false),
        ("192.30.0.1", false),
        ("::ffff:192.30.253.1", true),
        ("2001:db8::1", false),
    ] {
        assert_eq!(range.contains(ip.parse().unwrap()), inside, "{ip}");
    }
    let v6: IpRange = "2a0a:a440::/29".parse().unwrap();
    assert!(v6.contains("2a0a:a447:ffff::1".parse().unwrap()));
    assert!(!v6.contains("2a0a:a448::1".parse().unwrap()));
    let everything: IpRange = "0.0.0.0/0".parse().unwrap();
    assert!(everything.contains("203.0.113.9".parse().unwrap()));

    assert_eq!(
        "192.0.2.1/24".parse::<IpRange>().unwrap_err(),
        "`192.0.2.1/24` has bits set past its prefix; the range is `192.0.2.0/24`"
    );
    assert!("192.0.2.0/33"
        .parse::<IpRange>()
        .unwrap_err()
        .contains("0 to 32"));
    assert_eq!(
        "192.0.2.300".parse::<IpRange>().unwrap_err(),
        "invalid IP address syntax"
    );
    assert_eq!(IpRange::host("192.0.2.7".parse().unwrap()), host);
}

#[test]
fn secrets_decode_padded_or_not_and_url_safe() {
    let b64 = SecretFormat {
        encoding: SecretEncoding::Base64,
        strip_prefix: Some(B("whsec_")),
    };
    // "hi?>" is base64 "aGk/Pg==", URL-safe "aGk_Pg==".
    for written in ["whsec_aGk/Pg==", "whsec_aGk/Pg", "aGk/Pg"] {
        assert_eq!(b64.key(written).as_deref(), Some(&b"hi?>"[..]), "{written}");
    }
    assert_eq!(
        b64.key("whsec_aGk_Pg"),
        None,
        "URL-safe letters are not standard base64"
    );
    let url = SecretFormat {
        encoding: SecretEncoding::Base64url,
        strip_prefix: None,
    };
    for written in ["aGk_Pg==", "aGk_Pg"] {
        assert_eq!(url.key(written).as_deref(), Some(&b"hi?>"[..]), "{written}");
    }
    assert_eq!(url.key("aGk/Pg"), None);
    assert_eq!(
        b64.describe(),
        "base64 (standard alphabet, padding optional) after the prefix `whsec_`"
    );
}

#[test]
fn hex_keys_decode_in_either_case_and_write_back_in_lower_case() {
    // Discord shows an application's Ed25519 public key as 64 hex digits.
    let hex = SecretFormat {
        encoding: SecretEncoding::Hex,
        strip_prefix: None,
    };
    let raw = [0xab_u8, 0x01, 0xff, 0x10];
    assert_eq!(hex.key("ab01ff10").as_deref(), Some(&raw[..]));
    assert_eq!(hex.key("AB01FF10").as_deref(), Some(&raw[..]));
    assert_eq!(hex.key("ab01ff1"), None, "odd length");
    assert_eq!(hex.key("ab01fg10"), None, "not a hex digit");
    assert_eq!(hex.write(&raw), "ab01ff10");
    assert_eq!(hex.describe(), "hex (either case)");
    // Every encoding reads back what it writes.
    for encoding in [
        SecretEncoding::Utf8,
        SecretEncoding::Base64,
        SecretEncoding::Base64url,
        SecretEncoding::Hex,
    ] {
        let format = SecretFormat {
            encoding,
            strip_prefix: Some(B("key_")),
        };
        let raw = b"signing key bytes";
        assert_eq!(format.key(&format.write(raw)).as_deref(), Some(&raw[..]));
    }
}
