"""Importing the registers: the GIAS establishment extract and the authority's approved AP list.

Both arrive as files that are archived before they are read (nothing received is lost), read as
a stream in batches, and written idempotently: the same file again is recognised by its digest
and answered with the first import's report; a later extract changes only what changed. Rows a
reader refuses go into the error report by line and column, and the rest go on. Closed schools
are kept, marked closed, never deleted: a child's record may still name them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, BinaryIO, Literal

import msgspec

from gateway.clock import new_id
from gateway.model.client import Client
from gateway.model.provider import Establishment, ImportReport, Provider
from gateway.store.unit_of_work import Store

BATCH = 1_000
MAX_ERRORS_KEPT = 1_000


def archive_file(
    store: Store,
    source: str,
    content_type: str,
    body: BinaryIO,
    sha256: str,
    size: int,
    caller: Client,
) -> None:
    with store.unit_of_work() as uow:
        uow.archive.keep(
            source=source,
            content_type=content_type,
            sha256=sha256,
            size=size,
            client_id=caller.id,
            body=body,
            now=uow.now,
        )


def import_establishments(
    store: Store,
    rows: Iterable[Any],
    sha256: str,
    *,
    on_progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """``rows`` are the GIAS reader's establishments and row errors (adapters/providers)."""
    return _run(store, "gias", sha256, rows, _write_establishments, on_progress)


def import_approved_list(
    store: Store,
    rows: Iterable[Any],
    sha256: str,
    *,
    on_progress: Callable[[int], None] = lambda _: None,
) -> ImportReport:
    """``rows`` are the approved-list reader's providers and row errors."""
    return _run(store, "approved_list", sha256, rows, _write_providers, on_progress)


Writer = Callable[[Store, list[Any]], tuple[int, int, int]]


def _run(
    store: Store,
    source: Literal["gias", "approved_list"],
    sha256: str,
    rows: Iterable[Any],
    write: Writer,
    on_progress: Callable[[int], None],
) -> ImportReport:
    with store.unit_of_work(read_only=True) as uow:
        earlier = uow.registers.import_with(source, sha256)
    if earlier is not None:
        return earlier
    started = store.clock.now()
    counts = {"rows": 0, "added": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    errors: list[dict[str, object]] = []
    batch: list[Any] = []

    def flush() -> None:
        added, updated, unchanged = write(store, batch)
        counts["added"] += added
        counts["updated"] += updated
        counts["unchanged"] += unchanged
        batch.clear()
        on_progress(counts["rows"])

    for row in rows:
        counts["rows"] += 1
        if _is_error(row):
            counts["rejected"] += 1
            if len(errors) < MAX_ERRORS_KEPT:
                errors.append(msgspec.to_builtins(row))
            continue
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    report = ImportReport(
        id=new_id(),
        source=source,
        errors=errors,
        started_at=started,
        finished_at=store.clock.now(),
        **counts,
    )
    with store.unit_of_work() as uow:
        uow.registers.record_import(report, sha256)
    return report


def _is_error(row: Any) -> bool:
    return hasattr(row, "message") and hasattr(row, "line")


def _write_establishments(store: Store, batch: list[Any]) -> tuple[int, int, int]:
    items = [
        msgspec.convert(msgspec.structs.asdict(row), Establishment, strict=False) for row in batch
    ]
    with store.unit_of_work() as uow:
        return uow.registers.upsert_establishments(items, uow.now)


def _write_providers(store: Store, batch: list[Any]) -> tuple[int, int, int]:
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    with store.unit_of_work() as uow:
        for row in batch:
            provider = Provider(
                id=new_id(),
                name=row.name,
                ukprn=row.ukprn,
                urn=row.urn,
                services=list(row.services),
                registration=row.registration,
                safeguarding_contact=row.safeguarding_contact,
                capacity=row.capacity,
                approved=True,
                updated_at=uow.now,
            )
            counts[uow.registers.upsert_provider(provider)] += 1
    return counts["added"], counts["updated"], counts["unchanged"]
