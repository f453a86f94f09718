"""Children: stored flat, one unique column per identifier scheme so a lookup by any of
them is one indexed query."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

import sqlalchemy as sa

from gateway.clock import new_id
from gateway.errors import Conflict
from gateway.model.child import Child, ChildDetails, ChildIdentifiers, ChildName, IdentifierScheme
from gateway.store.schema import children

# Built once per identifier: every notice and registration looks children up.
_FIND = {
    scheme: sa.select(children).where(children.c[scheme] == sa.bindparam("k_value"))
    for scheme in typing.get_args(IdentifierScheme)
}


class ChildRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, details: ChildDetails, now: dt.datetime) -> Child:
        for scheme, value in details.identifiers.items():
            if self.find(scheme, value) is not None:
                raise Conflict(
                    f"a child with this {scheme} is already registered",
                    field=f"identifiers.{scheme}",
                )
        child_id = new_id()
        try:
            # A savepoint, so a registration racing this one fails alone, as a conflict.
            with self._connection.begin_nested():
                row = self._connection.execute(
                    children.insert()
                    .values(id=child_id, created_at=now, updated_at=now, **_row(details))
                    .returning(*children.c)
                ).one()
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "a child with one of these identifiers was registered at the same moment",
                field="identifiers",
            ) from exc
        return _child(row._mapping)

    def update(self, child_id: str, values: dict[str, Any], now: dt.datetime) -> Child:
        """Columns as given; an identifier another child holds is a conflict, not a merge."""
        try:
            with self._connection.begin_nested():
                row = self._connection.execute(
                    children.update()
                    .where(children.c.id == child_id)
                    .values(**values, updated_at=now)
                    .returning(*children.c)
                ).one()
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "another child is registered with one of these identifiers",
                field="identifiers",
            ) from exc
        return _child(row._mapping)

    def get(self, child_id: str) -> Child | None:
        row = self._connection.execute(sa.select(children).where(children.c.id == child_id)).first()
        return None if row is None else _child(row._mapping)

    def find(self, scheme: IdentifierScheme, value: str) -> Child | None:
        row = self._connection.execute(_FIND[scheme], {"k_value": value}).first()
        return None if row is None else _child(row._mapping)

    def set_mosaic_person(self, child_id: str, person_id: str, now: dt.datetime) -> None:
        """Which Mosaic person the child is; one person is one child."""
        other = self._connection.execute(
            sa.select(children.c.id).where(
                children.c.mosaic_person_id == person_id, children.c.id != child_id
            )
        ).scalar()
        if other is not None:
            raise Conflict(f"Mosaic person {person_id} is already linked to child {other}")
        try:
            with self._connection.begin_nested():  # a link racing this one fails alone
                self._connection.execute(
                    children.update()
                    .where(children.c.id == child_id)
                    .values(mosaic_person_id=person_id, updated_at=now)
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                f"Mosaic person {person_id} was linked to another child at the same moment"
            ) from exc


def _row(details: ChildDetails) -> dict[str, Any]:
    ids = details.identifiers
    return {
        "upn": ids.upn,
        "nhs_number": ids.nhs_number,
        "mosaic_person_id": ids.mosaic_person_id,
        "uln": ids.uln,
        "given_name": details.name.given,
        "family_name": details.name.family,
        "preferred_name": details.name.preferred,
        "date_of_birth": details.date_of_birth,
        "home_la": details.home_la,
        "school_urn": details.school_urn,
        "ehcp_status": details.ehcp_status,
        "looked_after": details.looked_after,
    }


def _child(row: Any) -> Child:
    return Child(
        id=row["id"],
        identifiers=ChildIdentifiers(
            upn=row["upn"],
            nhs_number=row["nhs_number"],
            mosaic_person_id=row["mosaic_person_id"],
            uln=row["uln"],
        ),
        name=None
        if row["family_name"] is None
        else ChildName(
            given=row["given_name"], family=row["family_name"], preferred=row["preferred_name"]
        ),
        date_of_birth=row["date_of_birth"],
        home_la=row["home_la"],
        school_urn=row["school_urn"],
        ehcp_status=row["ehcp_status"],
        looked_after=row["looked_after"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
