#!/usr/bin/env python3
"""A stateful webhook receiver: it looks up the object each event names in sqlite.

Serves Bridge at /bridge (HMAC-SHA256 `BridgeApi-Signature`) and Belvo at /belvo (the
optional Authorization value), standard library only. Every accepted delivery is stored
once in `deliveries` with what became of it: `processed` when its subject is a row of
`objects`, `unknown-subject` when it is not (still answered 200: the object may not be
stored yet or already deleted, and a 5xx only brings retries), `no-subject` when the body
names none.

    hookspec-conformance run --provider bridge --provider belvo \
        --url http://127.0.0.1:8098 --secret s3cret --basic user:pass \
        --subject 3f1c9a7e-5b2d-4c8e-9a61-2d7f0b4e8c15 --set content.item_id=4242 \
        --receiver-cmd "exec python3 conformance/examples/stateful_receiver.py \
            --db /tmp/hooks.db --port 8098 --secret s3cret --basic user:pass \
            --known 4242 --known 3f1c9a7e-5b2d-4c8e-9a61-2d7f0b4e8c15"

`--subject` puts the UUID (a Bridge user, a Belvo link) in every text subject field (it
leaves Bridge's integer item id alone); `--set` makes that item id the known 4242, the
path looked up first.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024  # providers send a few KiB; refuse anything near this

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS deliveries (
    provider TEXT NOT NULL,
    key TEXT NOT NULL,
    event TEXT NOT NULL,
    subject TEXT,
    outcome TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (provider, key)
);
"""


_log_lock = threading.Lock()


def log(line):
    with _log_lock:  # handler threads would otherwise interleave their lines
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


class Provider:
    """What differs between providers: how a delivery is verified, named and keyed."""

    name = ""
    discriminator = ()
    subject_paths = ()

    def event(self, doc):
        return ".".join(doc[d] for d in self.discriminator)

    def subject(self, doc):
        # The first subject path the body carries, as text (numbers as their digits).
        for path in self.subject_paths:
            value = doc
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None:
                return value if isinstance(value, str) else json.dumps(value)
        return None


class Bridge(Provider):
    name = "bridge"
    discriminator = ("type",)
    subject_paths = (
        "content.item_id",
        "content.user_uuid",
        "content.payment_transaction_id",
        "content.payment_link_id",
    )

    def __init__(self, secrets):
        self.secrets = [s.encode() for s in secrets]

    def authentic(self, headers, body):
        # `v1=<HEX>` entries, comma-separated; two during a secret rotation. Entries
        # with any other label are skipped, never tried.
        given = [
            value.strip().encode("latin-1")
            for label, _, value in (
                entry.strip().partition("=")
                for entry in headers.get("BridgeApi-Signature", "").split(",")
            )
            if label == "v1"
        ]
        ok = False
        for secret in self.secrets:
            want = hmac.new(secret, body, hashlib.sha256).hexdigest().upper().encode()
            for sig in given:
                ok |= hmac.compare_digest(sig, want)
        return ok

    def key(self, doc, body):
        # The body carries no delivery id: a redelivery is the same bytes again.
        return hashlib.sha256(body).hexdigest()


class Belvo(Provider):
    name = "belvo"
    discriminator = ("webhook_type", "webhook_code")
    subject_paths = ("link_id",)

    def __init__(self, authorization):
        self.authorization = authorization and authorization.encode("latin-1")

    def authentic(self, headers, body):
        if not self.authorization:
            return True  # no Authorization value was configured at Belvo
        given = headers.get("Authorization", "").encode("latin-1")
        return hmac.compare_digest(given, self.authorization)

    def key(self, doc, body):
        # Belvo's examples reuse one webhook_id across different events, so the id alone
        # could drop a new event as a repeat; a redelivery also has the same bytes.
        webhook_id = doc.get("webhook_id")
        digest = hashlib.sha256(body).hexdigest()
        return f"{webhook_id}:{digest}" if isinstance(webhook_id, str) else digest


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # a peer that stops sending mid-body does not hold a thread forever
    providers = {}
    db_path = ""

    def answer(self, status, close=False):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True  # the unread body must not be taken as a request
        self.end_headers()

    def do_POST(self):
        provider = self.providers.get(self.path.split("?", 1)[0].rstrip("/"))
        if provider is None:
            return self.answer(404, close=True)
        if self.headers.get("Transfer-Encoding"):
            return self.answer(411, close=True)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self.answer(400, close=True)
        if length < 0:
            return self.answer(400, close=True)
        if length > MAX_BODY:
            return self.answer(413, close=True)
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True  # the peer went away mid-body
            return
        if not provider.authentic(self.headers, body):
            return self.answer(401)
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return self.answer(415)
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            return self.answer(400)
        if not isinstance(doc, dict) or not all(
            isinstance(doc.get(d), str) and doc[d] for d in provider.discriminator
        ):
            return self.answer(400)
        try:
            outcome = self.record(provider, doc, body)
        except sqlite3.Error as e:
            log(f"{provider.name}: database error: {e}")
            return self.answer(500)  # the provider retries later
        log(f"{provider.name} {provider.event(doc)}: {outcome}")
        self.answer(200)  # only once the row is committed

    def record(self, provider, doc, body):
        """Stores the delivery once and acts on it; returns what became of it."""
        key = provider.key(doc, body)
        subject = provider.subject(doc)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        conn = sqlite3.connect(self.db_path, timeout=10, isolation_level=None)
        try:
            with conn:  # commits on success, rolls back on error
                # Claim the key and act in one transaction, so a redelivery racing this
                # one waits and then finds the key taken instead of acting again.
                conn.execute("BEGIN IMMEDIATE")
                claimed = conn.execute(
                    "INSERT OR IGNORE INTO deliveries"
                    " (provider, key, event, subject, outcome, received_at)"
                    " VALUES (?, ?, ?, ?, 'pending', ?)",
                    (provider.name, key, provider.event(doc), subject, now),
                ).rowcount
                if not claimed:
                    return "duplicate"
                known = subject is not None and conn.execute(
                    "SELECT 1 FROM objects WHERE id = ?", (subject,)
                ).fetchone()
                if subject is None:
                    outcome = "no-subject"
                elif known:
                    outcome = "processed"  # a real handler changes the object here
                else:
                    outcome = "unknown-subject"  # not stored yet, or already deleted
                conn.execute(
                    "UPDATE deliveries SET outcome = ? WHERE provider = ? AND key = ?",
                    (outcome, provider.name, key),
                )
        finally:
            conn.close()
        return outcome

    def do_GET(self):
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="sqlite file (created if missing)")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument(
        "--secret", action="append", required=True,
        help="Bridge webhook secret; give it twice during a rotation",
    )
    parser.add_argument("--basic", metavar="USER:PASS", help="Belvo's Authorization value")
    parser.add_argument("--bearer", metavar="TOKEN", help="Belvo's Authorization value")
    parser.add_argument(
        "--known", action="append", default=[], metavar="ID",
        help="an object the database holds (an item, user or Belvo link id)",
    )
    args = parser.parse_args()

    authorization = None
    if args.basic:
        authorization = "Basic " + base64.b64encode(args.basic.encode()).decode()
    elif args.bearer:
        authorization = "Bearer " + args.bearer

    conn = sqlite3.connect(args.db)
    with conn:
        conn.execute("PRAGMA journal_mode=WAL")  # readers do not block the writers
        conn.executescript(SCHEMA)
        conn.executemany("INSERT OR IGNORE INTO objects (id) VALUES (?)",
                         [(k,) for k in args.known])
    conn.close()

    Receiver.db_path = args.db
    Receiver.providers = {
        "/bridge": Bridge(args.secret),
        "/belvo": Belvo(authorization),
    }
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Receiver)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
