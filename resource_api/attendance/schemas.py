"""Marshmallow schemas of the attendance API (also its OpenAPI description)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from shared.api import Text, UTCDateTime, plausible_instant

DIRECTIONS = ("in", "out", "break_in", "break_out", "unknown")
MAX_BATCH = 1000
_CODE = validate.Length(min=1, max=64)


class PunchSchema(Schema):
    """One punch as a clock agent reports it."""

    class Meta:
        unknown = RAISE

    employeeCode = Text(required=True, validate=_CODE)
    timestamp = fields.AwareDateTime(
        required=True,
        format="iso",
        validate=plausible_instant(),
        metadata={"description": "Local time with its UTC offset"},
    )
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    verifyMode = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 255))
    workCode = Text(load_default=None, allow_none=True, validate=validate.Length(max=32))


class PunchBatchSchema(Schema):
    """A batch of punches from one device."""

    class Meta:
        unknown = RAISE

    deviceSerial = Text(required=True, validate=_CODE)
    deviceCode = Text(required=True, validate=_CODE)
    punches = fields.List(fields.Nested(PunchSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class BatchAcceptedSchema(Schema):
    """The answer once a batch is committed."""

    batchId = fields.String()
    accepted = fields.Integer()
    duplicates = fields.Integer()


class PunchStateSchema(Schema):
    """A punch of a batch and how far its delivery got."""

    employeeCode = fields.String(attribute="employee_code")
    timestamp = fields.String(attribute="local_time")
    direction = fields.String()
    state = fields.String(metadata={"description": "pending, delivered or rejected"})
    attempts = fields.Integer()
    lastError = fields.String(attribute="last_error", allow_none=True)
    deliveredAt = UTCDateTime(attribute="delivered_at", allow_none=True)


class BatchSchema(Schema):
    """A batch with the delivery state of each punch it added."""

    batchId = fields.String(attribute="id")
    deviceSerial = fields.String(attribute="device_serial")
    receivedAt = UTCDateTime(attribute="received_at")
    accepted = fields.Integer()
    duplicates = fields.Integer()
    punches = fields.List(fields.Nested(PunchStateSchema))


class DeviceSchema(Schema):
    """A clock's registration: the device code payroll knows it by and the zone its clock runs in."""

    class Meta:
        unknown = RAISE

    serial = fields.String(dump_only=True)
    deviceCode = Text(required=True, validate=_CODE, attribute="device_code")
    timezone = Text(required=True, validate=validate.Length(min=1, max=64))
