"""Who read which child's record, through which endpoint, and when."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from gateway.model.client import Client
from gateway.store.rows import plain as _plain
from gateway.store.schema import audit_log


class AuditRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def record(
        self, client: Client, child_id: str, endpoint: str, action: str, now: dt.datetime
    ) -> None:
        self._connection.execute(
            audit_log.insert().values(
                at=now,
                client_id=client.id,
                client_name=client.name,
                child_id=child_id,
                endpoint=endpoint,
                action=action,
            )
        )

    def for_child(self, child_id: str) -> list[dict[str, object]]:
        rows = self._connection.execute(
            sa.select(audit_log).where(audit_log.c.child_id == child_id).order_by(audit_log.c.id)
        )
        return [_plain(row) for row in rows]
