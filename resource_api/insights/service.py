"""Application insights: durable intake of event batches, the latest events, and summaries for dashboards."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from resource_api.insights.models import InsightEvent

__all__ = ["ingest_events", "latest_events", "summarize_events"]

SESSION_INFO_VERSION = "101"  # FetchSessionInfo property 101: the installation version (facts §2.5)


def _insert(session: Session):  # type: ignore[no-untyped-def]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(InsightEvent).on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])


def _row(subscription_id: str, bridge_id: str, event: dict[str, Any], now: datetime) -> dict[str, Any]:
    properties = event.get("properties") or None
    return {
        "subscription_id": subscription_id,
        "bridge_id": bridge_id,
        "event_id": event.get("eventId"),
        "event_type": event["eventType"],
        "other_event": event.get("otherEvent"),
        "application_server": event["applicationServer"],
        "message": event["message"],
        "triggered_on": event["triggeredOn"].astimezone(UTC),
        "product": event.get("product"),
        "version": event.get("version") or (properties or {}).get(SESSION_INFO_VERSION) or None,
        "user_code": event.get("user"),
        "properties": properties,
        "received_at": now,
    }


def ingest_events(
    *, session: Session, subscription_id: str, bridge_id: str, events: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    """Commit a batch of validated events; return how many were stored and how many repeated a stored eventId."""
    now = datetime.now(UTC)
    rows: dict[Any, dict[str, Any]] = {}
    for index, event in enumerate(events):
        # Events without an id cannot be recognised again, so each one is new.
        key = ("id", event["eventId"]) if event.get("eventId") else ("n", index)
        rows.setdefault(key, _row(subscription_id, bridge_id, event, now))
    inserted = session.execute(_insert(session).returning(InsightEvent.id), list(rows.values())).all()
    session.commit()
    return len(inserted), len(events) - len(inserted)


def _tenant(subscription_id: str, bridge_id: str | None) -> list[ColumnElement[bool]]:
    conditions = [InsightEvent.subscription_id == subscription_id]
    if bridge_id is not None:
        conditions.append(InsightEvent.bridge_id == bridge_id)
    return conditions


def latest_events(
    *, session: Session, subscription_id: str, bridge_id: str | None, event_type: str | None = None, limit: int = 50
) -> Sequence[InsightEvent]:
    """The most recently triggered events of a subscription (one bridge, or all when `bridge_id` is None)."""
    conditions = _tenant(subscription_id, bridge_id)
    if event_type is not None:
        conditions.append(InsightEvent.event_type == event_type)
    query = select(InsightEvent).where(*conditions)
    return (
        session.execute(query.order_by(InsightEvent.triggered_on.desc(), InsightEvent.id.desc()).limit(limit))
        .scalars()
        .all()
    )


def _utc_day(session: Session) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", InsightEvent.triggered_on), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", InsightEvent.triggered_on)  # SQLite keeps the UTC value as text


def summarize_events(
    *, session: Session, subscription_id: str, bridge_id: str | None = None, days: int = 30, now: datetime | None = None
) -> dict[str, Any]:
    """Counts by type, UTC day and product of the events triggered in the last `days` UTC days (today included),
    and the latest version each application server reported in that window; `bridge_id` None means every bridge."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    first_day = now.date() - timedelta(days=days - 1)
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    end = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=UTC)
    window = [*_tenant(subscription_id, bridge_id), InsightEvent.triggered_on >= start, InsightEvent.triggered_on < end]

    def counts(column: Any, *extra: ColumnElement[bool]) -> dict[str, int]:
        query = select(column, func.count()).where(*window, *extra).group_by(column).order_by(column)
        return {str(key): int(count) for key, count in session.execute(query).all()}

    by_type = counts(InsightEvent.event_type)
    per_day = counts(_utc_day(session))
    by_product = counts(InsightEvent.product, InsightEvent.product.is_not(None))

    latest = (
        select(InsightEvent.application_server, func.max(InsightEvent.triggered_on).label("at"))
        .where(*window, InsightEvent.version.is_not(None))
        .group_by(InsightEvent.application_server)
        .subquery()
    )
    versions = session.execute(
        select(InsightEvent.application_server, InsightEvent.version)
        .join(
            latest,
            and_(
                InsightEvent.application_server == latest.c.application_server,
                InsightEvent.triggered_on == latest.c.at,
            ),
        )
        .where(*window, InsightEvent.version.is_not(None))
        .order_by(InsightEvent.id)  # of two reports at the same instant, the later stored wins
    ).all()
    return {
        "from": start,
        "to": end,
        "total": sum(by_type.values()),
        "byType": by_type,
        "byDay": [
            {"day": day.isoformat(), "count": per_day.get(day.isoformat(), 0)}
            for day in (first_day + timedelta(days=n) for n in range(days))
        ],
        "byProduct": by_product,
        "latestVersions": {server: version for server, version in versions},
    }
