"""Providers' official Python libraries, driven by conformance/tests/official_libraries.rs.

Usage: official.py verify|sign LIBRARY, with a JSON object on standard input:
{"secret": ..., "body": ..., "headers": {name: value}}.
`verify` exits 0 when the library accepts the delivery and 1 (with the reason) when it
does not; `sign` prints the headers the library makes for the body, as a JSON object.
"""

import datetime
import json
import sys
import time


def standardwebhooks(action, secret, body, headers):
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


def stripe(action, secret, body, headers):
    from stripe import Webhook, WebhookSignature

    if action == "verify":
        Webhook.construct_event(body, headers["stripe-signature"], secret)
        return None
    return {"Stripe-Signature": WebhookSignature.generate_signature_header(body, secret)}


def slack_sdk(action, secret, body, headers):
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


LIBRARIES = {"standardwebhooks": standardwebhooks, "stripe": stripe, "slack_sdk": slack_sdk}


def main():
    action, library = sys.argv[1], sys.argv[2]
    given = json.load(sys.stdin)
    headers = {k.lower(): v for k, v in given.get("headers", {}).items()}
    try:
        out = LIBRARIES[library](action, given["secret"], given["body"], headers)
    except Exception as error:  # the library's own refusal, whatever its class
        print(f"refused: {type(error).__name__}: {error}")
        sys.exit(1)
    print(json.dumps(out) if out is not None else "accepted")


if __name__ == "__main__":
    main()
