"""Events by type and UTC day for one subscription: the figures behind the portal's and the apps' charts.

The counting is one GROUP BY in the database (day, type), so it costs the same whether a subscription sent a
hundred events or a million; the days without events are filled in here, so every day of the window appears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from resource_api.insights.models import InsightEvent

__all__ = ["MAX_DAYS", "InsightsSummary", "summarise"]

MAX_DAYS = 366


@dataclass(frozen=True)
class InsightsSummary:
    """Counts of one subscription's events per (UTC day, event type) over `days`, oldest day first."""

    subscription_id: str
    days: tuple[date, ...]
    types: tuple[str, ...]
    counts: dict[tuple[date, str], int] = field(default_factory=dict)

    def count(self, day: date, event_type: str) -> int:
        """Events of `event_type` triggered on `day` (0 when none)."""
        return self.counts.get((day, event_type), 0)

    def day_total(self, day: date) -> int:
        """Every event triggered on `day`."""
        return sum(self.count(day, event_type) for event_type in self.types)

    def type_total(self, event_type: str) -> int:
        """Every event of `event_type` in the window."""
        return sum(self.count(day, event_type) for day in self.days)

    @property
    def total(self) -> int:
        """Every event in the window."""
        return sum(self.counts.values())

    @property
    def start(self) -> date:
        return self.days[0]

    @property
    def end(self) -> date:
        """The last day of the window (included)."""
        return self.days[-1]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the window, the types, totals, and one row per day with a count per type."""
        return {
            "subscriptionId": self.subscription_id,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "total": self.total,
            "types": list(self.types),
            "byType": {event_type: self.type_total(event_type) for event_type in self.types},
            "byDay": [
                {
                    "day": day.isoformat(),
                    "total": self.day_total(day),
                    "byType": {event_type: self.count(day, event_type) for event_type in self.types},
                }
                for day in self.days
            ],
        }


def _utc_day(session: Session) -> ColumnElement[str]:
    """The event's UTC calendar day as 'YYYY-MM-DD' text, in the dialect's own words.

    The format is a literal, not a bound parameter, so that SELECT and GROUP BY hold the very same expression."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", InsightEvent.triggered_on), literal_column("'YYYY-MM-DD'"))
    return func.strftime("%Y-%m-%d", InsightEvent.triggered_on)  # SQLite keeps the UTC value as text


def summarise(
    session: Session,
    *,
    subscription_id: str,
    days: int = 30,
    now: datetime | None = None,
    bridge_id: str | None = None,
) -> InsightsSummary:
    """Events by type and UTC day over the last `days` days, today included; `bridge_id` None means every bridge."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must lie between 1 and {MAX_DAYS}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    first = now.date() - timedelta(days=days - 1)
    window = tuple(first + timedelta(days=n) for n in range(days))
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=UTC)
    conditions = [
        InsightEvent.subscription_id == subscription_id,
        InsightEvent.triggered_on >= start,
        InsightEvent.triggered_on < end,
    ]
    if bridge_id is not None:
        conditions.append(InsightEvent.bridge_id == bridge_id)
    day = _utc_day(session).label("day")
    rows = session.execute(
        select(day, InsightEvent.event_type, func.count())
        .where(*conditions)
        .group_by(day, InsightEvent.event_type)
        .order_by(day, InsightEvent.event_type)
    ).all()
    counts = {(date.fromisoformat(str(row[0])), str(row[1])): int(row[2]) for row in rows}
    types = tuple(sorted({event_type for _, event_type in counts}))
    return InsightsSummary(subscription_id=subscription_id, days=window, types=types, counts=counts)
