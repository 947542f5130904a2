"""Providers' official Python libraries, driven by conformance/tests/official_libraries.rs.

Usage: official.py verify|sign LIBRARY, with a JSON object on standard input:
{"secret": ..., "signing_key": ..., "body": ..., "url": ..., "headers": {name: value}}:
`secret` verifies and `signing_key` signs (the same text for a shared secret); `url` is
where the delivery goes, for schemes that sign it.
`verify` exits 0 when the library accepts the delivery and 1 (with the reason) when it
does not; `sign` prints the headers the library makes for the body, as a JSON object (a
library that makes its own key pair adds the public key as `public_key`).
"""

import base64
import datetime
import json
import sys
import time


def standardwebhooks(action, secret, signing_key, body, headers):
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(secret)
    if action == "verify":
        hook.verify(body, headers)
        return None
    msg_id = "msg_official_library_signed"
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": hook.sign(msg_id, now, body),
    }


def stripe(action, secret, signing_key, body, headers):
    from stripe import Webhook, WebhookSignature

    if action == "verify":
        Webhook.construct_event(body, headers["stripe-signature"], secret)
        return None
    return {"Stripe-Signature": WebhookSignature.generate_signature_header(body, secret)}


def slack_sdk(action, secret, signing_key, body, headers):
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(secret)
    if action == "verify":
        if not verifier.is_valid_request(body, headers):
            raise ValueError("is_valid_request returned False")
        return None
    timestamp = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": verifier.generate_signature(timestamp=timestamp, body=body),
    }


def discord_interactions(action, public_key, signing_key, body, headers):
    # The library only verifies; Discord signs with Ed25519 over the timestamp text followed
    # by the raw body, which PyNaCl (the library's own dependency) reproduces.
    from discord_interactions import verify_key

    if action == "verify":
        ok = verify_key(
            body.encode(), headers["x-signature-ed25519"], headers["x-signature-timestamp"], public_key
        )
        if not ok:
            raise ValueError("verify_key returned False")
        return None
    from nacl.signing import SigningKey

    timestamp = str(int(time.time()))
    signed = SigningKey(bytes.fromhex(signing_key)).sign((timestamp + body).encode())
    return {"X-Signature-Ed25519": signed.signature.hex(), "X-Signature-Timestamp": timestamp}


def twilio(action, secret, signing_key, body, headers, url):
    from urllib.parse import parse_qsl

    from twilio.request_validator import RequestValidator

    params = dict(parse_qsl(body, keep_blank_values=True))
    validator = RequestValidator(secret)
    if action == "verify":
        if not validator.validate(url, params, headers["x-twilio-signature"]):
            raise ValueError("validate returned False")
        return None
    return {"X-Twilio-Signature": validator.compute_signature(url, params)}


def sendgrid(action, public_key, signing_key, body, headers):
    # The library only verifies; SendGrid signs with ECDSA P-256 over the timestamp text
    # followed by the body (DER signature), which `cryptography` (the library's own
    # dependency) reproduces.
    from sendgrid.helpers.eventwebhook import EventWebhook

    if action == "verify":
        hook = EventWebhook()
        key = hook.convert_public_key_to_ecdsa(public_key)
        ok = hook.verify_signature(
            body,
            headers["x-twilio-email-event-webhook-signature"],
            headers["x-twilio-email-event-webhook-timestamp"],
            key,
        )
        if not ok:
            raise ValueError("verify_signature returned False")
        return None
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    timestamp = str(int(time.time()))
    der = private.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
    signature = base64.b64encode(der).decode()
    spki = base64.b64encode(
        private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    return {
        "X-Twilio-Email-Event-Webhook-Signature": signature,
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "public_key": spki,
    }


def truelayer_signing(action, public_key, signing_key, body, headers, url):
    # TrueLayer signs with its own key; `cryptography` (the library's dependency) makes a
    # P-521 key pair for the library to sign with, whose public half we verify with.
    from urllib.parse import urlsplit

    from truelayer_signing import HttpMethod, sign_with_pem, verify_with_pem

    path = urlsplit(url).path
    headers.setdefault("content-type", "application/json")
    if action == "verify":
        verifier = (
            verify_with_pem(public_key)
            .set_method(HttpMethod.POST)
            .set_path(path)
            .add_headers(headers)
            .set_body(body)
        )
        if verifier.verify(headers["tl-signature"]) is False:
            raise ValueError("verify returned False")
        return None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP521R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    timestamp = datetime.datetime.now(tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = (
        sign_with_pem("hookspec-official-library", private_pem)
        .set_method(HttpMethod.POST)
        .set_path(path)
        .add_header("X-Tl-Webhook-Timestamp", timestamp)
        .add_header("Content-Type", "application/json")
        .set_body(body)
        .sign()
    )
    return {
        "Tl-Signature": signature,
        "X-Tl-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
        "public_key": public_pem,
    }


LIBRARIES = {
    "standardwebhooks": standardwebhooks,
    "stripe": stripe,
    "slack_sdk": slack_sdk,
    "discord_interactions": discord_interactions,
    "twilio": twilio,
    "sendgrid": sendgrid,
    "truelayer_signing": truelayer_signing,
}
# Libraries whose scheme signs the URL (or its path) the delivery goes to.
TAKES_URL = {"twilio", "truelayer_signing"}


def main():
    action, library = sys.argv[1], sys.argv[2]
    given = json.load(sys.stdin)
    headers = {k.lower(): v for k, v in given.get("headers", {}).items()}
    args = [action, given["secret"], given.get("signing_key"), given["body"], headers]
    if library in TAKES_URL:
        args.append(given["url"])
    try:
        out = LIBRARIES[library](*args)
    except Exception as error:  # the library's own refusal, whatever its class
        print(f"refused: {type(error).__name__}: {error}")
        sys.exit(1)
    print(json.dumps(out) if out is not None else "accepted")


if __name__ == "__main__":
    main()
