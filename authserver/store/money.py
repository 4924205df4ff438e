"""Money and dates of the store: `Decimal` only (never floats), cents rounded half up, calendar months.

Formulas (also in docs/store.md):

- a line's net is rounded to cents on its own; the order's net is the sum of its lines;
- VAT = round_half_up(net × VAT_RATE) on the order's net; gross = net + VAT;
- a purchase or renewal of `m` months costs m × (plan price + extra users × extra-user price);
- more users cost users × extra-user price × `months_between(today, end)`: the whole months left plus the
  remaining days of the last, partial month divided by that month's length in days (pro rata);
- a licence runs `m` calendar months: the same day `m` months on, or the month's last day when it is shorter
  (31 January + 1 month = 28 or 29 February); a renewal counts from the later of now and the current end.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "CENT",
    "MAX_MONTHS",
    "MIN_MONTHS",
    "Totals",
    "add_months",
    "extra_users_net",
    "months_between",
    "parse_amount",
    "parse_rate",
    "period_net",
    "renewal_start",
    "round_cents",
    "totals",
]

CENT = Decimal("0.01")
MIN_MONTHS = 1
MAX_MONTHS = 36


def round_cents(value: Decimal) -> Decimal:
    """`value` rounded to cents, halves away from zero (ROUND_HALF_UP)."""
    if not isinstance(value, Decimal):
        raise TypeError("money is Decimal, never float")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str | Decimal | int) -> Decimal:
    """A price as typed (`"12.5"`, `12`): a non-negative Decimal with at most two decimals; ValueError otherwise."""
    if isinstance(text, float):
        raise TypeError("money is Decimal, never float")
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError("Enter an amount such as 12.50.") from None
    if not value.is_finite() or value < 0 or value != value.quantize(CENT) or value >= Decimal("100000000"):
        raise ValueError("Enter an amount of at least 0 with at most two decimals, such as 12.50.")
    return value.quantize(CENT)


def parse_rate(text: str | Decimal) -> Decimal:
    """A VAT rate such as "0.24" (24 %); ValueError unless 0 ≤ rate < 1."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"VAT_RATE must be a decimal fraction such as 0.24, not {text!r}") from None
    if not value.is_finite() or not Decimal(0) <= value < Decimal(1):
        raise ValueError(f"VAT_RATE must lie between 0 and 1 (0.24 is 24 %), not {text!r}")
    return value


@dataclass(frozen=True)
class Totals:
    """Net, VAT and gross of an order, in cents."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_rate: Decimal


def totals(line_nets: list[Decimal], vat_rate: Decimal) -> Totals:
    """The order's totals: the sum of the (already rounded) line nets, VAT on that sum, and their sum."""
    net = round_cents(sum(line_nets, Decimal("0")))
    vat = round_cents(net * vat_rate)
    return Totals(net=net, vat=vat, gross=net + vat, vat_rate=vat_rate)


def period_net(*, monthly_price: Decimal, months: int, extra_users: int = 0, extra_user_price: Decimal) -> Decimal:
    """A purchase or renewal: months × (plan price + extra users × extra-user price), rounded to cents."""
    _check_months(months)
    if extra_users < 0:
        raise ValueError("extra users cannot be negative")
    return round_cents(Decimal(months) * (monthly_price + Decimal(extra_users) * extra_user_price))


def extra_users_net(*, users: int, extra_user_price: Decimal, today: date, ends_on: date) -> Decimal:
    """More users until the licence's end: users × extra-user price × months left (pro rata), in cents."""
    if users < 1:
        raise ValueError("add at least one user")
    return round_cents(Decimal(users) * extra_user_price * months_between(today, ends_on))


def _check_months(months: int) -> None:
    if isinstance(months, bool) or not isinstance(months, int) or not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValueError(f"months must be a whole number from {MIN_MONTHS} to {MAX_MONTHS}")


def add_months(moment: datetime | date, months: int) -> datetime | date:
    """The same day and time `months` calendar months later, or the last day of a shorter month."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def months_between(start: date, end: date) -> Decimal:
    """Calendar months from `start` to `end` (0 if `end` is not later): whole months, then the remaining days
    over the length in days of the month that follows the last whole one; not rounded."""
    if end <= start:
        return Decimal(0)
    whole = 0
    while add_months(start, whole + 1) <= end:
        whole += 1
    anchor = add_months(start, whole)
    following = add_months(start, whole + 1)
    part = Decimal((end - anchor).days) / Decimal((following - anchor).days)  # type: ignore[operator]
    return Decimal(whole) + part


def renewal_start(*, now: datetime, ends_at: datetime | None) -> datetime:
    """Where a renewal counts from: the later of now and the current end."""
    return now if ends_at is None or ends_at < now else ends_at
