"""Marshmallow schemas of the endpoint-token JSON API (camelCase fields, as the rest of /api/v1)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from shared.api import Text, UTCDateTime

__all__ = [
    "EndpointTokenCreateSchema",
    "EndpointTokenKeySchema",
    "EndpointTokenRequestSchema",
    "EndpointTokenRevokedSchema",
    "EndpointTokenSchema",
]


class EndpointTokenSchema(Schema):
    id = fields.String(metadata={"description": "Public id (`ept_…`): the client_id for client credentials"})
    title = fields.String()
    endpointType = fields.String(attribute="endpoint_type")
    bridgeId = fields.String(attribute="bridge_id")
    authorizedBy = fields.String(attribute="authorized_by", metadata={"description": "The ERP user who allowed it"})
    createdAt = UTCDateTime(attribute="created_at")
    rotatedAt = UTCDateTime(attribute="rotated_at", allow_none=True)
    lastUsedAt = UTCDateTime(attribute="last_used_at", allow_none=True)
    previousKeyValidUntil = UTCDateTime(attribute="previous_valid_until", allow_none=True)


class EndpointTokenCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    title = Text(required=True, validate=validate.Length(min=1, max=200))
    bridgeId = Text(attribute="bridge_id", required=True, validate=validate.Length(min=1, max=50))
    endpointType = Text(attribute="endpoint_type", required=True, validate=validate.Length(min=1, max=50))


class EndpointTokenRequestSchema(Schema):
    requestId = fields.String(attribute="request_id")
    authorizeUrl = fields.String(
        attribute="authorize_url", metadata={"description": "Open in a browser: ERP sign-in, then Allow or Deny"}
    )
    expiresAt = UTCDateTime(attribute="expires_at")


class EndpointTokenKeySchema(Schema):
    id = fields.String()
    apiKey = fields.String(attribute="api_key")


class EndpointTokenRevokedSchema(Schema):
    revoked = fields.Boolean()
    warning = fields.String(allow_none=True, metadata={"description": "Set when EBS could not be told"})
