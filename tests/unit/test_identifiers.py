"""Check-digit rules (DOMAIN.md "Identifiers")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.model.identifiers import (
    UPN_ALPHABET,
    nhs_number_problem,
    upn_check_letter,
    upn_problem,
)
from tests.support import make_nhs_number


def test_published_upn_example_is_valid_and_its_neighbour_is_not() -> None:
    # DfE's worked example B801200005001; the same body with another letter must fail.
    assert upn_problem("B801200005001") is None
    assert upn_problem("A801200005001") == "the UPN check letter does not match"


def test_temporary_upn_counts_its_final_letter_by_position() -> None:
    body = "80120000500" + "A"  # A stands for 0, like the digit in B801200005000
    assert upn_check_letter(body) == upn_check_letter("801200005000")
    assert upn_problem(upn_check_letter(body) + body) is None


@pytest.mark.parametrize(
    ("upn", "why"),
    [
        ("B80120000500", "a UPN is a letter"),
        ("880120000500I", "a UPN is a letter"),
        ("b801200005001", "a UPN is a letter"),
        ("B80120000500I", "a temporary UPN's final letter"),
    ],
)
def test_malformed_upns_say_why(upn: str, why: str) -> None:
    problem = upn_problem(upn)
    assert problem is not None and problem.startswith(why)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 11))
def test_changing_any_upn_digit_is_caught(body: str, position: int) -> None:
    upn = upn_check_letter(body) + body
    assert upn_problem(upn) is None
    changed = str((int(body[position]) + 1) % 10)
    tampered = upn[0] + body[:position] + changed + body[position + 1 :]
    assert upn_problem(tampered) == "the UPN check letter does not match"


def test_upn_alphabet_leaves_out_confusable_letters() -> None:
    assert len(UPN_ALPHABET) == 23
    assert not set("IOS") & set(UPN_ALPHABET)


def test_nhs_number_modulus_11() -> None:
    assert nhs_number_problem("9434765919") is None  # NHS Digital's published test number
    assert nhs_number_problem("9434765918") == "the NHS number check digit does not match"
    assert nhs_number_problem("943476591") == "an NHS number is 10 digits"
    assert nhs_number_problem("943 476 5919") == "an NHS number is 10 digits"


def test_nhs_number_whose_check_would_be_ten_is_invalid() -> None:
    # 100000001x: weights give 10*1 + 2*1 = 12, 11 - (12 % 11) = 10: no valid check digit.
    assert all(nhs_number_problem(f"100000001{d}") is not None for d in "0123456789")


@given(st.integers(0, 9_999_999))
def test_generated_nhs_numbers_pass_and_any_other_check_digit_fails(seed: int) -> None:
    number = make_nhs_number(seed)
    assert nhs_number_problem(number) is None
    for digit in "0123456789":
        if digit != number[-1]:
            assert nhs_number_problem(number[:-1] + digit) is not None
