"""ERP calls on a bridge: credential checks, branches, Verify Connection and company parameters.

Each function takes the bridge's channel (and, where a row changes, the session); none keeps a password.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge_gateway import ebs
from bridge_gateway.bridges.models import Bridge
from bridge_gateway.bridges.service import mark_verified
from bridge_gateway.errors import ChallengeFileMissingError, ChallengeMismatchError
from bridge_gateway.upstream import BridgeChannel

__all__ = [
    "challenge_file",
    "check_credentials",
    "list_branches",
    "read_company_params",
    "register_company_params",
    "unregister_endpoint",
    "verify_challenge",
    "verify_login",
]


def check_credentials(
    *,
    channel: BridgeChannel,
    user_id: str,
    password: str,
    branch_id: str | None = None,
    lang_id: str | None = None,
    extra_pin: str | None = None,
) -> dict[str, Any]:
    """Log the user in on the bridge and answer their ERP profile; EBS's refusals raise `EbsRejectedError`."""
    return ebs.user_login(
        channel, user_id=user_id, password=password, branch_id=branch_id, lang_id=lang_id, extra_pin=extra_pin
    )


def list_branches(*, channel: BridgeChannel, user_id: str | None = None) -> list[dict[str, str]]:
    """The branches a user may choose at login (the service user's when no user is named)."""
    return ebs.user_branches(channel, user_id=user_id)


def challenge_file(channel: BridgeChannel) -> str:
    """The Verify-Connection file's name: `<SubscriptionID>-<BridgeID>.txt` in the server's CSWebAssets folder."""
    return f"{channel.target.subscription_id}-{channel.target.bridge_id}.txt"


def verify_login(
    *, channel: BridgeChannel, user_id: str, password: str, branch_id: str | None = None
) -> dict[str, Any]:
    """Stage 1: a WebApi login as a back-office user succeeds (EBS refuses users without WebApi access)."""
    profile = ebs.user_login(channel, user_id=user_id, password=password, branch_id=branch_id)
    return {"login_verified": True, "profile": profile, "challenge_file": f"CSWebAssets/{challenge_file(channel)}"}


def verify_challenge(*, session: Session, channel: BridgeChannel, bridge: Bridge, code: str) -> datetime:
    """Stage 2: the file in CSWebAssets holds `code` (trimmed, compared in constant time); records the success."""
    name = challenge_file(channel)
    content = ebs.read_asset(channel, name)
    if content is None:
        raise ChallengeFileMissingError(
            f"The EBS server has no file {name} in its CSWebAssets folder.",
            hint=f"In the EBS application folder, create the folder CSWebAssets and in it the file {name} "
            "holding the code the portal shows.",
            file=f"CSWebAssets/{name}",
        )
    if not hmac.compare_digest(content.strip().encode(), code.strip().encode()):
        raise ChallengeMismatchError(
            f"The file CSWebAssets/{name} does not hold the code the portal showed.",
            hint="Copy the code exactly as the portal shows it, save the file, and verify again.",
            file=f"CSWebAssets/{name}",
        )
    return mark_verified(session=session, bridge=bridge)


def read_company_params(*, channel: BridgeChannel) -> dict[str, Any]:
    """The bridge's Cloud Store section: SubscriptionID, SubscriptionGID, and which endpoint keys are registered."""
    return ebs.summarize_params(ebs.cloud_store_params(channel))


def register_company_params(
    *, channel: BridgeChannel, endpoint_type: str | None = None, api_key: str | None = None
) -> dict[str, Any]:
    """Write the Cloud Store section from the bridge's settings, with one endpoint's key when given."""
    params = ebs.register_company_params(
        channel, subscription_gid=channel.target.subscription_gid, endpoint_type=endpoint_type, api_key=api_key
    )
    return ebs.summarize_params(params)


def unregister_endpoint(*, channel: BridgeChannel, endpoint_type: str) -> dict[str, Any]:
    """Remove one endpoint's key from the Cloud Store section (idempotent)."""
    removed, params = ebs.unregister_endpoint(channel, endpoint_type=endpoint_type)
    return {**ebs.summarize_params(params), "removed": removed}
