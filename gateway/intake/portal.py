"""Children's Services Portal notifications: archive, read, find or register the child,
route, and open a case — or attach to the case the same notice already opened.

Worcestershire's CCAS notifications arrive through the portal and are notifications, not
referrals (000); every one is reviewed, so each opens (or joins) a case the pack routes.
The same school telling us the same thing about the same child on the same day is one
notification: it is recorded and attached to the case still open for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec
import sqlalchemy as sa

from gateway.cases.receipt import audit_if_backdated
from gateway.cases.service import SYSTEM, apply_tokens, open_case_in, record_entry
from gateway.clock import new_id
from gateway.delivery.routes import messages_for
from gateway.errors import Conflict, InvalidFields
from gateway.model.case import CaseSummary, NewCase
from gateway.model.child import Child
from gateway.model.client import Client
from gateway.model.events import Action, ActionRecorded
from gateway.model.provider import Establishment
from gateway.model.roll import RollDeletion
from gateway.model.routing import RoutingDecision
from gateway.roll.grounds import ground_of
from gateway.roll.returns import date_problem, record_deletion
from gateway.rules.engine import route
from gateway.rules.pack import PolicyPack
from gateway.sla.calendars import local_date, start_of_day
from gateway.store.cases import FINISHED
from gateway.store.schema import cases, portal_notifications
from gateway.store.unit_of_work import Store, UnitOfWork

if TYPE_CHECKING:
    from mappings.portal import PortalFacts


ENDPOINT = "POST /api/v1/portal/notifications"


class InvalidNotificationBody(InvalidFields):
    """The notification breaks its contract; ``errors`` names each field at fault."""

    title = "Invalid notification"
    slug = "invalid-notification"


class NotificationOutcome(msgspec.Struct, kw_only=True, frozen=True):
    notification_id: str
    # None for a deletion from roll that opened no enquiry (the child has a destination).
    case_id: str | None
    child_id: str
    duplicate: bool
    routing: RoutingDecision | None
    notice_late: bool


def receive_notification(
    store: Store,
    body: bytes,
    read: Callable[[bytes], PortalFacts],
    caller: Client,
    pack: PolicyPack,
) -> NotificationOutcome:
    with store.unit_of_work() as uow:  # archived first, kept even when it is refused
        archive_id = uow.archive.keep(
            source="portal",
            content_type="application/json",
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            client_id=caller.id,
            body=body,
            now=uow.now,
        )
    try:
        facts = read(body)  # raises InvalidNotificationBody naming the fields
    except InvalidFields:
        with store.unit_of_work() as uow:  # refused whole: a large one keeps only its head
            uow.archive.keep_head_only(archive_id, body)
        raise
    if facts.deletion is not None:
        return _deletion_from_roll(store, facts, facts.deletion, caller, pack, archive_id)
    with store.unit_of_work() as uow:
        if uow.connection.dialect.name == "postgresql":
            # Two copies of one notice at once: the second waits, then finds the first.
            uow.connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": facts.duplicate_key},
            )
        school = _school(uow, facts.child.school_urn)
        child = _child(uow, facts, caller)
        earlier = _open_duplicate(uow, facts.duplicate_key)
        if earlier is not None:
            case_id, first_id = earlier
            _note_repeat(uow, case_id, facts, caller)
            decision = uow.cases.get(case_id).routing  # the decision the first notice got
        else:
            first_id = None
            decision = route(pack, facts.routing)
            new = NewCase(
                child_id=child.id,
                reason=facts.reason,
                source="portal",
                # The one-line summary, then the notifier's own words, kept whole.
                summary=f"{facts.summary}\n\n{facts.notes}"[:2000],
                school_urn=facts.child.school_urn or child.school_urn,  # the notifying school
            )
            # Received when the school submitted it, not when the portal's hook reached us (a
            # portal outage, a backlog); a portal clock a little ahead of ours is read as now.
            received = min(facts.submitted_at, uow.now)
            opened = open_case_in(
                uow, new, caller, decision, received_at=received, facts=facts.routing
            )
            case_id = opened.id
            _exclusion_tokens(uow, opened, facts)
            notified = [f"notification:{facts.routing.notification}"]
            apply_tokens(uow, opened, notified, received, facts.routing)
            audit_if_backdated(uow, caller, child.id, ENDPOINT, received)
        uow.connection.execute(
            portal_notifications.insert().values(
                id=new_id(),
                notification_id=facts.notification_id,
                archive_id=archive_id,
                duplicate_key=facts.duplicate_key,
                case_id=case_id,
                duplicate_of=first_id,
                received_at=uow.now,
                exclusion_issued_at=facts.exclusion_issued_at,
                notice_late=facts.notice_late,
            )
        )
        if school is not None and school.status == "closed" and earlier is None:
            _note_closed_school(uow, case_id, school)
        if facts.notice_late and earlier is None and not _notice_is_timed(pack):
            _note_late_notice(uow, case_id, facts)
    return NotificationOutcome(
        notification_id=facts.notification_id,
        case_id=case_id,
        child_id=child.id,
        duplicate=earlier is not None,
        routing=decision,
        notice_late=facts.notice_late,
    )


def _deletion_from_roll(
    store: Store,
    facts: PortalFacts,
    deletion: RollDeletion,
    caller: Client,
    pack: PolicyPack,
    archive_id: str,
) -> NotificationOutcome:
    """A school's deletion return through the portal: the same record, enquiry and refusals
    as the MIS's (gateway/roll/returns.py)."""
    if ground_of(deletion.ground) is None:
        raise InvalidNotificationBody(
            [("deletion_from_roll.ground", f"{deletion.ground!r} is not a regulation 9 ground")]
        )
    with store.unit_of_work() as uow:
        if (problem := date_problem(deletion.deleted_on, local_date(uow.now))) is not None:
            raise InvalidNotificationBody([("deletion_from_roll.deleted_on", problem)])
        outcome = record_deletion(uow, deletion, caller, pack, archive_id)
        case = uow.cases.find(outcome.enquiry_case_id) if outcome.enquiry_case_id else None
    return NotificationOutcome(
        notification_id=facts.notification_id,
        case_id=outcome.enquiry_case_id,
        child_id=outcome.child_id,
        duplicate=outcome.duplicate,
        routing=case.routing if case is not None else None,
        notice_late=False,
    )


def _child(uow: UnitOfWork, facts: PortalFacts, caller: Client) -> Child:
    """The child by UPN or NHS number; registered from the notification when unknown.
    Identifiers that point at two different children are refused rather than guessed."""
    found: dict[str, Child] = {}
    for scheme, value in facts.child.identifiers.items():
        child = uow.children.find(scheme, value)
        if child is not None:
            found[scheme] = child
    if len({child.id for child in found.values()}) > 1:
        raise InvalidNotificationBody(
            [("child.nhs_number", "belongs to a different child than the UPN")]
        )
    if found:
        child = next(iter(found.values()))
        upn = facts.child.identifiers.upn
        if child.identifiers.upn not in (None, upn):
            raise InvalidNotificationBody(
                [("child.upn", "the NHS number belongs to a child with a different UPN")]
            )
        uow.audit.record(caller, child.id, ENDPOINT, "search", uow.now)
        return child
    try:
        child = uow.children.add(facts.child, uow.now)
    except Conflict:  # registered by a notice for the same child a moment ago
        again = uow.children.find("upn", facts.child.identifiers.upn or "")
        if again is None:
            raise
        child = again
    uow.audit.record(caller, child.id, ENDPOINT, "create", uow.now)
    return child


def _open_duplicate(uow: UnitOfWork, key: str) -> tuple[str, str] | None:
    row = uow.connection.execute(
        sa.select(portal_notifications.c.case_id, portal_notifications.c.id)
        .join(cases, cases.c.id == portal_notifications.c.case_id)
        .where(
            portal_notifications.c.duplicate_key == key,
            portal_notifications.c.duplicate_of.is_(None),
            cases.c.status.not_in(FINISHED),
        )
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def _note_repeat(uow: UnitOfWork, case_id: str, facts: PortalFacts, caller: Client) -> None:
    case = uow.cases.get(case_id)
    action = Action(
        kind="notification_repeated",
        description=f"The same notification was received again ({facts.notification_id})",
        actor=caller.name,
    )
    event = uow.cases.append_event(
        case_id,
        at=uow.now,
        actor=caller.name,
        summary="Notification received again",
        why=None,
        detail=ActionRecorded(action=action),
    )
    uow.outbox.enqueue(messages_for(event, case), uow.now)


def _school(uow: UnitOfWork, urn: str | None) -> Establishment | None:
    """Once a GIAS extract is loaded, a notice from a school it does not know is refused (the
    portal should only carry real URNs); one from a closed school is taken and flagged, since
    a child whose school has closed is exactly who may need the authority's help."""
    if urn is None or not uow.registers.has_establishments():
        return None
    school = uow.registers.establishment(urn)
    if school is None:
        raise InvalidNotificationBody([("school.urn", f"URN {urn} is not in the GIAS register")])
    return school


def _note_closed_school(uow: UnitOfWork, case_id: str, school: Establishment) -> None:
    closed = f" on {school.closed_on:%-d %B %Y}" if school.closed_on else ""
    action = Action(
        kind="school_closed",
        description=f"The notifying school, {school.name} (URN {school.urn}), closed{closed} "
        "according to GIAS: confirm where the child is on roll",
        actor=SYSTEM.name,
    )
    record_entry(
        uow,
        uow.cases.get(case_id),
        SYSTEM,
        "Notifying school is closed",
        ActionRecorded(action=action),
    )


def _exclusion_tokens(uow: UnitOfWork, case: CaseSummary, facts: PortalFacts) -> None:
    """Each exclusion moment the notice reports, stamped with when it happened (003 "Section 19:
    by reason of exclusion"): the 24-hour notice runs from issue to the school's submission, not
    to when the notice reached the gateway; full-time education is due by the sixth school day
    counted from the exclusion's first day."""
    if facts.exclusion_issued_at is None:
        return
    apply_tokens(uow, case, ["exclusion:issued"], facts.exclusion_issued_at, facts.routing)
    if facts.notice_received_at is not None:
        apply_tokens(uow, case, ["exclusion:notified"], facts.notice_received_at, facts.routing)
    if facts.exclusion_first_day is not None:
        first = start_of_day(facts.exclusion_first_day)
        apply_tokens(uow, case, ["exclusion:first_day"], first, facts.routing)


def _notice_is_timed(pack: PolicyPack) -> bool:
    """Where the pack times the notice as a clock, the clock's "met late" is the record."""
    return any("exclusion:issued" in rule.starts_on for rule in pack.clocks)


def _note_late_notice(uow: UnitOfWork, case_id: str, facts: PortalFacts) -> None:
    """Lincolnshire 003 "Section 19: by reason of exclusion": the school must notify within
    24 hours of the exclusion being issued."""
    issued = facts.exclusion_issued_at
    received = facts.notice_received_at
    hours = (received - issued).total_seconds() / 3600 if issued and received else None
    took = f" ({hours:.0f} hours after it was issued)" if hours is not None else ""
    action = Action(
        kind="late_exclusion_notice",
        description=f"Exclusion notified late{took}; schools must notify within 24 hours",
        actor=SYSTEM.name,
    )
    case = uow.cases.get(case_id)
    event = uow.cases.append_event(
        case_id,
        at=uow.now,
        actor=SYSTEM.name,
        summary="Late exclusion notice",
        why="003 Section 19: by reason of exclusion (within 24 hours)",
        detail=ActionRecorded(action=action),
    )
    uow.outbox.enqueue(messages_for(event, case), uow.now)


__all__ = ["InvalidNotificationBody", "NotificationOutcome", "receive_notification"]
