"""Commissioning alternative provision for an agreed case, and the provider's daily returns.

Only a provider on the authority's approved list may be commissioned (Essex 002 §13: support is
commissioned "through one of our approved providers"), and only for a case the panel agreed. The
pupil stays on the school roll (002 §16); the school records D when the pupil is dual registered
at a DfE-registered provider, otherwise K, the code for provision the authority arranged (SI
2024/208). Reviews fall every six weeks by default (002 §13, "review meetings every six weeks")
and the pack's review clock starts from the placement's first day. The notice goes through the
outbox to the provider and to the school, in the same transaction as the placement.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from gateway.cases.lifecycle import lifecycle
from gateway.cases.service import apply_tokens, record_entry
from gateway.clock import new_id
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.model.case import CaseSummary
from gateway.model.client import Client
from gateway.model.delivery import OutboundMessage
from gateway.model.events import Action, ActionRecorded, StatusChanged
from gateway.model.provider import (
    NewPlacement,
    PartTimeEntry,
    Placement,
    PlacementEnd,
    Provider,
)
from gateway.rules.pack import PolicyPack
from gateway.security.reach import reaches_case
from gateway.sla.calendars import start_of_day
from gateway.store.unit_of_work import Store, UnitOfWork

COMMISSIONABLE = ("agreed", "provision_arranged")
REVIEWS_LISTED = 8


def commission(store: Store, case_id: str, new: NewPlacement, caller: Client) -> Placement:
    with store.unit_of_work() as uow:
        case = uow.cases.find(case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        if case.status not in COMMISSIONABLE:
            raise InvalidInput(
                f"case {case_id} is {case.status}: provision is commissioned for an agreed case",
                field="case",
            )
        provider = uow.registers.provider(new.provider_id)
        if provider is None or not provider.approved:
            raise InvalidInput(
                "the provider is not on the authority's approved list; only approved providers "
                "may be commissioned (Essex 002 §13)",
                field="provider_id",
            )
        uow.audit.record(
            caller, case.child_id, "POST /api/v1/cases/{id}/placements", "update", uow.now
        )
        placement = Placement(
            id=new_id(),
            case_id=case.id,
            child_id=case.child_id,
            provider_id=provider.id,
            school_urn=case.school_urn,
            start_date=new.start_date,
            hours_per_week=new.hours_per_week,
            venue=new.venue,
            risk_assessment_ref=new.risk_assessment_ref,
            school_code="D" if provider.registration == "D" else "K",
            review_dates=[
                new.start_date + dt.timedelta(weeks=new.review_every_weeks * n)
                for n in range(1, REVIEWS_LISTED + 1)
            ],
            status="active",
            created_at=uow.now,
        )
        uow.registers.add_placement(placement)
        _record(uow, case, caller, placement, provider)
        if case.status == "agreed":
            lifecycle().check_move(case.status, "provision_arranged")
            uow.cases.set_status(case.id, case.status, "provision_arranged", uow.now)
            record_entry(
                uow,
                uow.cases.get(case.id),
                caller,
                "Status agreed → provision_arranged",
                StatusChanged(from_status=case.status, to_status="provision_arranged"),
            )
        return placement


def end(store: Store, placement_id: str, ending: PlacementEnd, caller: Client) -> Placement:
    """The placement's last day and why. Its review clock stops (the packs' placement review
    clocks cancel on ``action:placement_ended``); the provider and the school are told, so
    the school stops recording the pupil as attending there (Essex 002 §16); the case's
    timeline and Mosaic record say so."""
    with store.unit_of_work() as uow:
        current = uow.registers.placement(placement_id)
        if current is None:
            raise NotFound(f"no placement {placement_id}")
        if ending.last_day < current.start_date:
            raise InvalidInput(
                f"the last day is before the placement's first ({current.start_date})",
                field="last_day",
            )
        ended = uow.registers.end_placement(placement_id, ending.last_day, ending.reason)
        if ended is None:
            raise Conflict(f"placement {placement_id} has ended already", field="placement")
        uow.audit.record(
            caller, ended.child_id, "POST /api/v1/placements/{id}/end", "update", uow.now
        )
        provider = uow.registers.provider(ended.provider_id)
        name = provider.name if provider else "the provider"
        description = (
            f"Provision from {name} ended: last day {ending.last_day:%A %-d %B %Y}. {ending.reason}"
        )
        action = Action(
            kind="placement_ended", description=description[:2000], actor=caller.name[:200]
        )
        case = uow.cases.get(ended.case_id)
        record_entry(uow, case, caller, description[:200], ActionRecorded(action=action))
        notice = {"placement": msgspec.to_builtins(ended), "provider_name": name}
        _tell_provider_and_school(uow, ended, "placement.ended", notice)
        return ended


def _record(
    uow: UnitOfWork, case: CaseSummary, caller: Client, placement: Placement, provider: Provider
) -> None:
    where = {"school": "at school", "provider_site": "at the provider", "home": "at home"}
    description = (
        f"Provision commissioned from {provider.name}: {placement.hours_per_week:g} hours a week "
        f"{where[placement.venue]} from {placement.start_date:%A %-d %B %Y}; the school records "
        f"code {placement.school_code}; reviews every "
        f"{(placement.review_dates[0] - placement.start_date).days // 7} weeks, first "
        f"{placement.review_dates[0]:%-d %B %Y}"
    )
    action = Action(
        kind="placement_commissioned",
        description=description,
        actor=caller.name[:200],
        due_by=placement.review_dates[0],
    )
    record_entry(uow, case, caller, description[:200], ActionRecorded(action=action))
    # The review clock runs from the placement's first day, not from today.
    apply_tokens(uow, case, ["action:placement_started"], at=start_of_day(placement.start_date))
    notice = {
        "placement": msgspec.to_builtins(placement),
        "provider": {"id": provider.id, "name": provider.name, "ukprn": provider.ukprn},
        "safeguarding_contact": provider.safeguarding_contact,
        "pupil": _pupil(uow, case.child_id),
    }
    _tell_provider_and_school(uow, placement, "placement.notice", notice)


def _tell_provider_and_school(
    uow: UnitOfWork, placement: Placement, kind: str, notice: dict[str, object]
) -> None:
    """The same notice to the provider and to the school that keeps the pupil on roll, once
    each whatever retries follow (the key names the placement and what happened to it)."""
    uow.outbox.enqueue(
        [
            OutboundMessage(
                destination=destination,
                kind=kind,
                idempotency_key=f"{destination}:{kind}:{placement.id}",
                payload=notice,
                case_id=placement.case_id,
                child_id=placement.child_id,
            )
            for destination in ("provider", "school")
        ],
        uow.now,
    )


def _pupil(uow: UnitOfWork, child_id: str) -> dict[str, object]:
    """Who the pupil is, only as far as the family agreed to share with providers (Sutton 004
    "tell us once"): without it the notice says so, and the provider asks the case officer."""
    sharing = uow.sharing.get(child_id, "providers")
    child = uow.children.get(child_id)
    if child is None or sharing is None or not sharing.allows("identity"):
        return {"identity_withheld": True}
    return {
        "name": msgspec.to_builtins(child.name) if child.name else None,
        "date_of_birth": child.date_of_birth.isoformat() if child.date_of_birth else None,
        "upn": child.identifiers.upn,
    }


def part_time_register(
    store: Store, pack: PolicyPack, caller: Client, endpoint: str
) -> list[PartTimeEntry]:
    """The active placements under the hours the authority's pack names (its
    ``[part_time_register]``); an authority whose policy keeps no such register has none."""
    register = pack.part_time_register
    if register is None:
        raise NotFound(
            f"the {pack.authority.name} policy keeps no register of pupils on reduced hours"
        )
    with store.unit_of_work() as uow:
        entries = []
        for placement in uow.registers.active_placements_under(register.below_hours):
            if not reaches_case(uow, caller, placement.case_id):
                continue
            provider = uow.registers.provider(placement.provider_id)
            uow.audit.record(caller, placement.child_id, endpoint, "list", uow.now)
            entries.append(
                PartTimeEntry(
                    placement_id=placement.id,
                    case_id=placement.case_id,
                    child_id=placement.child_id,
                    school_urn=placement.school_urn,
                    provider=provider.name if provider else placement.provider_id,
                    hours_per_week=placement.hours_per_week,
                    start_date=placement.start_date,
                )
            )
        return entries


def placements_for_case(store: Store, case_id: str) -> list[Placement]:
    with store.unit_of_work(read_only=True) as uow:
        if uow.cases.find(case_id) is None:
            raise NotFound(f"no case {case_id}")
        return uow.registers.placements_for_case(case_id)
