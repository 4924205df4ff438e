"""Links that appear only once the feature behind them exists, so the portal never shows a dead link."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

__all__ = ["NAV", "NavItem", "has_endpoint", "nav_items", "routed"]


@dataclass(frozen=True)
class NavItem:
    """One entry of the signed-in menu."""

    label: str
    endpoint: str

    @property
    def url(self) -> str:
        """The entry's address."""
        return url_for(self.endpoint)


# The signed-in menu, in order. An entry shows once its endpoint is registered (the store adds "All Apps").
NAV = (
    NavItem("My subscription", "subscriptions.index"),
    NavItem("All Apps", "store.catalogue"),
    NavItem("API tokens", "api_tokens_page.index"),
)


def has_endpoint(endpoint: str) -> bool:
    """True when the current app has a view for `endpoint`."""
    return endpoint in current_app.view_functions


def routed(path: str, method: str = "GET") -> bool:
    """True when some view answers `method` at `path` in the current app."""
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method=method)
    except RequestRedirect:
        return True
    except (NotFound, MethodNotAllowed):
        return False
    return True


def nav_items() -> list[NavItem]:
    """The menu entries whose features exist."""
    return [item for item in NAV if has_endpoint(item.endpoint)]
