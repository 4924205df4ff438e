"""Subscription users: invite (ADD USER), resend, confirm the invitation, activate and deactivate; sign-in lookups.

An ERP User ID and an e-mail address each appear once per subscription (case-insensitively). An invitation
link holds a random token kept only as a SHA-256 digest; it works once, until it expires, and a new invitation
replaces it. A user may be activated only once the subscription has a verified bridge (users belong to the
subscription, not to one bridge). Invited users never get a portal account: they sign in to the apps only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.accounts.service import normalize_email
from authserver.subscriptions.errors import DuplicateError, StateError
from authserver.subscriptions.models import Subscription, as_utc
from authserver.subscriptions.rules import ID_PATTERN
from authserver.subscriptions.service import subscription_bridge
from authserver.users.models import INVITED, VERIFIED, SubscriptionUser
from shared.api import storable
from shared.errors import NotFound
from shared.secrets import digest, random_token

__all__ = [
    "Invitation",
    "InvalidInvitation",
    "confirm_invitation",
    "find_users_for_signin",
    "invitation_user",
    "invite_user",
    "list_users",
    "owned_user",
    "resend_invitation",
    "set_active",
    "subscription_bridge",
]

TAKEN_USER = "This User ID is already a user of the subscription."
TAKEN_EMAIL = "This e-mail address already belongs to a user of the subscription."
NOT_VERIFIED = "Verify a connection of the subscription first (VERIFY CONNECTION): then users can be activated."


class InvalidInvitation(Exception):
    """The invitation link is unknown, expired, or was replaced by a newer one."""


@dataclass(frozen=True)
class Invitation:
    """A user with a fresh invitation token (shown only in the e-mail) and its expiry."""

    user: SubscriptionUser
    token: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _record(session: Session, actor: str, user: SubscriptionUser, event: str, ip: str | None) -> None:
    audit.record(
        session=session,
        event=event,
        actor=actor,
        subscription_id=user.subscription_pk,
        ip=ip,
        user=user.erp_user_id,
        user_ref=str(user.id),
    )


def list_users(*, session: Session, subscription: Subscription) -> list[SubscriptionUser]:
    """The subscription's users by User ID."""
    query = (
        select(SubscriptionUser)
        .where(SubscriptionUser.subscription_pk == subscription.id)
        .order_by(SubscriptionUser.erp_user_id_normalized)
    )
    return list(session.execute(query).scalars())


def owned_user(*, session: Session, subscription: Subscription, user_id: str) -> SubscriptionUser:
    """The subscription's user with this id (a UUID); `NotFound` for any other."""
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("There is no such user.") from None
    user = session.get(SubscriptionUser, key)
    if user is None or user.subscription_pk != subscription.id:
        raise NotFound("There is no such user.")
    return user


def _issue(user: SubscriptionUser, lifetime: int) -> Invitation:
    token = random_token(32)
    expires_at = _now() + timedelta(seconds=lifetime)
    user.invitation_digest = digest(token)
    user.invitation_expires_at = expires_at
    user.invited_at = _now()
    return Invitation(user, token, expires_at)


def invite_user(
    *,
    session: Session,
    account: AdminAccount,
    subscription: Subscription,
    erp_user_id: str,
    email: str,
    active: bool = False,
    lifetime: int = 7 * 86400,
    ip: str | None = None,
) -> Invitation:
    """ADD USER: a new INVITED user with an invitation; raise DuplicateError, or StateError (active too early)."""
    if active and not subscription.has_verified_bridge:
        raise StateError(NOT_VERIFIED)
    existing = list_users(session=session, subscription=subscription)
    if any(u.erp_user_id_normalized == erp_user_id.strip().lower() for u in existing):
        raise DuplicateError("erp_user_id", TAKEN_USER)
    if any(u.email_normalized == normalize_email(email) for u in existing):
        raise DuplicateError("email", TAKEN_EMAIL)
    now = _now()
    user = SubscriptionUser(
        subscription_pk=subscription.id,
        erp_user_id=erp_user_id.strip(),
        erp_user_id_normalized=erp_user_id.strip().lower(),
        email=email.strip(),
        email_normalized=normalize_email(email),
        status=INVITED,
        active=active,
        invited_at=now,
        created_at=now,
        updated_at=now,
    )
    user.subscription = subscription
    invitation = _issue(user, lifetime)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # added concurrently
        session.rollback()
        raise DuplicateError("erp_user_id", TAKEN_USER) from None
    _record(session, audit.account_actor(account.id), user, "user.invited", ip)
    session.commit()
    return invitation


def resend_invitation(
    *, session: Session, account: AdminAccount, user: SubscriptionUser, lifetime: int = 7 * 86400, ip: str | None = None
) -> Invitation:
    """A new invitation for a user who has not confirmed yet; the previous link stops working."""
    if user.status != INVITED:
        raise StateError("This user has already confirmed the invitation.")
    invitation = _issue(user, lifetime)
    user.updated_at = _now()
    _record(session, audit.account_actor(account.id), user, "user.resent", ip)
    session.commit()
    return invitation


def invitation_user(*, session: Session, token: str) -> SubscriptionUser:
    """The invited user an unexpired, current invitation link belongs to; raise InvalidInvitation."""
    if not token or len(token) > 200:
        raise InvalidInvitation("malformed link")
    query = select(SubscriptionUser).where(SubscriptionUser.invitation_digest == digest(token))
    user = session.execute(query).scalar_one_or_none()
    expires = as_utc(user.invitation_expires_at) if user is not None else None
    if user is None or user.status != INVITED or expires is None or expires <= _now():
        raise InvalidInvitation("unknown, replaced or expired link")
    return user


def confirm_invitation(*, session: Session, token: str, ip: str | None = None) -> SubscriptionUser:
    """Confirm account: the user becomes VERIFIED and the link stops working; raise InvalidInvitation."""
    user = invitation_user(session=session, token=token)
    user.status = VERIFIED
    user.verified_at = _now()
    user.updated_at = user.verified_at
    user.invitation_digest = None
    user.invitation_expires_at = None
    _record(session, f"user:{user.id}", user, "user.confirmed", ip)
    session.commit()
    return user


def set_active(
    *, session: Session, account: AdminAccount, user: SubscriptionUser, active: bool, ip: str | None = None
) -> SubscriptionUser:
    """Activate (only once a bridge of the subscription is verified) or deactivate a user."""
    if active and not user.subscription.has_verified_bridge:
        raise StateError(NOT_VERIFIED)
    if user.active != active:
        user.active = active
        user.updated_at = _now()
        _record(session, audit.account_actor(account.id), user, "user.activated" if active else "user.deactivated", ip)
        session.commit()
    return user


def find_users_for_signin(*, session: Session, login: str) -> list[SubscriptionUser]:
    """The users an app sign-in name may mean, whatever their status (the caller checks VERIFIED and active).

    `SubscriptionID/UserID` (split on the first `/`, both case-insensitive) names at most one user; an e-mail
    address names every user with it, across subscriptions (facts §5 row 12: ask for `SubscriptionID/UserID`
    when there are several). Anything else names nobody.
    """
    login = login.strip()
    if not storable(login) or len(login) > 320:
        return []
    subscription_id, slash, erp_user_id = login.partition("/")
    query = select(SubscriptionUser).join(Subscription, SubscriptionUser.subscription_pk == Subscription.id)
    if slash and ID_PATTERN.match(subscription_id) and erp_user_id:
        query = query.where(
            Subscription.subscription_id_normalized == subscription_id.lower(),
            SubscriptionUser.erp_user_id_normalized == erp_user_id.lower(),
        )
    elif "@" in login and len(login) <= 254:
        query = query.where(SubscriptionUser.email_normalized == normalize_email(login))
    else:
        return []
    query = query.order_by(Subscription.subscription_id_normalized, SubscriptionUser.erp_user_id_normalized)
    return list(session.execute(query).scalars())
