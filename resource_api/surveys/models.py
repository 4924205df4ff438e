"""Survey campaigns with their questionnaire (an ESPropertySet), and the responses posted against them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resource_api.extensions import db

ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys


class SurveyCampaign(db.Model):  # type: ignore[name-defined]
    """A CRM campaign (by its GID) of one subscription and bridge, and the property set it asks."""

    __tablename__ = "survey_campaigns"
    __table_args__ = (UniqueConstraint("subscription_id", "bridge_id", "gid"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(50))
    bridge_id: Mapped[str] = mapped_column(String(50))
    gid: Mapped[str] = mapped_column(String(36))
    description: Mapped[str] = mapped_column(String(500))
    task_notes: Mapped[str | None] = mapped_column(String(4000))
    ps_code: Mapped[str] = mapped_column(String(64))
    ps_description: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lines: Mapped[list[SurveyLine]] = relationship(
        order_by="(SurveyLine.seq_num, SurveyLine.id)", cascade="all, delete-orphan"
    )

    @property
    def property_set(self) -> dict[str, Any]:
        """The questionnaire in the shape of an ESPropertySet header with its lines."""
        return {"code": self.ps_code, "description": self.ps_description, "lines": self.lines}


class SurveyLine(db.Model):  # type: ignore[name-defined]
    """A question: an ESPropertySet line, with its choices for the choice types."""

    __tablename__ = "survey_lines"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id", ondelete="CASCADE"))
    seq_num: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500))
    p_type: Mapped[int] = mapped_column(Integer)
    mandatory: Mapped[bool] = mapped_column(Boolean)
    default_value: Mapped[str | None] = mapped_column(String(2000))
    choices: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class SurveyResponse(db.Model):  # type: ignore[name-defined]
    """One respondent's submitted answers to a campaign."""

    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id"), index=True)
    respondent: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SurveyAnswer(db.Model):  # type: ignore[name-defined]
    """One answer value, kept in a column that SQL can aggregate: a number, a choice code, or text.

    A multiple-choice answer is one row per chosen code; a boolean is the choice "true" or "false".
    """

    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_campaign_line", "campaign_id", "line_code"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    response_id: Mapped[str] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id"))
    line_code: Mapped[str] = mapped_column(String(64))
    number: Mapped[float | None] = mapped_column(Float)
    choice: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(String(10000))
