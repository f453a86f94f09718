"""A provider's daily attendance return, turned into register marks that go through the same
feed pipeline as a school's (archived, validated, applied by the worker, counted in the same
statistics and thresholds).

The pupil stays on the school roll (Essex 002 §16): the school's register gets the code for the
placement — K (provision the authority arranged, counted as attendance: SI 2024/208) when the
provider reports the pupil there, the provider's absence code (or O, unknown) when not. At a
DfE-registered provider the pupil is dual registered: the school records D (not a possible
session) and the provider's own register, under its URN, gets the present or absent marks. A
session the part-time timetable does not include is C2 (leave for a part-time timetable).
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import msgspec

from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.intake.attendance_feed import FeedRejected, FeedUpload, ingest_feed
from gateway.intake.ports import FeedReader
from gateway.model.attendance import FeedReport
from gateway.model.client import Client
from gateway.model.provider import Placement, Provider, ProviderAttendance
from gateway.store.unit_of_work import Store

PRESENT = {"am": "/", "pm": "\\"}


def provider_return(
    store: Store,
    placement_id: str,
    day: ProviderAttendance,
    caller: Client,
    read_json: FeedReader,
) -> list[FeedReport]:
    """One report per register written (the school's, and the provider's when dual)."""
    with store.unit_of_work(read_only=True) as uow:
        placement = uow.registers.placement(placement_id)
        if placement is None:
            raise NotFound(f"no placement {placement_id}")
        child = uow.children.get(placement.child_id)
        provider = uow.registers.provider(placement.provider_id)
    assert child is not None and provider is not None
    _check_sender(caller, placement_id, provider)
    if placement.status != "active":
        raise InvalidInput(f"placement {placement_id} has ended", field="placement")
    if day.date < placement.start_date:
        raise InvalidInput(
            f"the placement starts on {placement.start_date.isoformat()}", field="date"
        )
    upn = child.identifiers.upn
    if not upn:
        raise InvalidInput("the pupil has no UPN on record: marks cannot be kept", field="upn")
    if placement.school_urn is None:
        raise InvalidInput("the case names no school of roll", field="school_urn")
    registers: list[tuple[str, dict[str, str]]] = [
        (placement.school_urn, _school_marks(placement, day))
    ]
    if placement.school_code == "D":
        if provider.urn is None:
            raise InvalidInput(
                f"{provider.name} is DfE-registered but has no URN on the approved list",
                field="provider",
            )
        registers.append((provider.urn, _provider_marks(day)))
    reports = []
    for urn, marks in registers:
        record = {"school_urn": urn, "upn": upn, "date": day.date.isoformat(), **marks}
        body = json.dumps([record]).encode()
        upload = FeedUpload(
            format="json",
            content_type="application/json",
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            school_urn=urn,
        )
        # Authorised above for this placement's registers, and for no other school's.
        sender = msgspec.structs.replace(caller, schools=tuple(urn for urn, _ in registers))
        try:
            reports.append(ingest_feed(store, upload, io.BytesIO(body), read_json, sender))
        except FeedRejected as exc:
            # The marks are the gateway's own making, so a refusal is of the register (a
            # school GIAS says has closed): the placement's return, not a malformed document.
            raise InvalidInput(exc.message, field="placement") from exc
    return reports


def _check_sender(caller: Client, placement_id: str, provider: Provider) -> None:
    """A return comes from the placement's provider (its client bound to the provider's URN
    or UKPRN), or from an administrator. A provider's client asking about another provider's
    placement has been answered 404 already (gateway/api/reach_guard.py)."""
    if "admin" in caller.scopes:
        return
    own = {provider.urn, provider.ukprn} - {None}
    if not own & set(caller.providers):
        raise Forbidden(
            f"returns for placement {placement_id} come from its provider's client "
            "(gateway client create --provider <URN or UKPRN>)",
            field="placement",
        )


def _school_marks(placement: Placement, day: ProviderAttendance) -> dict[str, str]:
    return {
        session: _code(
            getattr(day, session),
            placement.school_code if placement.school_code == "D" else "K",
            day,
        )
        for session in ("am", "pm")
    }


def _provider_marks(day: ProviderAttendance) -> dict[str, Any]:
    return {session: _code(getattr(day, session), PRESENT[session], day) for session in PRESENT}


def _code(reported: str, present: str, day: ProviderAttendance) -> str:
    if reported == "present":
        return present
    if reported == "no_session":
        return "C2"
    if present == "D":  # dual registered: the absence is the provider's to record
        return "D"
    return day.absence_code or "O"
