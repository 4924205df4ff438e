"""The relay (scope gateway:relay): any EBS WebApi call under api/, on behalf of the bridge's service user.

Most relayed calls are answered by the fast lane in front of Flask (`fast_lane.py`), with the same functions.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from bridge_gateway.api import bridge_channel
from bridge_gateway.audit import set_audit_subject
from bridge_gateway.auth import SCOPE_RELAY, require_service_token
from bridge_gateway.relay.service import METHODS, answer_headers, relay_call
from bridge_gateway.upstream import BridgeChannel

__all__ = ["bp", "relay_channel"]

bp = Blueprint("relay", __name__, url_prefix="/v1/bridges/<subscription_id>/<bridge_id>", description="Relay")


def relay_channel(subscription_id: str, bridge_id: str, method: str, ebs_path: str) -> BridgeChannel:
    """The bridge's channel (BridgeNotFoundError otherwise), with the call named for the audit."""
    channel = bridge_channel(subscription_id, bridge_id)
    set_audit_subject(channel.target.subscription_id, channel.target.bridge_id, target=f"{method} {ebs_path}")
    return channel


@bp.route("/relay/<path:ebs_path>", methods=list(METHODS))
@bp.doc(
    summary="Relay a call to EBS",
    description="Answers EBS's status with its JSON body (errors reduced to MessageID, UserMessage, Messages), "
    "marked by the X-EBS-Status header; the gateway's own failures are problem details.",
)
@require_service_token(SCOPE_RELAY)
def relay(subscription_id: str, bridge_id: str, ebs_path: str) -> Any:
    """Relay `METHOD api/...` with its query, JSON body and X-ESPQOptions header to the bridge's EBS."""
    channel = relay_channel(subscription_id, bridge_id, request.method, ebs_path)
    answer = relay_call(
        channel=channel,
        method=request.method,
        path=ebs_path,
        query=request.args.items(multi=True),
        headers=request.headers,
        body=request.get_data(cache=False),
    )
    return Response(answer.body, status=answer.status, headers=answer_headers(answer))
