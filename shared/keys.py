"""Signing keys as JWKs: generation, public JWKs with RFC 7638 thumbprint ids, signing and verification."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = [
    "SUPPORTED_ALGS",
    "JWKSCache",
    "UnknownKeyError",
    "VerifiedTokenCache",
    "generate_private_key",
    "public_jwk",
    "sign_jwt",
]

SUPPORTED_ALGS = ("ES256", "RS256")


class UnknownKeyError(jwt.InvalidTokenError):
    """The token names a key id that the key set does not hold."""


def generate_private_key(alg: str) -> str:
    """A new private key for `alg`, as unencrypted PKCS#8 PEM (the caller encrypts it at rest)."""
    if alg == "ES256":
        key: Any = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"unsupported signing algorithm {alg!r}; choose one of {SUPPORTED_ALGS}")
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members in lexicographic order."""
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def public_jwk(private_pem: str, alg: str) -> dict[str, Any]:
    """The public JWK of a private key, with `kid` set to its RFC 7638 thumbprint."""
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public_key = private_key.public_key()
    algorithm = ECAlgorithm if alg == "ES256" else RSAAlgorithm
    jwk: dict[str, Any] = algorithm.to_jwk(public_key, as_dict=True)  # type: ignore[arg-type]
    jwk.update({"use": "sig", "alg": alg, "kid": _thumbprint(jwk)})
    return jwk


def sign_jwt(claims: Mapping[str, Any], *, private_pem: str, kid: str, alg: str, typ: str = "JWT") -> str:
    """Sign `claims` as a compact JWS with the given key."""
    return jwt.encode(dict(claims), private_pem, algorithm=alg, headers={"kid": kid, "typ": typ})


class VerifiedTokenCache:
    """Claims of tokens already verified, by the exact token (and what it was checked for), until `exp`.

    Decoding and verifying an ES256 JWT is most of a token check, and a client presents the same token for
    minutes. An entry matches only the very string that passed every check, so nothing else can use it; it is
    answered only while `exp` is in the future, and the caller must still find the entry's key id in its key
    set (so a key removed from it ends its tokens as before) and check revocation on every use.
    """

    def __init__(self, *, maxsize: int = 1024, clock: Callable[[], float] = time.time) -> None:
        self.maxsize = maxsize
        self._clock = clock
        self._entries: dict[Hashable, tuple[str, dict[str, Any], float]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[str, dict[str, Any]] | None:
        """The key id and a copy of the claims of an unexpired verified token, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        kid, claims, expires = entry
        if expires <= self._clock():
            self._entries.pop(key, None)
            return None
        return kid, dict(claims)

    def put(self, key: Hashable, kid: str, claims: Mapping[str, Any]) -> None:
        """Remember a token that passed verification (one without a numeric `exp` is not kept)."""
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or isinstance(expires, bool):
            return
        with self._lock:
            if len(self._entries) >= self.maxsize:
                now = self._clock()
                for stale in [k for k, entry in self._entries.items() if entry[2] <= now]:
                    del self._entries[stale]
                while len(self._entries) >= self.maxsize:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (kid, dict(claims), float(expires))

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


class JWKSCache:
    """Verifies JWTs against a remote key set, cached for `ttl` seconds and refetched on an unknown `kid`.

    Refetches on unknown ids are limited to one per `min_refresh_interval`, so forged ids cannot make
    every request call the key server. A token seen again is answered from a `VerifiedTokenCache` while it
    is unexpired and its key is still in the (possibly refreshed) key set.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        ttl: float = 300.0,
        min_refresh_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self._verified = VerifiedTokenCache()

    def _refresh(self) -> None:
        document = self._fetch()
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("use", "sig") == "sig" and jwk.get("alg") in SUPPORTED_ALGS and jwk.get("kid"):
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
        self._keys = keys
        self._fetched_at = self._clock()

    def key_for(self, kid: str) -> jwt.PyJWK:
        """The verification key with id `kid`, fetching the key set when it is stale or lacks the id."""
        with self._lock:
            age = self._clock() - self._fetched_at
            if age > self._ttl or (kid not in self._keys and age > self._min_refresh_interval):
                self._refresh()
            try:
                return self._keys[kid]
            except KeyError:
                raise UnknownKeyError(f"unknown key id {kid!r}") from None

    def verify(self, token: str, *, audience: str | list[str], issuer: str, typ: str | None = None) -> dict[str, Any]:
        """Verify signature, `exp`, `iat`, `aud`, `iss` (and the `typ` header if given); return the claims."""
        cache_key = (token, audience if isinstance(audience, str) else tuple(audience), issuer, typ)
        if (seen := self._verified.get(cache_key)) is not None:
            self.key_for(seen[0])  # raises UnknownKeyError once the key has left the key set
            return seen[1]
        header = jwt.get_unverified_header(token)
        if typ is not None and header.get("typ", "").lower() not in (typ.lower(), f"application/{typ.lower()}"):
            raise jwt.InvalidTokenError(f"unexpected token type {header.get('typ')!r}")
        kid = str(header.get("kid", ""))
        key = self.key_for(kid)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
        self._verified.put(cache_key, kid, claims)
        return claims
