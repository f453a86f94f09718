"""The open enquiries into children missing education (cases of kind ``cme_enquiry``)."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.model.case import CaseSummary
from gateway.store.cases import FINISHED
from gateway.store.schema import cases
from gateway.store.unit_of_work import UnitOfWork


def open_enquiries(uow: UnitOfWork, child_id: str | None = None) -> list[CaseSummary]:
    """Oldest first; one child's when ``child_id`` is given."""
    query = sa.select(cases.c.id).where(
        cases.c.kind == "cme_enquiry", cases.c.status.not_in(FINISHED)
    )
    if child_id is not None:
        query = query.where(cases.c.child_id == child_id)
    ids = uow.connection.execute(query.order_by(cases.c.opened_at, cases.c.id)).scalars()
    return [uow.cases.get(case_id) for case_id in ids]


__all__ = ["open_enquiries"]
