"""contracts/portal: the schema is valid JSON Schema 2020-12, every valid example parses, and
every invalid example is refused with exactly the fields it gets wrong."""

from __future__ import annotations

import json
import typing

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from adapters.portal import SCHEMA_PATH, InvalidNotification, parse_notification
from gateway.rules.pack import NotificationType
from tests.unit.portal import EXAMPLES

TYPES = typing.get_args(NotificationType)
VALID = sorted(p.stem for p in EXAMPLES.glob("*.json") if not p.stem.startswith("invalid_"))
# The invalid examples and the (path, message) pairs each must produce, in order.
INVALID: dict[str, list[tuple[str, str]]] = {
    "invalid_misspelt_fields": [
        ("child.given_name", "required"),
        ("child.given_nme", "unknown field (not in the portal contract: check the spelling)"),
        ("illness", "required"),
        ("ilness", "unknown field (not in the portal contract: check the spelling)"),
    ],
    "invalid_check_digits": [
        ("child.nhs_number", "the NHS number check digit does not match"),
        ("child.upn", "the UPN check letter does not match"),
    ],
    "invalid_section_for_another_type": [
        ("exclusion", "required"),
        ("illness", "not part of a notification of type suspension"),
    ],
    "invalid_values": [
        ("child.date_of_birth", "must be a date, YYYY-MM-DD"),
        ("child.family_name", "must not be empty"),
        ("continuous_absence.days", "must be at least 10"),
        ("ehcp.linked_to_needs", "must be true or false"),
        ("ehcp.status", "must be one of: none, requested, assessing, draft, issued, ceased"),
        ("school.urn", "must match ^[0-9]{6}$"),
        ("submitted_at", "must be a date and time with its offset, e.g. 2025-10-03T09:15:00+01:00"),
    ],
    "invalid_exclusion_dates": [
        ("exclusion.first_day", "is before the exclusion was issued"),
        ("exclusion.issued_at", "is after the notification was submitted"),
    ],
    "invalid_ehcp_without_plan": [
        ("ehcp", "An ehcp_unable_to_attend notification is for a child who has an EHC plan"),
        ("exclusion", "not part of a notification of type ehcp_unable_to_attend"),
    ],
}


def test_schema_is_draft_2020_12_and_names_every_notification_type() -> None:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert tuple(schema["properties"]["type"]["enum"]) == TYPES


def test_one_valid_example_per_notification_type() -> None:
    assert sorted(TYPES) == VALID


def test_every_invalid_example_has_its_expected_errors() -> None:
    on_disk = {p.stem for p in EXAMPLES.glob("invalid_*.json")}
    assert on_disk == set(INVALID)


@pytest.mark.parametrize("name", VALID)
def test_valid_example_parses_as_its_type(name: str) -> None:
    notification = parse_notification((EXAMPLES / f"{name}.json").read_bytes())
    assert notification.type == name


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_example_is_refused_naming_each_field(name: str) -> None:
    with pytest.raises(InvalidNotification) as refused:
        parse_notification((EXAMPLES / f"{name}.json").read_bytes())
    expected = INVALID[name]
    assert [path for path, _ in refused.value.errors] == [path for path, _ in expected]
    for (_, got), (_, wanted) in zip(refused.value.errors, expected, strict=True):
        assert got.startswith(wanted)
