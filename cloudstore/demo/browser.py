"""A browser made of `requests`: one session (cookies), pages read with `cloudstore.demo.html`, forms posted with
their CSRF token, and redirects followed by hand where a step has to catch where they lead."""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from cloudstore.demo.html import Form, Page, parse_page

__all__ = ["Browser", "StepFailed", "need_form", "need_link"]

TIMEOUT = 40.0  # longer than the portal's own deadline for a call through the gateway (35 s)
MAX_REDIRECTS = 15


class StepFailed(Exception):
    """A step could not do what it set out to do; the message says why, in the product's words where possible."""


class Browser:
    """One person's browser: cookies kept between pages."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.http = requests.Session()
        self.http.headers["User-Agent"] = f"cloudstore-demo ({name})"

    def close(self) -> None:
        """Drop the connections."""
        self.http.close()

    def _read(self, response: requests.Response) -> Page:
        return parse_page(response.url, response.status_code, response.text)

    def open(self, url: str, *, expect: int = 200) -> Page:
        """GET a page, following redirects; any other status than `expect` fails with what the page says."""
        page = self._read(self.http.get(url, timeout=TIMEOUT))
        return self._check(page, expect, f"GET {url}")

    def submit(
        self,
        form: Form,
        *,
        button: str | None = None,
        expect: int | None = 200,
        **typed: str,
    ) -> Page:
        """Post a form as its page rendered it (CSRF token included) with what the user typed, following redirects."""
        response = self.send(form, button=button, follow=True, **typed)
        page = self._read(response)
        return self._check(page, expect, f"{form.method.upper()} {form.action}") if expect else page

    def send(self, form: Form, *, button: str | None = None, follow: bool = False, **typed: str) -> requests.Response:
        """Post a form and return the raw answer (redirects not followed unless `follow`)."""
        values = form.values(**typed)
        if button is not None:
            chosen = form.button(button)
            if chosen is None:
                raise StepFailed(f"the form has no {button!r} button")
            if chosen.name:
                values[chosen.name] = chosen.value
        if form.method == "get":
            return self.http.get(form.action, params=values, timeout=TIMEOUT, allow_redirects=follow)
        return self.http.post(form.action, data=values, timeout=TIMEOUT, allow_redirects=follow)

    def follow_until(self, response: requests.Response, prefix: str) -> tuple[str | None, requests.Response]:
        """Follow redirects by hand; stop before one that leads to a URL starting with `prefix`.

        Answers (that URL, the last response); the URL is None when the redirects ended elsewhere.
        """
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("Location")
            if not response.is_redirect or not location:
                return None, response
            target = urljoin(response.url, location)
            if target.startswith(prefix):
                return target, response
            response = self.http.get(target, timeout=TIMEOUT, allow_redirects=False)
        raise StepFailed(f"more than {MAX_REDIRECTS} redirects")

    def page_of(self, response: requests.Response) -> Page:
        """Read a raw answer as a page."""
        return self._read(response)

    @staticmethod
    def _check(page: Page, expect: int, what: str) -> Page:
        if page.status != expect:
            raise StepFailed(f"{what} answered {page.status}: {page.problem()}")
        return page


def need_form(page: Page, button: str) -> Form:
    """The form with the named button, or a failure that names the page."""
    form = page.form_with_button(button)
    if form is None:
        raise StepFailed(f"no {button!r} button on {page.url} ({page.problem()})")
    return form


def need_link(page: Page, name: str) -> str:
    """The address of the named link, or a failure that names the page."""
    link = page.link(name)
    if link is None:
        raise StepFailed(f"no {name!r} link on {page.url}")
    return link.href
