"""The portal's internal routes: a subscription's dead letters (list, retry) and its insights summary (JSON, SVG)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import RAISE, Schema, fields, validate

from resource_api.admin.auth import require_portal
from resource_api.attendance.models import Punch
from resource_api.extensions import db
from resource_api.insights.chart import render_svg
from resource_api.insights.summary import MAX_DAYS, InsightsSummary, summarise
from resource_api.outbox.service import rejected_punches, retry_rejected
from shared.api import Text, json_body
from shared.errors import NotFound, ValidationProblem

__all__ = ["bp"]

bp = Blueprint("admin", __name__, url_prefix="/internal/v1/subscriptions/<subscription_id>")
MAX_IDS = 500


class _DeadLetterQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class _RetryBody(Schema):
    class Meta:
        unknown = RAISE

    ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1)),
        validate=validate.Length(min=1, max=MAX_IDS),
        load_default=None,
    )


class _SummaryQuery(Schema):
    class Meta:
        unknown = RAISE

    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=MAX_DAYS))
    bridge = Text(validate=validate.Length(min=1, max=50))


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    errors = schema.validate(data)
    if errors:
        raise ValidationProblem(errors)
    return schema.load(data)  # type: ignore[no-any-return]


def _dead_letter(punch: Punch) -> dict[str, Any]:
    punched_at = punch.punched_at
    return {
        "id": punch.id,
        "bridgeId": punch.bridge_id,
        "deviceSerial": punch.device_serial,
        "deviceCode": punch.device_code,
        "employeeCode": punch.employee_code,
        "timestamp": punch.local_time,
        "punchedAt": (punched_at if punched_at.tzinfo else punched_at.replace(tzinfo=UTC)).isoformat(),
        "direction": punch.direction,
        "attempts": punch.attempts,
        "reason": punch.last_error or "rejected by payroll",
    }


@bp.get("/punches/rejected")
@require_portal
def list_rejected(subscription_id: str) -> Any:
    """The punches payroll refused, newest first, each with EBS's reason."""
    query = _load(_DeadLetterQuery(), request.args.to_dict())
    punches = rejected_punches(session=db.session, subscription_id=subscription_id, limit=query["limit"])
    return {"punches": [_dead_letter(punch) for punch in punches]}


@bp.post("/punches/rejected/retry")
@require_portal
def retry_all(subscription_id: str) -> Any:
    """Put every rejected punch (or those in `ids`) back in the outbox."""
    body = _load(_RetryBody(), json_body() if request.get_data() else {})
    retried = retry_rejected(session=db.session, subscription_id=subscription_id, ids=body["ids"])
    return {"retried": retried}


@bp.post("/punches/rejected/<int:punch_id>/retry")
@require_portal
def retry_one(subscription_id: str, punch_id: int) -> Any:
    """Put one rejected punch back in the outbox; 404 unless it is this subscription's and rejected."""
    if not retry_rejected(session=db.session, subscription_id=subscription_id, ids=[punch_id]):
        raise NotFound("This subscription has no rejected punch with this id.")
    return {"retried": 1}


def _summary(subscription_id: str) -> InsightsSummary:
    query = _load(_SummaryQuery(), request.args.to_dict())
    return summarise(db.session, subscription_id=subscription_id, days=query["days"], bridge_id=query.get("bridge"))


@bp.get("/insights/summary")
@require_portal
def insights_summary(subscription_id: str) -> Any:
    """Events by type and UTC day over the last `days` days (default 30), every day of the window listed."""
    return _summary(subscription_id).as_dict()


@bp.get("/insights/summary.svg")
@require_portal
def insights_chart(subscription_id: str) -> Response:
    """The same figures as an SVG bar chart, ready to be placed inline in a page."""
    svg = render_svg(_summary(subscription_id), element_id="insights-chart")
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
