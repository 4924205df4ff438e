"""A small client of the resource API's internal routes (docs/resource-api.md), as the portal uses them.

Calls carry a client-credentials token of the auth server's own internal client (scope `resource:admin`,
audience `resource_api`). The portal asks only for subscriptions the signed-in admin owns; the resource API
trusts the path because the caller is the portal. Every refusal or failure becomes a `ResourceProblem` whose
`detail` a person can read; pages show it instead of the figures.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import requests
from flask import Flask

from authserver.oauth2.own_tokens import OwnServiceTokens
from authserver.service_calls import ServiceClient, app_client
from shared.errors import Problem

__all__ = ["ResourceClient", "ResourceProblem", "resource_client"]

log = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SVG = "{http://www.w3.org/2000/svg}"
UNAVAILABLE = "The time-attendance and insights service is not available right now. Try again in a few minutes."


class ResourceProblem(Problem):
    """The resource API refused or failed a call, or could not be reached."""

    status = 503
    title = "Service unavailable"


def _detail(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    if not isinstance(detail, str) or not detail.strip():
        return None
    return _CONTROL.sub(" ", detail).strip()[:300]


def _safe_svg(text: str) -> str:
    """`text` if it is one well-formed SVG element with nothing active in it, for inlining into a page."""
    if "<!" in text or "<?" in text:  # no DOCTYPE, entities or processing instructions
        raise ValueError("unexpected markup")
    root = ET.fromstring(text)  # noqa: S314 - no DTD can reach the parser (checked above)
    if root.tag != f"{_SVG}svg":
        raise ValueError("not an SVG element")
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1].lower()
        if name in ("script", "foreignobject", "a", "use", "image", "iframe", "style"):
            raise ValueError(f"{name} elements are not allowed")
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or local in ("href", "style") or "javascript:" in value.lower():
                raise ValueError(f"attribute {local} is not allowed")
    return text


class ResourceClient(ServiceClient):
    """The resource API's `/internal/v1/subscriptions/<id>` routes; each method answers data or raises."""

    service = "resource API"

    def unavailable(self) -> ResourceProblem:
        """The problem callers get when the resource API cannot be asked."""
        return ResourceProblem(UNAVAILABLE)

    def _call(
        self, method: str, subscription_id: str, path: str, *, json: Any = None, params: Any = None
    ) -> requests.Response:
        url = f"/internal/v1/subscriptions/{quote(subscription_id, safe='')}/{path}"
        response = self.send(method, url, json=json, params=params)
        if response.status_code in (401, 403) or response.status_code >= 500:
            log.warning("the resource API answered HTTP %s to %s %s", response.status_code, method, path)
            raise self.unavailable()
        if response.status_code >= 400:
            detail = _detail(response) or "The request was refused."
            raise ResourceProblem(detail, status=response.status_code, title="Refused")
        return response

    def _json(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ResourceProblem(UNAVAILABLE)
        return body

    def rejected_punches(self, *, subscription_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The punches payroll refused (dead letters), newest first, each with its `reason`."""
        body = self._json(self._call("GET", subscription_id, "punches/rejected", params={"limit": limit}))
        punches = body.get("punches")
        return [p for p in punches if isinstance(p, dict)] if isinstance(punches, list) else []

    def retry_rejected(self, *, subscription_id: str, punch_id: int | None = None) -> int:
        """Put one rejected punch, or all of them, back in the outbox; answers how many."""
        path = f"punches/rejected/{int(punch_id)}/retry" if punch_id is not None else "punches/rejected/retry"
        retried = self._json(self._call("POST", subscription_id, path, json={})).get("retried")
        return retried if isinstance(retried, int) else 0

    def insights_summary(self, *, subscription_id: str, days: int = 30) -> dict[str, Any]:
        """Events by type and UTC day (`types`, `byType`, `byDay`, `total`, `from`, `to`)."""
        return self._json(self._call("GET", subscription_id, "insights/summary", params={"days": days}))

    def insights_chart(self, *, subscription_id: str, days: int = 30) -> str:
        """The same figures as an SVG element, checked to be inert before a page inlines it."""
        response = self._call("GET", subscription_id, "insights/summary.svg", params={"days": days})
        try:
            return _safe_svg(response.text)
        except (ValueError, ET.ParseError) as exc:
            log.warning("the resource API sent an unusable chart: %s", exc)
            raise ResourceProblem(UNAVAILABLE) from None


def _build(app: Flask) -> ResourceClient:
    base_url = (
        app.config.get("RESOURCE_API_INTERNAL_URL") or app.config.get("RESOURCE_API_URL") or "http://127.0.0.1:8100"
    )
    return ResourceClient(
        base_url=str(base_url),
        tokens=OwnServiceTokens(
            str(app.config.get("CLIENT_ID") or ""), scope="resource:admin", audience="resource_api"
        ),
        timeout=float(app.config.get("RESOURCE_API_TIMEOUT", 10)),
    )


def resource_client() -> ResourceClient:
    """The current app's resource API client (built once per app, thread-safe to share)."""
    return app_client("resource_client", _build)
