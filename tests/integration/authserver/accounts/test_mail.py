"""Mail delivery: SMTP URL forms (plain, STARTTLS, implicit TLS), the dev outbox, and failures that never 500."""

from __future__ import annotations

import logging
import re

import pytest
from aiosmtpd.controller import Controller

from authserver import create_app
from authserver.mail.transport import SmtpSettings, parse_smtp_url
from shared.config import ConfigError, var_dir
from tests.tls import self_signed

from .conftest import SMTP_PASSWORD, SMTP_USER, STRONG, Inbox, free_port, page_text, register, sign_in


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpSettings("mail.example.com", 25)),
        ("smtp://u:p@mail.example.com:587?starttls=1", SmtpSettings("mail.example.com", 587, "u", "p", starttls=True)),
        (
            "smtps://u%40x:p%3Aw@mail.example.com",
            SmtpSettings("mail.example.com", 465, "u@x", "p:w", implicit_tls=True),
        ),
        ("smtp://127.0.0.1:2525?starttls=0", SmtpSettings("127.0.0.1", 2525)),
    ],
)
def test_smtp_url_forms(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://mail.example.com", "smtp://", "smtps://h?starttls=1", "smtp://h:notaport", "mail.example.com"]
)
def test_malformed_smtp_url_is_refused(url):
    with pytest.raises(ValueError):
        parse_smtp_url(url)


def test_app_refuses_to_start_with_a_malformed_smtp_url(database_url):
    with pytest.raises(ConfigError) as excinfo:
        create_app({"DATABASE_URL": database_url, "ISSUER": "https://a.test", "SMTP_URL": "smtp://u:hunter2@h:x"})
    assert "hunter2" not in str(excinfo.value)


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_mail_over_tls_with_login(make_app, tmp_path, mode):
    cert_path, context = self_signed(tmp_path, "127.0.0.1")
    inbox, port = Inbox(), free_port()
    if mode == "starttls":
        options = {"tls_context": context, "require_starttls": True}
        url = f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}?starttls=1"
    else:
        options = {"ssl_context": context, "auth_require_tls": False}  # aiosmtpd counts only STARTTLS as TLS
        url = f"smtps://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}"
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate, **options)
    controller.start()
    try:
        app = make_app(SMTP_URL=url, SMTP_CA_FILE=str(cert_path))
        assert register(app.test_client(), "ann@example.com").status_code == 302
    finally:
        controller.stop()
    assert inbox.last_to("ann@example.com")["Subject"] == "Confirm your Cloud Store account"
    assert inbox.logins == [SMTP_USER]


def test_tls_certificates_are_verified(make_app, tmp_path):
    _, context = self_signed(tmp_path, "127.0.0.1")
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        app = make_app(SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=1")  # no SMTP_CA_FILE: the system CAs
        assert register(app.test_client(), "ann@example.com").status_code == 503
    finally:
        controller.stop()
    assert not inbox.messages


def test_outbox_when_no_smtp_url(make_app, inbox):
    app = make_app(SMTP_URL=None)
    client = app.test_client()
    assert register(client, "ann@example.com").status_code == 302
    assert not inbox.messages
    files = list((var_dir() / "outbox").glob("*.eml"))
    assert len(files) == 1 and b"Confirm your Cloud Store account" in files[0].read_bytes()

    listing = client.get("/_dev/outbox")
    assert listing.status_code == 200
    assert "ann@example.com" in page_text(listing) and "Confirm your Cloud Store account" in page_text(listing)
    message_id = files[0].stem
    shown = client.get(f"/_dev/outbox/{message_id}")
    link = re.search(r'<a href="(https://auth\.example\.test/confirm/[^"]+)">', shown.get_data(as_text=True))
    assert shown.status_code == 200 and link, "the confirmation link is clickable"
    assert client.get(f"/_dev/outbox/{message_id}/raw").data == files[0].read_bytes()
    for bad in ("nope", "..%2F..%2Fsecrets", "20260101T000000000000Z-" + "0" * 32):
        assert client.get(f"/_dev/outbox/{bad}").status_code == 404

    confirmed = client.get(link.group(1).removeprefix("https://auth.example.test"))
    assert confirmed.status_code == 302
    assert sign_in(client, "ann@example.com").status_code == 302


def test_outbox_page_is_absent_in_production_and_with_smtp(make_app):
    production = make_app(SMTP_URL=None, ENV_PRODUCTION=True, SECRET_KEY="x" * 64, ENCRYPTION_KEYS="l" * 43 + "=")
    assert production.test_client().get("/_dev/outbox").status_code == 404
    with_smtp = make_app()
    assert with_smtp.test_client().get("/_dev/outbox").status_code == 404


@pytest.fixture
def broken_mail_app(make_app):
    """An app whose SMTP server does not answer."""
    return make_app(SMTP_URL=f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{free_port()}", SMTP_TIMEOUT=2)


def test_failed_mail_on_register_is_reported_not_a_500(broken_mail_app, caplog):
    caplog.set_level(logging.DEBUG)
    response = register(broken_mail_app.test_client(), "Ann@Example.com")
    assert response.status_code == 503
    text = page_text(response)
    assert "We could not send the e-mail. Please try again in a few minutes." in text
    assert 'value="Ann@Example.com"' in response.get_data(as_text=True)
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")
    assert "not sent" in logged
    assert "/confirm/" not in logged and STRONG not in logged and SMTP_PASSWORD not in logged


def test_failed_mail_on_forgot_password_is_reported(broken_mail_app):
    response = broken_mail_app.test_client().post("/forgot-password", data={"email": "nobody@example.com"})
    assert response.status_code == 503 and "We could not send the e-mail." in page_text(response)


def test_failed_resend_is_reported(make_app, smtp_server, inbox):
    app = make_app()
    client = app.test_client()
    register(client, "ann@example.com")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', sign_in(client, "ann@example.com").text).group(1)
    broken = make_app(SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SMTP_TIMEOUT=2)
    broken_client = broken.test_client()
    response = broken_client.post("/confirm/resend", data={"token": token, "email": "ann@example.com"})
    assert response.status_code == 302
    assert "We could not send the e-mail." in page_text(broken_client.get("/signin"))
