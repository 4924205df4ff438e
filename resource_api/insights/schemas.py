"""Marshmallow schemas of the application-insights API (also its OpenAPI description)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marshmallow import RAISE, Schema, fields, validate

from shared.api import Text, UTCDateTime, plausible_instant

# The system events of Entersoft's system webhooks (facts §2.5), plus "Usage" for usage events.
SYSTEM_EVENT_TYPES = (
    "RestartAppServer",
    "UpgradeStart",
    "UpgradeEnd",
    "UpgradeErr",
    "CustomVerChanged",
    "ReCache",
    "NoAvailableLicense",
    "AppServerStart",
    "AppServerStop",
    "RFRequestAssistance",
    "UserLockedOut",
    "DBCheckStart",
    "DBCheckEnd",
    "DBCheckSErr",
    "Other",
)
EVENT_TYPES = (*SYSTEM_EVENT_TYPES, "Usage")
MAX_BATCH = 1000
MAX_PROPERTIES = 50
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)


class EventSchema(Schema):
    """One event, shaped like the system-event webhook payload plus product, version, user and session info."""

    class Meta:
        unknown = RAISE

    eventId = Text(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The client's id for the event; a repeated id is counted once per subscription"},
    )
    eventType = Text(required=True, validate=validate.OneOf(EVENT_TYPES))
    otherEvent = Text(
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "The event's own name when eventType is Other"},
    )
    applicationServer = Text(required=True, validate=validate.Length(min=1, max=255))
    message = Text(required=True, validate=validate.Length(max=2000))
    triggeredOn = UTCDateTime(
        required=True,
        format="iso",
        validate=plausible_instant(EARLIEST, CLOCK_SKEW),
        metadata={"description": "When it happened, with its UTC offset; from 2000 to one day from now"},
    )
    product = Text(allow_none=True, validate=validate.Length(min=1, max=100))
    version = Text(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "The installation version; taken from properties['101'] when absent"},
    )
    user = Text(allow_none=True, validate=validate.Length(min=1, max=100))
    properties = fields.Dict(
        keys=Text(validate=validate.Length(min=1, max=64)),
        values=Text(validate=validate.Length(max=2000)),
        validate=validate.Length(max=MAX_PROPERTIES),
        metadata={
            "description": "Session-info properties by ID, e.g. {'101': '4.0.36 - 2', "
            "'16': 'BackOffice = 1, Retail = 0, Mobile = 6, Web = 0'}; at most 50"
        },
    )


class EventBatchSchema(Schema):
    """A batch of 1 to 1,000 events."""

    class Meta:
        unknown = RAISE

    events = fields.List(fields.Nested(EventSchema), required=True, validate=validate.Length(min=1, max=MAX_BATCH))


class EventsAcceptedSchema(Schema):
    """The answer once a batch is committed."""

    accepted = fields.Integer(metadata={"description": "Events stored"})
    duplicates = fields.Integer(metadata={"description": "Events whose eventId was already stored"})


class StoredEventSchema(Schema):
    """An event as stored."""

    eventId = fields.String(attribute="event_id", allow_none=True)
    eventType = fields.String(attribute="event_type")
    otherEvent = fields.String(attribute="other_event", allow_none=True)
    applicationServer = fields.String(attribute="application_server")
    message = fields.String()
    triggeredOn = UTCDateTime(attribute="triggered_on", metadata={"description": "In UTC"})
    product = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    user = fields.String(attribute="user_code", allow_none=True)
    properties = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    receivedAt = UTCDateTime(attribute="received_at")


class EventQuerySchema(Schema):
    """Filters for the latest events."""

    class Meta:
        unknown = RAISE

    type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SummaryQuerySchema(Schema):
    """The window of a summary."""

    class Meta:
        unknown = RAISE

    days = fields.Integer(
        load_default=30,
        validate=validate.Range(min=1, max=366),
        metadata={"description": "UTC calendar days, today included"},
    )


class DayCountSchema(Schema):
    day = fields.String(metadata={"description": "YYYY-MM-DD (UTC)"})
    count = fields.Integer()


class SummarySchema(Schema):
    """Counts of the events triggered in the window, and the latest version each application server reported."""

    from_ = fields.DateTime(data_key="from", attribute="from")
    to = fields.DateTime()
    total = fields.Integer()
    byType = fields.Dict(keys=fields.String(), values=fields.Integer())
    byDay = fields.List(
        fields.Nested(DayCountSchema), metadata={"description": "Every day of the window, oldest first"}
    )
    byProduct = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Events that name no product are left out"},
    )
    latestVersions = fields.Dict(keys=fields.String(), values=fields.String())
