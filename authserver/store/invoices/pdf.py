"""An invoice as a PDF (fpdf2), drawn from the invoice and its order; nothing else is stored.

Text uses DejaVu Sans when it is installed (INVOICE_FONT names another TrueType file), so Greek and other
scripts print; without it the PDF core font Helvetica is used and characters outside Latin-1 print as '?'.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fpdf import FPDF

from authserver.store.clock import aware
from authserver.store.models import Invoice

__all__ = ["Seller", "invoice_pdf"]

logging.getLogger("fontTools").setLevel(logging.WARNING)  # it logs every subsetting step at INFO

DEFAULT_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)


@dataclass(frozen=True)
class Seller:
    """Who issues the invoices (config STORE_SELLER_*)."""

    name: str
    address: str
    vat_number: str
    email: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Seller:
        return cls(
            str(config["STORE_SELLER_NAME"]),
            str(config["STORE_SELLER_ADDRESS"]),
            str(config["STORE_SELLER_VAT_NUMBER"]),
            str(config["STORE_SUPPORT_EMAIL"]),
        )


def _font(pdf: FPDF, configured: str | None) -> tuple[str, bool]:
    for candidate in ([configured] if configured else []) + list(DEFAULT_FONTS):
        if candidate and Path(candidate).is_file():
            pdf.add_font("Body", "", candidate)
            bold = Path(candidate).with_name(Path(candidate).stem + "-Bold.ttf")
            pdf.add_font("Body", "B", str(bold) if bold.is_file() else candidate)
            return "Body", True
    return "Helvetica", False


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def invoice_pdf(invoice: Invoice, *, seller: Seller, subscription_id: str, font: str | None = None) -> bytes:
    """The invoice's PDF document."""
    order = invoice.order
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(seller.name)
    pdf.set_creator("Cloud Store")
    family, unicode_ok = _font(pdf, font)

    def text(value: str) -> str:
        return value if unicode_ok else value.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_font(family, "B", 18)
    pdf.cell(0, 10, text(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    issued = aware(invoice.issued_at) or invoice.issued_at
    pdf.cell(0, 6, f"Issued: {issued:%Y-%m-%d}    Order: {order.code}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    top = pdf.get_y()
    pdf.set_font(family, "B", 10)
    pdf.cell(90, 6, "From", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.multi_cell(90, 5, text(f"{seller.name}\n{seller.address}\nVAT: {seller.vat_number}\n{seller.email}"))
    left_bottom = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.set_font(family, "B", 10)
    pdf.cell(90, 6, "Bill to", new_x="LEFT", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.multi_cell(
        90,
        5,
        text(
            f"{order.billing_name}\n{order.billing_address}\nVAT: {order.billing_vat_number}\n"
            f"Subscription: {subscription_id}"
        ),
    )
    pdf.set_y(max(left_bottom, pdf.get_y()) + 8)

    pdf.set_font(family, "B", 10)
    pdf.set_fill_color(235, 240, 247)
    pdf.cell(140, 8, "Description", border="B", fill=True)
    pdf.cell(0, 8, "Net", border="B", fill=True, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    for line in order.lines:
        y = pdf.get_y()
        pdf.multi_cell(140, 6, text(line.description), new_x="RIGHT", new_y="TOP")
        pdf.cell(0, 6, _money(line.net, order.currency), align="R")
        pdf.set_y(max(y + 6, pdf.get_y()) + 2)
    pdf.ln(4)
    rate = (order.vat_rate * 100).normalize()
    for label, amount, bold in (
        ("Net amount", order.net, False),
        (f"VAT {rate:f} %", order.vat, False),
        ("Total", order.gross, True),
    ):
        pdf.set_font(family, "B" if bold else "", 11 if bold else 10)
        pdf.cell(140, 7, label, align="R")
        pdf.cell(0, 7, _money(amount, order.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(family, "", 9)
    paid = aware(order.paid_at)
    method = "bank deposit" if order.payment_method == "BANK_DEPOSIT" else "card"
    if paid is not None:
        pdf.multi_cell(0, 5, f"Paid by {method} on {paid:%Y-%m-%d}. Thank you.")
    return bytes(pdf.output())
