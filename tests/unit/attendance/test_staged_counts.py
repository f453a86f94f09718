"""What the applier stages for a day's two marks (gateway/store/attendance_staging.py) is what
``apply_day`` adds to a pupil's figures, for every pair of codes, current and retired."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from gateway.attendance.statistics import PupilYear, apply_day
from gateway.store.attendance_figures import CATEGORIES
from gateway.store.attendance_staging import COUNTS, _copy_text, day_counts
from mappings.attendance_codes import load_codes

CODES = ["", *load_codes().codes]
DAY = dt.date(2025, 9, 8)


def test_every_pair_counts_as_apply_day_counts_it() -> None:
    codes = load_codes()
    for am, pm in itertools.product(CODES, CODES):
        if not am and not pm:
            continue
        state = PupilYear(academic_year=2025)
        apply_day(state, DAY, am, pm, codes)
        counts = dict(zip(COUNTS, day_counts(am, pm, codes), strict=True))
        assert {c: counts[c] for c in CATEGORIES} == dict(state.sessions), (am, pm)
        assert (counts["possible"], counts["attended"]) == (state.possible, state.attended)
        assert counts["unexplained_day"] == state.unexplained_run_days, (am, pm)
        assert counts["illness_day"] == state.illness_run_days, (am, pm)
        assert (counts["illness"], counts["suspension"], counts["part_time"]) == (
            state.illness_sessions,
            state.suspension_sessions,
            state.part_time_sessions,
        )


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown register code"):
        day_counts("Q9", "/", load_codes())


def test_a_backslash_is_escaped_for_copy() -> None:
    assert _copy_text("\\") == "\\\\"
    assert _copy_text("a\tb\n") == "a\\tb\\n"
