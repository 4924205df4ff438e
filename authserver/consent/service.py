"""Remembered consent: remember, check, list, revoke (with the tokens it let through), purge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver.clients.models import OAuthClient
from authserver.consent.models import RememberedConsent
from authserver.oauth2.scopes import parse_scope
from authserver.oauth2.user_grants import as_utc, bulk, revoke_user_client_grants
from authserver.signin.users import EndUser
from shared.secrets import random_token

__all__ = ["ConsentEntry", "is_remembered", "list_consents", "purge_consents", "remember_consent", "revoke_consent"]


@dataclass(frozen=True)
class ConsentEntry:
    """A remembered consent as the user's list shows it."""

    id: str
    client_id: str
    client_name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime


def _find(session: Session, sub: str, client_id: str) -> RememberedConsent | None:
    query = select(RememberedConsent).where(RememberedConsent.sub == sub, RememberedConsent.client_id == client_id)
    return session.execute(query).scalars().first()


def is_remembered(*, session: Session, user: EndUser, client_id: str, scopes: Iterable[str], lifetime: int) -> bool:
    """True when the user allowed this client every one of `scopes` and asked to be remembered; a use keeps
    the consent for another `lifetime` seconds."""
    now = datetime.now(UTC)
    row = _find(session, user.sub, client_id)
    if row is None or row.subscription_id != user.subscription_id or as_utc(row.expires_at) <= now:
        return False
    if not set(scopes) <= set(parse_scope(row.scope)):
        return False
    row.last_used_at, row.expires_at = now, now + timedelta(seconds=lifetime)
    session.commit()
    return True


def remember_consent(*, session: Session, user: EndUser, client_id: str, scopes: Iterable[str], lifetime: int) -> None:
    """Remember that the user allows `scopes` to the client, adding them to what was remembered before."""
    now = datetime.now(UTC)
    row = _find(session, user.sub, client_id)
    if row is None or row.subscription_id != user.subscription_id or as_utc(row.expires_at) <= now:
        if row is not None:
            session.delete(row)
            session.flush()
        row = RememberedConsent(
            id=random_token(18),
            sub=user.sub,
            client_id=client_id,
            subscription_id=user.subscription_id,
            scope="",
            created_at=now,
        )
        session.add(row)
    row.scope = " ".join(dict.fromkeys([*parse_scope(row.scope), *scopes]))
    row.last_used_at, row.expires_at = now, now + timedelta(seconds=lifetime)
    try:
        session.commit()
    except IntegrityError:  # remembered by a concurrent request of the same user: that decision stands
        session.rollback()


def list_consents(*, session: Session, user: EndUser) -> list[ConsentEntry]:
    """The user's live remembered consents with the clients' names, newest first."""
    query = (
        select(RememberedConsent, OAuthClient.name)
        .join(OAuthClient, OAuthClient.client_id == RememberedConsent.client_id)
        .where(
            RememberedConsent.sub == user.sub,
            RememberedConsent.subscription_id == user.subscription_id,
            RememberedConsent.expires_at > datetime.now(UTC),
        )
        .order_by(RememberedConsent.last_used_at.desc())
    )
    return [
        ConsentEntry(
            id=row.id,
            client_id=row.client_id,
            client_name=name,
            scopes=tuple(parse_scope(row.scope)),
            created_at=as_utc(row.created_at),
            last_used_at=as_utc(row.last_used_at),
        )
        for row, name in session.execute(query)
    ]


def revoke_consent(*, session: Session, user: EndUser, consent_id: str) -> bool:
    """Forget the user's remembered consent and revoke the client's refresh tokens for them; False if not theirs."""
    row = session.get(RememberedConsent, consent_id) if consent_id else None
    if row is None or row.sub != user.sub or row.subscription_id != user.subscription_id:
        return False
    client_id = row.client_id
    session.delete(row)
    session.commit()
    revoke_user_client_grants(session=session, sub=user.sub, client_id=client_id)
    return True


def purge_consents(*, session: Session, now: datetime) -> int:
    """Delete expired consents and those of clients that no longer exist; return how many."""
    expired = bulk(session, delete(RememberedConsent).where(RememberedConsent.expires_at <= now)).rowcount  # type: ignore[attr-defined]
    orphaned = bulk(
        session, delete(RememberedConsent).where(~RememberedConsent.client_id.in_(select(OAuthClient.client_id)))
    ).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(expired) + int(orphaned)
