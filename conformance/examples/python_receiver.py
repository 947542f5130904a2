#!/usr/bin/env python3
"""A webhook receiver outside Rust, for trying the conformance suite on it.

Serves Vezgo at /vezgo (checks x-client-id) and Belvo at /belvo (checks the optional
Authorization value), standard library only:

    python3 conformance/examples/python_receiver.py 8099 &
    hookspec-conformance run --url http://127.0.0.1:8099 \
        --provider vezgo --provider belvo \
        --client-id my-client --basic user:pass

or started by the suite on a port the system picks (it prints the URL it listens at):

    hookspec-conformance run --url http://127.0.0.1:0 \
        --receiver-cmd 'exec python3 conformance/examples/python_receiver.py "$HOOKSPEC_RECEIVER_PORT"' \
        --provider vezgo --client-id my-client
"""

import hmac
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "my-client"
AUTHORIZATION = "Basic " + base64.b64encode(b"user:pass").decode()
MAX_BODY = 1024 * 1024  # providers send a few KiB; refuse anything near this


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.answer(413)
            self.close_connection = True  # do not read the rest
            return
        body = self.rfile.read(length)
        if self.path == "/vezgo":
            given = self.headers.get("x-client-id", "")
            if not hmac.compare_digest(given.encode(), CLIENT_ID.encode()):
                return self.answer(401)
        elif self.path == "/belvo":
            given = self.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), AUTHORIZATION.encode()):
                return self.answer(401)
        else:
            return self.answer(404)
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            return self.answer(415)
        try:
            event = json.loads(body)
        except ValueError:
            return self.answer(400)
        if not isinstance(event, dict):
            return self.answer(400)
        # Queue the event here and answer at once; unknown events are acknowledged too.
        self.answer(200)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    # With port 0 the system picks one: this line tells the suite which.
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
