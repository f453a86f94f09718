"""The attendance JSON reader: an array of mark objects, decoded by msgspec."""

from __future__ import annotations

import io
import pathlib

import pytest

from adapters.mis.errors import MalformedFeed
from adapters.mis.json_feed import read_json
from gateway.model.attendance import RawMark

FIXTURES = pathlib.Path(__file__).parents[2] / "fixtures" / "mis"


def read(body: bytes) -> list[RawMark]:
    return read_json(io.BytesIO(body))


def refusal(body: bytes) -> tuple[str, str]:
    with pytest.raises(MalformedFeed) as bad:
        read(body)
    return bad.value.message, bad.value.position


def test_every_object_becomes_a_mark_located_by_its_index() -> None:
    with (FIXTURES / "attendance.json").open("rb") as stream:
        marks = read_json(stream)
    common = {"school_urn": "120456"}
    assert marks == [
        RawMark(locator="$[0]", upn="R925200126001", date="2025-09-04", am="/", pm="\\", **common),
        # the extra "note" key is ignored
        RawMark(locator="$[1]", upn="R925200126001", date="2025-09-05", am="N", pm="\\", **common),
        RawMark(locator="$[2]", upn="F925200126002", date="2025-09-04", am="", pm="", **common),
    ]


def test_a_leading_bom_is_accepted() -> None:
    assert read(b"\xef\xbb\xbf[]") == []


def test_a_value_of_the_wrong_type_is_refused_with_its_path() -> None:
    with (FIXTURES / "wrong_type.json").open("rb") as stream, pytest.raises(MalformedFeed) as bad:
        read_json(stream)
    assert (bad.value.message, bad.value.position) == ("Expected `str`, got `int`", "$[1].date")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"marks": []}', ("Expected `array`, got `object`", "$")),
        (b'[["120456"]]', ("Expected `object`, got `array`", "$[0]")),
        (
            b'[{"school_urn": "1", "upn": "2", "date": "3", "am": "4"}]',
            ("Object missing required field `pm`", "$[0]"),
        ),
        (b'[{"school_urn": null}]', ("Expected `str`, got `null`", "$[0].school_urn")),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_at_msgspecs_path(
    body: bytes, expected: tuple[str, str]
) -> None:
    assert refusal(body) == expected


def test_json_that_is_not_well_formed_is_refused_at_msgspecs_byte_in_the_body_as_sent() -> None:
    assert refusal(b"[] x") == ("JSON is malformed: trailing characters", "byte 4")
    assert refusal(b"\xef\xbb\xbf[] x") == ("JSON is malformed: trailing characters", "byte 7")
    assert refusal(b"") == ("Input data was truncated", "byte 0")
    assert refusal(b'[{"school_urn": "1"') == ("Input data was truncated", "byte 19")


def test_a_string_that_is_not_utf8_is_refused_at_its_byte_in_the_body() -> None:
    body = b'[{"school_urn": "1", "upn": "\xff", "date": "3", "am": "4", "pm": "5"}]'
    assert refusal(body) == ("the body is not UTF-8", "byte 29")
