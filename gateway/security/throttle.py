"""Failed authentications are rate-limited per caller address, so a token cannot be guessed by
trying: after ``limit`` failures inside ``window`` seconds the address is refused (429, with
Retry-After) until the oldest failure leaves the window. Per process: each replica keeps its
own count, which bounds guessing per replica; a shared limit belongs in the ingress.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class FailureThrottle:
    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may try again, or None when it may now."""
        with self._lock:
            recent = self._trim(key)
            if len(recent) < self.limit:
                return None
            return max(0.0, recent[0] + self.window - self._clock())

    def failed(self, key: str) -> None:
        with self._lock:
            self._trim(key).append(self._clock())
            if len(self._failures) > 10_000:  # many addresses: forget the quiet ones
                for stale in [k for k, v in self._failures.items() if not v]:
                    del self._failures[stale]

    def _trim(self, key: str) -> deque[float]:
        recent = self._failures[key]
        cutoff = self._clock() - self.window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return recent
