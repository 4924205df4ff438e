"""The end user's browser session: kept under its own key, apart from the portal's Flask-Login session.

An admin who is signed in to the portal and then signs in with ERP credentials (the endpoint-token flow)
stays signed in to the portal; ending the end-user session leaves the admin's alone, and the other way round.
"""

from __future__ import annotations

import time

from flask import current_app, session

from authserver.signin.users import EndUser

__all__ = ["current_end_user", "end_end_user_session", "start_end_user_session", "take_fresh_sign_in"]

_USER = "end_user"
_SIGNED_IN_AT = "end_user_signed_in_at"
_FRESH = "end_user_fresh"


def start_end_user_session(user: EndUser) -> None:
    """Sign `user` in, replacing whoever was signed in; the CSRF secret is rotated with the identity."""
    end_end_user_session()
    session.pop("csrf_token", None)  # Flask-WTF makes a new one on the next form
    session[_USER] = user.to_dict()
    session[_SIGNED_IN_AT] = int(time.time())
    session[_FRESH] = True


def current_end_user() -> EndUser | None:
    """The signed-in end user, or None (also once END_USER_SESSION_MAX_AGE has passed since sign-in)."""
    data = session.get(_USER)
    if data is None:
        return None
    signed_in_at = session.get(_SIGNED_IN_AT)
    max_age = int(current_app.config["END_USER_SESSION_MAX_AGE"])
    user = EndUser.from_dict(data)
    if user is None or not isinstance(signed_in_at, int) or time.time() - signed_in_at > max_age:
        end_end_user_session()
        return None
    return user


def take_fresh_sign_in() -> bool:
    """True once right after a sign-in (so `prompt=login` is satisfied by it and not asked again)."""
    return bool(session.pop(_FRESH, False))


def end_end_user_session() -> None:
    """Sign the end user out; the portal's session is untouched."""
    for key in (_USER, _SIGNED_IN_AT, _FRESH):
        session.pop(key, None)
