"""The store: catalogue, cart and checkout, orders and payments, invoices, licences and seats.

Other features call the licence checks here: `licence_for`, `check_app_access` (raises `LicenceProblem`) and
`licensed_endpoint_types`; see docs/store.md.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from authserver.store.errors import LicenceProblem
from authserver.store.licences.service import check_app_access, licence_for, licensed_endpoint_types
from authserver.store.money import parse_rate
from shared.config import ConfigError

__all__ = [
    "DEFAULTS",
    "LicenceProblem",
    "check_app_access",
    "init_app",
    "licence_for",
    "licensed_endpoint_types",
]

DEFAULTS: dict[str, Any] = {
    "VAT_RATE": "0.24",
    "CURRENCY": "EUR",
    "PAYMENT_PROVIDER": "test",
    "RESOURCE_API_URL": "http://127.0.0.1:8100",
    "STORE_SUPPORT_EMAIL": "support@localhost",
    "STORE_SELLER_NAME": "Cloud Store",
    "STORE_SELLER_ADDRESS": "",
    "STORE_SELLER_VAT_NUMBER": "",
    "STORE_BANK_NAME": "",
    "STORE_BANK_ACCOUNT_HOLDER": "",
    "STORE_BANK_IBAN": "",
    "STORE_BANK_BIC": "",
    "STORE_REMINDER_DAYS": [14, 3],
    "INVOICE_FONT": "",
}


def init_app(app: Flask) -> None:
    """Check the store's settings, choose the payment provider, register the pages and `flask store …`."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    try:
        parse_rate(app.config["VAT_RATE"])
    except ValueError as exc:
        raise ConfigError(f"authserver: {exc}") from None
    if not str(app.config["CURRENCY"]).isalpha() or len(str(app.config["CURRENCY"])) != 3:
        raise ConfigError("authserver: CURRENCY must be a three-letter ISO 4217 code such as EUR")

    from authserver.store import models as _models  # noqa: F401 - registers the tables
    from authserver.store.payments.provider import build_provider

    try:
        app.extensions["payment_provider"] = build_provider(app.config)
    except ValueError as exc:
        raise ConfigError(f"authserver: {exc}") from None

    # Each module adds its routes to the one "store" blueprint.
    from authserver.store import operator_views as _operator  # noqa: F401
    from authserver.store.cart import views as _cart  # noqa: F401
    from authserver.store.catalogue import views as _catalogue  # noqa: F401
    from authserver.store.commands import store_cli
    from authserver.store.licences import views as _licences  # noqa: F401
    from authserver.store.orders import views as _orders  # noqa: F401
    from authserver.store.payments import views as _payments  # noqa: F401
    from authserver.store.web import bp

    app.register_blueprint(bp)
    app.cli.add_command(store_cli)
    _register_api(app)


def _register_api(app: Flask) -> None:
    """Add the store's routes to the portal's /api/v1 (set up by `authserver.api`), when it is there."""
    apis = app.extensions.get("flask-smorest", {}).get("apis", {})
    if "" not in apis:
        return
    from authserver.store.api import catalogue, tenant

    api = apis[""]["ext_obj"]
    api.register_blueprint(catalogue.bp)
    api.register_blueprint(tenant.bp)
