"""Client registration: the service, the `cloudstore clients` commands, and service-to-service auth end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask import Flask, g, jsonify
from sqlalchemy import select

from authserver.clients import service as clients
from authserver.clients.models import OAuthClient
from authserver.extensions import db
from authserver.oauth2.runtime import client_cache, find_client
from cloudstore.cli import main
from shared.errors import NotFound
from shared.secrets import digest
from shared.service_auth import BearerVerifier, ServiceTokenClient, ServiceTokenError, require_bearer

from .conftest import ISSUER, fetch_token


def test_client_ids_never_look_like_a_command_line_option():
    assert not [client_id for client_id in (clients.new_client_id() for _ in range(2000)) if client_id[0] == "-"]


def test_secret_is_stored_only_as_a_digest(app, oauth_client):
    row = db.session.get(OAuthClient, oauth_client.client.client_id)
    assert row.client_secret_digest == digest(oauth_client.client_secret)
    assert oauth_client.client_secret not in repr(row.__dict__)
    assert len(oauth_client.client_secret) >= 43  # 256 bits


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "admin"}, "not in the catalogue"),
        ({"scope": "gateway:relay"}, "reserved to internal clients"),
        ({"grant_types": ["password"]}, "unsupported grant types"),
        ({"grant_types": ["implicit"]}, "unsupported grant types"),
        ({"grant_types": ["authorization_code"]}, "needs at least one redirect URI"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["http://evil.example.test/cb"]}, "redirect URI"),
        ({"grant_types": ["authorization_code"], "redirect_uris": ["https://a.example.test/cb#x"]}, "redirect URI"),
        ({"alg": "HS256"}, "alg must be"),
        ({"name": " "}, "name must be"),
        ({"audience": "bad audience!"}, "invalid audiences"),
        ({"token_endpoint_auth_method": "none"}, "token_endpoint_auth_method"),
    ],
)
def test_invalid_metadata_is_refused(app, kwargs, message):
    with pytest.raises(clients.InvalidClientMetadataError, match=message):
        clients.create_client(session=db.session, **{"name": "x", **kwargs})
    assert db.session.scalars(select(OAuthClient)).first() is None


def test_internal_clients_may_hold_internal_scopes(app):
    new = clients.create_client(session=db.session, name="gateway caller", scope="gateway:relay", is_internal=True)
    assert new.client.scopes == ("gateway:relay",) and new.client.is_internal


def test_loopback_http_redirect_uri_is_allowed(app):
    new = clients.create_client(
        session=db.session,
        name="desktop",
        grant_types=["authorization_code"],
        redirect_uris=["http://127.0.0.1:8765/cb"],
    )
    assert new.client.redirect_uris == ("http://127.0.0.1:8765/cb",)


def test_lookups_are_cached_and_invalidated_on_rotation(app, oauth_client):
    client_id = oauth_client.client.client_id
    first = find_client(client_id)
    db.session.get(OAuthClient, client_id).name = "renamed behind the cache's back"
    db.session.commit()
    assert find_client(client_id) is first, "served from the cache within the TTL"
    rotated = clients.rotate_secret(session=db.session, client_id=client_id, cache=client_cache())
    fresh = find_client(client_id)
    assert fresh is not first and fresh.name == "renamed behind the cache's back"
    assert fresh.secret_matches(rotated.client_secret) and not fresh.secret_matches(oauth_client.client_secret)


def test_delete_invalidates_the_cache(app, oauth_client):
    client_id = oauth_client.client.client_id
    assert find_client(client_id) is not None
    clients.delete_client(session=db.session, client_id=client_id, cache=client_cache())
    assert find_client(client_id) is None
    with pytest.raises(NotFound):
        clients.get_client(session=db.session, client_id=client_id)
    with pytest.raises(NotFound):
        clients.delete_client(session=db.session, client_id=client_id, cache=None)


@pytest.fixture
def cli(monkeypatch, database_url):
    """Run `cloudstore` against the test database, migrated first as an operator would."""
    monkeypatch.setenv("AUTHSERVER_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    return run


def _json(result) -> object:
    assert result.exit_code == 0, result.output
    try:
        return json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"--json printed more than JSON: stdout={result.stdout!r} stderr={result.stderr!r}")


def test_cli_create_list_show_rotate_delete(cli):
    created = cli(
        "clients",
        "create",
        "--name",
        "Resource API",
        "--grant",
        "client_credentials",
        "--scope",
        "gateway:relay",
        "--audience",
        "bridge_gateway",
        "--alg",
        "RS256",
        "--json",
    )
    credentials = _json(created)
    client_id, secret = credentials["client_id"], credentials["client_secret"]

    listed = cli("clients", "list", "--json")
    assert [c["client_id"] for c in _json(listed)] == [client_id]
    assert secret not in listed.output

    shown = _json(cli("clients", "show", client_id, "--json"))
    assert shown["name"] == "Resource API" and shown["alg"] == "RS256" and shown["audience"] == "bridge_gateway"
    assert shown["scope"] == "gateway:relay" and shown["is_internal"] is True
    assert secret not in json.dumps(shown)
    plain = cli("clients", "show", client_id)
    assert f"client_id: {client_id}" in plain.stdout

    rotated = _json(cli("clients", "rotate-secret", client_id, "--json"))
    assert rotated["client_id"] == client_id and rotated["client_secret"] != secret

    deleted = cli("clients", "delete", client_id)
    assert deleted.exit_code == 0 and client_id in deleted.stdout
    assert _json(cli("clients", "list", "--json")) == []


def test_cli_plain_output_shows_the_secret_once(cli):
    result = cli("clients", "create", "--name", "Clock agent relay", "--scope", "attendance:write")
    assert result.exit_code == 0
    assert "client_id:" in result.stdout and "client_secret:" in result.stdout
    assert "cannot be shown again" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("clients", "show", "no-such-client"),
        ("clients", "rotate-secret", "no-such-client"),
        ("clients", "delete", "no-such-client"),
        ("clients", "create", "--name", "x", "--scope", "admin"),
    ],
)
def test_cli_errors_are_messages_not_tracebacks(cli, args):
    result = cli(*args)
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output


def test_cli_refuses_the_password_grant(cli):
    result = cli("clients", "create", "--name", "x", "--grant", "password")
    assert result.exit_code == 2 and "password" in result.output


def test_service_token_client_and_bearer_verifier_end_to_end(live_server, make_client):
    """The gateway's client gets a token from the real server; a protected API verifies it against the JWKS."""
    caller = make_client(
        name="gateway", scope="gateway:relay attendance:write", audience="bridge_gateway", is_internal=True
    )
    tokens = ServiceTokenClient(
        f"{live_server}/oauth/token",
        caller.client.client_id,
        caller.client_secret,
        "gateway:relay",
        audience="bridge_gateway",
    )
    verifier = BearerVerifier(f"{live_server}/.well-known/jwks.json", ISSUER, "bridge_gateway")
    api = Flask(__name__)

    @api.post("/relay")
    @require_bearer(verifier, scopes=["gateway:relay"])
    def relay():
        return jsonify(caller=g.token_claims["client_id"], scope=g.token_claims["scope"])

    token = tokens.token()
    assert tokens.token() == token, "cached"
    response = api.test_client().post("/relay", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"caller": caller.client.client_id, "scope": "gateway:relay"}

    # A token for the resource API is refused by the gateway.
    other = fetch_token(live_server, caller, resource="bridge_gateway", scope="attendance:write")["access_token"]
    denied = api.test_client().post("/relay", headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 403 and denied.get_json()["error"] == "insufficient_scope"

    bad = ServiceTokenClient(f"{live_server}/oauth/token", caller.client.client_id, "wrong", "gateway:relay")
    with pytest.raises(ServiceTokenError) as info:
        bad.token()
    assert info.value.error == "invalid_client" and info.value.status == 401
    for closable in (tokens, verifier, bad):
        closable.close()
