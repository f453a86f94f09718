"""Boundary validation: bad identifiers are refused with the field named."""

from __future__ import annotations

import msgspec
import pytest

from gateway.model.case import NewCase
from gateway.model.child import ChildDetails
from tests.support import child_json


def decode_child(body: dict[str, object]) -> ChildDetails:
    return msgspec.json.decode(msgspec.json.encode(body), type=ChildDetails)


def test_valid_child_decodes() -> None:
    child = decode_child(child_json(3))
    assert child.identifiers.upn is not None and child.home_la == "925"


@pytest.mark.parametrize(
    ("identifiers", "field"),
    [
        ({"upn": "A801200005001"}, "identifiers.upn"),
        ({"nhs_number": "9434765918"}, "identifiers.nhs_number"),
        ({"uln": "12345"}, "identifiers.uln"),
        ({}, "identifiers"),
    ],
)
def test_bad_identifier_names_its_field(identifiers: dict[str, str], field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        decode_child(child_json(1, identifiers=identifiers))
    assert str(caught.value).startswith(field + ":")


@pytest.mark.parametrize(("key", "value"), [("home_la", "92"), ("school_urn", "12A456")])
def test_bad_codes_name_their_field(key: str, value: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=f"^{key}:"):
        decode_child(child_json(1, **{key: value}))


def test_case_reason_is_one_of_the_statutory_three() -> None:
    body = {"child_id": "c", "reason": "truancy", "source": "school", "summary": "s"}
    with pytest.raises(msgspec.ValidationError, match=r"\$\.reason"):
        msgspec.convert(body, NewCase)
