"""The port every outbound adapter implements, and the ways a send can end other than sent.

Adapters classify their own errors once, at the edge (a SOAP fault, an HTTP 503, an
OperationOutcome): the worker only ever sees TransientFailure, PermanentFailure,
HeldForAttention or NothingToSend.
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


class NothingToSend(Exception):
    """There is no longer anything to send (the far end already has what the message was
    for): the message is settled as discarded with this text, never shown as delivered."""


class Destination(Protocol):
    name: str

    def send(self, message: ClaimedMessage) -> None:
        """Deliver or raise; must be safe to call again with the same message."""
