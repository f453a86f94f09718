"""Deletions from and additions to schools' admission registers (SI 2024/208, reg. 9), and the
enquiries into children missing education they open and close (gateway/roll).

Lancashire (001 1.4): a child off roll for the equivalent of 60 school days is a persistent
CME and triggers for nomination to the half-termly CME panel; an officer may nominate sooner.
Hand-counted on the embedded term dates (mappings/data/terms/2025.toml): from a deletion on
Friday 9 January 2026, the school days run Monday 12 January to Friday 13 February (25), skip
the half term of 16-20 February, run to Friday 27 March (50), skip Easter and the INSET day of
Monday 13 April, and reach 59 on Friday 24 April and 60 on Monday 27 April.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.roll.grounds import grounds
from gateway.roll.off_roll import review_off_roll
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.sla.calendars import add_school_days
from gateway.store import Store
from gateway.store.schema import inbound_archive, roll_changes
from tests.api.conftest import Api
from tests.support import ManualClock, make_upn

SCHOOL, OTHER = "119876", "120456"
DELETED_ON = dt.date(2026, 1, 9)
GROUNDS = grounds()
_CLIENTS = itertools.count()
MISSING = next(g.id for g in GROUNDS.values() if g.children_missing_education)
NOT_MISSING = next(g.id for g in GROUNDS.values() if not g.children_missing_education)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))


def _app(store: Store, database_url: str, policy: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=database_url, policy=policy), store, logging=False)
    with TestClient(app) as client:
        yield Api(client, store)


@pytest.fixture
def lancs(store: Store, database_url: str) -> Iterator[Api]:
    yield from _app(store, database_url, "lancashire")


def _mis(api: Api, *schools: str) -> dict[str, str]:
    name = f"mis-{'-'.join(schools)}-{next(_CLIENTS)}"
    _, token = create_client(api.store, name, ["attendance:write"], schools=list(schools))
    return {"Authorization": f"Bearer {token}"}


def deletion(serial: int = 1, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "school_urn": SCHOOL,
        "pupil": {
            "upn": make_upn(serial),
            "name": {"given": "Robin", "family": "Example"},
            "date_of_birth": "2013-05-02",
        },
        "ground": MISSING,
        "deleted_on": DELETED_ON.isoformat(),
    }
    body.update(overrides)
    return body


def _send(api: Api, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(url, headers=headers or _mis(api, SCHOOL, OTHER), json=body)


def _case(api: Api, case_id: str) -> dict[str, Any]:
    answer = api.client.get(f"/api/v1/cases/{case_id}", headers=api.token("cases:read"))
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _agenda(api: Api) -> list[str]:
    answer = api.client.get(
        "/api/v1/panels/CME_PANEL/agenda",
        headers=api.token("cases:read"),
        params={"date": api.store.clock.now().date().isoformat()},
    )
    assert answer.status_code == 200, answer.text
    return [c["id"] for c in answer.json()["new_referrals"]]


def _move_to(api: Api, day: dt.date) -> None:
    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    clock.advance(
        seconds=(dt.datetime.combine(day, dt.time(10), dt.UTC) - clock.now()).total_seconds()
    )


def test_a_deletion_with_no_destination_opens_a_cme_enquiry_with_its_clock(lancs: Api) -> None:
    answer = _send(lancs, "/api/v1/roll/deletions", [deletion()])
    assert answer.status_code == 201, answer.text
    (outcome,) = answer.json()["outcomes"]
    assert (outcome["change"], outcome["duplicate"], outcome["locator"]) == (
        "deletion",
        False,
        "$[0]",
    )
    case = _case(lancs, outcome["enquiry_case_id"])
    assert (case["kind"], case["reason"], case["off_roll_since"]) == (
        "cme_enquiry",
        "otherwise",
        "2026-01-09",
    )
    assert (case["lead_team"], case["panel"], case["routing"]["rule_id"]) == (
        "CME",
        None,
        "lancs.cme",
    )
    assert case["routing"]["policy_ref"].startswith("001_639b4268f91a7abb.txt 1.2")
    (clock,) = [c for c in case["clocks"] if c["kind"] == "lancs.cme.persistent"]
    assert (clock["state"], clock["started_at"][:10], clock["due_at"][:10]) == (
        "running",
        "2026-01-09",
        "2026-04-27",
    )
    assert add_school_days(DELETED_ON, 60) == dt.date(2026, 4, 27)
    listed = lancs.client.get(
        "/api/v1/cases", headers=lancs.token("cases:read"), params={"kind": "cme_enquiry"}
    ).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]
    child = lancs.client.get(
        f"/api/v1/children/{outcome['child_id']}", headers=lancs.token()
    ).json()
    assert child["school_urn"] is None  # off roll, nowhere else


def test_at_sixty_school_days_off_roll_the_child_is_nominated_to_the_cme_panel(lancs: Api) -> None:
    (outcome,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    case_id = outcome["enquiry_case_id"]
    _move_to(lancs, dt.date(2026, 4, 24))  # the 59th school day
    assert review_off_roll(lancs.store) == 0
    assert _case(lancs, case_id)["panel"] is None
    assert _agenda(lancs) == []
    _move_to(lancs, dt.date(2026, 4, 27))  # the 60th
    assert review_off_roll(lancs.store) == 1
    case = _case(lancs, case_id)
    assert (case["lead_team"], case["panel"], case["routing"]["rule_id"]) == (
        "CME",
        "CME_PANEL",
        "lancs.cme.persistent",
    )
    (entry,) = [e for e in case["timeline"] if e["summary"].startswith("Routed again")]
    assert (
        entry["summary"] == "Routed again at 60 school days off roll: CME leads; heard by CME_PANEL"
    )
    assert "Persistent CMEs" in entry["detail"]["decision"]["policy_ref"]
    assert _agenda(lancs) == [case_id]
    assert review_off_roll(lancs.store) == 0  # told once


def test_an_officer_may_nominate_a_cme_child_to_the_panel_at_any_time(lancs: Api) -> None:
    (outcome,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    case_id = outcome["enquiry_case_id"]
    nominated = lancs.client.post(
        f"/api/v1/cases/{case_id}/nominations",
        headers=lancs.token(),
        json={"nominated_by": "CME officer", "reason": "family refuses contact; barriers"},
    )
    assert nominated.status_code == 200, nominated.text
    assert nominated.json()["panel"] == "CME_PANEL"
    assert _agenda(lancs) == [case_id]
    _move_to(lancs, dt.date(2026, 2, 2))
    assert review_off_roll(lancs.store) == 0
    assert _case(lancs, case_id)["panel"] == "CME_PANEL"  # never taken off the agenda


@pytest.mark.parametrize("ground", sorted(GROUNDS))
def test_each_ground_opens_an_enquiry_only_when_it_may_leave_a_child_missing_education(
    lancs: Api, ground: str
) -> None:
    expected = GROUNDS[ground].children_missing_education
    (without,) = _send(lancs, "/api/v1/roll/deletions", [deletion(1, ground=ground)]).json()[
        "outcomes"
    ]
    assert (without["enquiry_case_id"] is not None) is expected, ground
    named = deletion(2, ground=ground, destination_urn=OTHER)
    (with_school,) = _send(lancs, "/api/v1/roll/deletions", [named]).json()["outcomes"]
    assert with_school["enquiry_case_id"] is None
    child = lancs.client.get(
        f"/api/v1/children/{with_school['child_id']}", headers=lancs.token()
    ).json()
    assert child["school_urn"] == OTHER


def test_a_return_without_a_ground_and_without_a_destination_opens_an_enquiry(lancs: Api) -> None:
    (outcome,) = _send(lancs, "/api/v1/roll/deletions", [deletion(ground=None)]).json()["outcomes"]
    assert outcome["enquiry_case_id"] is not None


def test_an_addition_to_any_roll_closes_the_enquiry_and_meets_its_clock(lancs: Api) -> None:
    (deleted,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    _move_to(lancs, dt.date(2026, 2, 3))
    addition = {"school_urn": OTHER, "pupil": {"upn": make_upn(1)}, "added_on": "2026-02-02"}
    answer = _send(lancs, "/api/v1/roll/additions", [addition])
    assert answer.status_code == 201, answer.text
    (added,) = answer.json()["outcomes"]
    assert added["closed_case_ids"] == [deleted["enquiry_case_id"]]
    assert added["child_id"] == deleted["child_id"]
    case = _case(lancs, deleted["enquiry_case_id"])
    assert case["status"] == "closed"
    (clock,) = [c for c in case["clocks"] if c["kind"] == "lancs.cme.persistent"]
    assert (clock["state"], clock["met_at"][:10]) == ("met", "2026-02-02")
    child = lancs.client.get(f"/api/v1/children/{added['child_id']}", headers=lancs.token()).json()
    assert child["school_urn"] == OTHER


def test_the_same_return_again_changes_nothing(lancs: Api) -> None:
    first = _send(lancs, "/api/v1/roll/deletions", [deletion()])
    again = _send(lancs, "/api/v1/roll/deletions", [deletion()])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcomes"][0]["duplicate"] is True
    assert (
        again.json()["outcomes"][0]["enquiry_case_id"]
        == first.json()["outcomes"][0]["enquiry_case_id"]
    )
    with lancs.store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(roll_changes)).scalar() == 1
        )
    listed = lancs.client.get(
        "/api/v1/cases", headers=lancs.token("cases:read"), params={"kind": "cme_enquiry"}
    ).json()["items"]
    assert len(listed) == 1


def test_a_second_schools_deletion_joins_the_open_enquiry(lancs: Api) -> None:
    first = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"][0]
    second = _send(
        lancs, "/api/v1/roll/deletions", [deletion(school_urn=OTHER, deleted_on="2026-01-10")]
    ).json()["outcomes"][0]
    assert second["enquiry_case_id"] == first["enquiry_case_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([deletion(ground="left_for_the_moon")], "$[0].ground"),
        ([deletion(), {**deletion(2), "pupil": {"upn": "A12345678901X"}}], "$[1].pupil.upn"),
        ([{**deletion(), "school_urn": "12"}], "$[0].school_urn"),
        ({"not": "a return"}, "$[0]"),
        ([], "body"),
    ],
)
def test_a_bad_return_is_refused_whole_naming_the_record_and_kept(
    lancs: Api, body: Any, field: str
) -> None:
    answer = _send(lancs, "/api/v1/roll/deletions", body)
    assert answer.status_code == 422, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert fields[0].startswith(field), fields
    with lancs.store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(roll_changes)).scalar() == 0
        )
        kept = (
            connection.execute(
                sa.select(inbound_archive.c.source).where(inbound_archive.c.source == "roll")
            )
            .scalars()
            .all()
        )
    assert kept == ["roll"]


def test_a_school_sends_returns_for_its_own_roll_only(lancs: Api) -> None:
    answer = _send(
        lancs, "/api/v1/roll/deletions", [deletion(school_urn=OTHER)], headers=_mis(lancs, SCHOOL)
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["errors"][0]["field"] == "$[0].school_urn"
    with lancs.store.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(roll_changes)).scalar() == 0
        )


def test_a_deletion_dated_tomorrow_is_refused(lancs: Api) -> None:
    answer = _send(lancs, "/api/v1/roll/deletions", [deletion(deleted_on="2026-01-13")])
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [
        {"field": "$[0].deleted_on", "message": "cannot be dated in the future"}
    ]


def test_lincolnshire_gives_the_enquiry_to_its_ewe_team(store: Store, database_url: str) -> None:
    for api in _app(store, database_url, "lincolnshire"):
        (outcome,) = _send(api, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
        case = _case(api, outcome["enquiry_case_id"])
        assert (case["lead_team"], case["routing"]["rule_id"]) == ("EWE", "lincs.cme.ewe")
        # An enquiry is not a Section 19 request: the request's clocks do not start.
        assert [c["kind"] for c in case["clocks"]] == []


def test_a_ctf_of_leavers_with_no_destination_opens_an_enquiry_for_each(lancs: Api) -> None:
    from tests.unit.mis.test_ctf_leavers import UNKNOWN, leavers_ctf

    answer = lancs.client.post(
        "/api/v1/roll/deletions",
        headers={**_mis(lancs, SCHOOL), "content-type": "application/xml"},
        content=leavers_ctf(UNKNOWN, make_upn(5), make_upn(6)),
    )
    assert answer.status_code == 201, answer.text
    outcomes = answer.json()["outcomes"]
    assert [o["locator"] for o in outcomes] == ["Pupil[1]", "Pupil[2]"]
    assert all(o["enquiry_case_id"] and o["ground"] is None for o in outcomes)
    case = _case(lancs, outcomes[0]["enquiry_case_id"])
    assert "names no ground" in case["summary"]


def test_a_deletion_through_the_portal_is_recorded_as_the_mis_s_would_be(lancs: Api) -> None:
    import json
    import pathlib

    example = (
        pathlib.Path(__file__).parents[2] / "contracts/portal/examples/deletion_from_roll.json"
    )
    notice = json.loads(example.read_text())
    portal = lancs.token("portal:write")
    answer = lancs.client.post("/api/v1/portal/notifications", headers=portal, json=notice)
    assert answer.status_code == 201, answer.text
    outcome = answer.json()
    assert (outcome["routing"]["rule_id"], outcome["duplicate"]) == ("lancs.cme", False)
    case = _case(lancs, outcome["case_id"])
    assert (case["kind"], case["off_roll_since"], case["school_urn"]) == (
        "cme_enquiry",
        "2026-01-09",
        "119876",
    )
    again = lancs.client.post("/api/v1/portal/notifications", headers=portal, json=notice)
    assert (again.status_code, again.json()["case_id"]) == (200, outcome["case_id"])
    named = {
        **notice,
        "notification_id": "CSP-2",
        "deletion_from_roll": {
            "ground": "moved_away",
            "deleted_on": "2026-01-08",
            "destination_urn": OTHER,
        },
    }
    moved = lancs.client.post("/api/v1/portal/notifications", headers=portal, json=named)
    assert (moved.status_code, moved.json()["case_id"]) == (201, None)
    bad = {**notice, "deletion_from_roll": {"ground": "to_the_moon", "deleted_on": "2026-01-09"}}
    refused = lancs.client.post("/api/v1/portal/notifications", headers=portal, json=bad)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["deletion_from_roll.ground"]


def _add(api: Api, school: str, on: str, serial: int = 1) -> Any:
    addition = {"school_urn": school, "pupil": {"upn": make_upn(serial)}, "added_on": on}
    answer = _send(api, "/api/v1/roll/additions", [addition])
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["outcomes"][0]


def test_a_child_on_another_schools_roll_is_not_off_roll(lancs: Api) -> None:
    _add(lancs, OTHER, "2026-01-05")
    (outcome,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    assert outcome["enquiry_case_id"] is None
    child = lancs.client.get(f"/api/v1/children/{outcome['child_id']}", headers=lancs.token())
    assert child.json()["school_urn"] == OTHER


def test_an_addition_dated_before_the_deletion_leaves_the_enquiry_open(lancs: Api) -> None:
    (deleted,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    added = _add(lancs, OTHER, "2025-12-01")
    assert added["closed_case_ids"] == []
    assert _case(lancs, deleted["enquiry_case_id"])["status"] == "received"


def test_back_on_roll_while_awaiting_the_panel_stops_the_count_but_leaves_the_panel(
    lancs: Api,
) -> None:
    (deleted,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    case_id = deleted["enquiry_case_id"]
    moved = lancs.client.post(
        f"/api/v1/cases/{case_id}/status",
        headers=lancs.token(),
        json={"status": "awaiting_panel", "reason": "nominated"},
    )
    assert moved.status_code == 200, moved.text
    added = _add(lancs, OTHER, "2026-01-12")
    assert added["closed_case_ids"] == []
    case = _case(lancs, case_id)
    assert (case["status"], case["off_roll_since"]) == ("awaiting_panel", None)
    _move_to(lancs, dt.date(2026, 4, 27))
    assert review_off_roll(lancs.store) == 0
    assert _case(lancs, case_id)["routing"]["rule_id"] == "lancs.cme"


@pytest.mark.parametrize("day", ["1900-01-01", "0001-01-01"])
def test_a_date_outside_the_term_dates_held_is_refused(lancs: Api, day: str) -> None:
    answer = _send(lancs, "/api/v1/roll/deletions", [deletion(deleted_on=day)])
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert error["field"] == "$[0].deleted_on"
    assert "outside the term dates" in error["message"]


def test_a_school_hears_nothing_of_another_schools_enquiry_it_closed(lancs: Api) -> None:
    (deleted,) = _send(lancs, "/api/v1/roll/deletions", [deletion()]).json()["outcomes"]
    addition = {"school_urn": OTHER, "pupil": {"upn": make_upn(1)}, "added_on": "2026-01-12"}
    answer = _send(lancs, "/api/v1/roll/additions", [addition], headers=_mis(lancs, OTHER))
    assert answer.status_code == 201, answer.text
    assert answer.json()["outcomes"][0]["closed_case_ids"] == []
    assert _case(lancs, deleted["enquiry_case_id"])["status"] == "closed"
