"""The delivery worker: claim due outbox rows, send each through its destination's port,
record the outcome. Workers coordinate only through the database, so any number can run."""

from __future__ import annotations

import datetime as dt
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping

import structlog
import tenacity

from gateway.delivery.ports import (
    Destination,
    HeldForAttention,
    NothingToSend,
    PermanentFailure,
    TransientFailure,
)
from gateway.delivery.retry_policy import RetryPolicy
from gateway.logs import error_fields
from gateway.model.delivery import AttemptOutcome
from gateway.observability.process_metrics import DELIVERY_RESULTS
from gateway.store.outbox import ClaimedMessage
from gateway.store.unit_of_work import Store

log = structlog.get_logger("gateway.delivery.worker")


class Worker:
    def __init__(
        self,
        store: Store,
        destinations: Mapping[str, Destination],
        policy: RetryPolicy,
        *,
        lease: dt.timedelta,
        batch_size: int = 50,
        inline_retries: int = 2,
        inline_wait_seconds: float = 0.2,
        name: str | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.destinations = dict(destinations)
        self.policy = policy
        self.lease = lease
        self.batch_size = batch_size
        self.inline_retries = inline_retries
        self.inline_wait_seconds = inline_wait_seconds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{random.getrandbits(24):06x}"
        self.rng = rng
        self.sleep = sleep
        # When the loop last made progress (a cycle began or a message was settled): the
        # worker's liveness probe (gateway/observability/worker_http.py) reads it.
        self.heartbeat = time.monotonic()

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set; a claimed batch is finished or handed back first.
        A failing database does not end the loop: the worker waits and tries again."""
        log.info("worker started", worker=self.name, destinations=sorted(self.destinations))
        failures = 0
        while not stop.is_set():
            self.heartbeat = time.monotonic()
            try:
                claimed = self.run_once(stop)
            except Exception as exc:
                failures += 1
                log.error("worker cycle failed", worker=self.name, **error_fields(exc))
                stop.wait(min(60.0, poll_seconds * 2**failures))
                continue
            failures = 0
            if claimed == 0:
                stop.wait(poll_seconds)
        log.info("worker stopped", worker=self.name)

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Claim one batch and settle it; returns how many messages were claimed."""
        with self.store.unit_of_work() as uow:
            batch = uow.outbox.claim(
                self.name,
                uow.now,
                self.lease,
                self.batch_size,
                self.policy.max_attempts,
                destinations=self.destinations,
                sending=[
                    name
                    for name, destination in self.destinations.items()
                    if not getattr(destination, "logs_only", False)
                ],
            )
        for index, message in enumerate(batch):
            if stop is not None and stop.is_set():
                self._release(batch[index:])
                break
            if self._still_ours(message):
                self._deliver(message)
            self.heartbeat = time.monotonic()
        return len(batch)

    def _still_ours(self, message: ClaimedMessage) -> bool:
        """The batch shares one claim time; each message's lease restarts when its turn
        comes, and a message another worker took back in the meantime is not sent twice."""
        with self.store.unit_of_work() as uow:
            ours = uow.outbox.renew(message, self.name, uow.now + self.lease)
        if not ours:
            log.warning("lease lost before sending", worker=self.name, delivery_id=message.id)
        return ours

    def drain(self, max_batches: int = 10_000) -> int:
        """Run until nothing is due (used by tests and the CLI's one-shot mode)."""
        total = 0
        for _ in range(max_batches):
            claimed = self.run_once()
            if claimed == 0:
                break
            total += claimed
        return total

    def _deliver(self, message: ClaimedMessage) -> None:
        started = self.store.clock.now()
        error: str | None = None
        retry_at: dt.datetime | None = None
        try:
            outcome: AttemptOutcome = self._send(message)
        except TransientFailure as exc:
            outcome, error = "transient", _describe(exc)
        except PermanentFailure as exc:
            outcome, error = "permanent", _describe(exc)
        except HeldForAttention as exc:
            outcome, error = "parked", _describe(exc)
        except NothingToSend as exc:
            outcome, error = "discarded", _describe(exc)
        except Exception as exc:  # an adapter bug: keep the message, say what happened
            log.error(
                "destination raised an unclassified error",
                delivery_id=message.id,
                **error_fields(exc),
            )
            outcome, error = "transient", f"unclassified {_describe(exc)}"
        now = self.store.clock.now()
        if outcome == "transient":
            retry_at = self.policy.next_attempt(message.attempt, now, self.rng)
            if retry_at is None:
                error = f"gave up after {message.attempt} attempts: {error}"
        with self.store.unit_of_work() as uow:
            kept = uow.outbox.finish(
                message,
                self.name,
                started_at=started,
                now=now,
                outcome=outcome,
                error=error,
                retry_at=retry_at,
            )
        result = outcome if retry_at or outcome != "transient" else "dead"
        DELIVERY_RESULTS.labels(message.destination, result).inc()
        log.info(
            "delivery attempt",
            delivery_id=message.id,
            destination=message.destination,
            attempt=message.attempt,
            outcome=result,
            lease_lost=not kept,
        )

    def _send(self, message: ClaimedMessage) -> AttemptOutcome:
        """How a send that raised nothing settles: "delivered", or "logged" for the
        development stand-in that only writes a log line."""
        destination = self.destinations.get(message.destination)
        if destination is None:
            raise PermanentFailure(f"no destination named {message.destination!r} is configured")
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.inline_retries + 1),
            wait=tenacity.wait_exponential(multiplier=self.inline_wait_seconds),
            retry=tenacity.retry_if_exception_type(TransientFailure),
            sleep=self.sleep,
            reraise=True,
        )
        retrying(destination.send, message)
        return "logged" if getattr(destination, "logs_only", False) else "delivered"

    def _release(self, messages: list[ClaimedMessage]) -> None:
        now = self.store.clock.now()
        with self.store.unit_of_work() as uow:
            for message in messages:
                uow.outbox.finish(message, self.name, started_at=now, now=now, outcome="released")
                DELIVERY_RESULTS.labels(message.destination, "released").inc()
        log.info("released unsent messages", worker=self.name, count=len(messages))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:2000]
