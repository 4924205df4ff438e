"""``GET api/asset/?routeId=<path>&base64=<bool>``: files from the real ``CSWebAssets`` folder on disk.

A routeId is a relative path inside the folder. It is refused (400 ``invalid-routeId``) when it is empty,
absolute, contains ``..``, a backslash or a NUL, or resolves (through symlinks) outside the folder.
Tenant rule: when the first segment of the routeId, without its extension, is ``<SubscriptionID>-<BridgeID>``
of *another* subscription/bridge served by this simulator, the file is not served to this token
(404 ``asset-not-found``, as if it did not exist).
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path, PurePosixPath

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from .context import simulator
from .errors import EbsError
from .tokens import Session, bearer

bp = Blueprint("sim_assets", __name__, url_prefix="/api/asset")

_DRIVE = re.compile(r"^[A-Za-z]:")
_TRUE = {"true", "1", "yes", "on"}


def _invalid(route_id: str) -> EbsError:
    return EbsError(400, "invalid-routeId", f"Asset route [{route_id}] is not valid")


def safe_relative_path(route_id: str) -> PurePosixPath:
    """Parse a routeId into a relative path with no ``..``; raise ``invalid-routeId`` otherwise."""
    if not route_id or "\\" in route_id or "\x00" in route_id or _DRIVE.match(route_id):
        raise _invalid(route_id)
    path = PurePosixPath(route_id)
    if path.is_absolute() or any(part in ("..", "") for part in route_id.split("/")) or path.name in ("", "."):
        raise _invalid(route_id)
    return path


def resolve_asset(folder: Path, route_id: str) -> Path:
    """The file a routeId names inside ``folder``; refuses anything that resolves outside it."""
    relative = safe_relative_path(route_id)
    root = folder.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise _invalid(route_id)
    return target


def _belongs_elsewhere(session: Session, route_id: str) -> bool:
    first = route_id.split("/", 1)[0]
    stem = first.split(".", 1)[0].lower()
    own = f"{session.subscription.id}-{session.bridge.id}".lower()
    others = {f"{s.id}-{b.id}".lower() for s, b in simulator().config.bridge_pairs()} - {own}
    return stem in others


@bp.get("/")
@bp.get("")
@bearer
def get_asset(session: Session) -> ResponseReturnValue:
    """Serve one file: raw bytes by default, or a JSON string of base64 when ``base64=true``."""
    route_id = request.args.get("routeId", "")
    target = resolve_asset(simulator().assets_dir, route_id)
    if _belongs_elsewhere(session, route_id) or not target.is_file():
        raise EbsError(404, "asset-not-found", f"Asset [{route_id}] not found")
    data = target.read_bytes()
    if request.args.get("base64", "false").lower() in _TRUE:
        return jsonify(base64.b64encode(data).decode("ascii"))
    mimetype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    if mimetype.startswith("text/") or mimetype == "application/json":
        response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    return response
