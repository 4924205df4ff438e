"""The simulator's state database (SQLite, WAL): tokens, added users, company parameters, punches, events.

Each request opens its own connection (see ``open_connection``), so the threaded server never shares one
between threads; WAL and a busy timeout let readers and the single writer work side by side.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY, subscription_id TEXT NOT NULL, bridge_id TEXT NOT NULL,
    user_id TEXT NOT NULL, branch_id TEXT NOT NULL, lang_id TEXT NOT NULL,
    issued_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS users (user_key TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS company_params (
    subscription_id TEXT NOT NULL, bridge_id TEXT NOT NULL, param_key TEXT NOT NULL,
    param_id TEXT NOT NULL, group_id TEXT NOT NULL, description TEXT NOT NULL, value TEXT NOT NULL,
    es_type TEXT NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL,
    PRIMARY KEY (subscription_id, bridge_id, param_key));
CREATE TABLE IF NOT EXISTS punches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id TEXT NOT NULL, bridge_id TEXT NOT NULL,
    punch_id TEXT NOT NULL, device_code TEXT NOT NULL, employee_code TEXT NOT NULL,
    timestamp TEXT NOT NULL, direction TEXT NOT NULL, verify_mode TEXT, work_code TEXT,
    received_at TEXT NOT NULL, received_by TEXT NOT NULL,
    UNIQUE (subscription_id, bridge_id, punch_id));
CREATE TABLE IF NOT EXISTS event_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id TEXT NOT NULL, bridge_id TEXT NOT NULL,
    event_id TEXT NOT NULL, description TEXT NOT NULL, type_id INTEGER NOT NULL,
    user_id TEXT NOT NULL, logged_at TEXT NOT NULL);
"""


def now_iso() -> str:
    """The current UTC time as ISO 8601 with an offset."""
    return datetime.now(UTC).isoformat()


def open_connection(path: Path) -> sqlite3.Connection:
    """Open a connection in autocommit mode with a busy timeout; rows behave like dicts."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def init_db(path: Path) -> None:
    """Create the database file and its tables, and switch it to WAL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = open_connection(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_SCHEMA)
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block as one write transaction (taken at once, so read-then-write cannot race)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# tokens ---------------------------------------------------------------------------------------------


def save_token(conn: sqlite3.Connection, *, digest: str, session: dict[str, Any]) -> None:
    """Store a token (by its SHA-256 digest) with its subscription, bridge, user and lifetime."""
    conn.execute(
        "INSERT INTO tokens VALUES (:digest, :subscription_id, :bridge_id, :user_id, :branch_id,"
        " :lang_id, :issued_at, :expires_at)",
        {"digest": digest, **session},
    )


def find_token(conn: sqlite3.Connection, *, digest: str) -> dict[str, Any] | None:
    """Return a stored token's session, or None."""
    row = conn.execute("SELECT * FROM tokens WHERE digest = ?", (digest,)).fetchone()
    return dict(row) if row else None


def delete_token(conn: sqlite3.Connection, *, digest: str) -> None:
    """Forget a token (logout)."""
    conn.execute("DELETE FROM tokens WHERE digest = ?", (digest,))


def count_live_tokens(conn: sqlite3.Connection, *, subscription_id: str, bridge_id: str, now: float) -> int:
    """How many unexpired tokens a bridge has (the simulator's "Web" channel user count)."""
    row = conn.execute(
        "SELECT COUNT(*) FROM tokens WHERE subscription_id = ? AND bridge_id = ? AND expires_at > ?",
        (subscription_id, bridge_id, now),
    ).fetchone()
    return int(row[0])


def purge_tokens(conn: sqlite3.Connection, *, expired_before: float) -> None:
    """Drop tokens that expired long ago (recently expired ones stay, to answer ``expired-webapi-token``)."""
    conn.execute("DELETE FROM tokens WHERE expires_at < ?", (expired_before,))


# users ----------------------------------------------------------------------------------------------


def save_user(conn: sqlite3.Connection, *, record: dict[str, Any]) -> None:
    """Add or replace a user record (it overrides a config user with the same UserID)."""
    conn.execute(
        "INSERT OR REPLACE INTO users VALUES (?, ?)",
        (record["UserID"].lower(), json.dumps(record, ensure_ascii=False)),
    )


def list_user_records(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every user record added at run time."""
    return [json.loads(row["record"]) for row in conn.execute("SELECT record FROM users ORDER BY user_key")]


# company parameters ---------------------------------------------------------------------------------


def set_company_param(
    conn: sqlite3.Connection, *, subscription_id: str, bridge_id: str, param: dict[str, str], user_id: str
) -> None:
    """Write one company parameter of a bridge."""
    conn.execute(
        "INSERT OR REPLACE INTO company_params VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            subscription_id,
            bridge_id,
            param["ID"].lower(),
            param["ID"],
            param["GroupID"],
            param["Description"],
            param["Value"],
            param.get("ESType", "String"),
            now_iso(),
            user_id,
        ),
    )


def delete_company_param(conn: sqlite3.Connection, *, subscription_id: str, bridge_id: str, param_id: str) -> bool:
    """Remove one company parameter of a bridge; tell whether it existed."""
    cursor = conn.execute(
        "DELETE FROM company_params WHERE subscription_id = ? AND bridge_id = ? AND param_key = ?",
        (subscription_id, bridge_id, param_id.lower()),
    )
    return cursor.rowcount > 0


def list_company_params(conn: sqlite3.Connection, *, subscription_id: str, bridge_id: str) -> list[dict]:
    """The company parameters written to a bridge at run time."""
    rows = conn.execute(
        "SELECT * FROM company_params WHERE subscription_id = ? AND bridge_id = ? ORDER BY param_key",
        (subscription_id, bridge_id),
    )
    return [dict(row) for row in rows]


# payroll punches ------------------------------------------------------------------------------------


def insert_punch(conn: sqlite3.Connection, *, punch: dict[str, Any]) -> bool:
    """Store a punch once per (subscription, bridge, PunchID); tell whether it was new."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO punches (subscription_id, bridge_id, punch_id, device_code, employee_code,"
        " timestamp, direction, verify_mode, work_code, received_at, received_by) VALUES (:subscription_id,"
        " :bridge_id, :punch_id, :device_code, :employee_code, :timestamp, :direction, :verify_mode,"
        " :work_code, :received_at, :received_by)",
        punch,
    )
    return cursor.rowcount == 1


def list_punches(
    conn: sqlite3.Connection, *, subscription_id: str | None = None, bridge_id: str | None = None
) -> list[dict[str, Any]]:
    """Received punches, oldest first, for one bridge or (with no filter) for all."""
    sql, args = "SELECT * FROM punches", ()
    if subscription_id is not None and bridge_id is not None:
        sql, args = sql + " WHERE subscription_id = ? AND bridge_id = ?", (subscription_id, bridge_id)
    return [dict(row) for row in conn.execute(sql + " ORDER BY seq", args)]


# event log ------------------------------------------------------------------------------------------


def add_event(conn: sqlite3.Connection, *, event: dict[str, Any]) -> int:
    """Append an event-log entry and return its sequence number."""
    cursor = conn.execute(
        "INSERT INTO event_log (subscription_id, bridge_id, event_id, description, type_id, user_id, logged_at)"
        " VALUES (:subscription_id, :bridge_id, :event_id, :description, :type_id, :user_id, :logged_at)",
        event,
    )
    return int(cursor.lastrowid or 0)


def list_events(
    conn: sqlite3.Connection, *, subscription_id: str | None = None, bridge_id: str | None = None
) -> list[dict[str, Any]]:
    """Event-log entries, oldest first, for one bridge or (with no filter) for all."""
    sql, args = "SELECT * FROM event_log", ()
    if subscription_id is not None and bridge_id is not None:
        sql, args = sql + " WHERE subscription_id = ? AND bridge_id = ?", (subscription_id, bridge_id)
    return [dict(row) for row in conn.execute(sql + " ORDER BY seq", args)]
