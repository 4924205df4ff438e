"""The ZKTeco ADMS ("iclock") push protocol over HTTP: handshake, ATTLOG uploads and command polling."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from cloudstore.agent.attlog import parse_attlog
from cloudstore.agent.config import AgentConfig
from cloudstore.agent.spool import Spool

__all__ = ["create_app", "handshake_options"]

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024
_SERIAL = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Older firmwares add ".aspx" to every path.
_URLS = Map(
    [
        Rule(f"/iclock/{name}{suffix}", endpoint=name)
        for name in ("cdata", "getrequest", "devicecmd")
        for suffix in ("", ".aspx")
    ]
)


class _ClockRequest(Request):
    max_content_length = MAX_BODY


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def _utc_offset_hours(config: AgentConfig, serial: str) -> str:
    offset = datetime.now(config.device(serial).zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset else 0.0
    return str(int(hours)) if hours.is_integer() else str(hours)


def handshake_options(config: AgentConfig, serial: str, attlog_stamp: str | None) -> str:
    """The options a server answers to `GET /iclock/cdata?SN=…&options=all`.

    ATTLOGStamp tells the clock which records we already hold; OPERLOG and photos are of no use to us, so their
    stamps say "nothing wanted". TransFlag=1111000000 asks for attendance logs, operation logs, photos and
    enrolment data; Realtime=1 makes the clock send each punch as it happens.
    """
    lines = [
        f"GET OPTION FROM: {serial}",
        f"ATTLOGStamp={attlog_stamp or 'None'}",
        "OPERLOGStamp=9999",
        "ATTPHOTOStamp=9999",
        "ErrorDelay=30",
        "Delay=10",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=1111000000",
        f"TimeZone={_utc_offset_hours(config, serial)}",
        "Realtime=1",
        "Encrypt=0",
    ]
    return "\n".join(lines) + "\n"


class IClockApp:
    """A WSGI app answering clocks as they expect; every ATTLOG record is spooled before the clock hears OK."""

    def __init__(self, *, spool: Spool, config: AgentConfig, on_punches: Callable[[], None] | None = None) -> None:
        self.spool, self.config, self.on_punches = spool, config, on_punches

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _ClockRequest(environ)
        try:
            endpoint, _ = _URLS.bind_to_environ(environ).match()
            response = self.dispatch(endpoint, request)
        except HTTPException as exc:
            response = _text(f"{exc.code} {exc.name}\n", exc.code or 500)
        except sqlite3.Error:
            # No OK means the clock keeps the records and sends them again after ErrorDelay.
            log.exception("spool write failed")
            response = _text("ERROR: spool unavailable\n", 503)
        return response(environ, start_response)

    def dispatch(self, endpoint: str, request: Request) -> Response:
        """Route one clock request."""
        serial = request.args.get("SN", "")
        if not _SERIAL.match(serial):
            return _text("ERROR: missing or invalid SN\n", 400)
        ip = request.remote_addr
        if endpoint == "cdata" and request.method == "GET":
            self.spool.record_contact(serial, ip)
            log.info("handshake from device %s at %s", serial, ip)
            return _text(handshake_options(self.config, serial, self.spool.attlog_stamp(serial)))
        if endpoint == "cdata" and request.method == "POST":
            return self.receive_table(serial, ip, request)
        if endpoint == "getrequest" and request.method == "GET":
            self.spool.record_contact(serial, ip)
            return _text("OK")
        if endpoint == "devicecmd" and request.method == "POST":
            self.spool.record_contact(serial, ip)
            return _text("OK")
        return _text("ERROR: method not allowed\n", 405)

    def receive_table(self, serial: str, ip: str | None, request: Request) -> Response:
        """`POST cdata?table=…`: spool ATTLOG records, then answer `OK: <n>`; other tables are acknowledged only."""
        table = request.args.get("table", "").upper()
        if table != "ATTLOG":
            self.spool.record_contact(serial, ip)
            return _text("OK")
        text = request.get_data().decode("utf-8", errors="replace")
        punches, errors = parse_attlog(text, serial=serial, zone=self.config.device(serial).zone)
        for error in errors:
            log.warning("device %s sent an unreadable ATTLOG record, skipped: %s", serial, error)
        new, duplicates = self.spool.add_punches(punches, ip=ip, stamp=request.args.get("Stamp"))
        if not punches:
            self.spool.record_contact(serial, ip)
        log.info("device %s: %d punch(es) spooled, %d already held", serial, new, duplicates)
        if new and self.on_punches:
            self.on_punches()
        return _text(f"OK: {len(punches)}")


def create_app(*, spool: Spool, config: AgentConfig, on_punches: Callable[[], None] | None = None) -> IClockApp:
    """Build the clock-facing WSGI app."""
    return IClockApp(spool=spool, config=config, on_punches=on_punches)
