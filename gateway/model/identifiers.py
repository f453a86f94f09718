"""Check-digit rules for the identifiers children carry across agencies.

A wrong digit here would merge two children's records or split one child in two, so every
identifier is checked where it enters (the boundary Structs call these functions).
Algorithms: DfE "Unique Pupil Numbers" guidance (UPN check letter, temporary UPNs) and the
NHS Data Dictionary "NHS Number" (modulus 11); see ../shared/design/DOMAIN.md "Identifiers".
"""

from __future__ import annotations

import re

# The 23 letters of the DfE check alphabet (no I, O, S) index 0..22.
UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_SHAPE = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
_NHS_SHAPE = re.compile(r"^[0-9]{10}$")
_ULN_SHAPE = re.compile(r"^[0-9]{10}$")
_URN_SHAPE = re.compile(r"^[0-9]{6}$")
_LA_SHAPE = re.compile(r"^[0-9]{3}$")


def upn_check_letter(body: str) -> str:
    """Check letter for the 12 characters after it (a temporary UPN's last letter counts as
    its position in the alphabet)."""
    if len(body) != 12:
        raise ValueError("a UPN body is 12 characters")
    total = 0
    for weight, char in enumerate(body, start=2):
        if char.isdigit():
            value = int(char)
        elif char in UPN_ALPHABET and weight == 13:
            value = UPN_ALPHABET.index(char)
        else:
            raise ValueError(f"unexpected character {char!r} in a UPN")
        total += value * weight
    return UPN_ALPHABET[total % 23]


def upn_problem(upn: str) -> str | None:
    """Why ``upn`` is not a valid UPN, or None when it is."""
    if not _UPN_SHAPE.fullmatch(upn):
        return "a UPN is a letter, 11 digits and a final digit or letter (13 characters)"
    last = upn[-1]
    if last.isalpha() and last not in UPN_ALPHABET:
        return "a temporary UPN's final letter must be one of " + UPN_ALPHABET
    if upn[0] != upn_check_letter(upn[1:]):
        return "the UPN check letter does not match"
    return None


def nhs_number_problem(number: str) -> str | None:
    """Why ``number`` is not a valid NHS number (modulus 11), or None when it is."""
    if not _NHS_SHAPE.fullmatch(number):
        return "an NHS number is 10 digits"
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    if check == 10 or check != int(number[9]):
        return "the NHS number check digit does not match"
    return None


def uln_problem(uln: str) -> str | None:
    """ULN shape only: the learner register publishes no check rule we rely on here."""
    return None if _ULN_SHAPE.fullmatch(uln) else "a ULN is 10 digits"


def urn_problem(urn: str) -> str | None:
    return None if _URN_SHAPE.fullmatch(urn) else "a school URN is 6 digits"


def mosaic_person_id_problem(person_id: str) -> str | None:
    """Mosaic person ids are 1 to 12 digits (contracts/mosaic/casenote.xsd PersonId); checked
    whole, so a trailing newline is not let through."""
    if re.fullmatch(r"[0-9]{1,12}", person_id):
        return None
    return "a Mosaic person id is 1 to 12 digits"


def la_code_problem(code: str) -> str | None:
    return None if _LA_SHAPE.fullmatch(code) else "an LA code is 3 digits"
