"""Build the worker and its destinations from settings."""

from __future__ import annotations

import datetime as dt

import structlog

from gateway.delivery.log_destination import LogDestination
from gateway.delivery.ports import Destination
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.rules.pack import load_pack
from gateway.settings import Settings
from gateway.store.unit_of_work import Store

log = structlog.get_logger("gateway.delivery")


def destinations(settings: Settings, store: Store) -> dict[str, Destination]:
    """Every destination the deployment can reach. One not configured yet is a log line
    standing in for it, so its messages are still written, ordered and kept."""
    found: dict[str, Destination] = {
        "log": LogDestination(),
        "mosaic": LogDestination("mosaic"),
        # The NHS FHIR adapter: escalations of health's clocks are logged until it is set up.
        "nhs": LogDestination("nhs"),
        # Placement notices to the provider and the school: each authority reaches them its own
        # way (secure email, its portal); logged until that adapter is set up.
        "provider": LogDestination("provider"),
        "school": LogDestination("school"),
    }
    if settings.mosaic_url:
        from adapters.mosaic.client import MosaicClient
        from adapters.mosaic.destination import MosaicDestination

        client = MosaicClient(
            settings.mosaic_url,
            settings.mosaic_username,
            settings.mosaic_password,
            timeout_seconds=settings.mosaic_timeout_seconds,
            wsdl=settings.mosaic_wsdl,
        )
        found["mosaic"] = MosaicDestination(store, client, store.pack or load_pack(settings.policy))
    if settings.nhs_fhir_url:
        from adapters.nhs.destination import NhsDestination

        found["nhs"] = NhsDestination(
            store,
            settings.nhs_fhir_url,
            store.pack or load_pack(settings.policy),
            facade_base_url=settings.public_base_url,
            timeout_seconds=settings.nhs_timeout_seconds,
        )
    for name, setting in (("mosaic", settings.mosaic_url), ("nhs", settings.nhs_fhir_url)):
        if not setting:
            log.warning(
                "destination not configured: its messages are logged as sent, not delivered",
                destination=name,
            )
    return found


def build_worker(settings: Settings, store: Store) -> Worker:
    return Worker(
        store,
        destinations(settings, store),
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
