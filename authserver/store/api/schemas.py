"""The store API's schemas (camelCase JSON, as the rest of /api/v1); money is sent as decimal strings."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from authserver.store.cart.service import MAX_EXTRA_USERS, MONTHS_MESSAGE, USERS_MESSAGE
from authserver.store.models import BANK_DEPOSIT, CARD, LINE_KINDS, PRICINGS
from authserver.store.money import MAX_MONTHS, MIN_MONTHS
from shared.api import Text, UTCDateTime

Money = fields.Decimal(as_string=True, places=2)


class _In(Schema):
    class Meta:
        unknown = RAISE


class PlanSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    users = fields.Integer()
    monthlyPrice = fields.Decimal(attribute="monthly_price", as_string=True, places=2)
    extraUserPrice = fields.Decimal(attribute="extra_user_price", as_string=True, places=2)
    active = fields.Boolean()


class ScreenshotSchema(Schema):
    id = fields.Integer()
    caption = fields.String()
    url = fields.String()


class AppSchema(Schema):
    """A catalogue app."""

    code = fields.String()
    name = fields.String()
    summary = fields.String()
    description = fields.String()
    pricing = fields.String(metadata={"enum": list(PRICINGS)})
    trialDays = fields.Integer(attribute="trial_days")
    endpointType = fields.String(attribute="endpoint_type", allow_none=True)
    endpointNeedsAdmin = fields.Boolean(attribute="endpoint_needs_admin")
    published = fields.Boolean()
    plans = fields.List(fields.Nested(PlanSchema))
    screenshots = fields.List(fields.Nested(ScreenshotSchema))


class AppCreateSchema(_In):
    code = Text(required=True)
    name = Text(required=True)
    summary = Text(load_default="")
    description = Text(load_default="")
    pricing = fields.String(load_default="PAID")
    trialDays = fields.Integer(strict=True, attribute="trial_days")
    endpointType = Text(attribute="endpoint_type", allow_none=True)
    endpointNeedsAdmin = fields.Boolean(attribute="endpoint_needs_admin")
    webAddress = Text(attribute="web_address", allow_none=True)
    published = fields.Boolean()
    position = fields.Integer(strict=True)


class AppUpdateSchema(AppCreateSchema):
    code = Text()
    name = Text()


class PlanCreateSchema(_In):
    name = Text(required=True)
    users = fields.Integer(strict=True, required=True)
    monthlyPrice = fields.Decimal(attribute="monthly_price", required=True, allow_nan=False)
    extraUserPrice = fields.Decimal(attribute="extra_user_price", allow_nan=False)
    active = fields.Boolean()


class PlanUpdateSchema(PlanCreateSchema):
    name = Text()
    users = fields.Integer(strict=True)
    monthlyPrice = fields.Decimal(attribute="monthly_price", allow_nan=False)


class CartLineCreateSchema(_In):
    """A purchase (NEW, with a plan and months), a RENEWAL (months) or MORE_USERS (users)."""

    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    app = Text(required=True, metadata={"description": "The app's code"})
    planId = fields.Integer(strict=True, attribute="plan_id")
    months = fields.Integer(strict=True, validate=validate.Range(MIN_MONTHS, MAX_MONTHS, error=MONTHS_MESSAGE))
    users = fields.Integer(strict=True, validate=validate.Range(1, MAX_EXTRA_USERS, error=USERS_MESSAGE))


class PricedLineSchema(Schema):
    id = fields.Integer(attribute="line_id")
    kind = fields.String()
    app = fields.Function(lambda line: line.app.code)
    planId = fields.Function(lambda line: line.plan.id)
    months = fields.Integer(allow_none=True)
    users = fields.Integer(allow_none=True)
    description = fields.String()
    net = Money
    problem = fields.String(allow_none=True)


class CartSchema(Schema):
    lines = fields.List(fields.Nested(PricedLineSchema))
    net = fields.Function(lambda cart: f"{cart.totals.net:.2f}")
    vat = fields.Function(lambda cart: f"{cart.totals.vat:.2f}")
    gross = fields.Function(lambda cart: f"{cart.totals.gross:.2f}")
    vatRate = fields.Function(lambda cart: f"{cart.totals.vat_rate}")
    currency = fields.String()


class BillingSchema(_In):
    name = Text(required=True)
    vatNumber = Text(required=True, attribute="vat_number")
    address = Text(required=True)
    email = Text(required=True)


class OrderCreateSchema(_In):
    paymentMethod = fields.String(
        required=True, attribute="payment_method", validate=validate.OneOf((BANK_DEPOSIT, CARD))
    )
    termsAccepted = fields.Boolean(required=True, attribute="terms_accepted")
    billing = fields.Nested(BillingSchema, required=True)


class OrderLineSchema(Schema):
    kind = fields.String()
    app = fields.Function(lambda line: line.app.code)
    description = fields.String()
    months = fields.Integer(allow_none=True)
    users = fields.Integer(allow_none=True)
    net = Money


class OrderSchema(Schema):
    code = fields.String(metadata={"description": "The Order Code"})
    status = fields.String()
    paymentMethod = fields.String(attribute="payment_method")
    currency = fields.String()
    vatRate = fields.Decimal(attribute="vat_rate", as_string=True)
    net = Money
    vat = Money
    gross = Money
    billingName = fields.String(attribute="billing_name")
    billingVatNumber = fields.String(attribute="billing_vat_number")
    billingAddress = fields.String(attribute="billing_address")
    billingEmail = fields.String(attribute="billing_email")
    createdAt = UTCDateTime(attribute="created_at")
    paidAt = UTCDateTime(attribute="paid_at", allow_none=True)
    invoice = fields.Function(lambda order: order.invoice.number if order.invoice else None)
    lines = fields.List(fields.Nested(OrderLineSchema))
    paymentUrl = fields.String(attribute="payment_url", allow_none=True, dump_default=None)
    subscriptionId = fields.String(attribute="subscription_id", dump_default=None)


class InvoiceSchema(Schema):
    number = fields.String()
    issuedAt = UTCDateTime(attribute="issued_at")
    order = fields.Function(lambda invoice: invoice.order.code)
    net = fields.Function(lambda invoice: f"{invoice.order.net:.2f}")
    vat = fields.Function(lambda invoice: f"{invoice.order.vat:.2f}")
    gross = fields.Function(lambda invoice: f"{invoice.order.gross:.2f}")
    currency = fields.Function(lambda invoice: invoice.order.currency)
    pdfUrl = fields.String(attribute="pdf_url")


class OwnedAppSchema(Schema):
    app = fields.Function(lambda item: item.app.code)
    name = fields.Function(lambda item: item.app.name)
    webAddress = fields.String(attribute="web_address")
    plan = fields.Function(lambda item: item.plan.name)
    kind = fields.Function(lambda item: item.licence.kind)
    seats = fields.Function(lambda item: item.licence.seats)
    seatsUsed = fields.Integer(attribute="seats_used")
    validUntil = UTCDateTime(attribute="valid_until", allow_none=True)
    active = fields.Boolean()
    endpointType = fields.Function(lambda item: item.app.endpoint_type)


class GetItSchema(_In):
    planId = fields.Integer(strict=True, attribute="plan_id")


class UserSeatSchema(Schema):
    userId = fields.UUID(attribute="user.id")
    erpUserId = fields.String(attribute="user.erp_user_id")
    email = fields.String(attribute="user.email")
    status = fields.String(attribute="user.status")
    active = fields.Boolean(attribute="user.active")
    assigned = fields.Boolean()
    eligible = fields.Boolean()
    reason = fields.String(allow_none=True)
