"""Recording and reading audit events; the caller's service owns the commit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver.audit.models import AuditEvent

__all__ = ["ACCOUNT_PREFIX", "SYSTEM", "account_actor", "list_events", "record"]

SYSTEM = "system"
ACCOUNT_PREFIX = "account:"
# Detail names that would mean a secret is being written to the log.
_SECRET_WORDS = ("password", "secret", "passwd")
_SECRET_NAMES = {"token", "access_token", "refresh_token", "code", "api_key", "key", "authorization", "cookie"}


def account_actor(account_id: int) -> str:
    """The actor string of a portal account."""
    return f"{ACCOUNT_PREFIX}{account_id}"


def _check_details(details: dict[str, Any]) -> None:
    for name in details:
        lowered = name.lower()
        if lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS):
            raise ValueError(f"audit details must not carry secrets: {name!r}")
    json.dumps(details)  # fail here, not at commit, when a value cannot be stored


def record(
    *,
    session: Session,
    event: str,
    actor: str,
    subscription_id: int | None = None,
    ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event to `session`; it is written when the caller commits."""
    _check_details(details)
    entry = AuditEvent(
        occurred_at=datetime.now(UTC),
        actor=actor,
        subscription_id=subscription_id,
        event=event,
        ip=ip,
        details=details,
    )
    session.add(entry)
    return entry


def list_events(
    *,
    session: Session,
    subscription_ids: Iterable[int] | None = None,
    actor: str | None = None,
    events: Iterable[str] | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """The newest events first, filtered by subscriptions, actor and event types when given."""
    query = select(AuditEvent)
    if subscription_ids is not None:
        query = query.where(AuditEvent.subscription_id.in_(list(subscription_ids)))
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if events is not None:
        query = query.where(AuditEvent.event.in_(list(events)))
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    return list(session.execute(query).scalars())
