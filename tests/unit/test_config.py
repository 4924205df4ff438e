"""shared.config: TOML, then environment, then overrides; required keys named at start-up."""

from __future__ import annotations

import pytest
from flask import Flask

from shared.config import ConfigError, load_config


@pytest.fixture
def config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "svc.toml").write_text('issuer = "from-toml"\nport = 1\nlist = ["a"]\n')
    monkeypatch.setenv("CLOUDSTORE_CONFIG_DIR", str(folder))
    return folder


def test_layers_apply_in_order(config_folder, monkeypatch):
    monkeypatch.setenv("SVC_PORT", "2")
    app = Flask("t")
    load_config(app, service="svc", overrides={"LIST": ["b"]})
    assert app.config["ISSUER"] == "from-toml"
    assert app.config["PORT"] == 2
    assert app.config["LIST"] == ["b"]


def test_database_url_defaults_to_sqlite_under_var(config_folder, _isolated_var_dir):
    app = Flask("t")
    load_config(app, service="svc")
    assert app.config["DATABASE_URL"] == f"sqlite:///{_isolated_var_dir / 'svc.db'}"


def test_plain_database_url_applies_and_prefixed_one_wins(config_folder, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://all")
    app = Flask("t")
    load_config(app, service="svc")
    assert app.config["DATABASE_URL"] == "postgresql://all"
    monkeypatch.setenv("SVC_DATABASE_URL", "postgresql://mine")
    app = Flask("t")
    load_config(app, service="svc")
    assert app.config["DATABASE_URL"] == "postgresql://mine"


def test_every_missing_key_is_listed(config_folder):
    with pytest.raises(ConfigError) as excinfo:
        load_config(Flask("t"), service="svc", required=("ISSUER", "ZED", "ALPHA"))
    assert "ALPHA, ZED" in str(excinfo.value) and "ISSUER" not in str(excinfo.value).split(":")[-1]
