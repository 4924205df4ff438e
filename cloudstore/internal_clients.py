"""The services' own OAuth clients for a local stack: created once, their secrets kept in ./var/secrets/.

Production creates them with `cloudstore clients create --internal ...` and passes the secrets to the
services through their environment (`<SERVICE>_CLIENT_ID`, `<SERVICE>_CLIENT_SECRET`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cloudstore.services import service_app
from shared.config import var_dir

__all__ = ["INTERNAL_CLIENTS", "ensure_internal_clients"]

# service -> (scope, audience) of the client it calls other services with.
INTERNAL_CLIENTS = {
    "authserver": ("gateway:bridges gateway:relay", "bridge_gateway"),
    "resource_api": ("gateway:relay", "bridge_gateway"),
}


def _store() -> Path:
    return var_dir() / "secrets" / "internal-clients.json"


def _write(path: Path, data: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def ensure_internal_clients() -> dict[str, str]:
    """Make sure each service's client exists with the stored secret; return the environment that names them."""
    from authserver.clients.models import OAuthClient
    from authserver.clients.service import create_client
    from authserver.extensions import db
    from shared.secrets import digests_match

    path = _store()
    stored: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    app = service_app("authserver")
    with app.app_context():
        for service, (scope, audience) in INTERNAL_CLIENTS.items():
            known = stored.get(service, {})
            row = db.session.get(OAuthClient, known.get("client_id", "")) if known else None
            if row is None or not digests_match(row.client_secret_digest or "", known.get("client_secret", "")):
                new = create_client(
                    session=db.session, name=f"{service} (internal)", scope=scope, audience=audience, is_internal=True
                )
                stored[service] = {"client_id": new.client.client_id, "client_secret": new.client_secret}
        db.engine.dispose()
    _write(path, stored)
    env = {}
    for service, credentials in stored.items():
        env[f"{service.upper()}_CLIENT_ID"] = credentials["client_id"]
        env[f"{service.upper()}_CLIENT_SECRET"] = credentials["client_secret"]
    return env
