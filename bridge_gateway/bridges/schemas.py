"""Marshmallow schemas of a bridge's settings (also their OpenAPI description)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

__all__ = ["BridgeCreateSchema", "BridgeReadSchema", "BridgeUpdateSchema", "ID_PATTERN", "normalize_host"]

ID_PATTERN = r"^[A-Za-z0-9_-]{2,50}$"
_ID = validate.Regexp(ID_PATTERN, error="Use 2 to 50 letters, digits, '_' or '-'.")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_CODE = validate.Length(min=1, max=50)


def normalize_host(value: str) -> str:
    """A host name (lower case, ASCII/punycode) or an IP literal (IPv6 without brackets); raises ValueError."""
    host = value.strip().lower()
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError("Give a host name (letters, digits, '-', dots; punycode for other scripts) or an IP address.")
    return host


class _Host(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return normalize_host(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class _Settings(Schema):
    class Meta:
        unknown = RAISE

    subscriptionGid = fields.String(
        attribute="subscription_gid",
        validate=validate.Regexp(r"^[A-Za-z0-9{}-]{1,64}$"),
        metadata={"description": "The subscription's GUID"},
    )
    subscriptionPassword = fields.String(
        attribute="subscription_password",
        load_only=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The subscription password; stored encrypted, never answered"},
    )
    scheme = fields.String(validate=validate.OneOf(("http", "https")))
    host = _Host(metadata={"description": "Public IP address or DNS name of the EBS application server"})
    port = fields.Integer(strict=True, validate=validate.Range(1, 65535))
    databaseId = fields.String(attribute="database_id", validate=_CODE)
    companyId = fields.String(attribute="company_id", validate=_CODE)


class BridgeCreateSchema(_Settings):
    """Register a bridge: every setting, the password included."""

    subscriptionId = fields.String(attribute="subscription_id", required=True, validate=_ID)
    bridgeId = fields.String(attribute="bridge_id", required=True, validate=_ID)

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Every setting is required at registration but the scheme (https unless said otherwise)."""
        field_obj.required = field_name != "scheme"
        if field_name == "scheme":
            field_obj.load_default = "https"


class BridgeUpdateSchema(_Settings):
    """Change some settings of a bridge; SubscriptionID and BridgeID do not change."""


class BridgeReadSchema(Schema):
    """A bridge's settings as answered: never the password."""

    subscriptionId = fields.String(attribute="subscription_id")
    bridgeId = fields.String(attribute="bridge_id")
    subscriptionGid = fields.String(attribute="subscription_gid")
    scheme = fields.String()
    host = fields.String()
    port = fields.Integer()
    databaseId = fields.String(attribute="database_id")
    companyId = fields.String(attribute="company_id")
    verifiedAt = fields.DateTime(attribute="verified_at", allow_none=True)
    createdAt = fields.DateTime(attribute="created_at")
    updatedAt = fields.DateTime(attribute="updated_at")


class BridgeListSchema(Schema):
    bridges = fields.List(fields.Nested(BridgeReadSchema))
