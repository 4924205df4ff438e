"""Run inside the stack's environment (`python -m bench.stack.settle`): clear the benchmark's punches before the
next table.

A table's punch rows leave about a million punches behind. The benchmark's tenant names a bridge the gateway
does not know (`bench.stack.provision`), so each delivery fails and is retried later, and every retry pass
rewrites its rows: work the outbox worker kept doing for minutes on the same two cores while the next table
was measured (the services got a fifth less of the machine). And a million more rows in the punch table's
indexes make the next table's inserts measure the table's growth, not the seeded data. So the benchmark
tenant's punches and batches are deleted (nothing else is touched), and the next table starts from the punch
table the first one found. Prints how many punches.
"""

from __future__ import annotations

from sqlalchemy import delete

from bench.stack.provision import BENCH_TENANT
from cloudstore.services import service_app


def main() -> None:
    """Delete the benchmark tenant's punches and batches; print how many punches there were."""
    from resource_api.attendance.models import Punch, PunchBatch
    from resource_api.extensions import db

    tenant = BENCH_TENANT["subscription_id"], BENCH_TENANT["bridge_id"]
    app = service_app("resource_api")
    with app.app_context():
        punches = db.session.execute(
            delete(Punch).where(Punch.subscription_id == tenant[0], Punch.bridge_id == tenant[1])
        ).rowcount
        db.session.execute(
            delete(PunchBatch).where(PunchBatch.subscription_id == tenant[0], PunchBatch.bridge_id == tenant[1])
        )
        db.session.commit()
        db.engine.dispose()
    print(punches)


if __name__ == "__main__":
    main()
