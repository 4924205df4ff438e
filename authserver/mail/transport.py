"""Ways a message leaves the server: SMTP (plain, STARTTLS or implicit TLS) or a local outbox folder."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["OutboxEntry", "OutboxTransport", "SmtpSettings", "SmtpTransport", "Transport", "parse_smtp_url"]

_TRUE = {"1", "true", "yes", "on"}
_MESSAGE_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{32}$")


class Transport(Protocol):
    """Something that delivers a finished message or raises (OSError, smtplib.SMTPException)."""

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP relay."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 10.0
    ca_file: str | None = None


def parse_smtp_url(url: str, *, timeout: float = 10.0, ca_file: str | None = None) -> SmtpSettings:
    """Read `smtp://user:pass@host:port[?starttls=1]` or `smtps://…` (implicit TLS); raise ValueError if malformed."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("SMTP_URL names no host")
    implicit_tls = parts.scheme == "smtps"
    starttls = parse_qs(parts.query).get("starttls", ["0"])[-1].lower() in _TRUE
    if implicit_tls and starttls:
        raise ValueError("SMTP_URL: smtps:// already uses TLS; drop ?starttls")
    try:
        port = parts.port or (465 if implicit_tls else 25)
    except ValueError as exc:
        raise ValueError("SMTP_URL has an invalid port") from exc
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit_tls,
        starttls=starttls,
        timeout=timeout,
        ca_file=ca_file,
    )


class SmtpTransport:
    """Delivers through an SMTP relay, one connection per message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def send(self, message: EmailMessage) -> None:
        """Send `message`; smtplib and socket errors propagate."""
        s = self.settings
        client: smtplib.SMTP
        if s.implicit_tls:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls())
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with client:
            client.ehlo()
            if s.starttls:
                client.starttls(context=self._tls())
                client.ehlo()
            if s.username:
                client.login(s.username, s.password or "")
            client.send_message(message)


@dataclass(frozen=True)
class OutboxEntry:
    """A message in the outbox, by its headers."""

    id: str
    to: str
    subject: str
    date: str


class OutboxTransport:
    """Development delivery: each message becomes `<folder>/<time>-<uuid>.eml`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        """Write the message atomically, so a reader never sees half a file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex}"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(message.as_bytes(policy=policy.default))
        os.replace(tmp, self.folder / f"{name}.eml")

    def entries(self, *, limit: int = 200) -> list[OutboxEntry]:
        """The newest messages first."""
        if not self.folder.is_dir():
            return []
        paths = sorted(self.folder.glob("*.eml"), reverse=True)[:limit]
        found = []
        for path in paths:
            with path.open("rb") as fh:
                headers = BytesHeaderParser(policy=policy.default).parse(fh)
            found.append(
                OutboxEntry(
                    path.stem, str(headers["To"] or ""), str(headers["Subject"] or ""), str(headers["Date"] or "")
                )
            )
        return found

    def path_of(self, message_id: str) -> Path | None:
        """The file of a message id, or None for an unknown or malformed id."""
        if not _MESSAGE_ID.match(message_id):
            return None
        path = self.folder / f"{message_id}.eml"
        return path if path.is_file() else None

    def read(self, message_id: str) -> EmailMessage | None:
        """The parsed message, or None."""
        path = self.path_of(message_id)
        if path is None:
            return None
        with path.open("rb") as fh:
            return BytesParser(policy=policy.default).parse(fh)  # type: ignore[return-value]
