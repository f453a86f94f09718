"""Which status a case may move to next, read from mappings/data/case_lifecycle.toml
(Lincolnshire 003, "Process for considering section 19 requests")."""

from __future__ import annotations

import functools
import typing

import msgspec

from gateway.errors import Conflict
from gateway.model.case import CaseStatus
from mappings.data import load_toml


class _Status(msgspec.Struct, frozen=True):
    cite: str
    next: list[CaseStatus]


class Lifecycle(msgspec.Struct, frozen=True):
    initial: CaseStatus
    statuses: dict[CaseStatus, _Status]

    def check_move(self, current: str, target: str, field: str = "status") -> None:
        allowed = self.statuses[typing.cast(CaseStatus, current)].next
        if target not in allowed:
            options = ", ".join(allowed) or "none (the case is closed)"
            raise Conflict(
                f"a case cannot move from {current} to {target}; allowed next: {options}",
                field=field,
            )


@functools.cache
def lifecycle() -> Lifecycle:
    table = msgspec.convert(load_toml("case_lifecycle.toml"), Lifecycle)
    missing = set(typing.get_args(CaseStatus)) - set(table.statuses)
    if missing:
        raise ValueError(f"case_lifecycle.toml has no entry for {sorted(missing)}")
    return table
