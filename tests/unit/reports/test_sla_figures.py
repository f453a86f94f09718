"""SLA figures against a fixture counted by hand (tests/fixtures/sla/clocks.json).

Period 1 Jan - 28 Feb 2025, report made 10 Mar 2025 12:00 UTC. The 15 clocks:

  id  case agency kind    state     started (UTC) due          met          counts as
  c01 A    LA     ack     met       06 Jan 09:00  13 Jan 09:00 08 Jan 09:00 on time, 2.0d
  c02 B    LA     ack     met       20 Jan 09:00  27 Jan 09:00 29 Jan 09:00 late, 9.0d
  c03 C    LA     ack     met       10 Feb 09:00  17 Feb 09:00 14 Feb 09:00 on time, 4.0d
  c04 D    LA     ack     cancelled 24 Feb 09:00  03 Mar 09:00 -            cancelled
  c05 A    LA     outcome met       06 Jan 09:00  27 Jan 09:00 27 Jan 09:00 on time (at due), 21.0d
  c06 C    LA     outcome running   10 Feb 09:00  03 Mar 09:00 -            overdue
  c07 E    health advice  met       02 Jan 10:00  13 Feb 10:00 03 Feb 10:00 on time, 32.0d
  c08 F    health advice  met       15 Jan 10:00  26 Feb 10:00 05 Mar 10:00 late, 49.0d
  c09 G    health advice  paused    28 Feb 23:30* 11 Apr 23:30 -            open, within time
  c10 H    health advice  paused    10 Jan 10:00  21 Feb 10:00 -            overdue (paused)
  c11 I    EP     advice  met       08 Jan 09:00  19 Feb 09:00 18 Feb 09:00 on time, 41.0d
  c12 J    EP     advice  running   03 Feb 09:00  17 Mar 09:00 -            open, within time
  c13 K    EP     advice  met       22 Jan 09:00  05 Mar 09:00 07 Mar 09:00 late, 44.0d
  c14 L    EP     advice  met       20 Dec 2024   -            -            excluded (before)
  c15 M    health advice  running   01 Mar 09:00  -            -            excluded (after)

  * written as 2025-03-01T00:30+01:00: 1 March locally, 28 February by its UTC date, so in.
"""

from __future__ import annotations

import datetime as dt
import pathlib

import msgspec
import pytest

from gateway.model.clock import Clock
from gateway.reports import Figures, MonthFigures, case_pseudonym, sla_figures

FIXTURE = pathlib.Path(__file__).parents[2] / "fixtures" / "sla" / "clocks.json"
START, END = dt.date(2025, 1, 1), dt.date(2025, 2, 28)
NOW = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)


def load_clocks() -> list[Clock]:
    return msgspec.json.decode(FIXTURE.read_bytes(), type=list[Clock])


def figures(
    opened: int,
    on_time: int,
    late: int,
    overdue: int,
    within: int,
    cancelled: int,
    median: float | None,
    p90: float | None,
    pct: float | None,
) -> Figures:
    return Figures(
        opened=opened,
        met_on_time=on_time,
        met_late=late,
        open_overdue=overdue,
        open_within_time=within,
        cancelled=cancelled,
        median_days_to_meet=median,
        p90_days_to_meet=p90,
        compliance_pct=pct,
    )


# Percentiles: statistics.quantiles(n=10, method="inclusive")[8] is the sorted values
# interpolated at position 0.9 x (count - 1).
EXPECTED_KINDS = {
    # ack: days [2, 4, 9] -> median 4; p90 at 0.9 x 2 = 1.8: 4 + 0.8 x (9 - 4) = 8.0;
    # compliance 2 / (2 + 1 + 0) = 66.67 -> 66.7
    ("local_authority", "lincs.s19.acknowledge"): figures(4, 2, 1, 0, 0, 1, 4.0, 8.0, 66.7),
    # outcome: days [21] -> median and p90 21.0 (one value); compliance 1 / (1 + 0 + 1) = 50
    ("local_authority", "lincs.s19.outcome"): figures(2, 1, 0, 1, 0, 0, 21.0, 21.0, 50.0),
    # health: days [32, 49] -> median 40.5; p90 at 0.9 x 1 = 0.9: 32 + 0.9 x 17 = 47.3;
    # compliance 1 / (1 + 1 + 1) = 33.33 -> 33.3
    ("health", "lincs.health.advice"): figures(4, 1, 1, 1, 1, 0, 40.5, 47.3, 33.3),
    # EP: days [41, 44] -> median 42.5; p90: 41 + 0.9 x 3 = 43.7; compliance 1 / 2 = 50
    ("educational_psychology", "lincs.ep.advice"): figures(3, 1, 1, 0, 1, 0, 42.5, 43.7, 50.0),
}
EXPECTED_AGENCIES = {
    "educational_psychology": EXPECTED_KINDS[("educational_psychology", "lincs.ep.advice")],
    "health": EXPECTED_KINDS[("health", "lincs.health.advice")],
    # LA: days [2, 4, 9, 21] -> median (4 + 9) / 2 = 6.5; p90 at 0.9 x 3 = 2.7:
    # 9 + 0.7 x (21 - 9) = 17.4; compliance 3 / (3 + 1 + 1) = 60
    "local_authority": figures(6, 3, 1, 1, 0, 1, 6.5, 17.4, 60.0),
}
# All: days [2, 4, 9, 21, 32, 41, 44, 49] -> median (21 + 32) / 2 = 26.5; p90 at
# 0.9 x 7 = 6.3: 44 + 0.3 x (49 - 44) = 45.5; compliance 5 / (5 + 3 + 2) = 50
EXPECTED_TOTAL = figures(13, 5, 3, 2, 2, 1, 26.5, 45.5, 50.0)


def test_figures_per_agency_and_kind_match_the_hand_count() -> None:
    report = sla_figures(load_clocks(), start=START, end=END, now=NOW)
    kinds = {(a.agency, k.kind): k.figures for a in report.agencies for k in a.kinds}
    assert kinds == EXPECTED_KINDS
    assert {a.agency: a.total for a in report.agencies} == EXPECTED_AGENCIES
    assert report.total == EXPECTED_TOTAL


def test_agencies_and_kinds_come_in_a_fixed_order_with_their_labels() -> None:
    report = sla_figures(load_clocks()[::-1], start=START, end=END, now=NOW)
    assert [a.agency for a in report.agencies] == [
        "educational_psychology",
        "health",
        "local_authority",
    ]
    assert [(k.kind, k.label) for k in report.agencies[2].kinds] == [
        ("lincs.s19.acknowledge", "Acknowledge a Section 19 request within 5 working days"),
        ("lincs.s19.outcome", "Section 19 panel outcome within 15 working days of the request"),
    ]
    assert report == sla_figures(load_clocks(), start=START, end=END, now=NOW)


def test_trend_counts_clocks_by_the_month_they_started() -> None:
    report = sla_figures(load_clocks(), start=START, end=END, now=NOW)
    assert report.trend == (
        # January: c01 c02 c05 c07 c08 c10 c11 c13 -> on time c01 c05 c07 c11, late c02 c08
        # c13, overdue c10
        MonthFigures(month="2025-01", opened=8, met_on_time=4, met_late=3, open_overdue=1),
        # February: c03 c04 c06 c09 c12 -> on time c03, overdue c06
        MonthFigures(month="2025-02", opened=5, met_on_time=1, met_late=0, open_overdue=1),
    )


def test_breaches_name_cases_by_pseudonym_worst_first() -> None:
    report = sla_figures(load_clocks(), start=START, end=END, now=NOW)
    got = [(b.case_ref, b.agency, b.kind, b.days_late, b.met is None) for b in report.breaches]
    assert got == [
        # c10: 10 Mar 12:00 - 21 Feb 10:00 = 17 d 2 h = 17.08 -> 17.1, still open
        ("0575324e", "health", "lincs.health.advice", 17.1, True),
        # c06: 10 Mar 12:00 - 3 Mar 09:00 = 7 d 3 h = 7.125 -> 7.1, still open
        ("2a829940", "local_authority", "lincs.s19.outcome", 7.1, True),
        # c08: met 5 Mar 10:00 - due 26 Feb 10:00 = 7.0
        ("1ab42c93", "health", "lincs.health.advice", 7.0, False),
        # c13 and c02 are both 2.0 days late: agency name breaks the tie
        ("d8cb5065", "educational_psychology", "lincs.ep.advice", 2.0, False),
        ("c2f52c5a", "local_authority", "lincs.s19.acknowledge", 2.0, False),
    ]
    first = report.breaches[0]
    assert first.started == dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC)
    assert first.due == dt.datetime(2025, 2, 21, 10, tzinfo=dt.UTC)
    assert first.label == "Health advice for an EHC needs assessment within 6 weeks"


def test_pseudonym_is_the_first_eight_hex_of_sha256_of_the_case_id() -> None:
    # sha256(b"7c1d5e2a-3b4f-4a6e-9d8c-1f2e3a4b5c08").hexdigest()[:8]
    assert case_pseudonym("7c1d5e2a-3b4f-4a6e-9d8c-1f2e3a4b5c08") == "0575324e"


def test_a_clock_started_outside_the_period_is_left_out() -> None:
    clocks = load_clocks()
    inside = sla_figures(clocks, start=START, end=END, now=NOW)
    outside_only = [c for c in clocks if c.id in ("clock-c14", "clock-c15")]
    assert sla_figures(outside_only, start=START, end=END, now=NOW).total.opened == 0
    # c14 (started 20 Dec) is in a December-to-February report: EP gains a late clock.
    wider = sla_figures(clocks, start=dt.date(2024, 12, 1), end=END, now=NOW)
    assert wider.total.opened == inside.total.opened + 1
    assert wider.total.met_late == inside.total.met_late + 1
    assert [m.month for m in wider.trend] == ["2024-12", "2025-01", "2025-02"]


def test_the_period_is_read_by_utc_date_of_start() -> None:
    (c09,) = [c for c in load_clocks() if c.id == "clock-c09"]
    assert sla_figures([c09], start=START, end=END, now=NOW).total.opened == 1
    march = sla_figures([c09], start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 31), now=NOW)
    assert march.total.opened == 0


def test_no_clocks_gives_zeros_and_no_percentages() -> None:
    report = sla_figures([], start=START, end=END, now=NOW)
    assert report.agencies == ()
    assert report.breaches == ()
    assert report.total == figures(0, 0, 0, 0, 0, 0, None, None, None)
    assert [(m.month, m.opened) for m in report.trend] == [("2025-01", 0), ("2025-02", 0)]


def test_none_met_gives_no_timings_but_a_compliance_when_clocks_are_overdue() -> None:
    clocks = [c for c in load_clocks() if c.id in ("clock-c06", "clock-c12", "clock-c04")]
    report = sla_figures(clocks, start=START, end=END, now=NOW)
    # c06 overdue, c12 within time, c04 cancelled: compliance 0 / (0 + 0 + 1) = 0
    assert report.total == figures(3, 0, 0, 1, 1, 1, None, None, 0.0)


def test_only_open_within_time_and_cancelled_gives_no_compliance() -> None:
    clocks = [c for c in load_clocks() if c.id in ("clock-c12", "clock-c04")]
    assert sla_figures(clocks, start=START, end=END, now=NOW).total.compliance_pct is None


def test_a_start_after_the_end_is_refused() -> None:
    with pytest.raises(ValueError, match="start is after its end"):
        sla_figures([], start=END, end=START, now=NOW)
