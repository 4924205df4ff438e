"""Only service tokens from the auth server, for this audience and with the right scope, reach the API (RFC 6750)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.keys import generate_private_key
from tests.integration.bridge_gateway.conftest import BRIDGE
from tests.integration.bridge_gateway.gw_helpers import TokenMint


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("make_headers", "status", "error"),
    [
        (lambda mint: {}, 401, None),
        (lambda mint: {"Authorization": "Basic Zm9vOmJhcg=="}, 401, None),
        (lambda mint: _bearer("not-a-jwt"), 401, "invalid_token"),
        (lambda mint: _bearer(mint.token(lifetime=-60)), 401, "invalid_token"),
        (lambda mint: _bearer(mint.token(aud="resource_api")), 401, "invalid_token"),
        (lambda mint: _bearer(mint.token(iss="https://evil.example")), 401, "invalid_token"),
        (lambda mint: _bearer(mint.token(key_pem=generate_private_key("ES256"))), 401, "invalid_token"),
        (lambda mint: _bearer(mint.token(sub="alice")), 401, "invalid_token"),  # a user's token, not a service's
        (lambda mint: _bearer(mint.token("gateway:relay")), 403, "insufficient_scope"),
        (lambda mint: _bearer(mint.token(subscription_id="other")), 403, "insufficient_scope"),
    ],
)
def test_bridges_api_refuses_anything_but_a_service_token(
    module_client: FlaskClient, mint: TokenMint, make_headers: Any, status: int, error: str | None
) -> None:
    response = module_client.get(f"{BRIDGE}", headers=make_headers(mint))
    assert response.status_code == status
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="bridge_gateway"')
    if error:
        assert f'error="{error}"' in challenge
        assert response.get_json()["error"] == error
    else:
        assert "error=" not in challenge  # RFC 6750 §3.1: no error code when credentials are simply missing
    assert response.headers["Cache-Control"] == "no-store"


def test_relay_needs_the_relay_scope(module_client: FlaskClient, mint: TokenMint) -> None:
    response = module_client.get(f"{BRIDGE}/relay/api/rpc/FetchSessionInfo/", headers=mint.headers("gateway:bridges"))
    assert response.status_code == 403
    assert 'scope="gateway:relay"' in response.headers["WWW-Authenticate"]


def test_a_valid_token_passes(module_client: FlaskClient, headers: dict[str, str]) -> None:
    response = module_client.get(BRIDGE, headers=headers)
    assert response.status_code == 404  # the token is fine; there is no such bridge yet
    assert response.get_json()["type"] == "https://cloudstore.dev/problems/bridge-not-found"


def test_every_v1_route_is_protected(app: Flask) -> None:
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/v1/")]
    assert len(rules) >= 10
    client = app.test_client()
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = rule.rule.replace("<path:ebs_path>", "api/x").replace("<", "").replace(">", "")
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path)


def test_tokens_are_not_needed_for_health_and_openapi(module_client: FlaskClient) -> None:
    assert module_client.get("/healthz").status_code == 200
    spec = module_client.get("/openapi.json").get_json()
    assert "/v1/bridges/{subscription_id}/{bridge_id}/verify/challenge" in spec["paths"]
