"""Time Attendance → Deliveries and Application Insights → Insights: the portal reads and retries dead letters
and shows the insights chart through the resource API's internal routes, over real HTTP, with a real service token
from the auth server itself."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import select

from authserver import create_app
from authserver.audit.models import AuditEvent
from authserver.clients.service import create_client
from authserver.extensions import db
from authserver.store.catalogue.seed import seed_catalogue
from resource_api.attendance.models import Punch, PunchBatch
from resource_api.extensions import db as resource_db
from resource_api.insights.service import ingest_events
from shared.db import upgrade_db
from tests.integration.authserver.store.conftest import (
    make_account,
    make_licence,
    make_subscription,
    page_text,
    signed_in,
)
from tests.stack import LateApp, dispose, served, served_resource_api

YEAR = timedelta(days=365)


@dataclass
class Stack:
    app: Flask
    resource_api: Flask


@pytest.fixture
def stack(database_url: str, smtp_server: Any, tmp_path: Any) -> Iterator[Stack]:
    """The auth server and the resource API, each serving HTTP on a free port; the portal's client may call it."""
    late = LateApp()
    with ExitStack() as parts:
        auth_url = parts.enter_context(served(late))
        resource_database_url = database_url
        if database_url.startswith("sqlite"):
            resource_database_url = f"sqlite:///{tmp_path / 'resource_api.db'}"
        resource_settings = {"TESTING": True, "DATABASE_URL": resource_database_url, "AUTH_SERVER_URL": auth_url}
        resource_app, resource_url = parts.enter_context(served_resource_api(resource_settings))
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database_url,
                "ISSUER": auth_url,
                "WTF_CSRF_ENABLED": False,
                "SMTP_URL": smtp_server.url,
                "RESOURCE_API_URL": resource_url,
            }
        )
        parts.callback(dispose, app)

        @app.before_request
        def _fresh_user() -> None:
            g.pop("_login_user", None)  # the test's app context is reused by its requests

        with app.app_context():
            upgrade_db()
            seed_catalogue(session=db.session)
            internal = create_client(
                session=db.session,
                name="authserver (internal)",
                scope="gateway:bridges gateway:relay resource:admin",
                audience="bridge_gateway resource_api",
                is_internal=True,
            )
            app.config.update(CLIENT_ID=internal.client.client_id)
            late.app = app
            yield Stack(app, resource_app)
            db.session.remove()
            client = app.extensions.get("resource_client")
            if client is not None:
                client.close()


@pytest.fixture
def world(stack: Stack) -> dict[str, Any]:
    """Ann owns roservices with both apps; Bob owns globex with both apps."""
    ann, bob = make_account("ann@example.com"), make_account("bob@example.com")
    ours, theirs = make_subscription(ann, "roservices"), make_subscription(bob, "globex")
    for subscription in (ours, theirs):
        make_licence(subscription, "time-attendance", _plan("time-attendance"), ends_at=datetime.now(UTC) + YEAR)
        make_licence(subscription, "app-insights", _plan("app-insights"), ends_at=datetime.now(UTC) + YEAR)
    return {"ann": signed_in(stack.app, ann), "bob": signed_in(stack.app, bob), "ours": ours, "theirs": theirs}


def _plan(code: str) -> str:
    from tests.integration.authserver.store.conftest import app_named

    return app_named(code).plans[0].name


def _dead_letter(stack: Stack, subscription_id: str, employee: str, minute: int) -> int:
    """A punch payroll refused, as the resource API's outbox records it."""
    now = datetime.now(UTC)
    batch_id = f"{subscription_id}-{employee}-{minute}"
    with stack.resource_api.app_context():
        resource_db.session.add(
            PunchBatch(
                id=batch_id,
                subscription_id=subscription_id,
                bridge_id="Demo_002",
                device_serial="ZK-1",
                received_at=now,
                accepted=1,
                duplicates=0,
            )
        )
        resource_db.session.flush()
        punch = Punch(
            batch_id=batch_id,
            subscription_id=subscription_id,
            bridge_id="Demo_002",
            device_serial="ZK-1",
            device_code="EL-1",
            employee_code=employee,
            punched_at=datetime(2026, 3, 2, 6, minute, tzinfo=UTC),
            local_time=f"2026-03-02T08:{minute:02d}:00+02:00",
            direction="in",
            state="rejected",
            attempts=1,
            next_attempt_at=now,
            last_error=f"Employee [{employee}] is not registered in Payroll",
        )
        resource_db.session.add(punch)
        resource_db.session.commit()
        punch_id = punch.id
        resource_db.session.remove()
    return punch_id


def _states(stack: Stack) -> dict[str, str]:
    with stack.resource_api.app_context():
        rows = resource_db.session.execute(select(Punch.employee_code, Punch.state)).all()
        resource_db.session.remove()
    return dict(rows)  # type: ignore[arg-type]


def _events(name: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.event == name)).scalars())


DELIVERIES = "/subscriptions/roservices/apps/time-attendance/deliveries"
INSIGHTS = "/subscriptions/roservices/apps/app-insights/insights"


def test_deliveries_tab_lists_dead_letters_and_retries_them(stack, world):
    first = _dead_letter(stack, "roservices", "9001", 1)
    _dead_letter(stack, "roservices", "9002", 2)
    _dead_letter(stack, "globex", "7777", 3)
    page = world["ann"].get(DELIVERIES)
    assert page.status_code == 200, page_text(page)
    text = page_text(page)
    assert "Employee [9001] is not registered in Payroll" in text and "9002" in text
    assert "2026-03-02T08:01:00+02:00" in text and "EL-1 (ZK-1)" in text
    assert "7777" not in text, "another subscription's dead letters never show"
    assert 'aria-current="page">Deliveries</a>' in page.get_data(as_text=True)

    one = world["ann"].post(f"{DELIVERIES}/{first}/retry")
    assert one.status_code == 302 and one.headers["Location"].endswith(DELIVERIES)
    assert _states(stack) == {"9001": "pending", "9002": "rejected", "7777": "rejected"}
    assert "1 punch goes to payroll again." in page_text(world["ann"].get(DELIVERIES))
    [event] = _events("punches.retried")
    assert (event.actor, event.subscription_id) == (f"account:{_account_id('ann')}", world["ours"].id)
    assert event.details == {"app": "time-attendance", "punch": first, "count": 1}

    every = world["ann"].post(f"{DELIVERIES}/retry")
    assert every.status_code == 302
    assert _states(stack) == {"9001": "pending", "9002": "pending", "7777": "rejected"}
    after = page_text(world["ann"].get(DELIVERIES))
    assert "1 punch goes to payroll again." in after and "payroll refused none" in after
    assert [e.details["punch"] for e in _events("punches.retried")] == [first, "all"]


def _account_id(name: str) -> int:
    from authserver.accounts.models import AdminAccount

    return db.session.execute(select(AdminAccount.id).where(AdminAccount.email == f"{name}@example.com")).scalar_one()


def test_another_admin_cannot_see_or_retry_our_dead_letters(stack, world):
    ours = _dead_letter(stack, "roservices", "9001", 1)
    bob = world["bob"]
    assert bob.get(DELIVERIES).status_code == 404
    assert bob.post(f"{DELIVERIES}/{ours}/retry").status_code == 404
    assert bob.post(f"{DELIVERIES}/retry").status_code == 404
    assert bob.get(INSIGHTS).status_code == 404
    # Through his own subscription's path, our punch's id reaches nothing.
    theirs = bob.post(f"/subscriptions/globex/apps/time-attendance/deliveries/{ours}/retry")
    assert theirs.status_code == 302
    assert "This subscription has no rejected punch with this id." in page_text(
        bob.get("/subscriptions/globex/apps/time-attendance/deliveries")
    )
    assert _states(stack) == {"9001": "rejected"}


def test_tabs_belong_to_their_apps(stack, world):
    ann = world["ann"]
    overview = ann.get("/subscriptions/roservices/apps/time-attendance").get_data(as_text=True)
    assert ">Deliveries</a>" in overview and ">Insights</a>" not in overview
    other = ann.get("/subscriptions/roservices/apps/app-insights").get_data(as_text=True)
    assert ">Insights</a>" in other and ">Deliveries</a>" not in other
    assert ann.get("/subscriptions/roservices/apps/app-insights/deliveries").status_code == 404
    assert ann.get("/subscriptions/roservices/apps/time-attendance/insights").status_code == 404


def test_retry_needs_the_csrf_token(stack, world):
    punch = _dead_letter(stack, "roservices", "9001", 1)
    stack.app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert world["ann"].post(f"{DELIVERIES}/{punch}/retry").status_code == 400
        page = world["ann"].get(DELIVERIES).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        accepted = world["ann"].post(f"{DELIVERIES}/{punch}/retry", data={"csrf_token": token})
        assert accepted.status_code == 302
    finally:
        stack.app.config["WTF_CSRF_ENABLED"] = False
    assert _states(stack) == {"9001": "pending"}


def test_insights_tab_shows_the_servers_chart_and_the_same_figures(stack, world):
    now = datetime.now(UTC)
    event = {"applicationServer": "EAS-01", "message": "m"}
    with stack.resource_api.app_context():
        ingest_events(
            session=resource_db.session,
            subscription_id="roservices",
            bridge_id="Demo_002",
            events=[
                {**event, "eventType": "RestartAppServer", "triggeredOn": now},
                {**event, "eventType": "RestartAppServer", "triggeredOn": now},
                {**event, "eventType": "Usage", "triggeredOn": now - timedelta(days=2)},
                {**event, "eventType": "Usage", "triggeredOn": now - timedelta(days=20)},
            ],
        )
        ingest_events(
            session=resource_db.session,
            subscription_id="globex",
            bridge_id="G_1",
            events=[{**event, "eventType": "UserLockedOut", "triggeredOn": now}],
        )
        resource_db.session.remove()
    page = world["ann"].get(INSIGHTS)
    assert page.status_code == 200, page_text(page)
    html = page.get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg, "the chart is inline"
    root = ET.fromstring(svg.group(0))  # noqa: S314 - our own chart
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "RestartAppServer (2)" in labels and "Usage (2)" in labels
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    text = page_text(page)
    assert "4 events from" in text
    assert f"{now.date().isoformat()} 2 0 2" in text, "today's row: RestartAppServer, Usage, total"
    assert "UserLockedOut" not in html
    week = page_text(world["ann"].get(f"{INSIGHTS}?days=7"))
    assert "3 events from" in week
    assert "4 events from" in page_text(world["ann"].get(f"{INSIGHTS}?days=12345")), "an unknown period means 30 days"


def test_pages_say_so_when_the_resource_api_is_unreachable(stack, world):
    stack.app.extensions.pop("resource_client", None)
    stack.app.config["RESOURCE_API_URL"] = "http://127.0.0.1:9"
    try:
        page = world["ann"].get(DELIVERIES)
        assert page.status_code == 503
        assert "not available right now" in page_text(page)
        assert world["ann"].post(f"{DELIVERIES}/retry").status_code == 302
        assert "not available right now" in page_text(world["ann"].get(DELIVERIES))
        insights = world["ann"].get(INSIGHTS)
        assert insights.status_code == 503 and "not available right now" in page_text(insights)
        assert _events("punches.retried") == [], "nothing happened, nothing is recorded"
    finally:
        client = stack.app.extensions.pop("resource_client", None)
        if client is not None:
            client.close()
