"""Destinations for delivery tests: real objects that record what reached them."""

from __future__ import annotations

import threading
import time
from collections import Counter

from gateway.delivery.ports import PermanentFailure, TransientFailure
from gateway.store.outbox import ClaimedMessage


class RecordingDestination:
    """Counts every delivered idempotency key; optional pause widens race windows."""

    def __init__(self, name: str = "log", pause: float = 0.0) -> None:
        self.name = name
        self.pause = pause
        self.received: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, message: ClaimedMessage) -> None:
        if self.pause:
            time.sleep(self.pause)
        with self._lock:
            self.received[message.idempotency_key] += 1


class FlakyDestination(RecordingDestination):
    """Fails with a transient error the first ``failures`` calls, then accepts."""

    def __init__(self, failures: int, name: str = "log") -> None:
        super().__init__(name)
        self.failures = failures
        self.calls = 0

    def send(self, message: ClaimedMessage) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientFailure(f"service unavailable (call {self.calls})")
        super().send(message)


class RejectingDestination(RecordingDestination):
    def send(self, message: ClaimedMessage) -> None:
        raise PermanentFailure("schema violation: casenote type unknown")
