"""The `cloudstore` command: start, migrate and manage the Cloud Store services."""

from __future__ import annotations

import click

from cloudstore.agent.commands import agent_group
from cloudstore.catalogue import store_group
from cloudstore.clients import clients_group
from cloudstore.database import db_group
from cloudstore.demo import demo
from cloudstore.keys import keys_group
from cloudstore.stack import up
from cloudstore.worker import worker

__all__ = ["main"]


@click.group()
def main() -> None:
    """Cloud Store: the auth server, the resource API, the bridge gateway and the EBS simulator."""


main.add_command(up)
main.add_command(agent_group)
main.add_command(db_group)
main.add_command(keys_group)
main.add_command(clients_group)
main.add_command(worker)
main.add_command(store_group)
main.add_command(demo)


if __name__ == "__main__":
    main()
