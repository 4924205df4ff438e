"""Keep the OAuth storage bounded: delete what can no longer matter.

Expired grants go with their codes and refresh tokens (a used code or refresh token is kept while its grant
lives, so a replay is still recognised), records of revoked access tokens go once those tokens have expired,
remembered consents once they expire or their client is gone. Each worker runs `purge_expired` from a token
request at most once every OAUTH_PURGE_SECONDS, so the deletes and their commit stay off nearly every request
of the hot path however busy it is; `flask --app authserver oauth purge` (or `cloudstore`) can run it on a
schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from authserver.consent.service import purge_consents
from authserver.extensions import db
from authserver.oauth2.tokens import purge_revoked_tokens
from authserver.oauth2.user_grants import purge_grants

__all__ = ["PurgeCounts", "maybe_purge", "purge_command", "purge_expired"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeCounts:
    """How many rows of each kind were deleted."""

    grants: int
    revoked_access_tokens: int
    consents: int


def purge_expired(*, session: Session, now: datetime | None = None) -> PurgeCounts:
    """Delete expired grants (with their codes and refresh tokens), revoked-token records and consents."""
    moment = now or datetime.now(UTC)
    return PurgeCounts(
        grants=purge_grants(session=session, now=moment),
        revoked_access_tokens=purge_revoked_tokens(session=session),
        consents=purge_consents(session=session, now=moment),
    )


class _PurgeClock:
    """When this worker last purged; one thread purges at a time, the others go on."""

    def __init__(self) -> None:
        self.last = float("-inf")
        self.lock = threading.Lock()


def maybe_purge() -> None:
    """Purge when OAUTH_PURGE_SECONDS have passed since this worker last did (0 turns it off); a failure is
    only logged."""
    interval = float(current_app.config["OAUTH_PURGE_SECONDS"])
    clock: _PurgeClock = current_app.extensions.setdefault("oauth2_purge_clock", _PurgeClock())
    if interval <= 0 or time.monotonic() - clock.last < interval or not clock.lock.acquire(blocking=False):
        return
    try:
        clock.last = time.monotonic()
        counts = purge_expired(session=db.session)
    except Exception:  # the token response is already made; storage is purged again soon
        db.session.rollback()
        log.exception("purging expired OAuth rows failed")
        return
    finally:
        clock.lock.release()
    log.info("purged %s", counts)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete expired authorization codes, refresh tokens, grants, revoked-token records and consents."""
    counts = purge_expired(session=db.session)
    click.echo(
        f"purged {counts.grants} grant(s) with their codes and refresh tokens, "
        f"{counts.revoked_access_tokens} revoked-token record(s), {counts.consents} consent(s)"
    )
