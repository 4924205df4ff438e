"""The ERP sign-in form (Flask-WTF, so it carries a CSRF token), with the labels the seed documents."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

__all__ = ["ErpSignInForm"]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ErpSignInForm(FlaskForm):
    """User ID (e-mail or SubscriptionID/UserID), Password, Company ID (= BridgeID), Branch ID."""

    login = StringField(
        "User ID",
        filters=[_strip],
        validators=[
            InputRequired("Enter your User ID: your e-mail or SubscriptionID/UserID."),
            Length(max=200, message="The User ID is too long."),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your ERP password."), Length(max=200, message="The password is too long.")],
        render_kw={"autocomplete": "current-password"},
    )
    company_id = StringField(
        "Company ID",
        filters=[_strip],
        validators=[
            InputRequired("Enter the Company ID (the BridgeID of your connection)."),
            Length(max=64, message="The Company ID is too long."),
        ],
        render_kw={"spellcheck": "false", "autocapitalize": "none"},
    )
    branch_id = StringField(
        "Branch ID",
        filters=[_strip],
        validators=[InputRequired("Enter the Branch ID."), Length(max=64, message="The Branch ID is too long.")],
        render_kw={"spellcheck": "false", "autocapitalize": "none"},
    )
