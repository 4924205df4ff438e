"""The durable spool: punches and seen devices in SQLite (WAL, synchronous=FULL), one row per punch identity."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloudstore.agent.attlog import Punch

__all__ = ["DeviceRow", "RejectedRow", "Spool", "SpooledPunch"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    serial TEXT PRIMARY KEY,
    ip TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    punches_received INTEGER NOT NULL DEFAULT 0,
    attlog_stamp TEXT
);
CREATE TABLE IF NOT EXISTS punches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_serial TEXT NOT NULL,
    employee_code TEXT NOT NULL,
    local_time TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    direction TEXT NOT NULL,
    verify_mode INTEGER,
    work_code TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uploaded', 'rejected')),
    received_at TEXT NOT NULL,
    done_at TEXT,
    batch_id TEXT,
    error TEXT,
    UNIQUE (device_serial, employee_code, local_time)
);
CREATE INDEX IF NOT EXISTS punches_by_state ON punches (state, device_serial, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class SpooledPunch:
    """A punch with its spool id."""

    id: int
    punch: Punch


@dataclass(frozen=True)
class DeviceRow:
    """A clock the agent has heard from (or imported a file for)."""

    serial: str
    ip: str | None
    first_seen: str
    last_seen: str | None
    punches_received: int
    pending: int


@dataclass(frozen=True)
class RejectedRow:
    """A punch the cloud refused, with its reason."""

    id: int
    punch: Punch
    error: str
    rejected_at: str


class Spool:
    """One SQLite file under `directory`; safe to share between the listener and the uploader threads."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "spool.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=15)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is fsync'd before we answer OK to a clock, so a power cut cannot lose it.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _touch(self, db: sqlite3.Connection, serial: str, ip: str | None, now: str) -> None:
        db.execute(
            "INSERT INTO devices (serial, ip, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (serial) DO UPDATE SET ip = coalesce(excluded.ip, ip), "
            "last_seen = coalesce(excluded.last_seen, last_seen)",
            (serial, ip, now, now if ip else None),
        )

    def record_contact(self, serial: str, ip: str | None) -> None:
        """Register a device as seen now, from `ip`."""
        with self._write() as db:
            self._touch(db, serial, ip, _now())

    def add_punches(self, punches: list[Punch], *, ip: str | None = None, stamp: str | None = None) -> tuple[int, int]:
        """Store punches durably in one transaction; return (new, already spooled)."""
        now, new = _now(), 0
        with self._write() as db:
            for serial in dict.fromkeys(p.device_serial for p in punches):
                self._touch(db, serial, ip, now)
            for p in punches:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO punches (device_serial, employee_code, local_time, timestamp, direction, "
                    "verify_mode, work_code, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*astuple(p), now),
                )
                if cursor.rowcount:
                    new += 1
                    db.execute(
                        "UPDATE devices SET punches_received = punches_received + 1 WHERE serial = ?",
                        (p.device_serial,),
                    )
            if stamp is not None and punches:
                db.execute("UPDATE devices SET attlog_stamp = ? WHERE serial = ?", (stamp, punches[0].device_serial))
        return new, len(punches) - new

    def attlog_stamp(self, serial: str) -> str | None:
        """The last ATTLOG stamp the device sent with records we stored."""
        rows = self._read("SELECT attlog_stamp FROM devices WHERE serial = ?", (serial,))
        return rows[0][0] if rows else None

    def next_batch(self, limit: int) -> list[SpooledPunch]:
        """Up to `limit` pending punches of the device with the oldest pending punch, in spool order."""
        rows = self._read(
            "SELECT id, device_serial, employee_code, local_time, timestamp, direction, verify_mode, work_code "
            "FROM punches WHERE state = 'pending' AND device_serial = "
            "(SELECT device_serial FROM punches WHERE state = 'pending' ORDER BY id LIMIT 1) ORDER BY id LIMIT ?",
            (limit,),
        )
        return [SpooledPunch(row[0], Punch(*row[1:])) for row in rows]

    def mark_uploaded(self, ids: list[int], *, batch_id: str) -> None:
        """Record that the cloud committed these punches."""
        now = _now()
        with self._write() as db:
            db.executemany(
                "UPDATE punches SET state = 'uploaded', done_at = ?, batch_id = ?, error = NULL WHERE id = ?",
                [(now, batch_id, i) for i in ids],
            )

    def mark_rejected(self, errors: dict[int, str]) -> None:
        """Move punches the cloud refused out of the queue, keeping the reason."""
        now = _now()
        with self._write() as db:
            db.executemany(
                "UPDATE punches SET state = 'rejected', done_at = ?, error = ? WHERE id = ? AND state = 'pending'",
                [(now, error, i) for i, error in errors.items()],
            )

    def requeue_rejected(self) -> int:
        """Put every rejected punch back in the queue (after fixing the cause); return how many."""
        with self._write() as db:
            return db.execute("UPDATE punches SET state = 'pending', done_at = NULL WHERE state = 'rejected'").rowcount

    def counts(self) -> dict[str, int]:
        """Punches per state."""
        counts = dict.fromkeys(("pending", "uploaded", "rejected"), 0)
        counts.update(dict(self._read("SELECT state, count(*) FROM punches GROUP BY state")))
        return counts

    def devices(self) -> list[DeviceRow]:
        """Every device seen, by serial."""
        rows = self._read(
            "SELECT d.serial, d.ip, d.first_seen, d.last_seen, d.punches_received, "
            "(SELECT count(*) FROM punches p WHERE p.device_serial = d.serial AND p.state = 'pending') "
            "FROM devices d ORDER BY d.serial"
        )
        return [DeviceRow(*row) for row in rows]

    def rejected(self) -> list[RejectedRow]:
        """Every rejected punch, oldest first."""
        rows = self._read(
            "SELECT id, device_serial, employee_code, local_time, timestamp, direction, verify_mode, work_code, "
            "error, done_at FROM punches WHERE state = 'rejected' ORDER BY id"
        )
        return [RejectedRow(row[0], Punch(*row[1:8]), row[8] or "", row[9] or "") for row in rows]

    def set_meta(self, **values: str | None) -> None:
        """Remember uploader facts (last upload, last error) for `status`."""
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def meta(self) -> dict[str, str]:
        """Every remembered uploader fact that has a value."""
        return {key: value for key, value in self._read("SELECT key, value FROM meta") if value is not None}

    def purge_uploaded(self, *, older_than_days: int) -> int:
        """Forget punches uploaded more than `older_than_days` ago; the cloud deduplicates any re-send."""
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self._write() as db:
            return db.execute("DELETE FROM punches WHERE state = 'uploaded' AND done_at < ?", (cutoff,)).rowcount
