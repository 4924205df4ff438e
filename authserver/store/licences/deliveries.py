"""Time Attendance → Deliveries: the punches payroll refused (dead letters) and their retry, audited.

The dead letters live in the resource API's outbox; the portal reads and retries them through
`authserver.resource_client`, only for the subscription the signed-in admin owns.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from authserver import audit
from authserver.resource_client import ResourceClient
from authserver.store.models import Licence
from authserver.subscriptions.models import Subscription

__all__ = ["retry_dead_letters"]


def retry_dead_letters(
    *,
    session: Session,
    client: ResourceClient,
    subscription: Subscription,
    licence: Licence,
    actor: str,
    ip: str | None,
    punch_id: int | None = None,
) -> int:
    """Put one rejected punch (or all) back in the outbox and record who did it; answers how many went back."""
    retried = client.retry_rejected(subscription_id=subscription.subscription_id, punch_id=punch_id)
    audit.record(
        session=session,
        event="punches.retried",
        actor=actor,
        subscription_id=subscription.id,
        ip=ip,
        app=licence.app.code,
        punch=punch_id if punch_id is not None else "all",
        count=retried,
    )
    session.commit()
    return retried
