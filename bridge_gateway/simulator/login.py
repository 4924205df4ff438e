"""``api/Login/*``: Login, Usersites, ServerCapabilities and Logout, with EBS's checks and error ids."""

from __future__ import annotations

import hmac
import re
import time
import uuid
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue

from . import state
from .config import Bridge, Subscription, User
from .context import db, find_user, simulator
from .credentials import verify_password, verify_totp
from .errors import EbsError, invalid_params
from .tokens import Session, bearer, digest, iso, issue_token

bp = Blueprint("sim_login", __name__, url_prefix="/api/Login")

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_GID_NAMESPACE = uuid.UUID("6f1e0b8a-3c1d-4f5e-9a41-5a2c0e1b7d90")


def gid(*parts: str) -> str:
    """A stable GUID for an ERP object (user, branch) of the simulator."""
    return str(uuid.uuid5(_GID_NAMESPACE, "/".join(p.lower() for p in parts)))


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise invalid_params("The request body must be a JSON object")
    return body


def _text(table: dict[str, Any], key: str) -> str:
    value = table.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_params(f"{key} must be a string")
    return value


def resolve_bridge(body: dict[str, Any]) -> tuple[Subscription, Bridge]:
    """Check SubscriptionID, SubscriptionPassword and BridgeID of a login-style body."""
    subscription = simulator().config.subscription(_text(body, "SubscriptionID"))
    password = _text(body, "SubscriptionPassword")
    if subscription is None or not hmac.compare_digest(subscription.password.encode(), password.encode()):
        raise EbsError(
            401, "subscription-invalid-password", "Either SubscriptionID or Subscription Password are not valid"
        )
    bridge_id = _text(body, "BridgeID")
    bridge = subscription.bridge(bridge_id)
    if bridge is None:
        raise EbsError(404, "bridge-not-found", f"Bridge [{bridge_id}] is not defined for this subscription")
    return subscription, bridge


def _registered_user(user_id: str, bridge: Bridge) -> User:
    user = find_user(user_id)
    if user is None or not user.can_use(bridge):
        raise EbsError(401, "login-invalid-user", f"User [{user_id}] is not registered")
    return user


def _check_password(user: User, password: str, extra_pin: str) -> None:
    wrong = EbsError(401, "login-invalid-password", "Either UserID or User Password are incorrect")
    if not verify_password(user.password, password):
        raise wrong
    if user.totp_secret and not verify_totp(user.totp_secret, extra_pin):
        raise wrong


def _check_allowed(user: User) -> None:
    if user.inactive:
        raise EbsError(401, "login-inactive-user", f"User [{user.user_id}] is inactive")
    if "webapi" not in {s.lower() for s in user.allow_access_from_source}:
        raise EbsError(403, "login-webapi-not-allowed", f"User [{user.user_id}] may not log in through the WebApi")


def _user_credentials(body: dict[str, Any], bridge: Bridge) -> dict[str, str]:
    """The Model's credentials, or the bridge's service user when the Model names no user."""
    model = body.get("Model")
    if model is None:
        model = {}
    if not isinstance(model, dict):
        raise invalid_params("Model must be a JSON object")
    creds = {k: _text(model, k) for k in ("UserID", "Password", "BranchID", "LangID", "ExtraPin")}
    creds["ExtraPin"] = creds["ExtraPin"] or _text(body, "ExtraPin")
    if not creds["UserID"]:
        service = bridge.default_user
        creds.update(UserID=service.user_id, Password=service.password)
        creds["BranchID"] = creds["BranchID"] or service.branch_id
        creds["LangID"] = creds["LangID"] or service.lang_id
    return creds


def _user_sites(user: User, bridge: Bridge) -> list[dict[str, Any]]:
    sites = []
    for branch in user.sites(bridge):
        site_gid = gid("site", bridge.id, branch.id)
        sites.append(
            {
                "Key": branch.id,
                "Value": branch.name,
                "GID": gid("usersite", bridge.id, user.user_id, branch.id),
                "fUserGID": gid("user", user.user_id),
                "fCompanyCode": bridge.company_id,
                "fCompanySiteGID": site_gid,
                "ServiceLevel": 0,
                "Site": {
                    "GID": site_gid,
                    "fPersonCodeGID": gid("person", bridge.id, branch.id),
                    "Code": branch.id,
                    "Description": branch.name,
                    "Status": 1,
                    "KindSite": 0,
                    "KindWH": 0,
                },
            }
        )
    return sites


def _session_model(user: User, bridge: Bridge, branch_id: str, lang_id: str) -> dict[str, Any]:
    return {
        "GID": gid("user", user.user_id),
        "UserID": user.user_id,
        "Name": user.name,
        "Email": user.email,
        "Inactive": user.inactive,
        "Administrator": user.administrator,
        "Payroll": user.payroll,
        "AllowAccessFromSource": list(user.allow_access_from_source),
        "PasswdKey": "*",
        "BranchID": branch_id,
        "LangID": lang_id,
        "DatabaseID": bridge.database_id,
        "CompanyID": bridge.company_id,
        "UserSites": _user_sites(user, bridge),
    }


@bp.post("/Login")
def login() -> ResponseReturnValue:
    """Log a user (or, without Model credentials, the bridge's service user) in and issue a WebApi token."""
    body = _body()
    subscription, bridge = resolve_bridge(body)
    creds = _user_credentials(body, bridge)
    user = _registered_user(creds["UserID"], bridge)
    _check_password(user, creds["Password"], creds["ExtraPin"])
    _check_allowed(user)
    site_ids = [b.id for b in user.sites(bridge)]
    branch_id = creds["BranchID"] or (site_ids[0] if site_ids else "")
    if branch_id not in site_ids:
        raise EbsError(403, "login-invalid-branch", f"User [{user.user_id}] may not use branch [{branch_id}]")
    lang_id = creds["LangID"] or bridge.default_user.lang_id
    if not _LANG.match(lang_id):
        raise EbsError(400, "login-invalid-lang", f"Language [{lang_id}] is not valid")
    state.purge_tokens(db(), expired_before=time.time() - 86_400)
    token, expires_at = issue_token(
        subscription_id=subscription.id,
        bridge_id=bridge.id,
        user_id=user.user_id,
        branch_id=branch_id,
        lang_id=lang_id,
    )
    model = _session_model(user, bridge, branch_id, lang_id)
    model.update(WebApiToken=token, WebApiTokenExpiresAt=iso(expires_at))
    answer: dict[str, Any] = {"Model": model, "SubscriptionID": subscription.id, "BridgeID": bridge.id}
    if isinstance(body.get("Claims"), dict):
        answer["Claims"] = body["Claims"]
    return jsonify(answer)


@bp.post("/Usersites")
def usersites() -> ResponseReturnValue:
    """List the branches a user may log in to (``Model`` is the UserID, or credentials as for Login)."""
    body = _body()
    _, bridge = resolve_bridge(body)
    model = body.get("Model")
    if isinstance(model, str):
        body = {**body, "Model": {"UserID": model}}
    creds = _user_credentials(body, bridge)
    user = _registered_user(creds["UserID"], bridge)
    if creds["Password"]:
        _check_password(user, creds["Password"], creds["ExtraPin"])
    _check_allowed(user)
    return jsonify([{"Key": b.id, "Value": b.name} for b in user.sites(bridge)])


@bp.get("/ServerCapabilities/")
@bp.get("/ServerCapabilities")
def server_capabilities() -> ResponseReturnValue:
    """Answer the server's version and whether plain HTTP is allowed (no login needed)."""
    webapi = simulator().config.webapi
    parts = (str(webapi.get("Version", "1.9.16")).split(".") + ["0", "0", "0"])[:3]
    major, minor, patch = (int(p) if p.isdigit() else 0 for p in parts)
    return jsonify(
        {
            "AllowInsecureHttp": bool(webapi.get("AllowInsecureHttp", True)),
            "WebApiVersion": {"Major": major, "Minor": minor, "Patch": patch},
            "TokenLifetimeInSeconds": simulator().token_lifetime,
            "RefreshTokenIfWithinRemainingPercentage": simulator().refresh_within_percent,
        }
    )


@bp.post("/Logout")
@bearer
def logout(session: Session) -> ResponseReturnValue:
    """Invalidate the presented token (and any renewal this very call would have handed out)."""
    state.delete_token(db(), digest=g.sim_token_digest)
    renewed = g.pop("sim_refresh_token", None)
    if renewed is not None:
        state.delete_token(db(), digest=digest(renewed))
    return jsonify({})
