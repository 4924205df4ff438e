"""shared.http: outbound calls carry the request id and a timeout."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flask import Flask

from shared.http import ServiceSession
from shared.logging import install_request_ids


@pytest.fixture
def echo_server():
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            seen.append(dict(self.headers))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def test_request_id_is_passed_to_the_next_hop(echo_server):
    url, seen = echo_server
    app = Flask("t")
    install_request_ids(app)
    session = ServiceSession(timeout=2)

    @app.get("/")
    def call_next_hop():
        session.get(url)
        return "", 204

    app.test_client().get("/", headers={"X-Request-ID": "hop-1"})
    assert seen[-1]["X-Request-ID"] == "hop-1"


def test_outside_a_request_no_id_is_invented(echo_server):
    url, seen = echo_server
    ServiceSession().get(url)
    assert "X-Request-ID" not in seen[-1]
