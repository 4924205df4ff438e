"""The clock agents' API: register devices, post punch batches (JSON or ATTLOG text), follow a batch."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from resource_api.attendance import service
from resource_api.attendance.attlog import parse_attlog
from resource_api.attendance.intake import load_punch_batch
from resource_api.attendance.schemas import (
    BatchAcceptedSchema,
    BatchSchema,
    DeviceSchema,
    PunchBatchSchema,
    batch_document,
)
from resource_api.extensions import db
from resource_api.protect import require_token, tenant
from shared.api import Blueprint, json_body
from shared.errors import ValidationProblem

bp = Blueprint("attendance", __name__, url_prefix="/v1/attendance", description="Time attendance (clock agents)")
SCOPE = "attendance:write"
_BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": PunchBatchSchema},
        "text/plain": {
            "schema": {
                "type": "string",
                "description": "ZKTeco ATTLOG lines; needs ?deviceSerial= of a registered device",
            }
        },
    },
}


@bp.put("/devices/<serial>")
@require_token(SCOPE)
@bp.arguments(DeviceSchema)
@bp.response(200, DeviceSchema)
def register_device(data: dict[str, Any], serial: str) -> Any:
    """Register a clock: the device code payroll knows it by and its IANA time zone."""
    subscription_id, _ = tenant()
    return service.register_device(session=db.session, subscription_id=subscription_id, serial=serial, **data)


@bp.post("/punches")
@bp.doc(requestBody=_BATCH_BODY, parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
@bp.response(202, BatchAcceptedSchema)
@require_token(SCOPE)
def post_punches() -> Any:
    """Accept a batch of up to 1,000 punches; answered 202 only once it is committed."""
    subscription_id, bridge_id = tenant()
    if request.mimetype == "text/plain":
        serial = request.args.get("deviceSerial", "").strip()
        if not serial:
            raise ValidationProblem({"deviceSerial": ["Name the device with ?deviceSerial= for ATTLOG bodies."]})
        device_code, zone = service.device_zone(session=db.session, subscription_id=subscription_id, serial=serial)
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationProblem({"body": ["The body is not valid UTF-8."]}) from None
        data = {"deviceSerial": serial, "deviceCode": device_code, "punches": parse_attlog(text, zone=zone)}
    else:
        data = load_punch_batch(json_body())
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and len(key) > 200:
        raise ValidationProblem({"Idempotency-Key": ["At most 200 characters."]})
    batch, _ = service.ingest_punches(
        session=db.session,
        subscription_id=subscription_id,
        bridge_id=bridge_id,
        device_serial=data["deviceSerial"],
        device_code=data["deviceCode"],
        punches=data["punches"],
        idempotency_key=key,
    )
    location = url_for("attendance.get_batch", batch_id=batch.id)
    return (
        {"batchId": batch.id, "accepted": batch.accepted, "duplicates": batch.duplicates},
        202,
        {"Location": location},
    )


@bp.get("/batches/<batch_id>")
@bp.response(200, BatchSchema)
@require_token(SCOPE)
def get_batch(batch_id: str) -> Any:
    """A batch and the delivery state of each punch it added."""
    return jsonify(read_batch(batch_id))  # a response of its own: flask-smorest passes it on without a dump


def read_batch(batch_id: str) -> dict[str, Any]:
    """`get_batch`'s document, for the view and the read lane (`resource_api.fast_reads`)."""
    subscription_id, _ = tenant()
    batch = service.batch_with_punches(engine=db.engine, subscription_id=subscription_id, batch_id=batch_id)
    return batch_document(batch)
