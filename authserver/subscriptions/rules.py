"""The rules of the subscription, connection and user fields: one place, used by the forms and the API schemas.

Each rule takes the submitted text and answers an error message, or None when the value is acceptable.
SubscriptionID and BridgeID follow facts §5 row 8: `[A-Za-z0-9_-]{2,50}`, compared case-insensitively.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from shared.api import storable

__all__ = [
    "ID_MESSAGE",
    "ID_PATTERN",
    "Rule",
    "bridge_id_rule",
    "code_rule",
    "company_name_rule",
    "erp_user_id_rule",
    "host_rule",
    "normalize_host",
    "port_rule",
    "serial_number_rule",
    "subscription_id_rule",
    "vat_number_rule",
]

Rule = Callable[[str], str | None]

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{2,50}$")
ID_MESSAGE = "Use 2 to 50 letters, digits, '_' or '-'."
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACE = re.compile(r"\s")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_VAT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .-]{1,29}$")
HOST_MESSAGE = "Enter the public IP address or the domain name of the application server, like erp.example.com."


def _printable(value: str) -> bool:
    return storable(value) and not _CONTROL.search(value)


def _text(label: str, maximum: int, *, spaces: bool = True) -> Rule:
    def rule(value: str) -> str | None:
        if not value:
            return f"Enter the {label}."
        if len(value) > maximum:
            return f"The {label} must be at most {maximum} characters long."
        if not _printable(value) or (not spaces and _SPACE.search(value)):
            return f"The {label} may not contain {'control characters' if spaces else 'spaces'}."
        return None

    return rule


def _identifier(label: str, reserved: frozenset[str] = frozenset()) -> Rule:
    def rule(value: str) -> str | None:
        if not value:
            return f"Enter the {label}."
        if value.lower() in reserved:
            return f"“{value}” is reserved: choose another {label}."
        return None if ID_PATTERN.match(value) else ID_MESSAGE

    return rule


company_name_rule = _text("Company Name", 200)
serial_number_rule = _text("Customer serial number", 50)
subscription_id_rule = _identifier("Subscription ID", frozenset({"new"}))  # /subscriptions/new is a page
bridge_id_rule = _identifier("Bridge ID")
erp_user_id_rule = _text("User ID", 50, spaces=False)


def code_rule(label: str) -> Rule:
    """Database ID and Company ID: 1 to 50 characters without spaces, as EBS's ids are."""
    return _text(label, 50, spaces=False)


def vat_number_rule(value: str) -> str | None:
    """The VAT (TRN) number: 2 to 30 letters, digits, spaces, dots or dashes."""
    if not value:
        return "Enter the Customer VAT number."
    return None if _VAT.match(value) else "Use 2 to 30 letters, digits, spaces, '.' or '-' for the VAT number."


def normalize_host(value: str) -> str:
    """A host name (lower case; punycode for other scripts) or an IP literal (IPv6 without brackets).

    Raises ValueError with a message a person can act on.
    """
    host = value.strip().lower()
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(HOST_MESSAGE)
    return host


def host_rule(value: str) -> str | None:
    """Application server: an IP address or a domain name."""
    if not value:
        return "Enter the Application server (IP or domain name)."
    try:
        normalize_host(value)
    except ValueError as exc:
        return str(exc)
    return None


def port_rule(value: str) -> str | None:
    """Port: a whole number from 1 to 65535."""
    if not str(value).strip():
        return "Enter the Port."
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        return "Enter a port between 1 and 65535."
    return None
