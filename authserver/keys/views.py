"""Public key set (JWKS) and discovery documents (OIDC Discovery 1.0 §4, RFC 8414 §3)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, url_for

from authserver.extensions import db
from authserver.keys import service
from shared.keys import SUPPORTED_ALGS
from shared.service import encryptor

bp = Blueprint("keys", __name__)

# Metadata name -> view endpoint. A name is advertised only once its endpoint exists,
# so the documents never point at a URL that does not answer.
_ENDPOINTS = {
    "authorization_endpoint": "oauth.authorize",
    "token_endpoint": "oauth.token",
    "introspection_endpoint": "oauth.introspect",
    "revocation_endpoint": "oauth.revoke",
    "userinfo_endpoint": "oauth.userinfo",
    "end_session_endpoint": "oauth.end_session",
    "registration_endpoint": "oauth.register",
}


def _absolute(endpoint: str) -> str:
    return current_app.config["ISSUER"].rstrip("/") + url_for(endpoint)


def _metadata() -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "issuer": current_app.config["ISSUER"],
        "jwks_uri": _absolute("keys.jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "code_challenge_methods_supported": ["S256"],
    }
    metadata.update(current_app.config.get("DISCOVERY_EXTRA", {}))
    for name, endpoint in _ENDPOINTS.items():
        if endpoint in current_app.view_functions:
            metadata[name] = _absolute(endpoint)
    return metadata


@bp.get("/.well-known/jwks.json")
def jwks() -> Any:
    """The public signing keys, including retired ones whose tokens may still be valid."""
    service.ensure_keys(session=db.session, encryptor=encryptor(), algs=SUPPORTED_ALGS)
    document = service.published_jwks(session=db.session, max_token_lifetime=current_app.config["MAX_TOKEN_LIFETIME"])
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> Any:
    """OpenID Provider metadata."""
    return jsonify(_metadata())


@bp.get("/.well-known/oauth-authorization-server")
def oauth_authorization_server() -> Any:
    """OAuth 2.0 Authorization Server metadata."""
    return jsonify(_metadata())
