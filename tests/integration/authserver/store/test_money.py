"""Money and dates in tables: cents rounded half up, VAT on the order's net, pro rata by days, calendar months."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from authserver.store.money import (
    add_months,
    extra_users_net,
    months_between,
    parse_amount,
    parse_rate,
    period_net,
    renewal_start,
    round_cents,
    totals,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.005"), D("0.01")),
        (D("0.004999"), D("0.00")),
        (D("1.005"), D("1.01")),  # a float 1.005 would round down: Decimal keeps the half
        (D("2.675"), D("2.68")),
        (D("-1.005"), D("-1.01")),
        (D("10"), D("10.00")),
        (D("129.6"), D("129.60")),
    ],
)
def test_round_cents_half_up(value, expected):
    assert round_cents(value) == expected
    assert str(round_cents(value)) == str(expected)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_cents(1.005)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_amount(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lines", "rate", "net", "vat", "gross"),
    [
        (["540.00"], "0.24", "540.00", "129.60", "669.60"),
        (["15.00"], "0.24", "15.00", "3.60", "18.60"),
        (["0.02"], "0.24", "0.02", "0.00", "0.02"),  # 0.0048 → 0.00
        (["0.03"], "0.24", "0.03", "0.01", "0.04"),  # 0.0072 → 0.01
        (["10.10", "20.21"], "0.24", "30.31", "7.27", "37.58"),  # VAT on the sum: 7.2744
        (["0.01", "0.01", "0.01"], "0.24", "0.03", "0.01", "0.04"),
        (["100.00"], "0.17", "100.00", "17.00", "117.00"),
        (["19.99"], "0.13", "19.99", "2.60", "22.59"),  # 2.5987
        (["2.50"], "0.21", "2.50", "0.53", "3.03"),  # 0.525 rounds up
        ([], "0.24", "0.00", "0.00", "0.00"),
        (["99.99"], "0", "99.99", "0.00", "99.99"),
    ],
)
def test_totals_vat_on_the_orders_net(lines, rate, net, vat, gross):
    result = totals([D(x) for x in lines], D(rate))
    assert (result.net, result.vat, result.gross) == (D(net), D(vat), D(gross))
    assert result.net + result.vat == result.gross


@pytest.mark.parametrize(
    ("price", "months", "extra", "extra_price", "expected"),
    [
        ("15.00", 1, 0, "3.00", "15.00"),
        ("45.00", 12, 0, "2.25", "540.00"),
        ("45.00", 36, 0, "2.25", "1620.00"),
        ("45.00", 12, 5, "2.25", "675.00"),  # 12 × (45 + 5 × 2.25)
        ("19.00", 7, 3, "3.80", "212.80"),
        ("0.00", 12, 0, "0.00", "0.00"),
    ],
)
def test_period_net(price, months, extra, extra_price, expected):
    assert period_net(monthly_price=D(price), months=months, extra_users=extra, extra_user_price=D(extra_price)) == D(
        expected
    )


@pytest.mark.parametrize("months", [0, 37, -1, "12", 1.0, True, None])
def test_period_net_refuses_months_outside_1_to_36(months):
    with pytest.raises(ValueError):
        period_net(monthly_price=D("10"), months=months, extra_user_price=D("1"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # month end clamps
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # leap day, a year on
        (date(2028, 2, 29), 48, date(2032, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # year boundary
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 10), 36, date(2029, 5, 10)),
        (datetime(2026, 1, 31, 10, 30, tzinfo=UTC), 1, datetime(2026, 2, 28, 10, 30, tzinfo=UTC)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 3, 10), date(2026, 6, 10), D(3)),
        (date(2026, 3, 10), date(2026, 6, 25), D(3) + D(15) / D(30)),  # June 10 → July 10 has 30 days
        (date(2026, 1, 31), date(2026, 2, 28), D(1)),  # one calendar month, clamped
        (date(2026, 2, 1), date(2026, 2, 15), D(14) / D(28)),
        (date(2028, 2, 1), date(2028, 2, 15), D(14) / D(29)),  # leap February
        (date(2026, 12, 20), date(2027, 1, 4), D(15) / D(31)),
        (date(2026, 6, 10), date(2026, 6, 10), D(0)),
        (date(2026, 6, 10), date(2026, 6, 1), D(0)),  # already ended
    ],
)
def test_months_between_is_whole_months_plus_days_over_the_months_length(start, end, expected):
    assert months_between(start, end) == expected


@pytest.mark.parametrize(
    ("users", "price", "today", "ends", "expected"),
    [
        (5, "2.25", date(2026, 3, 10), date(2027, 3, 10), "135.00"),  # 5 × 2.25 × 12
        (5, "2.25", date(2026, 3, 10), date(2026, 6, 25), "39.38"),  # 5 × 2.25 × 3.5 = 39.375 → up
        (1, "3.00", date(2026, 2, 1), date(2026, 2, 15), "1.50"),  # 3 × 14/28
        (1, "3.00", date(2028, 2, 1), date(2028, 2, 15), "1.45"),  # 3 × 14/29 = 1.448…
        (3, "1.98", date(2026, 12, 20), date(2027, 1, 4), "2.87"),  # 5.94 × 15/31 = 2.874…
        (10, "2.90", date(2026, 6, 10), date(2026, 6, 10), "0.00"),
    ],
)
def test_more_users_are_priced_pro_rata_until_the_end(users, price, today, ends, expected):
    assert extra_users_net(users=users, extra_user_price=D(price), today=today, ends_on=ends) == D(expected)


@pytest.mark.parametrize(
    ("now", "ends", "expected"),
    [
        (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)),
        (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)),
        (datetime(2026, 5, 1, tzinfo=UTC), None, datetime(2026, 5, 1, tzinfo=UTC)),
    ],
)
def test_renewal_starts_at_the_later_of_now_and_the_end(now, ends, expected):
    assert renewal_start(now=now, ends_at=ends) == expected


@pytest.mark.parametrize(
    ("ends", "months", "renewed_until"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),  # active: from its end
        (datetime(2027, 8, 31, tzinfo=UTC), 6, datetime(2028, 2, 29, tzinfo=UTC)),  # into a leap February
        (datetime(2025, 1, 1, tzinfo=UTC), 12, datetime(2027, 1, 10, tzinfo=UTC)),  # expired: from now
    ],
)
def test_renewal_dates(ends, months, renewed_until):
    now = datetime(2026, 1, 10, tzinfo=UTC)
    assert add_months(renewal_start(now=now, ends_at=ends), months) == renewed_until


@pytest.mark.parametrize(("text", "expected"), [("12", "12.00"), ("12.5", "12.50"), ("0", "0.00"), ("12,50", "12.50")])
def test_parse_amount(text, expected):
    assert parse_amount(text) == D(expected)


@pytest.mark.parametrize("text", ["", "abc", "-1", "1.234", "NaN", "Infinity", "1e9"])
def test_parse_amount_refuses(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize("text", ["1", "1.5", "-0.1", "abc", "NaN"])
def test_vat_rate_must_be_a_fraction(text):
    with pytest.raises(ValueError):
        parse_rate(text)
