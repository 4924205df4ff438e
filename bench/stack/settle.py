"""Run inside the stack's environment (`python -m bench.stack.settle`): set the benchmark's undelivered punches
aside before the next table.

A table's punch rows leave hundreds of thousands of punches for the outbox worker to deliver. The benchmark's
tenant names a bridge the gateway does not know (`bench.stack.provision`), so every delivery fails and is
retried later, and each retry pass rewrites its rows: work the worker kept doing for minutes, on the same two
cores, while the next table was measured (the services then got a fifth less of the machine). Marking the
benchmark tenant's pending punches rejected ends those retries; nothing else is touched. Prints how many.
"""

from __future__ import annotations

from sqlalchemy import update

from bench.stack.provision import BENCH_TENANT
from cloudstore.services import service_app

REASON = "set aside by the benchmark"


def main() -> None:
    """Reject the benchmark tenant's pending punches and print how many there were."""
    from resource_api.attendance.models import Punch
    from resource_api.extensions import db

    app = service_app("resource_api")
    with app.app_context():
        result = db.session.execute(
            update(Punch)
            .where(
                Punch.subscription_id == BENCH_TENANT["subscription_id"],
                Punch.bridge_id == BENCH_TENANT["bridge_id"],
                Punch.state == "pending",
            )
            .values(state="rejected", last_error=REASON)
        )
        db.session.commit()
        db.engine.dispose()
    print(result.rowcount)


if __name__ == "__main__":
    main()
