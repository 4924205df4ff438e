"""Run inside the stack's environment (`python -m bench.stack.settle`), between the two tables: clear the
benchmark's punches, then let the databases settle.

A table's punch rows leave about a million punches behind. The benchmark's tenant names a bridge the gateway
does not know (`bench.stack.provision`), so each delivery fails and is retried later, and every retry pass
rewrites its rows: work the outbox worker kept doing for minutes on the same two cores while the next table
was measured (the services got a fifth less of the machine). And a million more rows in the punch table's
indexes make the next table's inserts measure the table's growth, not the seeded data. So the benchmark
tenant's punches and batches are deleted (nothing else is touched).

Then the maintenance a database does by itself after a bulk load is done now rather than during the next
table: on PostgreSQL a VACUUM ANALYZE (autovacuum would otherwise scan the seeded and cleared tables while
they are measured) and a CHECKPOINT; on SQLite a checkpoint that empties the write-ahead log. Prints how many
punches were cleared.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, text
from sqlalchemy.exc import DBAPIError

from bench.stack.provision import BENCH_TENANT
from bench.stack.up import SERVICES
from cloudstore.services import service_app


def _clear_punches() -> int:
    from resource_api.attendance.models import Punch, PunchBatch
    from resource_api.extensions import db

    subscription, bridge = BENCH_TENANT["subscription_id"], BENCH_TENANT["bridge_id"]
    app = service_app("resource_api")
    with app.app_context():
        punches = db.session.execute(
            delete(Punch).where(Punch.subscription_id == subscription, Punch.bridge_id == bridge)
        ).rowcount
        db.session.execute(
            delete(PunchBatch).where(PunchBatch.subscription_id == subscription, PunchBatch.bridge_id == bridge)
        )
        db.session.commit()
        db.engine.dispose()
    return int(punches)


def _maintain(engine: Engine) -> None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return
        connection.execute(text("VACUUM ANALYZE"))
        try:
            connection.execute(text("CHECKPOINT"))
        except DBAPIError:  # only a superuser (or pg_checkpoint) may; the VACUUM was the larger part
            pass


def main() -> None:
    """Clear the benchmark's punches, settle every service's database, print how many punches."""
    cleared = _clear_punches()
    settled: set[str] = set()
    for service in SERVICES:
        app = service_app(service)
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine
            if (url := engine.url.render_as_string()) not in settled:
                settled.add(url)
                _maintain(engine)
            engine.dispose()
    print(cleared)


if __name__ == "__main__":
    main()
