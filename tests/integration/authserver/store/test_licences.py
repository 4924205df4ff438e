"""Licences: Get More Users (pro rata), Renew, Get It once, expiry with a reason, endpoint types, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.store import LicenceProblem, check_app_access, licence_for, licensed_endpoint_types
from authserver.store.emails import send_expiry_reminder
from authserver.store.licences.reminders import send_expiry_reminders
from authserver.store.licences.seats import assign_seat
from authserver.store.models import CartLine, ExpiryReminder, Licence, SeatAssignment
from authserver.store.money import add_months, extra_users_net

from .conftest import add_to_cart, checkout, make_licence, make_user, order_code_of, page_text, plan_named


@pytest.fixture
def now() -> datetime:
    """The test's own moment: a module-wide one goes stale, and its date wrong, when a run crosses midnight."""
    return datetime.now(UTC)


def _licence(code="time-attendance"):
    db.session.expire_all()
    return licence_for(session=db.session, subscription_id="roservices", app_code=code)


def test_get_more_users_is_priced_pro_rata_and_adds_seats(client, subscription, operator_client, now):
    ends = (now + timedelta(days=100)).replace(microsecond=0)
    make_licence(subscription, "time-attendance", "Business", ends_at=ends)
    response = client.post("/subscriptions/roservices/apps/time-attendance/more-users", data={"users": "4"})
    assert response.status_code == 302
    line = db.session.execute(select(CartLine)).scalar_one()
    assert (line.kind, line.users) == ("MORE_USERS", 4)
    expected = extra_users_net(users=4, extra_user_price=Decimal("2.25"), today=now.date(), ends_on=ends.date())
    assert f"{expected:.2f} EUR" in page_text(client.get("/subscriptions/roservices/cart"))
    code = order_code_of(checkout(client))
    operator_client.post(f"/store/operator/orders/{code}/enable")
    licence = _licence()
    assert licence.seats == 24
    assert licence.ends_at.replace(tzinfo=UTC) == ends  # the end does not move


@pytest.mark.parametrize(("users", "status"), [("0", 422), ("abc", 422), ("1001", 422), ("", 422), ("5", 302)])
def test_get_more_users_validates_the_number(client, subscription, users, status, now):
    make_licence(subscription, "time-attendance", "Business", ends_at=now + timedelta(days=30))
    response = client.post("/subscriptions/roservices/apps/time-attendance/more-users", data={"users": users})
    assert response.status_code == status
    if status == 422:
        assert "Enter a number of users from 1 to 1000." in page_text(response)


def test_renew_an_active_licence_extends_from_its_end(client, subscription, operator_client, now):
    ends = datetime(now.year + 1, 1, 31, 12, 0, tzinfo=UTC)
    make_licence(subscription, "time-attendance", "Business", ends_at=ends, seats=25)
    response = client.post("/subscriptions/roservices/apps/time-attendance/renew", data={"months": "1"})
    assert response.status_code == 302
    # 1 × (45.00 + 5 extra users × 2.25) = 56.25
    assert "56.25 EUR" in page_text(client.get("/subscriptions/roservices/cart"))
    code = order_code_of(checkout(client))
    operator_client.post(f"/store/operator/orders/{code}/enable")
    renewed = _licence().ends_at.replace(tzinfo=UTC)
    assert renewed == add_months(ends, 1)
    assert renewed.month == 2 and renewed.day in (28, 29)  # from 31 January to February's last day


def test_renew_an_expired_licence_counts_from_today(client, subscription, operator_client, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now - timedelta(days=40))
    client.post("/subscriptions/roservices/apps/time-attendance/renew", data={"months": "3"})
    code = order_code_of(checkout(client))
    before = datetime.now(UTC)
    operator_client.post(f"/store/operator/orders/{code}/enable")
    renewed = _licence().ends_at.replace(tzinfo=UTC)
    assert add_months(before, 3) <= renewed <= add_months(datetime.now(UTC), 3)


@pytest.mark.parametrize("months", ["0", "37", "x"])
def test_renew_validates_months(client, subscription, months, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=3))
    response = client.post("/subscriptions/roservices/apps/time-attendance/renew", data={"months": months})
    assert response.status_code == 422
    assert "Choose a number of months from 1 to 36." in page_text(response)


def test_an_owned_app_cannot_be_bought_again(client, subscription, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=30))
    response = add_to_cart(client, "time-attendance", "Business")
    assert response.status_code == 409
    assert "use Renew or Get More Users" in page_text(response)


def test_trial_get_it_once_per_subscription_and_app(client, subscription, now):
    plan = plan_named("surveys", "Starter")
    response = client.post(f"/store/apps/surveys/plans/{plan.id}/get", data={"subscription": "roservices"})
    assert response.status_code == 302
    licence = _licence("surveys")
    assert licence.kind == "TRIAL" and licence.trial_started_at is not None
    assert (licence.ends_at - licence.starts_at).days == 30
    again = client.post(f"/store/apps/surveys/plans/{plan.id}/get", data={"subscription": "roservices"})
    assert again.status_code == 409
    assert "The trial of Entersoft Surveys has already been used in this subscription." in page_text(again)
    # Even after it has ended.
    licence.ends_at = now - timedelta(days=1)
    db.session.commit()
    assert (
        client.post(f"/store/apps/surveys/plans/{plan.id}/get", data={"subscription": "roservices"}).status_code == 409
    )
    # Buying it replaces the trial.
    assert add_to_cart(client, "surveys", "Team", months="12").status_code == 302


def test_free_app_get_it(client, subscription):
    plan = plan_named("worklife-payroll", "Free")
    assert (
        client.post(
            f"/store/apps/worklife-payroll/plans/{plan.id}/get", data={"subscription": "roservices"}
        ).status_code
        == 302
    )
    licence = _licence("worklife-payroll")
    assert licence.kind == "FREE" and licence.ends_at is None and licence.seats == 10
    assert "No end" in page_text(client.get("/subscriptions/roservices/apps"))
    assert (
        client.post(
            f"/store/apps/worklife-payroll/plans/{plan.id}/get", data={"subscription": "roservices"}
        ).status_code
        == 409
    )


def test_paid_apps_have_no_get_it(client, subscription):
    plan = plan_named("time-attendance", "Basic")
    response = client.post(f"/store/apps/time-attendance/plans/{plan.id}/get", data={"subscription": "roservices"})
    assert response.status_code == 409
    assert db.session.execute(select(func.count()).select_from(Licence)).scalar_one() == 0


def test_my_apps_shows_address_plan_seats_and_end(client, subscription, now):
    ends = now + timedelta(days=60)
    make_licence(subscription, "app-insights", "Standard", ends_at=ends)
    text = page_text(client.get("/subscriptions/roservices/apps"))
    assert "https://api.example.test/apps/app-insights/" in text
    assert "Standard" in text and "0/10" in text and f"{ends:%Y-%m-%d}" in text
    overview = page_text(client.get("/subscriptions/roservices/apps/app-insights"))
    assert "Web address https://api.example.test/apps/app-insights/" in overview
    assert "Get More Users" in overview and "Renew" in overview


def test_app_access_needs_a_licence_a_seat_and_time_left(app, subscription, now):
    user = make_user(subscription, "esmaster")
    with pytest.raises(LicenceProblem) as no_licence:
        check_app_access(session=db.session, subscription_user_id=user.id, app_code="time-attendance")
    assert no_licence.value.code == "no-licence"
    assert no_licence.value.reason == "Your subscription has no licence for Entersoft Time Attendance."

    licence = make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=10))
    with pytest.raises(LicenceProblem) as no_seat:
        check_app_access(session=db.session, subscription_user_id=user.id, app_code="time-attendance")
    assert no_seat.value.code == "no-seat"

    assign_seat(session=db.session, subscription=subscription, licence=licence, user_id=user.id, actor="test")
    assert (
        check_app_access(session=db.session, subscription_user_id=str(user.id), app_code="time-attendance").id
        == licence.id
    )

    later = licence.ends_at.replace(tzinfo=UTC) + timedelta(seconds=1)
    with pytest.raises(LicenceProblem) as expired:
        check_app_access(session=db.session, subscription_user_id=user.id, app_code="time-attendance", now=later)
    assert expired.value.code == "expired" and expired.value.status == 403
    assert f"expired on {licence.ends_at:%Y-%m-%d}" in expired.value.reason
    # The data stays: the licence and its seat are still there.
    assert db.session.execute(select(func.count()).select_from(SeatAssignment)).scalar_one() == 1
    assert licence_for(session=db.session, subscription_id=subscription.id, app_code="time-attendance") is not None

    user.active = False
    db.session.commit()
    with pytest.raises(LicenceProblem) as inactive:
        check_app_access(session=db.session, subscription_user_id=user.id, app_code="time-attendance")
    assert inactive.value.code == "user-inactive"


def test_licensed_endpoint_types_lists_active_licences_only(subscription, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=5))
    make_licence(subscription, "app-insights", "Standard", ends_at=now - timedelta(days=5))
    make_licence(subscription, "worklife-payroll", "Free", ends_at=None, kind="FREE")
    found = licensed_endpoint_types(session=db.session, subscription_id="roservices")
    assert [(app.code, kind) for app, kind in found] == [("time-attendance", "time-attendance")]
    later = licensed_endpoint_types(session=db.session, subscription_id=subscription.id, now=now + timedelta(days=6))
    assert later == []


def test_an_expired_app_page_says_so(client, subscription, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now - timedelta(days=2))
    text = page_text(client.get("/subscriptions/roservices/apps/time-attendance"))
    assert "Expired" in text and "the app's data is kept" in text


def test_reminders_are_sent_once_per_threshold(app, subscription, inbox, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=10))
    make_licence(subscription, "app-insights", "Standard", ends_at=now + timedelta(days=60))

    def run(at):
        return send_expiry_reminders(session=db.session, now=at, send=send_expiry_reminder, days_before=(14, 3))

    assert run(now) == 1
    assert run(now + timedelta(hours=1)) == 0  # the 14-day reminder went out already
    inbox.wait_for(1)
    message = inbox.last_to("ann@example.com")
    assert message["Subject"].startswith("Entersoft Time Attendance ends on")
    assert "/subscriptions/roservices/apps/time-attendance/renew" in message.get_body(("plain",)).get_content()
    assert run(now + timedelta(days=8)) == 1  # 2 days left: the 3-day reminder
    assert run(now + timedelta(days=9)) == 0
    assert db.session.execute(select(func.count()).select_from(ExpiryReminder)).scalar_one() == 2


def test_a_licence_found_late_gets_one_reminder(app, subscription, inbox, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=2))
    sent = send_expiry_reminders(session=db.session, now=now, send=send_expiry_reminder, days_before=(14, 3))
    assert sent == 1
    assert send_expiry_reminders(session=db.session, now=now, send=send_expiry_reminder, days_before=(14, 3)) == 0
    inbox.wait_for(1)
    assert len(inbox.to("ann@example.com")) == 1


def test_a_failed_reminder_is_tried_again(app, subscription, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=2))

    def broken(**_: object) -> None:
        raise OSError("relay down")

    assert send_expiry_reminders(session=db.session, now=now, send=broken) == 0
    assert db.session.execute(select(func.count()).select_from(ExpiryReminder)).scalar_one() == 0
    sent: list[str] = []
    assert send_expiry_reminders(session=db.session, now=now, send=lambda **kw: sent.append(kw["to"])) == 1
    assert sent == ["ann@example.com"]


def test_remind_command(app, subscription, inbox, now):
    make_licence(subscription, "time-attendance", "Basic", ends_at=now + timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["store", "remind"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) sent" in result.output
