"""The grounds on which a school deletes a pupil from its admission register, as data
(mappings/data/roll_deletion_grounds.toml: SI 2024/208 regulation 9, each with its paragraph).

What the gateway reads from a ground is whether a deletion on it, with no destination school
named, leaves a child who may be missing education (Education Act 1996 s.436A): a child who
moved away and whose whereabouts are unknown does; a child who died, reached the end of
compulsory school age or whose parent elected home education does not (home education has its
own checks).
"""

from __future__ import annotations

import functools
from typing import Literal

import msgspec

from mappings.data import load_toml

Destination = Literal["school", "home_education", "none", "unknown"]
UNKNOWN: Destination = "unknown"


class Ground(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    id: str
    paragraph: str
    summary: str
    destination: Destination
    children_missing_education: bool
    cite: str
    note: str | None = None


class _Table(msgspec.Struct, kw_only=True, frozen=True):
    grounds: list[Ground]


# A return that names no ground (a Common Transfer File carries none): nothing is known of
# where the child went, so it is read as the ground that tells the authority least.
NOT_GIVEN = Ground(
    id="not_given",
    paragraph="—",
    summary="The school's return names no ground for the deletion",
    destination=UNKNOWN,
    children_missing_education=True,
    cite="SI 2024/208 reg. 9 (no ground given)",
)


@functools.cache
def grounds() -> dict[str, Ground]:
    table = msgspec.convert(load_toml("roll_deletion_grounds.toml"), _Table)
    return {ground.id: ground for ground in table.grounds}


def ground_of(ground_id: str | None) -> Ground | None:
    """The ground by id; NOT_GIVEN for None; None for an id the table does not hold."""
    if ground_id is None:
        return NOT_GIVEN
    return grounds().get(ground_id)


def opens_enquiry(ground: Ground, destination_urn: str | None) -> bool:
    """A deletion opens an enquiry when its ground may leave a child missing education and no
    destination school is named."""
    return ground.children_missing_education and destination_urn is None


__all__ = ["NOT_GIVEN", "Ground", "ground_of", "grounds", "opens_enquiry"]
