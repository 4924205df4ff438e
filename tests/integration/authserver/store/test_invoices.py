"""Invoices: gapless numbers per year (also when transactions race or roll back), PDFs, the list per subscription."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from authserver.extensions import db
from authserver.store.counters import next_value
from authserver.store.invoices.service import issue_invoice
from authserver.store.models import Invoice, Order

from .conftest import add_to_cart, checkout, order_code_of, page_text


def _orders(client, operator_client, count):
    codes = []
    plans = [("time-attendance", "Basic"), ("app-insights", "Standard"), ("surveys", "Starter")]
    for app_code, plan in plans[:count]:
        add_to_cart(client, app_code, plan)
        codes.append(order_code_of(checkout(client)))
    return codes


def test_invoice_pdf_download_and_list(client, subscription, operator_client):
    (code,) = _orders(client, operator_client, 1)
    operator_client.post(f"/store/operator/orders/{code}/enable")
    number = db.session.execute(select(Invoice.number)).scalar_one()
    listing = page_text(client.get("/subscriptions/roservices/invoices"))
    assert number in listing and code in listing and "223.20 EUR" in listing
    response = client.get(f"/subscriptions/roservices/invoices/{number}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and b"%%EOF" in response.data[-1024:]
    assert f'filename="{number}.pdf"' in response.headers["Content-Disposition"]


def test_invoice_pdf_prints_greek_names(client, subscription, operator_client):
    (code,) = _orders(client, operator_client, 1)
    order = db.session.execute(select(Order)).scalar_one()
    order.billing_name = "Εντερσοφτ Α.Ε."
    db.session.commit()
    operator_client.post(f"/store/operator/orders/{code}/enable")
    number = db.session.execute(select(Invoice.number)).scalar_one()
    assert client.get(f"/subscriptions/roservices/invoices/{number}.pdf").status_code == 200


def test_a_rolled_back_number_is_given_back(app, subscription, client, operator_client):
    year = datetime.now(UTC).year
    first = next_value(session=db.session, name=f"invoice:{year}")
    db.session.rollback()
    again = next_value(session=db.session, name=f"invoice:{year}")
    db.session.commit()
    assert first == again == 1
    assert next_value(session=db.session, name=f"invoice:{year}") == 2
    db.session.rollback()


def test_numbers_restart_each_year(app, subscription):
    assert next_value(session=db.session, name="invoice:2026") == 1
    assert next_value(session=db.session, name="invoice:2026") == 2
    assert next_value(session=db.session, name="invoice:2027") == 1
    db.session.rollback()


def test_concurrent_counters_are_gapless_when_some_roll_back(app):
    """Eight transactions take the year's next number at once; two roll back: the six kept are 1..6."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serializes every writer)")
    barrier = threading.Barrier(8)
    kept: list[int] = []
    errors: list[BaseException] = []

    def take(index: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                barrier.wait(timeout=10)
                value = next_value(session=session, name="invoice:2031")
                if index % 4 == 3:  # fails after taking a number: the number goes back
                    session.rollback()
                    return
                session.commit()
                kept.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(kept) == [1, 2, 3, 4, 5, 6]


def test_paid_orders_numbered_concurrently_have_no_gaps(app, client, subscription, operator_client):
    """Real orders enabled at once by separate sessions get consecutive invoice numbers."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serializes every writer)")
    codes = _orders(client, operator_client, 3)
    order_ids = [db.session.execute(select(Order.id).where(Order.code == c)).scalar_one() for c in codes]
    barrier = threading.Barrier(len(order_ids))
    errors: list[BaseException] = []

    def pay(order_id: int) -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                order = session.get(Order, order_id)
                barrier.wait(timeout=10)
                issue_invoice(session=session, order=order, now=datetime.now(UTC))
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(i,)) for i in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    seqs = sorted(db.session.execute(select(Invoice.seq)).scalars())
    assert seqs == [1, 2, 3]
