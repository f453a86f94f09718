"""Register codes as data: what each attendance mark means and how it counts.

The table is mappings/data/attendance_codes.csv (codes in force from 19 August 2024: SI
2024/208 regulation 10 and the DfE guidance 'Working together to improve school attendance',
DOMAIN.md "Attendance"), plus mappings/data/attendance_legacy_codes.csv for the retired codes
still found in older CTF years. Retired codes are *mapped*, not rejected (DOMAIN.md: "Keep the
table, with these mappings"), so a CTF from 2019 counts like one from 2025.

Feeds carry about 500,000 marks, so ``CodeTable.get`` is one dict lookup on the code exactly as
the register holds it; whitespace or case clean-up belongs to the intake, not here.
"""

from __future__ import annotations

import functools
import typing

import msgspec

from gateway.model.attendance import CodeCategory
from mappings.data import load_csv

_CATEGORIES = frozenset(typing.get_args(CodeCategory))
_FLAGS = ("illness", "part_time", "suspension", "unexplained")
# Which category each flag may appear in: a flag outside it would be a data-entry mistake.
_FLAG_CATEGORY: dict[str, CodeCategory] = {
    "illness": "authorised",
    "part_time": "authorised",
    "suspension": "authorised",
    "unexplained": "unauthorised",
}


class CodeInfo(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """How one register code counts.

    ``attended`` is present or approved_education (an approved educational activity counts as
    attendance, DOMAIN.md). ``unexplained`` marks the codes that make a school day count as
    "absent without authorisation" for the 10-continuous-school-days duty (G N O; not U, whose
    pupil was in school). ``current_code`` is the code in force today (the code itself for a
    current code, None for a retired code with no current equivalent: H, F, Y).
    """

    code: str
    meaning: str
    category: CodeCategory
    possible: bool
    attended: bool
    illness: bool
    part_time: bool
    suspension: bool
    unexplained: bool
    current_code: str | None
    legacy: bool


class CodeTable(msgspec.Struct, frozen=True, gc=False):
    """Every current and legacy code, keyed by the mark as it appears in the register."""

    codes: dict[str, CodeInfo]

    def get(self, code: str) -> CodeInfo | None:
        return self.codes.get(code)


def _flag(row: dict[str, str], column: str) -> bool:
    value = row[column]
    if value not in ("true", "false"):
        raise ValueError(f"attendance code {row['code']!r}: {column} must be true or false")
    return value == "true"


def _category(code: str, value: str) -> CodeCategory:
    if value not in _CATEGORIES:
        raise ValueError(f"attendance code {code!r}: unknown category {value!r}")
    return typing.cast(CodeCategory, value)


def _current(row: dict[str, str]) -> CodeInfo:
    code = row["code"]
    category = _category(code, row["category"])
    possible = _flag(row, "possible")
    if possible == (category == "not_possible"):
        raise ValueError(f"attendance code {code!r}: possible={possible} contradicts {category}")
    flags = {name: _flag(row, name) for name in _FLAGS}
    for name, allowed in _FLAG_CATEGORY.items():
        if flags[name] and category != allowed:
            raise ValueError(f"attendance code {code!r}: {name} needs category {allowed}")
    if not row["source"]:
        raise ValueError(f"attendance code {code!r}: no source")
    return CodeInfo(
        code=code,
        meaning=row["meaning"],
        category=category,
        possible=possible,
        attended=category in ("present", "approved_education"),
        current_code=code,
        legacy=False,
        **flags,
    )


def _legacy(row: dict[str, str], current: dict[str, CodeInfo]) -> CodeInfo:
    """A retired code reads as its successor (``maps_to``) or, with none, as a bare category."""
    code, maps_to, category = row["code"], row["maps_to"], row["category"]
    if bool(maps_to) == bool(category):
        raise ValueError(f"legacy attendance code {code!r}: give exactly one of maps_to, category")
    if code in current:
        raise ValueError(f"legacy attendance code {code!r} is also a current code")
    if maps_to:
        if maps_to not in current:
            raise ValueError(f"legacy attendance code {code!r} maps to unknown code {maps_to!r}")
        return msgspec.structs.replace(
            current[maps_to], code=code, meaning=row["meaning"], legacy=True
        )
    cat = _category(code, category)
    return CodeInfo(
        code=code,
        meaning=row["meaning"],
        category=cat,
        possible=cat != "not_possible",
        attended=cat in ("present", "approved_education"),
        illness=False,
        part_time=False,
        suspension=False,
        unexplained=False,
        current_code=None,
        legacy=True,
    )


def build_table(current_rows: list[dict[str, str]], legacy_rows: list[dict[str, str]]) -> CodeTable:
    """Validate both tables and join them; a bad row raises ValueError naming its code."""
    current: dict[str, CodeInfo] = {}
    for row in current_rows:
        info = _current(row)
        if info.code in current:
            raise ValueError(f"attendance code {info.code!r} listed twice")
        current[info.code] = info
    codes = dict(current)
    for row in legacy_rows:
        info = _legacy(row, current)
        if info.code in codes:
            raise ValueError(f"legacy attendance code {info.code!r} listed twice")
        codes[info.code] = info
    return CodeTable(codes)


@functools.cache
def load_codes() -> CodeTable:
    return build_table(load_csv("attendance_codes.csv"), load_csv("attendance_legacy_codes.csv"))
