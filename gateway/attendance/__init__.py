"""Attendance figures from school register feeds: terms, running pupil statistics and the
concerns they cross (DOMAIN.md "Attendance"; mappings/data/attendance_*.csv and .toml)."""

from gateway.attendance.statistics import (
    PupilYear,
    TermFigures,
    apply_day,
    attendance_rate,
    rebuild,
)
from gateway.attendance.terms import TERMS, Term, academic_year, term_of
from gateway.attendance.thresholds import (
    ConcernFigures,
    Threshold,
    evaluate,
    load_thresholds,
    parse_thresholds,
)

__all__ = [
    "TERMS",
    "ConcernFigures",
    "PupilYear",
    "Term",
    "TermFigures",
    "Threshold",
    "academic_year",
    "apply_day",
    "attendance_rate",
    "evaluate",
    "load_thresholds",
    "parse_thresholds",
    "rebuild",
    "term_of",
]
