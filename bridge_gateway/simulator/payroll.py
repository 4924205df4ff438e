"""Payroll time-attendance services: import clock punches (deduplicated by PunchID) and list them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import state
from .context import db
from .errors import EbsError, invalid_params
from .tokens import Session

DIRECTIONS = ("in", "out", "break_in", "break_out", "overtime_in", "overtime_out", "unknown")
MAX_PUNCHES = 1000


def _require_payroll_user(session: Session) -> None:
    if not session.user.payroll:
        raise EbsError(403, "payroll-user-not-allowed", f"User [{session.user.user_id}] is not a user of Payroll")


def _optional_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, str | int) else None


def _rejected(punch_id: Any, message_id: str, user_message: str) -> dict[str, Any]:
    return {"PunchID": punch_id, "Status": "rejected", "MessageID": message_id, "UserMessage": user_message}


def _check_punch(session: Session, punch: Any) -> dict[str, Any] | None:
    """Return a rejection for an unusable punch, or None when it can be stored."""
    if not isinstance(punch, dict):
        return _rejected(None, "payroll-invalid-punch", "A punch must be a JSON object")
    punch_id = punch.get("PunchID")
    if not isinstance(punch_id, str) or not punch_id.strip() or len(punch_id) > 200:
        return _rejected(punch_id, "payroll-invalid-punch", "PunchID must be a non-empty string")
    code = punch.get("EmployeeCode")
    if not isinstance(code, str) or code not in session.bridge.employees:
        return _rejected(punch_id, "payroll-unknown-employee", f"Employee [{code}] is not registered in Payroll")
    stamp = punch.get("Timestamp")
    try:
        parsed = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        return _rejected(punch_id, "payroll-invalid-timestamp", "Timestamp must be ISO 8601 with an offset from UTC")
    if punch.get("Direction", "unknown") not in DIRECTIONS:
        return _rejected(punch_id, "payroll-invalid-direction", f"Direction must be one of {', '.join(DIRECTIONS)}")
    return None


def import_punches(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """Store each valid punch once; answer accepted / duplicate / rejected per punch, in order."""
    _require_payroll_user(session)
    device_code = payload.get("DeviceCode")
    if not isinstance(device_code, str) or not device_code.strip():
        raise invalid_params("DeviceCode is required")
    punches = payload.get("Punches")
    if not isinstance(punches, list) or len(punches) > MAX_PUNCHES:
        raise invalid_params(f"Punches must be a list of at most {MAX_PUNCHES} punches")
    results = []
    received_at = state.now_iso()
    with state.transaction(db()) as conn:
        for punch in punches:
            rejection = _check_punch(session, punch)
            if rejection is not None:
                results.append(rejection)
                continue
            stored = state.insert_punch(
                conn,
                punch={
                    "subscription_id": session.subscription.id,
                    "bridge_id": session.bridge.id,
                    "punch_id": punch["PunchID"],
                    "device_code": device_code,
                    "employee_code": punch["EmployeeCode"],
                    "timestamp": punch["Timestamp"],
                    "direction": punch.get("Direction", "unknown"),
                    "verify_mode": _optional_text(punch.get("VerifyMode")),
                    "work_code": _optional_text(punch.get("WorkCode")),
                    "received_at": received_at,
                    "received_by": session.user.user_id,
                },
            )
            results.append({"PunchID": punch["PunchID"], "Status": "accepted" if stored else "duplicate"})
    counts = {s: sum(1 for r in results if r["Status"] == s) for s in ("accepted", "duplicate", "rejected")}
    return {
        "DeviceCode": device_code,
        "Results": results,
        "Accepted": counts["accepted"],
        "Duplicates": counts["duplicate"],
        "Rejected": counts["rejected"],
    }


def punch_record(row: dict[str, Any], employees: dict[str, Any]) -> dict[str, Any]:
    """A stored punch in the shape the services answer."""
    employee = employees.get(row["employee_code"])
    return {
        "PunchID": row["punch_id"],
        "DeviceCode": row["device_code"],
        "EmployeeCode": row["employee_code"],
        "EmployeeName": employee.name if employee else None,
        "Timestamp": row["timestamp"],
        "Direction": row["direction"],
        "VerifyMode": row["verify_mode"],
        "WorkCode": row["work_code"],
        "ReceivedAt": row["received_at"],
    }


def list_punches(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """The punches this bridge received, oldest first, optionally filtered by DeviceCode / EmployeeCode."""
    _require_payroll_user(session)
    rows = state.list_punches(db(), subscription_id=session.subscription.id, bridge_id=session.bridge.id)
    punches = [punch_record(row, session.bridge.employees) for row in rows]
    for key in ("DeviceCode", "EmployeeCode"):
        if payload.get(key) is not None:
            punches = [p for p in punches if p[key] == payload[key]]
    return {"Punches": punches, "Count": len(punches)}
