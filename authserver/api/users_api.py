"""`/api/v1/subscriptions/<id>/users`: ADD USER, resend the invitation, activate and deactivate."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from authserver.api.auth import api_account, api_owned, protect
from authserver.api.schemas import Augmented, InvitedUserSchema, UserCreateSchema, UserSchema, UserUpdateSchema
from authserver.extensions import db
from authserver.mail import MailError
from authserver.users import emails, service
from authserver.users.service import Invitation
from shared.api import Blueprint

bp = protect(
    Blueprint(
        "api_users",
        __name__,
        url_prefix="/api/v1/subscriptions/<subscription_id>/users",
        description="Subscription users and their invitations",
    )
)


def _lifetime() -> int:
    return int(current_app.config["INVITATION_LIFETIME"])


def _mailed(invitation: Invitation) -> Augmented:
    try:
        emails.send_invitation(invitation)
        sent = True
    except MailError:
        sent = False
    return Augmented(invitation.user, invitation_sent=sent)


@bp.get("")
@bp.response(200, UserSchema(many=True))
def list_users(subscription_id: str) -> Any:
    """The subscription's users."""
    return service.list_users(session=db.session, subscription=api_owned(subscription_id))


@bp.post("")
@bp.arguments(UserCreateSchema)
@bp.response(201, InvitedUserSchema)
def invite_user(data: dict[str, Any], subscription_id: str) -> Any:
    """ADD USER: the ERP User ID and e-mail; the user is e-mailed an invitation to confirm."""
    subscription = api_owned(subscription_id)
    invitation = service.invite_user(
        session=db.session,
        account=api_account(),
        subscription=subscription,
        lifetime=_lifetime(),
        ip=request.remote_addr,
        **data,
    )
    location = url_for(".get_user", subscription_id=subscription.subscription_id, user_id=invitation.user.id)
    return _mailed(invitation), 201, {"Location": location}


@bp.get("/<user_id>")
@bp.response(200, UserSchema)
def get_user(subscription_id: str, user_id: str) -> Any:
    """One user."""
    return service.owned_user(session=db.session, subscription=api_owned(subscription_id), user_id=user_id)


@bp.patch("/<user_id>")
@bp.arguments(UserUpdateSchema)
@bp.response(200, UserSchema)
def update_user(data: dict[str, Any], subscription_id: str, user_id: str) -> Any:
    """Activate (once a connection is verified) or deactivate a user."""
    user = service.owned_user(session=db.session, subscription=api_owned(subscription_id), user_id=user_id)
    return service.set_active(
        session=db.session, account=api_account(), user=user, active=data["active"], ip=request.remote_addr
    )


@bp.post("/<user_id>/invitation")
@bp.response(200, InvitedUserSchema)
def resend_invitation(subscription_id: str, user_id: str) -> Any:
    """Send the invitation again; the previous link stops working."""
    user = service.owned_user(session=db.session, subscription=api_owned(subscription_id), user_id=user_id)
    invitation = service.resend_invitation(
        session=db.session, account=api_account(), user=user, lifetime=_lifetime(), ip=request.remote_addr
    )
    return _mailed(invitation)
