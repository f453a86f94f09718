"""Refreshing an approved provider from UKRLP, the register of learning providers, by UKPRN.

The approved list says who the authority uses; UKRLP says whether that UKPRN is still a live,
verified provider and under what name. What UKRLP says is kept beside the list's own entry,
never over it: the list is the authority's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.errors import Conflict, GatewayError, InvalidInput, NotFound
from gateway.model.provider import Provider
from gateway.store.unit_of_work import Store


class RegisterUnavailable(GatewayError):
    status = 503
    title = "Register unavailable"
    slug = "register-unavailable"


Lookup = Callable[[str], Any]  # UKPRN → a UKRLP record (name, status) or None


def refresh_from_ukrlp(store: Store, provider_id: str, lookup: Lookup | None) -> Provider:
    if lookup is None:
        raise Conflict("UKRLP is not configured here (GATEWAY_UKRLP_URL)")
    with store.unit_of_work(read_only=True) as uow:
        provider = uow.registers.provider(provider_id)
    if provider is None:
        raise NotFound(f"no provider {provider_id}")
    if provider.ukprn is None:
        raise InvalidInput(f"{provider.name} has no UKPRN to look up", field="ukprn")
    try:
        found = lookup(provider.ukprn)
    except Exception as exc:  # the adapter's unavailable/rejected errors, whatever their type
        raise RegisterUnavailable(f"UKRLP could not be asked: {type(exc).__name__}") from exc
    with store.unit_of_work() as uow:
        uow.registers.record_ukrlp(
            provider.id,
            found.name if found else None,
            found.status if found else "not_found",
            uow.now,
        )
        refreshed = uow.registers.provider(provider.id)
    assert refreshed is not None
    return refreshed
