"""Marshmallow schemas of the ERP calls: credential checks, branches, Verify Connection, company parameters."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from bridge_gateway.ebs import ENDPOINT_TYPES

_USER = validate.Length(min=1, max=50)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class CredentialsSchema(_Strict):
    """ERP credentials to check; the password is used for one login and never kept."""

    userId = fields.String(attribute="user_id", required=True, validate=_USER)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    branchId = fields.String(attribute="branch_id", load_default=None, validate=validate.Length(max=50))
    langId = fields.String(
        attribute="lang_id", load_default=None, validate=validate.Regexp(r"^[a-z]{2}-[A-Z]{2}$", error="Like el-GR.")
    )
    extraPin = fields.String(
        attribute="extra_pin", load_default=None, load_only=True, validate=validate.Regexp(r"^[0-9]{6,8}$")
    )


class BranchSchema(Schema):
    id = fields.String()
    name = fields.String()


class BranchesQuerySchema(_Strict):
    userId = fields.String(attribute="user_id", load_default=None, validate=_USER)


class BranchListSchema(Schema):
    branches = fields.List(fields.Nested(BranchSchema))


class ProfileSchema(Schema):
    """A user's ERP profile as EBS answered it at login."""

    userId = fields.String(attribute="user_id")
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    gid = fields.String(allow_none=True)
    administrator = fields.Boolean()
    payroll = fields.Boolean()
    webApiAccess = fields.Boolean(attribute="webapi_access")
    branchId = fields.String(attribute="branch_id", allow_none=True)
    langId = fields.String(attribute="lang_id", allow_none=True)
    branches = fields.List(fields.Nested(BranchSchema))


class VerifyLoginSchema(_Strict):
    """Stage 1: the back-office user who proves the bridge answers WebApi logins."""

    userId = fields.String(attribute="user_id", required=True, validate=_USER)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    branchId = fields.String(attribute="branch_id", load_default=None, validate=validate.Length(max=50))


class VerifyLoginResultSchema(Schema):
    loginVerified = fields.Boolean(attribute="login_verified")
    profile = fields.Nested(ProfileSchema)
    challengeFile = fields.String(
        attribute="challenge_file", metadata={"description": "Where the customer puts the code, in the EAS folder"}
    )


class ChallengeSchema(_Strict):
    """Stage 2: the code the portal showed, expected in CSWebAssets/<SubscriptionID>-<BridgeID>.txt."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{4,32}$"))


class ChallengeResultSchema(Schema):
    verified = fields.Boolean()
    verifiedAt = fields.DateTime(attribute="verified_at")


class EndpointStateSchema(Schema):
    registered = fields.Boolean()
    digest = fields.String(metadata={"description": "SHA-256 hex digest of the registered API key"})
    last4 = fields.String()


class CompanyParamsSchema(Schema):
    """The bridge's "Entersoft Cloud Store" company parameters; API keys never appear in full."""

    subscriptionId = fields.String(attribute="subscription_id", allow_none=True)
    subscriptionGid = fields.String(attribute="subscription_gid", allow_none=True)
    endpoints = fields.Dict(keys=fields.String(), values=fields.Nested(EndpointStateSchema))
    removed = fields.Boolean(metadata={"description": "Only when unregistering: whether the parameter was there"})


class RegisterParamsSchema(_Strict):
    """Write SubscriptionID and SubscriptionGID (from the bridge's settings) and optionally one endpoint's key."""

    endpointType = fields.String(attribute="endpoint_type", load_default=None, validate=validate.OneOf(ENDPOINT_TYPES))
    apiKey = fields.String(attribute="api_key", load_default=None, load_only=True, validate=validate.Length(1, 4000))

    @validates_schema
    def _pair(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("endpoint_type") is None) != (data.get("api_key") is None):
            raise ValidationError("Give endpointType and apiKey together, or neither.", "apiKey")
