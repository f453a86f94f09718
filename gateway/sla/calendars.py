"""Calendars for statutory clocks: when is the n-th working day, school day, day, week or hour?

Each clock in a policy pack counts in one unit (``gateway.model.clock.CalendarKind``), the unit
its seed text names:

- working days: acknowledge a Section 19 request "within five working days" and decide it
  "within 15 working days" (003_f2d02c83e1369368.txt, Timescales); share panel information
  with the allocated worker "within 3 working days" (001_639b4268f91a7abb.txt, section 1). A
  working day is Monday to Friday less Christmas Day, Good Friday and the bank holidays of
  England and Wales under the Banking and Financial Dealings Act 1971, the definition the SEND
  Regulations 2014 (reg. 2) use. The holidays come from the ``holidays`` package, subdivision
  "ENG" of "GB" (Wales, "WLS", has the same days), never from a list typed in here.
- school days: full-time education "no later than the sixth school day" of a permanent
  exclusion (003, Section 19: by reason of exclusion; the Education (Provision of Full-Time
  Education for Excluded Pupils) (England) Regulations 2007); review minutes "within five
  school days" (002_4608ccdc3a5ad509.txt). A school day is a day the school holds a session
  for pupils (Education Act 1996 s.579(1)): inside a term, outside its half term, not an INSET
  day and a working day. Term dates are data, one file per academic year
  (mappings/data/terms/<start year>.toml); an authority passes its own.
- calendar days and weeks: decide whether to assess and return advice within 6 weeks, decide
  whether to issue within 16 weeks, issue within 20 weeks, at least 15 days for the family's
  views on a draft plan (004_a92c0651c0743a78.txt, SEND Regulations 2014); escalate CME cases
  after 6 and 12 weeks (001).
- hours: a school notifies an exclusion "within 24 hours" of issuing it (003).

Rules shared by every calendar, chosen so a reviewer can check a due date by hand:

- The start day never counts: a clock of n units is due on the n-th unit *after* the day it
  starts ("within 15 working days after the request has been made", 003). The start day is the
  date in England of the start moment.
- A day-based clock is due at the END of its due day in England: 23:59:59 Europe/London,
  returned in UTC (so 22:59:59Z in summer time). An hours clock is due exactly n elapsed hours
  after its start, summer-time changes included.
- A pause (``extend``) is counted in the clock's own units; see ``extend`` for part days.
- A date the loaded term dates do not cover raises ``CalendarError``: a school-day deadline is
  never guessed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import tomllib
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Annotated, Any

import holidays
import msgspec

from gateway.model.clock import CalendarKind

# The system tz database answers for Europe/London; a missing one fails here, at import, rather
# than producing deadlines an hour out.
ENGLAND = zoneinfo.ZoneInfo("Europe/London")
END_OF_DAY = dt.time(23, 59, 59)
TERMS_PACKAGE = "mappings.data.terms"
_ONE_DAY = dt.timedelta(days=1)


class CalendarError(ValueError):
    """A question the calendars cannot answer truthfully: a date outside the term dates loaded,
    a term file that does not hold together, a naive datetime or a negative length."""


# --- working days -------------------------------------------------------------------------


@functools.cache
def _bank_holidays(year: int) -> frozenset[dt.date]:
    """Christmas Day, Good Friday and England's bank holidays in ``year``, substitute days
    included (Boxing Day 2026 is a Saturday, so Monday 28 December is the holiday)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: dt.date) -> bool:
    _require_date(day)
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself never counts; n = 0 is ``start``)."""
    _require_date(start)
    _require_length(n)
    day = start
    for _ in range(n):
        day += _ONE_DAY
        while not is_working_day(day):
            day += _ONE_DAY
    return day


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``,
    so that ``working_days_between(d, add_working_days(d, n)) == n``."""
    _require_date(a)
    _require_date(b)
    if b < a:
        return -working_days_between(b, a)
    return sum(1 for day in _days_after(a, b) if is_working_day(day))


# --- school days --------------------------------------------------------------------------


class DateSpan(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


class Term(DateSpan, kw_only=True, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    half_term: DateSpan | None = None


class AcademicYear(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One term file: an academic year (1 August to 31 July) named by the year it starts in."""

    academic_year: int
    source: Annotated[str, msgspec.Meta(min_length=8)]
    terms: Annotated[tuple[Term, ...], msgspec.Meta(min_length=1)]
    inset_days: tuple[dt.date, ...] = ()

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.academic_year, 8, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.academic_year + 1, 7, 31)

    def school_days(self) -> Iterator[dt.date]:
        inset = frozenset(self.inset_days)
        for term in self.terms:
            for day in _days_after(term.start - _ONE_DAY, term.end):
                in_half_term = term.half_term is not None and day in term.half_term
                if not in_half_term and day not in inset and is_working_day(day):
                    yield day


def year_label(year: int) -> str:
    return f"{year}/{(year + 1) % 100:02d}"


def parse_academic_year(
    data: Mapping[str, Any], *, origin: str, expected_year: int | None = None
) -> AcademicYear:
    """A parsed term file (TOML dates as ``datetime.date``), checked so that a typo stops the
    service with a message naming the file instead of moving a deadline."""
    try:
        year = msgspec.convert(data, AcademicYear)
    except msgspec.ValidationError as exc:
        raise CalendarError(f"{origin}: {exc}") from exc
    if expected_year is not None and year.academic_year != expected_year:
        raise CalendarError(
            f"{origin}: academic_year is {year.academic_year}, expected {expected_year}"
        )
    _check_terms(year, origin)
    return year


def _check_terms(year: AcademicYear, origin: str) -> None:
    def fail(problem: str) -> CalendarError:
        return CalendarError(f"{origin} ({year_label(year.academic_year)}): {problem}")

    previous_end = year.first_day - _ONE_DAY
    for term in year.terms:
        if not previous_end < term.start <= term.end <= year.last_day:
            raise fail(
                f"term {term.name!r} {term.start}..{term.end} must start after "
                f"{previous_end}, end on or after its start and before {year.last_day}"
            )
        half = term.half_term
        if half is not None and not term.start <= half.start <= half.end <= term.end:
            raise fail(f"half term {half.start}..{half.end} is not inside term {term.name!r}")
        previous_end = term.end
    for day in year.inset_days:
        term_of_day = next((term for term in year.terms if day in term), None)
        if term_of_day is None or day.weekday() >= 5:
            raise fail(f"INSET day {day} is not a weekday inside a term")
        if term_of_day.half_term is not None and day in term_of_day.half_term:
            raise fail(f"INSET day {day} falls in the {term_of_day.name} half term")


class SchoolCalendar:
    """School days over consecutive academic years of one authority's term dates.

    Years must be consecutive: a gap would let a count walk through a year nobody loaded."""

    def __init__(self, years: Iterable[AcademicYear]) -> None:
        self.years = tuple(sorted(years, key=lambda year: year.academic_year))
        numbers = [year.academic_year for year in self.years]
        if not numbers or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            raise CalendarError(
                "term dates must cover consecutive academic years, each once; loaded: "
                f"{', '.join(map(year_label, numbers)) or 'none'}"
            )
        self.first_day = self.years[0].first_day
        self.last_day = self.years[-1].last_day
        self._days = tuple(day for year in self.years for day in year.school_days())
        self._day_set = frozenset(self._days)

    @property
    def loaded(self) -> str:
        """The academic years loaded, as a reader writes them: "2024/25, 2025/26"."""
        return ", ".join(year_label(year.academic_year) for year in self.years)

    def is_school_day(self, day: dt.date) -> bool:
        self._require_covered(day)
        return day in self._day_set

    def add_school_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th school day after ``start`` (``start`` never counts; n = 0 is ``start``)."""
        self._require_covered(start)
        _require_length(n)
        if n == 0:
            return start
        index = bisect.bisect_right(self._days, start) + n - 1
        if index >= len(self._days):
            raise CalendarError(
                f"school day {n} after {start} falls after {self.last_day}, the end of the "
                f"academic years with term dates loaded ({self.loaded})"
            )
        return self._days[index]

    def school_days_between(self, a: dt.date, b: dt.date) -> int:
        """School days after ``a`` up to and including ``b``; negative if ``b`` is before ``a``."""
        self._require_covered(a)
        self._require_covered(b)
        if b < a:
            return -self.school_days_between(b, a)
        return bisect.bisect_right(self._days, b) - bisect.bisect_right(self._days, a)

    def _require_covered(self, day: dt.date) -> None:
        _require_date(day)
        if not self.first_day <= day <= self.last_day:
            year = day.year if day.month >= 8 else day.year - 1
            raise CalendarError(
                f"{day} is in academic year {year_label(year)}, outside the academic years "
                f"with term dates loaded ({self.loaded}); load that year's term dates"
            )


def load_school_calendar(
    terms: Traversable | Mapping[int, Mapping[str, Any]] | None = None,
) -> SchoolCalendar:
    """Term dates from a directory of ``<start year>.toml`` files (a ``pathlib.Path`` or an
    ``importlib.resources`` folder), or from already parsed files keyed by start year (an
    authority's dates held elsewhere). ``None`` is the embedded default, mappings/data/terms."""
    if terms is None:
        terms = resources.files(TERMS_PACKAGE)
    if isinstance(terms, Mapping):
        return SchoolCalendar(
            parse_academic_year(data, origin=f"term dates {year}", expected_year=year)
            for year, data in terms.items()
        )
    return SchoolCalendar(
        _read_term_file(entry) for entry in terms.iterdir() if entry.name.endswith(".toml")
    )


def _read_term_file(entry: Traversable) -> AcademicYear:
    stem = entry.name.removesuffix(".toml")
    if not stem.isdigit():
        raise CalendarError(
            f"{entry.name}: a term file is named by the year its academic year starts in, "
            "e.g. 2025.toml for 2025/26"
        )
    try:
        data = tomllib.loads(entry.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"{entry.name}: {exc}") from exc
    return parse_academic_year(data, origin=entry.name, expected_year=int(stem))


@functools.cache
def default_school_calendar() -> SchoolCalendar:
    """The embedded term dates (representative, see mappings/data/terms), read once."""
    return load_school_calendar()


def _school(school: SchoolCalendar | None) -> SchoolCalendar:
    return school if school is not None else default_school_calendar()


def is_school_day(day: dt.date, school: SchoolCalendar | None = None) -> bool:
    return _school(school).is_school_day(day)


def add_school_days(start: dt.date, n: int, school: SchoolCalendar | None = None) -> dt.date:
    return _school(school).add_school_days(start, n)


def school_days_between(a: dt.date, b: dt.date, school: SchoolCalendar | None = None) -> int:
    return _school(school).school_days_between(a, b)


# --- calendar days, weeks and hours -------------------------------------------------------


def add_calendar_days(start: dt.date, n: int) -> dt.date:
    _require_date(start)
    _require_length(n)
    return start + dt.timedelta(days=n)


def add_weeks(start: dt.date, n: int) -> dt.date:
    """Six weeks from a Tuesday is a Tuesday: "within 6 weeks of the date of the request" (004)."""
    _require_date(start)
    _require_length(n)
    return start + dt.timedelta(weeks=n)


def add_hours(start: dt.datetime, n: int) -> dt.datetime:
    """Elapsed hours, in UTC: adding to a Europe/London datetime directly would add wall-clock
    hours and make "24 hours" 23 or 25 across a summer-time change."""
    _require_aware(start, "start")
    _require_length(n)
    return start.astimezone(dt.UTC) + dt.timedelta(hours=n)


# --- the clock engine's entry points ------------------------------------------------------


def local_date(moment: dt.datetime) -> dt.date:
    """The date in England at ``moment``: 23:30Z on 1 June is already 2 June in London."""
    _require_aware(moment, "moment")
    return moment.astimezone(ENGLAND).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight in England on ``day``, in UTC: when a date-only event (an exclusion's first
    day) is said to happen."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ENGLAND).astimezone(dt.UTC)


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 in England on ``day``, in UTC (never ambiguous: the clocks change at 01:00)."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=ENGLAND).astimezone(dt.UTC)


def due_at(
    calendar: CalendarKind,
    start: dt.datetime,
    length: int,
    school: SchoolCalendar | None = None,
) -> dt.datetime:
    """The moment a clock of ``length`` units on ``calendar`` started at ``start`` falls due.

    Day-based calendars: the end (23:59:59 Europe/London, in UTC) of the length-th day after
    the date in England of ``start``. Hours: exactly ``length`` elapsed hours after ``start``."""
    _require_aware(start, "start")
    if calendar == "hours":
        return add_hours(start, length)
    return end_of_day(_add_days(calendar, local_date(start), length, school))


def extend(
    due: dt.datetime,
    calendar: CalendarKind,
    paused_from: dt.datetime,
    paused_to: dt.datetime,
    school: SchoolCalendar | None = None,
) -> dt.datetime:
    """The due moment moved by the time the clock was paused, counted in the clock's own units.

    Hours: by the exact time paused. Day-based calendars: a day counts as paused when the clock
    was paused at its end, the moment a day is used up under ``due_at``; these are the days of
    the clock's calendar from the date in England of ``paused_from`` up to, but not including,
    the date of ``paused_to``. So a pause begun and ended on the same day moves nothing; one
    from Monday 10:00 to Wednesday 15:00 moves a working-day clock by 2 (Monday and Tuesday);
    one from a Thursday before half term to the Wednesday after moves a school-day clock by the
    school days in that span (Thursday, Friday, and the school days of Monday and Tuesday), never
    by the calendar days of the half term. A weeks clock is moved by calendar days paused.
    The new due moment is the end of the day that many units after the old due date."""
    for name, moment in (("due", due), ("paused_from", paused_from), ("paused_to", paused_to)):
        _require_aware(moment, name)
    if paused_to < paused_from:
        raise CalendarError(f"pause ends ({paused_to}) before it starts ({paused_from})")
    if calendar == "hours":
        # In UTC: two Europe/London datetimes subtract as wall-clock times, not elapsed time.
        return due.astimezone(dt.UTC) + (
            paused_to.astimezone(dt.UTC) - paused_from.astimezone(dt.UTC)
        )
    unit: CalendarKind = "calendar_days" if calendar == "calendar_weeks" else calendar
    first, last = local_date(paused_from), local_date(paused_to)
    counted = _count_days(unit, first, last, school)
    return end_of_day(_add_days(unit, local_date(due), counted, school))


def _add_days(
    calendar: CalendarKind, start: dt.date, n: int, school: SchoolCalendar | None
) -> dt.date:
    if calendar == "working_days":
        return add_working_days(start, n)
    if calendar == "school_days":
        return add_school_days(start, n, school)
    if calendar == "calendar_days":
        return add_calendar_days(start, n)
    if calendar == "calendar_weeks":
        return add_weeks(start, n)
    raise CalendarError(f"calendar {calendar!r} does not count in days")


def _count_days(
    calendar: CalendarKind, first: dt.date, last: dt.date, school: SchoolCalendar | None
) -> int:
    """Days of ``calendar`` in [first, last): the (first, last] count of ``*_between``, shifted
    by one day at each end without stepping outside the term dates loaded."""
    if calendar == "working_days":
        between, counts = working_days_between(first, last), is_working_day
    elif calendar == "school_days":
        term_dates = _school(school)
        between, counts = term_dates.school_days_between(first, last), term_dates.is_school_day
    elif calendar == "calendar_days":
        return (last - first).days
    else:
        raise CalendarError(f"calendar {calendar!r} does not count in days")
    return between + int(counts(first)) - int(counts(last))


# --- argument checks ----------------------------------------------------------------------


def _days_after(a: dt.date, b: dt.date) -> Iterator[dt.date]:
    """The dates after ``a`` up to and including ``b``."""
    day = a + _ONE_DAY
    while day <= b:
        yield day
        day += _ONE_DAY


def _require_date(day: dt.date) -> None:
    # A datetime is a date to Python; its .date() in UTC is the wrong day in England from
    # 23:00 in summer, so only due_at and extend, which convert first, take datetimes.
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise CalendarError(f"{day!r} is not a date; pass the date in England")


def _require_aware(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"{name} {moment!r} has no time zone; clocks run on aware datetimes")


def _require_length(n: int) -> None:
    if n < 0:
        raise CalendarError(f"a clock cannot count back: length {n} is negative")
