"""Personal access tokens for the JSON API: create (shown once), list, revoke, and the lookup on each request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.api.models import PersonalAccessToken
from authserver.subscriptions.models import as_utc
from shared.errors import NotFound
from shared.secrets import digest, random_token

__all__ = [
    "DEFAULT_LIFETIME_DAYS",
    "LIFETIME_DAYS",
    "PREFIX",
    "NewToken",
    "account_for_token",
    "create_token",
    "list_tokens",
    "owned_token",
    "revoke_token",
]

PREFIX = "cspat_"  # recognisable in logs and by secret scanners; the rest is 256 random bits
LIFETIME_DAYS = (7, 30, 90, 365)  # the lifetimes offered; None (no expiry) must be chosen on purpose
DEFAULT_LIFETIME_DAYS = 30
_TOUCH_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often, not on every request


@dataclass(frozen=True)
class NewToken:
    """A token just created, with its value: shown this once, never stored."""

    token: PersonalAccessToken
    value: str


def _now() -> datetime:
    return datetime.now(UTC)


def create_token(
    *,
    session: Session,
    account: AdminAccount,
    name: str,
    lifetime_days: int | None = DEFAULT_LIFETIME_DAYS,
    ip: str | None = None,
) -> NewToken:
    """A new token for the account's API calls, valid `lifetime_days` (one of LIFETIME_DAYS) or, given None,
    until revoked."""
    if lifetime_days is not None and lifetime_days not in LIFETIME_DAYS:
        raise ValueError(f"a token lives one of {LIFETIME_DAYS} days, or until revoked")
    value = PREFIX + random_token(32)
    now = _now()
    row = PersonalAccessToken(
        account_id=account.id,
        name=name.strip(),
        token_digest=digest(value),
        prefix=value[: len(PREFIX) + 4],
        created_at=now,
        expires_at=None if lifetime_days is None else now + timedelta(days=lifetime_days),
    )
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        event="pat.created",
        actor=audit.account_actor(account.id),
        ip=ip,
        pat=row.id,
        name=row.name,
        days=lifetime_days,
    )
    session.commit()
    return NewToken(row, value)


def list_tokens(*, session: Session, account: AdminAccount) -> list[PersonalAccessToken]:
    """The account's tokens, newest first (revoked ones included, marked)."""
    query = (
        select(PersonalAccessToken)
        .where(PersonalAccessToken.account_id == account.id)
        .order_by(PersonalAccessToken.id.desc())
    )
    return list(session.execute(query).scalars())


def owned_token(*, session: Session, account: AdminAccount, token_id: int) -> PersonalAccessToken:
    """One of the account's tokens; `NotFound` for any other."""
    row = session.get(PersonalAccessToken, token_id)
    if row is None or row.account_id != account.id:
        raise NotFound("There is no such token.")
    return row


def revoke_token(*, session: Session, account: AdminAccount, token: PersonalAccessToken, ip: str | None = None) -> None:
    """Revoke a token: it stops working at once."""
    if token.revoked_at is None:
        token.revoked_at = _now()
        audit.record(session=session, event="pat.revoked", actor=audit.account_actor(account.id), ip=ip, pat=token.id)
        session.commit()


def account_for_token(*, session: Session, value: str) -> AdminAccount | None:
    """The confirmed account an unrevoked, unexpired token belongs to, or None; notes when it was last used."""
    if not value.startswith(PREFIX) or len(value) > 100:
        return None
    row = session.execute(
        select(PersonalAccessToken).where(PersonalAccessToken.token_digest == digest(value))
    ).scalar_one_or_none()
    if row is None or not row.is_active:
        return None
    account = session.get(AdminAccount, row.account_id)
    if account is None or not account.is_confirmed:
        return None
    now = _now()
    last = as_utc(row.last_used_at)
    if last is None or now - last > _TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return account
