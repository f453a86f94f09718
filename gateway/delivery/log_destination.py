"""A development stand-in that writes one structured log line per message.

It proves the outbox loop end to end before a real system is wired. Its messages settle as
"logged", never "delivered", so they can be found and replayed once the real destination is
configured. It logs what was sent, never the payload (child data).
"""

from __future__ import annotations

import structlog

from gateway.store.outbox import ClaimedMessage

log = structlog.get_logger("gateway.delivery.log")


class LogDestination:
    """``name`` lets it stand in for a system whose adapter is not configured yet: its
    messages wait in the outbox under their real destination, and are logged, not sent."""

    logs_only = True

    def __init__(self, name: str = "log") -> None:
        self.name = name

    def send(self, message: ClaimedMessage) -> None:
        log.info(
            "outbound message",
            destination=self.name,
            delivery_id=message.id,
            kind=message.kind,
            idempotency_key=message.idempotency_key,
            case_id=message.case_id,
            attempt=message.attempt,
        )
