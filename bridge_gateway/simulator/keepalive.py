"""A Werkzeug request handler that keeps HTTP/1.1 connections alive, the way IIS serves a real EBS WebApi.

Werkzeug's own ``run_wsgi`` answers every request with ``Connection: close``, because ``http.server`` cannot
drain a request body the app left unread before it reads the next request line. Here the whole body (with
``Content-Length`` or chunked) is read into memory, bounded, *before* the app runs, so the connection is always
at the next request line afterwards, whatever the app read. A connection stays open unless the client asked
to close it (``Connection: close``, or HTTP/1.0 without ``Connection: keep-alive``), the framing went wrong,
or it sat idle for the server's ``idle_timeout`` (IIS: 120 s).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import socket
from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from werkzeug.serving import WSGIRequestHandler

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

log = logging.getLogger("bridge_gateway.simulator.http")

MAX_BODY_BYTES = 8 * 1024 * 1024  # EBS WebApi bodies are small JSON documents
_NO_BODY_STATUSES = frozenset({204, 304})


class _BadBody(Exception):
    """The request body cannot be read: answer this status and close the connection."""

    def __init__(self, status: int, message_id: str, text: str) -> None:
        super().__init__(text)
        self.status, self.message_id, self.text = status, message_id, text


class KeepAliveHandler(WSGIRequestHandler):
    """Serves many requests per connection; logs without query strings (they may hold tokens)."""

    protocol_version = "HTTP/1.1"
    # A buffered writer, flushed once per answer: the head and the body leave in one segment. Written in two
    # (http.server's default), a kept-alive connection waits out the client's delayed ACK (Nagle): ~40 ms a call.
    wbufsize = -1
    server: Any  # the tracking server (see server.py); typed loosely to avoid an import cycle

    def setup(self) -> None:
        # StreamRequestHandler applies ``timeout`` to the socket: a read of the next request line that waits
        # longer ends the connection, which is the idle timeout.
        self.timeout = self.server.idle_timeout
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        """Answer one request; leave ``close_connection`` as the client asked unless framing forbids reuse."""
        if self.request_version >= "HTTP/1.1" and self.headers.get("Expect", "").strip().lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        environ = self.make_environ()
        self.environ = environ
        try:
            body = self._read_body(environ)
        except _BadBody as bad:
            self.close_connection = True
            payload = json.dumps(_error_body(bad.message_id, bad.text)).encode()
            status = f"{bad.status} {HTTPStatus(bad.status).phrase}"
            self._respond(status, [("Content-Type", "application/json")], [payload])
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        self._serve(self.server.app, environ)

    def _read_body(self, environ: WSGIEnvironment) -> bytes:
        """The whole request body, so nothing of it is left on the connection for the next request line."""
        if "HTTP_TRANSFER_ENCODING" in environ:
            if environ["HTTP_TRANSFER_ENCODING"].strip().lower() != "chunked":
                raise _BadBody(501, "not-implemented", "Only the chunked transfer coding is supported")
            if "CONTENT_LENGTH" in environ:
                self.close_connection = True  # both framings given: never trust the rest of the stream
            stream = environ["wsgi.input"]  # Werkzeug's DechunkedInput: empty once the last chunk is read
            body = bytearray()
            try:
                while data := stream.read(64 * 1024):
                    body += data
                    if len(body) > MAX_BODY_BYTES:
                        raise _BadBody(413, "request-too-large", "The request body is too large")
            except OSError as exc:
                raise _BadBody(400, "invalid-params", "The chunked request body is malformed") from exc
            return bytes(body)
        declared = environ.get("CONTENT_LENGTH", "").strip()
        if not declared:
            return b""
        if not declared.isdigit():
            raise _BadBody(400, "invalid-params", "The Content-Length header is not a number")
        length = int(declared)
        if length > MAX_BODY_BYTES:
            raise _BadBody(413, "request-too-large", "The request body is too large")
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionError("the client closed the connection inside the request body")
        return body

    def _serve(self, app: WSGIApplication, environ: WSGIEnvironment) -> None:
        """Run the app; a crash before the answer started becomes a 500, after it the connection closes."""
        started: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info and self._headers_sent:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [(status, headers)]
            return _no_write

        self._headers_sent = False
        try:
            chunks = app(environ, start_response)
            try:
                iterator = iter(chunks)
                first = [] if started else list(itertools.islice(iterator, 1))  # WSGI allows a lazy start_response
                if not started:
                    raise RuntimeError("the application did not call start_response")
                self._respond(*started[0], itertools.chain(first, iterator))
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("unhandled error serving the EBS simulator")
            self.close_connection = True
            if not self._headers_sent:
                body = json.dumps(_error_body("internal-error", "An internal error occurred")).encode()
                self._respond("500 Internal Server Error", [("Content-Type", "application/json")], [body])

    def _respond(self, status: str, headers: list[tuple[str, str]], chunks: Iterable[bytes]) -> None:
        """Send the status line, headers and body with framing that lets the connection carry the next request."""
        code = int(status.split(None, 1)[0])
        no_body = self.command == "HEAD" or 100 <= code < 200 or code in _NO_BODY_STATUSES
        length = next((value for name, value in headers if name.lower() == "content-length"), None)
        chunked = not no_body and length is None and self.request_version >= "HTTP/1.1"
        if not no_body and length is None and not chunked:
            self.close_connection = True  # HTTP/1.0 without a length: the close ends the body
        if any(value.strip().lower() == "close" for name, value in headers if name.lower() == "connection"):
            self.close_connection = True
        self.send_response(code, status.split(None, 1)[1] if " " in status else "")
        for name, value in headers:
            if name.lower() not in ("connection", "keep-alive", "transfer-encoding"):
                self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version < "HTTP/1.1":
            self.send_header("Connection", "keep-alive")
        self.end_headers()
        self._headers_sent = True
        sent = 0
        for data in chunks:
            if no_body or not data:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
            sent += len(data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        if length is not None and not no_body and str(sent) != length.strip():
            self.close_connection = True  # the app's length was wrong: the stream is out of step, end it

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "").split("?", 1)[0]
        log.info("%s %s %s %s", self.address_string(), getattr(self, "command", "-"), path, code)

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):  # the idle timeout: an ordinary end of a connection
            log.debug("idle connection closed after %s s", self.timeout)
            return
        super().log_error(format, *args)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.log(logging.ERROR if type == "error" else logging.INFO, message, *args)


def _no_write(data: bytes) -> None:
    raise RuntimeError("the simulator's apps never use the write() callable")


def _error_body(message_id: str, text: str) -> dict[str, Any]:
    return {"MessageID": message_id, "UserMessage": text, "Messages": []}
