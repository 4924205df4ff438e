"""Register, confirm, sign in and out, forgot and reset password: parse the form, call a service, answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from authserver.accounts import emails, service
from authserver.accounts.forms import ForgotPasswordForm, RegisterForm, ResendForm, ResetPasswordForm, SignInForm
from authserver.accounts.passwords import POLICY
from authserver.accounts.throttle import ThrottlePolicy
from authserver.accounts.tokens import RESEND, InvalidLink, make_token
from authserver.extensions import db
from authserver.mail import MailError
from authserver.portal import render_message

bp = Blueprint("accounts", __name__, template_folder="templates")

MAIL_FAILED = "We could not send the e-mail. Please try again in a few minutes."
SIGNIN_FAILED = "Incorrect e-mail or password. After several failed attempts, wait a few minutes before trying again."
RESEND_MAX_AGE = 3600


def _ip() -> str | None:
    return request.remote_addr


def _secret() -> str:
    return str(current_app.secret_key)


def _safe_next(target: str | None) -> str | None:
    """A local path to return to after sign-in; anything pointing elsewhere is dropped."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _invalid_link(what: str) -> Any:
    return render_message(
        "This link does not work any more",
        f"The {what} link has expired or was already used. Request a new one and open the newest e-mail.",
        400,
    )


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    """Create an admin account and e-mail its confirmation link; a known address gets a notice instead."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        registration = service.register(
            session=db.session, email=form.email.data, password=form.password.data, ip=_ip()
        )
        try:
            emails.send_registration(registration)
        except MailError:
            form.form_errors.append(MAIL_FAILED)
            return render_template("accounts/register.html", form=form, policy=POLICY), 503
        flash(f"We sent an e-mail to {form.email.data}. Open the link in it to confirm your address.", "success")
        return redirect(url_for("accounts.check_email"))
    return render_template("accounts/register.html", form=form, policy=POLICY)


@bp.get("/register/check-email")
def check_email() -> Any:
    """What to do after registering."""
    return render_template("accounts/check_email.html")


@bp.get("/confirm/<token>")
def confirm(token: str) -> Any:
    """Confirm the address from the e-mailed link, then ask the user to sign in."""
    try:
        service.confirm_email(
            session=db.session,
            token=token,
            secret_key=_secret(),
            max_age=int(current_app.config["CONFIRM_LINK_MAX_AGE"]),
            ip=_ip(),
        )
    except InvalidLink:
        return _invalid_link("confirmation")
    flash("Your e-mail address is confirmed. You can sign in now.", "success")
    return redirect(url_for("accounts.signin"))


@bp.post("/confirm/resend")
def resend_confirmation() -> Any:
    """Send a new confirmation link to the unconfirmed account that just signed in with its password."""
    form = ResendForm()
    if form.validate_on_submit():
        try:
            account = service.resend_account(
                session=db.session, token=form.token.data, secret_key=_secret(), max_age=RESEND_MAX_AGE, ip=_ip()
            )
            emails.send_confirmation(account)
        except InvalidLink:
            flash("Sign in again to send a new confirmation link.", "error")
        except MailError:
            flash(MAIL_FAILED, "error")
        else:
            flash(f"We sent a new confirmation link to {account.email}.", "success")
    return redirect(url_for("accounts.signin"))


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    """Sign in with e-mail and password; an unconfirmed account is told so and offered a new link."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or url_for("portal.home"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            account = service.authenticate(
                session=db.session,
                email=form.email.data,
                password=form.password.data,
                throttle=ThrottlePolicy.from_config(current_app.config),
                ip=_ip(),
            )
        except service.NotConfirmed as exc:
            token = make_token(secret_key=_secret(), purpose=RESEND, account=exc.account)
            resend = ResendForm(formdata=None, token=token, email=exc.account.email)
            return render_template("accounts/signin.html", form=form, resend_form=resend)
        except service.SignInRefused:
            form.form_errors.append(SIGNIN_FAILED)
            return render_template("accounts/signin.html", form=form)
        session.clear()
        login_user(account)
        return redirect(_safe_next(request.args.get("next")) or url_for("portal.home"))
    return render_template("accounts/signin.html", form=form)


@bp.post("/signout")
@login_required
def signout() -> Any:
    """End the session (POST with a CSRF token, so no other site can sign the user out)."""
    service.signed_out(session=db.session, account=current_user._get_current_object(), ip=_ip())
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("portal.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> Any:
    """E-mail a reset link; the answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        account = service.request_password_reset(session=db.session, email=form.email.data, ip=_ip())
        try:
            if account is None:
                emails.send_reset_unknown(form.email.data)
            else:
                emails.send_reset(account)
        except MailError:
            form.form_errors.append(MAIL_FAILED)
            return render_template("accounts/forgot_password.html", form=form), 503
        flash(f"We sent an e-mail to {form.email.data} with what to do next.", "success")
        return redirect(url_for("accounts.signin"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """Choose a new password from the e-mailed link; it works once, and other sessions end."""
    max_age = int(current_app.config["RESET_LINK_MAX_AGE"])
    form = ResetPasswordForm()
    try:
        if form.validate_on_submit():
            service.reset_password(
                session=db.session,
                token=token,
                password=form.password.data,
                secret_key=_secret(),
                max_age=max_age,
                ip=_ip(),
            )
            logout_user()
            session.clear()
            flash("Your password has been changed. Sign in with the new password.", "success")
            return redirect(url_for("accounts.signin"))
        service.reset_account(session=db.session, token=token, secret_key=_secret(), max_age=max_age)
    except InvalidLink:
        return _invalid_link("password reset")
    return render_template("accounts/reset_password.html", form=form, policy=POLICY)
