"""``GET /``: a read-only page that shows what the cloud did to this ERP; ``GET /_sim/healthz``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from . import state
from .companyparams import bridge_params, is_secret_param
from .context import db, simulator
from .payroll import punch_record

bp = Blueprint("sim_page", __name__, template_folder="templates")

_PREVIEW_BYTES = 120
EVENT_TYPES = {0: "info", 1: "warning", 2: "error", 3: "fatal"}


def mask(value: str) -> str:
    """Hide all but the last 4 characters of a secret value."""
    if len(value) <= 4:
        return "•" * len(value)
    return "•" * 8 + value[-4:]


def _asset_files(folder: Path) -> list[dict[str, Any]]:
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        size = path.stat().st_size
        preview = None
        if size <= _PREVIEW_BYTES and path.suffix.lower() in {".txt", ".json"}:
            preview = path.read_bytes().decode("utf-8", errors="replace")
        files.append({"route_id": path.relative_to(folder).as_posix(), "size": size, "preview": preview})
    return files


def _bridge_view(subscription: Any, bridge: Any) -> dict[str, Any]:
    params = []
    for param in bridge_params((subscription, bridge)).values():
        value = mask(param["Value"]) if is_secret_param(param["ID"]) else param["Value"]
        params.append({**param, "Shown": value})
    keys = {"subscription_id": subscription.id, "bridge_id": bridge.id}
    punches = [punch_record(row, bridge.employees) for row in state.list_punches(db(), **keys)]
    events = state.list_events(db(), **keys)
    return {"subscription": subscription, "bridge": bridge, "params": params, "punches": punches, "events": events}


@bp.get("/")
def index() -> ResponseReturnValue:
    """Company parameters, CSWebAssets files, punches and event log of every bridge."""
    sim = simulator()
    bridges = [_bridge_view(s, b) for s, b in sim.config.bridge_pairs()]
    return render_template(
        "simulator_index.html",
        bridges=bridges,
        files=_asset_files(sim.assets_dir),
        assets_dir=sim.assets_dir,
        event_types=EVENT_TYPES,
    )


@bp.get("/_sim/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: the app answers and its state database can be read."""
    db().execute("SELECT 1").fetchone()
    return jsonify({"status": "ok"})
