"""The Users tab (ADD USER, resend invitation, activate, deactivate) and the invitation's Confirm account page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from authserver.accounts.access import admin_required
from authserver.extensions import db
from authserver.mail import MailError
from authserver.portal import render_message
from authserver.subscriptions.errors import FieldError, StateError
from authserver.subscriptions.pages import account, client_ip, install_page_errors, owned, show_problem
from authserver.users import emails, service
from authserver.users.forms import AddUserForm, ConfirmInvitationForm
from authserver.users.service import InvalidInvitation

bp = Blueprint("users", __name__, template_folder="templates")
install_page_errors(bp)

MAIL_FAILED = "We could not send the invitation e-mail. Use resend invitation in a few minutes."


def _lifetime() -> int:
    return int(current_app.config["INVITATION_LIFETIME"])


def _users_page(subscription_id: str) -> Any:
    return redirect(url_for(".index", subscription_id=subscription_id))


@bp.get("/subscriptions/<subscription_id>/users")
@admin_required
def index(subscription_id: str) -> Any:
    """The Users tab: each user's User ID, e-mail, status and whether they are active."""
    subscription = owned(subscription_id)
    users = service.list_users(session=db.session, subscription=subscription)
    return render_template("users/index.html", subscription=subscription, users=users, tab="users")


@bp.route("/subscriptions/<subscription_id>/users/new", methods=["GET", "POST"])
@admin_required
def add(subscription_id: str) -> Any:
    """ADD USER: the ERP User ID and e-mail; the user gets an invitation to confirm."""
    subscription = owned(subscription_id)
    form = AddUserForm()
    if not form.is_submitted():
        form.active.data = subscription.has_verified_bridge
    if form.validate_on_submit():
        try:
            invitation = service.invite_user(
                session=db.session,
                account=account(),
                subscription=subscription,
                erp_user_id=form.erp_user_id.data,
                email=form.email.data,
                active=bool(form.active.data),
                lifetime=_lifetime(),
                ip=client_ip(),
            )
        except FieldError as exc:
            show_problem(form, exc)
        except StateError as exc:
            form.active.errors = [*form.active.errors, str(exc)]
        else:
            try:
                emails.send_invitation(invitation)
            except MailError:
                flash(f"User {invitation.user.erp_user_id} added. {MAIL_FAILED}", "error")
            else:
                flash(
                    f"User {invitation.user.erp_user_id} added. We sent the invitation to {invitation.user.email}.",
                    "success",
                )
            return _users_page(subscription.subscription_id)
    return render_template("users/add.html", subscription=subscription, form=form, tab="users")


@bp.post("/subscriptions/<subscription_id>/users/<user_id>/resend")
@admin_required
def resend(subscription_id: str, user_id: str) -> Any:
    """Send a new invitation; the previous link stops working."""
    subscription = owned(subscription_id)
    user = service.owned_user(session=db.session, subscription=subscription, user_id=user_id)
    try:
        invitation = service.resend_invitation(
            session=db.session, account=account(), user=user, lifetime=_lifetime(), ip=client_ip()
        )
        emails.send_invitation(invitation)
    except StateError as exc:
        flash(str(exc), "error")
    except MailError:
        flash(MAIL_FAILED, "error")
    else:
        flash(f"We sent a new invitation to {user.email}. The previous link no longer works.", "success")
    return _users_page(subscription.subscription_id)


def _set_active(subscription_id: str, user_id: str, active: bool) -> Any:
    subscription = owned(subscription_id)
    user = service.owned_user(session=db.session, subscription=subscription, user_id=user_id)
    try:
        service.set_active(session=db.session, account=account(), user=user, active=active, ip=client_ip())
    except StateError as exc:
        flash(str(exc), "error")
    else:
        flash(f"User {user.erp_user_id} is {'active' if active else 'inactive'}.", "success")
    return _users_page(subscription.subscription_id)


@bp.post("/subscriptions/<subscription_id>/users/<user_id>/activate")
@admin_required
def activate(subscription_id: str, user_id: str) -> Any:
    """Activate a user (once a connection of the subscription is verified)."""
    return _set_active(subscription_id, user_id, True)


@bp.post("/subscriptions/<subscription_id>/users/<user_id>/deactivate")
@admin_required
def deactivate(subscription_id: str, user_id: str) -> Any:
    """Deactivate a user: they can no longer sign in to any app."""
    return _set_active(subscription_id, user_id, False)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """The invitee's page: "Confirm account" (a POST with CSRF; opening the link changes nothing)."""
    form = ConfirmInvitationForm()
    try:
        if form.validate_on_submit():
            user = service.confirm_invitation(session=db.session, token=token, ip=client_ip())
            return render_template("users/confirmed.html", user=user)
        user = service.invitation_user(session=db.session, token=token)
    except InvalidInvitation:
        return render_message(
            "This invitation does not work any more",
            "The invitation link has expired, was already used, or was replaced by a newer invitation. "
            "Ask your administrator to send the invitation again, and open the newest e-mail.",
            400,
        )
    return render_template("users/invitation.html", user=user, form=form)
