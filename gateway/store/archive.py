"""The raw archive (``inbound_archive``): every body received, zlib-compressed as received, kept
before it is read, so anything taken can be read again (a replay, a feed cut off mid-read).

Refused junk must not fill it (docs/operations.md, "The raw archive's limits"): a body refused
whole (not UTF-8, malformed, from a sender it is forbidden) and larger than
GATEWAY_ARCHIVE_REFUSED_WHOLE_BYTES keeps only its SHA-256, its size and its first KiB, marked
``truncated``, in the transaction that refuses it. Accepted bodies are kept whole.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import TYPE_CHECKING, BinaryIO

import msgspec
import sqlalchemy as sa

from gateway.clock import new_id
from gateway.store.schema import inbound_archive

if TYPE_CHECKING:
    from gateway.settings import Settings

# What is kept of a body refused whole when it is larger than the rules allow whole.
HEAD_BYTES = 1024


class ArchiveRules(msgspec.Struct, kw_only=True, frozen=True):
    refused_whole_bytes: int = 1_048_576

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveRules:
        return cls(refused_whole_bytes=settings.archive_refused_whole_bytes)


class ArchiveRepository:
    def __init__(self, connection: sa.Connection, rules: ArchiveRules) -> None:
        self._connection = connection
        self.rules = rules

    def keep(
        self,
        *,
        source: str,
        content_type: str,
        sha256: str,
        size: int,
        client_id: str,
        body: bytes | BinaryIO,
        now: dt.datetime,
    ) -> str:
        """Archive a body whole."""
        archive_id = new_id()
        self._connection.execute(
            inbound_archive.insert().values(
                id=archive_id,
                received_at=now,
                source=source,
                content_type=content_type,
                sha256=sha256,
                size=size,
                client_id=client_id,
                body=_compress(body),
                kept_bytes=size,
                truncated=False,
            )
        )
        return archive_id

    def keep_head_only(self, archive_id: str, body: bytes | BinaryIO) -> bool:
        """The body was refused whole: if it is larger than the rules keep whole, keep only its
        first KiB (its digest and size stay on the row), marked truncated. True if it was."""
        head = _head(body)
        result = self._connection.execute(
            inbound_archive.update()
            .where(
                inbound_archive.c.id == archive_id,
                inbound_archive.c.size > self.rules.refused_whole_bytes,
            )
            .values(body=zlib.compress(head, 1), kept_bytes=len(head), truncated=True)
        )
        return result.rowcount == 1


def _compress(body: bytes | BinaryIO) -> bytes:
    if isinstance(body, bytes):
        return zlib.compress(body, 1)
    compressor = zlib.compressobj(level=1)
    body.seek(0)
    parts = [compressor.compress(chunk) for chunk in iter(lambda: body.read(1 << 20), b"")]
    parts.append(compressor.flush())
    body.seek(0)
    return b"".join(parts)


def _head(body: bytes | BinaryIO) -> bytes:
    if isinstance(body, bytes):
        return body[:HEAD_BYTES]
    body.seek(0)
    head = body.read(HEAD_BYTES)
    body.seek(0)
    return head
