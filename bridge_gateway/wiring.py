"""Attach the gateway to its Flask app: parts, error rendering, OpenAPI, blueprints, audit, metrics."""

from __future__ import annotations

import atexit
import multiprocessing.util
import weakref

from flask import Flask

from bridge_gateway import audit as _audit_models  # noqa: F401 - registers the audit table
from bridge_gateway.audit import AuditWriter, install_audit
from bridge_gateway.auth import check_every_route_is_protected
from bridge_gateway.bridges import models as _bridge_models  # noqa: F401 - registers the bridges table
from bridge_gateway.bridges.views import bp as bridges_bp
from bridge_gateway.erp.views import bp as erp_bp
from bridge_gateway.errors import register_gateway_errors
from bridge_gateway.extensions import db
from bridge_gateway.metrics import bp as metrics_bp
from bridge_gateway.relay.views import bp as relay_bp
from bridge_gateway.runtime import Gateway, build_gateway
from shared.api import init_api

__all__ = ["init_gateway"]


def init_gateway(app: Flask) -> None:
    """Build the gateway from the app's config and register everything it serves."""
    with app.app_context():
        engine = db.engine
    audit = AuditWriter(
        engine,
        flush_seconds=float(app.config.get("AUDIT_FLUSH_SECONDS", 0.2)),
        max_pending=int(app.config.get("AUDIT_MAX_PENDING", 10_000)),
    )
    gateway = app.extensions["bridge_gateway"] = build_gateway(app, audit=audit)
    gateway.metrics.add_gauges(lambda: [("bridge_gateway_audit_dropped_total", (), float(audit.dropped))])
    register_gateway_errors(app)
    api = init_api(app, title="Cloud Store bridge gateway (internal API)")
    for blueprint in (bridges_bp, erp_bp, relay_bp):
        api.register_blueprint(blueprint)
    app.register_blueprint(metrics_bp)
    install_audit(app, (bridges_bp.name, erp_bp.name, relay_bp.name))
    check_every_route_is_protected(app)
    # Queued audit rows get written when a worker exits: through atexit (a process that exits normally), or
    # through multiprocessing's finalizers (granian's workers end with os._exit, which skips atexit).
    atexit.register(_close_if_alive, weakref.ref(gateway))
    multiprocessing.util.Finalize(None, _close_if_alive, args=(weakref.ref(gateway),), exitpriority=10)


def _close_if_alive(ref: weakref.ref[Gateway]) -> None:
    gateway = ref()
    if gateway is not None:
        gateway.close()
