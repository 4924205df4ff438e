"""The intake writes SQLite instants exactly as SQLAlchemy's DateTime stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from resource_api.attendance.models import Punch
from resource_api.attendance.service import _sqlite_instant

_COLUMN_TYPE = Punch.__table__.c.punched_at.type
_SQLALCHEMY_STORES = _COLUMN_TYPE.dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-9, minutes=-30))])


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_OFFSETS))
def test_an_instant_is_stored_as_sqlalchemy_stores_its_utc_time(moment):
    assert _sqlite_instant(moment) == _SQLALCHEMY_STORES(moment.astimezone(UTC))
