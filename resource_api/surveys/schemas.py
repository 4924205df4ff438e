"""Marshmallow schemas of the surveys API (also its OpenAPI description)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from resource_api.surveys.answers import CHOICE_TYPES, P_TYPES
from shared.api import Text, UTCDateTime

_CODE = validate.Length(min=1, max=64)
_PTYPE_HELP = "; ".join(f"{number} {kind.title}" for number, kind in P_TYPES.items())


class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow's Boolean also takes 1, "yes", "on", ...)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class SurveyChoiceSchema(Schema):
    """A choice of a choice line (ESPropertySet Choices)."""

    class Meta:
        unknown = RAISE

    code = Text(required=True, validate=_CODE)
    description = Text(required=True, validate=validate.Length(max=500))
    value = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    orderPriority = fields.Integer(
        load_default=None, allow_none=True, strict=True, attribute="order_priority", validate=validate.Range(-1e9, 1e9)
    )


class SurveyLineSchema(Schema):
    """A question (ESPropertySet Lines)."""

    class Meta:
        unknown = RAISE

    seqNum = fields.Integer(required=True, strict=True, attribute="seq_num", validate=validate.Range(0, 1_000_000))
    code = Text(required=True, validate=_CODE)
    description = Text(required=True, validate=validate.Length(max=500))
    pType = fields.Integer(
        required=True,
        strict=True,
        attribute="p_type",
        validate=validate.OneOf(tuple(P_TYPES)),
        metadata={"description": f"The answer's type: {_PTYPE_HELP}"},
    )
    mandatory = StrictBoolean(required=True)
    defaultValue = Text(
        load_default=None, allow_none=True, attribute="default_value", validate=validate.Length(max=2000)
    )
    choices = fields.List(
        fields.Nested(SurveyChoiceSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Required for the choice types (4, 14), refused for the others"},
    )

    @validates_schema
    def _choices_fit_the_type(self, data: dict[str, Any], **_: Any) -> None:
        choices = data.get("choices")
        if data.get("p_type") in CHOICE_TYPES and not choices:
            raise ValidationError("A choice line needs its choices.", field_name="choices")
        if data.get("p_type") not in CHOICE_TYPES and choices:
            raise ValidationError("Only the choice types (4, 14) take choices.", field_name="choices")
        seen: set[str] = set()
        for index, choice in enumerate(choices or ()):
            if choice["code"] in seen:
                raise ValidationError({"choices": {index: {"code": ["Choice codes must be unique in a line."]}}})
            seen.add(choice["code"])


class SurveyPropertySetSchema(Schema):
    """The questionnaire, shaped like an EBS ESPropertySet: a header and its lines."""

    class Meta:
        unknown = RAISE

    code = Text(required=True, validate=_CODE)
    description = Text(required=True, validate=validate.Length(max=500))
    lines = fields.List(fields.Nested(SurveyLineSchema), required=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _line_codes_are_unique(self, data: dict[str, Any], **_: Any) -> None:
        seen: set[str] = set()
        for index, line in enumerate(data.get("lines") or ()):
            if line["code"] in seen:
                raise ValidationError({"lines": {index: {"code": ["Line codes must be unique in a property set."]}}})
            seen.add(line["code"])


class SurveyCampaignSchema(Schema):
    """A CRM campaign (ESPropertySet Campaign) and its questionnaire."""

    class Meta:
        unknown = RAISE

    gid = Text(dump_only=True)
    description = Text(required=True, validate=validate.Length(min=1, max=500))
    taskNotes = Text(load_default=None, allow_none=True, attribute="task_notes", validate=validate.Length(max=4000))
    propertySet = fields.Nested(SurveyPropertySetSchema, required=True, attribute="property_set")
    responses = fields.Integer(dump_only=True, metadata={"description": "Responses received so far"})
    createdAt = UTCDateTime(dump_only=True, attribute="created_at")
    updatedAt = UTCDateTime(dump_only=True, attribute="updated_at")


class SurveyCampaignListItemSchema(Schema):
    """A campaign without its lines."""

    gid = fields.String()
    description = fields.String()
    propertySetCode = fields.String(attribute="ps_code")
    lineCount = fields.Integer(attribute="line_count")
    responses = fields.Integer()
    updatedAt = UTCDateTime(attribute="updated_at")


class CampaignQuerySchema(Schema):
    """Paging of the campaign list."""

    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class SurveyResponseSchema(Schema):
    """A respondent's answers, by line code; the value's JSON type follows the line's pType."""

    class Meta:
        unknown = RAISE

    responseId = Text(dump_only=True, attribute="id")
    respondent = Text(required=True, validate=validate.Length(min=1, max=200))
    answers = fields.Dict(
        keys=Text(validate=_CODE),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(max=500),
    )
    submittedAt = UTCDateTime(dump_only=True, attribute="submitted_at")


class SurveyResponseCreatedSchema(Schema):
    responseId = fields.String()


class SurveyLineResultSchema(Schema):
    """The aggregates of one line over all responses."""

    seqNum = fields.Integer()
    code = fields.String()
    description = fields.String()
    pType = fields.Integer()
    kind = fields.String(metadata={"description": "text, number, choice or date"})
    answered = fields.Integer(metadata={"description": "Responses that answered this line"})
    choices = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Picks per choice code (choice lines), or per true/false (boolean lines)"},
    )
    min = fields.Float(allow_none=True, metadata={"description": "Numeric lines only"})
    max = fields.Float(allow_none=True)
    avg = fields.Float(allow_none=True)


class SurveyResultsSchema(Schema):
    """A campaign's response count and per-line aggregates, in line order."""

    gid = fields.String()
    responses = fields.Integer()
    lines = fields.List(fields.Nested(SurveyLineResultSchema))
