"""Marshmallow schemas of the portal API (camelCase JSON), validated by the same rules as the portal's forms."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from wtforms.validators import ValidationError as FormValidationError

from authserver.accounts.forms import valid_email
from authserver.accounts.passwords import password_problems
from authserver.api.tokens import DEFAULT_LIFETIME_DAYS, LIFETIME_DAYS
from authserver.subscriptions import rules
from shared.api import Text, UTCDateTime

_PORT = validate.Range(1, 65535, error="Enter a port between 1 and 65535.")
_SCHEME = validate.OneOf(("http", "https"), error="Use https or http.")


def _follows(rule: rules.Rule) -> Any:
    def check(value: str) -> None:
        message = rule(value)
        if message:
            raise ValidationError(message)

    return check


def _strong(value: str) -> None:
    problems = password_problems(value)
    if problems:
        raise ValidationError(problems)


def _email(value: str) -> None:
    try:
        valid_email(None, SimpleNamespace(data=value))  # type: ignore[arg-type]
    except FormValidationError as exc:
        raise ValidationError(str(exc)) from None


def _text(rule: rules.Rule, **kwargs: Any) -> Text:
    return Text(validate=_follows(rule), **kwargs)


class _In(Schema):
    class Meta:
        unknown = RAISE


class ConnectionSchema(_In):
    """The server details of a connection."""

    databaseId = _text(rules.code_rule("Database ID"), attribute="database_id", required=True)
    companyId = _text(rules.code_rule("Company ID"), attribute="company_id", required=True)
    host = _text(rules.host_rule, required=True, metadata={"description": "Public IP address or domain name"})
    port = fields.Integer(strict=True, required=True, validate=_PORT)
    scheme = fields.String(load_default="https", validate=_SCHEME)


class SubscriptionCreateSchema(ConnectionSchema):
    """Create New Subscription, with its first connection."""

    companyName = _text(rules.company_name_rule, attribute="company_name", required=True)
    subscriptionId = _text(rules.subscription_id_rule, attribute="subscription_id", required=True)
    serialNumber = _text(rules.serial_number_rule, attribute="serial_number", required=True)
    vatNumber = _text(rules.vat_number_rule, attribute="vat_number", required=True)
    password = Text(required=True, load_only=True, validate=_strong)
    bridgeId = _text(
        rules.bridge_id_rule,
        attribute="bridge_id",
        load_default=None,
        metadata={"description": "The first connection's BridgeID; default <databaseId>_<companyId>"},
    )


class SubscriptionUpdateSchema(_In):
    """Change details or the subscription password (which unverifies every connection)."""

    companyName = _text(rules.company_name_rule, attribute="company_name")
    serialNumber = _text(rules.serial_number_rule, attribute="serial_number")
    vatNumber = _text(rules.vat_number_rule, attribute="vat_number")
    password = Text(load_only=True, validate=_strong)


class BridgeCreateSchema(ConnectionSchema):
    """Add Connection."""

    bridgeId = _text(rules.bridge_id_rule, attribute="bridge_id", required=True)


class BridgeUpdateSchema(_In):
    """Change a connection's settings; a new scheme, host or port makes it unverified."""

    databaseId = _text(rules.code_rule("Database ID"), attribute="database_id")
    companyId = _text(rules.code_rule("Company ID"), attribute="company_id")
    host = _text(rules.host_rule)
    port = fields.Integer(strict=True, validate=_PORT)
    scheme = fields.String(validate=_SCHEME)


class BridgeSchema(Schema):
    """A connection as answered."""

    bridgeId = fields.String(attribute="bridge_id")
    databaseId = fields.String(attribute="database_id")
    companyId = fields.String(attribute="company_id")
    scheme = fields.String()
    host = fields.String()
    port = fields.Integer()
    verified = fields.Boolean(attribute="is_verified")
    verifiedAt = UTCDateTime(attribute="verified_at", allow_none=True)
    verifiedBy = fields.String(attribute="verified_by", allow_none=True)
    challengeFile = fields.String(attribute="challenge_file")
    createdAt = UTCDateTime(attribute="created_at")
    updatedAt = UTCDateTime(attribute="updated_at")


class SubscriptionSchema(Schema):
    """A subscription as answered (never its password)."""

    subscriptionId = fields.String(attribute="subscription_id")
    subscriptionGid = fields.UUID(attribute="gid")
    companyName = fields.String(attribute="company_name")
    serialNumber = fields.String(attribute="serial_number")
    vatNumber = fields.String(attribute="vat_number")
    verified = fields.Boolean(attribute="has_verified_bridge", metadata={"description": "A connection is verified"})
    bridges = fields.List(fields.Nested(BridgeSchema))
    createdAt = UTCDateTime(attribute="created_at")
    updatedAt = UTCDateTime(attribute="updated_at")


class VerifyLoginSchema(_In):
    """VERIFY CONNECTION stage 1 (the bridge is in the path)."""

    subscriptionId = _text(
        rules.subscription_id_rule, attribute="subscription_id", load_default=None, metadata={"description": "Optional"}
    )
    subscriptionPassword = Text(
        attribute="subscription_password", required=True, load_only=True, validate=validate.Length(1, 128)
    )
    userId = _text(
        rules.erp_user_id_rule, attribute="user_id", required=True, metadata={"description": "Backoffice User"}
    )
    password = Text(required=True, load_only=True, validate=validate.Length(1, 200))
    branchId = Text(attribute="branch_id", load_default=None, validate=validate.Length(max=50))


class ChallengeSchema(Schema):
    """What stage 2 expects on the server."""

    challengeFile = fields.String(
        attribute="file", metadata={"description": "CSWebAssets/<SubscriptionID>-<BridgeID>.txt"}
    )
    code = fields.String(metadata={"description": "7 digits to write into the file"})
    expiresAt = UTCDateTime(attribute="expires_at")


class UserCreateSchema(_In):
    """ADD USER."""

    userId = _text(
        rules.erp_user_id_rule, attribute="erp_user_id", required=True, metadata={"description": "ERP User ID"}
    )
    email = Text(required=True, validate=[validate.Length(max=254), _email])
    active = fields.Boolean(load_default=False)


class UserUpdateSchema(_In):
    """Activate or deactivate."""

    active = fields.Boolean(required=True)


class UserSchema(Schema):
    """A subscription user; `id` is the user's OIDC `sub`."""

    id = fields.UUID()
    userId = fields.String(attribute="erp_user_id")
    email = fields.String()
    login = fields.String(metadata={"description": "SubscriptionID/UserID"})
    status = fields.String(metadata={"description": "INVITED or VERIFIED"})
    active = fields.Boolean()
    invitedAt = UTCDateTime(attribute="invited_at")
    invitationExpiresAt = UTCDateTime(attribute="invitation_expires_at", allow_none=True)
    verifiedAt = UTCDateTime(attribute="verified_at", allow_none=True)
    createdAt = UTCDateTime(attribute="created_at")


class InvitedUserSchema(UserSchema):
    """A user just (re-)invited, and whether the e-mail left."""

    invitationSent = fields.Boolean(attribute="invitation_sent")


class AuditQuerySchema(_In):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    perPage = fields.Integer(attribute="per_page", load_default=50, validate=validate.Range(1, 200))


class AuditEventSchema(Schema):
    occurredAt = UTCDateTime(attribute="occurred_at")
    event = fields.String()
    actor = fields.String()
    ip = fields.String(allow_none=True)
    details = fields.Dict()


class AuditPageSchema(Schema):
    events = fields.List(fields.Nested(AuditEventSchema))
    page = fields.Integer()
    perPage = fields.Integer(attribute="per_page")
    total = fields.Integer()
    pages = fields.Integer()


class TokenCreateSchema(_In):
    name = Text(required=True, validate=validate.Length(1, 100))
    expiresInDays = fields.Integer(
        attribute="lifetime_days",
        strict=True,
        allow_none=True,
        load_default=DEFAULT_LIFETIME_DAYS,
        validate=validate.OneOf(LIFETIME_DAYS, error="Choose {choices} days, or null for a token that never expires."),
        metadata={"description": f"Days until the token expires: one of {LIFETIME_DAYS}; null: until revoked"},
    )


class TokenSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The token's first characters, to recognise it"})
    active = fields.Boolean(attribute="is_active")
    createdAt = UTCDateTime(attribute="created_at")
    lastUsedAt = UTCDateTime(attribute="last_used_at", allow_none=True)
    revokedAt = UTCDateTime(attribute="revoked_at", allow_none=True)
    expiresAt = UTCDateTime(attribute="expires_at", allow_none=True, metadata={"description": "null: never"})


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "The token: shown this once"})


class MeSchema(Schema):
    email = fields.String()
    csrfToken = fields.String(attribute="csrf_token", allow_none=True)


class Augmented:
    """An object answered through a schema, with a few extra attributes (say, a token's value shown once)."""

    def __init__(self, wrapped: Any, **extra: Any) -> None:
        self._wrapped = wrapped
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)
