"""Development only: /_dev/outbox lists the messages written to the outbox folder, with clickable links."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup, escape

from authserver.mail import transport
from authserver.mail.transport import OutboxTransport

bp = Blueprint("dev_outbox", __name__, url_prefix="/_dev/outbox")

_URL = re.compile(r"https?://[^\s<>\"']+")


def _outbox() -> OutboxTransport:
    current = transport()
    if not isinstance(current, OutboxTransport):
        abort(404)
    return current


def linkify(text: str) -> Markup:
    """Escape `text` and turn its http(s) URLs into links."""
    pieces, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0)
        pieces += [escape(text[last : match.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        last = match.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)


@bp.get("")
def index() -> Any:
    """Every message in the outbox, newest first."""
    return render_template("mail/outbox.html", entries=_outbox().entries())


@bp.get("/<message_id>")
def show(message_id: str) -> Any:
    """One message: its headers and its plain-text body with clickable links."""
    message = _outbox().read(message_id)
    if message is None:
        abort(404)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return render_template("mail/outbox_message.html", message_id=message_id, message=message, body=linkify(text))


@bp.get("/<message_id>/raw")
def raw(message_id: str) -> Any:
    """The message file as it was written."""
    path = _outbox().path_of(message_id)
    if path is None:
        abort(404)
    return Response(path.read_bytes(), mimetype="text/plain")
