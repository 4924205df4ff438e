"""The API tokens page: create a personal access token (shown once), see when each was used, revoke."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from authserver.accounts.access import admin_required
from authserver.api import tokens
from authserver.extensions import db
from authserver.subscriptions.pages import account, client_ip, install_page_errors

bp = Blueprint("api_tokens_page", __name__, url_prefix="/account/api-tokens", template_folder="templates")
install_page_errors(bp)


class TokenForm(FlaskForm):
    """A name that says where the token is used, and how long it lives."""

    name = StringField(
        "Name",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[InputRequired("Give the token a name."), Length(max=100)],
    )
    expires = SelectField(
        "Expires",
        choices=[
            *(SelectChoice(str(days), f"in {days} days") for days in tokens.LIFETIME_DAYS),
            SelectChoice("never", "never"),
        ],
        default=str(tokens.DEFAULT_LIFETIME_DAYS),
    )

    @property
    def lifetime_days(self) -> int | None:
        return None if self.expires.data == "never" else int(self.expires.data)


def _page(form: TokenForm, new: tokens.NewToken | None = None) -> Any:
    rows = tokens.list_tokens(session=db.session, account=account())
    return render_template("api/tokens.html", form=form, tokens=rows, new=new)


@bp.route("", methods=["GET", "POST"])
@admin_required
def index() -> Any:
    """The account's tokens; a POST creates one and shows its value this once."""
    form = TokenForm()
    if form.validate_on_submit():
        new = tokens.create_token(
            session=db.session,
            account=account(),
            name=form.name.data,
            lifetime_days=form.lifetime_days,
            ip=client_ip(),
        )
        return _page(TokenForm(formdata=None), new)
    return _page(form)


@bp.post("/<int:token_id>/revoke")
@admin_required
def revoke(token_id: int) -> Any:
    """Revoke a token: API calls with it fail from now on."""
    row = tokens.owned_token(session=db.session, account=account(), token_id=token_id)
    tokens.revoke_token(session=db.session, account=account(), token=row, ip=client_ip())
    flash(f"The token {row.name} is revoked.", "success")
    return redirect(url_for(".index"))
