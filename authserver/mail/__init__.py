"""Outgoing e-mail: `send_mail` through SMTP when SMTP_URL is set, else into the local outbox folder."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import Blueprint, Flask, current_app

from authserver.mail.transport import OutboxTransport, SmtpTransport, Transport, parse_smtp_url
from shared.config import ConfigError, var_dir

__all__ = ["MailError", "dev_outbox_enabled", "init_app", "send_mail", "transport"]

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed to the mail server (already logged)."""


def dev_outbox_enabled(app: Flask) -> bool:
    """True when mail goes to the outbox folder and this is not production: /_dev/outbox is served."""
    return not app.config.get("SMTP_URL") and not app.config.get("ENV_PRODUCTION")


def init_app(app: Flask) -> None:
    """Choose the transport from SMTP_URL and register /_dev/outbox when it applies."""
    app.config.setdefault("MAIL_FROM", "Cloud Store <no-reply@localhost>")
    url = app.config.get("SMTP_URL")
    if url:
        try:
            settings = parse_smtp_url(
                str(url), timeout=float(app.config.get("SMTP_TIMEOUT", 10)), ca_file=app.config.get("SMTP_CA_FILE")
            )
        except ValueError as exc:
            raise ConfigError(f"authserver: {exc}") from None
        app.extensions["mail"] = SmtpTransport(settings)
    else:
        if app.config.get("ENV_PRODUCTION"):
            log.warning("AUTHSERVER_SMTP_URL is not set: e-mail is written to the outbox folder, not delivered")
        app.extensions["mail"] = OutboxTransport(var_dir() / "outbox")
    # The e-mail layout (mail/email_layout.html) is available to every feature's mail templates.
    app.register_blueprint(Blueprint("mail", __name__, template_folder="templates"))
    if dev_outbox_enabled(app):
        from authserver.mail.views import bp

        app.register_blueprint(bp)


def transport() -> Transport:
    """The current app's mail transport."""
    return current_app.extensions["mail"]


def send_mail(*, to: str, subject: str, text: str, html: str | None = None) -> None:
    """Build one message (plain text, optional HTML alternative) and deliver it; raise MailError on failure."""
    sender = current_app.config["MAIL_FROM"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    try:
        transport().send(message)
    except (OSError, smtplib.SMTPException) as exc:
        # The body holds links that act as credentials: log who and what, never the content.
        log.warning("mail %r to %s not sent: %s: %s", subject, to, type(exc).__name__, exc)
        raise MailError("the message could not be sent") from exc
    log.info("mail %r sent to %s", subject, to)
