"""The portal's front page: a landing page for visitors, the "My subscription" dashboard for admins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user

from authserver.portal.navigation import routed

bp = Blueprint("portal", __name__, template_folder="templates")


@bp.get("/")
def home() -> Any:
    """Signed in: the dashboard; otherwise the landing page with Register and Sign in."""
    if current_user.is_authenticated:
        new_subscription = "/subscriptions/new" if routed("/subscriptions/new") else None
        return render_template("portal/home.html", new_subscription_url=new_subscription)
    return render_template("portal/landing.html")
