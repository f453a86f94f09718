"""Large request bodies (attendance feeds, register extracts) taken as a stream into a spooled
file under a per-route limit, never held whole in memory, and hashed for idempotency."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from typing import BinaryIO, cast

from gateway.api.deps import ClientRequest
from gateway.errors import GatewayError
from gateway.intake.attendance_feed import spool_digest

SPOOL_IN_MEMORY = 4 * 1_048_576


class BodyTooLarge(GatewayError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} bytes may be sent here")
        self.limit = limit


@contextlib.asynccontextmanager
async def spooled_body(
    request: ClientRequest, limit: int
) -> AsyncIterator[tuple[BinaryIO, str, int]]:
    """(the body, its SHA-256, its size); raises BodyTooLarge as soon as ``limit`` is passed."""
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge(limit)
            body.write(chunk)
        stream = cast(BinaryIO, body)
        sha256, size = spool_digest(stream)
        yield stream, sha256, size
    finally:
        body.close()
