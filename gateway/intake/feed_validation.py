"""Per-record checks of an attendance feed: each bad record is named (where it was, which
field, why) and the rest of the feed goes on (STYLE.md, immunisation-fhir-api habit).

Checks are cached per distinct value: a daily feed repeats one date and one school on every
row, so each distinct date and UPN is checked once.
"""

from __future__ import annotations

import datetime as dt
import functools

from gateway.attendance.terms import academic_year as academic_year_of
from gateway.model.attendance import RawMark, RejectedRecord
from gateway.model.identifiers import upn_problem
from mappings.attendance_codes import CodeTable

# Every school sends the same pupils every day: a UPN checked once stays checked.
_upn_problem = functools.lru_cache(maxsize=1_000_000)(upn_problem)

# (upn, date, school_urn, am, pm) as stored.
Accepted = tuple[str, dt.date, str, str, str]


class FeedValidator:
    def __init__(
        self, *, school_urn: str, academic_year: int | None, today: dt.date, codes: CodeTable
    ) -> None:
        """``academic_year`` None means each record's own year is given by the caller (CTF)."""
        self.school_urn = school_urn
        self.academic_year = academic_year
        self.today = today
        self.codes = codes
        self._dates: dict[str, dt.date | str] = {}
        self._seen: set[tuple[str, str]] = set()
        self.legacy_codes: set[str] = set()

    def check(self, raw: RawMark, academic_year: int | None = None) -> Accepted | RejectedRecord:
        year = academic_year if academic_year is not None else self.academic_year
        if raw.school_urn != self.school_urn:
            return self._reject(
                raw, "school_urn", f"school URN {raw.school_urn!r} is not the feed's school"
            )
        upn = raw.upn.upper()
        problem = _upn_problem(upn)
        if problem is not None:
            return self._reject(raw, "upn", problem)
        date = self._date(raw.date, year)
        if isinstance(date, str):
            return self._reject(raw, "date", date)
        am, pm = raw.am.upper(), raw.pm.upper()
        for field, code in (("am", am), ("pm", pm)):
            if code:
                info = self.codes.get(code)
                if info is None:
                    return self._reject(raw, field, f"unknown register code {code!r}")
                if info.legacy:
                    self.legacy_codes.add(code)
        if not am and not pm:
            return self._reject(raw, "am", "no mark for either session")
        key = (upn, raw.date)
        if key in self._seen:
            return self._reject(raw, "date", "a second record for this pupil and date")
        self._seen.add(key)
        return (upn, date, self.school_urn, am, pm)

    def _date(self, text: str, year: int | None) -> dt.date | str:
        cache_key = f"{year}:{text}"
        found = self._dates.get(cache_key)
        if found is not None:
            return found
        result: dt.date | str
        try:
            date = dt.date.fromisoformat(text)
        except ValueError:
            result = f"{text!r} is not a date (YYYY-MM-DD)"
        else:
            if date > self.today:
                result = f"{date} is in the future"
            elif year is not None and academic_year_of(date) != year:
                result = f"{date} is outside the academic year {year}/{(year + 1) % 100:02d}"
            else:
                result = date
        self._dates[cache_key] = result
        return result

    @staticmethod
    def _reject(raw: RawMark, field: str, reason: str) -> RejectedRecord:
        return RejectedRecord(locator=raw.locator, field=field, reason=reason)
