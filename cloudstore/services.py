"""What the command knows of the services: names, factories, default ports."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["SERVICES", "Service", "service_app"]


@dataclass(frozen=True)
class Service:
    """One deployable service of the product."""

    name: str
    default_port: int

    @property
    def wsgi_target(self) -> str:
        """The application factory as gunicorn names it."""
        return f"{self.name}:create_app()"

    @property
    def env_prefix(self) -> str:
        """The prefix of its environment variables."""
        return self.name.upper() + "_"


SERVICES = (Service("authserver", 8000), Service("resource_api", 8100), Service("bridge_gateway", 8200))
SIMULATOR_PORT = 8300


def service_app(name: str, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the named service's app through its factory."""
    return importlib.import_module(name).create_app(overrides)
