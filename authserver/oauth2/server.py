"""The Authlib authorization server, its client adapter, and `init_app`, which wires them into the app."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer as _AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_basic
from flask import Flask

from authserver.clients.cache import TTLCache
from authserver.clients.service import RegisteredClient
from authserver.oauth2.end_session import EndSessionEndpoint
from authserver.oauth2.endpoints import IntrospectionEndpoint, RevocationEndpoint
from authserver.oauth2.fast_lane import install_fast_lane
from authserver.oauth2.grants import CLIENT_AUTH_METHODS, USER_GRANT_AUTH_METHODS, ClientCredentialsGrant
from authserver.oauth2.keyring import KeyRing
from authserver.oauth2.limits import TokenRateLimit
from authserver.oauth2.oidc import CLAIMS_SUPPORTED
from authserver.oauth2.purge import purge_command
from authserver.oauth2.runtime import OAuth2State, find_client
from authserver.oauth2.scopes import advertised_scopes, parse_scope, user_scopes
from authserver.oauth2.user_flows import AuthorizationCodeGrant, OpenIDCode, RefreshTokenGrant, S256CodeChallenge
from authserver.oauth2.views import bp
from authserver.portal.security import serve_without_sessions
from shared.config import ConfigError

__all__ = ["AuthorizationServer", "OAuth2Client", "init_app"]

DEFAULTS = {
    "ACCESS_TOKEN_LIFETIME": 300,
    "TOKEN_RATE_LIMIT": "600/second",
    "CLIENT_CACHE_SECONDS": 5,
    "SIGNING_KEY_CACHE_SECONDS": 5,
    "AUTHORIZATION_CODE_LIFETIME": 60,
    "ID_TOKEN_LIFETIME": 300,
    "REFRESH_TOKEN_LIFETIME": 30 * 86400,
    "OAUTH_PURGE_SECONDS": 60,
}


class OAuth2Client(ClientMixin):
    """Authlib's view of a registered client."""

    def __init__(self, record: RegisteredClient) -> None:
        self.record = record

    def get_client_id(self) -> str:
        """The client's id."""
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        """The first registered redirect URI, if any."""
        return self.record.redirect_uris[0] if self.record.redirect_uris else None

    @property
    def client_metadata(self) -> dict[str, Any]:
        """The registration metadata Authlib's OIDC endpoints read (RP-Initiated Logout §3.1)."""
        return {"post_logout_redirect_uris": list(self.record.post_logout_redirect_uris)}

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes that the client holds; none requested means every one a user can grant."""
        requested = parse_scope(scope) or user_scopes(self.record.scopes)
        return " ".join(name for name in requested if name in self.record.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match against the registered URIs (OAuth 2.0 Security BCP §4.1.3)."""
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Constant-time check against the stored digest."""
        return self.record.secret_matches(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """RFC 7591 §2: the client authenticates the way it was registered, at every endpoint."""
        return method == self.record.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        """Only `code`, for clients registered for the authorization-code grant."""
        return response_type == "code" and "authorization_code" in self.record.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        """True for the grant types the client was registered for."""
        return grant_type in self.record.grant_types


class AuthorizationServer(_AuthorizationServer):
    """Authlib's Flask server over the client registry; access tokens are JWTs, never stored."""

    def query_client(self, client_id: str) -> OAuth2Client | None:
        """The registered client, read through the short-lived cache."""
        record = find_client(client_id)
        return OAuth2Client(record) if record is not None else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to save: a JWT access token carries its own state (DESIGN §7)."""


def _client_secret_basic(query_client: Any, request: Any) -> Any:
    # Authlib decodes the Basic credentials as UTF-8 without catching a failure; bad bytes mean no client.
    try:
        return authenticate_client_secret_basic(query_client, request)
    except UnicodeDecodeError:
        return None


def _check_config(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    ceiling = int(app.config["MAX_TOKEN_LIFETIME"])
    for key in ("ACCESS_TOKEN_LIFETIME", "ID_TOKEN_LIFETIME"):  # JWTs: their key stays published this long
        lifetime = int(app.config[key])
        if not 0 < lifetime <= ceiling:
            raise ConfigError(f"authserver: {key} must be between 1 and MAX_TOKEN_LIFETIME ({ceiling})")
        app.config[key] = lifetime
    for key in ("AUTHORIZATION_CODE_LIFETIME", "REFRESH_TOKEN_LIFETIME"):
        if int(app.config[key]) <= 0:
            raise ConfigError(f"authserver: {key} must be a positive number of seconds")
        app.config[key] = int(app.config[key])
    if int(app.config["AUTHORIZATION_CODE_LIFETIME"]) > 600:  # RFC 6749 §4.1.2: at most 10 minutes
        raise ConfigError("authserver: AUTHORIZATION_CODE_LIFETIME must be at most 600 seconds")


def init_app(app: Flask) -> None:
    """Register the OAuth endpoints, the grants, rate limits and discovery metadata."""
    from authserver.oauth2 import authorize, end_session, userinfo  # noqa: F401 - their routes join `bp`

    _check_config(app)
    server = AuthorizationServer(app)
    server.issuer = app.config["ISSUER"]
    server.register_client_auth_method("client_secret_basic", _client_secret_basic)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True), OpenIDCode(require_nonce=False)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(EndSessionEndpoint)
    app.extensions["oauth2"] = OAuth2State(
        server=server,
        clients=TTLCache(ttl=float(app.config["CLIENT_CACHE_SECONDS"])),
        keyring=KeyRing(signer_ttl=float(app.config["SIGNING_KEY_CACHE_SECONDS"])),
        token_limit=TokenRateLimit.from_config(app.config),  # one app's counters, never shared with another's
    )
    if "purge" not in bp.cli.commands:
        bp.cli.add_command(purge_command)  # flask --app authserver oauth purge
    app.register_blueprint(bp)
    install_fast_lane(app)
    serve_without_sessions(app, "oauth.token", "oauth.introspect", "oauth.revoke")  # clients authenticate, no cookies
    app.config["DISCOVERY_EXTRA"] = {
        **app.config.get("DISCOVERY_EXTRA", {}),
        "grant_types_supported": ["authorization_code", "refresh_token", ClientCredentialsGrant.GRANT_TYPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207 §3
        "prompt_values_supported": ["none", "login", "consent"],
        "scopes_supported": advertised_scopes(),
        "claims_supported": CLAIMS_SUPPORTED,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,  # OIDC Discovery §3: it defaults to true when left out
        "token_endpoint_auth_methods_supported": USER_GRANT_AUTH_METHODS,  # `none`: public clients, PKCE S256
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": USER_GRANT_AUTH_METHODS,
    }
