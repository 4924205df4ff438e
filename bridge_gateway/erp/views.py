"""ERP calls through a bridge (scope gateway:bridges): credentials, branches, Verify Connection, company parameters."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from bridge_gateway.api import bridge_channel
from bridge_gateway.auth import SCOPE_BRIDGES, require_service_token
from bridge_gateway.bridges.service import get_bridge
from bridge_gateway.ebs import ENDPOINT_TYPES
from bridge_gateway.erp import service
from bridge_gateway.erp.schemas import (
    BranchesQuerySchema,
    BranchListSchema,
    ChallengeResultSchema,
    ChallengeSchema,
    CompanyParamsSchema,
    CredentialsSchema,
    ProfileSchema,
    RegisterParamsSchema,
    VerifyLoginResultSchema,
    VerifyLoginSchema,
)
from bridge_gateway.extensions import db
from shared.errors import NotFound

bp = Blueprint("erp", __name__, url_prefix="/v1/bridges/<subscription_id>/<bridge_id>", description="ERP calls")


@bp.post("/credentials/check")
@bp.response(200, ProfileSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(CredentialsSchema)
def check_credentials(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """Check an ERP user's credentials on the bridge and answer the user's ERP profile; nothing is stored."""
    return service.check_credentials(channel=bridge_channel(subscription_id, bridge_id), **data)


@bp.get("/branches")
@bp.response(200, BranchListSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(BranchesQuerySchema, location="query")
def list_branches(query: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """The branches of a user (for the Branch ID drop-down), or of the bridge's service user."""
    return {"branches": service.list_branches(channel=bridge_channel(subscription_id, bridge_id), **query)}


@bp.post("/verify/login")
@bp.response(200, VerifyLoginResultSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(VerifyLoginSchema)
def verify_login(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """Verify Connection, stage 1: a WebApi login as a back-office user with WebApi access."""
    return service.verify_login(channel=bridge_channel(subscription_id, bridge_id), **data)


@bp.post("/verify/challenge")
@bp.response(200, ChallengeResultSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(ChallengeSchema)
def verify_challenge(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """Verify Connection, stage 2: CSWebAssets/<SubscriptionID>-<BridgeID>.txt holds the expected code."""
    channel = bridge_channel(subscription_id, bridge_id)
    bridge = get_bridge(session=db.session, subscription_id=subscription_id, bridge_id=bridge_id)
    verified_at = service.verify_challenge(session=db.session, channel=channel, bridge=bridge, code=data["code"])
    return {"verified": True, "verified_at": verified_at}


@bp.get("/company-params")
@bp.response(200, CompanyParamsSchema)
@require_service_token(SCOPE_BRIDGES)
def read_company_params(subscription_id: str, bridge_id: str) -> Any:
    """The bridge's "Entersoft Cloud Store" company parameters (API keys as digests)."""
    return service.read_company_params(channel=bridge_channel(subscription_id, bridge_id))


@bp.put("/company-params")
@bp.response(200, CompanyParamsSchema)
@require_service_token(SCOPE_BRIDGES)
@bp.arguments(RegisterParamsSchema)
def register_company_params(data: dict[str, Any], subscription_id: str, bridge_id: str) -> Any:
    """Write SubscriptionID and SubscriptionGID, and one endpoint type's API key when given."""
    return service.register_company_params(channel=bridge_channel(subscription_id, bridge_id), **data)


@bp.delete("/company-params/endpoints/<endpoint_type>")
@bp.response(200, CompanyParamsSchema)
@require_service_token(SCOPE_BRIDGES)
def unregister_endpoint(subscription_id: str, bridge_id: str, endpoint_type: str) -> Any:
    """Remove one endpoint type's API key parameter (idempotent: `removed` says whether it was there)."""
    if endpoint_type not in ENDPOINT_TYPES:
        raise NotFound(f"Unknown endpoint type {endpoint_type!r}; one of {', '.join(ENDPOINT_TYPES)}.")
    return service.unregister_endpoint(channel=bridge_channel(subscription_id, bridge_id), endpoint_type=endpoint_type)
