"""The demo's synthetic authority: the same for the same seed, valid where the gateway checks
(UPN check letters, NHS numbers, GIAS and approved-list files), registers shaped like an
English authority's, and a clock that only goes forward."""

from __future__ import annotations

import datetime as dt
import io
import statistics

import pytest

from adapters.providers.approved_list import ApprovedProvider, read_approved_list
from adapters.providers.gias import Establishment, read_gias
from gateway.demo import script
from gateway.demo.clock import DemoClock, in_england
from gateway.demo.synthetic import YEAR_START, Authority, build_authority, school_days
from gateway.model.identifiers import nhs_number_problem, upn_problem

UNTIL = dt.date(2026, 1, 23)


def rate(authority: Authority, days: list[dt.date]) -> list[float]:
    present = {"/", "\\", "L"}
    return [
        sum((am in present) + (pm in present) for am, pm in (authority.marks(p, d) for d in days))
        / (2 * len(days))
        for p in authority.pupils
    ]


def test_the_same_seed_gives_the_same_authority_and_another_does_not() -> None:
    first, again = build_authority(400, 19, UNTIL), build_authority(400, 19, UNTIL)
    other = build_authority(400, 20, UNTIL)
    assert [p.upn for p in first.pupils] == [p.upn for p in again.pupils]
    assert first.plans == again.plans
    assert first.gias_csv() == again.gias_csv()
    assert first.plans != other.plans


def test_identifiers_are_valid_and_unique() -> None:
    authority = build_authority(3000, 19, UNTIL)
    upns = [p.upn for p in authority.pupils]
    nhs = [p.nhs_number for p in authority.pupils]
    assert len(set(upns)) == len(upns) == 3000
    assert len(set(nhs)) == len(nhs)
    assert all(upn_problem(u) is None for u in upns)
    assert all(nhs_number_problem(n) is None and n.startswith("999") for n in nhs)


def test_the_registers_read_the_way_the_gateway_reads_them() -> None:
    authority = build_authority(300, 19, UNTIL)
    read = list(read_gias(io.BytesIO(authority.gias_csv())))
    assert all(isinstance(r, Establishment) for r in read), read
    assert {r.urn for r in read if isinstance(r, Establishment)} == {
        s.urn for s in authority.schools
    }
    closed = [r for r in read if isinstance(r, Establishment) and r.status == "closed"]
    assert len(closed) == 1
    providers = list(read_approved_list(io.BytesIO(authority.approved_list_csv())))
    assert len(providers) == 3
    assert all(isinstance(p, ApprovedProvider) for p in providers), providers


def test_attendance_is_shaped_like_an_english_authoritys() -> None:
    authority = build_authority(3000, 19, UNTIL)
    days = school_days(YEAR_START, dt.date(2026, 1, 9))
    rates = rate(authority, days)
    assert 0.91 < statistics.mean(rates) < 0.96
    persistent = sum(r < 0.9 for r in rates) / len(rates)
    assert 0.08 < persistent < 0.22
    assert 0.005 < sum(r < 0.5 for r in rates) / len(rates) < 0.03
    assert statistics.median(rates) > 0.94  # most pupils attend about 95 %


def test_the_cast_cross_the_medical_threshold_on_the_day_the_script_says() -> None:
    authority = build_authority(300, 19, UNTIL)
    cast = script.choose_cast(authority)
    d = cast["D"]
    ill = [day for day in school_days(YEAR_START, UNTIL) if authority.marks(d, day) == ("I", "I")]
    assert ill[14] == script.day(3)  # the 15th day of illness is the third day played
    assert authority.marks(cast["G"], script.day(2)) == ("E", "E")
    assert len({p.upn for p in cast.values()}) == len(script.ROLES)


def test_the_demo_clock_moves_forward_only() -> None:
    clock = DemoClock(script.OPENING)
    later = in_england(dt.date(2026, 1, 12), dt.time(9, 0))
    clock.set(later)
    assert clock.now() == later
    assert later.hour == 9  # GMT in January: the wall clock in England is UTC
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(script.OPENING)
    clock.run_on()
    assert clock.now() >= later
    with pytest.raises(RuntimeError):
        clock.set(later)
