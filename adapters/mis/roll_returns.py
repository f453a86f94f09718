"""A school's admission-register returns as its MIS sends them (contracts/roll/README.md):
a JSON array of deletions or additions, or, for deletions, a Common Transfer File of leavers
(adapters/mis/ctf_leavers.py).

Every record at fault is named with its position ("$[2].pupil.upn"), so a school learns of
every bad record at once; a return is taken whole or refused whole.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import TypeVar

import msgspec

from gateway.model.roll import RollAddition, RollDeletion
from gateway.roll.returns import InvalidRollReturn

Record = TypeVar("Record", RollDeletion, RollAddition)
Errors = list[tuple[str, str]]


class MalformedReturn(Exception):
    """The return cannot be taken; ``errors`` are (record and field, what is wrong)."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(f"{where}: {what}" for where, what in errors))
        self.errors = errors


_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
# A domain check names its own field ("pupil.upn: ...") below the path msgspec gives.
_FIELD = re.compile(r"^(?P<field>[a-z_][a-z0-9_.]*): (?P<message>.+)$", re.DOTALL)


def read_json(body: bytes, kind: type[Record]) -> list[tuple[str, Record]]:
    """A JSON array of records (one object alone is read as an array of one)."""
    skipped = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    try:
        document = msgspec.json.decode(memoryview(body)[skipped:])
    except msgspec.DecodeError as exc:
        raise MalformedReturn([("body", f"not JSON: {exc}")]) from None
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list) or not document:
        raise MalformedReturn([("body", "expected a JSON array of returns, one at least")])
    records: list[tuple[str, Record]] = []
    errors: Errors = []
    for number, item in enumerate(document):
        try:
            records.append((f"$[{number}]", msgspec.convert(item, kind)))
        except msgspec.ValidationError as exc:
            errors.append(locate(f"$[{number}]", str(exc)))
    if errors:
        raise MalformedReturn(errors)
    return records


def locate(record: str, message: str) -> tuple[str, str]:
    """(record and field, message) from a msgspec error about one record."""
    path = ""
    found = _AT.match(message)
    if found:
        message, path = found["message"], found["path"]
    own = _FIELD.match(message)
    if own:
        return f"{record}.{own['field']}", own["message"]
    # msgspec's path starts at the record when it was converted alone.
    return (f"{record}{path}" if path else record), message


Located = list[tuple[str, RollDeletion | RollAddition]]
Reader = Callable[[bytes, str], Located]


def deletions_reader(
    body: bytes, content_type: str
) -> list[tuple[str, RollDeletion | RollAddition]]:
    """Deletions as JSON, or a Common Transfer File of leavers (``application/xml``)."""
    try:
        if _is_xml(content_type):
            from adapters.mis.ctf_leavers import read_ctf_leavers

            return list(read_ctf_leavers(body))
        return list(read_json(body, RollDeletion))
    except MalformedReturn as exc:
        raise InvalidRollReturn(exc.errors) from exc


def additions_reader(
    body: bytes, content_type: str
) -> list[tuple[str, RollDeletion | RollAddition]]:
    try:
        return list(read_json(body, RollAddition))
    except MalformedReturn as exc:
        raise InvalidRollReturn(exc.errors) from exc


def _is_xml(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in ("application/xml", "text/xml")


__all__ = [
    "MalformedReturn",
    "Reader",
    "additions_reader",
    "deletions_reader",
    "locate",
    "read_json",
]
