"""The authority's approved alternative-provision list (Essex 002 §13 and §17)."""

from __future__ import annotations

import codecs
import io

import pytest

from adapters.providers.approved_list import (
    APPROVED_COLUMNS,
    ApprovedListError,
    ApprovedProvider,
    ApprovedRowError,
    read_approved_list,
)
from tests.unit.providers import PROVIDERS

SAMPLE = PROVIDERS / "approved_ap_sample.csv"
HEADER = ",".join(APPROVED_COLUMNS)
GOOD_B = '10089991,Estuary Tuition Partnership,small_group,B,"J. Okafor (DSL), 01632 960103",20,'


def read(data: bytes) -> list[ApprovedProvider | ApprovedRowError]:
    return list(read_approved_list(io.BytesIO(data)))


def errors(data: bytes) -> list[tuple[int, str]]:
    return [(e.line, e.field) for e in read(data) if isinstance(e, ApprovedRowError)]


def test_the_sample_list_parses() -> None:
    with SAMPLE.open("rb") as stream:
        providers = list(read_approved_list(stream))
    assert all(isinstance(p, ApprovedProvider) for p in providers)
    assert len(providers) == 7
    assert providers[0] == ApprovedProvider(
        ukprn="10081111",
        urn="144470",
        name="Chelmer Co-operative Academy medical needs team",
        services=["medical_needs", "reintegration", "small_group"],
        registration="D",
        safeguarding_contact="Designated safeguarding lead, 01632 960101",
        capacity=48,
    )
    by_name = {p.name: p for p in providers if isinstance(p, ApprovedProvider)}
    pru = by_name["Harlow Reintegration Service"]
    assert (pru.ukprn, pru.urn, pru.registration) == (None, "115090", "D")
    online = by_name["Blackwater Online Learning Ltd"]
    assert (online.urn, online.capacity, online.registration) == (None, None, "B")
    assert by_name["Dengie Farm Skills CIC"].services == ["vocational", "therapeutic"]
    assert "Rivière Arts Therapy CIC" in by_name  # UTF-8


def test_a_byte_order_mark_and_other_column_order_are_accepted() -> None:
    data = codecs.BOM_UTF8 + (
        b"Registration, NAME ,ukprn,services,capacity,safeguarding_contact,notes\n"
        b"b,Estuary Tuition Partnership,10089991,one_to_one_tuition,,dsl@example.org,ok\n"
    )
    (provider,) = read(data)
    assert provider == ApprovedProvider(
        ukprn="10089991",
        urn=None,
        name="Estuary Tuition Partnership",
        services=["one_to_one_tuition"],
        registration="B",
        safeguarding_contact="dsl@example.org",
        capacity=None,
    )


def test_a_bad_registration_code_is_refused_with_its_line() -> None:
    data = f"{HEADER}\n{GOOD_B}\n{GOOD_B.replace(',B,', ',K,').replace('10089991', '10089992')}\n"
    items = read(data.encode())
    assert isinstance(items[0], ApprovedProvider)
    (error,) = items[1:]
    assert isinstance(error, ApprovedRowError)
    assert (error.line, error.field) == (3, "registration")
    assert "'K'" in error.message


def test_an_unknown_service_is_refused_with_its_line() -> None:
    row = '10089992,Dengie Farm Skills CIC,vocational;forest_school,B,"P. Marsh, 01632 960104",12,'
    items = read(f"{HEADER}\n\n{row}\n".encode())  # the blank line 2 still counts
    assert items == [
        ApprovedRowError(
            line=3,
            field="services",
            message="'forest_school' is not one of medical_needs, reintegration, "
            "online_learning, one_to_one_tuition, small_group, vocational, therapeutic",
        )
    ]


@pytest.mark.parametrize("ukprn", ["1008999", "20089991", "1008999X", "100899911"])
def test_a_bad_ukprn_is_refused_with_its_line(ukprn: str) -> None:
    data = f"{HEADER}\n{GOOD_B.replace('10089991', ukprn)}\n"
    assert errors(data.encode()) == [(2, "ukprn")]


def test_dual_registration_needs_a_urn() -> None:
    row = '10090001,Tendring Coast Free School,small_group,D,"DSL, 01632 960106",34,'
    (error,) = read(f"{HEADER}\n{row}\n".encode())
    assert isinstance(error, ApprovedRowError)
    assert (error.line, error.field) == (2, "urn")
    assert "registration D" in error.message


def test_a_provider_needs_a_ukprn_or_a_urn_and_a_safeguarding_contact() -> None:
    row = "  ,Nameless Tutors,one_to_one_tuition,B,,5,"
    assert errors(f"{HEADER}\n{row}\n".encode()) == [(2, "ukprn"), (2, "safeguarding_contact")]


def test_other_faults_are_each_named() -> None:
    rows = [
        ",,,D,x,ten,12345",  # no name, no services, capacity and URN malformed, D without URN
        GOOD_B,
        GOOD_B,  # the same UKPRN twice
    ]
    data = "\n".join([HEADER, *rows]) + "\n"
    assert errors(data.encode()) == [
        (2, "urn"),
        (2, "name"),
        (2, "services"),
        (2, "capacity"),
        (4, "ukprn"),
    ]


def test_a_list_without_a_required_column_is_refused() -> None:
    data = b"ukprn,name,services,safeguarding_contact,capacity\n10089991,x,small_group,y,1\n"
    with pytest.raises(ApprovedListError, match="missing required column registration"):
        read_approved_list(io.BytesIO(data))


def test_a_list_that_is_not_utf8_is_refused() -> None:
    data = f"{HEADER}\n{GOOD_B.replace('Estuary', 'Rivière')}\n".encode("cp1252")
    with pytest.raises(ApprovedListError, match="not UTF-8"):
        read(data)
