"""The subscription, connection and Verify Connection forms, with the guide's labels (Flask-WTF: CSRF on each)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from authserver.accounts.forms import strong_password
from authserver.subscriptions import rules

__all__ = ["BridgeEditForm", "ConnectionFields", "BridgeForm", "SubscriptionEditForm", "SubscriptionForm", "VerifyForm"]

SCHEMES = [SelectChoice("https", "HTTPS"), SelectChoice("http", "HTTP")]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def follows(rule: rules.Rule) -> Any:
    """A WTForms validator that applies one of `rules`."""

    def validator(form: FlaskForm, field: Field) -> None:
        message = rule(field.data or "")
        if message:
            raise ValidationError(message)

    return validator


def _text(label: str, rule: rules.Rule, **render_kw: str) -> StringField:
    return StringField(
        label, filters=[_strip], validators=[follows(rule)], render_kw={"spellcheck": "false", **render_kw}
    )


class ConnectionFields(FlaskForm):
    """The server details of a connection (bridge)."""

    database_id = _text("Database ID", rules.code_rule("Database ID"))
    company_id = _text("Company ID", rules.code_rule("Company ID"))
    host = _text("Application server", rules.host_rule, autocomplete="off", inputmode="url")
    port = _text("Port", rules.port_rule, inputmode="numeric")
    scheme = SelectField("Protocol", choices=SCHEMES, default="https")


def _password_pair(required: bool) -> tuple[PasswordField, PasswordField]:
    first = [InputRequired("Enter a password.")] if required else [Optional()]
    password = PasswordField(
        "Password", validators=[*first, strong_password], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        "Confirm Password",
        validators=[EqualTo("password", "The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class SubscriptionForm(ConnectionFields):
    """Create New Subscription: the guide's fields, then the first connection's server details."""

    company_name = _text("Company Name", rules.company_name_rule, autocomplete="organization")
    subscription_id = _text("Subscription ID", rules.subscription_id_rule, autocomplete="off")
    serial_number = _text("Customer serial number", rules.serial_number_rule, autocomplete="off")
    vat_number = _text("Customer VAT number", rules.vat_number_rule, autocomplete="off")
    password, confirm_password = _password_pair(required=True)
    bridge_id = StringField(
        "Bridge ID",
        filters=[_strip],
        validators=[Optional(), follows(rules.bridge_id_rule)],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )


class SubscriptionEditForm(FlaskForm):
    """Change the details; a password typed here replaces the subscription password."""

    company_name = _text("Company Name", rules.company_name_rule, autocomplete="organization")
    serial_number = _text("Customer serial number", rules.serial_number_rule, autocomplete="off")
    vat_number = _text("Customer VAT number", rules.vat_number_rule, autocomplete="off")
    password, confirm_password = _password_pair(required=False)


class BridgeForm(ConnectionFields):
    """Add Connection: Bridge ID and the server details."""

    bridge_id = _text("Bridge ID", rules.bridge_id_rule, autocomplete="off")


class BridgeEditForm(ConnectionFields):
    """Change a connection's server details (its Bridge ID stays)."""


class VerifyForm(FlaskForm):
    """VERIFY CONNECTION: the six fields of the guide's dialog."""

    subscription_id = _text("Subscription ID", rules.subscription_id_rule, autocomplete="off")
    subscription_password = PasswordField(
        "Subscription Password",
        validators=[InputRequired("Enter the Subscription Password."), Length(max=128)],
        render_kw={"autocomplete": "off"},
    )
    user_id = _text("Backoffice User", rules.erp_user_id_rule, autocomplete="off")
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter the user's password."), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    bridge_id = _text("Bridge ID", rules.bridge_id_rule, autocomplete="off")
    branch_id = StringField(
        "Branch ID", filters=[_strip], validators=[Optional(), Length(max=50)], render_kw={"autocomplete": "off"}
    )
