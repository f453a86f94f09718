"""The authority's own list of approved alternative-provision (AP) providers, as a CSV.

Essex's Section 19 guidance (seed 002) says where the education comes from: "Education Access
will commission appropriate support through one of our approved providers" (§12), chiefly its
commissioned medical-needs and reintegration services, and also AV1 robots and online learning
packages, with anything else "sourced through the Education Directorate's alternative
education framework" (§13); "The LA will only commission alternative provision providers
listed on the Alternative Provision Directory" (§17). This module reads that list so the
gateway can refuse to commission from anyone else and can tell the school how to mark the
register.

§17 splits providers in two, and the list says which each is (``registration``):

* ``D``, dual registration: "a DfE registered alternative provision" (a pupil referral unit,
  an AP academy or AP free school, or another registered school). The pupil is on that
  school's admissions register as well as their own, and the provider takes forward child
  protection concerns. DfE's attendance code D is "dual registered at another school": the
  law lets a pupil be on the admissions register of more than one *school*, so a D provider
  must be a school, and every school has a GIAS URN: **a D row must give a URN**.
* ``B``, education off site: an unregistered provider. The pupil stays on their own school's
  register alone, marked B ("off-site educational activity") only while present at the
  provider. Such providers have no URN as a school; a UKPRN (from UKRLP) identifies them.

Every row must carry a UKPRN or a URN so the provider can be checked against UKRLP or GIAS,
and a named safeguarding contact: §17 requires schools to be clear on each provider's process
for sharing child-protection concerns, so the list says whom to contact.

Columns (line 1, any order, case and surrounding spaces ignored, unknown columns ignored):
``ukprn, name, services, registration, safeguarding_contact, capacity`` and optionally ``urn``.
``services`` is a ";"-separated list of ``Service`` values; ``capacity`` (places) may be blank.
The file is UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8" writes one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, Final, Literal, get_args

import msgspec

if TYPE_CHECKING:
    from _csv import Reader

__all__ = [
    "APPROVED_COLUMNS",
    "ApprovedListError",
    "ApprovedProvider",
    "ApprovedRowError",
    "Registration",
    "Service",
    "read_approved_list",
]

APPROVED_COLUMNS: Final = (
    "ukprn",
    "name",
    "services",
    "registration",
    "safeguarding_contact",
    "capacity",
    "urn",
)
# A registered AP academy or PRU has a URN; an unregistered provider has none, so the column
# itself may be left out.
OPTIONAL_COLUMNS: Final = ("urn",)
REQUIRED_COLUMNS: Final = tuple(c for c in APPROVED_COLUMNS if c not in OPTIONAL_COLUMNS)

Service = Literal[
    "medical_needs",
    "reintegration",
    "online_learning",
    "one_to_one_tuition",
    "small_group",
    "vocational",
    "therapeutic",
]
SERVICES: Final[tuple[Service, ...]] = get_args(Service)
_SERVICES: Final[dict[str, Service]] = {service: service for service in SERVICES}
Registration = Literal["D", "B"]
_REGISTRATIONS: Final[dict[str, Registration]] = {"D": "D", "B": "B"}


class ApprovedProvider(msgspec.Struct, frozen=True, kw_only=True):
    """One provider the authority may commission alternative provision from."""

    ukprn: str | None  # eight digits starting 1 (UKRLP)
    urn: str | None  # six digits (GIAS); always present for registration "D"
    name: str
    services: list[Service]  # at least one, each once, in the order the list gives them
    registration: Registration  # "D" dual registration, "B" off-site educational activity
    safeguarding_contact: str
    capacity: int | None  # places; None when the list leaves it blank


class ApprovedRowError(msgspec.Struct, frozen=True, kw_only=True):
    """One fault in one row of the list; the row yields no ApprovedProvider."""

    line: int  # physical line the row starts on (the header is line 1)
    field: str  # the list's column at fault
    message: str


class ApprovedListError(ValueError):
    """The file as a whole cannot be the approved list (empty, not UTF-8, columns missing)."""


def read_approved_list(stream: BinaryIO) -> Iterator[ApprovedProvider | ApprovedRowError]:
    """Check the header now, then yield an ApprovedProvider or its faults for each row.

    The header is checked before this function returns, so a file without the required columns
    raises ``ApprovedListError`` before anything is yielded. Blank lines are skipped. A UKPRN or
    URN already given on an earlier line is a fault: one provider, one row.
    """
    rows = csv.reader(io.TextIOWrapper(_Unclosed(stream), encoding="utf-8-sig", newline=""))
    try:
        header = next(rows, None)
    except UnicodeDecodeError:
        raise ApprovedListError("the list is not UTF-8 (line 1)") from None
    except csv.Error as error:
        raise ApprovedListError(f"line 1 is not a CSV header: {error}") from None
    if header is None:
        raise ApprovedListError("the list is empty: line 1 must name the columns")
    return _providers(rows, _column_indexes(header))


def _column_indexes(header: list[str]) -> dict[str, int]:
    names = [name.strip().lower() for name in header]
    indexes: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in APPROVED_COLUMNS:
            if name in indexes:
                raise ApprovedListError(f"line 1 names column {name!r} twice")
            indexes[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in indexes]
    if missing:
        label = "column" if len(missing) == 1 else "columns"
        raise ApprovedListError(f"missing required {label} {', '.join(missing)} (line 1)")
    return indexes


def _providers(rows: Reader, at: dict[str, int]) -> Iterator[ApprovedProvider | ApprovedRowError]:
    seen: dict[tuple[str, str], int] = {}
    end = rows.line_num
    while True:
        line = end + 1
        try:
            row = next(rows, None)
        except UnicodeDecodeError:
            raise ApprovedListError(
                f"the list is not UTF-8 (the first bad byte is at or after line {line})"
            ) from None
        except csv.Error as error:
            end = rows.line_num
            yield ApprovedRowError(line=line, field="(record)", message=f"not CSV: {error}")
            continue
        if row is None:
            return
        end = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        yield from _provider(row, at, line, seen)


def _provider(
    row: list[str], at: dict[str, int], line: int, seen: dict[tuple[str, str], int]
) -> Iterator[ApprovedProvider | ApprovedRowError]:
    def cell(column: str) -> str:
        index = at.get(column)
        return row[index].strip() if index is not None and index < len(row) else ""

    faults: list[tuple[str, str]] = []
    ukprn = cell("ukprn")
    if ukprn and not (_digits(ukprn, 8) and ukprn[0] == "1"):
        faults.append(("ukprn", f"{ukprn!r} is not a UKPRN (eight digits starting 1)"))
    urn = cell("urn")
    if urn and not _digits(urn, 6):
        faults.append(("urn", f"{urn!r} is not a URN (six digits)"))
    if not ukprn and not urn:
        faults.append(("ukprn", "is empty: a provider needs a UKPRN (UKRLP) or a URN (GIAS)"))

    name = cell("name")
    if not name:
        faults.append(("name", "is empty"))

    services: list[Service] = []
    for part in cell("services").split(";"):
        label = part.strip().lower()
        if not label:
            continue
        service = _SERVICES.get(label)
        if service is None:
            faults.append(("services", f"{part.strip()!r} is not one of {', '.join(SERVICES)}"))
        elif service not in services:
            services.append(service)
    if not services and not any(field == "services" for field, _ in faults):
        faults.append(("services", f"is empty; give one or more of {', '.join(SERVICES)}"))

    code = cell("registration")
    registration = _REGISTRATIONS.get(code.upper())
    if registration is None:
        faults.append(
            (
                "registration",
                f"{code!r} is not D (dual registration at a DfE-registered provider) "
                "or B (off-site educational activity at an unregistered provider)",
            )
        )
    elif registration == "D" and not urn:
        faults.append(
            (
                "urn",
                "is empty: registration D (dual registration) is only for a DfE-registered "
                "school, which has a URN in GIAS",
            )
        )

    contact = cell("safeguarding_contact")
    if not contact:
        faults.append(
            ("safeguarding_contact", "is empty: every provider needs one (Essex 002 §17)")
        )

    places = cell("capacity")
    capacity: int | None = None
    if places:
        if places.isascii() and places.isdigit():
            capacity = int(places)
        else:
            faults.append(("capacity", f"{places!r} is not a whole number of places"))

    for column, value in (("ukprn", ukprn), ("urn", urn)):
        if value:
            earlier = seen.setdefault((column, value), line)
            if earlier != line:
                faults.append((column, f"{value} is already listed on line {earlier}"))

    if faults or registration is None:
        for field, message in faults:
            yield ApprovedRowError(line=line, field=field, message=message)
        return
    yield ApprovedProvider(
        ukprn=ukprn or None,
        urn=urn or None,
        name=name,
        services=services,
        registration=registration,
        safeguarding_contact=contact,
        capacity=capacity,
    )


def _digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


class _Unclosed(io.BufferedIOBase):
    """The caller's stream, read through but never closed when the TextIOWrapper goes."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    @property
    def name(self) -> str:
        return str(getattr(self._raw, "name", "<approved list>"))

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._raw.read(-1 if size is None else size) or b""

    def read1(self, size: int | None = -1) -> bytes:
        return self._raw.read(size if size and size > 0 else io.DEFAULT_BUFFER_SIZE) or b""
