"""Failed authentications are rate-limited, so a token cannot be guessed by trying.

Failures are counted against the source address and against the token presented (by a digest
of it: no token is kept). After ``limit`` failures of either inside ``window`` seconds, a
further wrong token is refused with 429 and Retry-After, not 401, until the oldest failure
leaves the window. A right token is never refused: it is looked up first, so a guesser sharing
an address with a client (a NAT, a proxy) cannot lock that client out, and the throttle tells
nothing of a token that the token itself would not.

The source is the address that connected, or the one a proxy named in
GATEWAY_TRUSTED_PROXIES forwarded (uvicorn rewrites it before the app sees it). IPv6 sources
count by /64, the block one subscriber is given, so walking through it changes nothing.

Per process: each replica keeps its own count, which bounds guessing per replica; a shared
limit belongs in the ingress. Memory is bounded: past ``max_keys`` the longest-quiet keys are
forgotten first.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 100_000


def source_key(host: str | None) -> str:
    """The key failures from ``host`` are counted under."""
    if not host:
        return "source:unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"source:{host[:64]}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"source:{address.ipv4_mapped}"
        return f"source:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"source:{address}"


def token_key(token: str) -> str:
    """The key failures with ``token`` are counted under: a digest of its own (not the stored
    hash), shortened, so neither the token nor anything the store holds is kept in memory."""
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=12, person=b"s19-throttle")
    return f"token:{digest.hexdigest()}"


class FailureThrottle:
    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float | None:
        """Seconds until every one of ``keys`` may try again, or None when all may now."""
        with self._lock:
            return self._wait(keys)

    def failed(self, *keys: str) -> float | None:
        """A failed authentication by ``keys``. When one of them is over the limit already,
        nothing is counted (so a key holds at most ``limit`` failures) and the seconds until
        it may try again are returned; otherwise the failure is counted and None returned."""
        with self._lock:
            wait = self._wait(keys)
            if wait is not None:
                return wait
            now = self._clock()
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)  # the key quiet the longest
            return None

    def _wait(self, keys: tuple[str, ...]) -> float | None:
        now = self._clock()
        waits = []
        for key in keys:
            recent = self._failures.get(key)
            if recent is None:
                continue
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if not recent:
                del self._failures[key]
            elif len(recent) >= self.limit:
                waits.append(max(0.0, recent[0] + self.window - now))
        return max(waits) if waits else None
