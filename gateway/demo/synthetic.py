"""A synthetic local authority for the demo: its schools as GIAS lists them, its pupils, their
registers, and its approved alternative-provision list.

Nothing here is real. The authority is "Fenmarsh" (LA code 990, which no English authority
uses), every NHS number is in the 999 range NHS England keeps for test data, and the names are
drawn from short lists of common ones. It is deterministic: the same seed and size give the
same schools, pupils and marks, so the five policy packs can be shown routing exactly the same
children, and a test can say what must have happened.

The registers follow what English schools report (DfE "Pupil absence in schools in England"):
most pupils attend about 95 % of sessions, roughly one in seven is persistently absent (below
90 %), a few are severely absent (below 50 %), a handful are off for weeks with one illness,
and a few are on part-time timetables (code C2). Absences come in episodes the way they do in
a register: a day or three of illness (I), a medical appointment taking an afternoon (M), a
week's holiday in term (G), unexplained days (O, N). Illness outside a long-illness episode is
capped below the 15-day medical threshold (mappings/data/attendance_thresholds.toml), so the
children who cross it are the ones meant to: the long-illness pupils and the script's cast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import msgspec

from adapters.providers.gias import REQUIRED_COLUMNS
from gateway.model.identifiers import upn_check_letter
from gateway.sla.calendars import is_school_day

LA_CODE: Final = "990"
LA_NAME: Final = "Fenmarsh"
# The first day of the academic year's registers (2025/26: the autumn term starts with an
# INSET day on 3 September, mappings/data/terms/2025.toml).
YEAR_START: Final = dt.date(2025, 9, 1)

Marks = tuple[str, str]  # the AM and PM register codes of one school day
PRESENT: Final[Marks] = ("/", "\\")
ILL: Final[Marks] = ("I", "I")
EXCLUDED: Final[Marks] = ("E", "E")

SchoolKind = Literal["primary", "secondary", "special", "pru", "closed"]
Profile = Literal["regular", "persistent", "severe", "long_illness", "part_time"]

_PLACES: Final = (
    "Ashby Fen", "Brackenholme", "Carrow Dyke", "Deeping Moor", "Eastry Bank", "Fosdyke End",
    "Gedney Marsh", "Holbeach Drove", "Ingleby Carr", "Kirton Holme", "Langrick Bridge",
    "Moulton Chapel", "Northorpe", "Orby Fen", "Pinchbeck West", "Quadring Eaudike",
    "Risegate", "Sutterton Dowdyke", "Tydd Gote", "Wrangle Lowgate", "Wyberton Chain",
    "Yaxley Lode",
)  # fmt: skip
_GIVEN: Final = (
    "Olivia", "Noah", "Amelia", "Oliver", "Isla", "George", "Ava", "Leo", "Freya", "Arthur",
    "Lily", "Muhammad", "Ivy", "Harry", "Florence", "Oscar", "Willow", "Jack", "Sophia",
    "Theo", "Mia", "Alfie", "Evie", "Charlie", "Grace", "Finley", "Ella", "Archie", "Poppy",
    "Henry", "Aisha", "Yusuf", "Zofia", "Kacper", "Chloe", "Reuben", "Maya", "Ethan",
)  # fmt: skip
_FAMILY: Final = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Thomas", "Clarke", "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Hughes", "Khan", "Nowak", "Ali", "Begum", "Kowalski", "Okafor",
)  # fmt: skip

# How each profile's absences are spread over reasons (relative weights).
_REASONS: Final[dict[Profile, tuple[tuple[str, int], ...]]] = {
    "regular": (("I", 55), ("M", 15), ("G", 10), ("O", 10), ("N", 10)),
    "persistent": (("I", 30), ("M", 5), ("G", 15), ("O", 35), ("N", 15)),
    "severe": (("I", 10), ("O", 70), ("N", 20)),
    "long_illness": (("I", 60), ("M", 40)),
    "part_time": (("I", 50), ("M", 20), ("O", 30)),
}
# Illness outside a long episode stays below the 15-day medical threshold.
_ILLNESS_CAP_SESSIONS: Final = 24


@dataclass(frozen=True)
class School:
    urn: str
    number: str  # the DfE establishment number: LA code + this is the LAESTAB
    name: str
    kind: SchoolKind
    postcode: str
    ukprn: str | None = None

    @property
    def type_name(self) -> str:
        return {
            "primary": "Community school",
            "secondary": "Academy converter",
            "special": "Community special school",
            "pru": "Pupil referral unit",
            "closed": "Community school",
        }[self.kind]

    @property
    def phase_name(self) -> str:
        return {"primary": "Primary", "secondary": "Secondary", "closed": "Primary"}.get(
            self.kind, "Not applicable"
        )

    @property
    def takes_registers(self) -> bool:
        """Whether the school has pupils on roll whose registers its MIS sends."""
        return self.kind in ("primary", "secondary", "special")


@dataclass(frozen=True)
class Pupil:
    index: int
    upn: str
    nhs_number: str
    given: str
    family: str
    date_of_birth: dt.date
    school_urn: str
    profile: Profile
    ehcp: bool
    mosaic_person_id: str


@dataclass(frozen=True)
class Provider:
    """A row of the authority's approved AP list (adapters/providers/approved_list.py)."""

    ukprn: str
    name: str
    services: tuple[str, ...]
    registration: Literal["D", "B"]
    safeguarding_contact: str
    capacity: int | None
    urn: str | None = None


@dataclass
class Authority:
    """The synthetic authority. Registers are planned once per pupil; the script's cast have
    their registers told outright (``cast``), so what they cross, and when, is exact."""

    seed: int
    schools: tuple[School, ...]
    pupils: tuple[Pupil, ...]
    providers: tuple[Provider, ...]
    plans: dict[str, dict[dt.date, Marks]]
    _stories: dict[str, list[tuple[dt.date, dt.date, Marks]]] = field(default_factory=dict)

    @property
    def la_code(self) -> str:
        return LA_CODE

    @property
    def la_name(self) -> str:
        return LA_NAME

    def school(self, urn: str) -> School:
        return next(s for s in self.schools if s.urn == urn)

    def pupils_at(self, urn: str) -> list[Pupil]:
        return [p for p in self.pupils if p.school_urn == urn]

    def registered_schools(self) -> list[School]:
        return [s for s in self.schools if s.takes_registers]

    def cast(self, pupil: Pupil, story: Sequence[tuple[dt.date, dt.date, Marks]]) -> None:
        """Give ``pupil`` this register: ``story``'s marks on the school days of each span,
        present on every other day (the planned absences are dropped)."""
        self.plans[pupil.upn] = {}
        self._stories[pupil.upn] = list(story)

    def marks(self, pupil: Pupil, day: dt.date) -> Marks:
        for first, last, marks in self._stories.get(pupil.upn, ()):
            if first <= day <= last:
                return marks
        return self.plans[pupil.upn].get(day, PRESENT)

    def csv_feed(self, urn: str, days: Sequence[dt.date]) -> bytes:
        """One school's marks for ``days`` as the CSV column contract has them
        (contracts/attendance/csv-columns.json): a MIS's year-to-date export."""
        out = io.StringIO()
        out.write("school_urn,upn,date,am,pm\n")
        pupils = self.pupils_at(urn)
        for day in days:
            iso = day.isoformat()
            for pupil in pupils:
                am, pm = self.marks(pupil, day)
                out.write(f"{urn},{pupil.upn},{iso},{am},{pm}\n")
        return out.getvalue().encode()

    def json_feed(self, urn: str, days: Sequence[dt.date]) -> bytes:
        """One school's marks for ``days`` as the JSON feed (adapters/mis/json_feed.py): the
        daily push."""
        records = [
            _JsonMark(urn, pupil.upn, day.isoformat(), *self.marks(pupil, day))
            for day in days
            for pupil in self.pupils_at(urn)
        ]
        return msgspec.json.encode(records)

    def gias_csv(self) -> bytes:
        """The schools as a GIAS establishment extract: the columns the reader needs, by their
        GIAS names, plus a few it ignores, quoted and in Windows-1252 as DfE publishes it."""
        extra = ("TypeOfEstablishment (code)", "NumberOfPupils", "Town")
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([*REQUIRED_COLUMNS, *extra])
        for school in self.schools:
            closed = school.kind == "closed"
            writer.writerow(
                [
                    school.urn,
                    LA_CODE,
                    LA_NAME,
                    school.number,
                    school.name,
                    school.type_name,
                    "Closed" if closed else "Open",
                    "01-09-1974",
                    "31-08-2023" if closed else "",
                    school.phase_name,
                    school.ukprn or "",
                    school.postcode,
                    {"pru": "10", "special": "07", "secondary": "28"}.get(school.kind, "01"),
                    str(len(self.pupils_at(school.urn))),
                    school.name.split(" ")[0],
                ]
            )
        return out.getvalue().encode("cp1252")

    def approved_list_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["ukprn", "name", "services", "registration", "safeguarding_contact", "capacity", "urn"]
        )
        for p in self.providers:
            writer.writerow(
                [
                    p.ukprn,
                    p.name,
                    ";".join(p.services),
                    p.registration,
                    p.safeguarding_contact,
                    "" if p.capacity is None else p.capacity,
                    p.urn or "",
                ]
            )
        return out.getvalue().encode()


class _JsonMark(msgspec.Struct):
    school_urn: str
    upn: str
    date: str
    am: str
    pm: str


def school_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """The school days from ``first`` to ``last`` inclusive (the embedded term calendar)."""
    return [d for d in _dates(first, last) if is_school_day(d)]


def nth_school_day(first: dt.date, n: int) -> dt.date:
    """The ``n``-th school day counting ``first`` as the first (when it is one)."""
    day = first
    seen = 0
    while True:
        if is_school_day(day):
            seen += 1
            if seen == n:
                return day
        day += dt.timedelta(days=1)


def build_authority(pupils: int, seed: int, until: dt.date) -> Authority:
    """An authority of about ``pupils`` children on roll, with registers planned from the
    start of the academic year to ``until``."""
    if pupils < 50:
        raise ValueError("the demo needs at least 50 pupils to have a cast to choose from")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, never a secret
    schools = _schools(pupils)
    days = school_days(YEAR_START, until)
    roll = _pupils(rng, schools, pupils)
    plans = {p.upn: _plan(random.Random(seed * 100_003 + p.index), p.profile, days) for p in roll}  # noqa: S311
    pru = next(s for s in schools if s.kind == "pru")
    providers = (
        Provider(
            ukprn=pru.ukprn or "",
            name=pru.name,
            services=("reintegration", "small_group", "vocational"),
            registration="D",
            safeguarding_contact="Designated safeguarding lead, 01632 960201",
            capacity=40,
            urn=pru.urn,
        ),
        Provider(
            ukprn="10099001",
            name="Fenmarsh Hospital and Home Education Service",
            services=("medical_needs", "one_to_one_tuition", "online_learning"),
            registration="B",
            safeguarding_contact="safeguarding@fenmarsh-hhes.example.org",
            capacity=60,
        ),
        Provider(
            ukprn="10099002",
            name="Marsh Lane Tuition Ltd",
            services=("one_to_one_tuition", "small_group"),
            registration="B",
            safeguarding_contact="dsl@marshlane-tuition.example.org",
            capacity=None,
        ),
    )
    return Authority(seed=seed, schools=schools, pupils=roll, providers=providers, plans=plans)


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _schools(pupils: int) -> tuple[School, ...]:
    secondaries = max(1, round(pupils * 0.43 / 650))
    primaries = max(2, round(pupils * 0.55 / 210))
    places = iter(_place_names())
    schools: list[School] = []

    def add(kind: SchoolKind, number: int, suffix: str, ukprn: str | None = None) -> None:
        n = len(schools)
        place = next(places)
        schools.append(
            School(
                urn=f"{175100 + n:06d}",
                number=f"{number:04d}",
                name=f"{place} {suffix}",
                kind=kind,
                postcode=f"FM{n % 9 + 1} {n % 7 + 1}{'ABDEFGHJLNPQRSTUWXYZ'[n % 20]}"
                f"{'ABDEFGHJLNPQRSTUWXYZ'[(n * 7) % 20]}",
                ukprn=ukprn,
            )
        )

    for n in range(primaries):
        add("primary", 2000 + n, "Primary School")
    for n in range(secondaries):
        add("secondary", 4000 + n, "Academy", ukprn=f"{10098000 + n}")
    add("special", 7000, "School (special)")
    add("pru", 1100, "Learning Centre (PRU)", ukprn="10098900")
    add("closed", 2900, "Church of England Primary School")
    return tuple(schools)


def _place_names() -> Iterator[str]:
    for place in _PLACES:
        yield place
    n = 2
    while True:  # a very large authority reuses the places with a numeral
        for place in _PLACES:
            yield f"{place} {n}"
        n += 1


def _pupils(rng: random.Random, schools: Sequence[School], count: int) -> tuple[Pupil, ...]:
    special = next(s for s in schools if s.kind == "special")
    primaries = [s for s in schools if s.kind == "primary"]
    secondaries = [s for s in schools if s.kind == "secondary"]
    in_special = max(8, round(count * 0.012))
    serials: dict[tuple[str, int], int] = {}
    nhs = _nhs_numbers()
    roll: list[Pupil] = []
    for index in range(count):
        if index < in_special:
            school, age = special, rng.randint(5, 15)
        elif rng.random() < 0.43:
            school, age = rng.choice(secondaries), rng.randint(11, 15)
        else:
            school, age = rng.choice(primaries), rng.randint(4, 10)
        born = dt.date(2025 - age - 1, 9, 1) + dt.timedelta(days=rng.randrange(365))
        entered = born.year + 5 if born.month < 9 else born.year + 6  # reception year
        key = (school.urn, entered % 100)
        serials[key] = serials.get(key, 0) + 1
        body = f"{LA_CODE}{school.number}{entered % 100:02d}{serials[key] % 1000:03d}"
        roll.append(
            Pupil(
                index=index,
                upn=upn_check_letter(body) + body,
                nhs_number=next(nhs),
                given=rng.choice(_GIVEN),
                family=rng.choice(_FAMILY),
                date_of_birth=born,
                school_urn=school.urn,
                profile=_profile(rng.random()),
                ehcp=school.kind == "special" or rng.random() < 0.025,
                mosaic_person_id=str(4_100_000 + index),
            )
        )
    return tuple(roll)


def _profile(draw: float) -> Profile:
    if draw < 0.004:
        return "long_illness"
    if draw < 0.009:
        return "part_time"
    if draw < 0.024:
        return "severe"
    if draw < 0.144:
        return "persistent"
    return "regular"


def _nhs_numbers() -> Iterator[str]:
    """Valid NHS numbers (modulus 11) in the 999 range kept for test data."""
    n = 0
    while True:
        digits = f"999{n:06d}"
        n += 1
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            yield digits + str(check)


def _plan(rng: random.Random, profile: Profile, days: Sequence[dt.date]) -> dict[dt.date, Marks]:
    """One pupil's absences and late arrivals over ``days`` (present on every other day)."""
    n = len(days)
    plan: dict[dt.date, Marks] = {}
    if not n:
        return plan
    rate = {
        "regular": rng.uniform(0.935, 1.0),
        "persistent": rng.uniform(0.72, 0.895),
        "severe": rng.uniform(0.28, 0.48),
        "long_illness": rng.uniform(0.94, 0.99),
        "part_time": rng.uniform(0.92, 0.99),
    }[profile]
    target = round((1 - rate) * 2 * n)
    absent = illness = 0
    if profile == "long_illness":
        start = rng.randrange(max(1, min(n, 50) - 25), max(2, min(n, 50)))
        for day in days[start : start + rng.randint(15, 25)]:
            plan[day] = ILL
    if profile == "part_time":
        start = rng.randrange(n // 2, max(n // 2 + 1, n - 10))
        for day in days[start : start + rng.randint(10, 20)]:
            plan[day] = ("/", "C2")
    reasons, weights = zip(*_REASONS[profile], strict=True)
    holiday_taken = False
    for _ in range(2000):
        if absent >= target:
            break
        reason = rng.choices(reasons, weights)[0]
        if reason == "I" and illness >= _ILLNESS_CAP_SESSIONS:
            reason = "O"
        if reason == "G" and holiday_taken:
            reason = "N"
        start = rng.randrange(n)
        length = {
            "I": rng.randint(1, 3),
            "G": rng.randint(3, 5),
            "O": rng.randint(2, 8) if profile == "severe" else rng.randint(1, 2),
            "N": 1,
            "M": 1,
        }[reason]
        holiday_taken = holiday_taken or reason == "G"
        for day in days[start : start + length]:
            if day in plan:
                continue
            if reason == "M":
                plan[day] = ("/", "M")
                absent += 1
            else:
                plan[day] = (reason, reason)
                absent += 2
                illness += 2 if reason == "I" else 0
    for day in _some(rng, days, 0.03):
        plan.setdefault(day, ("L", "\\"))
    return plan


def _some(rng: random.Random, days: Iterable[dt.date], share: float) -> list[dt.date]:
    return [day for day in days if rng.random() < share]


__all__ = [
    "EXCLUDED",
    "ILL",
    "LA_CODE",
    "LA_NAME",
    "PRESENT",
    "Authority",
    "Marks",
    "Provider",
    "Pupil",
    "School",
    "build_authority",
    "nth_school_day",
    "school_days",
]
