"""The insights summary by type and UTC day, and its server-rendered SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from resource_api.extensions import db
from resource_api.insights.chart import render_svg
from resource_api.insights.service import ingest_events
from resource_api.insights.summary import InsightsSummary, summarise

NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def _event(event_type: str, triggered: datetime, **extra) -> dict:
    return {
        "eventType": event_type,
        "applicationServer": "EAS-01",
        "message": "m",
        "triggeredOn": triggered,
        **extra,
    }


def _ingest(subscription_id: str, *events: dict, bridge_id: str = "Main") -> None:
    ingest_events(session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, events=list(events))


@pytest.fixture
def events(app) -> None:
    _ingest(
        "acme",
        _event("RestartAppServer", NOW - timedelta(hours=1)),
        _event("RestartAppServer", NOW - timedelta(hours=2)),
        _event("Usage", NOW - timedelta(hours=3)),
        _event("Usage", NOW - timedelta(days=2)),
        # 00:30 on the 28th in Athens (+03:00) is 21:30 UTC on the 27th.
        _event("UserLockedOut", datetime(2026, 3, 28, 0, 30, tzinfo=UTC) + timedelta(hours=-3)),
        _event("Usage", NOW - timedelta(days=40)),  # outside the 30-day window
        _event("Usage", NOW + timedelta(hours=13)),  # tomorrow (UTC): not in a window that ends today
    )
    _ingest("acme", _event("UpgradeErr", NOW - timedelta(hours=1)), bridge_id="Other")
    _ingest("globex", _event("DBCheckSErr", NOW - timedelta(hours=1)), _event("Usage", NOW))


def test_counts_by_type_and_day_with_empty_days(events):
    summary = summarise(db.session, subscription_id="acme", now=NOW)
    assert len(summary.days) == 30
    assert summary.start == date(2026, 2, 28) and summary.end == date(2026, 3, 29)
    assert summary.types == ("RestartAppServer", "UpgradeErr", "Usage", "UserLockedOut")
    assert summary.count(date(2026, 3, 29), "RestartAppServer") == 2
    assert summary.count(date(2026, 3, 29), "Usage") == 1
    assert summary.count(date(2026, 3, 29), "UpgradeErr") == 1
    assert summary.count(date(2026, 3, 27), "Usage") == 1
    assert summary.count(date(2026, 3, 27), "UserLockedOut") == 1
    assert summary.day_total(date(2026, 3, 28)) == 0, "a day without events is there, with zero"
    assert summary.total == 7 - 2 + 1
    as_dict = summary.as_dict()
    assert [row["day"] for row in as_dict["byDay"]][:2] == ["2026-02-28", "2026-03-01"]
    assert as_dict["byDay"][-1] == {
        "day": "2026-03-29",
        "total": 4,
        "byType": {"RestartAppServer": 2, "UpgradeErr": 1, "Usage": 1, "UserLockedOut": 0},
    }
    assert as_dict["byType"] == {"RestartAppServer": 2, "UpgradeErr": 1, "Usage": 2, "UserLockedOut": 1}


def test_one_bridge_and_other_windows(events):
    only_main = summarise(db.session, subscription_id="acme", now=NOW, bridge_id="Main")
    assert "UpgradeErr" not in only_main.types and only_main.total == 5
    week = summarise(db.session, subscription_id="acme", now=NOW, days=1)
    assert week.days == (date(2026, 3, 29),) and week.total == 4
    longer = summarise(db.session, subscription_id="acme", now=NOW, days=60)
    assert longer.total == 7
    with pytest.raises(ValueError):
        summarise(db.session, subscription_id="acme", days=0)


def test_tenants_never_see_each_other(events):
    globex = summarise(db.session, subscription_id="globex", now=NOW)
    assert globex.types == ("DBCheckSErr", "Usage") and globex.total == 2
    assert summarise(db.session, subscription_id="nobody", now=NOW).total == 0
    assert summarise(db.session, subscription_id="ACME", now=NOW).total == 0, "ids are compared exactly"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own chart
    assert root.tag == f"{SVG}svg"
    return root


def test_svg_is_well_formed_and_labelled(events):
    summary = summarise(db.session, subscription_id="acme", now=NOW)
    svg = render_svg(summary, element_id="acme-chart")
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "acme-chart-title acme-chart-desc"
    assert "2026-02-28 to 2026-03-29" in root.find(f"{SVG}title").text
    assert "6 events" in root.find(f"{SVG}desc").text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for label in ("Events", "Day (UTC, month-day)", "RestartAppServer (2)", "Usage (2)", "UserLockedOut (1)", "03-29"):
        assert label in texts, label
    tooltips = [t.text for t in root.iter(f"{SVG}title")]
    assert "2026-03-29 · RestartAppServer: 2" in tooltips
    assert "2026-03-28: 0 events" in tooltips
    segments = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(segments) == sum(1 for key, count in summary.counts.items() if count)
    heights = {r.find(f"{SVG}title").text: float(r.get("height")) for r in segments}
    assert heights["2026-03-29 · RestartAppServer: 2"] == pytest.approx(2 * heights["2026-03-29 · Usage: 1"])
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert " style=" not in svg


def test_svg_of_an_empty_window_and_of_many_types():
    days = tuple(date(2026, 1, 1) + timedelta(days=n) for n in range(90))
    empty = _parse(render_svg(InsightsSummary(subscription_id="x", days=days, types=())))
    assert "No events in these 90 days" in [t.text for t in empty.iter(f"{SVG}text")]
    types = tuple(f"T{n}<&>" for n in range(12))
    busy = InsightsSummary(
        subscription_id="x", days=days[:3], types=types, counts={(days[0], t): n + 1 for n, t in enumerate(types)}
    )
    root = _parse(render_svg(busy, element_id='bad" id'))
    assert root.get("id") == "bad--id"
    assert "T11<&> (12)" in [t.text for t in root.iter(f"{SVG}text")]
    ticks = [int(t.text) for t in root.iter(f"{SVG}text") if (t.text or "").isdigit()]
    assert busy.day_total(days[0]) == 78 and max(ticks) == 80, "round gridlines just above the tallest bar"
    assert ticks[:3] == [0, 20, 40]
