"""The kinds of token the introspection and revocation endpoints recognise, tried in order.

Later work adds its kinds here: API keys (endpoint tokens, presented as access tokens) and refresh
tokens. A kind answers `find` with the token's claims, or None when the string is not one of its tokens
(it must never raise for garbage), and knows how to revoke what it found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authserver.extensions import db
from authserver.oauth2 import tokens
from authserver.oauth2.runtime import find_client, verify_jwt

__all__ = ["TOKEN_KINDS", "FoundToken", "TokenKind", "find_token"]


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
    gone = find_client(claims["client_id"]) is None or tokens.is_revoked(session=db.session, jti=claims["jti"])
    return FoundToken(kind=JWT_ACCESS_TOKEN, claims=claims, revoked=gone)


def _revoke_jwt(token: FoundToken) -> None:
    tokens.revoke_access_token(session=db.session, claims=token.claims)


JWT_ACCESS_TOKEN = TokenKind(name="jwt_access_token", hints=("access_token",), find=_find_jwt, revoke=_revoke_jwt)

TOKEN_KINDS: list[TokenKind] = [JWT_ACCESS_TOKEN]


def find_token(token: str, hint: str | None) -> FoundToken | None:
    """Try the kinds the hint names first, then the rest (RFC 7009 §2.1, RFC 7662 §2.1: a hint is only a hint)."""
    ordered = sorted(TOKEN_KINDS, key=lambda kind: hint not in kind.hints)
    for kind in ordered:
        if (found := kind.find(token)) is not None:
            return found
    return None
