"""Key set lifecycle: create on first use, rotate, publish, sign, purge what no token can need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver.keys.models import SigningKey
from shared.keys import generate_private_key, public_jwk
from shared.secrets import Encryptor

__all__ = ["ActiveKey", "active_key", "ensure_keys", "published_jwks", "purge_expired_keys", "rotate_keys"]


@dataclass(frozen=True)
class ActiveKey:
    """The key that signs new tokens, decrypted for use in memory only."""

    kid: str
    alg: str
    private_pem: str


def _now() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _create_key(*, session: Session, encryptor: Encryptor, alg: str) -> SigningKey:
    private_pem = generate_private_key(alg)
    jwk = public_jwk(private_pem, alg)
    key = SigningKey(
        kid=jwk["kid"],
        alg=alg,
        private_key_encrypted=encryptor.encrypt(private_pem),
        public_jwk=jwk,
        created_at=_now(),
    )
    session.add(key)
    return key


def _current(session: Session, alg: str) -> SigningKey | None:
    query = (
        select(SigningKey)
        .where(SigningKey.alg == alg, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc())
    )
    return session.execute(query).scalars().first()


def active_key(*, session: Session, encryptor: Encryptor, alg: str) -> ActiveKey:
    """The current signing key for `alg`, generated and stored on first use."""
    key = _current(session, alg)
    if key is None:
        key = _create_key(session=session, encryptor=encryptor, alg=alg)
        session.commit()
    return ActiveKey(kid=key.kid, alg=key.alg, private_pem=encryptor.decrypt(key.private_key_encrypted))


def ensure_keys(*, session: Session, encryptor: Encryptor, algs: tuple[str, ...]) -> None:
    """Create an active key for every algorithm that has none (the key set's first start)."""
    missing = [alg for alg in algs if _current(session, alg) is None]
    for alg in missing:
        _create_key(session=session, encryptor=encryptor, alg=alg)
    if missing:
        session.commit()


def rotate_keys(*, session: Session, encryptor: Encryptor, algs: tuple[str, ...]) -> list[str]:
    """Retire the active key of each algorithm and create a new one; return the new key ids."""
    now = _now()
    for key in session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None))).scalars():
        if key.alg in algs:
            key.retired_at = now
    new_ids = [_create_key(session=session, encryptor=encryptor, alg=alg).kid for alg in algs]
    session.commit()
    return new_ids


def published_jwks(*, session: Session, max_token_lifetime: int) -> dict[str, Any]:
    """The JWK set: active keys, and retired keys while a token they signed may still be valid."""
    cutoff = _now() - timedelta(seconds=max_token_lifetime)
    keys = session.execute(select(SigningKey).order_by(SigningKey.created_at.desc())).scalars()
    return {"keys": [key.public_jwk for key in keys if key.retired_at is None or _as_utc(key.retired_at) > cutoff]}


def purge_expired_keys(*, session: Session, max_token_lifetime: int) -> int:
    """Delete retired keys that can no longer verify any unexpired token; return how many."""
    cutoff = _now() - timedelta(seconds=max_token_lifetime)
    stale = [
        key
        for key in session.execute(select(SigningKey).where(SigningKey.retired_at.is_not(None))).scalars()
        if _as_utc(key.retired_at) <= cutoff  # type: ignore[arg-type]
    ]
    for key in stale:
        session.delete(key)
    session.commit()
    return len(stale)
