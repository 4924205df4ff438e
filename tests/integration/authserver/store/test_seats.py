"""Seats: the app's Users tab assigns eligible users, never more than bought, even when two race for the last seat."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authserver.audit.models import AuditEvent
from authserver.extensions import db
from authserver.store.errors import StoreStateError
from authserver.store.licences.seats import assign_seat
from authserver.store.licences.service import seats_used
from authserver.store.models import Licence, SeatAssignment
from authserver.subscriptions.models import Subscription

from .conftest import make_licence, make_subscription, make_user, page_text

FUTURE = datetime.now(UTC) + timedelta(days=200)


def _assign(client, user, code="time-attendance"):
    return client.post(f"/subscriptions/roservices/apps/{code}/users/{user.id}/assign", follow_redirects=True)


def test_users_are_assigned_up_to_the_seats_bought(client, subscription):
    licence = make_licence(subscription, "time-attendance", "Basic", ends_at=FUTURE, seats=2)
    users = [make_user(subscription, f"user{i}") for i in range(3)]
    assert "The user can use the app now." in page_text(_assign(client, users[0]))
    _assign(client, users[1])
    page = page_text(_assign(client, users[2]))
    assert "All 2 seats of Entersoft Time Attendance are taken." in page
    assert seats_used(session=db.session, licence=licence) == 2
    assert "2 of 2 seats used" in page_text(client.get("/subscriptions/roservices/apps/time-attendance/users"))
    assert "2/2" in page_text(client.get("/subscriptions/roservices/apps"))
    # Freeing a seat lets the third in.
    client.post(f"/subscriptions/roservices/apps/time-attendance/users/{users[0].id}/remove")
    assert "The user can use the app now." in page_text(_assign(client, users[2]))
    events = [e.event for e in db.session.execute(select(AuditEvent)).scalars()]
    assert events.count("seat.assigned") == 3 and events.count("seat.removed") == 1


def test_assigning_twice_keeps_one_seat(client, subscription):
    make_licence(subscription, "time-attendance", "Basic", ends_at=FUTURE)
    user = make_user(subscription, "esmaster")
    _assign(client, user)
    _assign(client, user)
    assert db.session.execute(select(func.count()).select_from(SeatAssignment)).scalar_one() == 1


@pytest.mark.parametrize(
    ("status", "active", "verified_bridge", "reason"),
    [
        ("INVITED", True, True, "has not confirmed the invitation yet"),
        ("VERIFIED", False, True, "is not active"),
        ("VERIFIED", True, False, "cannot be assigned before a connection is verified"),
    ],
)
def test_only_verified_active_users_on_a_verified_connection(admin, client, status, active, verified_bridge, reason):
    subscription = make_subscription(admin, "roservices", verified=verified_bridge)
    make_licence(subscription, "time-attendance", "Basic", ends_at=FUTURE)
    user = make_user(subscription, "esmaster", status=status, active=active)
    assert reason in page_text(client.get("/subscriptions/roservices/apps/time-attendance/users"))
    assert f"esmaster {reason}." in page_text(_assign(client, user))
    assert db.session.execute(select(func.count()).select_from(SeatAssignment)).scalar_one() == 0


def test_another_subscriptions_user_is_not_found(admin, client, subscription):
    make_licence(subscription, "time-attendance", "Basic", ends_at=FUTURE)
    other = make_subscription(admin, "othersub")
    stranger = make_user(other, "esmaster")
    assert _assign(client, stranger).status_code == 404
    assert client.post("/subscriptions/roservices/apps/time-attendance/users/not-a-uuid/assign").status_code == 404


def test_an_expired_licence_takes_no_new_users(client, subscription):
    make_licence(subscription, "time-attendance", "Basic", ends_at=datetime.now(UTC) - timedelta(days=1))
    user = make_user(subscription, "esmaster")
    assert "renew it first" in page_text(_assign(client, user))


def test_deactivated_users_do_not_count(client, subscription):
    licence = make_licence(subscription, "time-attendance", "Basic", ends_at=FUTURE, seats=1)
    first, second = make_user(subscription, "first"), make_user(subscription, "second")
    _assign(client, first)
    first.active = False
    db.session.commit()
    assert seats_used(session=db.session, licence=licence) == 0
    assert "The user can use the app now." in page_text(_assign(client, second))


def test_two_assignments_of_the_last_seat_at_once_one_wins(app, subscription):
    """Two sessions assign the last seat behind a barrier: exactly one succeeds, and the count stays within seats."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serializes every writer); the limit is tested above")
    licence = make_licence(subscription, "time-attendance", "Basic", ends_at=FUTURE, seats=3)
    for i in range(2):
        assign_seat(
            session=db.session,
            subscription=subscription,
            licence=licence,
            user_id=make_user(subscription, f"holder{i}").id,
            actor="test",
        )
    contenders = [make_user(subscription, f"contender{i}").id for i in range(2)]
    subscription_pk, licence_id = subscription.id, licence.id  # read here: threads must not touch this session
    for attempt in range(5):  # repeat, so a lucky interleaving cannot hide a race
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        errors: list[BaseException] = []

        def claim(user_id, barrier=barrier, outcomes=outcomes, errors=errors) -> None:
            try:
                with app.app_context(), Session(db.engine) as session:
                    sub = session.get(Subscription, subscription_pk)
                    lic = session.get(Licence, licence_id)
                    barrier.wait(timeout=10)
                    try:
                        assign_seat(session=session, subscription=sub, licence=lic, user_id=user_id, actor="race")
                        outcomes.append("won")
                    except StoreStateError:
                        outcomes.append("refused")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=claim, args=(u,)) for u in contenders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert sorted(outcomes) == ["refused", "won"], (attempt, outcomes)
        db.session.expire_all()
        assert seats_used(session=db.session, licence=licence) == 3
        db.session.execute(SeatAssignment.__table__.delete().where(SeatAssignment.subscription_user_id.in_(contenders)))
        db.session.commit()
