"""Run inside the stack's environment (`python -m bench.stack.settle`), between the two tables: set the
benchmark's undelivered punches aside, then let the databases settle.

A table's punch rows leave hundreds of thousands of punches behind. The benchmark's tenant names a bridge the
gateway does not know (`bench.stack.provision`), so each delivery fails and is retried later, and every retry
pass rewrites its rows: work the outbox worker kept doing for minutes on the same two cores while the next
table was measured (the services got a fifth less of the machine). So the benchmark tenant's pending punches
are marked rejected, which ends the retries (nothing else is touched). They stay in the table: deleting them
left PostgreSQL's statistics describing a nearly empty table that then refilled its freed pages, and the
outbox worker's plans went wrong for the whole next table.

Then the maintenance a database does by itself after a bulk load is done now rather than during the next
table: on PostgreSQL a VACUUM ANALYZE (autovacuum would otherwise scan the seeded and rewritten tables while
they are measured) and a CHECKPOINT; on SQLite a checkpoint that empties the write-ahead log. Prints how many
punches were set aside.
"""

from __future__ import annotations

from sqlalchemy import Engine, text, update
from sqlalchemy.exc import DBAPIError

from bench.stack.provision import BENCH_TENANT
from bench.stack.up import SERVICES
from cloudstore.services import service_app


def _set_punches_aside() -> int:
    from resource_api.attendance.models import Punch
    from resource_api.extensions import db

    subscription, bridge = BENCH_TENANT["subscription_id"], BENCH_TENANT["bridge_id"]
    app = service_app("resource_api")
    with app.app_context():
        punches = db.session.execute(
            update(Punch)
            .where(Punch.subscription_id == subscription, Punch.bridge_id == bridge, Punch.state == "pending")
            .values(state="rejected", last_error="set aside by the benchmark")
        ).rowcount
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
    """Set the benchmark's punches aside, settle every service's database, print how many punches."""
    set_aside = _set_punches_aside()
    settled: set[str] = set()
    for service in SERVICES:
        app = service_app(service)
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine
            if (url := engine.url.render_as_string()) not in settled:
                settled.add(url)
                _maintain(engine)
            engine.dispose()
    print(set_aside)


if __name__ == "__main__":
    main()
