"""The hot path: a presented key → its token, whether it works now, and what it carries.

Garbage (wrong shape or checksum) is refused before any database read; a lookup is one indexed read by
digest. `last_used_at` is written at most once a minute per key, never once per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from authserver.endpoint_tokens.keys import key_type, scope_of
from authserver.endpoint_tokens.models import ACTIVE, EndpointToken
from authserver.store.licences.service import is_active, licence_for
from shared.secrets import digest

__all__ = ["KeyMatch", "claims_for", "find_key", "find_token_by_id", "live_until", "touch"]

_TOUCH_EVERY = timedelta(minutes=1)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class KeyMatch:
    """A presented key's token, whether it works now, and until when (None: no end known)."""

    token: EndpointToken
    active: bool
    expires_at: datetime | None


def live_until(
    session: Session, token: EndpointToken, *, previous: bool, now: datetime
) -> tuple[bool, datetime | None]:
    """(works now, ends at) for a token: active, its app still licensed and not expired, and for a rotated-out
    key, within its grace period."""
    if token.status != ACTIVE:
        return False, None
    ends: list[datetime] = []
    if previous:
        grace = as_utc(token.previous_valid_until)
        if grace is None or grace <= now:
            return False, None
        ends.append(grace)
    licence = licence_for(session=session, subscription_id=token.subscription_pk, app_code=token.app_code)
    if licence is None or not is_active(licence, now):
        return False, None
    if (licence_end := as_utc(licence.ends_at)) is not None:
        ends.append(licence_end)
    return True, min(ends) if ends else None


def find_key(session: Session, value: str, *, now: datetime | None = None) -> KeyMatch | None:
    """The token a presented key belongs to (current or rotated-out), or None; never raises for garbage."""
    endpoint_type = key_type(value)
    if endpoint_type is None:
        return None
    found = digest(value)
    query = select(EndpointToken).where(
        or_(EndpointToken.key_digest == found, EndpointToken.previous_key_digest == found)
    )
    token = session.execute(query).scalars().first()
    if token is None or token.endpoint_type != endpoint_type:
        return None
    now = now or datetime.now(UTC)
    active, ends = live_until(session, token, previous=token.key_digest != found, now=now)
    return KeyMatch(token=token, active=active, expires_at=ends)


def find_token_by_id(session: Session, token_id: str) -> EndpointToken | None:
    """The token with this public id, or None."""
    return session.get(EndpointToken, token_id) if token_id.startswith("ept_") and len(token_id) <= 40 else None


def claims_for(token: EndpointToken, *, expires_at: datetime | None) -> dict[str, Any]:
    """What introspection says about a key (RFC 7662 §2.2) besides `active`: scope and tenant claims."""
    claims: dict[str, Any] = {
        "token_type": "api_key",
        "client_id": token.id,
        "sub": token.id,
        "scope": scope_of(token.endpoint_type),
        "iat": int((as_utc(token.rotated_at) or as_utc(token.created_at) or datetime.now(UTC)).timestamp()),
        "subscription_id": token.subscription.subscription_id,
        "subscription_gid": str(token.subscription.gid),
        "bridge_id": token.bridge_id,
        "app": token.app_code,
        "endpoint_type": token.endpoint_type,
    }
    if expires_at is not None:
        claims["exp"] = int(expires_at.timestamp())
    return claims


def touch(session: Session, token: EndpointToken, *, now: datetime | None = None) -> None:
    """Record a use, at most once a minute (a conditional UPDATE; concurrent workers write it once)."""
    now = now or datetime.now(UTC)
    last = as_utc(token.last_used_at)
    if last is not None and now - last < _TOUCH_EVERY:
        return
    session.execute(
        update(EndpointToken)
        .where(
            EndpointToken.id == token.id,
            or_(EndpointToken.last_used_at.is_(None), EndpointToken.last_used_at < now - _TOUCH_EVERY),
        )
        .values(last_used_at=now)
        # Not evaluated against loaded rows: SQLite hands back naive datetimes, which cannot be compared to `now`.
        .execution_options(synchronize_session=False)
    )
    session.commit()
