"""When the authority received a request, as distinct from when the gateway heard of it.

Statutory clocks run from receipt by the authority: "within 15 working days after the request
has been made" (003 Timescales), "within 6 weeks of the date of the request for advice" (004
"3. EHC Needs Assessment Process"). A request that reached the gateway late (a portal outage, a
backlog, an officer keying a paper referral) keeps the moment it was received, and every clock
it starts counts from then. The moment given is checked: never in the future, never before the
child was born; one more than a day before arrival is audited, since moving a clock's start is
a decision someone must answer for.
"""

from __future__ import annotations

import datetime as dt

from gateway.errors import InvalidInput
from gateway.model.child import Child
from gateway.model.client import Client
from gateway.sla.calendars import local_date
from gateway.store.unit_of_work import UnitOfWork

# Arrival this much later than receipt is recorded in the audit log ("backdated").
AUDITED_AFTER = dt.timedelta(days=1)


def received_moment(
    given: dt.datetime | None, arrival: dt.datetime, child: Child, field: str = "received_at"
) -> dt.datetime:
    """``given`` checked against the child's record, or the arrival when none was given."""
    if given is None:
        return arrival
    if given.tzinfo is None or given.utcoffset() is None:
        raise InvalidInput("give the time with its offset (e.g. 2026-01-12T09:30:00Z)", field=field)
    try:
        moment = given.astimezone(dt.UTC)
    except OverflowError as exc:
        raise InvalidInput("the time is out of range", field=field) from exc
    if moment > arrival:
        raise InvalidInput(
            f"{moment.isoformat()} is in the future (it is now {arrival.isoformat()})", field=field
        )
    try:
        day = local_date(moment)
    except OverflowError as exc:
        raise InvalidInput("the time is out of range", field=field) from exc
    if child.date_of_birth is not None and day < child.date_of_birth:
        raise InvalidInput("is before the child's date of birth", field=field)
    return moment


def audit_if_backdated(
    uow: UnitOfWork,
    caller: Client,
    child_id: str,
    endpoint: str,
    received: dt.datetime,
) -> None:
    if uow.now - received > AUDITED_AFTER:
        uow.audit.record(caller, child_id, endpoint, "backdate", uow.now)
