"""OpenID Connect: the claims about an end user (OIDC Core §5.1, §5.4) and ID tokens (§2, §3.1.3.6).

The same claims go into the ID token and the userinfo response: `sub` and the tenant (subscription,
bridge, branch) always; `name` and `preferred_username` (the ERP UserID) with `profile`; `email` with `email`.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterable
from typing import Any

from authserver.oauth2.keyring import Signer
from authserver.signin.users import EndUser

__all__ = ["CLAIMS_SUPPORTED", "ID_TOKEN_TYP", "at_hash", "issue_id_token", "user_claims"]

ID_TOKEN_TYP = "JWT"  # noqa: S105 - a media type (RFC 7519 §5.1), not a secret
_TENANT = ("subscription_id", "subscription_gid", "bridge_id", "branch_id")
CLAIMS_SUPPORTED = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "azp",
    "at_hash",
    "name",
    "preferred_username",
    "email",
    *_TENANT,
]


def user_claims(user: EndUser, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims about `user` that `scopes` release (OIDC Core §5.4)."""
    granted = set(scopes)
    claims: dict[str, Any] = {"sub": user.sub}
    claims.update({name: getattr(user, name) for name in _TENANT if getattr(user, name)})
    if "profile" in granted:
        claims["preferred_username"] = user.user_id
        if user.name:
            claims["name"] = user.name
    if "email" in granted and user.email:
        claims["email"] = user.email
    return claims


def at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the hash of the access token, base64url; SHA-256 for ES256/RS256."""
    if not alg.endswith("256"):
        raise ValueError(f"no at_hash rule for {alg}")
    half = hashlib.sha256(access_token.encode("ascii")).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


def issue_id_token(
    *,
    signer: Signer,
    issuer: str,
    client_id: str,
    user: EndUser,
    scopes: Iterable[str],
    lifetime: int,
    nonce: str | None = None,
    access_token: str | None = None,
) -> str:
    """Sign an ID token for `client_id` about `user` with the client's algorithm (OIDC Core §2, §3.1.3.3)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        **user_claims(user, scopes),
        "iss": issuer,
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + lifetime,
        "auth_time": user.auth_time or now,
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["at_hash"] = at_hash(access_token, signer.alg)
    return signer.sign(claims, typ=ID_TOKEN_TYP)
