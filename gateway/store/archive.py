"""The raw archive (``inbound_archive``): every body received, zlib-compressed as received, kept
before it is read, so anything taken can be read again (a replay, a feed cut off mid-read).

Two rules keep one client, or refused junk, from filling it (docs/operations.md, "The raw
archive's limits"):

- **a daily budget per client** (GATEWAY_ARCHIVE_BYTES_PER_CLIENT_PER_DAY): the bytes a client
  has had archived since midnight UTC, counted from the archive's rows, plus the new body's,
  may not pass it. A body that would is refused (429, or 413 when it is larger than the whole
  budget) before it is archived, and the refusal is logged and counted, without the body;
- **a body refused whole** (not UTF-8, malformed, from a sender it is forbidden) and larger
  than GATEWAY_ARCHIVE_REFUSED_WHOLE_BYTES keeps only its SHA-256, its size and its first KiB,
  marked ``truncated``, in the transaction that refuses it. Accepted bodies are kept whole.

The budget counts what the archive holds (``kept_bytes``): a refused body kept as its first
KiB counts 1 KiB. It is checked against what is committed, so uploads from one client in
flight at the same moment can pass it by at most their own sizes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import TYPE_CHECKING, BinaryIO

import msgspec
import sqlalchemy as sa
import structlog

from gateway.clock import new_id
from gateway.errors import GatewayError
from gateway.observability.process_metrics import ARCHIVE_REFUSALS
from gateway.store.schema import inbound_archive

if TYPE_CHECKING:
    from gateway.settings import Settings

log = structlog.get_logger("gateway.store.archive")

# What is kept of a body refused whole when it is larger than the rules allow whole.
HEAD_BYTES = 1024


class ArchiveRules(msgspec.Struct, kw_only=True, frozen=True):
    bytes_per_client_per_day: int = 2 * 1024**3
    refused_whole_bytes: int = 1_048_576

    @classmethod
    def from_settings(cls, settings: Settings) -> ArchiveRules:
        return cls(
            bytes_per_client_per_day=settings.archive_bytes_per_client_per_day,
            refused_whole_bytes=settings.archive_refused_whole_bytes,
        )


class ArchiveBudgetSpent(GatewayError):
    """The body would take the client past its daily archive budget; try after it resets."""

    status = 429
    title = "Archive budget spent"
    slug = "archive-budget-spent"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after)}


class LargerThanArchiveBudget(GatewayError):
    """The body alone is larger than the client's whole daily archive budget."""

    status = 413
    title = "Larger than the archive budget"
    slug = "larger-than-archive-budget"


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
        """Archive a body whole, within the client's daily budget (else it is refused and
        nothing is archived)."""
        self._within_budget(client_id, source, size, now)
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

    def kept_since(self, client_id: str, since: dt.datetime) -> int:
        """Bytes the archive holds of what this client sent since ``since``."""
        return int(
            self._connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(inbound_archive.c.kept_bytes), 0)).where(
                    inbound_archive.c.client_id == client_id,
                    inbound_archive.c.received_at >= since,
                )
            ).scalar_one()
        )

    def _within_budget(self, client_id: str, source: str, size: int, now: dt.datetime) -> None:
        budget = self.rules.bytes_per_client_per_day
        midnight = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), dt.UTC)
        resets = midnight + dt.timedelta(days=1)
        used = self.kept_since(client_id, midnight)
        if size > budget:
            self._refused(client_id, source, size, used, budget)
            raise LargerThanArchiveBudget(
                f"this body is {size:,} bytes, larger than this client's whole archive budget "
                f"of {budget:,} bytes a day (GATEWAY_ARCHIVE_BYTES_PER_CLIENT_PER_DAY): it is "
                "not archived and not read; send it in smaller parts, or have the budget raised"
            )
        if used + size > budget:
            self._refused(client_id, source, size, used, budget)
            left = max(0, budget - used)
            raise ArchiveBudgetSpent(
                f"this client's archive budget of {budget:,} bytes a day "
                f"(GATEWAY_ARCHIVE_BYTES_PER_CLIENT_PER_DAY) has {left:,} bytes left today, "
                f"and this body is {size:,} bytes: it is not archived and not read; the "
                f"budget resets at {resets.isoformat().replace('+00:00', 'Z')} (midnight UTC)",
                retry_after=max(1, int((resets - now).total_seconds())),
            )

    @staticmethod
    def _refused(client_id: str, source: str, size: int, used: int, budget: int) -> None:
        # Who sent how much, never what: the body is neither kept nor logged.
        log.warning(
            "archive budget: body refused, not archived",
            client_id=client_id,
            source=source,
            size=size,
            archived_today=used,
            budget=budget,
        )
        ARCHIVE_REFUSALS.labels(source).inc()


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
