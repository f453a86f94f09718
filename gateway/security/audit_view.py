"""The answer to a subject-access question: who saw or changed this child's record, when, for
what purpose and which parts of it (mappings/data/audit_purposes.toml), from the append-only
audit log."""

from __future__ import annotations

import datetime as dt
import functools

import msgspec

from gateway.errors import NotFound
from gateway.store.unit_of_work import Store
from mappings.data import load_toml


class AuditEntry(msgspec.Struct, kw_only=True, frozen=True):
    at: dt.datetime
    client_id: str
    client_name: str
    endpoint: str
    action: str
    purpose: str
    fields: list[str]


class SubjectAccessReport(msgspec.Struct, kw_only=True, frozen=True):
    child_id: str
    entries: list[AuditEntry]


@functools.cache
def _purposes() -> list[tuple[str, str, tuple[str, ...]]]:
    table = load_toml("audit_purposes.toml")["purposes"]
    rows = [(p["prefix"], p["purpose"], tuple(p["fields"])) for p in table]
    return sorted(rows, key=lambda row: len(row[0]), reverse=True)


def purpose_of(endpoint: str) -> tuple[str, list[str]]:
    path = endpoint.partition(" ")[2] or endpoint
    for prefix, purpose, fields in _purposes():
        if path.startswith(prefix):
            return purpose, list(fields)
    return "unclassified", []


def subject_access(store: Store, child_id: str) -> SubjectAccessReport:
    with store.unit_of_work(read_only=True) as uow:
        if uow.children.get(child_id) is None:
            raise NotFound(f"no child {child_id}")
        rows = uow.audit.for_child(child_id)
    entries = []
    for row in rows:
        purpose, fields = purpose_of(str(row["endpoint"]))
        entries.append(
            AuditEntry(
                at=row["at"],  # type: ignore[arg-type]
                client_id=str(row["client_id"]),
                client_name=str(row["client_name"]),
                endpoint=str(row["endpoint"]),
                action=str(row["action"]),
                purpose=purpose,
                fields=fields,
            )
        )
    return SubjectAccessReport(child_id=child_id, entries=entries)
