"""Account lifecycle: register, confirm, sign in (with slow-down), reset the password, roles."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import ROLES, AdminAccount
from authserver.accounts.throttle import ThrottlePolicy
from authserver.accounts.tokens import CONFIRM, RESEND, RESET, InvalidLink, read_token, stamp_matches
from shared.secrets import hash_password, random_token, verify_password

__all__ = [
    "InvalidLink",
    "NotConfirmed",
    "Registration",
    "SignInRefused",
    "account_for_session",
    "authenticate",
    "by_email",
    "confirm_email",
    "normalize_email",
    "register",
    "request_password_reset",
    "reset_account",
    "reset_password",
    "resend_account",
    "set_role",
    "signed_out",
]

log = logging.getLogger(__name__)


class SignInRefused(Exception):
    """Unknown e-mail, wrong password, or too many recent failures: the user is told none of these apart."""


class NotConfirmed(Exception):
    """The password is right but the e-mail address has not been confirmed yet."""

    def __init__(self, account: AdminAccount) -> None:
        super().__init__("e-mail address not confirmed")
        self.account = account


@dataclass(frozen=True)
class Registration:
    """The account an e-mail address belongs to, and whether this registration created it."""

    account: AdminAccount
    created: bool


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(random_token())


def normalize_email(email: str) -> str:
    """The form in which addresses are compared: trimmed and lower-cased."""
    return email.strip().lower()


def by_email(*, session: Session, email: str) -> AdminAccount | None:
    """The account registered with `email`, compared case-insensitively."""
    query = select(AdminAccount).where(AdminAccount.email_normalized == normalize_email(email))
    return session.execute(query).scalar_one_or_none()


def register(*, session: Session, email: str, password: str, ip: str | None = None) -> Registration:
    """Create an unconfirmed admin account, or return the existing one untouched (the caller answers alike)."""
    password_hash = hash_password(password)  # also for a known address, so both answers take as long
    existing = by_email(session=session, email=email)
    if existing is None:
        account = AdminAccount(
            email=email.strip(),
            email_normalized=normalize_email(email),
            password_hash=password_hash,
            security_stamp=random_token(16),
            created_at=_now(),
        )
        session.add(account)
        try:
            session.flush()
        except IntegrityError:  # registered concurrently
            session.rollback()
            existing = by_email(session=session, email=email)
        else:
            audit.record(session=session, event="account.registered", actor=audit.account_actor(account.id), ip=ip)
            session.commit()
            return Registration(account, created=True)
    if existing is None:  # cannot happen: the unique constraint failed because the row exists
        raise RuntimeError("registration conflict without an existing account")
    audit.record(session=session, event="account.register_repeated", actor=audit.account_actor(existing.id), ip=ip)
    session.commit()
    return Registration(existing, created=False)


def _account_for_link(*, session: Session, token: str, purpose: str, secret_key: str, max_age: int) -> AdminAccount:
    account_id, tag = read_token(secret_key=secret_key, purpose=purpose, token=token, max_age=max_age)
    account = session.get(AdminAccount, account_id)
    if account is None or not stamp_matches(account, tag):
        raise InvalidLink("the link was already used or has been replaced")
    return account


def confirm_email(
    *, session: Session, token: str, secret_key: str, max_age: int, ip: str | None = None
) -> AdminAccount:
    """Confirm the address a link was sent to; the link stops working afterwards."""
    account = _account_for_link(session=session, token=token, purpose=CONFIRM, secret_key=secret_key, max_age=max_age)
    if account.is_confirmed:
        raise InvalidLink("already confirmed")
    account.confirmed_at = _now()
    account.security_stamp = random_token(16)
    audit.record(session=session, event="account.confirmed", actor=audit.account_actor(account.id), ip=ip)
    session.commit()
    return account


def resend_account(
    *, session: Session, token: str, secret_key: str, max_age: int, ip: str | None = None
) -> AdminAccount:
    """The unconfirmed account a resend button was issued for (after a correct password); raise InvalidLink."""
    account = _account_for_link(session=session, token=token, purpose=RESEND, secret_key=secret_key, max_age=max_age)
    if account.is_confirmed:
        raise InvalidLink("already confirmed")
    audit.record(session=session, event="account.confirmation_resent", actor=audit.account_actor(account.id), ip=ip)
    session.commit()
    return account


def authenticate(
    *, session: Session, email: str, password: str, throttle: ThrottlePolicy, ip: str | None = None
) -> AdminAccount:
    """The account for a correct e-mail and password; raise SignInRefused or NotConfirmed.

    Exactly one password hash is checked on every path, so timing does not tell the paths apart.
    """
    now = _now()
    account = by_email(session=session, email=email)
    if account is None:
        verify_password(_dummy_hash(), password)
        log.info("sign-in refused: unknown e-mail (from %s)", ip)
        raise SignInRefused
    actor = audit.account_actor(account.id)
    if throttle.wait(failures=account.failed_sign_ins, last_failed_at=account.last_failed_at, now=now) > 0:
        verify_password(_dummy_hash(), password)
        audit.record(session=session, event="account.signin_failed", actor=actor, ip=ip, reason="throttled")
        session.commit()
        raise SignInRefused
    if not verify_password(account.password_hash, password):
        recent = throttle.recent_failures(
            failures=account.failed_sign_ins, last_failed_at=account.last_failed_at, now=now
        )
        account.failed_sign_ins = recent + 1
        account.last_failed_at = now
        audit.record(session=session, event="account.signin_failed", actor=actor, ip=ip, reason="password")
        session.commit()
        raise SignInRefused
    account.failed_sign_ins = 0
    account.last_failed_at = None
    if not account.is_confirmed:
        audit.record(session=session, event="account.signin_failed", actor=actor, ip=ip, reason="unconfirmed")
        session.commit()
        raise NotConfirmed(account)
    account.last_signin_at = now
    audit.record(session=session, event="account.signin", actor=actor, ip=ip)
    session.commit()
    return account


def signed_out(*, session: Session, account: AdminAccount, ip: str | None = None) -> None:
    """Record that an account signed out."""
    audit.record(session=session, event="account.signout", actor=audit.account_actor(account.id), ip=ip)
    session.commit()


def account_for_session(*, session: Session, session_id: str) -> AdminAccount | None:
    """The signed-in account for Flask-Login's id (`<id>:<stamp tag>`), or None once the stamp has changed."""
    account_id, _, tag = session_id.partition(":")
    if not account_id.isdigit():
        return None
    account = session.get(AdminAccount, int(account_id))
    if account is None or not account.is_confirmed or not stamp_matches(account, tag):
        return None
    return account


def request_password_reset(*, session: Session, email: str, ip: str | None = None) -> AdminAccount | None:
    """The account to send a reset link to, or None for an unknown address (the caller answers alike)."""
    account = by_email(session=session, email=email)
    if account is not None:
        audit.record(
            session=session, event="account.password_reset_requested", actor=audit.account_actor(account.id), ip=ip
        )
        session.commit()
    return account


def reset_account(*, session: Session, token: str, secret_key: str, max_age: int) -> AdminAccount:
    """The account a reset link is valid for; raise InvalidLink."""
    return _account_for_link(session=session, token=token, purpose=RESET, secret_key=secret_key, max_age=max_age)


def reset_password(
    *, session: Session, token: str, password: str, secret_key: str, max_age: int, ip: str | None = None
) -> AdminAccount:
    """Set a new password through a reset link; the link and every other session stop working.

    The link proves the mailbox, so an unconfirmed account becomes confirmed.
    """
    account = reset_account(session=session, token=token, secret_key=secret_key, max_age=max_age)
    account.password_hash = hash_password(password)
    account.security_stamp = random_token(16)
    account.failed_sign_ins = 0
    account.last_failed_at = None
    if account.confirmed_at is None:
        account.confirmed_at = _now()
    audit.record(session=session, event="account.password_reset", actor=audit.account_actor(account.id), ip=ip)
    session.commit()
    return account


def set_role(*, session: Session, email: str, role: str) -> AdminAccount:
    """Make an account an `admin` or an `operator`; raise LookupError for an unknown address."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    account = by_email(session=session, email=email)
    if account is None:
        raise LookupError("no account uses that e-mail address")
    account.role = role
    audit.record(session=session, event="account.role_changed", actor=audit.SYSTEM, role=role, account=account.id)
    session.commit()
    return account
