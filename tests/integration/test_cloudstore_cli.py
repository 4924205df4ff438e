"""The `cloudstore` command's database and key commands, run as a user would."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from cloudstore.cli import main


@pytest.fixture
def runner(database_url, monkeypatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return CliRunner()


def test_db_upgrade_migrates_every_service_and_creates_first_keys(runner, database_url):
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"alembic_version_authserver", "alembic_version_resource_api", "alembic_version_bridge_gateway"} <= tables
    assert "signing_keys" in tables
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0, "upgrade must be idempotent"


def test_keys_rotate_prints_new_key_ids(runner):
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(main, ["keys", "rotate", "--alg", "ES256"])
    assert result.exit_code == 0, result.output
    assert result.output.count("new signing key") == 1
    assert "purged 0 expired key(s)" in result.output
