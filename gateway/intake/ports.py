"""What the intake needs from the MIS adapters: a reader per format (adapters/mis)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, Protocol

from gateway.model.attendance import FeedHeader, PupilIdentity, RawMark, YearTotals

FeedItem = FeedHeader | PupilIdentity | YearTotals | RawMark


class FeedReader(Protocol):
    def __call__(self, stream: BinaryIO) -> Iterable[FeedItem]:
        """Yield the document's records; raise MalformedDocument for an unusable document."""


class MalformedDocument(Exception):
    """The whole document is unusable (adapters raise their own subclass or this)."""

    def __init__(self, message: str, position: str) -> None:
        super().__init__(f"{message} at {position}")
        self.message = message
        self.position = position
