"""The agent's settings: the shipped file, overrides, validation, and where the API key may come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudstore.agent.config import AgentConfig, ConfigError, default_config_path, load_config


def test_the_shipped_config_loads_with_safe_defaults(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CLOUDSTORE_AGENT_API_KEY", raising=False)

    config = load_config(default_config_path())

    assert (config.listen_host, config.listen_port, config.batch_size) == ("127.0.0.1", 8081, 500)
    assert config.timezone == "Europe/Athens" and config.api_key is None
    assert config.device("ANY1").device_code == "ANY1"


def test_environment_overrides_the_file_and_the_key_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "agent.toml"
    path.write_text('listen_port = 9000\n[devices.SN1]\ndevice_code = "EL-2"\ntimezone = "Europe/Bucharest"\n')
    monkeypatch.setenv("CLOUDSTORE_AGENT_LISTEN_PORT", "9100")
    monkeypatch.setenv("CLOUDSTORE_AGENT_BATCH_SIZE", "50")
    monkeypatch.setenv("CLOUDSTORE_AGENT_API_KEY", "csk_from_env")

    config = load_config(path, require_key=True)

    assert (config.listen_port, config.batch_size, config.api_key) == (9100, 50, "csk_from_env")
    assert config.device("SN1").device_code == "EL-2" and config.device("SN1").timezone == "Europe/Bucharest"


def test_a_key_file_wins_and_the_key_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLOUDSTORE_AGENT_API_KEY", "csk_from_env")
    key_file = tmp_path / "key"
    key_file.write_text("csk_from_file\n")
    key_file.chmod(0o600)

    config = load_config(default_config_path(), api_key_file=key_file)

    assert config.api_key == "csk_from_file"
    assert "csk_from_file" not in repr(config) and "api_key='***'" not in repr(config)
    assert "api_key=***" in repr(config)
    assert config.api_key_fingerprint.startswith("sha256:") and "csk" not in config.api_key_fingerprint


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("batch_size = 5000\n", "batch_size must be between 1 and 1000"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ('resource_api_url = "ftp://x"\n', "resource_api_url must be an http(s) URL"),
        ('api_key = "csk_in_file"\n', "unknown settings"),
        ("listen_port = 'x'\n", "listen_port"),
        ('[devices.SN1]\ncode = "EL-1"\n', "takes only device_code and timezone"),
        ('log_level = "LOUD"\n', "log_level must be"),
    ],
)
def test_invalid_settings_are_refused(tmp_path: Path, toml: str, message: str):
    path = tmp_path / "agent.toml"
    path.write_text(toml)

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


def test_run_without_a_key_fails_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CLOUDSTORE_AGENT_API_KEY", raising=False)

    with pytest.raises(ConfigError, match="set CLOUDSTORE_AGENT_API_KEY or pass --api-key-file"):
        load_config(default_config_path(), require_key=True)
    assert AgentConfig().api_key is None
