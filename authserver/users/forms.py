"""ADD USER and the invitation's "Confirm account" form (Flask-WTF: each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import InputRequired, Length

from authserver.accounts.forms import ENTER_EMAIL, INVALID_EMAIL, valid_email
from authserver.subscriptions import rules
from authserver.subscriptions.forms import follows

__all__ = ["AddUserForm", "ConfirmInvitationForm"]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class AddUserForm(FlaskForm):
    """The ERP User ID exactly as in EBS, the user's e-mail, and whether the user starts active."""

    erp_user_id = StringField(
        "User ID",
        filters=[_strip],
        validators=[follows(rules.erp_user_id_rule)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    email = EmailField(
        "Email",
        filters=[_strip],
        validators=[InputRequired(ENTER_EMAIL), Length(max=254, message=INVALID_EMAIL), valid_email],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    active = BooleanField("Active")


class ConfirmInvitationForm(FlaskForm):
    """Only the CSRF token: confirming is a POST from the invitation page, never a GET."""
