"""Extra lines on the consent page, supplied by features that need the user to see exactly what Allow does.

A provider is a callable in `app.extensions["consent_details"]`:

    provider(client: RegisteredClient, request_params: Mapping[str, str], user: EndUser)
        -> list[tuple[str, str]] | None

It answers None when the request is none of its business, else the (label, value) rows to show (an empty
list still counts: the page must be shown). A request that any provider answers for is always asked, never
remembered and never skipped. A provider may raise `SignInRefused` to refuse the request outright: the
client then gets `access_denied` with the provider's message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from authserver.clients.service import RegisteredClient
from authserver.signin.users import EndUser

__all__ = ["ConsentDetailsProvider", "collect_details"]

ConsentDetailsProvider = Callable[[RegisteredClient, Mapping[str, str], EndUser], "list[tuple[str, str]] | None"]


def collect_details(
    providers: Iterable[ConsentDetailsProvider],
    *,
    client: RegisteredClient,
    params: Mapping[str, str],
    user: EndUser,
) -> list[tuple[str, str]] | None:
    """Every provider's rows in order, or None when no provider claims the request."""
    collected: list[tuple[str, str]] | None = None
    for provider in providers:
        rows = provider(client, params, user)
        if rows is not None:
            collected = [*(collected or []), *((str(label), str(value)) for label, value in rows)]
    return collected
