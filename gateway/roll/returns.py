"""A school's admission-register returns: archive, read, find or register the child, record the
change once, and open or close the enquiry into a child missing education.

SI 2024/208: a school deletes a pupil only on a regulation 9 ground and makes a return to the
authority when it does; it makes a return when it adds one. A deletion on a ground that may
leave the child missing education, with no destination school named, opens an enquiry (a
case of kind ``cme_enquiry``), routed by the authority's pack with the child off roll: Lancashire
001 1.2 "a CME notification must be made without delay so that the child can be included on the
CME database"; Lincolnshire 003 s.436A, through its EWE team. The child's name added to any
school's register closes the enquiry: the child is on roll again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import msgspec
import sqlalchemy as sa

from gateway.cases.service import SYSTEM, close_if_allowed, open_case_in, record_entry
from gateway.clock import new_id
from gateway.errors import GatewayError, InvalidFields
from gateway.model.case import CaseSummary, NewCase
from gateway.model.child import Child
from gateway.model.client import Client
from gateway.model.events import Action, ActionRecorded
from gateway.model.roll import (
    RollAddition,
    RollChangeOutcome,
    RollChangeReport,
    RollDeletion,
)
from gateway.roll.enquiries import open_enquiries
from gateway.roll.grounds import Ground, ground_of, opens_enquiry
from gateway.rules.engine import RoutingFacts, route
from gateway.rules.pack import PolicyPack
from gateway.sla.calendars import CalendarError, local_date, school_days_between, start_of_day
from gateway.store.schema import roll_changes
from gateway.store.unit_of_work import Store, UnitOfWork

DELETIONS = "POST /api/v1/roll/deletions"
ADDITIONS = "POST /api/v1/roll/additions"
Located = list[tuple[str, RollDeletion | RollAddition]]


class InvalidRollReturn(InvalidFields):
    """The return breaks its contract; ``errors`` names each record and field at fault."""

    title = "Invalid admission register return"
    slug = "invalid-roll-return"


class RollForbidden(GatewayError):
    """A school's client sending a return for a school it is not bound to."""

    status = 403
    title = "Not this client's school"
    slug = "forbidden-school"


def receive_returns(
    store: Store,
    body: bytes,
    content_type: str,
    read: Callable[[bytes, str], Located],
    caller: Client,
    pack: PolicyPack,
) -> RollChangeReport:
    """Archived first and kept even when refused; then the caller's binding is checked, then
    every record, before any is applied: a return is taken whole or not at all."""
    with store.unit_of_work() as uow:
        archive_id = uow.archive.keep(
            source="roll",
            content_type=content_type,
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            client_id=caller.id,
            body=body,
            now=uow.now,
        )
    try:
        records = _checked(store, body, content_type, read, caller)
    except GatewayError:
        with store.unit_of_work() as uow:  # refused whole: a large one keeps only its head
            uow.archive.keep_head_only(archive_id, body)
        raise
    outcomes: list[RollChangeOutcome] = []
    with store.unit_of_work() as uow:
        for where, record in records:
            if isinstance(record, RollDeletion):
                outcome = record_deletion(uow, record, caller, pack, archive_id)
            else:
                outcome = record_addition(uow, record, caller, archive_id)
            outcomes.append(_as_seen_by(uow, caller, outcome, where))
    return RollChangeReport(outcomes=outcomes)


def _checked(
    store: Store,
    body: bytes,
    content_type: str,
    read: Callable[[bytes, str], Located],
    caller: Client,
) -> Located:
    """The return's records, each checked; raises, naming every fault, if any is refused."""
    records = read(body, content_type)
    # Authorised before anything else is said about the records.
    for where, record in records:
        if not caller.schools and "admin" not in caller.scopes:
            # An admission register is the school's: written by its own MIS's client.
            raise RollForbidden(
                f"{where}: this client is bound to no school; returns are accepted only from "
                "a client bound to its school (gateway client create --urn)",
                field=f"{where}.school_urn",
            )
        if caller.schools and record.school_urn not in caller.schools:
            raise RollForbidden(
                f"{where}: this client sends returns for {', '.join(caller.schools)} only, "
                f"not {record.school_urn}",
                field=f"{where}.school_urn",
            )
    errors = [
        (f"{where}.ground", f"{record.ground!r} is not a ground in regulation 9 (see the table)")
        for where, record in records
        if isinstance(record, RollDeletion) and ground_of(record.ground) is None
    ]
    today = local_date(store.clock.now())
    for where, record in records:
        if isinstance(record, RollDeletion):
            field, day = f"{where}.deleted_on", record.deleted_on
        else:
            field, day = f"{where}.added_on", record.added_on
        if (problem := date_problem(day, today)) is not None:
            errors.append((field, problem))
    if errors:
        raise InvalidRollReturn(errors)
    return records


def _as_seen_by(
    uow: UnitOfWork, caller: Client, outcome: RollChangeOutcome, where: str
) -> RollChangeOutcome:
    """A school-bound client hears of the enquiries its own school's returns opened, not of
    another school's it joined or closed (no existence leak across schools)."""
    seen = msgspec.structs.replace(outcome, locator=where)
    if not caller.schools:
        return seen

    def own(case_id: str) -> bool:
        case = uow.cases.find(case_id)
        return case is not None and case.school_urn in caller.schools

    enquiry = seen.enquiry_case_id
    return msgspec.structs.replace(
        seen,
        enquiry_case_id=enquiry if enquiry is not None and own(enquiry) else None,
        closed_case_ids=[case_id for case_id in seen.closed_case_ids if own(case_id)],
    )


def date_problem(day: dt.date, today: dt.date) -> str | None:
    """Why a return's date cannot be taken: in the future, or outside the term dates the
    gateway holds (days off roll are counted in school days, never guessed)."""
    if day > today:
        return "cannot be dated in the future"
    try:
        school_days_between(day, today)
    except CalendarError as exc:
        return f"is outside the term dates the gateway holds ({exc})"
    return None


def record_deletion(
    uow: UnitOfWork, deletion: RollDeletion, caller: Client, pack: PolicyPack, archive_id: str
) -> RollChangeOutcome:
    ground = ground_of(deletion.ground)
    assert ground is not None, "checked by receive_returns"
    child = _child(uow, deletion.pupil.upn, deletion, caller, DELETIONS)
    key = f"{deletion.school_urn}|{child.id}|deletion|{deletion.deleted_on.isoformat()}"
    earlier = _earlier(uow, key, "deletion", deletion.ground, deletion.destination_urn)
    if earlier is not None:
        return earlier
    # The child's roll: the destination school when named, none when not. A child the
    # gateway knows to be on another school's roll is not off roll: no enquiry.
    on_another_roll = child.school_urn not in (deletion.school_urn, None)
    if not on_another_roll:
        uow.children.update(child.id, {"school_urn": deletion.destination_urn}, uow.now)
    case_id = None
    if opens_enquiry(ground, deletion.destination_urn) and not on_another_roll:
        case_id = _open_or_join_enquiry(uow, child, deletion, ground, caller, pack)
    row_id = _insert(
        uow,
        key,
        child.id,
        deletion.school_urn,
        "deletion",
        deletion.deleted_on,
        archive_id,
        caller,
        ground=deletion.ground,
        destination_urn=deletion.destination_urn,
        case_id=case_id,
    )
    return RollChangeOutcome(
        id=row_id,
        change="deletion",
        child_id=child.id,
        school_urn=deletion.school_urn,
        on=deletion.deleted_on,
        ground=deletion.ground,
        destination_urn=deletion.destination_urn,
        duplicate=False,
        enquiry_case_id=case_id,
    )


def record_addition(
    uow: UnitOfWork, addition: RollAddition, caller: Client, archive_id: str
) -> RollChangeOutcome:
    child = _child(uow, addition.pupil.upn, addition, caller, ADDITIONS)
    key = f"{addition.school_urn}|{child.id}|addition|{addition.added_on.isoformat()}"
    earlier = _earlier(uow, key, "addition", None, None)
    if earlier is not None:
        return earlier
    uow.children.update(child.id, {"school_urn": addition.school_urn}, uow.now)
    closed = [
        case.id
        for case in open_enquiries(uow, child.id)
        # An addition dated before the child went off roll says nothing of today.
        if case.off_roll_since is not None
        and addition.added_on >= case.off_roll_since
        and _back_on_roll(uow, case, addition, caller)
    ]
    row_id = _insert(
        uow, key, child.id, addition.school_urn, "addition", addition.added_on, archive_id, caller
    )
    return RollChangeOutcome(
        id=row_id,
        change="addition",
        child_id=child.id,
        school_urn=addition.school_urn,
        on=addition.added_on,
        ground=None,
        destination_urn=None,
        duplicate=False,
        closed_case_ids=closed,
    )


def enquiry_facts(child: Child, school_days_off_roll: int | None = None) -> RoutingFacts:
    """What the pack routes an enquiry on: the child off roll, and for how long."""
    return RoutingFacts(
        reason="otherwise",
        ehcp=child.ehcp_status == "issued",
        ehcp_draft=child.ehcp_status == "draft",
        looked_after=child.looked_after,
        off_roll=True,
        school_days_off_roll=school_days_off_roll,
        source="school",
    )


def _open_or_join_enquiry(
    uow: UnitOfWork,
    child: Child,
    deletion: RollDeletion,
    ground: Ground,
    caller: Client,
    pack: PolicyPack,
) -> str:
    """One enquiry per child at a time: a second school's deletion joins the open one."""
    destination = "no destination school named"
    words = (
        f"Deleted from the admission register of URN {deletion.school_urn} on "
        f"{deletion.deleted_on:%-d %B %Y}, {ground.paragraph} ({ground.summary}); {destination}"
    )
    for case in open_enquiries(uow, child.id):
        action = _action("deleted_from_roll", words, caller)
        record_entry(uow, case, caller, "Deleted from another school's roll", action)
        return case.id
    new = NewCase(
        child_id=child.id,
        reason="otherwise",
        source="school",
        summary=f"Possible child missing education: {words}"[:2000],
        school_urn=deletion.school_urn,
    )
    decision = route(pack, enquiry_facts(child, 0))
    case = open_case_in(
        uow,
        new,
        caller,
        decision,
        kind="cme_enquiry",
        off_roll_since=deletion.deleted_on,
    )
    # Days off roll count from the deletion's date: the off-roll clocks start that day.
    noted = words + (f". {deletion.notes}" if deletion.notes else "")
    record_entry(
        uow,
        case,
        caller,
        "Deleted from the school's roll",
        _action("deleted_from_roll", noted, caller),
        clocks_at=start_of_day(deletion.deleted_on),
    )
    return case.id


def _back_on_roll(
    uow: UnitOfWork, case: CaseSummary, addition: RollAddition, caller: Client
) -> bool:
    """The child is on a roll again: the enquiry stops counting days off roll (its clock is
    met) and closes, unless a panel is still to hear it; True when it closed."""
    words = (
        f"Added to the admission register of URN {addition.school_urn} on "
        f"{addition.added_on:%-d %B %Y}: the child is on a school roll again"
    )
    record_entry(
        uow,
        case,
        caller,
        "Added to a school's roll",
        _action("added_to_roll", words, caller),
        clocks_at=start_of_day(addition.added_on),
    )
    uow.cases.end_off_roll(case.id, uow.now)
    return close_if_allowed(uow, uow.cases.get(case.id), SYSTEM, words)


def _action(kind: str, words: str, caller: Client) -> ActionRecorded:
    return ActionRecorded(
        action=Action(kind=kind, description=words[:2000], actor=caller.name[:200])
    )


def _child(
    uow: UnitOfWork,
    upn: str,
    record: RollDeletion | RollAddition,
    caller: Client,
    endpoint: str,
) -> Child:
    """The child by UPN, registered when unknown; their row locked for this transaction, so
    two schools' returns for one child (or one return sent twice at once) apply in turn."""
    if uow.connection.dialect.name == "postgresql":
        uow.connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"roll|{upn}"}
        )
    child = uow.children.find("upn", upn)
    if child is None:
        created = uow.attendance.add_minimal_children({upn: record.school_urn}, uow.now)
        values: dict[str, object] = {}
        if record.pupil.name is not None:
            values.update(given_name=record.pupil.name.given, family_name=record.pupil.name.family)
        if record.pupil.date_of_birth is not None:
            values["date_of_birth"] = record.pupil.date_of_birth
        child = uow.children.update(created[upn], values, uow.now)
        uow.audit.record(caller, child.id, endpoint, "create", uow.now)
    else:
        uow.audit.record(caller, child.id, endpoint, "update", uow.now)
    return child


def _earlier(
    uow: UnitOfWork, key: str, change: str, ground: str | None, destination: str | None
) -> RollChangeOutcome | None:
    """The same return sent again (a resent file, a replayed request) changes nothing."""
    row = uow.connection.execute(
        sa.select(roll_changes).where(roll_changes.c.return_key == key)
    ).first()
    if row is None:
        return None
    found = row._mapping
    return RollChangeOutcome(
        id=found["id"],
        change=found["change"],
        child_id=found["child_id"],
        school_urn=found["school_urn"],
        on=found["on_date"],
        ground=found["ground"],
        destination_urn=found["destination_urn"],
        duplicate=True,
        enquiry_case_id=found["case_id"] if change == "deletion" else None,
    )


def _insert(
    uow: UnitOfWork,
    key: str,
    child_id: str,
    school_urn: str,
    change: str,
    on: object,
    archive_id: str,
    caller: Client,
    *,
    ground: str | None = None,
    destination_urn: str | None = None,
    case_id: str | None = None,
) -> str:
    row_id = new_id()
    uow.connection.execute(
        roll_changes.insert().values(
            id=row_id,
            child_id=child_id,
            school_urn=school_urn,
            change=change,
            on_date=on,
            ground=ground,
            destination_urn=destination_urn,
            archive_id=archive_id,
            client_id=caller.id,
            received_at=uow.now,
            case_id=case_id,
            return_key=key,
        )
    )
    return row_id


__all__ = [
    "InvalidRollReturn",
    "RollForbidden",
    "enquiry_facts",
    "receive_returns",
    "record_addition",
    "record_deletion",
]
