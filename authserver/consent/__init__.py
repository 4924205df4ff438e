"""Consent: the Allow / Deny page of the authorize endpoint, remembered decisions, and the user's list of them.

Features that need the consent page to say exactly what Allow will do register providers in
`app.extensions["consent_details"]` (see `authserver.consent.details`).
"""

from __future__ import annotations

from flask import Flask

from authserver.consent.details import ConsentDetailsProvider, collect_details

__all__ = ["ConsentDetailsProvider", "collect_details", "init_app"]

DEFAULTS = {"REMEMBERED_CONSENT_LIFETIME": 180 * 86400}


def init_app(app: Flask) -> None:
    """Register the consent pages and an empty list of detail providers."""
    from authserver.consent import models as _models  # noqa: F401 - registers the table
    from authserver.consent.views import bp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions.setdefault("consent_details", [])
    app.register_blueprint(bp)
