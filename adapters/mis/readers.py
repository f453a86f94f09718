"""The MIS readers as the intake's port sees them: one per format, adapter errors turned
into the core's MalformedDocument at this edge."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

from adapters.mis.csv_feed import read_csv
from adapters.mis.ctf import read_ctf
from adapters.mis.errors import MalformedFeed
from adapters.mis.json_feed import read_json
from gateway.intake.ports import FeedItem, FeedReader, MalformedDocument
from gateway.model.attendance import FeedFormat


def _translated(read: Callable[[BinaryIO], Iterable[FeedItem]]) -> FeedReader:
    def reader(stream: BinaryIO) -> Iterator[FeedItem]:
        try:
            yield from read(stream)
        except MalformedFeed as exc:
            raise MalformedDocument(exc.message, exc.position) from exc

    return reader


def mis_readers() -> dict[FeedFormat, FeedReader]:
    return {
        "ctf": _translated(read_ctf),
        "csv": _translated(read_csv),
        "json": _translated(read_json),
    }
