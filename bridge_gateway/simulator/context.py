"""Per-application simulator state (config, folders, settings) and the per-request database connection."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, g

from . import state
from .config import ConfigError, SimulatorConfig, User, parse_user

EXTENSION = "ebs_simulator"


@dataclass(frozen=True)
class Simulator:
    config: SimulatorConfig
    data_dir: Path
    token_lifetime: float
    refresh_within_percent: float

    @property
    def db_path(self) -> Path:
        """The state database file."""
        return self.data_dir / "state.db"

    @property
    def assets_dir(self) -> Path:
        """The real ``CSWebAssets`` folder the asset call serves."""
        return self.data_dir / "CSWebAssets"


def simulator() -> Simulator:
    """The simulator of the current application."""
    return current_app.extensions[EXTENSION]


def db() -> sqlite3.Connection:
    """This request's own connection to the state database (closed when the request ends)."""
    if "sim_db" not in g:
        g.sim_db = state.open_connection(simulator().db_path)
    return g.sim_db


def close_db(_error: BaseException | None = None) -> None:
    """Close the request's connection, if one was opened."""
    conn = g.pop("sim_db", None)
    if conn is not None:
        conn.close()


def find_user(user_id: str) -> User | None:
    """Find an ERP user by id (case-insensitive): run-time additions override the config's users."""
    key = user_id.lower()
    for record in state.list_user_records(db()):
        if record.get("UserID", "").lower() == key:
            try:
                return parse_user(record, f"state user {user_id!r}")
            except ConfigError:
                return None
    return simulator().config.users.get(key)


def init_app(app: Flask, sim: Simulator) -> None:
    """Attach the simulator to an application and create its folders and database."""
    sim.assets_dir.mkdir(parents=True, exist_ok=True)
    state.init_db(sim.db_path)
    app.extensions[EXTENSION] = sim
    app.teardown_appcontext(close_db)
