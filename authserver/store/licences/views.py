"""My Apps: each owned app's Overview (web address, plan, seats, valid until), its Users tab, Get More Users, Renew;
Time Attendance's Deliveries tab (dead letters, retry) and Application Insights' Insights tab (chart and table)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from authserver import audit
from authserver.accounts.access import admin_required
from authserver.extensions import db
from authserver.resource_client import ResourceProblem, resource_client
from authserver.store.cart.service import add_to_cart
from authserver.store.catalogue.service import app_by_code
from authserver.store.errors import StoreFieldError, StoreStateError
from authserver.store.forms import MonthsForm, UsersForm
from authserver.store.licences.deliveries import retry_dead_letters
from authserver.store.licences.seats import assign_seat, list_user_seats, unassign_seat
from authserver.store.licences.service import is_active, licence_for, list_owned_apps, seats_used
from authserver.store.models import MORE_USERS, PAID, RENEWAL, Licence
from authserver.store.web import account, bp, client_ip, field_error, resource_api_url, tenant
from authserver.subscriptions.models import Subscription
from shared.errors import NotFound


def _owned(subscription: Subscription, code: str) -> Licence:
    app = app_by_code(session=db.session, code=code, include_hidden=True)
    licence = licence_for(session=db.session, subscription_id=subscription.id, app_code=app.code)
    if licence is None:
        raise NotFound("This app is not in the subscription's apps.")
    return licence


@bp.get("/subscriptions/<sub_id>/apps")
@admin_required
def my_apps(sub_id: str) -> Any:
    """My Apps: each owned app with its web address, plan, seats used/total and valid-until."""
    subscription = tenant(sub_id)
    return render_template(
        "store/my_apps.html",
        subscription=subscription,
        owned=list_owned_apps(session=db.session, subscription=subscription),
        resource_api_url=resource_api_url(),
    )


def _licence_page(template: str, subscription: Any, licence: Any, **extra: Any) -> str:
    """A page about one owned app: the licence, whether it is active and how many seats are used."""
    return render_template(
        template,
        subscription=subscription,
        licence=licence,
        active=is_active(licence),
        used=seats_used(session=db.session, licence=licence),
        **extra,
    )


@bp.get("/subscriptions/<sub_id>/apps/<code>")
@admin_required
def owned_app(sub_id: str, code: str) -> Any:
    """An app's Overview: where its users sign in, its plan, seats and end; Get More Users and Renew."""
    subscription = tenant(sub_id)
    licence = _owned(subscription, code)
    return _licence_page(
        "store/owned_app.html", subscription, licence, address=licence.app.address(resource_api_url()), tab="overview"
    )


@bp.get("/subscriptions/<sub_id>/apps/<code>/users")
@admin_required
def app_users(sub_id: str, code: str) -> Any:
    """The app's Users tab: choose, from the subscription's users, those who may use the app."""
    subscription = tenant(sub_id)
    licence = _owned(subscription, code)
    rows = list_user_seats(session=db.session, subscription=subscription, licence=licence)
    return _licence_page("store/app_users.html", subscription, licence, rows=rows, tab="users")


@bp.post("/subscriptions/<sub_id>/apps/<code>/users/<user_id>/assign")
@admin_required
def assign_user(sub_id: str, code: str, user_id: str) -> Any:
    """Give a user a seat of the app."""
    subscription = tenant(sub_id)
    licence = _owned(subscription, code)
    try:
        assign_seat(
            session=db.session,
            subscription=subscription,
            licence=licence,
            user_id=user_id,
            actor=audit.account_actor(account().id),
            ip=client_ip(),
        )
    except StoreStateError as exc:
        flash(exc.detail or "", "error")
    else:
        flash("The user can use the app now.", "success")
    return redirect(url_for("store.app_users", sub_id=subscription.subscription_id, code=licence.app.code))


@bp.post("/subscriptions/<sub_id>/apps/<code>/users/<user_id>/remove")
@admin_required
def remove_user(sub_id: str, code: str, user_id: str) -> Any:
    """Take a user's seat of the app away."""
    subscription = tenant(sub_id)
    licence = _owned(subscription, code)
    removed = unassign_seat(
        session=db.session,
        subscription=subscription,
        licence=licence,
        user_id=user_id,
        actor=audit.account_actor(account().id),
        ip=client_ip(),
    )
    flash("The user no longer uses the app." if removed else "The user had no seat.", "success" if removed else "info")
    return redirect(url_for("store.app_users", sub_id=subscription.subscription_id, code=licence.app.code))


def _bought(licence: Licence, subscription: Subscription) -> Any:
    if licence.kind != PAID:
        flash(f"Buy {licence.app.name} first: only bought apps get more users or renewals.", "info")
        return redirect(url_for("store.app_details", code=licence.app.code, subscription=subscription.subscription_id))
    return None


def _into_cart(form: Any, subscription: Any, *, kind: str, app: Any, message: str, **amount: Any) -> tuple[Any, int]:
    """Put a validated form's line in the cart: (redirect to the cart, 302), or (None, status to render with)."""
    if not form.validate_on_submit():
        return None, 200
    try:
        add_to_cart(session=db.session, subscription=subscription, kind=kind, app=app, **amount)
    except StoreFieldError as exc:
        field_error(form, exc)
        return None, 422
    except StoreStateError as exc:
        form.form_errors.append(exc.detail)
        return None, 409
    flash(message.format(app=app.name), "success")
    return redirect(url_for("store.cart", sub_id=subscription.subscription_id)), 302


@bp.route("/subscriptions/<sub_id>/apps/<code>/more-users", methods=["GET", "POST"])
@admin_required
def more_users(sub_id: str, code: str) -> Any:
    """Get More Users: enter the number of end users; they are priced until the licence's end (pro rata)."""
    subscription = tenant(sub_id)
    licence = _owned(subscription, code)
    if (answer := _bought(licence, subscription)) is not None:
        return answer
    form = UsersForm()
    done, status = _into_cart(
        form,
        subscription,
        kind=MORE_USERS,
        app=licence.app,
        message="More users for {app} are in the cart.",
        users=form.users.data,
    )
    if done is not None:
        return done
    return render_template("store/more_users.html", subscription=subscription, licence=licence, form=form), status


@bp.route("/subscriptions/<sub_id>/apps/<code>/renew", methods=["GET", "POST"])
@admin_required
def renew(sub_id: str, code: str) -> Any:
    """Renew: choose for how many months; the renewal counts from the later of today and the current end."""
    subscription = tenant(sub_id)
    licence = _owned(subscription, code)
    if (answer := _bought(licence, subscription)) is not None:
        return answer
    form = MonthsForm()
    form.subscription.choices = [SelectChoice(subscription.subscription_id, subscription.subscription_id)]
    form.subscription.data = subscription.subscription_id
    done, status = _into_cart(
        form,
        subscription,
        kind=RENEWAL,
        app=licence.app,
        message="The renewal of {app} is in the cart.",
        months=form.months.data,
    )
    if done is not None:
        return done
    return render_template(
        "store/renew.html", subscription=subscription, licence=licence, form=form, active=is_active(licence)
    ), status


TIME_ATTENDANCE = "time-attendance"
APP_INSIGHTS = "app-insights"
INSIGHTS_WINDOWS = (7, 30, 90)


def _owned_with(subscription: Subscription, code: str, endpoint_type: str) -> Licence:
    """The licence of an owned app whose endpoint is `endpoint_type`; other apps have no such tab (404)."""
    licence = _owned(subscription, code)
    if licence.app.endpoint_type != endpoint_type:
        raise NotFound("This app has no such tab.")
    return licence


@bp.get("/subscriptions/<sub_id>/apps/<code>/deliveries")
@admin_required
def app_deliveries(sub_id: str, code: str) -> Any:
    """Time Attendance → Deliveries: the punches payroll refused, with EBS's reason, to retry one or all."""
    subscription = tenant(sub_id)
    licence = _owned_with(subscription, code, TIME_ATTENDANCE)
    punches: list[dict[str, Any]] = []
    error = None
    try:
        punches = resource_client().rejected_punches(subscription_id=subscription.subscription_id)
    except ResourceProblem as exc:
        error = exc.detail or exc.title
    return _licence_page(
        "store/app_deliveries.html", subscription, licence, punches=punches, error=error, tab="deliveries"
    ), (200 if error is None else 503)


def _retry(sub_id: str, code: str, punch_id: int | None) -> Any:
    subscription = tenant(sub_id)
    licence = _owned_with(subscription, code, TIME_ATTENDANCE)
    try:
        retried = retry_dead_letters(
            session=db.session,
            client=resource_client(),
            subscription=subscription,
            licence=licence,
            actor=audit.account_actor(account().id),
            ip=client_ip(),
            punch_id=punch_id,
        )
    except ResourceProblem as exc:
        flash(exc.detail or exc.title, "error")
    else:
        plural = "punch goes" if retried == 1 else "punches go"
        flash(f"{retried} {plural} to payroll again." if retried else "There was nothing to retry.", "success")
    return redirect(url_for("store.app_deliveries", sub_id=subscription.subscription_id, code=licence.app.code))


@bp.post("/subscriptions/<sub_id>/apps/<code>/deliveries/retry")
@admin_required
def retry_deliveries(sub_id: str, code: str) -> Any:
    """Retry all: every rejected punch goes back to the outbox, to be delivered again in order."""
    return _retry(sub_id, code, None)


@bp.post("/subscriptions/<sub_id>/apps/<code>/deliveries/<int:punch_id>/retry")
@admin_required
def retry_delivery(sub_id: str, code: str, punch_id: int) -> Any:
    """Retry one rejected punch (say, once the employee exists in payroll)."""
    return _retry(sub_id, code, punch_id)


@bp.get("/subscriptions/<sub_id>/apps/<code>/insights")
@admin_required
def app_insights(sub_id: str, code: str) -> Any:
    """Application Insights → Insights: events by type and day as a chart drawn by the resource API, and a table."""
    subscription = tenant(sub_id)
    licence = _owned_with(subscription, code, APP_INSIGHTS)
    days = request.args.get("days", type=int)
    days = days if days in INSIGHTS_WINDOWS else 30
    summary: dict[str, Any] | None = None
    chart = None
    error = None
    try:
        client = resource_client()
        summary = client.insights_summary(subscription_id=subscription.subscription_id, days=days)
        chart = Markup(client.insights_chart(subscription_id=subscription.subscription_id, days=days))  # noqa: S704 - checked inert by the client
    except ResourceProblem as exc:
        error, summary, chart = exc.detail or exc.title, None, None
    return _licence_page(
        "store/app_insights.html",
        subscription,
        licence,
        summary=summary,
        chart=chart,
        days=days,
        windows=INSIGHTS_WINDOWS,
        error=error,
        tab="insights",
    ), (200 if error is None else 503)
