"""The GIAS establishment extract: its published header and encoding, faulty rows, big files."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import pathlib
import tracemalloc
from collections import Counter

import pytest

from adapters.providers.gias import (
    REQUIRED_COLUMNS,
    Establishment,
    GiasFileError,
    GiasRowError,
    read_gias,
)
from tests.unit.providers import GIAS

SAMPLE = GIAS / "edubasealldata_sample.csv"
BAD_ROWS = GIAS / "edubasealldata_bad_rows.csv"


def read(path: pathlib.Path) -> list[Establishment | GiasRowError]:
    with path.open("rb") as stream:
        return list(read_gias(stream))


def by_urn(items: list[Establishment | GiasRowError]) -> dict[str, Establishment]:
    return {item.urn: item for item in items if isinstance(item, Establishment)}


def published_header() -> list[str]:
    return next(csv.reader([SAMPLE.read_bytes().splitlines()[0].decode("cp1252")]))


def minimal_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("cp1252")


GOOD = {
    "URN": "120501",
    "LA (code)": "925",
    "LA (name)": "Lincolnshire",
    "EstablishmentNumber": "2104",
    "EstablishmentName": "Wragby Fen Primary School",
    "TypeOfEstablishment (name)": "Community school",
    "EstablishmentStatus (name)": "Open",
    "PhaseOfEducation (name)": "Primary",
    "UKPRN": "10071234",
    "Postcode": "LN8 5QT",
}


def test_the_fixture_has_the_full_published_header_in_its_order() -> None:
    names = published_header()
    assert len(names) == len(set(names)) == 139
    assert names[:5] == [
        "URN",
        "LA (code)",
        "LA (name)",
        "EstablishmentNumber",
        "EstablishmentName",
    ]
    assert names[-3:] == ["LSOA (code)", "FSM", "AccreditationExpiryDate"]
    # The required columns exist and REQUIRED_COLUMNS lists them in the extract's own order.
    assert [name for name in names if name in REQUIRED_COLUMNS] == list(REQUIRED_COLUMNS)
    # Every name in line 1 is quoted, as GIAS writes it.
    assert SAMPLE.read_bytes().startswith(b'"URN","LA (code)","LA (name)","EstablishmentNumber"')


def test_the_fixture_is_windows_1252_as_gias_publishes_it() -> None:
    data = SAMPLE.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"St Guthlac\x92s" in data  # RIGHT SINGLE QUOTATION MARK is 0x92 in Windows-1252
    assert b"\xc9cole Saint-Exup\xe9ry" in data


def test_the_sample_parses_with_the_expected_count_per_status() -> None:
    items = read(SAMPLE)
    assert all(isinstance(item, Establishment) for item in items)
    assert Counter(item.status for item in items if isinstance(item, Establishment)) == {
        "open": 17,
        "closed": 6,
        "proposed_to_close": 1,
        "proposed_to_open": 1,
    }
    assert Counter(item.la_code for item in items if isinstance(item, Establishment)) == {
        "925": 10,
        "319": 8,
        "881": 5,
        "330": 1,
        "926": 1,
    }


def test_a_closed_school_has_its_close_date() -> None:
    schools = by_urn(read(SAMPLE))
    junior = schools["120503"]
    assert junior.status == "closed"
    assert junior.closed_on == dt.date(2019, 8, 31)
    assert junior.opened_on is None
    # Its academy successor opened the next day.
    assert schools["148810"].opened_on == dt.date(2019, 9, 1)
    assert all(s.closed_on is not None for s in schools.values() if s.status == "closed")
    assert schools["141234"].ukprn == "10049876"  # a closed school keeps its UKPRN


def test_windows_1252_characters_decode_right() -> None:
    schools = by_urn(read(SAMPLE))
    assert schools["120502"].name == "St Guthlac\u2019s CofE Primary School"
    assert schools["102955"].name == "\u00c9cole Saint-Exup\u00e9ry (Sutton)"


def test_each_field_comes_from_its_gias_column() -> None:
    schools = by_urn(read(SAMPLE))
    assert schools["120504"] == Establishment(
        urn="120504",
        la_code="925",
        la_name="Lincolnshire",
        establishment_number="1104",
        name="The Fens Pupil Referral Unit",
        type="Pupil referral unit",
        status="open",
        phase=None,  # GIAS says "Not applicable"
        ukprn="10071999",
        postcode="PE11 1DL",
        opened_on=None,
        closed_on=None,
    )
    proposed = schools["150321"]
    assert (proposed.status, proposed.opened_on) == ("proposed_to_open", dt.date(2026, 9, 1))
    assert (proposed.establishment_number, proposed.ukprn) == (None, None)
    closing = schools["120506"]
    assert (closing.status, closing.closed_on) == ("proposed_to_close", dt.date(2026, 8, 31))
    assert schools["102951"].phase == "Nursery"
    assert schools["102951"].ukprn is None
    assert schools["149330"].type == "Academy alternative provision converter"
    assert schools["102953"].type == "Foundation special school"
    assert schools["121999"].type == "Other independent school"


def test_a_utf8_extract_with_a_byte_order_mark_reads_the_same() -> None:
    text = SAMPLE.read_bytes().decode("cp1252")
    utf8 = io.BytesIO(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert list(read_gias(utf8)) == read(SAMPLE)


def test_columns_are_found_by_name_in_any_order_and_others_are_ignored() -> None:
    header = ["SomeNewColumn (name)", *reversed(REQUIRED_COLUMNS), "Town"]
    row = {**GOOD, "SomeNewColumn (name)": "x", "Town": "Wragby", "Postcode": " LN8  5QT "}
    (item,) = read_gias(io.BytesIO(minimal_csv(header, [row])))
    assert isinstance(item, Establishment)
    assert (item.urn, item.name, item.postcode) == (
        "120501",
        "Wragby Fen Primary School",
        "LN8 5QT",
    )


def test_bad_rows_name_line_urn_and_column_and_the_rest_go_on() -> None:
    items = read(BAD_ROWS)
    errors = [(e.line, e.urn, e.field) for e in items if isinstance(e, GiasRowError)]
    assert errors == [
        (3, "12050", "URN"),
        (4, "120503", "CloseDate"),
        # 148810 spans lines 5-6 (a quoted street with a line break) and is fine.
        (7, "120504", "EstablishmentStatus (name)"),
        (8, "120505", "UKPRN"),
        (8, "120505", "OpenDate"),
        # The last record was cut off part-way through its name.
        (10, "102951", "TypeOfEstablishment (code)"),
    ]
    assert list(by_urn(items)) == ["120501", "148810", "102950"]
    messages = {e.field: e.message for e in items if isinstance(e, GiasRowError)}
    assert "'12050'" in messages["URN"]
    assert "'31/08/2019'" in messages["CloseDate"] and "dd-mm-yyyy" in messages["CloseDate"]
    assert "'31-02-2020'" in messages["OpenDate"]
    assert "'Closing'" in messages["EstablishmentStatus (name)"]
    assert "'9999999'" in messages["UKPRN"]


def test_a_row_with_more_values_than_the_header_is_a_row_error() -> None:
    data = minimal_csv(list(REQUIRED_COLUMNS), [GOOD]) + b"120502,925,x,,y,z,Open,,,,,,extra\n"
    first, second = read_gias(io.BytesIO(data))
    assert isinstance(first, Establishment)
    assert second == GiasRowError(
        line=3,
        urn="120502",
        field="Postcode",
        message="the row has 13 values; the header has only 12 columns",
    )


def test_a_missing_required_column_refuses_the_file_before_any_row() -> None:
    missing = r"missing required GIAS column 'EstablishmentStatus \(name\)'"
    with (
        (GIAS / "broken.csv").open("rb") as stream,
        pytest.raises(GiasFileError, match=missing) as caught,
    ):
        read_gias(stream)  # raises here, before iteration starts
    assert caught.value.missing == ("EstablishmentStatus (name)",)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"PK\x03\x04\x14\x00\x00\x00", "zip archive"),
        (b"<!DOCTYPE html><html><body>Service unavailable</body></html>\n", "none of them"),
    ],
    ids=["empty", "zip", "html"],
)
def test_a_file_that_cannot_be_the_extract_is_refused(data: bytes, says: str) -> None:
    with pytest.raises(GiasFileError, match=says):
        read_gias(io.BytesIO(data))


def test_a_byte_windows_1252_leaves_undefined_does_not_stop_the_file() -> None:
    data = minimal_csv(list(REQUIRED_COLUMNS), [GOOD]).replace(b"Wragby Fen", b"Wragby\x81Fen")
    (item,) = read_gias(io.BytesIO(data))
    assert isinstance(item, Establishment)
    assert item.name == "Wragby\x81Fen Primary School"


def test_a_file_marked_utf8_that_is_not_is_refused() -> None:
    data = codecs.BOM_UTF8 + minimal_csv(list(REQUIRED_COLUMNS), [GOOD, GOOD])
    data = data.replace(b"Wragby Fen", b"Wragby \xff Fen")
    with pytest.raises(GiasFileError, match="not UTF-8"):
        list(read_gias(io.BytesIO(data)))


class CountingStream(io.BytesIO):
    """Counts the bytes the reader takes, to show it reads only as far as it has to."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_rows_come_as_the_bytes_arrive_not_after_the_whole_file() -> None:
    header, first_row = SAMPLE.read_bytes().splitlines()[:2]
    stream = CountingStream(header + b"\r\n" + (first_row + b"\r\n") * 5_000)
    items = read_gias(stream)
    first = next(items)
    assert isinstance(first, Establishment)
    assert stream.taken <= 64 * 1024 < len(stream.getvalue()) // 10
    assert not stream.closed


def test_fifty_thousand_rows_stream_in_bounded_memory(tmp_path: pathlib.Path) -> None:
    """The real extract is ~60 MB; the reader's own memory must not grow with it.

    Rows carry the full published header with the required columns filled (empty cells cost
    the csv module nothing, which keeps this quick under tracemalloc)."""
    names = published_header()
    values = {**GOOD, "OpenDate": "01-09-2019", "CloseDate": ""}
    tail = ",".join(f'"{values.get(name, "")}"' for name in names[1:]).encode()
    path = tmp_path / "edubasealldata20250101.csv"
    with path.open("wb") as out:
        out.write(",".join(f'"{name}"' for name in names).encode() + b"\r\n")
        out.writelines(b"%d,%s\r\n" % (200_000 + n, tail) for n in range(50_000))
    size = path.stat().st_size
    assert size > 20 * 1024 * 1024

    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            count = sum(isinstance(item, Establishment) for item in read_gias(stream))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert count == 50_000
    assert peak < 1024 * 1024 < size // 20
