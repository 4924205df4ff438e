"""`shared.service_auth`: bearer checks on a tiny Flask app (RFC 6750), and the service token client."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from flask import Flask, g, jsonify

from shared.keys import generate_private_key, public_jwk, sign_jwt
from shared.service_auth import BearerVerifier, ServiceTokenClient, ServiceTokenError, require_bearer

ISSUER = "https://auth.example.test"
PEM = generate_private_key("ES256")
JWK = public_jwk(PEM, "ES256")


def _token(*, pem: str = PEM, kid: str = JWK["kid"], typ: str = "at+jwt", **claims: Any) -> str:
    now = datetime.now(UTC)
    body = {
        "iss": ISSUER,
        "sub": "svc",
        "aud": "resource_api",
        "client_id": "svc",
        "scope": "attendance:write",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j1",
        **claims,
    }
    return sign_jwt(body, private_pem=pem, kid=kid, alg="ES256", typ=typ)


@pytest.fixture
def api() -> Flask:
    verifier = BearerVerifier(
        "https://auth.example.test/.well-known/jwks.json",
        ISSUER,
        "resource_api",
        fetch=lambda: {"keys": [JWK]},
        min_refresh_interval=0,
    )
    app = Flask(__name__)

    @app.get("/punches")
    @require_bearer(verifier, scopes=["attendance:write"])
    def punches():
        return jsonify(client=g.token_claims["client_id"])

    @app.get("/open")
    @require_bearer(verifier)
    def anything():
        return jsonify(sub=g.token_claims["sub"])

    return app


def _get(app: Flask, authorization: str | None, path: str = "/punches"):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return app.test_client().get(path, headers=headers)


def test_valid_token_reaches_the_view_with_its_claims(api):
    response = _get(api, f"Bearer {_token()}")
    assert response.status_code == 200 and response.get_json() == {"client": "svc"}


def test_no_scopes_required_means_any_valid_token(api):
    assert _get(api, f"Bearer {_token(scope='')}", "/open").status_code == 200


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwdw==", "Token abc"])
def test_missing_token_is_a_bare_challenge(api, authorization):
    response = _get(api, authorization)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="resource_api"'
    assert response.get_json()["error"] == "invalid_token" and response.get_json()["error_description"]


def _expired() -> str:
    now = datetime.now(UTC)
    return _token(iat=now - timedelta(hours=1), exp=now - timedelta(minutes=1))


# Tokens are made when the test runs (not at collection), so a slow suite cannot expire them first.
INVALID = [
    ("malformed", lambda: "not.a.jwt", "The access token is invalid."),
    ("garbage", lambda: "%%%", "The access token is invalid."),
    ("expired", _expired, "The access token expired."),
    ("wrong audience", lambda: _token(aud="bridge_gateway"), "The access token is not meant for this service."),
    ("wrong issuer", lambda: _token(iss="https://evil.example.test"), "The access token is invalid."),
    ("unknown kid", lambda: _token(kid="nope"), "The access token is invalid."),
    ("foreign key", lambda: _token(pem=generate_private_key("ES256")), "The access token is invalid."),
    ("not an access token", lambda: _token(typ="JWT"), "The access token is invalid."),
]


@pytest.mark.parametrize(("make_token", "description"), [row[1:] for row in INVALID], ids=[r[0] for r in INVALID])
def test_invalid_tokens_are_401_invalid_token(api, make_token, description):
    response = _get(api, f"Bearer {make_token()}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="resource_api", error="invalid_token", error_description="{description}"'
    )
    assert response.get_json() == {"error": "invalid_token", "error_description": description}
    assert response.headers["Cache-Control"] == "no-store"


def test_missing_scope_is_403_insufficient_scope(api):
    response = _get(api, f"Bearer {_token(scope='surveys:read')}")
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="resource_api", error="insufficient_scope", '
        'error_description="The token lacks scope attendance:write.", scope="attendance:write"'
    )
    assert response.get_json()["error"] == "insufficient_scope"


def test_unreachable_key_set_is_503_not_a_crash():
    def unreachable() -> dict:
        raise requests.ConnectionError("down")

    verifier = BearerVerifier("https://auth.example.test/jwks", ISSUER, "resource_api", fetch=unreachable)
    app = Flask(__name__)
    app.add_url_rule("/x", "x", require_bearer(verifier)(lambda: "ok"))
    response = app.test_client().get("/x", headers={"Authorization": f"Bearer {_token()}"})
    assert response.status_code == 503 and response.get_json()["error"] == "temporarily_unavailable"


def test_tokens_never_reach_the_logs(api, caplog):
    token = _token(kid="nope")
    with caplog.at_level("DEBUG"):
        _get(api, f"Bearer {token}")
    assert token not in caplog.text and token.split(".")[1] not in caplog.text


class _FakeTokenEndpoint:
    """Stands in for the token endpoint: counts calls, hands out numbered tokens."""

    def __init__(self, *, status: int = 200, expires_in: int = 300) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = status
        self.expires_in = expires_in
        self.lock = threading.Lock()

    def post(self, url: str, *, data: dict, auth: tuple[str, str], headers: dict) -> requests.Response:
        with self.lock:
            self.calls.append({"url": url, "data": data, "auth": auth})
            n = len(self.calls)
        response = requests.Response()
        response.status_code = self.status
        if self.status == 200:
            body = f'{{"access_token": "token-{n}", "token_type": "Bearer", "expires_in": {self.expires_in}}}'
        else:
            body = '{"error": "invalid_client", "error_description": "nope"}'
        response._content = body.encode()
        return response


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_service_token_client_caches_until_shortly_before_expiry():
    endpoint, clock = _FakeTokenEndpoint(expires_in=300), _Clock()
    client = ServiceTokenClient(
        "https://auth/oauth/token",
        "gw",
        "s3cret",
        "gateway:relay",
        audience="bridge_gateway",
        session=endpoint,
        clock=clock,
    )  # type: ignore[arg-type]
    assert client.token() == "token-1"
    clock.now += 269
    assert client.token() == "token-1"
    clock.now += 2  # 271 s: within 30 s of expiry
    assert client.token() == "token-2"
    assert len(endpoint.calls) == 2
    call = endpoint.calls[0]
    assert call["data"] == {"grant_type": "client_credentials", "scope": "gateway:relay", "audience": "bridge_gateway"}
    assert call["auth"] == ("gw", "s3cret")
    client.invalidate()
    assert client.token() == "token-3"


def test_service_token_client_fetches_once_for_many_threads():
    endpoint = _FakeTokenEndpoint()
    client = ServiceTokenClient("https://auth/oauth/token", "gw", "s", "", session=endpoint)  # type: ignore[arg-type]
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(client.token())) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) == {"token-1"} and len(endpoint.calls) == 1


def test_service_token_client_reports_refusals_without_the_secret():
    client = ServiceTokenClient(
        "https://auth/oauth/token", "gw", "very-secret", "x", session=_FakeTokenEndpoint(status=401)
    )  # type: ignore[arg-type]
    with pytest.raises(ServiceTokenError) as info:
        client.token()
    assert info.value.error == "invalid_client" and info.value.status == 401
    assert "very-secret" not in str(info.value) and "very-secret" not in repr(client)


def test_service_token_client_signs_requests():
    client = ServiceTokenClient("https://auth/oauth/token", "gw", "s", "", session=_FakeTokenEndpoint())  # type: ignore[arg-type]
    prepared = requests.Request("GET", "https://gateway.example.test/x", auth=client).prepare()
    assert prepared.headers["Authorization"] == "Bearer token-1"
