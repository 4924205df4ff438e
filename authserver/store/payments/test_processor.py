"""The embedded test payment processor: a real card form in the product, two test cards, signed results.

It behaves as a hosted checkout page would: `start` sends the browser to its card form with a signed payment
request; the form checks the card (Luhn, expiry, CVC, holder), "charges" it and sends the browser back to the
store's return address with a signed result that `confirm` verifies. Only the last four digits leave the form.

Test cards (both pass the Luhn check): 4242 4242 4242 4242 is accepted, 4000 0000 0000 0002 is declined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer

from authserver.store.models import Order
from authserver.store.payments.provider import PaymentError, PaymentResult, PaymentStart
from shared.secrets import random_token

__all__ = [
    "DECLINE_CARD",
    "SUCCESS_CARD",
    "CardProblem",
    "PaymentRequest",
    "TestProcessor",
    "check_card",
    "luhn_valid",
]

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
PAGE_PATH = "/store/test-processor"
MAX_AGE = 3600
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


def luhn_valid(number: str) -> bool:
    """The Luhn (mod 10) check of a card number of 12 to 19 digits."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


class CardProblem(ValueError):
    """A card field the form refuses; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_card(*, holder: str, number: str, expiry: str, cvc: str, today: date) -> str:
    """Check the card form; return the number's digits or raise CardProblem."""
    if not holder.strip() or len(holder.strip()) > 100:
        raise CardProblem("holder", "Enter the name on the card.")
    digits = re.sub(r"[\s-]", "", number)
    if not luhn_valid(digits):
        raise CardProblem("number", "Enter a valid card number.")
    match = _EXPIRY.match(expiry)
    if not match or not 1 <= int(match.group(1)) <= 12:
        raise CardProblem("expiry", "Enter the expiry date as MM/YY.")
    month, year = int(match.group(1)), int(match.group(2))
    year = year + 2000 if year < 100 else year
    if (year, month) < (today.year, today.month):
        raise CardProblem("expiry", "The card has expired.")
    if not re.fullmatch(r"\d{3,4}", cvc.strip()):
        raise CardProblem("cvc", "Enter the 3 or 4 digits of the security code (CVC).")
    return digits


@dataclass(frozen=True)
class PaymentRequest:
    """What the card form charges, read from its signed address."""

    order_code: str
    amount: Decimal
    currency: str
    return_url: str


class TestProcessor:
    """PAYMENT_PROVIDER = "test": the card form at /store/test-processor/<request>."""

    name = "test"
    __test__ = False  # not a pytest test class

    def __init__(self, *, secret_key: str) -> None:
        self._requests = URLSafeTimedSerializer(secret_key, salt="store-test-processor-request")
        self._results = URLSafeTimedSerializer(secret_key, salt="store-test-processor-result")

    def start(self, *, order: Order, return_url: str) -> PaymentStart:
        """Send the browser to the card form for the order's gross amount."""
        token = self._requests.dumps({"o": order.code, "a": str(order.gross), "c": order.currency, "r": return_url})
        return PaymentStart(redirect_url=f"{PAGE_PATH}/{token}")

    def read_request(self, token: str) -> PaymentRequest:
        """The payment the card form was opened for; PaymentError if the address was altered or is too old."""
        try:
            data: dict[str, Any] = self._requests.loads(token, max_age=MAX_AGE)
        except BadSignature:
            raise PaymentError("This payment page has expired. Go back to the order and pay again.") from None
        return PaymentRequest(data["o"], Decimal(data["a"]), data["c"], data["r"])

    def charge(self, request: PaymentRequest, *, card_number: str) -> str:
        """Charge a checked card: the return address with the signed result (accepted or declined)."""
        succeeded = card_number == SUCCESS_CARD
        result = {
            "o": request.order_code,
            "ref": f"tp_{random_token(12)}",
            "s": succeeded,
            "a": str(request.amount),
            "c": request.currency,
            "l4": card_number[-4:],
            "m": None if succeeded else "Your card was declined.",
        }
        separator = "&" if "?" in request.return_url else "?"
        return f"{request.return_url}{separator}{urlencode({'result': self._results.dumps(result)})}"

    def confirm(self, *, order: Order, params: Mapping[str, str]) -> PaymentResult:
        """Verify the signed result the card form sent back for this order."""
        try:
            data: dict[str, Any] = self._results.loads(params.get("result", ""), max_age=MAX_AGE)
        except BadSignature:
            raise PaymentError("The payment result could not be verified.") from None
        if data.get("o") != order.code:
            raise PaymentError("The payment result belongs to another order.")
        return PaymentResult(
            succeeded=bool(data["s"]),
            reference=str(data["ref"]),
            amount=Decimal(data["a"]),
            currency=str(data["c"]),
            card_last4=str(data["l4"]),
            message=data.get("m"),
        )
