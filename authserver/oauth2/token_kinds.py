"""The kinds of token the introspection and revocation endpoints recognise, tried in order.

JWT access tokens and refresh tokens are built in; a feature registers its own kind on the app with
`register_token_kind` (endpoint tokens: API keys, presented as access tokens). A kind answers `find` with the
token's claims, or None when the string is not one of its tokens (it must never raise for garbage), and knows
how to revoke what it found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app

from authserver.extensions import db
from authserver.oauth2 import refresh_tokens, tokens
from authserver.oauth2.runtime import find_client, verify_jwt
from authserver.oauth2.user_grants import find_active_grant, revoke_grant

__all__ = ["BUILT_IN_KINDS", "FoundToken", "TokenKind", "find_token", "register_token_kind"]


@dataclass(frozen=True)
class FoundToken:
    """A presented token that a kind recognised, shaped as Authlib's `TokenMixin` expects."""

    kind: TokenKind
    claims: dict[str, Any]
    revoked: bool = False

    def check_client(self, client: Any) -> bool:
        """RFC 7009 §2.1: only the client the token was issued to may revoke it."""
        return bool(client.get_client_id() == self.claims.get("client_id"))

    def is_expired(self) -> bool:
        """True once `exp` has passed."""
        return bool(self.claims.get("exp", 0) <= time.time())

    def is_revoked(self) -> bool:
        """True when revoked, or when the client it was issued to no longer exists."""
        return self.revoked


@dataclass(frozen=True)
class TokenKind:
    """One kind of token: which `token_type_hint` values name it, how to find one, how to revoke it."""

    name: str
    hints: tuple[str, ...]
    find: Callable[[str], FoundToken | None] = field(repr=False)
    revoke: Callable[[FoundToken], None] = field(repr=False)


def _find_jwt(token: str) -> FoundToken | None:
    claims = verify_jwt(token)
    if claims is None:
        return None
    gone = find_client(claims["client_id"]) is None or tokens.is_revoked(engine=db.engine, jti=claims["jti"])
    if "grant_id" in claims and not gone:  # a user's token dies with its grant (code replay, refresh reuse)
        gone = find_active_grant(session=db.session, grant_id=str(claims["grant_id"]), now=datetime.now(UTC)) is None
    return FoundToken(kind=JWT_ACCESS_TOKEN, claims=claims, revoked=gone)


def _revoke_jwt(token: FoundToken) -> None:
    tokens.revoke_access_token(session=db.session, claims=token.claims)


JWT_ACCESS_TOKEN = TokenKind(name="jwt_access_token", hints=("access_token",), find=_find_jwt, revoke=_revoke_jwt)


def _find_refresh(token: str) -> FoundToken | None:
    found = refresh_tokens.find_refresh_token(session=db.session, token=token)
    if found is None:
        return None
    user = found.grant.user
    claims = {
        "token_type": "refresh_token",
        "client_id": found.client_id,
        "sub": user.sub,
        "scope": found.get_scope(),
        "iat": int(found.issued_at.timestamp()),
        "exp": int(found.expires_at.timestamp()),
        "subscription_id": user.subscription_id,
        "bridge_id": user.bridge_id,
        "grant_id": found.grant.id,
    }
    return FoundToken(kind=REFRESH_TOKEN, claims=claims, revoked=found.used or find_client(found.client_id) is None)


def _revoke_refresh(token: FoundToken) -> None:
    # RFC 7009 §2.1: revoking a refresh token also ends the access tokens of the same grant.
    revoke_grant(session=db.session, grant_id=token.claims["grant_id"])


REFRESH_TOKEN = TokenKind(name="refresh_token", hints=("refresh_token",), find=_find_refresh, revoke=_revoke_refresh)

BUILT_IN_KINDS = (JWT_ACCESS_TOKEN, REFRESH_TOKEN)
_KINDS = "oauth2_token_kinds"


def register_token_kind(app: Flask, kind: TokenKind) -> None:
    """Let this app's introspection and revocation recognise `kind`, tried after the kinds it already knows."""
    kinds: list[TokenKind] = app.extensions.setdefault(_KINDS, list(BUILT_IN_KINDS))
    if kind not in kinds:
        kinds.append(kind)


def find_token(token: str, hint: str | None) -> FoundToken | None:
    """Try the kinds the hint names first, then the rest (RFC 7009 §2.1, RFC 7662 §2.1: a hint is only a hint)."""
    kinds = current_app.extensions.get(_KINDS, BUILT_IN_KINDS)
    ordered = sorted(kinds, key=lambda kind: hint not in kind.hints)
    for kind in ordered:
        if (found := kind.find(token)) is not None:
            return found
    return None
