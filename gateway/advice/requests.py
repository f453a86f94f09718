"""Asking the advisers once the authority decides to assess (Sutton 004, "3. EHC Needs
Assessment Process": "advice requested from professionals must be returned within 6 weeks of
the date of the request for advice").

Each request is an action on the case's timeline (``<adviser>_advice_requested``), which starts
the pack's six-week clock for that adviser and becomes a casenote; health's also goes to the
NHS team through the outbox as FHIR. A health request the family has not agreed to share is
held, not sent, and its clock does not start until it is: the request has not been made.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from gateway.cases.receipt import audit_if_backdated, received_moment
from gateway.cases.service import record_entry
from gateway.clock import new_id
from gateway.errors import InvalidInput, NotFound
from gateway.model.advice import (
    OPEN_STATUSES,
    AdviceRequest,
    Adviser,
    AssessmentRequest,
    AssessmentStarted,
)
from gateway.model.case import CaseSummary
from gateway.model.client import Client
from gateway.model.delivery import OutboundMessage
from gateway.model.events import Action, ActionRecorded
from gateway.rules.pack import PolicyPack
from gateway.security.reach import reaches_case
from gateway.sla.calendars import due_at, local_date
from gateway.store.cases import FINISHED
from gateway.store.unit_of_work import Store, UnitOfWork

ADVICE_WEEKS = 6
ENDPOINT = "POST /api/v1/ehcna"
# The action kinds the packs' advice clocks start and stop on (mappings/policies/sutton.toml).
ACTION_PREFIX: dict[str, str] = {
    "health": "health",
    "social_care": "social_care",
    "education": "education",
    "educational_psychology": "ep",
}
ADVISER_NAMES: dict[str, str] = {
    "health": "health",
    "social_care": "social care",
    "education": "education",
    "educational_psychology": "educational psychology",
}


def start_assessment(
    store: Store, request: AssessmentRequest, caller: Client, pack: PolicyPack
) -> AssessmentStarted:
    with store.unit_of_work() as uow:
        case = uow.cases.find(request.case_id)
        if case is None or not reaches_case(uow, caller, case.id):
            raise NotFound(f"no case {request.case_id}")
        if case.status in FINISHED:
            raise InvalidInput(f"case {case.id} is {case.status}", field="case_id")
        child = uow.children.get(case.child_id)
        assert child is not None, "a case's child is never deleted"
        received = received_moment(request.received_at, uow.now, child)
        made = request_advice_in(
            uow,
            case,
            list(dict.fromkeys(request.advisers)),
            caller,
            pack,
            health_performer=request.health_performer,
            reason=request.reason,
            requested_at=received,
        )
        audit_if_backdated(uow, caller, case.child_id, ENDPOINT, received)
        return AssessmentStarted(case_id=case.id, requests=made)


def request_advice_in(
    uow: UnitOfWork,
    case: CaseSummary,
    advisers: list[Adviser],
    caller: Client,
    pack: PolicyPack,
    *,
    health_performer: str | None = None,
    reason: str = "Advice for an Education, Health and Care needs assessment",
    requested_at: dt.datetime | None = None,
) -> list[AdviceRequest]:
    """One request per adviser not already asked on this case (asking twice is a no-op).
    Each is due six weeks from ``requested_at`` (default now), when the authority asked."""
    asked = requested_at or uow.now
    already = {r.adviser: r for r in uow.advice.for_case(case.id) if r.status in OPEN_STATUSES}
    made: list[AdviceRequest] = []
    for adviser in advisers:
        if adviser in already:
            made.append(already[adviser])
            continue
        request = AdviceRequest(
            id=new_id(),
            case_id=case.id,
            child_id=case.child_id,
            adviser=adviser,
            status="requested",
            performer=_performer(adviser, case, pack, health_performer),
            reason=reason,
            requested_at=asked,
            due_at=due_at("calendar_weeks", asked, ADVICE_WEEKS),
        )
        problem = sharing_problem(uow, case.child_id) if adviser == "health" else None
        if problem is not None:
            request = msgspec.structs.replace(request, status="held", held_reason=problem)
            uow.advice.add(request)
            note(uow, case, caller, request, "held", f"Health advice request held: {problem}")
        else:
            uow.advice.add(request)
            send(uow, case, caller, request, pack)
        made.append(request)
    return made


def send(
    uow: UnitOfWork, case: CaseSummary, caller: Client, request: AdviceRequest, pack: PolicyPack
) -> None:
    """The request is made: on the timeline (which starts its clock) and, for health, to the
    NHS team through the outbox, in this transaction."""
    who = _performer_name(request, pack)
    due = local_date(request.due_at)
    note(
        uow,
        case,
        caller,
        request,
        "requested",
        f"{ADVISER_NAMES[request.adviser].capitalize()} advice requested from {who}, "
        f"due by {due:%A %-d %B %Y}",
        due_by=due,
        clocks_at=request.requested_at,
    )
    if request.adviser == "health":
        uow.outbox.enqueue(
            [
                OutboundMessage(
                    destination="nhs",
                    kind="advice.health_requested",
                    # A request released after a hold is the same request: sent once.
                    idempotency_key=f"nhs:advice:{request.id}",
                    payload={"advice_request_id": request.id},
                    case_id=case.id,
                    child_id=case.child_id,
                )
            ],
            uow.now,
        )


def sharing_problem(uow: UnitOfWork, child_id: str) -> str | None:
    """Why health may not be sent this child's details, or None. No record is not consent."""
    decision = uow.sharing.get(child_id, "health")
    if decision is None:
        return "no record of what the family agreed to share with health"
    if not decision.agreed and not decision.safeguarding_override:
        return "the family declined sharing with health"
    if not decision.allows("identity"):
        return "the family's agreement with health does not cover identity, which health needs"
    child = uow.children.get(child_id)
    if child is None or not child.identifiers.nhs_number:
        return "the child has no NHS number on record, so health cannot find them"
    return None


def note(
    uow: UnitOfWork,
    case: CaseSummary,
    caller: Client,
    request: AdviceRequest,
    what: str,
    description: str,
    due_by: dt.date | None = None,
    clocks_at: dt.datetime | None = None,
) -> None:
    action = Action(
        kind=f"{ACTION_PREFIX[request.adviser]}_advice_{what}",
        description=description[:2000],
        actor=caller.name[:200],
        due_by=due_by,
    )
    record_entry(uow, case, caller, description[:200], ActionRecorded(action=action), clocks_at)


def _performer(
    adviser: str, case: CaseSummary, pack: PolicyPack, health_performer: str | None
) -> str:
    teams = [(code, team) for code, team in pack.teams.items() if team.adviser == adviser]
    if adviser == "health":
        if health_performer is not None:
            return health_performer
        ods = next((team.ods for _, team in teams if team.ods), None)
        if ods is None:
            raise InvalidInput(
                f"{pack.authority.name}'s pack names no NHS team for health advice: give "
                "health_performer (an ODS code)",
                field="health_performer",
            )
        return ods
    if teams:
        return teams[0][0]
    return case.lead_team or "UNASSIGNED"


def _performer_name(request: AdviceRequest, pack: PolicyPack) -> str:
    if request.adviser == "health":
        team = next((t for t in pack.teams.values() if t.ods == request.performer), None)
        return f"{team.name} (ODS {request.performer})" if team else f"ODS {request.performer}"
    team = pack.teams.get(request.performer)
    return team.name if team else request.performer


def find(uow: UnitOfWork, request_id: str) -> AdviceRequest:
    request = uow.advice.get(request_id)
    if request is None:
        raise NotFound(f"no advice request {request_id}")
    return request
