"""Advice requests, their documents, and what families agreed to share, as stored."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa

from gateway.errors import Conflict
from gateway.model.advice import AdviceDocument, AdviceRequest, SharingDecision
from gateway.store.rows import plain
from gateway.store.schema import advice_documents, advice_requests, sharing_decisions


class AdviceRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, request: AdviceRequest) -> None:
        self._connection.execute(advice_requests.insert().values(**msgspec.structs.asdict(request)))

    def get(self, request_id: str) -> AdviceRequest | None:
        row = self._connection.execute(
            sa.select(advice_requests).where(advice_requests.c.id == request_id)
        ).first()
        return None if row is None else _request(plain(row))

    def replace(self, before: AdviceRequest, after: AdviceRequest) -> AdviceRequest:
        """Write ``after`` only if the row is still ``before``'s version (two NHS systems
        answering at once: the second is told to read again, never silently overwritten)."""
        bumped = msgspec.structs.replace(after, version=before.version + 1)
        result = self._connection.execute(
            advice_requests.update()
            .where(
                advice_requests.c.id == before.id,
                advice_requests.c.version == before.version,
            )
            .values(**msgspec.structs.asdict(bumped))
        )
        if result.rowcount != 1:
            raise Conflict(f"advice request {before.id} changed meanwhile; read it again")
        return bumped

    def for_case(self, case_id: str) -> list[AdviceRequest]:
        rows = self._connection.execute(
            sa.select(advice_requests)
            .where(advice_requests.c.case_id == case_id)
            .order_by(advice_requests.c.requested_at, advice_requests.c.adviser)
        )
        return [_request(plain(r)) for r in rows]

    def held_for_child(self, child_id: str, adviser: str) -> list[AdviceRequest]:
        rows = self._connection.execute(
            sa.select(advice_requests).where(
                advice_requests.c.child_id == child_id,
                advice_requests.c.adviser == adviser,
                advice_requests.c.status == "held",
            )
        )
        return [_request(plain(r)) for r in rows]

    def search(
        self,
        *,
        adviser: str | None = None,
        performer: str | None = None,
        performers: tuple[str, ...] | None = None,
        statuses: tuple[str, ...] = (),
        ids: tuple[str, ...] = (),
        child_id: str | None = None,
        limit: int = 100,
    ) -> list[AdviceRequest]:
        query = sa.select(advice_requests)
        if adviser is not None:
            query = query.where(advice_requests.c.adviser == adviser)
        if performer is not None:
            query = query.where(advice_requests.c.performer == performer)
        if performers is not None:
            query = query.where(advice_requests.c.performer.in_(performers))
        if statuses:
            query = query.where(advice_requests.c.status.in_(statuses))
        if ids:
            query = query.where(advice_requests.c.id.in_(ids))
        if child_id is not None:
            query = query.where(advice_requests.c.child_id == child_id)
        query = query.order_by(advice_requests.c.requested_at, advice_requests.c.id).limit(limit)
        return [_request(plain(r)) for r in self._connection.execute(query)]

    def add_document(self, document: AdviceDocument, data: bytes) -> None:
        self._connection.execute(
            advice_documents.insert().values(**msgspec.structs.asdict(document), data=data)
        )

    def document(self, document_id: str) -> tuple[AdviceDocument, bytes] | None:
        row = self._connection.execute(
            sa.select(advice_documents).where(advice_documents.c.id == document_id)
        ).first()
        if row is None:
            return None
        fields = plain(row)
        data = bytes(fields.pop("data"))
        return msgspec.convert(fields, AdviceDocument, strict=False), data


class SharingRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def get(self, child_id: str, agency: str) -> SharingDecision | None:
        row = self._connection.execute(
            sa.select(sharing_decisions).where(
                sharing_decisions.c.child_id == child_id, sharing_decisions.c.agency == agency
            )
        ).first()
        return None if row is None else msgspec.convert(plain(row), SharingDecision, strict=False)

    def for_child(self, child_id: str) -> list[SharingDecision]:
        rows = self._connection.execute(
            sa.select(sharing_decisions)
            .where(sharing_decisions.c.child_id == child_id)
            .order_by(sharing_decisions.c.agency)
        )
        return [msgspec.convert(plain(r), SharingDecision, strict=False) for r in rows]

    def put(self, decision: SharingDecision) -> None:
        values = msgspec.structs.asdict(decision)
        where = (sharing_decisions.c.child_id == decision.child_id) & (
            sharing_decisions.c.agency == decision.agency
        )
        updated = self._connection.execute(sharing_decisions.update().where(where).values(values))
        if updated.rowcount == 0:
            self._connection.execute(sharing_decisions.insert().values(values))


def _request(fields: dict[str, Any]) -> AdviceRequest:
    return msgspec.convert(fields, AdviceRequest, strict=False)
