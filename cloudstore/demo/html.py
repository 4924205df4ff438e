"""Just enough HTML reading to drive the portal's pages as a browser would: forms, links, ids, alerts, tables.

The standard library's parser is enough: the portal's pages are our own, well-formed, server-rendered HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

__all__ = ["Button", "Form", "Link", "Page", "parse_page"]

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class Button:
    """A submit button: what it says, its accessible name, and the name/value it sends."""

    text: str
    label: str
    name: str | None
    value: str


@dataclass
class Form:
    """A form with the values a browser would send if nothing were typed."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    label: str = ""

    def values(self, **typed: str) -> dict[str, str]:
        """The form's values with what the user typed (a value of None unchecks a box)."""
        values = dict(self.fields)
        values.update({key: value for key, value in typed.items() if value is not None})
        for key in [key for key, value in typed.items() if value is None]:
            values.pop(key, None)
        return values

    def button(self, name: str) -> Button | None:
        """The submit button whose text or accessible name is `name`."""
        return next((b for b in self.buttons if name in (b.text, b.label)), None)


@dataclass
class Link:
    """An `<a href>` with its text and accessible name."""

    href: str
    text: str
    label: str


@dataclass
class Page:
    """A fetched page, read."""

    url: str
    status: int
    html: str
    forms: list[Form] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    test_ids: dict[str, str] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""
    headings: list[str] = field(default_factory=list)

    def form_with_button(self, name: str) -> Form | None:
        """The first form that has a submit button called `name`."""
        return next((f for f in self.forms if f.button(name)), None)

    def form_with_field(self, name: str) -> Form | None:
        """The first form that has a field called `name`."""
        return next((f for f in self.forms if any(key == name for key, _ in f.fields)), None)

    def link(self, name: str) -> Link | None:
        """The first link whose text or accessible name is `name`."""
        return next((link for link in self.links if name in (link.text, link.label)), None)

    def problem(self) -> str:
        """What the page says went wrong (alerts, field errors), or its title."""
        return "; ".join(self.alerts) or self.title or f"HTTP {self.status}"


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[_Open] = []
        self.form: Form | None = None
        self.select: tuple[str, list[tuple[str, bool]]] | None = None
        self.row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        if tag == "form":
            self.form = Form(
                urljoin(self.page.url, attrs.get("action") or self.page.url),
                (attrs.get("method") or "get").lower(),
                label=attrs.get("aria-label", ""),
            )
            self.page.forms.append(self.form)
        elif tag == "input" and self.form is not None and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.form.fields.append((attrs["name"], attrs.get("value", "on")))
            elif kind == "submit":
                self.form.buttons.append(Button(attrs.get("value", ""), attrs.get("aria-label", ""), attrs["name"], ""))
            elif kind not in ("button", "file", "image", "reset"):
                self.form.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select" and attrs.get("name"):
            self.select = (attrs["name"], [])
        elif tag == "option" and self.select is not None:
            self.select[1].append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "tr":
            self.row = []
        if tag not in _VOID:
            self.stack.append(_Open(tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not any(e.tag == tag for e in self.stack):
            return
        while self.stack:
            element = self.stack.pop()
            self._closed(element)
            if element.tag == tag:
                break

    def _closed(self, element: _Open) -> None:
        text, attrs, page = _clean("".join(element.text)), element.attrs, self.page
        if "id" in attrs:
            page.ids[attrs["id"]] = text
        if "data-testid" in attrs:
            page.test_ids[attrs["data-testid"]] = text
        classes = attrs.get("class", "").split()
        if attrs.get("role") == "alert" or "field-errors" in classes:
            page.alerts.append(text)
        elif attrs.get("role") == "status":
            page.notices.append(text)
        if element.tag == "title":
            page.title = text
        elif element.tag in ("h1", "h2", "h3"):
            page.headings.append(text)
        elif element.tag == "a" and "href" in attrs:
            page.links.append(Link(urljoin(page.url, attrs["href"]), text, attrs.get("aria-label", "")))
        elif element.tag == "button" and self.form is not None and attrs.get("type", "submit") == "submit":
            self.form.buttons.append(
                Button(text, attrs.get("aria-label", ""), attrs.get("name"), attrs.get("value", ""))
            )
        elif element.tag == "textarea" and self.form is not None and attrs.get("name"):
            self.form.fields.append((attrs["name"], "".join(element.text).strip("\n")))
        elif element.tag == "select" and self.select is not None and self.form is not None:
            name, options = self.select
            chosen = next((value for value, selected in options if selected), options[0][0] if options else "")
            self.form.fields.append((name, chosen))
            self.select = None
        elif element.tag in ("td", "th") and self.row is not None:
            self.row.append(text)
        elif element.tag == "tr" and self.row is not None:
            page.rows.append(self.row)
            self.row = None
        elif element.tag == "form":
            self.form = None


def parse_page(url: str, status: int, html: str) -> Page:
    """Read a page's forms, links, ids, alerts and table rows."""
    page = Page(url=url, status=status, html=html)
    reader = _Reader(page)
    reader.feed(html)
    reader.close()
    while reader.stack:
        reader._closed(reader.stack.pop())
    return page
