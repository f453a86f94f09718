"""Build the worker and its destinations from settings.

Fail closed: a destination without its URL (or, for providers and schools, without an
adapter) is left out, so its messages wait in the outbox until it is configured. Only the
development setting GATEWAY_LOG_UNCONFIGURED_DESTINATIONS stands a log line in for it.
"""

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

# Every destination the gateway writes messages for, and what reaching it needs.
NEEDS = {
    "mosaic": "GATEWAY_MOSAIC_URL",
    "nhs": "GATEWAY_NHS_FHIR_URL",
    # Placement notices to the provider and the school: each authority reaches them its own
    # way (secure email, its portal), and no adapter is built in yet.
    "provider": "an adapter for the authority's provider channel",
    "school": "an adapter for the authority's school channel",
}


def unconfigured(settings: Settings) -> dict[str, str]:
    """Destinations this deployment cannot reach, each with what it lacks."""
    have = {"mosaic": settings.mosaic_url, "nhs": settings.nhs_fhir_url}
    return {name: need for name, need in NEEDS.items() if not have.get(name)}


def destinations(settings: Settings, store: Store) -> dict[str, Destination]:
    """The destinations this deployment can send to."""
    found: dict[str, Destination] = {}
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
    for name, need in unconfigured(settings).items():
        if settings.log_unconfigured_destinations:
            found[name] = LogDestination(name)
            log.warning(
                "destination not configured: development log stand-in, messages are "
                "logged, not delivered",
                destination=name,
                needs=need,
            )
        else:
            log.warning(
                "destination not configured: its messages wait in the outbox, undelivered",
                destination=name,
                needs=need,
            )
    if settings.log_unconfigured_destinations:
        found["log"] = LogDestination()
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
