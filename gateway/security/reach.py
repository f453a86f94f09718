"""Row-level reach: the children (and so the cases) a bound client may see and change.

A client bound to schools (URNs) reaches the children on roll at one of them, or with a case
one of them raised; bound to NHS organisations (ODS codes), the children with an advice request
sent to one of them; bound to providers (URN or UKPRN), the children placed with one of them.
A client with several bindings reaches the union. An unbound client is the authority's own and
reaches every child. A case is reached on its own terms: raised by or for one of the client's
schools, with an advice request sent to its organisation, or with a placement at it; a school
a child joins later sees the child, not the cases other schools raised.

Whatever is out of reach is answered 404, exactly as a row that does not exist: a bound client
cannot learn that another school's child is known here (README, "Who sees what").
"""

from __future__ import annotations

import sqlalchemy as sa

from gateway.model.client import Client
from gateway.store.schema import (
    advice_requests,
    attendance_concerns,
    cases,
    children,
    placements,
    providers,
)
from gateway.store.unit_of_work import UnitOfWork

# Advice requests that put a child in an NHS team's reach: sent to it (one held for want of
# consent or an NHS number was not) and not turned down or withdrawn (a team that said "not
# ours" keeps no reach over the child).
SENT_ADVICE = ("requested", "accepted", "in-progress", "completed")


Ids = sa.Select[tuple[str]] | sa.CompoundSelect[tuple[str]]


def reachable_children(client: Client) -> Ids | None:
    """The ids of the children ``client`` reaches, as a query to filter by; None for an
    unbound client (every child)."""
    if not client.bound:
        return None
    parts = _through_advice_and_placements(client, "child_id")
    if client.schools:
        parts.append(sa.select(children.c.id).where(children.c.school_urn.in_(client.schools)))
        parts.append(sa.select(cases.c.child_id).where(cases.c.school_urn.in_(client.schools)))
    return _union(parts)


def reachable_cases(client: Client) -> Ids | None:
    """The ids of the cases ``client`` reaches, as a query; None for an unbound client."""
    if not client.bound:
        return None
    parts = _through_advice_and_placements(client, "case_id")
    if client.schools:
        parts.append(sa.select(cases.c.id).where(cases.c.school_urn.in_(client.schools)))
    return _union(parts)


def reaches_child(uow: UnitOfWork, client: Client, child_id: str) -> bool:
    return _within(uow, reachable_children(client), child_id)


def reaches_case(uow: UnitOfWork, client: Client, case_id: str) -> bool:
    return _within(uow, reachable_cases(client), case_id)


def _through_advice_and_placements(client: Client, column: str) -> list[sa.Select[tuple[str]]]:
    """``column`` (the child's or the case's id) of the advice requests sent to the client's
    organisations and of the placements at its providers."""
    parts: list[sa.Select[tuple[str]]] = []
    if client.organisations:
        parts.append(
            sa.select(advice_requests.c[column]).where(
                advice_requests.c.performer.in_(client.organisations),
                advice_requests.c.status.in_(SENT_ADVICE),
            )
        )
    if client.providers:
        parts.append(
            sa.select(placements.c[column])
            .join(providers, providers.c.id == placements.c.provider_id)
            .where(
                sa.or_(
                    providers.c.urn.in_(client.providers),
                    providers.c.ukprn.in_(client.providers),
                )
            )
        )
    return parts


def _union(parts: list[sa.Select[tuple[str]]]) -> Ids:
    return parts[0] if len(parts) == 1 else sa.union(*parts)


def _within(uow: UnitOfWork, reach: Ids | None, row_id: str) -> bool:
    if reach is None:
        return True
    query = sa.select(sa.literal(1)).where(sa.literal(row_id).in_(reach))
    return uow.connection.execute(query).first() is not None


def concerns_within(client: Client) -> sa.ColumnElement[bool] | None:
    """Attendance concerns a bound client reaches: its schools' (a pupil not yet known as a
    child here is still that school's), and those of the children it reaches."""
    reach = reachable_children(client)
    if reach is None:
        return None
    return sa.or_(
        attendance_concerns.c.school_urn.in_(client.schools),
        attendance_concerns.c.child_id.in_(reach),
    )
