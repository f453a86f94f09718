"""The periodic escalation: clocks nearly due and clocks breached, each told once to the
owning agency through the outbox and written on the case timeline. Run by the worker."""

from __future__ import annotations

import msgspec

from gateway.cases.service import SYSTEM, record_entry
from gateway.sla import clock_engine
from gateway.sla.calendars import due_at
from gateway.store.unit_of_work import Store


def escalate(store: Store, due_soon_working_days: int = 5) -> tuple[int, int]:
    """Returns (clocks newly nearly due, clocks newly breached)."""
    with store.unit_of_work() as uow:
        now = uow.now
        horizon = due_at("working_days", now, due_soon_working_days)
        soon = breached = 0
        for clock in uow.clocks.running_due_before(horizon):
            case = uow.cases.get(clock.case_id)
            if clock.due_at < now and clock.breach_sent_at is None:
                marked = msgspec.structs.replace(clock, breach_sent_at=now)
                change, column = "breached", "breach_sent_at"
            elif clock.due_at >= now and clock.due_soon_sent_at is None:
                marked = msgspec.structs.replace(clock, due_soon_sent_at=now)
                change, column = "due soon", "due_soon_sent_at"
            else:
                continue
            if not uow.clocks.mark_told(clock.id, column, now):
                continue  # another worker replica told it a moment ago
            if change == "breached":
                breached += 1
            else:
                soon += 1
            detail = clock_engine.clock_event(marked, change)
            record_entry(uow, case, SYSTEM, f"Clock {change}: {marked.label}", detail)
    return soon, breached


__all__ = ["escalate"]
