"""The punch intake's flat check answers exactly what PunchBatchSchema answers, and takes the fast way when it can."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from resource_api.attendance.intake import flat_load, load_punch_batch
from resource_api.attendance.schemas import DIRECTIONS, MAX_BATCH, PunchBatchSchema

_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))])
_MOMENTS = st.datetimes(min_value=datetime(1999, 12, 30), max_value=datetime(2027, 12, 31), timezones=_OFFSETS)


def _stamp(moment: datetime, style: int) -> str:
    """The same instant written the ways clients write ISO 8601 (and a naive one)."""
    if style == 0:
        return moment.isoformat()
    if style == 1:
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    if style == 2:
        return moment.isoformat(sep=" ", timespec="minutes")
    return moment.replace(tzinfo=None).isoformat()


_TIMESTAMPS = st.one_of(
    st.builds(_stamp, _MOMENTS, st.integers(0, 3)),
    st.sampled_from(
        [
            "2000-01-01T00:00:00+00:00",
            "1999-12-31T23:59:59+00:00",
            "2000-01-01T01:00:00+02:00",
            (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            "2026-11-20",
            "2026-11-20T08:00:00+25:00",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "yesterday",
            "",
        ]
    ),
    st.integers(),
    st.none(),
)
_TEXTS = st.one_of(
    st.text(max_size=70),
    st.sampled_from(["", "a" * 32, "a" * 33, "a" * 64, "a" * 65, "10\x0001", "\ud800", "Ζωή"]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
_VERIFY_MODES = st.one_of(
    st.integers(-3, 300), st.sampled_from(["7", " 7 ", "x", 1.0, 2.5, True, float("inf"), float("nan")]), st.none()
)
_DIRECTIONS = st.one_of(st.sampled_from([*DIRECTIONS, "IN", "sideways", ""]), st.integers(), st.none())


_CODES = st.text(min_size=1, max_size=64).filter(lambda text: "\x00" not in text)
_VALID_PUNCH = st.fixed_dictionaries(
    {
        "employeeCode": _CODES,
        "timestamp": st.builds(
            _stamp,
            st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 1, 1), timezones=_OFFSETS),
            st.integers(0, 2),
        ),
        "direction": st.sampled_from(DIRECTIONS),
    },
    optional={
        "verifyMode": st.one_of(st.none(), st.integers(0, 255)),
        "workCode": st.one_of(st.none(), st.text(max_size=32).filter(lambda text: "\x00" not in text)),
    },
)
_WILD = {  # what a client might send in each place, good or bad
    "deviceSerial": _TEXTS,
    "deviceCode": _TEXTS,
    "punches": st.one_of(_TEXTS, st.dictionaries(st.text(max_size=3), st.none(), max_size=1), st.just([])),
    "employeeCode": _TEXTS,
    "timestamp": _TIMESTAMPS,
    "direction": _DIRECTIONS,
    "verifyMode": _VERIFY_MODES,
    "workCode": _TEXTS,
    "punch": st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=1)),
}


@st.composite
def _body(draw: st.DrawFn) -> dict[str, Any]:
    """A valid batch with up to three of its values changed, removed or added (an unknown field)."""
    body: dict[str, Any] = {
        "deviceSerial": draw(_CODES),
        "deviceCode": draw(_CODES),
        "punches": draw(st.lists(_VALID_PUNCH, min_size=1, max_size=4)),
    }
    for _ in range(draw(st.integers(0, 3))):
        place = draw(st.sampled_from(["deviceSerial", "deviceCode", "punches", "subscription_id", "punch"]))
        if place != "punch":
            target, name = body, place
        elif isinstance(body.get("punches"), list) and body["punches"]:
            index = draw(st.integers(0, len(body["punches"]) - 1))
            if not isinstance(body["punches"][index], dict) or draw(st.integers(0, 9)) == 0:
                body["punches"][index] = draw(_WILD["punch"])
                continue
            target = body["punches"][index]
            name = draw(st.sampled_from(["employeeCode", "timestamp", "direction", "verifyMode", "workCode", "extra"]))
        else:
            continue
        if name in target and draw(st.integers(0, 4)) == 0:
            del target[name]
        else:
            target[name] = draw(_WILD.get(name, st.integers()))
    return body


def _answer(load: Any, body: dict[str, Any]) -> tuple[str, Any]:
    """What a loader answers, with instants written out (aware datetimes compare equal across offsets)."""
    try:
        loaded = load(body)
    except ValidationError as error:
        return "refused", error.normalized_messages()
    punches = [
        {**punch, "timestamp": (punch["timestamp"].isoformat(), repr(punch["timestamp"].tzinfo))}
        for punch in loaded["punches"]
    ]
    return "loaded", {**loaded, "punches": punches}


@settings(max_examples=600, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=_body())
def test_intake_answers_what_the_schema_answers(body):
    assert _answer(load_punch_batch, body) == _answer(PunchBatchSchema().load, body)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    serial=st.text(min_size=1, max_size=64).filter(lambda text: "\x00" not in text),
    punches=st.lists(_VALID_PUNCH, min_size=1, max_size=20),
)
def test_valid_batches_take_the_flat_path(serial, punches):
    body = {"deviceSerial": serial, "deviceCode": "EL-1", "punches": punches}
    assert flat_load(body) is not None, "a plain valid batch must not need the schema"
    assert _answer(flat_load, body) == _answer(PunchBatchSchema().load, body)


def test_a_full_batch_takes_the_flat_path_and_one_more_punch_is_refused():
    punch = {"employeeCode": "1001", "timestamp": "2026-03-29T08:59:00+03:00", "direction": "in"}
    full = {"deviceSerial": "SN1", "deviceCode": "EL-1", "punches": [punch] * MAX_BATCH}
    loaded = flat_load(full)
    assert loaded is not None and len(loaded["punches"]) == MAX_BATCH
    assert loaded["punches"][0] == {
        "employeeCode": "1001",
        "timestamp": datetime(2026, 3, 29, 8, 59, tzinfo=timezone(timedelta(hours=3))),
        "direction": "in",
        "verifyMode": None,
        "workCode": None,
    }
    too_many = {**full, "punches": [punch] * (MAX_BATCH + 1)}
    assert flat_load(too_many) is None
    assert _answer(load_punch_batch, too_many) == ("refused", {"punches": ["Length must be between 1 and 1000."]})


_DELETE = object()
_TEXT_EDGES = ["", "a", "a" * 32, "a" * 33, "a" * 64, "a" * 65, "1\x00", "\ud800", "Ζωή", 7, 1.5, True, None, [], {}]
_EDGES = {
    "deviceSerial": _TEXT_EDGES,
    "deviceCode": _TEXT_EDGES,
    "employeeCode": _TEXT_EDGES,
    "workCode": _TEXT_EDGES,
    "direction": [*DIRECTIONS, "IN", "", 0, None],
    "verifyMode": [0, 255, -1, 256, "7", " 7 ", "x", 1.0, 2.5, True, float("inf"), float("nan"), 10**30, None],
    "timestamp": [
        "2000-01-01T00:00:00+00:00",
        "1999-12-31T23:59:59.999999+00:00",
        "2000-01-01T01:00:00+01:00",
        "2000-01-01T00:30:00+01:00",
        (datetime.now(UTC) + timedelta(hours=23)).isoformat(),
        (datetime.now(UTC) + timedelta(days=1, minutes=5)).isoformat(),
        "2026-03-29T08:59:00Z",
        "2026-03-29T08:59:00.5+03:00",
        "2026-03-29 08:59+0300",
        "2026-03-29T08:59:00",
        "2026-03-29",
        "20260329T085900+0300",
        "2026-03-29T08:59:00+24:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "",
        "soon",
        1711691940,
        None,
    ],
}


def _edge_cases() -> list[tuple[str, Any]]:
    return [(name, value) for name, values in _EDGES.items() for value in [*values, _DELETE]]


def _set(target: dict[str, Any], name: str, value: Any) -> None:
    if value is _DELETE:
        target.pop(name, None)
    else:
        target[name] = value


@pytest.mark.parametrize(("name", "value"), _edge_cases())
def test_each_edge_value_gets_the_schemas_answer(name, value):
    punch = {"employeeCode": "1001", "timestamp": "2026-03-29T08:59:00+03:00", "direction": "in", "workCode": "7"}
    body = {"deviceSerial": "SN1", "deviceCode": "EL-1", "punches": [dict(punch), dict(punch), dict(punch)]}
    _set(body if name in body else body["punches"][1], name, value)
    assert _answer(load_punch_batch, body) == _answer(PunchBatchSchema().load, body)


@pytest.mark.parametrize("punches", [None, "punches", {"0": {}}, [], [None], [1], ["x"], [[]], [{"extra": 1}], "x" * 3])
def test_odd_punch_lists_get_the_schemas_answer(punches):
    body = {"deviceSerial": "SN1", "deviceCode": "EL-1", "punches": punches}
    assert _answer(load_punch_batch, body) == _answer(PunchBatchSchema().load, body)
