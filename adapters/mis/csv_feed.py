"""The attendance CSV feed: one row per pupil per date, columns fixed by a published contract.

The contract is contracts/attendance/csv-columns.json (what schools and MIS suppliers read);
``REQUIRED_COLUMNS`` and ``OPTIONAL_COLUMNS`` below say the same and a unit test keeps them equal,
so the reader never has to find the repository at run time.

This is the hot path (an authority receives around 250,000 rows a day), so the reader streams:
the csv module reads the bytes through a TextIOWrapper, a row at a time, and never holds the file.
Rows are yielded with their values stripped but otherwise as sent; the intake validates them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, BinaryIO, Final

from adapters.mis.errors import MalformedFeed
from gateway.model.attendance import RawMark

if TYPE_CHECKING:
    from _csv import Reader

# The columns of contracts/attendance/csv-columns.json, in the order RawMark takes them.
REQUIRED_COLUMNS: Final = ("school_urn", "upn", "date", "am", "pm")
OPTIONAL_COLUMNS: Final = ("year_group", "registration_group")

_Pick = Callable[[Sequence[str]], tuple[str, str, str, str, str]]


def read_csv(stream: BinaryIO) -> Iterator[RawMark]:
    """Check the header against the contract now, then yield one RawMark per data row.

    The header is read and checked before this function returns, so a feed with the wrong
    columns fails before any row is stored. Rows then stream; ``locator`` is "line N", the
    physical line the row starts on (the header is line 1). A row with fewer cells than the
    header is yielded with the missing values as "" so the intake names the blank field; cells
    beyond the header's width are ignored; blank lines are skipped.
    """
    rows = csv.reader(io.TextIOWrapper(_Utf8Source(stream), encoding="utf-8", newline=""))
    try:
        header = next(rows, None)
    except csv.Error as error:
        raise MalformedFeed(f"the CSV cannot be read: {error}", f"line {rows.line_num}") from None
    if header is None:
        raise MalformedFeed("the feed is empty: line 1 must name the columns", "line 1")
    return _marks(rows, _pick_required(header), len(header))


def _pick_required(header: list[str]) -> _Pick:
    """What takes the required values out of a row, in RawMark's order, whatever the header's."""
    names = [name.strip().lower() for name in header]
    allowed = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for index, name in enumerate(names):
        if name not in allowed:
            raise MalformedFeed(
                f"unexpected column {name!r}; the contract allows {', '.join(allowed)}", "line 1"
            )
        if name in names[:index]:
            raise MalformedFeed(f"column {name!r} appears twice", "line 1")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        raise MalformedFeed(f"missing required {label} {', '.join(missing)}", "line 1")
    pick: _Pick = itemgetter(*(names.index(name) for name in REQUIRED_COLUMNS))
    return pick


def _marks(rows: Reader, pick: _Pick, width: int) -> Iterator[RawMark]:
    end = rows.line_num
    try:
        for row in rows:
            line = end + 1
            end = rows.line_num
            if len(row) != width:
                if not any(cell.strip() for cell in row):
                    continue
                row = (row + [""] * width)[:width]
            school_urn, upn, date, am, pm = pick(row)
            yield RawMark(
                locator=f"line {line}",
                school_urn=school_urn.strip(),
                upn=upn.strip(),
                date=date.strip(),
                am=am.strip(),
                pm=pm.strip(),
            )
    except csv.Error as error:
        raise MalformedFeed(f"the CSV cannot be read: {error}", f"line {rows.line_num}") from None


class _Utf8Source(io.BufferedIOBase):
    """The bytes as TextIOWrapper should see them: any UTF-8 BOM dropped, UTF-8 checked.

    TextIOWrapper decodes in 8 KiB chunks, so its own UnicodeDecodeError cannot say which line
    held the bad byte. Checking each chunk here, where the newlines and bytes already passed on
    are counted, can say the line and the byte (its offset in the body as sent, from 0); the
    check is a C decode of bytes the csv module reads anyway.
    """

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._newlines = 0
        self._passed = 0  # bytes of the body before the next chunk, a BOM included
        self._started = False

    @property
    def name(self) -> str:
        return str(getattr(self._raw, "name", "<attendance csv>"))

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(self.read1, b""))
        return self.read1(size)

    def read1(self, size: int | None = -1) -> bytes:
        chunk = self._raw.read(size if size and size > 0 else io.DEFAULT_BUFFER_SIZE) or b""
        if not self._started:
            self._started = True
            chunk = self._without_bom(chunk)
        try:
            self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            # error.object is this chunk after at most 3 undecoded bytes (never a newline).
            line = self._newlines + error.object[: error.start].count(b"\n") + 1
            held = len(error.object) - len(chunk)
            at = self._passed - held + error.start
            raise MalformedFeed("the feed is not UTF-8", f"line {line}, byte {at}") from None
        self._newlines += chunk.count(b"\n")
        self._passed += len(chunk)
        return chunk

    def _without_bom(self, chunk: bytes) -> bytes:
        while chunk and len(chunk) < len(codecs.BOM_UTF8) and codecs.BOM_UTF8.startswith(chunk):
            more = self._raw.read(len(codecs.BOM_UTF8) - len(chunk))
            if not more:
                break
            chunk += more
        if chunk.startswith(codecs.BOM_UTF8):
            self._passed += len(codecs.BOM_UTF8)  # part of the body as sent, so counted
            return chunk[len(codecs.BOM_UTF8) :]
        return chunk
