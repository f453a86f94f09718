"""API clients: only a hash of each token is kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from gateway.clock import new_id
from gateway.errors import Conflict, NotFound
from gateway.model.client import Client, Scope
from gateway.store.schema import clients


class ClientRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(
        self,
        name: str,
        scopes: Sequence[Scope],
        token_hash: str,
        now: dt.datetime,
        expires_at: dt.datetime | None = None,
        organisations: Sequence[str] = (),
        schools: Sequence[str] = (),
    ) -> Client:
        if self._by_name(name) is not None:
            raise Conflict(f"a client named {name!r} exists already", field="name")
        client_id = new_id()
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    clients.insert().values(
                        id=client_id,
                        name=name,
                        token_hash=token_hash,
                        scopes=" ".join(scopes),
                        created_at=now,
                        expires_at=expires_at,
                        bindings=_bindings(organisations, schools),
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(f"a client named {name!r} exists already", field="name") from exc
        client = self._by_name(name)
        assert client is not None
        return client

    def provision(
        self,
        name: str,
        scopes: Sequence[Scope],
        token_hash: str,
        now: dt.datetime,
        expires_at: dt.datetime | None,
        organisations: Sequence[str],
        schools: Sequence[str],
    ) -> str:
        """Make the named client exactly as declared: "created", "updated" or "unchanged".
        A revoked client stays revoked under the token it was revoked with; a new token
        brings it back (the rotation that follows a leak)."""
        current = self._connection.execute(sa.select(clients).where(clients.c.name == name)).first()
        if current is None:
            self.add(name, scopes, token_hash, now, expires_at, organisations, schools)
            return "created"
        row = current._mapping
        if row["revoked_at"] is not None and row["token_hash"] == token_hash:
            raise Conflict(
                f"client {name!r} was revoked with this token; give it a new token to restore it",
                field="token",
            )
        wanted = {
            "token_hash": token_hash,
            "scopes": " ".join(scopes),
            "expires_at": expires_at,
            "revoked_at": None,
            "bindings": _bindings(organisations, schools),
        }
        if all(row[column] == value for column, value in wanted.items()):
            return "unchanged"
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    clients.update().where(clients.c.name == name).values(**wanted)
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("another client holds this token", field="token") from exc
        return "updated"

    def by_token_hash(self, token_hash: str) -> Client | None:
        row = self._connection.execute(
            sa.select(clients).where(clients.c.token_hash == token_hash)
        ).first()
        return None if row is None else _client(row._mapping)

    def all(self) -> list[Client]:
        rows = self._connection.execute(sa.select(clients).order_by(clients.c.created_at))
        return [_client(row._mapping) for row in rows]

    def count(self) -> int:
        return int(
            self._connection.execute(sa.select(sa.func.count()).select_from(clients)).scalar_one()
        )

    def revoke(self, name: str, now: dt.datetime) -> Client:
        result = self._connection.execute(
            clients.update()
            .where(clients.c.name == name, clients.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        client = self._by_name(name)
        if client is None:
            raise NotFound(f"no client named {name!r}")
        if result.rowcount == 0:
            raise Conflict(f"client {name!r} was revoked already")
        return client

    def _by_name(self, name: str) -> Client | None:
        row = self._connection.execute(sa.select(clients).where(clients.c.name == name)).first()
        return None if row is None else _client(row._mapping)


def _bindings(organisations: Sequence[str], schools: Sequence[str]) -> str | None:
    return " ".join([f"ods:{o}" for o in organisations] + [f"urn:{u}" for u in schools]) or None


def _client(row: Any) -> Client:
    bindings = (row["bindings"] or "").split()
    return msgspec.convert(
        {
            "id": row["id"],
            "name": row["name"],
            "scopes": row["scopes"].split(),
            "created_at": row["created_at"],
            "revoked_at": row["revoked_at"],
            "expires_at": row["expires_at"],
            "organisations": [b[4:] for b in bindings if b.startswith("ods:")],
            "schools": [b[4:] for b in bindings if b.startswith("urn:")],
        },
        Client,
        strict=False,
    )
