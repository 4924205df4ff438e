"""Reading e-mail as a newcomer does without an SMTP server: the auth server's development outbox, `/_dev/outbox`."""

from __future__ import annotations

import re
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from cloudstore.demo.browser import Browser, StepFailed

__all__ = ["link_in_mail"]

WAIT_SECONDS = 20.0


def _message_urls(browser: Browser, portal: str, address: str) -> list[str]:
    response = browser.http.get(f"{portal}/_dev/outbox", timeout=10)
    if response.status_code == 404:
        raise StepFailed(
            "the auth server has no local outbox (/_dev/outbox answers 404): it sends real e-mail"
            " (AUTHSERVER_SMTP_URL is set) or runs in production; run the demo against `cloudstore up`"
        )
    page = browser.page_of(response)
    rows = [row for row in page.rows if len(row) == 3 and row[0] != "To"]
    links = [link.href for link in page.links if "/_dev/outbox/" in link.href]
    return [href for row, href in zip(rows, links, strict=False) if row[0].lower() == address.lower()]


def _plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def link_in_mail(browser: Browser, portal: str, address: str, path: str) -> str:
    """The newest e-mail to `address` that carries a `<portal>/<path>/…` link: that link (waits for it to arrive)."""
    pattern = re.compile(rf"https?://\S+/{re.escape(path)}/\S+")
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        for url in _message_urls(browser, portal, address):
            raw = browser.http.get(url + "/raw", timeout=10)
            if raw.ok:
                match = pattern.search(_plain_text(BytesParser(policy=policy.default).parsebytes(raw.content)))  # type: ignore[arg-type]
                if match:
                    return match.group(0)
        if time.monotonic() > deadline:
            raise StepFailed(f"no e-mail to {address} with a /{path}/ link arrived in {portal}/_dev/outbox")
        time.sleep(0.5)
