"""Grants of signed-in end users: create, look up, extend, revoke (the whole family), purge.

A grant is one "Allow" (or remembered consent) for one authorization request. Its code and its refresh
tokens belong to it; the access tokens it issues name it in their `grant_id` claim, so revoking the grant
makes them inactive at introspection and userinfo too (RFC 6749 §10.5, RFC 7009 §2.1, RFC 9700 §4.14).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, Result, delete, select, update
from sqlalchemy.orm import Session

from authserver.oauth2.models import AuthorizationCode, RefreshToken, UserGrant
from authserver.oauth2.scopes import parse_scope
from authserver.signin.users import EndUser
from shared.secrets import random_token

__all__ = [
    "GrantRecord",
    "as_utc",
    "bulk",
    "create_grant",
    "extend_grant",
    "find_active_grant",
    "purge_grants",
    "revoke_grant",
    "revoke_user_client_grants",
]


def bulk(session: Session, statement: Executable) -> Result[Any]:
    """Run a bulk UPDATE or DELETE without evaluating it against objects in the session (SQLite hands back
    naive datetimes, which Python cannot compare with aware ones); commits expire those objects anyway."""
    return session.execute(statement, execution_options={"synchronize_session": False})


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (SQLite hands back naive ones; everything stored is UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class GrantRecord:
    """What a grant's tokens need: its id, client, user and scopes."""

    id: str
    client_id: str
    user: EndUser
    scopes: tuple[str, ...]

    @classmethod
    def from_row(cls, row: UserGrant) -> GrantRecord | None:
        """Snapshot a row; None if its stored user cannot be read."""
        user = EndUser.from_dict(row.user)
        if user is None:
            return None
        return cls(id=row.id, client_id=row.client_id, user=user, scopes=tuple(parse_scope(row.scope)))


def create_grant(*, session: Session, client_id: str, user: EndUser, scopes: list[str], expires_at: datetime) -> str:
    """Add a grant to the session (the caller commits with what it issues) and return its id."""
    grant_id = random_token(18)
    session.add(
        UserGrant(
            id=grant_id,
            client_id=client_id,
            sub=user.sub,
            subscription_id=user.subscription_id,
            user=user.to_dict(),
            scope=" ".join(scopes),
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
    )
    session.flush()  # the rows that reference it are inserted after it
    return grant_id


def find_active_grant(*, session: Session, grant_id: str, now: datetime) -> GrantRecord | None:
    """The grant if it exists, is not revoked and has not expired."""
    row = session.get(UserGrant, grant_id) if grant_id else None
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
        return None
    return GrantRecord.from_row(row)


def extend_grant(*, session: Session, grant_id: str, until: datetime) -> None:
    """Keep the grant (and with it its code, for replay detection) until `until` at least; no commit."""
    bulk(
        session,
        update(UserGrant).where(UserGrant.id == grant_id, UserGrant.expires_at < until).values(expires_at=until),
    )


def revoke_grant(*, session: Session, grant_id: str) -> None:
    """Revoke the grant and every token it issued: refresh tokens are deleted, access tokens become inactive."""
    now = datetime.now(UTC)
    bulk(
        session,
        update(UserGrant).where(UserGrant.id == grant_id, UserGrant.revoked_at.is_(None)).values(revoked_at=now),
    )
    bulk(session, delete(RefreshToken).where(RefreshToken.grant_id == grant_id))
    session.commit()


def revoke_user_client_grants(*, session: Session, sub: str, client_id: str) -> int:
    """Revoke every live grant end user `sub` gave `client_id` (when the user withdraws their consent)."""
    ids = list(
        session.execute(
            select(UserGrant.id).where(
                UserGrant.sub == sub, UserGrant.client_id == client_id, UserGrant.revoked_at.is_(None)
            )
        ).scalars()
    )
    for grant_id in ids:
        revoke_grant(session=session, grant_id=grant_id)
    return len(ids)


def purge_grants(*, session: Session, now: datetime) -> int:
    """Delete grants whose every token has expired, with their codes and refresh tokens; return how many."""
    expired = select(UserGrant.id).where(UserGrant.expires_at <= now)
    # The foreign keys cascade too; deleting the children first does not depend on the engine honouring them.
    bulk(session, delete(AuthorizationCode).where(AuthorizationCode.grant_id.in_(expired)))
    bulk(session, delete(RefreshToken).where(RefreshToken.grant_id.in_(expired)))
    result = bulk(session, delete(UserGrant).where(UserGrant.expires_at <= now))
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
