"""The payment-provider interface and the registry of adapters, chosen by config PAYMENT_PROVIDER.

A provider takes the browser away to pay (`start` answers where to send it) and, when the browser comes back to
the order's return address, says what happened (`confirm`). A real provider's adapter (a hosted checkout page with
a server-side check of the result) implements the same two methods and registers its name in PROVIDERS; the
store never sees a card number, only the provider's reference and the card's last four digits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from authserver.store.models import Order

__all__ = ["PROVIDERS", "PaymentError", "PaymentProvider", "PaymentResult", "PaymentStart", "build_provider"]


class PaymentError(Exception):
    """The provider's answer cannot be trusted or read (tampered, expired, for another order)."""


@dataclass(frozen=True)
class PaymentStart:
    """Where to send the browser to pay."""

    redirect_url: str


@dataclass(frozen=True)
class PaymentResult:
    """The outcome of a payment attempt, as the provider vouches for it."""

    succeeded: bool
    reference: str
    amount: Decimal
    currency: str
    card_last4: str | None = None
    message: str | None = None


class PaymentProvider(Protocol):
    """A payment provider's adapter."""

    name: str

    def start(self, *, order: Order, return_url: str) -> PaymentStart:
        """Begin paying `order`; the browser goes to the answer's address and later comes back to `return_url`."""
        ...

    def confirm(self, *, order: Order, params: Mapping[str, str]) -> PaymentResult:
        """Read and verify the provider's result from the return request's parameters; raise PaymentError."""
        ...


def _test_processor(config: Mapping[str, Any]) -> PaymentProvider:
    from authserver.store.payments.test_processor import TestProcessor

    return TestProcessor(secret_key=str(config["SECRET_KEY"]))


PROVIDERS: dict[str, Callable[[Mapping[str, Any]], PaymentProvider]] = {"test": _test_processor}


def build_provider(config: Mapping[str, Any]) -> PaymentProvider:
    """The adapter named by PAYMENT_PROVIDER; ValueError for an unknown name."""
    name = str(config.get("PAYMENT_PROVIDER") or "test")
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise ValueError(f"PAYMENT_PROVIDER {name!r} is not one of: {', '.join(sorted(PROVIDERS))}") from None
    return factory(config)
