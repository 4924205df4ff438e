"""ZKTeco ATTLOG text and CSV files to punches: direction mapping and local time to an ISO timestamp with offset."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = [
    "DIRECTIONS",
    "ParseError",
    "Punch",
    "direction_for_status",
    "localize",
    "parse_attlog",
    "parse_csv",
]

DIRECTIONS = ("in", "out", "break_in", "break_out", "unknown")
# ZKTeco attendance status: 0 check-in, 1 check-out, 2 break-out, 3 break-in, 4 overtime-in, 5 overtime-out.
_STATUS_DIRECTION = {0: "in", 1: "out", 2: "break_out", 3: "break_in", 4: "in", 5: "out"}
_LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
CSV_COLUMNS = ("employeeCode", "timestamp", "direction")


@dataclass(frozen=True)
class Punch:
    """One punch; (device_serial, employee_code, local_time) is its identity in the spool."""

    device_serial: str
    employee_code: str
    local_time: str
    timestamp: str
    direction: str
    verify_mode: int | None = None
    work_code: str | None = None


@dataclass(frozen=True)
class ParseError:
    """A line that could not be read, with its 1-based number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def direction_for_status(status: str | int | None) -> str:
    """The contract's direction for a ZKTeco status value; anything unexpected is `unknown`."""
    try:
        return _STATUS_DIRECTION.get(int(status), "unknown")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "unknown"


def localize(local: datetime, zone: ZoneInfo) -> str:
    """`local` (a naive wall-clock time) in `zone` as `YYYY-MM-DDTHH:MM:SS+HH:MM`.

    In the autumn hour that happens twice the first (summer-time) occurrence is taken (fold=0); a time in the
    spring gap keeps the offset in force before the change, so it still names a real instant.
    """
    return local.replace(tzinfo=zone, fold=0).isoformat(timespec="seconds")


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def parse_attlog_line(line: str, *, serial: str, zone: ZoneInfo) -> Punch:
    """One tab-separated ATTLOG record: PIN, local time, status, verify, workcode, reserved fields."""
    fields = [part.strip() for part in line.split("\t")]
    if len(fields) < 2 or not fields[0]:
        raise ValueError("expected PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>status<TAB>verify<TAB>workcode")
    fields += [""] * (5 - len(fields))
    pin, when, status, verify, work_code = fields[:5]
    try:
        local = datetime.strptime(when, _LOCAL_FORMAT)
    except ValueError:
        raise ValueError(f"bad time {when!r} (expected YYYY-MM-DD HH:MM:SS)") from None
    return Punch(
        device_serial=serial,
        employee_code=pin,
        local_time=local.strftime(_LOCAL_FORMAT),
        timestamp=localize(local, zone),
        direction=direction_for_status(status),
        verify_mode=_int_or_none(verify),
        # Work code 0 is the firmware's "none".
        work_code=work_code if work_code not in ("", "0") else None,
    )


def parse_attlog(text: str, *, serial: str, zone: ZoneInfo) -> tuple[list[Punch], list[ParseError]]:
    """Every record of an ATTLOG body or file; blank lines are skipped, bad ones reported."""
    punches, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            punches.append(parse_attlog_line(line, serial=serial, zone=zone))
        except ValueError as exc:
            errors.append(ParseError(number, str(exc)))
    return punches, errors


def _parse_direction(value: str) -> str:
    value = value.strip().lower().replace("-", "_")
    if value in DIRECTIONS:
        return value
    if value == "":
        return "unknown"
    if value.isdigit():
        return direction_for_status(value)
    raise ValueError(f"bad direction {value!r} (expected one of {', '.join(DIRECTIONS)} or a ZKTeco status)")


def _parse_csv_time(value: str, zone: ZoneInfo) -> tuple[str, str]:
    """(local wall time, ISO timestamp with offset): an offset in the file wins over the device's zone."""
    value = value.strip().replace("T", " ")
    match = _OFFSET.search(value)
    try:
        if match:
            aware = datetime.fromisoformat(value.replace(" ", "T"))
            return aware.strftime(_LOCAL_FORMAT), aware.isoformat(timespec="seconds")
        local = datetime.strptime(value, _LOCAL_FORMAT)
    except ValueError:
        raise ValueError(f"bad timestamp {value!r} (expected YYYY-MM-DD HH:MM:SS, optionally with +HH:MM)") from None
    return local.strftime(_LOCAL_FORMAT), localize(local, zone)


def parse_csv(
    text: str, *, default_serial: str | None, zone_for: Callable[[str], ZoneInfo]
) -> tuple[list[Punch], list[ParseError]]:
    """A CSV with header `employeeCode,timestamp,direction[,deviceSerial]`; `default_serial` fills a missing serial."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        return [], [ParseError(1, f"the header lacks {', '.join(missing)}")]
    if "deviceSerial" not in header and not default_serial:
        return [], [ParseError(1, "no deviceSerial column: pass --device SERIAL")]
    reader.fieldnames = header
    punches, errors = [], []
    for row in reader:
        number = reader.line_num
        try:
            serial = (row.get("deviceSerial") or "").strip() or default_serial
            pin = (row.get("employeeCode") or "").strip()
            if not serial or not pin:
                raise ValueError("employeeCode and deviceSerial must not be empty")
            local_time, timestamp = _parse_csv_time(row.get("timestamp") or "", zone_for(serial))
            punches.append(Punch(serial, pin, local_time, timestamp, _parse_direction(row.get("direction") or "")))
        except ValueError as exc:
            errors.append(ParseError(number, str(exc)))
    return punches, errors
