"""Company parameters per bridge, and the services that register the "Entersoft Cloud Store" section."""

from __future__ import annotations

from typing import Any

from . import state
from .context import db
from .errors import EbsError, invalid_params
from .tokens import Session

GROUP = "Entersoft Cloud Store"
SUBSCRIPTION_ID_PARAM = "ESCloudStore.SubscriptionID"
SUBSCRIPTION_GID_PARAM = "ESCloudStore.SubscriptionGID"
ENDPOINT_PARAM_PREFIX = "ESCloudStore.Endpoint."
ENDPOINT_TYPES = {
    "time-attendance": "Entersoft Time Attendance endpoint API key",
    "app-insights": "Entersoft Business Suite Application Insights endpoint API key",
    "surveys": "Entersoft Surveys endpoint API key",
}


def is_secret_param(param_id: str) -> bool:
    """Tell whether a parameter holds an API key (shown masked on the page)."""
    return param_id.lower().startswith(ENDPOINT_PARAM_PREFIX.lower())


def _shape(param_id: str, group_id: str, description: str, value: str, es_type: str) -> dict[str, Any]:
    return {
        "ID": param_id,
        "GroupID": group_id,
        "Description": description,
        "Help": "",
        "ESType": es_type,
        "Value": value,
        "ValueS": value,
    }


def bridge_params(session_or_pair: Session | tuple[Any, Any]) -> dict[str, dict[str, Any]]:
    """Every company parameter of a bridge (config defaults overlaid by run-time writes), by lower-case ID."""
    if isinstance(session_or_pair, Session):
        subscription, bridge = session_or_pair.subscription, session_or_pair.bridge
    else:
        subscription, bridge = session_or_pair
    params = {
        key: _shape(p.id, p.group_id, p.description, p.value, p.es_type) for key, p in bridge.company_params.items()
    }
    for row in state.list_company_params(db(), subscription_id=subscription.id, bridge_id=bridge.id):
        params[row["param_key"]] = _shape(
            row["param_id"], row["group_id"], row["description"], row["value"], row["es_type"]
        )
    return dict(sorted(params.items()))


def fetch_param(session: Session, param_id: str) -> dict[str, Any]:
    """One company parameter, or 404 ``company-parameter-not-found``."""
    param = bridge_params(session).get(param_id.lower())
    if param is None:
        raise EbsError(404, "company-parameter-not-found", f"Company parameter '{param_id}' not found")
    return param


def _require_writer(session: Session) -> None:
    if not (session.user.administrator or session.is_service_user):
        raise EbsError(
            403,
            "insufficient-rights",
            f"User [{session.user.user_id}] may not change company parameters: an Administrator"
            " or the bridge's service user is required",
        )


def _text(payload: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise invalid_params(f"{key} is required")
        return ""
    if not isinstance(value, str) or len(value) > 4000:
        raise invalid_params(f"{key} must be a string of at most 4000 characters")
    return value


def _endpoint_type(payload: dict[str, Any], *, required: bool) -> str:
    endpoint_type = _text(payload, "EndpointType", required=required)
    if endpoint_type and endpoint_type not in ENDPOINT_TYPES:
        raise invalid_params(f"EndpointType must be one of {', '.join(ENDPOINT_TYPES)}")
    return endpoint_type


def _write(session: Session, param_id: str, description: str, value: str) -> None:
    state.set_company_param(
        db(),
        subscription_id=session.subscription.id,
        bridge_id=session.bridge.id,
        param={"ID": param_id, "GroupID": GROUP, "Description": description, "Value": value},
        user_id=session.user.user_id,
    )


def cloud_store_section(session: Session) -> list[dict[str, Any]]:
    """The parameters of the "Entersoft Cloud Store" group of the session's bridge."""
    return [p for p in bridge_params(session).values() if p["GroupID"] == GROUP]


def register(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """Write SubscriptionID, SubscriptionGID and (optionally) one endpoint's API key into the section."""
    _require_writer(session)
    subscription_id = _text(payload, "SubscriptionID")
    if subscription_id.lower() != session.subscription.id.lower():
        raise invalid_params("SubscriptionID is not the subscription of this session")
    subscription_gid = _text(payload, "SubscriptionGID")
    endpoint_type = _endpoint_type(payload, required=False)
    api_key = _text(payload, "ApiKey", required=bool(endpoint_type))
    with state.transaction(db()):
        _write(session, SUBSCRIPTION_ID_PARAM, "Cloud Store SubscriptionID", subscription_id)
        _write(session, SUBSCRIPTION_GID_PARAM, "Cloud Store SubscriptionGID", subscription_gid)
        if endpoint_type:
            _write(session, ENDPOINT_PARAM_PREFIX + endpoint_type, ENDPOINT_TYPES[endpoint_type], api_key)
    return {"GroupID": GROUP, "Params": cloud_store_section(session)}


def unregister(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """Remove one endpoint's API-key parameter from the section (``Removed`` tells whether it was there)."""
    _require_writer(session)
    endpoint_type = _endpoint_type(payload, required=True)
    removed = state.delete_company_param(
        db(),
        subscription_id=session.subscription.id,
        bridge_id=session.bridge.id,
        param_id=ENDPOINT_PARAM_PREFIX + endpoint_type,
    )
    return {"GroupID": GROUP, "Removed": removed, "Params": cloud_store_section(session)}
