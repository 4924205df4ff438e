"""What each app's pages show, read for one tenant (subscription and bridge) at a time.

Every query is scoped by the subscription and bridge of the signed-in user's ID token, which the views pass
in; nothing here reads the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resource_api.attendance.models import Punch
from resource_api.insights.chart import render_svg
from resource_api.insights.summary import summarise
from resource_api.surveys import service as surveys
from shared.errors import NotFound

__all__ = ["PUNCHES_PER_PAGE", "STATE_LABELS", "PunchPage", "insights_overview", "punch_page", "surveys_overview"]

PUNCHES_PER_PAGE = 50
INSIGHTS_DAYS = 30
# The outbox's states, in the words a payroll clerk would use.
STATE_LABELS = {
    "pending": "Waiting for delivery",
    "delivered": "Delivered to payroll",
    "rejected": "Rejected by payroll",
}


@dataclass(frozen=True)
class PunchPage:
    """One page of a tenant's punches, newest first, with the counts per delivery state."""

    punches: list[Punch]
    page: int
    pages: int
    total: int
    by_state: dict[str, int]


def punch_page(*, session: Session, subscription_id: str, bridge_id: str, page: int = 1) -> PunchPage:
    """The tenant's punches, newest first, `PUNCHES_PER_PAGE` a page; a page past the end shows the last one."""
    tenant = (Punch.subscription_id == subscription_id, Punch.bridge_id == bridge_id)
    by_state = {
        str(state): int(count)
        for state, count in session.execute(
            select(Punch.state, func.count()).where(*tenant).group_by(Punch.state)
        ).all()
    }
    total = sum(by_state.values())
    pages = max(1, -(-total // PUNCHES_PER_PAGE))
    page = min(max(1, page), pages)
    punches = (
        session.execute(
            select(Punch)
            .where(*tenant)
            .order_by(Punch.punched_at.desc(), Punch.id.desc())
            .offset((page - 1) * PUNCHES_PER_PAGE)
            .limit(PUNCHES_PER_PAGE)
        )
        .scalars()
        .all()
    )
    return PunchPage(list(punches), page, pages, total, by_state)


def insights_overview(*, session: Session, subscription_id: str, bridge_id: str) -> dict[str, Any]:
    """The last `INSIGHTS_DAYS` days of the tenant's application events: the summary and its chart (SVG)."""
    summary = summarise(session, subscription_id=subscription_id, bridge_id=bridge_id, days=INSIGHTS_DAYS)
    return {"summary": summary, "chart": render_svg(summary)}


def surveys_overview(*, session: Session, subscription_id: str, bridge_id: str, gid: str | None) -> dict[str, Any]:
    """The bridge's campaigns and, for the chosen one (or the most recent), its results; an unknown `gid` is
    treated as no choice, so a stale link still shows the list."""
    campaigns = surveys.list_campaigns(session=session, subscription_id=subscription_id, bridge_id=bridge_id)
    chosen = gid if gid and any(c["gid"] == gid for c in campaigns) else (campaigns[0]["gid"] if campaigns else None)
    results = None
    if chosen:
        try:
            results = surveys.campaign_results(
                session=session, subscription_id=subscription_id, bridge_id=bridge_id, gid=chosen
            )
        except NotFound:
            results = None
    campaign = next((c for c in campaigns if c["gid"] == chosen), None)
    return {"campaigns": campaigns, "campaign": campaign, "results": results}
