"""Outbound messages as the outbox holds them, and their delivery history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from gateway.model.identifiers import mosaic_person_id_problem

# "parked": held until a person acts (a child the far end does not know), looked at again
# hourly. Parked and dead messages hold back the same child's later messages to that
# destination until replayed or "discarded" (a person's decision that it will never go).
# "logged": settled by the development log stand-in (GATEWAY_LOG_UNCONFIGURED_DESTINATIONS),
# never delivered anywhere; it can be replayed once the destination is configured.
DeliveryStatus = Literal[
    "pending", "in_flight", "delivered", "logged", "dead", "parked", "discarded"
]
AttemptOutcome = Literal[
    "delivered", "logged", "transient", "permanent", "released", "parked", "discarded"
]


class OutboundMessage(msgspec.Struct, kw_only=True, frozen=True):
    """What a service asks to send; the unit of work writes it beside the change."""

    destination: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    case_id: str | None = None
    child_id: str | None = None


class DeliveryAttempt(msgspec.Struct, kw_only=True, frozen=True):
    number: int
    started_at: dt.datetime
    finished_at: dt.datetime
    outcome: AttemptOutcome
    error: str | None
    worker: str


class Delivery(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    destination: str
    kind: str
    idempotency_key: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    case_id: str | None
    child_id: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryDetail(Delivery, kw_only=True, frozen=True):
    payload: dict[str, Any]
    history: list[DeliveryAttempt]


class DeliveryPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[Delivery]
    next_cursor: str | None


class MosaicPersonLink(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    # Mosaic person ids are digits (contracts/mosaic/casenote.xsd PersonId).
    person_id: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,12}$")]

    def __post_init__(self) -> None:
        if problem := mosaic_person_id_problem(self.person_id):
            raise msgspec.ValidationError(f"person_id: {problem}")


class MosaicPersonLinked(msgspec.Struct, kw_only=True, frozen=True):
    child_id: str
    person_id: str
    released: int  # parked casenotes sent again


class DiscardRequest(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
