"""The account forms (Flask-WTF, so each carries a CSRF token) with the seed's labels."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from authserver.accounts.passwords import password_problems

__all__ = ["ForgotPasswordForm", "RegisterForm", "ResendForm", "ResetPasswordForm", "SignInForm"]

# Pragmatic address check: one @, a dotted domain, none of the characters that separate addresses in a header.
_EMAIL = re.compile(r"^[^@\s,;:<>()\[\]\\\"]{1,64}@[^@\s,;:<>()\[\]\\\".]+(\.[^@\s,;:<>()\[\]\\\".]+)+$")
ENTER_EMAIL = "Enter your e-mail address."
INVALID_EMAIL = "Enter a valid e-mail address, like name@example.com."


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def valid_email(form: FlaskForm, field: Any) -> None:
    """A WTForms validator for e-mail addresses."""
    if not _EMAIL.match(field.data or ""):
        raise ValidationError(INVALID_EMAIL)


def strong_password(form: FlaskForm, field: Any) -> None:
    """A WTForms validator that names every rule of the password policy the value breaks."""
    problems = password_problems(field.data or "")
    if problems:
        field.errors.extend(problems[:-1])
        raise ValidationError(problems[-1])


def _email_field(**render_kw: str) -> EmailField:
    return EmailField(
        "Email",
        filters=[_strip],
        validators=[InputRequired(ENTER_EMAIL), Length(max=254, message=INVALID_EMAIL), valid_email],
        render_kw={"autocomplete": "email", "spellcheck": "false", **render_kw},
    )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter a password."), strong_password],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirm Password",
        validators=[InputRequired("Enter the password again."), EqualTo("password", "The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegisterForm(FlaskForm):
    """Email, Password, Confirm Password."""

    email = _email_field()
    password, confirm_password = _new_password_fields()


class SignInForm(FlaskForm):
    """Email and Password."""

    email = _email_field(autocomplete="username")
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password.")], render_kw={"autocomplete": "current-password"}
    )


class ForgotPasswordForm(FlaskForm):
    """The address to send a reset link to."""

    email = _email_field()


class ResetPasswordForm(FlaskForm):
    """A new password, twice."""

    password, confirm_password = _new_password_fields()


class ResendForm(FlaskForm):
    """The resend button shown after a correct password on an unconfirmed account."""

    token = HiddenField(validators=[InputRequired()])
    email = HiddenField()
