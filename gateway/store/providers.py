"""Registers (GIAS establishments, the approved AP list), imports, and placements, as stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa

from gateway.model.provider import Establishment, ImportReport, Placement, Provider
from gateway.store.rows import plain
from gateway.store.schema import establishments, placements, provider_imports, providers

_ESTABLISHMENT_FIELDS = Establishment.__struct_fields__


class RegisterRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    # --- GIAS -----------------------------------------------------------------------------

    def upsert_establishments(
        self, batch: Sequence[Establishment], now: dt.datetime
    ) -> tuple[int, int, int]:
        """(added, updated, unchanged) for one batch: read the batch's rows once, write only
        what differs, so importing the same extract again changes nothing."""
        if not batch:
            return 0, 0, 0
        known = {
            row.urn: row
            for row in self._connection.execute(
                sa.select(establishments).where(establishments.c.urn.in_([e.urn for e in batch]))
            )
        }
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for item in batch:
            values = msgspec.structs.asdict(item)
            row = known.get(item.urn)
            if row is None:
                new.append(values | {"imported_at": now})
            elif any(getattr(row, f) != values[f] for f in _ESTABLISHMENT_FIELDS):
                changed.append(values | {"imported_at": now, "key": item.urn})
        if new:
            self._connection.execute(establishments.insert(), new)
        if changed:
            self._connection.execute(
                establishments.update()
                .where(establishments.c.urn == sa.bindparam("key"))
                .values({f: sa.bindparam(f) for f in (*_ESTABLISHMENT_FIELDS, "imported_at")}),
                changed,
            )
        return len(new), len(changed), len(batch) - len(new) - len(changed)

    def establishment(self, urn: str) -> Establishment | None:
        row = self._connection.execute(
            sa.select(establishments).where(establishments.c.urn == urn)
        ).first()
        return None if row is None else _establishment(row)

    def has_establishments(self) -> bool:
        return (
            self._connection.execute(sa.select(establishments.c.urn).limit(1)).first() is not None
        )

    def search_establishments(
        self,
        *,
        text: str | None = None,
        urn: str | None = None,
        ukprn: str | None = None,
        la_code: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[Establishment]:
        query = sa.select(establishments)
        if text:
            query = query.where(establishments.c.name.ilike(f"%{_like(text)}%", escape="\\"))
        for column, value in (("urn", urn), ("ukprn", ukprn), ("la_code", la_code)):
            if value:
                query = query.where(establishments.c[column] == value)
        if status:
            query = query.where(establishments.c.status == status)
        query = query.order_by(establishments.c.name, establishments.c.urn).limit(limit)
        return [_establishment(row) for row in self._connection.execute(query)]

    # --- the approved list ----------------------------------------------------------------

    def upsert_provider(self, provider: Provider) -> str:
        """ "added", "updated" or "unchanged"; matched by UKPRN, else URN."""
        existing = self._match(provider.ukprn, provider.urn)
        values = msgspec.structs.asdict(provider)
        if existing is None:
            self._connection.execute(providers.insert().values(**values))
            return "added"
        keep = {"id", "updated_at", "ukrlp_name", "ukrlp_status", "ukrlp_checked_at"}
        if all(getattr(existing, k) == v for k, v in values.items() if k not in keep):
            return "unchanged"
        changes = {k: v for k, v in values.items() if k not in keep - {"updated_at"}}
        self._connection.execute(
            providers.update().where(providers.c.id == existing.id).values(**changes)
        )
        return "updated"

    def _match(self, ukprn: str | None, urn: str | None) -> Provider | None:
        for column, value in (("ukprn", ukprn), ("urn", urn)):
            if value:
                row = self._connection.execute(
                    sa.select(providers).where(providers.c[column] == value)
                ).first()
                if row is not None:
                    return _provider(row)
        return None

    def provider(self, provider_id: str) -> Provider | None:
        row = self._connection.execute(
            sa.select(providers).where(providers.c.id == provider_id)
        ).first()
        return None if row is None else _provider(row)

    def search_providers(
        self,
        *,
        text: str | None = None,
        ukprn: str | None = None,
        service: str | None = None,
        approved: bool | None = None,
        limit: int = 50,
    ) -> list[Provider]:
        query = sa.select(providers)
        if text:
            query = query.where(providers.c.name.ilike(f"%{_like(text)}%", escape="\\"))
        if ukprn:
            query = query.where(providers.c.ukprn == ukprn)
        if approved is not None:
            query = query.where(providers.c.approved == approved)
        query = query.order_by(providers.c.name, providers.c.id)
        found = [_provider(row) for row in self._connection.execute(query)]
        if service:  # services are a short JSON list: filtered here, the same on both stores
            found = [p for p in found if service in p.services]
        return found[:limit]

    def record_ukrlp(
        self, provider_id: str, name: str | None, status: str | None, now: dt.datetime
    ) -> None:
        self._connection.execute(
            providers.update()
            .where(providers.c.id == provider_id)
            .values(ukrlp_name=name, ukrlp_status=status, ukrlp_checked_at=now)
        )

    # --- imports and placements -----------------------------------------------------------

    def record_import(self, report: ImportReport, sha256: str) -> None:
        self._connection.execute(
            provider_imports.insert().values(**msgspec.structs.asdict(report), sha256=sha256)
        )

    def import_with(self, source: str, sha256: str) -> ImportReport | None:
        row = self._connection.execute(
            sa.select(provider_imports)
            .where(provider_imports.c.source == source, provider_imports.c.sha256 == sha256)
            .order_by(provider_imports.c.finished_at.desc())
        ).first()
        if row is None:
            return None
        fields = plain(row)
        fields.pop("sha256")
        return msgspec.convert(fields, ImportReport, strict=False)

    def add_placement(self, placement: Placement) -> None:
        values = msgspec.to_builtins(placement)
        values.update(
            start_date=placement.start_date,
            created_at=placement.created_at,
        )
        self._connection.execute(placements.insert().values(**values))

    def end_placement(self, placement_id: str, last_day: dt.date, reason: str) -> Placement | None:
        """Compare-and-set: None when the placement is not active (ended already, or by an
        officer a moment ago)."""
        row = self._connection.execute(
            placements.update()
            .where(placements.c.id == placement_id, placements.c.status == "active")
            .values(status="ended", ended_on=last_day, end_reason=reason)
            .returning(*placements.c)
        ).first()
        return None if row is None else msgspec.convert(plain(row), Placement, strict=False)

    def placement(self, placement_id: str) -> Placement | None:
        row = self._connection.execute(
            sa.select(placements).where(placements.c.id == placement_id)
        ).first()
        return None if row is None else msgspec.convert(plain(row), Placement, strict=False)

    def placements_for_case(self, case_id: str) -> list[Placement]:
        rows = self._connection.execute(
            sa.select(placements)
            .where(placements.c.case_id == case_id)
            .order_by(placements.c.start_date)
        )
        return [msgspec.convert(plain(r), Placement, strict=False) for r in rows]

    def active_placements_under(self, hours: float) -> list[Placement]:
        rows = self._connection.execute(
            sa.select(placements)
            .where(placements.c.status == "active", placements.c.hours_per_week < hours)
            .order_by(placements.c.start_date, placements.c.id)
        )
        return [msgspec.convert(plain(r), Placement, strict=False) for r in rows]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _establishment(row: Any) -> Establishment:
    fields = plain(row)
    fields.pop("imported_at", None)
    return msgspec.convert(fields, Establishment, strict=False)


def _provider(row: Any) -> Provider:
    return msgspec.convert(plain(row), Provider, strict=False)
