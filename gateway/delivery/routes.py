"""Turn timeline entries into outbound messages, per mappings/data/outbound.toml."""

from __future__ import annotations

import functools

import msgspec

from gateway.model.case import CaseSummary
from gateway.model.delivery import OutboundMessage
from gateway.model.events import Event
from mappings.data import load_toml


@functools.cache
def routes() -> dict[str, tuple[str, ...]]:
    table = load_toml("outbound.toml")["routes"]
    return {kind: tuple(destinations) for kind, destinations in table.items()}


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
        for destination in routes().get(kind, ())
    ]
