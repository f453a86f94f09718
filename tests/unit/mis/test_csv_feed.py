"""The attendance CSV reader against contracts/attendance/csv-columns.json."""

from __future__ import annotations

import codecs
import io
import json
import pathlib

import pytest

from adapters.mis.csv_feed import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_csv
from adapters.mis.errors import MalformedFeed
from gateway.model.attendance import RawMark

ROOT = pathlib.Path(__file__).parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "mis"


def read(body: bytes) -> list[RawMark]:
    return list(read_csv(io.BytesIO(body)))


def mark(line: int, upn: str, date: str, am: str, pm: str) -> RawMark:
    return RawMark(locator=f"line {line}", school_urn="120456", upn=upn, date=date, am=am, pm=pm)


def test_the_python_constants_say_what_the_published_contract_says() -> None:
    contract = json.loads((ROOT / "contracts" / "attendance" / "csv-columns.json").read_text())
    assert tuple(c["name"] for c in contract["required"]) == REQUIRED_COLUMNS
    assert tuple(c["name"] for c in contract["optional"]) == OPTIONAL_COLUMNS


def test_a_feed_with_bom_permuted_header_and_optional_column_reads_every_row() -> None:
    with (FIXTURES / "attendance.csv").open("rb") as stream:
        marks = list(read_csv(stream))
    assert marks == [
        mark(2, "R925200126001", "2025-09-04", "/", "\\"),
        mark(3, "R925200126001", "2025-09-05", "N", "\\"),  # " N " stripped
        # line 4 is blank and skipped; line 6 is a cell short, so pm comes through empty
        mark(5, "F925200126002", "2025-09-04", "I", "I"),
        mark(6, "F925200126002", "2025-09-05", "/", ""),
    ]


def test_a_quoted_value_over_two_lines_keeps_the_physical_line_numbers() -> None:
    body = b'school_urn,upn,date,am,pm\r\n120456,"R925\r\n200126001",2025-09-04,/,\\\r\n'
    body += b"120456,F925200126002,2025-09-04,/,\\\r\n"
    assert [m.locator for m in read(body)] == ["line 2", "line 4"]


def test_extra_cells_beyond_the_header_are_ignored() -> None:
    body = b"school_urn,upn,date,am,pm\n120456,R925200126001,2025-09-04,/,\\,surplus\n"
    assert read(body) == [mark(2, "R925200126001", "2025-09-04", "/", "\\")]


def test_a_missing_required_column_is_named_before_any_row_is_read() -> None:
    with (FIXTURES / "bad_header.csv").open("rb") as stream, pytest.raises(MalformedFeed) as bad:
        read_csv(stream)  # raises on the call, not on the first next()
    assert (bad.value.message, bad.value.position) == ("missing required column pm", "line 1")
    assert str(bad.value) == "missing required column pm at line 1"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"school_urn,upn,date,am,pm,surname", "unexpected column 'surname'"),
        (b"school_urn,upn,date,am,pm,", "unexpected column ''"),
        (b"school_urn,upn,date,am,pm,UPN", "column 'upn' appears twice"),
        (b"school_urn,upn,date", "missing required columns am, pm"),
    ],
)
def test_a_header_outside_the_contract_is_refused(header: bytes, message: str) -> None:
    with pytest.raises(MalformedFeed) as bad:
        read(header + b"\n")
    assert bad.value.message.startswith(message)
    assert bad.value.position == "line 1"


def test_an_empty_feed_is_refused() -> None:
    with pytest.raises(MalformedFeed) as bad:
        read(b"")
    assert bad.value.position == "line 1"


def test_bytes_that_are_not_utf8_are_refused_at_their_line_and_byte() -> None:
    with (FIXTURES / "not_utf8.csv").open("rb") as stream, pytest.raises(MalformedFeed) as bad:
        list(read_csv(stream))
    assert (bad.value.message, bad.value.position) == ("the feed is not UTF-8", "line 3, byte 94")


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_the_byte_is_counted_in_the_body_as_sent_across_chunks(bom: bytes) -> None:
    row = b"120456,R925200126001,2025-09-04,/,\\\n"
    bad_byte = b"\xe2\x82"  # the start of a three-byte character, cut short
    body = bom + b"school_urn,upn,date,am,pm\n" + row * 300 + b"120456," + bad_byte + b"x,/,\\\n"
    with pytest.raises(MalformedFeed) as bad:
        read(body)
    assert bad.value.position == f"line 302, byte {body.index(bad_byte)}"


def test_the_line_of_a_bad_byte_is_right_deep_into_a_large_file() -> None:
    rows = b"".join(b"120456,R925200126001,2025-09-04,/,\\\n" for _ in range(5000))
    body = b"school_urn,upn,date,am,pm\n" + rows + b"120456,R925200126001,\xe2\x28\xa1,/,\\\n"
    with pytest.raises(MalformedFeed) as bad:
        read(body)
    assert bad.value.position == f"line 5002, byte {body.index(bytes([0xE2]))}"


def test_a_field_that_never_closes_its_quote_is_refused_where_the_reader_gave_up() -> None:
    body = b'school_urn,upn,date,am,pm\n120456,"R925200126001,2025-09-04,/,\\\n' + b"x" * 140_000
    with pytest.raises(MalformedFeed) as bad:
        read(body)
    assert bad.value.message.startswith("the CSV cannot be read: field larger than field limit")
    assert bad.value.position == "line 3"


def test_rows_stream_without_reading_the_whole_file() -> None:
    class CountingStream(io.BytesIO):
        def __init__(self, body: bytes) -> None:
            super().__init__(body)
            self.largest = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.largest = max(self.largest, len(chunk))
            return chunk

    rows = b"".join(b"120456,R925200126001,2025-09-04,/,\\\n" for _ in range(20_000))
    stream = CountingStream(b"school_urn,upn,date,am,pm\n" + rows)
    marks = read_csv(stream)
    assert next(marks).locator == "line 2"
    assert stream.tell() < 64 * 1024
    assert sum(1 for _ in marks) == 19_999
    assert stream.largest <= 64 * 1024
