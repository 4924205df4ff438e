"""The scope catalogue: every scope a client may be granted, with what it allows (RFC 6749 §3.3).

A client is registered with a subset of these; a token request names a subset of the client's scopes, or
none to get all of them. Internal scopes are granted only to the platform's own services. OIDC scopes
only make sense with a signed-in user, so the client-credentials grant never issues them; a user can grant
any scope but the internal ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CATALOGUE",
    "Scope",
    "advertised_scopes",
    "client_credentials_scopes",
    "is_internal",
    "parse_scope",
    "unknown_scopes",
    "user_scopes",
]


@dataclass(frozen=True)
class Scope:
    """One entry of the catalogue."""

    name: str
    description: str
    internal: bool = False
    oidc: bool = False


CATALOGUE: dict[str, Scope] = {
    scope.name: scope
    for scope in (
        Scope("attendance:write", "Send time-attendance punches (clock agents)."),
        Scope("insights:write", "Send application-insights events (EBS products)."),
        Scope("surveys:read", "Read survey property sets and campaigns."),
        Scope("surveys:write", "Create survey campaigns and post their responses."),
        Scope("gateway:relay", "Relay calls to a customer's EBS through the bridge gateway.", internal=True),
        Scope("gateway:bridges", "Register bridges and check ERP credentials at the bridge gateway.", internal=True),
        Scope(
            "resource:admin",
            "Read and retry a subscription's dead letters and insights at the resource API.",
            internal=True,
        ),
        Scope("openid", "Sign the user in (OpenID Connect).", oidc=True),
        Scope("profile", "The user's name and user id.", oidc=True),
        Scope("email", "The user's e-mail address.", oidc=True),
        Scope("offline_access", "Stay signed in with a refresh token.", oidc=True),
    )
}


def parse_scope(scope: str | None) -> list[str]:
    """The scope string's values, in order, without duplicates (RFC 6749 §3.3: space-delimited)."""
    return list(dict.fromkeys((scope or "").split()))


def unknown_scopes(names: Iterable[str]) -> list[str]:
    """The names that the catalogue does not hold."""
    return [name for name in names if name not in CATALOGUE]


def is_internal(name: str) -> bool:
    """True for scopes reserved to the platform's own services."""
    return CATALOGUE[name].internal


def client_credentials_scopes(names: Iterable[str]) -> list[str]:
    """The names a client-credentials token may carry: catalogue scopes that need no user."""
    return [name for name in names if name in CATALOGUE and not CATALOGUE[name].oidc]


def user_scopes(names: Iterable[str]) -> list[str]:
    """The names a signed-in user may grant a client: catalogue scopes that are not internal."""
    return [name for name in names if name in CATALOGUE and not CATALOGUE[name].internal]


def advertised_scopes() -> list[str]:
    """The scopes published in discovery: every one but the internal ones."""
    return [scope.name for scope in CATALOGUE.values() if not scope.internal]
