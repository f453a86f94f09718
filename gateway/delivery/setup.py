"""Build the worker and its destinations from settings."""

from __future__ import annotations

import datetime as dt

from gateway.delivery.log_destination import LogDestination
from gateway.delivery.ports import Destination
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.settings import Settings
from gateway.store.unit_of_work import Store


def destinations(settings: Settings) -> dict[str, Destination]:
    """Every destination the deployment can reach; adapters register here as they arrive."""
    # Mosaic's SOAP adapter arrives later; until then casenotes are logged (and kept).
    # Likewise the NHS FHIR adapter: escalations of health's clocks are logged until it is.
    return {
        "log": LogDestination(),
        "mosaic": LogDestination("mosaic"),
        "nhs": LogDestination("nhs"),
    }


def build_worker(settings: Settings, store: Store) -> Worker:
    return Worker(
        store,
        destinations(settings),
        RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            base_seconds=settings.delivery_backoff_base_seconds,
            cap_seconds=settings.delivery_backoff_cap_seconds,
        ),
        lease=dt.timedelta(seconds=settings.delivery_lease_seconds),
        batch_size=settings.delivery_batch_size,
        inline_retries=settings.delivery_inline_retries,
        inline_wait_seconds=settings.delivery_inline_wait_seconds,
    )
