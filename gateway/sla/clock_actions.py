"""Pausing and resuming a clock: only for the reasons the SEND Regulations allow
(mappings/data/clock_pause_reasons.toml), each on the case timeline."""

from __future__ import annotations

import functools

from gateway.cases.service import record_entry
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.model.client import Client
from gateway.model.clock import Clock
from gateway.sla import clock_engine
from gateway.store.unit_of_work import Store
from mappings.data import load_toml


@functools.cache
def pause_reasons() -> dict[str, str]:
    table = load_toml("clock_pause_reasons.toml")["reasons"]
    return {key: f"{value['meaning']} ({value['cite']})" for key, value in table.items()}


def pause_clock(store: Store, case_id: str, clock_id: str, reason: str, caller: Client) -> Clock:
    reasons = pause_reasons()
    if reason not in reasons:
        raise InvalidInput(
            f"{reason!r} is not a reason a clock may pause for; allowed: {', '.join(reasons)}",
            field="reason",
        )
    with store.unit_of_work() as uow:
        clock = _clock(uow.clocks.get(clock_id), case_id)
        if clock.state != "running":
            raise Conflict(f"only a running clock can be paused; this one is {clock.state}")
        paused = clock_engine.pause(clock, reason, uow.now)
        uow.clocks.update(paused)
        detail = clock_engine.clock_event(paused, "paused", reasons[reason])
        record_entry(uow, uow.cases.get(case_id), caller, f"Clock paused: {paused.label}", detail)
        return paused


def resume_clock(store: Store, case_id: str, clock_id: str, caller: Client) -> Clock:
    with store.unit_of_work() as uow:
        clock = _clock(uow.clocks.get(clock_id), case_id)
        if clock.state != "paused":
            raise Conflict(f"only a paused clock can be resumed; this one is {clock.state}")
        resumed = clock_engine.resume(clock, uow.now)
        uow.clocks.update(resumed)
        detail = clock_engine.clock_event(resumed, "resumed")
        record_entry(uow, uow.cases.get(case_id), caller, f"Clock resumed: {resumed.label}", detail)
        return resumed


def _clock(clock: Clock | None, case_id: str) -> Clock:
    if clock is None or clock.case_id != case_id:
        raise NotFound("no such clock on this case")
    return clock


__all__ = ["pause_clock", "pause_reasons", "resume_clock"]
