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
from gateway.store.schema import clients, retired_tokens


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
        providers: Sequence[str] = (),
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
                        bindings=_bindings(organisations, schools, providers),
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
        providers: Sequence[str] = (),
    ) -> str:
        """Make the named client exactly as declared: "created", "updated" or "unchanged".
        A token once revoked or rotated away is refused for good (a Secret reverted to a
        leaked token must not bring it back); a new token restores a revoked client."""
        if self._retired(token_hash):
            raise Conflict(
                f"this token was taken out of use (revoked or replaced); give {name!r} a new one",
                field="token",
            )
        current = self._connection.execute(sa.select(clients).where(clients.c.name == name)).first()
        if current is None:
            self.add(name, scopes, token_hash, now, expires_at, organisations, schools, providers)
            self._connection.execute(
                clients.update().where(clients.c.name == name).values(provisioned=True)
            )
            return "created"
        row = current._mapping
        wanted = {
            "token_hash": token_hash,
            "scopes": " ".join(scopes),
            "expires_at": expires_at,
            "revoked_at": None,
            "bindings": _bindings(organisations, schools, providers),
            "provisioned": True,
        }
        if all(row[column] == value for column, value in wanted.items()):
            return "unchanged"
        try:
            with self._connection.begin_nested():
                if row["token_hash"] != token_hash:
                    self._retire(row["token_hash"], name, now)
                self._connection.execute(
                    clients.update().where(clients.c.name == name).values(**wanted)
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("another client holds this token", field="token") from exc
        return "updated"

    def prune(self, declared: Sequence[str], now: dt.datetime) -> list[str]:
        """Revoke the clients the deployment declared before but declares no longer (clients
        made by hand with `gateway client create` are left alone). Returns their names."""
        rows = self._connection.execute(
            sa.select(clients.c.name).where(
                clients.c.provisioned.is_(True),
                clients.c.revoked_at.is_(None),
                clients.c.name.not_in(list(declared)) if declared else sa.true(),
            )
        ).scalars()
        dropped = sorted(rows)
        for name in dropped:
            self.revoke(name, now)
        return dropped

    def _retired(self, token_hash: str) -> bool:
        found = self._connection.execute(
            sa.select(retired_tokens.c.token_hash).where(retired_tokens.c.token_hash == token_hash)
        ).first()
        return found is not None

    def _retire(self, token_hash: str, name: str, now: dt.datetime) -> None:
        if not self._retired(token_hash):
            self._connection.execute(
                retired_tokens.insert().values(
                    token_hash=token_hash, client_name=name, retired_at=now
                )
            )

    def by_token_hash(self, token_hash: str) -> Client | None:
        row = self._connection.execute(
            sa.select(clients).where(clients.c.token_hash == token_hash)
        ).first()
        return None if row is None else _client(row._mapping)

    def by_id(self, client_id: str) -> Client | None:
        row = self._connection.execute(sa.select(clients).where(clients.c.id == client_id)).first()
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
        current = self._connection.execute(
            sa.select(clients.c.token_hash).where(clients.c.name == name)
        ).scalar_one()
        self._retire(current, name, now)
        return client

    def _by_name(self, name: str) -> Client | None:
        row = self._connection.execute(sa.select(clients).where(clients.c.name == name)).first()
        return None if row is None else _client(row._mapping)


def _bindings(
    organisations: Sequence[str], schools: Sequence[str], providers: Sequence[str] = ()
) -> str | None:
    words = [f"ods:{o}" for o in organisations] + [f"urn:{u}" for u in schools]
    return " ".join(words + [f"provider:{p}" for p in providers]) or None


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
            "providers": [b[9:] for b in bindings if b.startswith("provider:")],
        },
        Client,
        strict=False,
    )
