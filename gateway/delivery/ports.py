"""The port every outbound adapter implements, and the two ways a send can fail.

Adapters classify their own errors once, at the edge (a SOAP fault, an HTTP 503, an
OperationOutcome): the worker only ever sees TransientFailure, PermanentFailure or HeldForAttention.
"""

from __future__ import annotations

from typing import Protocol

from gateway.store.outbox import ClaimedMessage


class TransientFailure(Exception):
    """Worth trying again later: the far end is down, slow or busy."""


class PermanentFailure(Exception):
    """Will never succeed as it stands: the message goes to dead letter with this text."""


class HeldForAttention(Exception):
    """Cannot go until a person acts (the far end does not know this child): the message is
    parked with this text, and the child's later messages to the same place wait behind it."""


class Destination(Protocol):
    name: str

    def send(self, message: ClaimedMessage) -> None:
        """Deliver or raise; must be safe to call again with the same message."""
