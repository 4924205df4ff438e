"""Signing keys as JWKs: generation, public JWKs with RFC 7638 thumbprint ids, signing and verification."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = [
    "SUPPORTED_ALGS",
    "JWKSCache",
    "UnknownKeyError",
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


class JWKSCache:
    """Verifies JWTs against a remote key set, cached for `ttl` seconds and refetched on an unknown `kid`.

    Refetches on unknown ids are limited to one per `min_refresh_interval`, so forged ids cannot make
    every request call the key server.
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
        header = jwt.get_unverified_header(token)
        if typ is not None and header.get("typ", "").lower() not in (typ.lower(), f"application/{typ.lower()}"):
            raise jwt.InvalidTokenError(f"unexpected token type {header.get('typ')!r}")
        key = self.key_for(str(header.get("kid", "")))
        return jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
