"""The store's tables: catalogue (apps, plans, screenshots), carts, orders, payments, invoices, licences, seats.

Money columns are NUMERIC(12, 2) read back as `Decimal`. Every row that belongs to a tenant carries its
subscription key (`subscription_pk`, the integer `subscriptions.id`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authserver.extensions import db

__all__ = [
    "App",
    "CartLine",
    "Counter",
    "ExpiryReminder",
    "Invoice",
    "Licence",
    "Order",
    "OrderLine",
    "Payment",
    "Plan",
    "Screenshot",
    "SeatAssignment",
]

Money = Numeric(12, 2, asdecimal=True)

# App pricing (facts §1.5): Paid apps are bought, Free ones and Trials are added with "Get It".
PAID, FREE, TRIAL = "PAID", "FREE", "TRIAL"
PRICINGS = (PAID, FREE, TRIAL)
# Order lines and cart lines.
NEW, MORE_USERS, RENEWAL = "NEW", "MORE_USERS", "RENEWAL"
LINE_KINDS = (NEW, MORE_USERS, RENEWAL)
# Orders (facts §5 row 11) and payments.
PENDING_PAYMENT, ORDER_PAID, CANCELLED = "PENDING_PAYMENT", "PAID", "CANCELLED"
BANK_DEPOSIT, CARD = "BANK_DEPOSIT", "CARD"
SUCCEEDED, DECLINED = "SUCCEEDED", "DECLINED"


class App(db.Model):  # type: ignore[name-defined, misc]
    """A catalogue app; `code` is its stable slug, `endpoint_type` the Integration Endpoint it exposes, if any."""

    __tablename__ = "store_apps"
    __table_args__ = (CheckConstraint("pricing IN ('PAID', 'FREE', 'TRIAL')", name="pricing"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    pricing: Mapped[str] = mapped_column(String(8), default=PAID)
    trial_days: Mapped[int] = mapped_column(Integer, default=30)
    endpoint_type: Mapped[str | None] = mapped_column(String(50), unique=True, default=None)
    endpoint_needs_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    web_address: Mapped[str | None] = mapped_column(String(500), default=None)
    oauth_client_id: Mapped[str | None] = mapped_column(String(100), default=None)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    plans: Mapped[list[Plan]] = relationship(back_populates="app", order_by="Plan.position, Plan.id")
    screenshots: Mapped[list[Screenshot]] = relationship(
        back_populates="app", order_by="Screenshot.position, Screenshot.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"App({self.code!r})"

    @property
    def is_paid(self) -> bool:
        return self.pricing == PAID

    @property
    def can_get_it(self) -> bool:
        """Free and Trial apps are added with Get It."""
        return self.pricing in (FREE, TRIAL)

    @property
    def can_buy(self) -> bool:
        """Paid apps are bought; a Trial app can be bought after (or instead of) its trial."""
        return self.pricing in (PAID, TRIAL)

    @property
    def active_plans(self) -> list[Plan]:
        return [plan for plan in self.plans if plan.active]

    def address(self, resource_api_url: str) -> str:
        """The app's web address (its Overview): set by the operator, else the resource API's app page."""
        return self.web_address or f"{resource_api_url.rstrip('/')}/apps/{self.code}/"


class Plan(db.Model):  # type: ignore[name-defined, misc]
    """A version of an app: how many users it supports and its monthly price (net of VAT)."""

    __tablename__ = "store_plans"
    __table_args__ = (
        CheckConstraint("users >= 1", name="users"),
        CheckConstraint("monthly_price >= 0 AND extra_user_price >= 0", name="prices"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    users: Mapped[int] = mapped_column(Integer)
    monthly_price: Mapped[Decimal] = mapped_column(Money)
    extra_user_price: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    app: Mapped[App] = relationship(back_populates="plans")

    def __repr__(self) -> str:
        return f"Plan({self.name!r}, users={self.users}, monthly_price={self.monthly_price})"


class Screenshot(db.Model):  # type: ignore[name-defined, misc]
    """An image of an app: a file bundled under static/store/ (`bundled`) or an uploaded PNG/JPEG (`content`)."""

    __tablename__ = "store_screenshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"), index=True)
    caption: Mapped[str] = mapped_column(String(200))
    bundled: Mapped[str | None] = mapped_column(String(100), default=None)
    content_type: Mapped[str | None] = mapped_column(String(30), default=None)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    app: Mapped[App] = relationship(back_populates="screenshots")


class Licence(db.Model):  # type: ignore[name-defined, misc]
    """A subscription's right to use an app: one row per subscription and app, never deleted (expiry keeps data).

    `ends_at` is None for Free apps (no end). `trial_started_at` records the one trial per subscription and app.
    """

    __tablename__ = "store_licences"
    __table_args__ = (
        UniqueConstraint("subscription_pk", "app_id", name="uq_store_licences_subscription_app"),
        CheckConstraint("seats >= 1", name="seats"),
        CheckConstraint("kind IN ('PAID', 'FREE', 'TRIAL')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="RESTRICT"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("store_plans.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(8))
    seats: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    trial_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    app: Mapped[App] = relationship(lazy="joined")
    plan: Mapped[Plan] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"Licence(app={self.app_id}, subscription={self.subscription_pk}, ends_at={self.ends_at})"


class SeatAssignment(db.Model):  # type: ignore[name-defined, misc]
    """A subscription user holding a seat of a licence (the app's Users tab)."""

    __tablename__ = "store_seat_assignments"
    __table_args__ = (
        UniqueConstraint("licence_id", "subscription_user_id", name="uq_store_seat_assignments_licence_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("store_licences.id", ondelete="CASCADE"), index=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    subscription_user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("subscription_users.id", ondelete="CASCADE"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CartLine(db.Model):  # type: ignore[name-defined, misc]
    """One line of a subscription's cart; prices are computed when shown and again when the order is placed."""

    __tablename__ = "store_cart_lines"
    __table_args__ = (
        UniqueConstraint("subscription_pk", "app_id", name="uq_store_cart_lines_subscription_app"),
        CheckConstraint("kind IN ('NEW', 'MORE_USERS', 'RENEWAL')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("store_plans.id", ondelete="CASCADE"))
    months: Mapped[int | None] = mapped_column(Integer, default=None)
    users: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    app: Mapped[App] = relationship(lazy="joined")
    plan: Mapped[Plan] = relationship(lazy="joined")


class Order(db.Model):  # type: ignore[name-defined, misc]
    """An order: `code` is the Order Code (`ORD-<yyyymmdd>-<seq>`), amounts and billing details are a snapshot."""

    __tablename__ = "store_orders"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING_PAYMENT', 'PAID', 'CANCELLED')", name="status"),
        CheckConstraint("payment_method IN ('BANK_DEPOSIT', 'CARD')", name="payment_method"),
        Index("ix_store_orders_status_method", "status", "payment_method"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("admin_accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=PENDING_PAYMENT)
    payment_method: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4, asdecimal=True))
    net: Mapped[Decimal] = mapped_column(Money)
    vat: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    billing_name: Mapped[str] = mapped_column(String(200))
    billing_vat_number: Mapped[str] = mapped_column(String(30))
    billing_address: Mapped[str] = mapped_column(String(300))
    billing_email: Mapped[str] = mapped_column(String(254))
    terms_accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    enabled_by: Mapped[int | None] = mapped_column(ForeignKey("admin_accounts.id", ondelete="SET NULL"))

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id", viewonly=True)
    invoice: Mapped[Invoice | None] = relationship(viewonly=True, uselist=False)

    def __repr__(self) -> str:
        return f"Order({self.code!r}, {self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING_PAYMENT


class OrderLine(db.Model):  # type: ignore[name-defined, misc]
    """What an order buys: a new licence, more users for a licence, or a renewal."""

    __tablename__ = "store_order_lines"
    __table_args__ = (CheckConstraint("kind IN ('NEW', 'MORE_USERS', 'RENEWAL')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("store_orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    app_id: Mapped[int] = mapped_column(ForeignKey("store_apps.id", ondelete="RESTRICT"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("store_plans.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(String(300))
    months: Mapped[int | None] = mapped_column(Integer, default=None)
    users: Mapped[int | None] = mapped_column(Integer, default=None)
    net: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="lines")
    app: Mapped[App] = relationship(lazy="joined")
    plan: Mapped[Plan] = relationship(lazy="joined")


class Payment(db.Model):  # type: ignore[name-defined, misc]
    """A payment attempt: the provider's reference and the card's last four digits, never the card number."""

    __tablename__ = "store_payments"
    __table_args__ = (
        UniqueConstraint("provider", "reference", name="uq_store_payments_provider_reference"),
        CheckConstraint("status IN ('SUCCEEDED', 'DECLINED')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("store_orders.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    card_last4: Mapped[str | None] = mapped_column(String(4), default=None)
    message: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Invoice(db.Model):  # type: ignore[name-defined, misc]
    """An invoice: numbered `INV-<year>-<seq>` without gaps per year, issued when its order is paid."""

    __tablename__ = "store_invoices"
    __table_args__ = (UniqueConstraint("year", "seq", name="uq_store_invoices_year_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int] = mapped_column(ForeignKey("store_orders.id", ondelete="RESTRICT"), unique=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    order: Mapped[Order] = relationship(lazy="joined")


class Counter(db.Model):  # type: ignore[name-defined, misc]
    """A named sequence (`invoice:2026`, `order:20261124`) incremented in the transaction that uses the value."""

    __tablename__ = "store_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ExpiryReminder(db.Model):  # type: ignore[name-defined, misc]
    """A reminder e-mail sent (once) for a licence's end date at a threshold of days before it."""

    __tablename__ = "store_expiry_reminders"
    __table_args__ = (
        UniqueConstraint("licence_id", "days_before", "ends_at", name="uq_store_expiry_reminders_licence_days_end"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("store_licences.id", ondelete="CASCADE"), index=True)
    days_before: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
