"""The outbox worker loop: deliver due punches until told to stop."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from resource_api.extensions import db
from resource_api.outbox.gateway import PayrollGateway
from resource_api.outbox.service import deliver_due
from shared.service_auth import ServiceTokenClient

__all__ = ["payroll_gateway", "run_worker"]

log = logging.getLogger(__name__)


def payroll_gateway(app: Flask) -> PayrollGateway:
    """The gateway client, authenticated with this service's own client credentials."""
    base = app.config["AUTH_SERVER_URL"].rstrip("/")
    tokens = ServiceTokenClient(
        f"{base}/oauth/token",
        app.config.get("CLIENT_ID") or "",
        app.config.get("CLIENT_SECRET") or "",
        scope="gateway:relay",
        audience="bridge_gateway",
    )
    return PayrollGateway(gateway_url=app.config["GATEWAY_URL"], token=tokens.token)


def run_worker(app: Flask, *, stop: threading.Event, gateway: PayrollGateway | None = None) -> None:
    """Deliver punches in passes; sleep `OUTBOX_IDLE_SECONDS` when a pass found nothing to do."""
    gateway = gateway or payroll_gateway(app)
    idle = float(app.config.get("OUTBOX_IDLE_SECONDS", 1.0))
    batch_size = int(app.config.get("OUTBOX_BATCH_SIZE", 500))
    with app.app_context():
        while not stop.is_set():
            try:
                report = deliver_due(session=db.session, gateway=gateway, batch_size=batch_size)
            except Exception:
                log.exception("outbox pass failed")
                db.session.rollback()
                stop.wait(idle)
                continue
            if report.delivered or report.rejected or report.deferred:
                log.info(
                    "outbox: delivered %d, rejected %d, deferred %d", report.delivered, report.rejected, report.deferred
                )
            else:
                stop.wait(idle)
        db.session.remove()
