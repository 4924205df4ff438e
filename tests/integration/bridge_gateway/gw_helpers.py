"""Helpers for the bridge gateway tests: service tokens from a JWKS we serve, tiny misbehaving servers."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from werkzeug.wrappers import Request, Response

from shared.keys import generate_private_key, public_jwk, sign_jwt
from tests.stack import served

DEMO_PASSWORD = "DemoSub#2024"
SERVICE_SCOPES = "gateway:bridges gateway:relay"
# The service user's login answer of the stand-in EBS servers below.
LOGIN_ANSWER = (
    b'{"Model": {"UserID": "cloudsvc", "WebApiToken": "tok-aaaaaaaaaaaaaaaaaaaa", '
    b'"WebApiTokenExpiresAt": "2999-01-01T00:00:00+00:00"}}'
)


serve = served  # the bridge gateway tests' name for it


class TokenMint:
    """Signs RFC 9068 access tokens with a key whose JWKS the test serves as the auth server would."""

    def __init__(self) -> None:
        self.pem = generate_private_key("ES256")
        self.jwk = public_jwk(self.pem, "ES256")
        self.issuer = ""  # set once the JWKS server runs

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/.well-known/jwks.json":
            return Response(f'{{"keys": [{_json(self.jwk)}]}}', mimetype="application/json")(environ, start_response)
        return Response("not found", 404)(environ, start_response)

    def token(
        self,
        scope: str = SERVICE_SCOPES,
        *,
        client_id: str = "authserver",
        lifetime: int = 300,
        key_pem: str | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": "bridge_gateway",
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return sign_jwt(body, private_pem=key_pem or self.pem, kid=self.jwk["kid"], alg="ES256", typ="at+jwt")

    def headers(self, scope: str = SERVICE_SCOPES, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scope, **kwargs)}"}


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def bridge_body(sim_url: str, **overrides: Any) -> dict[str, Any]:
    """Registration of the demo bridge (config/simulator.toml) at a simulator's address."""
    port = int(sim_url.rsplit(":", 1)[1])
    return {
        "subscriptionId": "demo",
        "bridgeId": "Demo_002",
        "subscriptionGid": "3f2b8c1e-0000-4000-8000-000000000001",
        "subscriptionPassword": DEMO_PASSWORD,
        "scheme": "http",
        "host": "127.0.0.1",
        "port": port,
        "databaseId": "DEMO",
        "companyId": "002",
        **overrides,
    }


class FakeEbs:
    """A tiny stand-in EBS that records what it receives and answers what a test tells it to."""

    def __init__(self, answer: Callable[[Request], Response] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer = answer or self.default

    @staticmethod
    def default(request: Request) -> Response:
        if request.path == "/api/Login/Login":
            return Response(LOGIN_ANSWER, mimetype="application/json")
        return Response('{"ok": true}', mimetype="application/json")

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        self.requests.append({"path": request.path, "headers": dict(request.headers), "method": request.method})
        return self.answer(request)(environ, start_response)


class KeepAliveEbs:
    """A stand-in EBS that keeps connections alive (HTTP/1.1, as IIS does), counts the connections it accepts,
    and can be restarted on the same port; `answer(method, path, body)` gives (status, headers, body)."""

    def __init__(
        self,
        answer: Callable[[str, str, bytes], tuple[int, dict[str, str], bytes]] | None = None,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.answer = answer or self.default
        self.tls = tls
        self.accepted = 0
        self.requests: list[dict[str, Any]] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @staticmethod
    def default(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/api/Login/Login":
            return 200, {"Content-Type": "application/json"}, LOGIN_ANSWER
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> KeepAliveEbs:
        """Listen (again) on `port`, a free one the first time."""
        ebs = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with ebs._lock:
                    ebs.accepted += 1
                    ebs._sockets.add(self.connection)

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ebs.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
                status, headers, content = ebs.answer(self.command, self.path.split("?", 1)[0], body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (a restarting server)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
