"""An advice request followed to its answer: status moves (mappings/data/advice_transitions.toml,
the FHIR Task state machine), the advice documents, and releasing held requests once the family
agrees to share.

Every move is an action on the case's timeline, so it becomes a casenote and drives the clocks:
``<adviser>_advice_received`` meets the six-week clock (met or met late), ``…_withdrawn``
cancels it; a rejection leaves it running, since the authority still needs the advice.
"""

from __future__ import annotations

import functools
import hashlib

import msgspec

from gateway.advice.requests import (
    ADVICE_WEEKS,
    ADVISER_NAMES,
    find,
    note,
    send,
    sharing_problem,
)
from gateway.clock import new_id
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.model.advice import (
    AdviceChange,
    AdviceDocument,
    AdviceRequest,
    SafeguardingOverride,
    SharingDecision,
    SharingUpdate,
)
from gateway.model.client import Client
from gateway.rules.pack import PolicyPack
from gateway.sla.calendars import due_at
from gateway.store.unit_of_work import Store, UnitOfWork
from mappings.data import load_toml

MAX_DOCUMENT_BYTES = 10 * 1_048_576
# The timeline word for each status an adviser moves a request to.
WORDS = {
    "accepted": "accepted",
    "in-progress": "started",
    "completed": "received",
    "rejected": "rejected",
    "cancelled": "withdrawn",
}


@functools.cache
def moves() -> dict[str, dict[str, frozenset[str]]]:
    table = load_toml("advice_transitions.toml")["moves"]
    return {
        status: {who: frozenset(targets) for who, targets in by.items()}
        for status, by in table.items()
    }


def change(
    store: Store,
    request_id: str,
    update: AdviceChange,
    caller: Client,
    pack: PolicyPack,
    *,
    by: str,
    expected_version: int | None = None,
    documents_required: bool = True,
) -> AdviceRequest:
    """``by`` is "performer" (the adviser's own moves) or "authority" (withdrawing). Health
    completes with its advice attached (a DocumentReference); an officer recording another
    adviser's answer has it on paper or in Mosaic, so ``documents_required`` is off there."""
    with store.unit_of_work() as uow:
        current = find(uow, request_id)
        if expected_version is not None and expected_version != current.version:
            raise Conflict(
                f"advice request {request_id} is at version {current.version}, "
                f"not {expected_version}; read it again"
            )
        moving = update.status != current.status
        if moving and update.status not in moves()[current.status].get(by, frozenset()):
            allowed = sorted(moves()[current.status].get(by, frozenset()))
            raise InvalidInput(
                f"an advice request cannot move from {current.status} to {update.status}"
                + (f"; allowed: {', '.join(allowed)}" if allowed else "; it is finished"),
                field="status",
            )
        for document_id in update.documents:
            found = uow.advice.document(document_id)
            if found is None or found[0].advice_request_id != request_id:
                raise InvalidInput(
                    f"DocumentReference/{document_id} is not advice for this request",
                    field="output",
                )
        if update.status == "completed" and documents_required and not update.documents:
            raise InvalidInput(
                "a completed advice request needs its advice as output (a DocumentReference)",
                field="output",
            )
        after = msgspec.structs.replace(
            current,
            status=update.status,
            business_status=update.business_status,
            status_reason=update.status_reason,
            notes=list(update.notes),
            documents=list(update.documents),
            completed_at=uow.now if update.status == "completed" else current.completed_at,
        )
        saved = uow.advice.replace(current, after)
        if moving:
            case = uow.cases.get(current.case_id)
            name = ADVISER_NAMES[current.adviser].capitalize()
            detail = f"{name} advice {WORDS[update.status]}"
            if update.status_reason:
                detail += f": {update.status_reason}"
            elif update.business_status:
                detail += f" ({update.business_status})"
            note(uow, case, caller, saved, WORDS[update.status], detail)
        return saved


def add_document(
    store: Store,
    request_id: str,
    *,
    content_type: str,
    title: str,
    data: bytes,
    author: str | None,
    caller: Client,
) -> AdviceDocument:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(f"advice documents are at most {MAX_DOCUMENT_BYTES} bytes", field="data")
    with store.unit_of_work() as uow:
        request = find(uow, request_id)
        if request.status not in ("requested", "accepted", "in-progress"):
            raise InvalidInput(
                f"advice request {request_id} is {request.status}: it takes no more advice",
                field="context.related",
            )
        document = AdviceDocument(
            id=new_id(),
            advice_request_id=request_id,
            content_type=content_type,  # type: ignore[arg-type]
            title=title[:200],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            author=author[:200] if author else None,
            received_at=uow.now,
        )
        uow.advice.add_document(document, data)
        case = uow.cases.get(request.case_id)
        name = ADVISER_NAMES[request.adviser].capitalize()
        note(uow, case, caller, request, "document", f"{name} advice document received: {title}")
        return document


def record_sharing(
    store: Store,
    child_id: str,
    agency: str,
    update: SharingUpdate,
    caller: Client,
    endpoint: str,
    pack: PolicyPack,
) -> SharingDecision:
    """The family's latest word for one agency. Agreeing to share with health sends the
    health advice requests that were held for it, each starting its clock now."""
    with store.unit_of_work() as uow:
        if uow.children.get(child_id) is None:
            raise NotFound(f"no child {child_id}")
        decision = SharingDecision(
            child_id=child_id,
            agency=agency,  # type: ignore[arg-type]
            agreed=update.agreed,
            categories=sorted(set(update.categories)),
            recorded_at=uow.now,
            recorded_by=caller.name[:200],
            source=update.source,
        )
        uow.sharing.put(decision)
        uow.audit.record(caller, child_id, endpoint, "sharing", uow.now)
        release_held(uow, child_id, agency, caller, pack)
        return decision


def override_for_safeguarding(
    store: Store,
    child_id: str,
    agency: str,
    override: SafeguardingOverride,
    caller: Client,
    endpoint: str,
    pack: PolicyPack,
) -> SharingDecision:
    """Sharing despite the family's refusal, for the child's safety: recorded with its reason
    and who authorised it, audited as an override, and it sends what was held for it."""
    with store.unit_of_work() as uow:
        if uow.children.get(child_id) is None:
            raise NotFound(f"no child {child_id}")
        earlier = uow.sharing.get(child_id, agency)
        decision = SharingDecision(
            child_id=child_id,
            agency=agency,  # type: ignore[arg-type]
            agreed=earlier.agreed if earlier else False,
            categories=list(earlier.categories) if earlier else [],
            recorded_at=uow.now,
            recorded_by=caller.name[:200],
            source=f"safeguarding override authorised by {override.authorised_by}"[:200],
            safeguarding_override=True,
            override_reason=override.reason,
        )
        uow.sharing.put(decision)
        uow.audit.record(caller, child_id, endpoint, "override", uow.now)
        release_held(uow, child_id, agency, caller, pack)
        return decision


def release_held(
    uow: UnitOfWork, child_id: str, agency: str, caller: Client, pack: PolicyPack
) -> None:
    """Health requests held for want of agreement (or of an NHS number) go now, each
    starting its clock now."""
    if agency != "health" or sharing_problem(uow, child_id) is not None:
        return
    for held in uow.advice.held_for_child(child_id, "health"):
        released = msgspec.structs.replace(
            held,
            status="requested",
            held_reason=None,
            requested_at=uow.now,
            due_at=due_at("calendar_weeks", uow.now, ADVICE_WEEKS),
        )
        saved = uow.advice.replace(held, released)
        send(uow, uow.cases.get(held.case_id), caller, saved, pack)
