"""Delivery of punches to a bridge's payroll through the bridge gateway's relay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from shared.http import ServiceSession

__all__ = ["IMPORT_PUNCHES", "DeliveryError", "PayrollGateway", "PunchResult"]

IMPORT_PUNCHES = "api/rpc/EbsService/ESPayroll/Entersoft.Payroll/TimeAttendance/ImportPunches"


class DeliveryError(Exception):
    """The batch did not reach payroll (unreachable, timeout, 5xx, circuit open...); retry later."""


@dataclass(frozen=True)
class PunchResult:
    """Payroll's verdict on one punch: accepted, duplicate (both: delivered) or rejected."""

    punch_id: str
    status: str
    message: str | None = None


class PayrollGateway:
    """Calls `ImportPunches` on a bridge through the gateway, authenticated by a service token."""

    def __init__(self, *, gateway_url: str, token: Callable[[], str], session: requests.Session | None = None):
        self._base = gateway_url.rstrip("/")
        self._token = token
        self._session = session or ServiceSession(timeout=30.0)

    def import_punches(
        self, *, subscription_id: str, bridge_id: str, device_code: str, punches: Sequence[dict[str, Any]]
    ) -> list[PunchResult]:
        """Send one device's punches in order; the answer has one result per punch."""
        url = f"{self._base}/v1/bridges/{quote(subscription_id, safe='')}/{quote(bridge_id, safe='')}/relay/"
        try:
            response = self._session.post(
                url + IMPORT_PUNCHES,
                json={"DeviceCode": device_code, "Punches": list(punches)},
                headers={"Authorization": f"Bearer {self._token()}"},
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"gateway unreachable: {type(exc).__name__}") from None
        except Exception as exc:  # noqa: BLE001 - a token that cannot be had is a delivery failure too
            raise DeliveryError(f"no service token: {exc}") from None
        body = _json(response)
        if response.status_code != 200 or not isinstance(body.get("Results"), list):
            reason = body.get("UserMessage") or body.get("detail") or body.get("title") or body.get("error")
            raise DeliveryError(f"HTTP {response.status_code}: {reason or 'no usable answer'}"[:500])
        return [
            PunchResult(str(item.get("PunchID")), str(item.get("Status")), item.get("UserMessage"))
            for item in body["Results"]
            if isinstance(item, dict)
        ]


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
