"""Time in the store: aware UTC datetimes everywhere (SQLite hands back naive ones; everything stored is UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["aware", "utcnow"]


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """`moment` as an aware UTC datetime."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
