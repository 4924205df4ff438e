"""Run inside the stack's environment (`python -m bench.stack.provision`): register the benchmark's client.

It goes through the auth server's own client service, as `cloudstore clients create` does, because the client
carries the demo tenant's claims (subscription and bridge), which the resource API requires of a clock agent.
Prints the client's id and secret as JSON.
"""

from __future__ import annotations

import json

from cloudstore.services import service_app

# The demo subscription with a bridge the gateway does not know: the outbox worker's deliveries of the
# benchmark's punches fail fast and back off, instead of loading the machine while later scenarios run.
BENCH_TENANT = {
    "subscription_id": "demo",
    "bridge_id": "Bench_001",
    "subscription_gid": "3f2b8c1e-0000-4000-8000-000000000001",
}


def main() -> None:
    """Create the benchmark client and print its credentials."""
    from authserver.clients.service import create_client
    from authserver.extensions import db

    app = service_app("authserver")
    with app.app_context():
        new = create_client(
            session=db.session,
            name="benchmark clock agent",
            scope="attendance:write",
            audience="resource_api",
            **BENCH_TENANT,
        )
        db.engine.dispose()
    print(json.dumps({"client_id": new.client.client_id, "client_secret": new.client_secret}))


if __name__ == "__main__":
    main()
