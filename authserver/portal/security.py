"""Browser-facing hardening: session cookies, proxy headers, security headers, CSRF and its error page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from authserver.extensions import csrf

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "exempt_from_csrf",
    "init_security",
    "security_headers",
    "serve_without_sessions",
]

# Pages load nothing from elsewhere and may not be framed. Views that need more set their own header.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _configure_cookies(app: Flask) -> None:
    secure = str(app.config["ISSUER"]).startswith("https://")
    for prefix in ("SESSION", "REMEMBER"):
        app.config[f"{prefix}_COOKIE_HTTPONLY"] = True
        app.config[f"{prefix}_COOKIE_SAMESITE"] = "Lax"
        app.config[f"{prefix}_COOKIE_SECURE"] = secure


def security_headers(issuer: str) -> dict[str, str]:
    """The headers every answer carries (HSTS once the issuer is served over HTTPS)."""
    hsts = {"Strict-Transport-Security": "max-age=31536000"} if issuer.startswith("https://") else {}
    return {**_HEADERS, **hsts}


def _add_headers(app: Flask) -> None:
    headers = security_headers(str(app.config["ISSUER"]))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class _PageSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions for pages; none at all on the paths of endpoints whose callers authenticate
    themselves (loading and saving an unused session was about a twentieth of a token request)."""

    def __init__(self) -> None:
        self.sessionless_paths: set[str] = set()

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path in self.sessionless_paths:
            return None  # Flask answers with its null session: empty when read, never saved, refuses writes
        return super().open_session(app, request)


def serve_without_sessions(app: Flask, *endpoints: str) -> None:
    """Serve these endpoints (routes without arguments) with no cookie session: for machine callers that
    authenticate each request themselves, never for a page. The app's session handling is otherwise unchanged."""
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _PageSessions()
    if not isinstance(app.session_interface, _PageSessions):
        return  # a session interface of someone else's: leave it alone
    for rule in app.url_map.iter_rules():
        if rule.endpoint in endpoints and not rule.arguments:
            app.session_interface.sessionless_paths.add(rule.rule)


def exempt_from_csrf(app: Flask, *endpoints: str) -> None:
    """Exempt endpoints whose callers authenticate themselves (no cookies), e.g. the OAuth token endpoint."""
    for endpoint in endpoints:
        if endpoint in app.view_functions:
            csrf.exempt(app.view_functions[endpoint])


def init_security(app: Flask, render_error: Callable[[str, str, int], Response]) -> None:
    """Secure cookies, trusted proxy headers, security headers and CSRF on every form POST."""
    _configure_cookies(app)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    _add_headers(app)
    csrf.init_app(app)

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError) -> Response:
        app.logger.info("CSRF check failed on %s: %s", request.path, exc.description)
        return render_error(
            "The form has expired",
            "For your security the form could not be accepted. Go back, reload the page and try again.",
            400,
        )
