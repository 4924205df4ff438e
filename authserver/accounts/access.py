"""Who may see a page: Flask-Login wiring and the decorators later features put on their views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask
from flask_login import current_user

from authserver.accounts import service
from authserver.accounts.models import ADMIN, OPERATOR, AdminAccount
from authserver.extensions import db, login_manager
from authserver.portal import render_message

__all__ = ["admin_required", "current_account", "init_login", "operator_required"]

F = TypeVar("F", bound=Callable[..., Any])


@login_manager.user_loader
def _load_account(session_id: str) -> AdminAccount | None:
    return service.account_for_session(session=db.session, session_id=session_id)


def init_login(app: Flask) -> None:
    """Bind Flask-Login: sign-in page, message, and session protection."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.signin"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"


def current_account() -> AdminAccount | None:
    """The signed-in account, or None."""
    return current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[no-any-return]


def _requires(roles: tuple[str, ...]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                return render_message("Not allowed", "Your account may not open this page.", 403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def admin_required(view: F) -> F:
    """Only for a signed-in portal account (admin or operator); anonymous visitors are sent to Sign in."""
    return _requires((ADMIN, OPERATOR))(view)


def operator_required(view: F) -> F:
    """Only for a signed-in operator; other accounts get 403, anonymous visitors are sent to Sign in."""
    return _requires((OPERATOR,))(view)
