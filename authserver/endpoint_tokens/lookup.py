"""The hot path: a presented key → its token, whether it works now, and what it carries.

Garbage (wrong shape or checksum) is refused before any database read; a lookup is one indexed read by digest
that brings the token with its subscription and its app's licence (a Core query: no ORM objects on the hot
path). `last_used_at` is written at most once a minute per key, never once per request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from authserver.clients.cache import TTLCache
from authserver.endpoint_tokens.keys import key_type, scope_of
from authserver.endpoint_tokens.models import ACTIVE, EndpointToken
from authserver.store.models import App, Licence
from authserver.subscriptions.models import Subscription
from shared.hot_reads import HotRead
from shared.secrets import digest

__all__ = ["KeyMatch", "KeyState", "claims_for", "find_key", "key_state", "live_until", "touch"]

_TOUCH_EVERY = timedelta(minutes=1)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class KeyState:
    """What the hot path needs of a token: the token's columns, its subscription's ids and its licence's end
    (`licensed` is False when the subscription holds no licence of the token's app)."""

    id: str
    endpoint_type: str
    status: str
    title: str
    key_digest: str
    previous_key_digest: str | None
    previous_valid_until: datetime | None
    bridge_id: str
    app_code: str
    created_at: datetime
    rotated_at: datetime | None
    last_used_at: datetime | None
    subscription_id: str
    subscription_gid: uuid.UUID
    licensed: bool
    licence_ends_at: datetime | None


def _state_query(where: ColumnElement[bool]) -> HotRead:
    licence = and_(Licence.subscription_pk == EndpointToken.subscription_pk, Licence.app_id == App.id)
    return HotRead(
        select(
            EndpointToken.id,
            EndpointToken.endpoint_type,
            EndpointToken.status,
            EndpointToken.title,
            EndpointToken.key_digest,
            EndpointToken.previous_key_digest,
            EndpointToken.previous_valid_until,
            EndpointToken.bridge_id,
            EndpointToken.app_code,
            EndpointToken.created_at,
            EndpointToken.rotated_at,
            EndpointToken.last_used_at,
            Subscription.subscription_id,
            Subscription.gid.label("subscription_gid"),
            Licence.id.is_not(None).label("licensed"),
            Licence.ends_at.label("licence_ends_at"),
        )
        .join(Subscription, Subscription.id == EndpointToken.subscription_pk)
        .outerjoin(App, App.code == EndpointToken.app_code)
        .outerjoin(Licence, licence)
        .where(where)
    )


_BY_DIGEST = _state_query(
    or_(EndpointToken.key_digest == bindparam("digest"), EndpointToken.previous_key_digest == bindparam("digest"))
)
_BY_ID = _state_query(EndpointToken.id == bindparam("token_id"))


def _read(engine: Engine, query: HotRead, params: dict[str, str]) -> KeyState | None:
    row = query.first(engine, params)
    return KeyState(**row._asdict()) if row is not None else None


@dataclass(frozen=True)
class KeyMatch:
    """A presented key's token, whether it works now, and until when (None: no end known); `digest` is the
    presented key's."""

    token: KeyState
    active: bool
    expires_at: datetime | None
    digest: str


def live_until(token: KeyState, *, previous: bool, now: datetime) -> tuple[bool, datetime | None]:
    """(works now, ends at) for a token: active, its app still licensed and not expired, and for a rotated-out
    key, within its grace period."""
    if token.status != ACTIVE or not token.licensed:
        return False, None
    ends: list[datetime] = []
    if previous:
        grace = as_utc(token.previous_valid_until)
        if grace is None or grace <= now:
            return False, None
        ends.append(grace)
    if (licence_end := as_utc(token.licence_ends_at)) is not None:
        if licence_end <= now:
            return False, None
        ends.append(licence_end)
    return True, min(ends) if ends else None


def find_key(
    engine: Engine, value: str, *, states: TTLCache[str, KeyState] | None = None, now: datetime | None = None
) -> KeyMatch | None:
    """The token a presented key belongs to (current or rotated-out), or None; never raises for garbage.

    With `states`, a token read in the last few seconds is answered from it; whether it works is still
    decided now (licence end, grace period), from what was read.
    """
    endpoint_type = key_type(value)
    if endpoint_type is None:
        return None
    found = digest(value)

    def load() -> KeyState | None:
        return _read(engine, _BY_DIGEST, {"digest": found})

    token = states.get_or_load(found, load) if states is not None else load()
    if token is None or token.endpoint_type != endpoint_type:
        return None
    active, ends = live_until(token, previous=token.key_digest != found, now=now or datetime.now(UTC))
    return KeyMatch(token=token, active=active, expires_at=ends, digest=found)


def key_state(engine: Engine, token_id: str) -> KeyState | None:
    """The hot-path state of the token with this public id, or None."""
    return _read(engine, _BY_ID, {"token_id": token_id}) if _is_token_id(token_id) else None


def _is_token_id(token_id: str) -> bool:
    return token_id.startswith("ept_") and len(token_id) <= 40


def claims_for(token: KeyState, *, expires_at: datetime | None) -> dict[str, Any]:
    """What introspection says about a key (RFC 7662 §2.2) besides `active`: scope and tenant claims."""
    claims: dict[str, Any] = {
        "token_type": "api_key",
        "client_id": token.id,
        "sub": token.id,
        "scope": scope_of(token.endpoint_type),
        "iat": int((as_utc(token.rotated_at) or as_utc(token.created_at) or datetime.now(UTC)).timestamp()),
        "subscription_id": token.subscription_id,
        "subscription_gid": str(token.subscription_gid),
        "bridge_id": token.bridge_id,
        "app": token.app_code,
        "endpoint_type": token.endpoint_type,
    }
    if expires_at is not None:
        claims["exp"] = int(expires_at.timestamp())
    return claims


def touch(session: Session, token: KeyState, *, now: datetime | None = None) -> bool:
    """Record a use, at most once a minute (a conditional UPDATE; concurrent workers write it once); True when
    `token`'s `last_used_at` was due, so that a cached copy of it is now out of date."""
    now = now or datetime.now(UTC)
    last = as_utc(token.last_used_at)
    if last is not None and now - last < _TOUCH_EVERY:
        return False
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
    return True
