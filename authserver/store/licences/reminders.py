"""Reminder e-mails before a licence ends: one per licence, end date and threshold (14 and 3 days by default).

Run daily by `cloudstore store remind` (cron, a systemd timer or the like). A reminder is recorded in the same
transaction as it is sent; a failed e-mail rolls the record back, so the next run tries again, and a second,
concurrent run finds the record (a unique constraint) and sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from authserver import audit
from authserver.accounts.models import AdminAccount
from authserver.store.clock import aware
from authserver.store.models import ExpiryReminder, Licence
from authserver.subscriptions.models import Subscription

__all__ = ["Reminder", "send_expiry_reminders"]

log = logging.getLogger(__name__)

Reminder = Callable[..., None]


def send_expiry_reminders(
    *, session: Session, now: datetime, send: Reminder, days_before: Iterable[int] = (14, 3)
) -> int:
    """Mail each subscription's admin about licences ending within a threshold; return how many were sent.

    `send(to=, subscription=, licence=, ends_at=, days_left=)` delivers one e-mail and raises if it cannot.
    A licence found within several thresholds at once gets one e-mail (the nearest), and the wider thresholds
    are recorded as done.
    """
    thresholds = sorted({int(d) for d in days_before if int(d) > 0})
    if not thresholds:
        return 0
    horizon = now + timedelta(days=max(thresholds))
    candidates = session.execute(
        select(Licence.id).where(Licence.ends_at.is_not(None), Licence.ends_at > now, Licence.ends_at <= horizon)
    ).scalars()
    sent = 0
    for licence_id in list(candidates):
        licence = session.get(Licence, licence_id)
        ends = aware(licence.ends_at) if licence is not None else None
        if licence is None or ends is None:
            continue
        due = [d for d in thresholds if ends - now <= timedelta(days=d)]
        done = set(
            session.execute(
                select(ExpiryReminder.days_before).where(
                    ExpiryReminder.licence_id == licence.id, ExpiryReminder.ends_at == licence.ends_at
                )
            ).scalars()
        )
        if not due or set(due) <= done:
            continue
        for days in due:
            if days not in done:
                session.add(
                    ExpiryReminder(licence_id=licence.id, days_before=days, ends_at=licence.ends_at, sent_at=now)
                )
        try:
            session.flush()
        except IntegrityError:  # another run is sending it
            session.rollback()
            continue
        subscription = session.get(Subscription, licence.subscription_pk)
        owner = session.get(AdminAccount, subscription.owner_id) if subscription else None
        if subscription is None or owner is None:
            session.rollback()
            continue
        days_left = max(0, (ends - now).days)
        try:
            send(to=owner.email, subscription=subscription, licence=licence, ends_at=ends, days_left=days_left)
        except Exception as exc:  # noqa: BLE001 - the next run tries again
            log.warning("licence %s: reminder not sent (%s); the next run tries again", licence_id, type(exc).__name__)
            session.rollback()
            continue
        audit.record(
            session=session,
            event="licence.expiry_reminder",
            actor=audit.SYSTEM,
            subscription_id=subscription.id,
            app=licence.app.code,
            ends_at=ends.isoformat(),
            days_before=min(due),
        )
        session.commit()
        sent += 1
    return sent
