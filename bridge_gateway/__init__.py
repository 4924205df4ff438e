"""Bridge gateway: the only part that opens connections to customers' EBS application servers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the bridge gateway application."""
    # Imported here so that `python -m bridge_gateway.simulator`, which stands for a foreign system,
    # loads nothing of the product.
    from bridge_gateway.extensions import db
    from shared.service import create_service_app

    app = create_service_app(
        __name__,
        service="bridge_gateway",
        db=db,
        migrations=Path(__file__).parent / "migrations",
        overrides=overrides,
        required=("AUTH_SERVER_URL",),
        encrypts=True,
    )
    from bridge_gateway.relay.fast_lane import install_fast_lane
    from bridge_gateway.wiring import init_gateway

    init_gateway(app)
    install_fast_lane(app)  # last: it matches the app's routes, and must wrap Flask's own wsgi_app directly
    return app
