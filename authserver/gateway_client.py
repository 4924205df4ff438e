"""A small client of the bridge gateway's internal API (docs/gateway.md), as the portal uses it.

Calls carry a client-credentials token of the auth server's own internal client (scope `gateway:bridges`,
audience `bridge_gateway`). Every refusal or failure becomes a `GatewayProblem` whose `detail` a person can
act on: EBS's UserMessage and MessageID, the gateway's hint, and for an unreachable server the egress
addresses to open the firewall to. The API answers it as a problem; pages show it next to the form.
Passwords are sent, never logged.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

import requests
from flask import Flask

from authserver.oauth2.own_tokens import OwnServiceTokens
from authserver.service_calls import ServiceClient, app_client
from shared.errors import Problem

__all__ = ["GatewayClient", "GatewayProblem", "gateway_client", "init_gateway_client"]

log = logging.getLogger(__name__)

PROBLEMS = "https://cloudstore.dev/problems/"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# The gateway's camelCase fields, as the portal's own field names.
_FIELDS = {
    "host": "host",
    "port": "port",
    "scheme": "scheme",
    "databaseId": "database_id",
    "companyId": "company_id",
    "bridgeId": "bridge_id",
    "subscriptionId": "subscription_id",
    "userId": "user_id",
    "password": "password",
    "branchId": "branch_id",
}
UNAVAILABLE = "The connection service is not available right now. Try again in a few minutes."


def _clean(value: Any, limit: int = 500) -> str | None:
    """Upstream text made safe to show: no control characters, bounded; None unless a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _CONTROL.sub(" ", value).strip()[:limit]


class GatewayProblem(Problem):
    """The gateway, or EBS behind it, refused or failed a call.

    `slug` is the gateway's problem slug (`ebs-rejected`, `upstream-unreachable`, …) or `gateway-unavailable`;
    `field` names the form field at fault when there is one (`host` for a destination the guard refuses).
    """

    title = "Connection problem"

    def __init__(
        self,
        detail: str,
        *,
        status: int = 502,
        slug: str = "gateway-unavailable",
        title: str | None = None,
        hint: str | None = None,
        message_id: str | None = None,
        user_message: str | None = None,
        egress_addresses: tuple[str, ...] = (),
        field: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        extensions: dict[str, Any] = {}
        if hint:
            extensions["hint"] = hint
        if message_id:
            extensions["messageId"] = message_id
        if user_message:
            extensions["userMessage"] = user_message
        if egress_addresses:
            extensions["egressAddresses"] = list(egress_addresses)
        if field:
            extensions["errors"] = {_camel(field): [detail]}
        super().__init__(detail, status=status, title=title or type(self).title, **extensions)
        self.type = PROBLEMS + slug  # type: ignore[misc]
        self.slug = slug
        self.hint = hint
        self.message_id = message_id
        self.user_message = user_message
        self.egress_addresses = egress_addresses
        self.field = field
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        """The whole explanation in one paragraph (for a flash message or a log line)."""
        parts = [self.detail or self.title]
        if self.user_message and self.user_message not in parts[0]:
            parts.append(f"EBS said: {self.user_message}")
        if self.hint:
            parts.append(self.hint)
        return " ".join(part.rstrip(".") + "." for part in parts)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() if part != "id" else "Id" for part in rest)


def _problem_from_answer(response: requests.Response) -> GatewayProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    if status in (401, 403) and "error" in body and "type" not in body:
        # RFC 6750 from the gateway: our own service token was refused. Not the customer's business.
        log.warning("the gateway refused the auth server's token: HTTP %s %s", status, _clean(body.get("error")))
        return GatewayProblem(UNAVAILABLE, status=503)
    slug = str(body.get("type", "")).rsplit("/", 1)[-1]
    if not _SLUG.match(slug):  # a plain validation problem ("about:blank") or something unexpected
        slug = "validation" if status == 422 else "gateway-error"
    detail = _clean(body.get("detail")) or _clean(body.get("title")) or "The connection service refused the call."
    field = None
    errors = body.get("errors")
    if slug == "validation" and isinstance(errors, dict) and errors:
        name, messages = next(iter(errors.items()))
        field = _FIELDS.get(str(name))
        first = messages[0] if isinstance(messages, list) and messages else messages
        detail = _clean(first) or detail
    if slug == "destination-refused":
        field = "host"
    egress = body.get("egressAddresses") if isinstance(body.get("egressAddresses"), list) else []
    return GatewayProblem(
        detail,
        status=_STATUS.get(slug, status if 400 <= status < 600 else 502),
        slug=slug,
        title=_clean(body.get("title"), 100),
        hint=_clean(body.get("hint")),
        message_id=_clean(body.get("messageId"), 64),
        user_message=_clean(body.get("userMessage")),
        egress_addresses=tuple(a for a in (_clean(e, 64) for e in egress) if a),
        field=field,
        retry_after=response.headers.get("Retry-After"),
    )


# The answer our callers get: a refused destination is bad input of theirs, not a permission they lack.
_STATUS = {"destination-refused": 422, "validation": 422}


class GatewayClient(ServiceClient):
    """The gateway's `/v1/bridges` routes; each method answers the JSON body or raises `GatewayProblem`."""

    service = "gateway"

    def unavailable(self) -> GatewayProblem:
        """The problem callers get when the gateway cannot be asked."""
        return GatewayProblem(UNAVAILABLE, status=503)

    @staticmethod
    def _path(subscription_id: str, bridge_id: str | None = None, *rest: str) -> str:
        parts = [quote(subscription_id, safe="")] + ([quote(bridge_id, safe="")] if bridge_id else [])
        return "/v1/bridges/" + "/".join(parts + list(rest))

    def _call(self, method: str, path: str, *, json: dict[str, Any] | None = None) -> Any:
        response = self.send(method, path, json=json)
        if response.status_code >= 400:
            raise _problem_from_answer(response)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise self.unavailable() from None

    def register_bridge(
        self,
        *,
        subscription_id: str,
        subscription_gid: str,
        subscription_password: str,
        bridge_id: str,
        scheme: str,
        host: str,
        port: int,
        database_id: str,
        company_id: str,
    ) -> dict[str, Any]:
        """Register a bridge's settings (`POST /v1/bridges`)."""
        body = {
            "subscriptionId": subscription_id,
            "bridgeId": bridge_id,
            "subscriptionGid": subscription_gid,
            "subscriptionPassword": subscription_password,
            "scheme": scheme,
            "host": host,
            "port": port,
            "databaseId": database_id,
            "companyId": company_id,
        }
        return self._call("POST", "/v1/bridges", json=body)  # type: ignore[no-any-return]

    def update_bridge(self, *, subscription_id: str, bridge_id: str, **changes: Any) -> dict[str, Any]:
        """Change some settings (`PATCH`); snake_case names as in `register_bridge`."""
        body = {_camel(name): value for name, value in changes.items()}
        return self._call("PATCH", self._path(subscription_id, bridge_id), json=body)  # type: ignore[no-any-return]

    def delete_bridge(self, *, subscription_id: str, bridge_id: str) -> None:
        """Remove a bridge; one the gateway does not know counts as removed."""
        try:
            self._call("DELETE", self._path(subscription_id, bridge_id))
        except GatewayProblem as problem:
            if problem.slug != "bridge-not-found":
                raise

    def verify_login(
        self, *, subscription_id: str, bridge_id: str, user_id: str, password: str, branch_id: str | None = None
    ) -> dict[str, Any]:
        """Verify Connection stage 1: a WebApi login as a back-office user; answers `challengeFile`, `profile`."""
        body: dict[str, Any] = {"userId": user_id, "password": password}
        if branch_id:
            body["branchId"] = branch_id
        path = self._path(subscription_id, bridge_id, "verify", "login")
        return self._call("POST", path, json=body)  # type: ignore[no-any-return]

    def verify_challenge(self, *, subscription_id: str, bridge_id: str, code: str) -> dict[str, Any]:
        """Verify Connection stage 2: the gateway reads the CSWebAssets file and compares it with `code`."""
        path = self._path(subscription_id, bridge_id, "verify", "challenge")
        return self._call("POST", path, json={"code": code})  # type: ignore[no-any-return]

    def branches(self, *, subscription_id: str, bridge_id: str, user_id: str | None = None) -> dict[str, Any]:
        """The branches a user may sign in to (`{"branches": [{"id", "name"}]}`; the service user's without one)."""
        path = self._path(subscription_id, bridge_id, "branches")
        if user_id:
            path += "?userId=" + quote(user_id, safe="")
        return self._call("GET", path)  # type: ignore[no-any-return]

    def check_credentials(
        self,
        *,
        subscription_id: str,
        bridge_id: str,
        user_id: str,
        password: str,
        branch_id: str | None = None,
        lang_id: str | None = None,
    ) -> dict[str, Any]:
        """Check an ERP user's credentials on a bridge (one login, nothing kept); answers the ERP profile."""
        body: dict[str, Any] = {"userId": user_id, "password": password}
        if branch_id:
            body["branchId"] = branch_id
        if lang_id:
            body["langId"] = lang_id
        path = self._path(subscription_id, bridge_id, "credentials", "check")
        return self._call("POST", path, json=body)  # type: ignore[no-any-return]

    def company_params(self, *, subscription_id: str, bridge_id: str) -> dict[str, Any]:
        """The bridge's "Entersoft Cloud Store" company parameters (`GET …/company-params`; keys as digests)."""
        return self._call("GET", self._path(subscription_id, bridge_id, "company-params"))  # type: ignore[no-any-return]

    def register_company_params(
        self, *, subscription_id: str, bridge_id: str, endpoint_type: str | None = None, api_key: str | None = None
    ) -> dict[str, Any]:
        """Write SubscriptionID, SubscriptionGID and, if given, one endpoint type's API key (`PUT …/company-params`)."""
        body: dict[str, Any] = {}
        if endpoint_type is not None:
            body = {"endpointType": endpoint_type, "apiKey": api_key}
        path = self._path(subscription_id, bridge_id, "company-params")
        return self._call("PUT", path, json=body)  # type: ignore[no-any-return]

    def unregister_endpoint(self, *, subscription_id: str, bridge_id: str, endpoint_type: str) -> dict[str, Any]:
        """Remove one endpoint type's API key parameter (`DELETE …/company-params/endpoints/<type>`, idempotent)."""
        path = self._path(subscription_id, bridge_id, "company-params", "endpoints", quote(endpoint_type, safe=""))
        return self._call("DELETE", path)  # type: ignore[no-any-return]


def init_gateway_client(app: Flask) -> None:
    """Default settings; the client itself is built on first use, so apps that never call the gateway need none."""
    app.config.setdefault("GATEWAY_URL", "http://127.0.0.1:8200")
    app.config.setdefault("GATEWAY_TIMEOUT", 35)


def _build(app: Flask) -> GatewayClient:
    return GatewayClient(
        base_url=str(app.config["GATEWAY_URL"]),
        tokens=OwnServiceTokens(
            str(app.config.get("CLIENT_ID") or ""), scope="gateway:bridges", audience="bridge_gateway"
        ),
        timeout=float(app.config.get("GATEWAY_TIMEOUT", 35)),
    )


def gateway_client() -> GatewayClient:
    """The current app's gateway client (built once per app, thread-safe to share)."""
    return app_client("gateway_client", _build)
