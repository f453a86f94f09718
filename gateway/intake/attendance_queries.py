"""Reading attendance back: feed progress, a child's figures, open concerns."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from gateway.attendance.summary import AttendanceSummary, summarise
from gateway.errors import NotFound
from gateway.model.attendance import FeedReport
from gateway.model.client import Client
from gateway.model.routing import RoutingDecision
from gateway.security.reach import concerns_within
from gateway.store.pagination import decode_cursor, encode_cursor
from gateway.store.unit_of_work import Store


class Concern(msgspec.Struct, kw_only=True, frozen=True):
    id: str
    child_id: str
    school_urn: str | None
    kind: str
    academic_year: int
    term: str | None
    status: str
    rule_id: str
    policy_ref: str
    figures: dict[str, Any]
    feed_id: str
    raised_at: dt.datetime
    resolved_at: dt.datetime | None
    # What the authority's pack did with it: who leads, and the case it opened (if any).
    routing: RoutingDecision | None = None
    case_id: str | None = None


class ConcernPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[Concern]
    next_cursor: str | None


def feed_progress(
    store: Store, feed_id: str, caller: Client, parse_lease_seconds: float = 600.0
) -> FeedReport:
    """The feed as it stands: one still being read with no progress for longer than the parse
    lease reads ``stalled``."""
    with store.unit_of_work() as uow:
        stalled_before = uow.now - dt.timedelta(seconds=parse_lease_seconds)
        report = uow.attendance.feed_report(feed_id, stalled_before=stalled_before)
        owner = uow.attendance.feed_owner(feed_id)
    if owner != caller.id and "admin" not in caller.scopes:
        # Another client's feed: not found rather than forbidden, so ids cannot be probed.
        raise NotFound(f"no attendance feed {feed_id}")
    return report


def child_attendance(
    store: Store, child_id: str, caller: Client, endpoint: str
) -> AttendanceSummary:
    """The child's figures at each school and year they were enrolled (by their UPN)."""
    with store.unit_of_work() as uow:
        child = uow.children.get(child_id)
        if child is None:
            raise NotFound(f"no child {child_id}")
        uow.audit.record(caller, child_id, endpoint, "read", uow.now)
        upn = child.identifiers.upn
        held = uow.attendance.figures_of_child(upn) if upn else []
    return AttendanceSummary(
        child_id=child_id, years=[summarise(state, school) for school, state in held]
    )


def list_concerns(
    store: Store,
    *,
    status: str | None,
    kind: str | None,
    school_urn: str | None,
    child_id: str | None,
    cursor: str | None,
    limit: int,
    caller: Client,
    endpoint: str,
) -> ConcernPage:
    position = decode_cursor(cursor) if cursor else None
    with store.unit_of_work() as uow:
        rows = uow.attendance.concerns_page(
            status=status,
            kind=kind,
            school_urn=school_urn,
            child_id=child_id,
            cursor=position,
            limit=limit + 1,
            within=concerns_within(caller),
        )
        items = [msgspec.convert(_public(r), Concern, strict=False) for r in rows[:limit]]
        for child in dict.fromkeys(item.child_id for item in items):
            uow.audit.record(caller, child, endpoint, "list", uow.now)
    more = len(rows) > limit
    next_cursor = encode_cursor(items[-1].raised_at, items[-1].id) if more else None
    return ConcernPage(items=items, next_cursor=next_cursor)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """The UPN stays in the store: the child id is how the API names a child."""
    return {k: v for k, v in row.items() if k != "upn"}
