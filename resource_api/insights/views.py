"""The application-insights API: EBS "2020 Series" products post events; the key's owner reads a summary."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE

from resource_api.extensions import db
from resource_api.insights import service
from resource_api.insights.schemas import (
    EventBatchSchema,
    EventQuerySchema,
    EventsAcceptedSchema,
    StoredEventSchema,
    SummaryQuerySchema,
    SummarySchema,
)
from resource_api.protect import require_token, tenant
from shared.api import Blueprint

bp = Blueprint("insights", __name__, url_prefix="/v1/insights", description="Application insights (EBS products)")
SCOPE = "insights:write"

# require_token sits above the argument parsing, so a request without a valid key learns nothing about the schema.


@bp.post("/events")
@require_token(SCOPE)
@bp.arguments(EventBatchSchema)
@bp.response(202, EventsAcceptedSchema)
def post_events(data: dict[str, Any]) -> Any:
    """Accept 1 to 1,000 events; answered 202 only once they are committed, repeated eventIds counted once."""
    subscription_id, bridge_id = tenant()
    accepted, duplicates = service.ingest_events(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, events=data["events"]
    )
    return {"accepted": accepted, "duplicates": duplicates}


@bp.get("/events")
@require_token(SCOPE)
@bp.arguments(EventQuerySchema, location="query", unknown=RAISE)
@bp.response(200, StoredEventSchema(many=True))
def list_events(query: dict[str, Any]) -> Any:
    """The latest events this key's bridge sent, newest first (at most 200)."""
    return read_events(query)


def read_events(query: dict[str, Any]) -> Any:
    """`list_events`' events, for the view and the read lane (`resource_api.fast_reads`)."""
    subscription_id, bridge_id = tenant()
    return service.latest_events(
        session=db.session,
        subscription_id=subscription_id,
        bridge_id=bridge_id,
        event_type=query.get("type"),
        limit=query["limit"],
    )


@bp.get("/summary")
@require_token(SCOPE)
@bp.arguments(SummaryQuerySchema, location="query", unknown=RAISE)
@bp.response(200, SummarySchema)
def get_summary(query: dict[str, Any]) -> Any:
    """Counts by type, day and product over the last `days` UTC days, and each application server's latest version."""
    return read_summary(query)


def read_summary(query: dict[str, Any]) -> Any:
    """`get_summary`'s summary, for the view and the read lane."""
    subscription_id, bridge_id = tenant()
    return service.summarize_events(
        session=db.session, subscription_id=subscription_id, bridge_id=bridge_id, days=query["days"]
    )
