"""Endpoint tokens (API keys), issue #7: the Integrations tab, Allow / Deny through the portal's own OAuth
client, registration in EBS's company parameters, click-to-show, rotate, revoke; keys at introspection
(`token_type_hint=api_key`) and as client credentials (`client_id` = the token's `ept_…` id).
"""

from __future__ import annotations

from flask import Flask

from shared.config import ConfigError

__all__ = ["init_app"]

DEFAULTS = {
    "ENDPOINT_TOKEN_ROTATION_GRACE_SECONDS": 86400,
    "ENDPOINT_TOKEN_REQUEST_LIFETIME": 600,
    # A key's state (status, licence, grace) is reread at most this often per worker; with the resource API's
    # INTROSPECTION_CACHE_SECONDS it bounds how long a key revoked elsewhere keeps working.
    "ENDPOINT_TOKEN_CACHE_SECONDS": 1,
}


def init_app(app: Flask) -> None:
    """Register the pages, the JSON API, the consent provider, the token kind and the client resolver."""
    from authserver.clients.cache import TTLCache
    from authserver.endpoint_tokens import callback as _callback  # noqa: F401 - its route joins `bp`
    from authserver.endpoint_tokens import models as _models  # noqa: F401 - registers the tables
    from authserver.endpoint_tokens.api import bp as api_bp
    from authserver.endpoint_tokens.consent import endpoint_token_details
    from authserver.endpoint_tokens.oauth import API_KEY, KEY_STATES, resolve_client
    from authserver.endpoint_tokens.views import bp
    from authserver.oauth2.token_kinds import register_token_kind

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
        if int(app.config[key]) < 0:
            raise ConfigError(f"authserver: {key} must be a number of seconds, 0 or more")
        app.config[key] = int(app.config[key])
    app.extensions[KEY_STATES] = TTLCache(ttl=app.config["ENDPOINT_TOKEN_CACHE_SECONDS"], maxsize=10_000)
    app.register_blueprint(bp)
    app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(api_bp)
    app.extensions.setdefault("consent_details", []).append(endpoint_token_details)
    app.extensions.setdefault("client_resolvers", {})["ept_"] = resolve_client
    register_token_kind(app, API_KEY)
