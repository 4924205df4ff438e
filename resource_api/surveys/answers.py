"""Answer types by ESPropertySet PType, and the check of a response's answers against a campaign's lines.

EBS publishes the PType values it uses (0, 1, 2, 3, 4, 6, 7, 11, 12, 14, 15) and that 4 and 14 take
Choices (facts §2.5), but not what each value means; the meanings below are this service's convention.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from typing import Any, Protocol

from shared.api import storable
from shared.errors import ValidationProblem

__all__ = ["BOOLEAN", "CHOICE_TYPES", "P_TYPES", "AnswerType", "answer_value", "check_answers"]


class Line(Protocol):
    """What the check needs of a line (a `SurveyLine`)."""

    code: str
    p_type: int
    mandatory: bool
    choices: list[dict[str, Any]] | None


Rows = list[dict[str, Any]]  # the stored rows of one answer: number, choice or text
Check = Callable[[Line, Any], Rows]


@dataclass(frozen=True)
class AnswerType:
    """What a PType accepts, and how its answers are aggregated (`kind`: text, number, choice or date)."""

    title: str
    kind: str
    check: Check


CHOICE_TYPES = frozenset({4, 14})
BOOLEAN = 6
_LARGEST = 2**53  # numbers are kept as doubles; beyond this integers lose digits
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")


class _Invalid(ValueError):
    pass


def _text(limit: int) -> Check:
    def check(line: Line, value: Any) -> Rows:
        if not isinstance(value, str):
            raise _Invalid("Expected a string.")
        if not storable(value):
            raise _Invalid("Text must be valid Unicode without NUL characters.")
        if len(value) > limit:
            raise _Invalid(f"At most {limit:,} characters.")
        return [{"text": value}]

    return check


def _integer(low: int, high: int, message: str) -> Check:
    def check(line: Line, value: Any) -> Rows:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid("Expected an integer.")
        if not low <= value <= high:
            raise _Invalid(message)
        return [{"number": float(value)}]

    return check


def _decimal(line: Line, value: Any) -> Rows:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or abs(value) > _LARGEST
        or not math.isfinite(value)
    ):
        raise _Invalid("Expected a finite number.")
    return [{"number": float(value)}]


def _boolean(line: Line, value: Any) -> Rows:
    if not isinstance(value, bool):
        raise _Invalid("Expected true or false.")
    return [{"choice": "true" if value else "false"}]


def _parsed(parse: Any, value: str) -> Any:
    try:
        return parse(value)
    except ValueError:
        raise _Invalid("Not a valid date or time.") from None


def _date(line: Line, value: Any) -> Rows:
    if not isinstance(value, str) or not _DATE.match(value):
        raise _Invalid("Expected a date as YYYY-MM-DD.")
    return [{"text": _parsed(date.fromisoformat, value).isoformat()}]


def _time(line: Line, value: Any) -> Rows:
    if not isinstance(value, str) or not _TIME.match(value):
        raise _Invalid("Expected a time as HH:MM or HH:MM:SS.")
    return [{"text": _parsed(time_of_day.fromisoformat, value).isoformat()}]


def _date_time(line: Line, value: Any) -> Rows:
    moment = _parsed(datetime.fromisoformat, value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise _Invalid("Expected an ISO 8601 date-time with its UTC offset.")
    try:
        return [{"text": moment.astimezone(UTC).isoformat()}]
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 lies before datetime.min in UTC
        raise _Invalid("The date-time is out of range.") from None


def _picked(line: Line, picked: list[str]) -> Rows:
    if len(set(picked)) != len(picked):
        raise _Invalid("A choice may be picked once.")
    codes = {choice["code"] for choice in line.choices or ()}
    if unknown := [code for code in picked if code not in codes]:
        raise _Invalid(f"Unknown choice code(s): {', '.join(sorted(unknown))}.")
    return [{"choice": code} for code in picked]


def _single_choice(line: Line, value: Any) -> Rows:
    if not isinstance(value, str):
        raise _Invalid("Expected one choice code.")
    return _picked(line, [value])


def _multiple_choice(line: Line, value: Any) -> Rows:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise _Invalid("Expected a list of choice codes.")
    return _picked(line, value)


P_TYPES: dict[int, AnswerType] = {
    0: AnswerType("text (a string of up to 2,000 characters)", "text", _text(2000)),
    1: AnswerType("integer", "number", _integer(-_LARGEST, _LARGEST, "The number is too large.")),
    2: AnswerType("decimal number", "number", _decimal),
    3: AnswerType("date (YYYY-MM-DD)", "date", _date),
    4: AnswerType("single choice (one choice code)", "choice", _single_choice),
    6: AnswerType("boolean (true or false)", "choice", _boolean),
    7: AnswerType("date-time with UTC offset", "date", _date_time),
    11: AnswerType("time of day (HH:MM or HH:MM:SS)", "date", _time),
    12: AnswerType("long text (a string of up to 10,000 characters)", "text", _text(10000)),
    14: AnswerType("multiple choice (a list of distinct choice codes)", "choice", _multiple_choice),
    15: AnswerType(
        "rating (an integer from 0 to 10)", "number", _integer(0, 10, "A rating is an integer from 0 to 10.")
    ),
}


def _unanswered(value: Any) -> bool:
    return value is None or value == "" or value == []


def check_answers(lines: Iterable[Line], answers: Mapping[str, Any]) -> Rows:
    """The answer rows of a response; every unknown code, missing mandatory line and wrong value is reported."""
    by_code = {line.code: line for line in lines}
    errors: dict[str, list[str]] = {
        code: ["No such line in this campaign's property set."] for code in answers if code not in by_code
    }
    rows: Rows = []
    for code, line in by_code.items():
        value = answers.get(code)
        if _unanswered(value):
            if line.mandatory:
                errors[code] = ["This line is mandatory."]
            continue
        try:
            rows.extend({"line_code": code, **row} for row in P_TYPES[line.p_type].check(line, value))
        except _Invalid as exc:
            errors[code] = [str(exc)]
    if errors:
        raise ValidationProblem({"answers": errors}, detail="Some answers do not fit the campaign's lines.")
    return rows


def answer_value(p_type: int, rows: list[Any]) -> Any:
    """An answer as the respondent sent it, from its stored rows (ordered by id)."""
    first = rows[0]
    if p_type == 14:
        return [row.choice for row in rows]
    if p_type == 4:
        return first.choice
    if p_type == BOOLEAN:
        return first.choice == "true"
    if p_type in (1, 15):
        return int(first.number)
    if p_type == 2:
        return first.number
    return first.text
