"""The attendance JSON feed: an array of mark objects, each value a string.

``[{"school_urn": "120456", "upn": "...", "date": "2025-09-04", "am": "/", "pm": "\\\\"}, ...]``

The body is decoded in one pass by msgspec straight into Structs (STYLE.md: no intermediate
dicts on hot paths); JSON cannot be read a record at a time without a second parser, and an API
body is bounded by the server's request limit, so the whole body is read. Keys beyond the five
are ignored, so a supplier may send more without breaking the feed. A value that is not a
string, a missing key or a body that is not an array makes the whole body unusable: those are
the shape of the document, not one record's value, and msgspec's path says where.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

import msgspec

from adapters.mis.errors import MalformedFeed
from gateway.model.attendance import RawMark


class _JsonMark(msgspec.Struct, frozen=True):
    """RawMark as the body carries it: no locator, which is the record's place in the array."""

    school_urn: str
    upn: str
    date: str
    am: str
    pm: str


_DECODER = msgspec.json.Decoder(list[_JsonMark])


def read_json(stream: BinaryIO) -> list[RawMark]:
    """Every mark in the body, with ``locator`` "$[i]" (i counts from 0, as JSONPath does)."""
    body = stream.read()
    skipped = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    try:
        marks = _DECODER.decode(memoryview(body)[skipped:])
    except msgspec.ValidationError as error:
        message, _, path = str(error).partition(" - at `")
        raise MalformedFeed(message, path.rstrip("`") or "$") from None
    except msgspec.DecodeError as error:
        raise _malformed(str(error), skipped, len(body)) from None
    except UnicodeDecodeError:
        # msgspec decodes each string on its own, so its offset is within that string.
        raise MalformedFeed("the body is not UTF-8", f"byte {_first_bad_byte(body)}") from None
    return [
        RawMark(
            locator=f"$[{index}]",
            school_urn=mark.school_urn,
            upn=mark.upn,
            date=mark.date,
            am=mark.am,
            pm=mark.pm,
        )
        for index, mark in enumerate(marks)
    ]


def _malformed(message: str, skipped: int, size: int) -> MalformedFeed:
    """msgspec's "JSON is malformed: ... (byte N)" as a position in the body as sent."""
    text, _, byte = message.removesuffix(")").rpartition(" (byte ")
    if text and byte.isdigit():
        return MalformedFeed(text, f"byte {int(byte) + skipped}")
    return MalformedFeed(message, f"byte {size}")


def _first_bad_byte(body: bytes) -> int:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return len(body)
