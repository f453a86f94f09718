"""Changes to a school's admission register that the school must tell the authority of.

The School Attendance (Pupil Registration) (England) Regulations 2024 (SI 2024/208): a pupil's
name is deleted only on one of the grounds of regulation 9 (mappings/data/
roll_deletion_grounds.toml), and the school makes a return to the authority when it is; a
pupil's name added to the register is returned too. A deletion with no known destination is
how a child becomes missing education (Education Act 1996 s.436A), so the gateway opens an
enquiry; the child's addition to a roll closes it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from gateway.model.child import ChildName, InvalidField
from gateway.model.identifiers import upn_problem

Urn = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
GroundId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
RollChangeKind = Literal["deletion", "addition"]


class Pupil(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The pupil a return is about: the UPN finds them; a name and date of birth register a
    child the gateway has not met yet."""

    upn: str
    name: ChildName | None = None
    date_of_birth: dt.date | None = None

    def __post_init__(self) -> None:
        if problem := upn_problem(self.upn):
            raise InvalidField("pupil.upn", problem)


class RollDeletion(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """POST /api/v1/roll/deletions: the school's deletion return."""

    school_urn: Urn
    pupil: Pupil
    # A regulation 9 ground (its id in the table); None only where the sender cannot say (a
    # Common Transfer File carries no ground), which is read as the ground least known.
    ground: GroundId | None
    deleted_on: dt.date
    # The school the pupil has gone to, when the school knows it.
    destination_urn: Urn | None = None
    notes: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class RollAddition(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """POST /api/v1/roll/additions: the pupil's name added to a school's admission register."""

    school_urn: Urn
    pupil: Pupil
    added_on: dt.date


class RollChangeOutcome(msgspec.Struct, kw_only=True, frozen=True):
    """What the gateway did with one return: the enquiry it opened (deletion with no known
    destination) or the enquiries it closed (addition)."""

    id: str
    change: RollChangeKind
    child_id: str
    school_urn: str
    on: dt.date
    ground: str | None
    destination_urn: str | None
    duplicate: bool
    enquiry_case_id: str | None = None
    closed_case_ids: list[str] = []
    locator: str | None = None  # the record in a CTF ("Pupil[2]")


class RollChangeReport(msgspec.Struct, kw_only=True, frozen=True):
    outcomes: list[RollChangeOutcome]
