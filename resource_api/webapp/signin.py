"""OpenID Connect sign-in for the apps' pages: each app is a confidential client of the auth server (authorization
code + PKCE S256, OIDC Core §3.1), configured from discovery alone; who is signed in, and to which tenant, is
kept in this service's own session cookie, taken from the validated ID token and never from the request.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, session

from shared.service import dev_secret

__all__ = [
    "SignedIn",
    "client_for",
    "configured_apps",
    "forget_identity",
    "init_signin",
    "remember_identity",
    "signed_in",
]

COOKIE = "cloudstore_apps"  # the auth server on the same host uses Flask's `session`; cookies ignore ports
_SESSION_KEY = "apps"
SCOPE = "openid profile email"
DEFAULT_MAX_AGE = 8 * 3600


@dataclass(frozen=True)
class SignedIn:
    """A user signed in to one app: who, in which subscription and bridge, and the ID token for sign-out."""

    sub: str
    name: str
    subscription_id: str
    bridge_id: str
    id_token: str
    signed_in_at: int

    @classmethod
    def from_claims(cls, claims: dict[str, Any], id_token: str) -> SignedIn | None:
        """The identity an ID token vouches for; None unless it names the user's subscription and bridge."""
        subscription, bridge = claims.get("subscription_id"), claims.get("bridge_id")
        if not (claims.get("sub") and subscription and bridge):
            return None
        name = claims.get("name") or claims.get("preferred_username") or claims["sub"]
        return cls(str(claims["sub"]), str(name), str(subscription), str(bridge), id_token, int(time.time()))


def init_signin(app: Flask) -> None:
    """A hardened session cookie, and one OAuth client per app listed in APP_CLIENTS."""
    app.secret_key = dev_secret(app, "SECRET_KEY")
    public = str(app.config.get("RESOURCE_API_URL") or "")
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_PATH="/apps/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # sent on the auth server's top-level redirect back to the callback
        SESSION_COOKIE_SECURE=public.startswith("https://"),
    )
    oauth = OAuth(app)
    metadata = f"{str(app.config['AUTH_SERVER_URL']).rstrip('/')}/.well-known/openid-configuration"
    for code, credentials in configured_apps(app).items():
        oauth.register(
            code,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
            server_metadata_url=metadata,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": 10},
        )
    app.extensions["webapp_oauth"] = oauth


def configured_apps(app: Flask) -> dict[str, dict[str, str]]:
    """APP_CLIENTS: app code -> its client_id and client_secret (entries missing either are ignored)."""
    value = app.config.get("APP_CLIENTS") or {}
    if not isinstance(value, dict):
        return {}
    return {
        str(code): {"client_id": str(item["client_id"]), "client_secret": str(item["client_secret"])}
        for code, item in value.items()
        if isinstance(item, dict) and item.get("client_id") and item.get("client_secret")
    }


def client_for(code: str) -> Any | None:
    """The app's OAuth client, or None when the app has no client configured here."""
    oauth: OAuth = current_app.extensions["webapp_oauth"]
    return oauth.create_client(code)


def signed_in(code: str) -> SignedIn | None:
    """Who is signed in to the app in this browser, while the local session is young enough."""
    data = (session.get(_SESSION_KEY) or {}).get(code)
    try:
        identity = SignedIn(**data) if isinstance(data, dict) else None
    except TypeError:
        identity = None
    max_age = int(current_app.config.get("APP_SESSION_MAX_AGE", DEFAULT_MAX_AGE))
    if identity is None or time.time() - identity.signed_in_at > max_age:
        return None
    return identity


def remember_identity(code: str, identity: SignedIn) -> None:
    """Sign the user in to the app in this browser."""
    apps = dict(session.get(_SESSION_KEY) or {})
    apps[code] = asdict(identity)
    session[_SESSION_KEY] = apps


def forget_identity(code: str) -> SignedIn | None:
    """Sign the user out of the app in this browser; return who was signed in."""
    identity = signed_in(code)
    apps = dict(session.get(_SESSION_KEY) or {})
    apps.pop(code, None)
    session[_SESSION_KEY] = apps
    return identity
