"""`cloudstore agent`: run the clock connector, import files, and inspect its spool."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from cloudstore.agent.attlog import parse_attlog, parse_csv
from cloudstore.agent.config import AgentConfig, ConfigError, load_config
from cloudstore.agent.spool import Spool

__all__ = ["agent_group"]

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_MAX_ERRORS_SHOWN = 20


class _RedactFilter(logging.Filter):
    """Belt and braces: replace the API key in any record, should one ever carry it."""

    def __init__(self, secret: str | None) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            message = record.getMessage()
            if self.secret in message:
                record.msg, record.args = message.replace(self.secret, "***"), ()
        return True


def _configure_logging(config: AgentConfig) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(_RedactFilter(config.api_key))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(config.log_level.upper())
    # One line per clock poll every few seconds is noise unless debugging.
    if config.log_level.upper() != "DEBUG":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _load(config_path: Path | None, api_key_file: Path | None = None, *, require_key: bool = False) -> AgentConfig:
    try:
        return load_config(config_path, api_key_file=api_key_file, require_key=require_key)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _config_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        envvar="CLOUDSTORE_AGENT_CONFIG",
        help="The agent's TOML settings (default: config/agent.toml).",
    )(f)


def _key_file_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--api-key-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A file holding the API key (else CLOUDSTORE_AGENT_API_KEY).",
    )(f)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(h) for h in headers]] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())


@click.group("agent")
def agent_group() -> None:
    """The on-premises clock connector: ZKTeco clocks (ADMS push) to the resource API."""


@agent_group.command("run")
@_config_option
@_key_file_option
def run(config_path: Path | None, api_key_file: Path | None) -> None:
    """Listen for clocks and upload their punches until SIGTERM or SIGINT."""
    from cloudstore.agent.runtime import Agent, run_until_signalled

    config = _load(config_path, api_key_file, require_key=True)
    _configure_logging(config)
    try:
        agent = Agent(config)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {config.listen_host}:{config.listen_port}: {exc.strerror}"
        ) from None
    run_until_signalled(agent)


@agent_group.command("devices")
@_config_option
def devices(config_path: Path | None) -> None:
    """The clocks the agent has seen."""
    config = _load(config_path)
    spool = Spool(config.spool_dir)
    try:
        rows = [
            (d.serial, config.device(d.serial).device_code, d.ip, d.last_seen, d.punches_received, d.pending)
            for d in spool.devices()
        ]
    finally:
        spool.close()
    if not rows:
        click.echo("no devices seen yet")
        return
    _table(("SERIAL", "CODE", "IP", "LAST SEEN (UTC)", "RECEIVED", "PENDING"), rows)


@agent_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice(["attlog", "csv"]), help="Default: csv for *.csv, else attlog.")
@click.option("--device", "serial", help="The clock's serial (required for ATTLOG; default for CSV rows).")
@click.option("--upload", is_flag=True, help="Upload the spool now instead of leaving it to `agent run`.")
@_config_option
@_key_file_option
def import_file(
    file: Path, fmt: str | None, serial: str | None, upload: bool, config_path: Path | None, api_key_file: Path | None
) -> None:
    """Spool the punches of an ATTLOG or CSV file (all or nothing)."""
    config = _load(config_path, api_key_file, require_key=upload)
    fmt = fmt or ("csv" if file.suffix.lower() == ".csv" else "attlog")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text") from None
    if fmt == "attlog":
        if not serial:
            raise click.UsageError("an ATTLOG file needs --device SERIAL")
        punches, errors = parse_attlog(text, serial=serial, zone=config.device(serial).zone)
    else:
        punches, errors = parse_csv(text, default_serial=serial, zone_for=lambda s: config.device(s).zone)
    if errors:
        for error in errors[:_MAX_ERRORS_SHOWN]:
            click.echo(f"{file}: {error}", err=True)
        raise click.ClickException(f"{len(errors)} unreadable line(s); nothing imported")
    spool = Spool(config.spool_dir)
    try:
        new, duplicates = spool.add_punches(punches)
        click.echo(f"spooled {new} new punch(es) from {file.name}; {duplicates} already held")
        if upload:
            _upload_now(spool, config)
    finally:
        spool.close()


def _upload_now(spool: Spool, config: AgentConfig) -> None:
    from cloudstore.agent.uploader import Uploader

    uploader = Uploader(spool=spool, config=config)
    try:
        outcome = uploader.drain()
    finally:
        uploader.session.close()
    if outcome.kind != "empty":
        raise click.ClickException(f"upload stopped: {outcome.detail}")
    click.echo(f"uploaded; {spool.counts()['pending']} pending")


@agent_group.command("status")
@_config_option
def status(config_path: Path | None) -> None:
    """Punches pending, uploaded and rejected, and the last upload and error."""
    config = _load(config_path)
    spool = Spool(config.spool_dir)
    try:
        counts, meta = spool.counts(), spool.meta()
    finally:
        spool.close()
    click.echo(f"spool:        {spool.path}")
    click.echo(f"uploading to: {config.punches_url}")
    for state in ("pending", "uploaded", "rejected"):
        click.echo(f"{state + ':':<13} {counts[state]}")
    if "last_upload_at" in meta:
        click.echo(f"last upload:  {meta['last_upload_at']} (batch {meta.get('last_batch_id', '-')})")
    else:
        click.echo("last upload:  never")
    if "last_error" in meta:
        click.echo(f"last error:   {meta.get('last_error_at', '-')} {meta['last_error']}")
    if meta.get("halted"):
        click.echo("uploads:      STOPPED, the API key was refused; fix it and restart `cloudstore agent run`")


@agent_group.command("rejected")
@click.option("--requeue", is_flag=True, help="Put every rejected punch back in the queue (after fixing the cause).")
@_config_option
def rejected(requeue: bool, config_path: Path | None) -> None:
    """The punches the cloud refused, with its reasons."""
    config = _load(config_path)
    spool = Spool(config.spool_dir)
    try:
        if requeue:
            click.echo(f"requeued {spool.requeue_rejected()} punch(es)")
            return
        rows = [
            (r.id, r.punch.device_serial, r.punch.employee_code, r.punch.timestamp, r.punch.direction, r.error)
            for r in spool.rejected()
        ]
    finally:
        spool.close()
    if not rows:
        click.echo("no rejected punches")
        return
    _table(("ID", "DEVICE", "EMPLOYEE", "TIMESTAMP", "DIRECTION", "REASON"), rows)
