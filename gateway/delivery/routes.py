"""Turn timeline entries into outbound messages, per mappings/data/outbound.toml."""

from __future__ import annotations

import functools

import msgspec

from gateway.model.case import CaseSummary
from gateway.model.delivery import OutboundMessage
from gateway.model.events import ClockChanged, Event
from mappings.data import load_toml

ESCALATIONS = frozenset({"due soon", "breached"})


@functools.cache
def routes() -> dict[str, tuple[str, ...]]:
    table = load_toml("outbound.toml")["routes"]
    return {kind: tuple(destinations) for kind, destinations in table.items()}


@functools.cache
def escalation_routes() -> dict[str, tuple[str, ...]]:
    table = load_toml("outbound.toml").get("escalations", {})
    return {agency: tuple(destinations) for agency, destinations in table.items()}


def destinations_for(event: Event) -> tuple[str, ...]:
    detail = event.detail
    kind = type(detail).__struct_config__.tag
    assert isinstance(kind, str)
    found = routes().get(kind, ())
    if isinstance(detail, ClockChanged) and detail.change in ESCALATIONS and detail.agency:
        extra = escalation_routes().get(detail.agency, ())
        found = found + tuple(d for d in extra if d not in found)
    return found


def messages_for(event: Event, case: CaseSummary | None = None) -> list[OutboundMessage]:
    """One message per destination; the key makes a re-run of the same step a no-op."""
    kind = type(event.detail).__struct_config__.tag
    assert isinstance(kind, str)
    payload = {
        "event": msgspec.to_builtins(event),
        "case": None if case is None else msgspec.to_builtins(case),
    }
    prefix = "case" if case is not None else "child"
    return [
        OutboundMessage(
            destination=destination,
            kind=f"{prefix}.{kind}",
            idempotency_key=f"{destination}:event:{event.id}",
            payload=payload,
            case_id=event.case_id,
            child_id=event.child_id,
        )
        for destination in destinations_for(event)
    ]
