"""Whatever bytes arrive, a reader yields records or raises MalformedFeed, never anything else:
the intake maps MalformedFeed to "feed rejected" and any other exception to a server error."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.mis.csv_feed import read_csv
from adapters.mis.ctf import read_ctf
from adapters.mis.errors import MalformedFeed
from adapters.mis.json_feed import read_json
from gateway.model.attendance import FeedHeader, PupilIdentity, RawMark, YearTotals
from tests.unit.mis import FIXTURES

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RECORD_TYPES = (FeedHeader, PupilIdentity, YearTotals, RawMark)
CTF_SAMPLE = (FIXTURES / "ctf" / "ctf25_sex.xml").read_bytes()
CTF_TAGS = [
    "CTfile", "Header", "SourceSchool", "LEA", "Estab", "URN", "CTFpupilData", "Pupil", "UPN",
    "Sex", "Gender", "Attendance", "YearData", "Year", "SessionsPossible", "AttendSessions",
    "AttendanceStartDate", "AttendanceMarks",
]  # fmt: skip


def reads_or_refuses(reader: Callable[[BinaryIO], Iterable[Any]], body: bytes) -> None:
    records: list[Any] = []
    refused: MalformedFeed | None = None
    try:
        records = list(reader(io.BytesIO(body)))
    except MalformedFeed as error:
        refused = error
    assert refused is None or (refused.message and refused.position)
    assert all(isinstance(record, RECORD_TYPES) for record in records)


def xml_element(tags: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    leaf = st.tuples(tags, st.text(alphabet="/\\#IN0123456789-: ", max_size=12))
    text_element = leaf.map(lambda pair: f"<{pair[0]}>{pair[1]}</{pair[0]}>")
    return st.recursive(
        text_element,
        lambda children: st.tuples(tags, st.lists(children, max_size=4)).map(
            lambda pair: f"<{pair[0]}>{''.join(pair[1])}</{pair[0]}>"
        ),
        max_leaves=20,
    )


@SETTINGS
@given(st.binary(max_size=400))
def test_csv_any_bytes(body: bytes) -> None:
    reads_or_refuses(read_csv, body)


@SETTINGS
@given(st.text(max_size=300))
def test_csv_any_text_after_a_good_header(text: str) -> None:
    reads_or_refuses(
        read_csv, b"school_urn,upn,date,am,pm\n" + text.encode("utf-8", "surrogatepass")
    )


@SETTINGS
@given(st.binary(max_size=400))
def test_json_any_bytes(body: bytes) -> None:
    reads_or_refuses(read_json, body)


@SETTINGS
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["school_urn", "upn", "date", "am", "pm", "x"]) | st.text(), inner
            )
        ),
        max_leaves=12,
    )
)
def test_json_any_json_value(value: object) -> None:
    reads_or_refuses(read_json, msgspec.json.encode(value))


@SETTINGS
@given(st.binary(max_size=400))
def test_ctf_any_bytes(body: bytes) -> None:
    reads_or_refuses(read_ctf, body)


@SETTINGS
@given(st.integers(0, len(CTF_SAMPLE)), st.integers(0, 40), st.binary(max_size=12))
def test_ctf_a_real_file_damaged_anywhere(at: int, cut: int, inserted: bytes) -> None:
    reads_or_refuses(read_ctf, CTF_SAMPLE[:at] + inserted + CTF_SAMPLE[at + cut :])


@SETTINGS
@given(xml_element(st.sampled_from(CTF_TAGS)))
def test_ctf_any_arrangement_of_ctf_elements(document: str) -> None:
    reads_or_refuses(read_ctf, document.encode())
