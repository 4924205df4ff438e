"""EBS WebApi operations over a bridge channel, written against docs/ebs-contract.md.

Answers are reduced to the fields the product uses; nothing else of an EBS body goes further. Passwords
and WebApiTokens pass through these functions and are never kept, logged or returned.
"""

from __future__ import annotations

import logging
from typing import Any

from bridge_gateway.errors import GatewayProblem, UpstreamInvalidResponseError, clean_text
from bridge_gateway.tokens import login_body
from bridge_gateway.upstream import BridgeChannel
from shared.secrets import digest

__all__ = [
    "CLOUD_STORE_GROUP",
    "ENDPOINT_TYPES",
    "cloud_store_params",
    "read_asset",
    "register_company_params",
    "unregister_endpoint",
    "user_branches",
    "user_login",
]

log = logging.getLogger(__name__)

CLOUD_STORE_GROUP = "Entersoft Cloud Store"
PARAM_PREFIX = "ESCloudStore."
ENDPOINT_TYPES = ("time-attendance", "app-insights", "surveys")
_SERVICE = "api/rpc/EbsService/ESCloudStore/Entersoft.CloudStore/CompanyParams/"


def _text(value: Any, limit: int = 200) -> str | None:
    return clean_text(value, limit) if isinstance(value, str) else None


def _branches(entries: Any) -> list[dict[str, str]]:
    """`[{Key, Value}]` (Usersites, UserSites) as `[{id, name}]`."""
    if not isinstance(entries, list):
        raise UpstreamInvalidResponseError("The EBS server's list of branches is not a list.")
    branches = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("Key"), str):
            branches.append({"id": clean_text(entry["Key"], 50), "name": _text(entry.get("Value")) or ""})
    return branches


def _profile(model: dict[str, Any]) -> dict[str, Any]:
    sources = model.get("AllowAccessFromSource")
    sources = [s for s in sources if isinstance(s, str)] if isinstance(sources, list) else []
    return {
        "user_id": _text(model.get("UserID")),
        "name": _text(model.get("Name")),
        "email": _text(model.get("Email")),
        "gid": _text(model.get("GID"), 64),
        "administrator": model.get("Administrator") is True,
        "payroll": model.get("Payroll") is True,
        # A WebApi login succeeds only for users whose access sources include WebApi (contract §2).
        "webapi_access": True if not sources else "WebApi" in sources,
        "branch_id": _text(model.get("BranchID"), 50),
        "lang_id": _text(model.get("LangID"), 10),
        "branches": _branches(model.get("UserSites") or []),
    }


def _logout(channel: BridgeChannel, token: str) -> None:
    """End a user's WebApi session at once rather than leave it to expire (best effort)."""
    try:
        channel.request("POST", "api/Login/Logout", idempotent=False, headers={"Authorization": f"Bearer {token}"})
    except GatewayProblem as problem:
        log.info("logout after a credential check failed: %s", problem.slug)


def user_login(
    channel: BridgeChannel,
    *,
    user_id: str,
    password: str,
    branch_id: str | None = None,
    lang_id: str | None = None,
    extra_pin: str | None = None,
) -> dict[str, Any]:
    """Log a user in, answer their ERP profile, and log the session out again; the password is not kept."""
    model = channel.login(
        {"UserID": user_id, "Password": password, "BranchID": branch_id, "LangID": lang_id, "ExtraPin": extra_pin}
    )
    profile = _profile(model)
    _logout(channel, model["WebApiToken"])
    return profile


def user_branches(channel: BridgeChannel, *, user_id: str | None = None) -> list[dict[str, str]]:
    """A user's branches on the bridge (the service user's without `user_id`); no password needed."""
    body = login_body(channel.target)
    body["Model"] = user_id or {}  # Usersites takes the UserID as a plain string, as Entersoft's client sends it
    answer = channel.request("POST", "api/Login/Usersites", idempotent=True, json_body=body)
    return _branches(answer.ok_json("usersites"))


def read_asset(channel: BridgeChannel, route_id: str) -> str | None:
    """A text file of the server's CSWebAssets folder, read as the service user; None when it is missing."""
    answer = channel.service_request("GET", "api/asset/", idempotent=True, params={"routeId": route_id})
    if answer.status == 404 and answer.message_id == "asset-not-found":
        return None
    if answer.status >= 400:
        answer.ok_json("asset")
    return answer.body.decode("utf-8", errors="replace")


def _params(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise UpstreamInvalidResponseError("The EBS server's company parameters are not a list.")
    return [p for p in body if isinstance(p, dict) and isinstance(p.get("ID"), str)]


def cloud_store_params(channel: BridgeChannel) -> list[dict[str, Any]]:
    """The bridge's "Entersoft Cloud Store" company parameters."""
    answer = channel.service_request(
        "GET", "api/rpc/FetchCompanyParams/", idempotent=True, params={"GroupID": CLOUD_STORE_GROUP}
    )
    return _params(answer.ok_json("company parameters"))


def register_company_params(
    channel: BridgeChannel, *, subscription_gid: str, endpoint_type: str | None = None, api_key: str | None = None
) -> list[dict[str, Any]]:
    """Write SubscriptionID, SubscriptionGID and (optionally) one endpoint's API key; answer the group."""
    body: dict[str, Any] = {"SubscriptionID": channel.target.subscription_id, "SubscriptionGID": subscription_gid}
    if endpoint_type:
        body |= {"EndpointType": endpoint_type, "ApiKey": api_key}
    # Register overwrites with the same values when repeated (contract §6), so it may be retried.
    answer = channel.service_request("POST", _SERVICE + "Register", idempotent=True, json_body=body)
    result = answer.ok_json("company parameters")
    return _params(result.get("Params") if isinstance(result, dict) else None)


def unregister_endpoint(channel: BridgeChannel, *, endpoint_type: str) -> tuple[bool, list[dict[str, Any]]]:
    """Remove one endpoint's API key parameter; answers whether it was there, and the group."""
    answer = channel.service_request(
        "POST", _SERVICE + "Unregister", idempotent=True, json_body={"EndpointType": endpoint_type}
    )
    result = answer.ok_json("company parameters")
    if not isinstance(result, dict):
        raise UpstreamInvalidResponseError("The EBS server's answer to Unregister is not an object.")
    return result.get("Removed") is True, _params(result.get("Params"))


def summarize_params(params: list[dict[str, Any]]) -> dict[str, Any]:
    """The Cloud Store section as the product sees it; API keys only as SHA-256 digest and last 4 characters."""
    values = {p["ID"]: p.get("Value") for p in params}
    endpoints = {}
    for endpoint_type in ENDPOINT_TYPES:
        value = values.get(f"{PARAM_PREFIX}Endpoint.{endpoint_type}")
        if isinstance(value, str) and value:
            endpoints[endpoint_type] = {"registered": True, "digest": digest(value), "last4": value[-4:]}
    return {
        "subscription_id": _text(values.get(f"{PARAM_PREFIX}SubscriptionID")),
        "subscription_gid": _text(values.get(f"{PARAM_PREFIX}SubscriptionGID"), 64),
        "endpoints": endpoints,
    }
