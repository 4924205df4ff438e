"""The services' own OAuth clients and the catalogue apps' clients for a local stack: created once, their
secrets kept in ./var/secrets/.

Production creates them with `cloudstore clients create --internal ...` (and `... --app CODE` for an app) and
passes the secrets to the services through their environment (`<SERVICE>_CLIENT_ID`, `<SERVICE>_CLIENT_SECRET`,
and `RESOURCE_API_APP_CLIENTS`, a JSON object of app code to `{"client_id": ..., "client_secret": ...}`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cloudstore.services import service_app
from shared.config import var_dir

__all__ = ["INTERNAL_CLIENTS", "app_clients_env", "ensure_app_clients", "ensure_internal_clients"]

# service -> (scope, audience) of the client it calls other services with.
INTERNAL_CLIENTS = {
    "authserver": ("gateway:bridges gateway:relay resource:admin", "bridge_gateway resource_api"),
    "resource_api": ("gateway:relay", "bridge_gateway"),
}


def _store(name: str = "internal-clients") -> Path:
    return var_dir() / "secrets" / f"{name}.json"


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
            elif (row.scope, row.audience) != (scope, audience):
                # A stack made by an older version: give the client what this version's services ask for.
                row.scope, row.audience = scope, audience
                db.session.commit()
        db.engine.dispose()
    _write(path, stored)
    env = {}
    for service, credentials in stored.items():
        env[f"{service.upper()}_CLIENT_ID"] = credentials["client_id"]
        env[f"{service.upper()}_CLIENT_SECRET"] = credentials["client_secret"]
    return env


def app_clients_env(stored: dict[str, dict[str, str]]) -> dict[str, str]:
    """The resource API's environment naming the apps' clients (one JSON variable, read by Flask as a dict)."""
    return {"RESOURCE_API_APP_CLIENTS": json.dumps(stored, sort_keys=True)}


def ensure_app_clients(resource_api_url: str | None = None) -> dict[str, str]:
    """Make sure each app served by the resource API at `resource_api_url` (default: the auth server's
    RESOURCE_API_URL) has its OIDC client, keep the secrets in ./var/secrets/app-clients.json, and return the
    resource API's environment that names them."""
    from authserver.extensions import db
    from authserver.store.catalogue.app_clients import ensure_app_clients as ensure

    path = _store("app-clients")
    stored: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    held = {code: (item.get("client_id", ""), item.get("client_secret", "")) for code, item in stored.items()}
    app = service_app("authserver")
    with app.app_context():
        try:
            base = resource_api_url or str(app.config["RESOURCE_API_URL"])
            clients = ensure(session=db.session, resource_api_url=base, held=held)
        finally:
            db.session.remove()
            db.engine.dispose()
    stored = {code: {"client_id": c.client_id, "client_secret": c.client_secret} for code, c in clients.items()}
    _write(path, stored)
    return app_clients_env(stored)
