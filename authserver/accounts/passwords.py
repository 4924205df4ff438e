"""The password policy of the portal (Entersoft Cloud guide, "Create new account")."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "POLICY", "SYMBOLS", "password_problems"]

MIN_LENGTH = 8
MAX_LENGTH = 128
SYMBOLS = "!@#$&*"
POLICY = (
    "At least 8 characters, with at least one lowercase letter, one uppercase letter, one digit "
    "and one of the symbols ! @ # $ & *."
)

_RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (f"Must be at least {MIN_LENGTH} characters long.", lambda p: len(p) >= MIN_LENGTH),
    ("Must contain a lowercase letter.", lambda p: any(c.islower() for c in p)),
    ("Must contain an uppercase letter.", lambda p: any(c.isupper() for c in p)),
    ("Must contain a digit.", lambda p: any("0" <= c <= "9" for c in p)),
    ("Must contain one of the symbols " + " ".join(SYMBOLS) + ".", lambda p: any(c in SYMBOLS for c in p)),
    (f"Must be at most {MAX_LENGTH} characters long.", lambda p: len(p) <= MAX_LENGTH),
)


def password_problems(password: str) -> list[str]:
    """One message per rule the password breaks; empty when it is acceptable."""
    return [message for message, holds in _RULES if not holds(password)]
