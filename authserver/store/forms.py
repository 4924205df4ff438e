"""The store's forms (Flask-WTF, so each carries a CSRF token) with the seed's labels.

The forms only read what was typed; the services check it (months 1 to 36, prices, billing), so the pages and
the API refuse the same things with the same words.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from authserver.store.catalogue.service import BUNDLED_SCREENSHOTS
from authserver.store.models import BANK_DEPOSIT, CARD
from authserver.store.money import MAX_MONTHS, MIN_MONTHS

__all__ = [
    "AppForm",
    "BillingForm",
    "CardForm",
    "CartForm",
    "MonthsForm",
    "PlanForm",
    "ScreenshotForm",
    "SubscriptionForm",
    "UsersForm",
]

MONTH_CHOICES = [SelectChoice(str(m), f"{m} month{'s' if m != 1 else ''}") for m in range(MIN_MONTHS, MAX_MONTHS + 1)]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class SubscriptionForm(FlaskForm):
    """Which subscription the app is for (shown when the account has more than one)."""

    subscription = SelectField("Subscription", choices=[], validate_choice=False)


class MonthsForm(SubscriptionForm):
    """For how many months: then CHOOSE."""

    months = SelectField("Months", choices=MONTH_CHOICES, default="12", validate_choice=False)


class UsersForm(FlaskForm):
    """Get More Users: how many end users to add."""

    users = StringField("Number of users", filters=[_strip], render_kw={"inputmode": "numeric", "autocomplete": "off"})


class CartForm(FlaskForm):
    """The total, and the terms to accept before Next."""

    terms = BooleanField("I accept the terms and conditions")


class BillingForm(FlaskForm):
    """Billing details and the payment method."""

    billing_name = StringField("Company Name", filters=[_strip], render_kw={"autocomplete": "organization"})
    billing_vat_number = StringField("VAT number", filters=[_strip])
    billing_address = TextAreaField("Billing address", filters=[_strip], render_kw={"rows": 3})
    billing_email = StringField("E-mail for invoices", filters=[_strip], render_kw={"autocomplete": "email"})
    payment_method = RadioField(
        "Payment method",
        choices=[SelectChoice(BANK_DEPOSIT, "Bank deposit"), SelectChoice(CARD, "Credit card")],
        default=BANK_DEPOSIT,
        validate_choice=False,
    )


class CardForm(FlaskForm):
    """The test processor's card form; the number never leaves this request."""

    holder = StringField("Name on card", filters=[_strip], render_kw={"autocomplete": "cc-name"})
    number = StringField(
        "Card number", render_kw={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
    )
    expiry = StringField("Expiry (MM/YY)", render_kw={"autocomplete": "cc-exp", "placeholder": "MM/YY"})
    cvc = StringField("CVC", render_kw={"autocomplete": "cc-csc", "inputmode": "numeric"})


class AppForm(FlaskForm):
    """An operator's view of an app."""

    code = StringField("Code", filters=[_strip])
    name = StringField("Name", filters=[_strip])
    summary = StringField("Brief description", filters=[_strip])
    description = TextAreaField("Description", filters=[_strip], render_kw={"rows": 6})
    pricing = SelectField(
        "Pricing", choices=[SelectChoice("PAID", "Paid"), SelectChoice("FREE", "Free"), SelectChoice("TRIAL", "Trial")]
    )
    trial_days = StringField("Trial days", default="30", filters=[_strip])
    endpoint_type = StringField("Endpoint type", filters=[_strip])
    endpoint_needs_admin = BooleanField("Its endpoint needs an ERP administrator's consent")
    web_address = StringField("Web address", filters=[_strip])
    published = BooleanField("Shown in All Apps", default=True)
    position = StringField("Position", default="0", filters=[_strip])


class PlanForm(FlaskForm):
    """A version of an app: users and prices."""

    name = StringField("Version", filters=[_strip])
    users = StringField("Users", filters=[_strip])
    monthly_price = StringField("Price per month", filters=[_strip])
    extra_user_price = StringField("Extra user per month", filters=[_strip])
    active = BooleanField("On sale", default=True)


class ScreenshotForm(FlaskForm):
    """A screenshot: upload a PNG/JPEG or pick a bundled illustration."""

    caption = StringField("Caption", filters=[_strip])
    upload = FileField("Upload (PNG or JPEG, at most 1 MiB)")
    bundled = SelectField(
        "Or pick a bundled image",
        choices=[SelectChoice("", "—")] + [SelectChoice(name, name) for name in BUNDLED_SCREENSHOTS],
        validate_choice=False,
    )
