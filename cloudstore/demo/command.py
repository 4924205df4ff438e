"""The `cloudstore demo` command: its options (defaults match `cloudstore up`) and its exit status."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from shared.config import config_dir
from shared.config import var_dir as default_var_dir

__all__ = ["demo"]


@click.command()
@click.option("--portal", default="http://127.0.0.1:8000", show_default=True, help="The auth server (the portal).")
@click.option("--resource-api", default="http://127.0.0.1:8100", show_default=True, help="The resource API.")
@click.option("--simulator-url", default="http://127.0.0.1:8300", show_default=True, help="The EBS simulator.")
@click.option(
    "--var-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The stack's var dir (its simulator's CSWebAssets folder, its database for set-role)."
    "  [default: CLOUDSTORE_VAR_DIR, else ./var]",
)
@click.option(
    "--simulator-config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The simulator's demo company.  [default: config/simulator.toml]",
)
def demo(
    portal: str, resource_api: str, simulator_url: str, var_dir: Path | None, simulator_config: Path | None
) -> None:
    """Walk the guides through a running `cloudstore up`, printing each step; exit 1 at the first failure."""
    from bridge_gateway.simulator.config import ConfigError
    from cloudstore.demo.context import Demo
    from cloudstore.demo.runner import run_steps
    from cloudstore.demo.steps import STEPS

    run = Demo(
        portal=portal,
        resource_api=resource_api,
        simulator=simulator_url,
        var_dir=(var_dir or default_var_dir()).resolve(),
        simulator_config=simulator_config or config_dir() / "simulator.toml",
    )
    try:
        run.load_company()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"cloudstore demo (run {run.run_id}) against {run.portal}, {run.resource_api}, {run.simulator}")
    status = run_steps(STEPS, run, click.echo)
    if status == 0:
        click.echo(
            f"All {len(STEPS)} steps passed. To look around as the admin {run.admin_email}, use Forgot password"
            f" on {run.portal}/signin: the link arrives in {run.portal}/_dev/outbox."
        )
    sys.exit(status)
