"""The punch intake's request check: one flat pass over the batch, marshmallow only for the answer to a bad one.

Loading 1,000 punches through `PunchBatchSchema` (a nested schema per punch, a field object and its validators
per value) was two thirds of a batch request. `load_punch_batch` checks the same rules in one loop over the
plain dicts and returns what the schema's `load` returns. It only ever accepts: on the first value it is not
sure of (a wrong type, a length, an unknown field, a timestamp out of range, a verify mode sent as "7"), it hands
the whole body to the schema, which accepts what it accepts and words the 422's field errors
(`punches.3.employeeCode`, ...) exactly as before. The schema stays the one definition of the body and its
OpenAPI description; tests hold the two to the same answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from resource_api.attendance.schemas import DIRECTIONS, MAX_BATCH, PunchBatchSchema

__all__ = ["flat_load", "load_punch_batch"]

_SCHEMA = PunchBatchSchema()
_BATCH_FIELDS = frozenset(("deviceSerial", "deviceCode", "punches"))
_PUNCH_FIELDS = frozenset(("employeeCode", "timestamp", "direction", "verifyMode", "workCode"))
_DIRECTIONS = frozenset(DIRECTIONS)
# The bounds of `shared.api.plausible_instant()` as PunchSchema uses it.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_SKEW = timedelta(days=1)


class _Unsure(Exception):
    """A value the flat check does not accept; the schema decides and words the answer."""


def _text(value: Any, most: int, least: int = 1) -> str:
    """A `Text` field with its `Length` validator: a str the databases can store."""
    if type(value) is not str or not least <= len(value) <= most or "\x00" in value:
        raise _Unsure
    if not value.isascii():
        try:
            value.encode("utf-8")  # lone surrogates (JSON "\ud800") cannot be stored
        except UnicodeEncodeError:
            raise _Unsure from None
    return value


def _punches(items: Any) -> list[dict[str, Any]]:
    if type(items) is not list or not 1 <= len(items) <= MAX_BATCH:
        raise _Unsure
    latest = datetime.now(UTC) + _SKEW  # the schema reads the clock later, so it accepts whatever this accepts
    moments: dict[str, datetime] = {}  # a clock's batch repeats few distinct timestamps' strings
    loaded = []
    for item in items:
        if type(item) is not dict or not _PUNCH_FIELDS.issuperset(item):
            raise _Unsure
        stamp = item.get("timestamp")
        moment = moments.get(stamp) if type(stamp) is str else None
        if moment is None:
            moment = moments[stamp] = _instant(stamp, latest)
        direction = item.get("direction")
        if type(direction) is not str or direction not in _DIRECTIONS:
            raise _Unsure
        verify_mode = item.get("verifyMode")
        if verify_mode is not None and (type(verify_mode) is not int or not 0 <= verify_mode <= 255):
            raise _Unsure
        work_code = item.get("workCode")
        loaded.append(
            {
                "employeeCode": _text(item.get("employeeCode"), 64),
                "timestamp": moment,
                "direction": direction,
                "verifyMode": verify_mode,
                "workCode": None if work_code is None else _text(work_code, 32, 0),
            }
        )
    return loaded


def _instant(value: Any, latest: datetime) -> datetime:
    """An `AwareDateTime(format="iso")` with the `plausible_instant` check."""
    if type(value) is not str:
        raise _Unsure
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Unsure from None
    if moment.utcoffset() is None:
        raise _Unsure
    try:
        plausible = _EARLIEST <= moment <= latest
    except OverflowError:
        plausible = False
    if not plausible:
        raise _Unsure
    return moment


def flat_load(body: dict[str, Any]) -> dict[str, Any] | None:
    """The loaded batch if the flat check accepts every value, None when only the schema can decide."""
    try:
        if not _BATCH_FIELDS.issuperset(body):
            return None
        return {
            "deviceSerial": _text(body.get("deviceSerial"), 64),
            "deviceCode": _text(body.get("deviceCode"), 64),
            "punches": _punches(body.get("punches")),
        }
    except _Unsure:
        return None


def load_punch_batch(body: dict[str, Any]) -> dict[str, Any]:
    """The batch as `PunchBatchSchema().load(body)` returns it, or the `ValidationError` that load raises."""
    loaded = flat_load(body)
    return loaded if loaded is not None else _SCHEMA.load(body)
