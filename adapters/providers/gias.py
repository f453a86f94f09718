"""A streaming reader for the DfE "Get Information about Schools" (GIAS) establishment extract.

GIAS publishes every establishment in England (open and closed, about 51,000 rows and 139
columns, some 60 MB) as ``edubasealldata<YYYYMMDD>.csv``, the "Establishment fields CSV" of
https://www.get-information-schools.service.gov.uk/Downloads (delivered inside Results.zip).
The gateway needs it to know which URNs are real schools, which are open, which authority each
belongs to, and which UKPRN a provider registered with UKRLP also holds as a school.

What the file looks like, and where that is known from:

* Columns: the header names both the code and the label of coded fields, e.g. ``URN``,
  ``LA (code)``, ``LA (name)``, ``EstablishmentNumber``, ``EstablishmentName``,
  ``TypeOfEstablishment (name)``, ``EstablishmentStatus (name)``, ``OpenDate``, ``CloseDate``,
  ``PhaseOfEducation (name)``, ``UKPRN``, ``Postcode``; every name is quoted in line 1.
  The set changes now and then (older extracts had ``CensusAreaStatisticWard (name)`` and no
  ``FSM``; by July 2024 ``RSCRegion (name)`` had gone and ``AccreditationExpiryDate`` had
  come), so columns are found by name, in any order, and the ones this reader does not use are
  ignored. Only ``REQUIRED_COLUMNS`` must be there. tests/fixtures/gias has a full header.
* Encoding: Windows-1252, not UTF-8 (DfE's own services read it so: the Teaching Record
  System's GIAS import says "The CSV file is encoded in Windows 1252", and Get Help with Tech
  changed its GIAS import to CP1252 so names like "FIERTÉ MULTI-ACADEMY TRUST" came out right).
  The five byte values Windows-1252 leaves undefined are read as the Latin-1 characters of the
  same value rather than failing the file. Should DfE move to UTF-8, a leading UTF-8
  byte-order mark switches the reader to UTF-8.
* Dates: ``dd-mm-yyyy`` (e.g. ``01-09-2019``), empty when unknown.
* ``EstablishmentStatus (name)`` is one of "Open", "Closed", "Open, but proposed to close",
  "Proposed to open" (the four statuses DfE's own benchmarking service splits the file by).

The file as a whole is refused (``GiasFileError``) only when it cannot be the extract: empty,
a zip archive, not CSV, or missing a required column; that is decided from the header, before
anything is yielded. After that each data row yields either an ``Establishment`` or one
``GiasRowError`` per fault, naming the physical line, the URN and the GIAS column, and the
reading goes on, so one bad row never costs the other 50,000.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, BinaryIO, Final, Literal

import msgspec

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "REQUIRED_COLUMNS",
    "Establishment",
    "GiasFileError",
    "GiasRowError",
    "Status",
    "read_gias",
]

URN: Final = "URN"
LA_CODE: Final = "LA (code)"
LA_NAME: Final = "LA (name)"
ESTABLISHMENT_NUMBER: Final = "EstablishmentNumber"
ESTABLISHMENT_NAME: Final = "EstablishmentName"
TYPE_NAME: Final = "TypeOfEstablishment (name)"
STATUS_NAME: Final = "EstablishmentStatus (name)"
OPEN_DATE: Final = "OpenDate"
CLOSE_DATE: Final = "CloseDate"
PHASE_NAME: Final = "PhaseOfEducation (name)"
UKPRN: Final = "UKPRN"
POSTCODE: Final = "Postcode"

# The GIAS columns the reader needs, in the order the extract has them.
REQUIRED_COLUMNS: Final[tuple[str, ...]] = (
    URN,
    LA_CODE,
    LA_NAME,
    ESTABLISHMENT_NUMBER,
    ESTABLISHMENT_NAME,
    TYPE_NAME,
    STATUS_NAME,
    OPEN_DATE,
    CLOSE_DATE,
    PHASE_NAME,
    UKPRN,
    POSTCODE,
)

Status = Literal["open", "closed", "proposed_to_close", "proposed_to_open"]

_STATUSES: Final[dict[str, Status]] = {
    "Open": "open",
    "Closed": "closed",
    "Open, but proposed to close": "proposed_to_close",
    "Proposed to open": "proposed_to_open",
}
_STATUSES_FOLDED: Final = {label.casefold(): status for label, status in _STATUSES.items()}
_STATUS_LABELS: Final = '"Open", "Closed", "Open, but proposed to close" or "Proposed to open"'

# GIAS writes "Not applicable" where an establishment has no phase (PRUs, for instance); the
# model says that with None.
_NO_PHASE: Final = "not applicable"

_DATE_PATTERN: Final = re.compile(r"([0-9]{2})-([0-9]{2})-([0-9]{4})")

# A record-level fault (the CSV itself broke) cannot be pinned on one column.
RECORD: Final = "(record)"

_ZIP_MAGIC: Final = b"PK\x03\x04"
_CP1252_ERRORS: Final = "adapters.providers.gias:latin1-fallback"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined: read them as Latin-1
    (the C1 control of the same value), as .NET and the WHATWG encoding standard do, so a stray
    byte in one school's name cannot make the whole extract unreadable."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_CP1252_ERRORS, _latin1_fallback)


class Establishment(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the extract, with the fields the gateway uses, checked and typed."""

    urn: str  # six digits
    la_code: str  # three digits, e.g. "925" Lincolnshire
    la_name: str
    establishment_number: str | None  # LA code + this is the DfE number ("LAESTAB")
    name: str
    type: str  # TypeOfEstablishment (name), e.g. "Pupil referral unit"
    status: Status
    phase: str | None  # PhaseOfEducation (name); None where GIAS says "Not applicable"
    ukprn: str | None  # eight digits starting 1
    postcode: str | None
    opened_on: dt.date | None
    closed_on: dt.date | None  # may be in the future ("Open, but proposed to close")


class GiasRowError(msgspec.Struct, frozen=True, kw_only=True):
    """One fault in one data row; the row yields no Establishment, the others go on."""

    line: int  # physical line the record starts on (the header is line 1)
    urn: str | None  # the row's URN as written, when it has one
    field: str  # the GIAS column at fault, or "(record)" when the CSV record itself broke
    message: str


class GiasFileError(ValueError):
    """The file as a whole cannot be the GIAS establishment extract."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


def read_gias(stream: BinaryIO) -> Iterator[Establishment | GiasRowError]:
    """Check the header now, then stream the rows as Establishments or GiasRowErrors.

    The header is read and checked before this function returns, so a file that is not the
    extract raises ``GiasFileError`` before anything is yielded. Rows are then read one at a
    time through the csv module (memory does not grow with the file). Blank lines are skipped.
    The stream is not closed: it belongs to the caller.
    """
    head = _read_up_to(stream, len(_ZIP_MAGIC))
    if not head:
        raise GiasFileError("the file is empty: line 1 must be the GIAS header")
    if head.startswith(_ZIP_MAGIC):
        raise GiasFileError(
            "this is a zip archive (GIAS delivers Results.zip): extract "
            "edubasealldata<YYYYMMDD>.csv from it and read that"
        )
    utf8 = head.startswith(codecs.BOM_UTF8)
    text = io.TextIOWrapper(
        _Rejoined(head.removeprefix(codecs.BOM_UTF8) if utf8 else head, stream),
        encoding="utf-8" if utf8 else "cp1252",
        errors="strict" if utf8 else _CP1252_ERRORS,
        newline="",
    )
    rows = csv.reader(text)
    try:
        header = next(rows, None)
    except UnicodeDecodeError:
        raise _not_utf8(1) from None
    except csv.Error as error:
        raise GiasFileError(f"line 1 is not a CSV header: {error}") from None
    if header is None:
        raise GiasFileError("the file is empty: line 1 must be the GIAS header")
    names = [name.strip() for name in header]
    return _establishments(rows, _column_indexes(names), names)


def _not_utf8(line: int) -> GiasFileError:
    # TextIOWrapper decodes 8 KiB at a time, so the line is where decoding stopped, not the byte.
    return GiasFileError(
        "the file starts with a UTF-8 byte-order mark but is not UTF-8 "
        f"(the first bad byte is at or after line {line})"
    )


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    head = b""
    while len(head) < size:
        more = stream.read(size - len(head))
        if not more:
            break
        head += more
    return head


def _column_indexes(names: list[str]) -> dict[str, int]:
    indexes: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in REQUIRED_COLUMNS:
            if name in indexes:
                raise GiasFileError(f"line 1 names column {name!r} twice")
            indexes[name] = index
    missing = tuple(name for name in REQUIRED_COLUMNS if name not in indexes)
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        hint = "" if indexes else " (line 1 names none of them: is this the GIAS extract?)"
        raise GiasFileError(
            f"missing required GIAS {label} {', '.join(repr(m) for m in missing)}{hint}",
            missing=missing,
        )
    return indexes


def _establishments(
    rows: Reader, at: dict[str, int], names: list[str]
) -> Iterator[Establishment | GiasRowError]:
    pick = itemgetter(*(at[column] for column in REQUIRED_COLUMNS))
    urn_at = at[URN]
    width = len(names)
    end = rows.line_num
    while True:
        line = end + 1
        try:
            row = next(rows, None)
        except csv.Error as error:
            end = rows.line_num
            yield GiasRowError(line=line, urn=None, field=RECORD, message=f"not CSV: {error}")
            continue
        except UnicodeDecodeError:
            raise _not_utf8(line) from None
        if row is None:
            return
        end = rows.line_num
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                continue
            urn = (row[urn_at].strip() or None) if urn_at < len(row) else None
            if len(row) < width:
                field = names[len(row)]
                message = f"the row ends after {len(row)} values; the header has {width} columns"
            else:
                field = names[-1]
                message = f"the row has {len(row)} values; the header has only {width} columns"
            yield GiasRowError(line=line, urn=urn, field=field, message=message)
            continue
        parsed = _establishment(pick(row), line)
        if isinstance(parsed, Establishment):
            yield parsed
        else:
            yield from parsed


def _establishment(values: tuple[str, ...], line: int) -> Establishment | list[GiasRowError]:
    """The row's Establishment, or every fault in it (``values`` in REQUIRED_COLUMNS order)."""
    (
        urn,
        la_code,
        la_name,
        establishment_number,
        name,
        type_name,
        status_label,
        open_date,
        close_date,
        phase,
        ukprn,
        postcode,
    ) = (value.strip() for value in values)
    faults: list[tuple[str, str]] = []
    if not _digits(urn, 6):
        faults.append((URN, _not(urn, "a six-digit URN")))
    if not _digits(la_code, 3):
        faults.append((LA_CODE, _not(la_code, "a three-digit LA code")))
    for column, value in ((LA_NAME, la_name), (ESTABLISHMENT_NAME, name), (TYPE_NAME, type_name)):
        if not value:
            faults.append((column, "is empty"))
    status = _STATUSES.get(status_label) or _STATUSES_FOLDED.get(status_label.casefold())
    if status is None:
        faults.append((STATUS_NAME, f"{status_label!r} is not one of {_STATUS_LABELS}"))
    # A UKPRN is the UK Register of Learning Providers' eight-digit number, always starting 1.
    if ukprn and not (_digits(ukprn, 8) and ukprn[0] == "1"):
        faults.append((UKPRN, _not(ukprn, "an eight-digit UKPRN starting 1")))
    opened_on = _date(open_date) if open_date else None
    if open_date and opened_on is None:
        faults.append((OPEN_DATE, _not(open_date, "a date in the form dd-mm-yyyy")))
    closed_on = _date(close_date) if close_date else None
    if close_date and closed_on is None:
        faults.append((CLOSE_DATE, _not(close_date, "a date in the form dd-mm-yyyy")))
    if faults or status is None:
        row_urn = urn or None
        return [GiasRowError(line=line, urn=row_urn, field=f, message=m) for f, m in faults]
    return Establishment(
        urn=urn,
        la_code=la_code,
        la_name=la_name,
        establishment_number=establishment_number or None,
        name=name,
        type=type_name,
        status=status,
        phase=None if not phase or phase.casefold() == _NO_PHASE else phase,
        ukprn=ukprn or None,
        postcode=(postcode if "  " not in postcode else " ".join(postcode.split())) or None,
        opened_on=opened_on,
        closed_on=closed_on,
    )


def _digits(value: str, length: int) -> bool:
    """``value`` is exactly ``length`` ASCII digits (str.isdigit alone would take "²")."""
    return len(value) == length and value.isascii() and value.isdigit()


def _not(value: str, what: str) -> str:
    return f"is empty; expected {what}" if not value else f"{value!r} is not {what}"


@functools.lru_cache(maxsize=2048)
def _date(value: str) -> dt.date | None:
    """A GIAS dd-mm-yyyy date, or None if ``value`` is not one. Cached: the extract's 50,000
    rows share a few thousand dates (1 September of each year above all)."""
    parts = _DATE_PATTERN.fullmatch(value)
    if parts is None:
        return None
    day, month, year = parts.groups()
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


class _Rejoined(io.BufferedIOBase):
    """The stream as TextIOWrapper should read it: the bytes already taken to look at the start
    of the file (for a zip signature or a byte-order mark) first, then the rest as it comes."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    @property
    def name(self) -> str:
        return str(getattr(self._rest, "name", "<GIAS extract>"))

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(self.read1, b""))
        return self.read1(size)

    def read1(self, size: int | None = -1) -> bytes:
        if self._head:
            chunk, self._head = self._head, b""
            return chunk
        return self._rest.read(size if size and size > 0 else io.DEFAULT_BUFFER_SIZE) or b""
