"""Children's Services Portal notifications: read a webhook body, check it, return Structs.

Worcestershire's CCAS process (seed 000 s.5(a)) has schools "submit absence and irregular
attendance notifications via the Children's Services Portal"; every notification is reviewed,
so a bad one must be refused with everything wrong in it named at once, not one fault per
round trip. The contract is the published JSON Schema in contracts/portal (checked as published,
not re-expressed by hand); after it, the UPN check letter and NHS number check digit are
verified (DOMAIN.md "Identifiers") and the exclusion dates are checked against each other, and
all of these field errors are reported together.

The schema is read from the repository (``contracts/portal/notification.schema.json``, found
relative to this file): the service is installed editable from its checkout, so the contract
the tests check and the contract the service enforces are one file.
"""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import json
import re
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import msgspec
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from gateway.model.child import EhcpStatus
from gateway.model.identifiers import nhs_number_problem, upn_problem
from gateway.model.routing import NotificationType

SCHEMA_PATH = Path(__file__).parents[2] / "contracts" / "portal" / "notification.schema.json"

FieldError = tuple[str, str]


class InvalidNotification(ValueError):
    """The notification is refused; ``errors`` holds every (field path, message), sorted by
    path. Paths are dotted from the body's root ("child.upn", "exclusion.issued_at"); "body"
    is the document as a whole (not JSON, not an object)."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = sorted(set(errors))
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors))


class School(msgspec.Struct, kw_only=True, frozen=True):
    urn: str
    name: str


class PortalChild(msgspec.Struct, kw_only=True, frozen=True):
    upn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    home_la: str
    nhs_number: str | None = None


class Ehcp(msgspec.Struct, kw_only=True, frozen=True):
    status: EhcpStatus
    linked_to_needs: bool
    decision_to_issue_draft: bool


class Illness(msgspec.Struct, kw_only=True, frozen=True):
    days_absent: float
    consecutive: bool
    medical_evidence: bool
    individual_health_care_plan: bool


class Exclusion(msgspec.Struct, kw_only=True, frozen=True):
    issued_at: dt.datetime
    first_day: dt.date
    days: float | None = None  # suspensions only


class PartTimeTimetable(msgspec.Struct, kw_only=True, frozen=True):
    hours_per_week: float
    started_on: dt.date


class ContinuousAbsence(msgspec.Struct, kw_only=True, frozen=True):
    days: int
    last_attended: dt.date


class Section19Request(msgspec.Struct, kw_only=True, frozen=True):
    requester: Literal["school", "parent", "professional"]
    requester_role: str
    summary: str
    reason: Literal["illness", "exclusion", "otherwise"] | None = None
    early_help_assessment: bool | None = None


class DeletionFromRoll(msgspec.Struct, kw_only=True, frozen=True):
    ground: str | None
    deleted_on: dt.date
    destination_urn: str | None = None


class PortalNotification(msgspec.Struct, kw_only=True, frozen=True):
    """One notification as the portal sent it; the type-specific section that the schema
    requires for ``type`` is present and the others are None."""

    notification_id: str
    type: NotificationType
    submitted_at: dt.datetime
    school: School
    child: PortalChild
    ehcp: Ehcp
    special_school: bool
    looked_after: bool
    open_to_social_care: bool
    return_to_school_pathway: bool
    summary: str
    illness: Illness | None = None
    exclusion: Exclusion | None = None
    part_time_timetable: PartTimeTimetable | None = None
    continuous_absence: ContinuousAbsence | None = None
    section19_request: Section19Request | None = None
    deletion_from_roll: DeletionFromRoll | None = None


def parse_notification(body: bytes) -> PortalNotification:
    """The notification in ``body``, or InvalidNotification naming every fault found."""
    document = _decode(body)
    errors = _schema_errors(document)
    errors += _identifier_errors(document, {path for path, _ in errors})
    if errors:
        raise InvalidNotification(errors)
    try:
        notification = msgspec.convert(document, PortalNotification, strict=False)
    except msgspec.ValidationError as error:
        # Only reachable if the schema and msgspec disagree about a value; still a refusal.
        message, _, where = str(error).partition(" - at `$")
        raise InvalidNotification([(where.rstrip("`").lstrip(".") or "body", message)]) from None
    if errors := _date_errors(notification):
        raise InvalidNotification(errors)
    return notification


_BYTE = re.compile(r"\(byte ([0-9]+)\)$")


def _decode(body: bytes) -> object:
    skipped = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    try:
        return msgspec.json.decode(memoryview(body)[skipped:])
    except msgspec.DecodeError as error:  # includes "number out of range"
        # msgspec counts from the first byte it was given; say where the fault is as sent.
        message = _BYTE.sub(lambda m: f"(byte {int(m[1]) + skipped})", str(error))
        raise InvalidNotification([("body", message)]) from None
    except UnicodeDecodeError as error:
        raise InvalidNotification([("body", f"not UTF-8: {error.reason}")]) from None
    except RecursionError:
        raise InvalidNotification([("body", "nested too deeply")]) from None


# --- the schema --------------------------------------------------------------------------------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 section 5.6 with the offset required: a notification's time must be an instant.
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True  # "format" only constrains strings; "type" refuses the rest
    if not _DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return False
    offset = match["offset"].upper().replace("Z", "+00:00")
    fraction = f".{match['fraction'][:6]}" if match["fraction"] else ""
    try:
        moment = dt.datetime.fromisoformat(f"{match['date']}T{match['time']}{fraction}{offset}")
    except ValueError:
        return False
    # Stored in UTC: a moment at the edge of the calendar would not convert.
    return 1900 <= moment.year <= 2100


def _format_checker() -> Any:
    """jsonschema checks "date-time" only when an optional package is installed; these checks
    are ours, so the contract means the same wherever the service runs."""
    checker = FormatChecker(formats=())
    checker.checks("date")(_is_date)
    checker.checks("date-time")(_is_date_time)
    return checker


@functools.cache
def _validator() -> Any:
    schema = msgspec.json.decode(SCHEMA_PATH.read_bytes())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


def _schema_errors(document: object) -> list[FieldError]:
    sent = document.get("type") if isinstance(document, dict) else None
    # Only a known type is ever repeated back: anything else might be child data.
    kind = sent if sent in typing.get_args(NotificationType) else "another type"
    try:
        errors = list(_validator().iter_errors(document))
    except RecursionError:
        return [("body", "nested too deeply")]
    return [found for error in errors for found in _say(error, kind)]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _path(parts: Iterable[object]) -> str:
    """Dotted field names ("child.upn"); an index or a key that is not a plain name (an unknown
    field called "" or "a.b") is bracketed, so every path points at one place."""
    path = ""
    for part in parts:
        if isinstance(part, str) and _NAME.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part)}]"
    return path or "body"


_TYPE_WORDS = {
    "object": "an object",
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
}
_FORMAT_WORDS = {
    "date": "must be a date, YYYY-MM-DD",
    "date-time": "must be a date and time with its offset, e.g. 2025-10-03T09:15:00+01:00",
}
# One phrase per JSON Schema keyword, so messages never echo the value sent (a child's name,
# a free-text summary) back into logs and responses.
_PHRASES: dict[str, Callable[[Any, object], str]] = {
    "type": lambda v, _: "must be " + _TYPE_WORDS.get(str(v), str(v)),
    "enum": lambda v, _: "must be one of: " + ", ".join(str(item) for item in v),
    "const": lambda v, _: f"must be {json.dumps(v)}",
    "pattern": lambda v, _: f"must match {v}",
    "format": lambda v, _: _FORMAT_WORDS.get(str(v), f"must be a {v}"),
    "minLength": lambda v, _: "must not be empty" if v == 1 else f"must be at least {v} characters",
    "maxLength": lambda v, _: f"must be at most {v} characters",
    "minimum": lambda v, _: f"must be at least {v}",
    "maximum": lambda v, _: f"must be at most {v}",
    "exclusiveMinimum": lambda v, _: f"must be more than {v}",
    "exclusiveMaximum": lambda v, _: f"must be less than {v}",
    "multipleOf": lambda v, _: f"must be a multiple of {v}",
    "not": lambda _, kind: f"not part of a notification of type {kind}",
}


def _say(error: Any, kind: object) -> list[FieldError]:
    """A jsonschema error as field errors. A missing or unknown field is named in the path
    itself ("child.given_nme"), which is where the notifier has to look."""
    parts, instance = list(error.absolute_path), error.instance
    where = _path(parts)
    if error.validator == "required":
        return [
            (_path([*parts, name]), "required")
            for name in error.validator_value
            if isinstance(instance, dict) and name not in instance
        ]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        return [
            (
                _path([*parts, name]),
                "unknown field (not in the portal contract: check the spelling)",
            )
            for name in instance
            if name not in known
        ]
    if error.validator == "anyOf":
        return [(where, str(error.schema.get("description", error.message)))]
    phrase = _PHRASES.get(str(error.validator))
    return [(where, phrase(error.validator_value, kind) if phrase else str(error.message))]


# --- checks the schema cannot express ------------------------------------------------------------

_IDENTIFIER_CHECKS: dict[str, Callable[[str], str | None]] = {
    "upn": upn_problem,
    "nhs_number": nhs_number_problem,
}


def _identifier_errors(document: object, reported: set[str]) -> list[FieldError]:
    """Check letter and check digit (DOMAIN.md "Identifiers"), for values whose shape the
    schema has already accepted, so a value is never reported twice."""
    child = document.get("child") if isinstance(document, dict) else None
    if not isinstance(child, dict):
        return []
    errors: list[FieldError] = []
    for field, problem_of in _IDENTIFIER_CHECKS.items():
        value, path = child.get(field), f"child.{field}"
        if isinstance(value, str) and path not in reported and (problem := problem_of(value)):
            errors.append((path, problem))
    return errors


def _date_errors(notification: PortalNotification) -> list[FieldError]:
    """An exclusion is notified after it is issued and starts no earlier than that day
    (003 "Section 19: by reason of exclusion": notify "within 24 hours of the exclusion being
    issued"); a date in the wrong order is a typing mistake the 24-hour check would hide."""
    errors: list[FieldError] = []
    if notification.child.date_of_birth > notification.submitted_at.date():
        errors.append(("child.date_of_birth", "is after the notification was submitted"))
    exclusion = notification.exclusion
    if exclusion is not None:
        if exclusion.issued_at > notification.submitted_at:
            errors.append(("exclusion.issued_at", "is after the notification was submitted"))
        if exclusion.first_day < exclusion.issued_at.date():
            errors.append(("exclusion.first_day", "is before the exclusion was issued"))
    return errors
