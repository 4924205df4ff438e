"""The key set as the token endpoints use it: active signing keys and verification keys, held in memory.

Reading and decrypting the active key on every token request would cost a database round trip and a key
load; a worker keeps it for `signer_ttl` seconds instead. A key stored by this process (`ensure_keys`,
`rotate_keys`) replaces the cached signers at once; a rotation done elsewhere (`cloudstore keys rotate`)
reaches every worker within `signer_ttl`, while the old key stays published, so its tokens keep verifying.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_encode
from sqlalchemy import event
from sqlalchemy.orm import Session

from authserver.clients.cache import TTLCache
from authserver.keys.models import SigningKey
from authserver.keys.service import active_key, published_jwks
from shared.keys import VerifiedTokenCache
from shared.secrets import Encryptor

__all__ = ["KeyRing", "Signer"]

_ALGORITHMS = get_default_algorithms()


@dataclass(frozen=True)
class Signer:
    """An active private key, loaded once, that signs compact JWS.

    The protected header is the same for every token of a key and type, so it is encoded once; each token
    costs one JSON encoding of its claims and one signature (what `jwt.encode` does, without rebuilding,
    validating and encoding the header each time). The output is the same compact JWS.
    """

    kid: str
    alg: str
    key: Any
    _headers: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def sign(self, claims: Mapping[str, Any], *, typ: str) -> str:
        """Sign `claims` with this key, naming it in the `kid` header."""
        header = self._headers.get(typ)
        if header is None:
            fields = {"alg": self.alg, "kid": self.kid, "typ": typ}
            header = self._headers[typ] = base64url_encode(json.dumps(fields, separators=(",", ":")).encode())
        signing_input = header + b"." + base64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        signature = _ALGORITHMS[self.alg].sign(signing_input, self.key)
        return (signing_input + b"." + base64url_encode(signature)).decode()


_rings: weakref.WeakSet[KeyRing] = weakref.WeakSet()


class KeyRing:
    """Per-app cache of the active signer for each algorithm, of the published verification keys, and of the
    access tokens already verified with them (`verified`; emptied whenever the key set is reread)."""

    def __init__(self, *, signer_ttl: float) -> None:
        self._signers: TTLCache[str, Signer] = TTLCache(ttl=signer_ttl, maxsize=8)
        self._verification_keys: dict[str, jwt.PyJWK] = {}
        self.verified = VerifiedTokenCache()
        self._lock = threading.Lock()
        _rings.add(self)

    def signer(self, alg: str, *, session: Session, encryptor: Encryptor) -> Signer:
        """The active key for `alg` (created on first use), cached for the signer TTL."""

        def load() -> Signer:
            key = active_key(session=session, encryptor=encryptor, alg=alg)
            private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
            return Signer(kid=key.kid, alg=key.alg, key=private)

        return cast(Signer, self._signers.get_or_load(alg, load))  # load() never answers None

    def verification_key(self, kid: str, *, session: Session, max_token_lifetime: int) -> jwt.PyJWK | None:
        """The published key `kid`, rereading the key set when the id is new to this worker."""
        key = self._verification_keys.get(kid)
        if key is None:
            document = published_jwks(session=session, max_token_lifetime=max_token_lifetime)
            keys = {jwk["kid"]: jwt.PyJWK(jwk) for jwk in document["keys"]}
            with self._lock:
                self._verification_keys = keys
                self.verified.clear()
            key = keys.get(kid)
        return key

    def forget_signers(self) -> None:
        """Drop the cached signers, so the next token uses whatever key is active now."""
        self._signers.clear()


@event.listens_for(SigningKey, "after_insert")
def _key_added(*_: Any) -> None:
    for ring in list(_rings):
        ring.forget_signers()
