"""ZKTeco ATTLOG text as clock agents forward it: `PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>status<TAB>verify<TAB>code`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.errors import ValidationProblem

# ZKTeco status codes (facts §3.4): 4/5 are overtime in/out, which payroll counts as in/out.
_MAX_VERIFY_MODE = 255  # as the JSON batch's verifyMode
_DIRECTIONS = {"0": "in", "1": "out", "2": "break_out", "3": "break_in", "4": "in", "5": "out"}


def _is_verify_mode(text: str) -> bool:
    return len(text) <= 3 and text.isascii() and text.isdigit() and int(text) <= _MAX_VERIFY_MODE


def parse_attlog(text: str, *, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Punches from ATTLOG lines, local times placed in the device's zone; every bad line is reported."""
    punches: list[dict[str, Any]] = []
    errors: dict[int, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) < 2:
            errors[number] = ["Expected PIN, a TAB and the time, then status, verify and work code."]
            continue
        pin, moment = fields[0].strip(), fields[1].strip()
        status = fields[2].strip() if len(fields) > 2 else ""
        verify = fields[3].strip() if len(fields) > 3 else ""
        work_code = fields[4].strip() if len(fields) > 4 else ""
        problems = []
        if "\x00" in line:
            problems.append("The line holds a NUL character.")
        if not pin or len(pin) > 64:
            problems.append("The PIN must have 1 to 64 characters.")
        try:
            local = datetime.strptime(moment, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
        except ValueError:
            problems.append("The time must look like 2024-03-31 08:59:00.")
        if verify and not _is_verify_mode(verify):
            problems.append(f"The verify mode must be a number from 0 to {_MAX_VERIFY_MODE}.")
        if problems:
            errors[number] = problems
            continue
        punches.append(
            {
                "employeeCode": pin,
                "timestamp": local,
                "direction": _DIRECTIONS.get(status, "unknown"),
                "verifyMode": int(verify) if verify else None,
                "workCode": work_code[:32] or None,
            }
        )
    if errors:
        raise ValidationProblem({"lines": errors}, detail="Some ATTLOG lines are not valid.")
    if not punches:
        raise ValidationProblem({"lines": ["No punches in the body."]})
    return punches
