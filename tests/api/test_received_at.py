"""Clocks run from when the authority received a request, not from when the gateway heard of
it (gateway/cases/receipt.py): an officer keying a paper referral, a portal backlog, an EHC
needs-assessment decision recorded late. Lincolnshire's pack (the default): acknowledge within
5 working days and decide within 15 working days of the request (003 Timescales).

Hand-counted dates. 2026: the spring bank holiday is Monday 25 May; the summer half term
(mappings/data/terms/2025.toml) is 25-29 May, the spring one 16-20 February.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import pathlib
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.store.schema import audit_log
from tests.api.conftest import Api
from tests.support import ManualClock, child_json

# The gateway hears of the request on Tuesday 26 May 2026, after the bank holiday.
ARRIVAL = dt.datetime(2026, 5, 26, 10, 0, tzinfo=dt.UTC)
EXAMPLES = pathlib.Path(__file__).parents[2] / "contracts" / "portal" / "examples"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(ARRIVAL)


def _child(api: Api, serial: int = 1) -> str:
    answer = api.client.post("/api/v1/children", headers=api.token(), json=child_json(serial))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _open(api: Api, child_id: str, **extra: Any) -> Any:
    body = {"child_id": child_id, "reason": "illness", "source": "school", "summary": "paper"}
    return api.client.post("/api/v1/cases", headers=api.token(), json={**body, **extra})


def _clocks(api: Api, case_id: str) -> dict[str, dict[str, Any]]:
    answer = api.client.get(
        "/api/v1/sla/clocks", headers=api.token("reports:read"), params={"case_id": case_id}
    )
    assert answer.status_code == 200, answer.text
    return {c["kind"]: c for c in answer.json()}


def _due_dates(api: Api, case_id: str) -> dict[str, str]:
    return {kind: c["due_at"][:10] for kind, c in _clocks(api, case_id).items()}


def _backdated(api: Api, child_id: str) -> list[str]:
    with api.store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log.c.endpoint).where(
                audit_log.c.child_id == child_id, audit_log.c.action == "backdate"
            )
        )
        return list(rows.scalars())


def test_a_paper_referral_keyed_after_the_bank_holiday_counts_from_the_friday(api: Api) -> None:
    child = _child(api)
    # Received on Friday 22 May; keyed on Tuesday 26 May, after the bank holiday Monday.
    answer = _open(api, child, received_at="2026-05-22T14:00:00+01:00")
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert (case["received_at"], case["opened_at"]) == (
        "2026-05-22T13:00:00Z",
        "2026-05-26T10:00:00Z",
    )
    clocks = _clocks(api, case["id"])
    assert clocks["lincs.s19.acknowledge"]["started_at"] == "2026-05-22T13:00:00Z"
    # Working days after Friday 22nd: Tue 26, Wed 27, Thu 28, Fri 29, Mon 1 June. The half
    # term is no holiday for working days; only the bank holiday is skipped.
    assert _due_dates(api, case["id"]) == {
        "lincs.s19.acknowledge": "2026-06-01",
        # ... and on to the fifteenth: Mon 15 June.
        "lincs.s19.outcome": "2026-06-15",
    }
    assert _backdated(api, child) == ["POST /api/v1/cases"]


def test_without_received_at_the_clocks_run_from_arrival(api: Api) -> None:
    child = _child(api)
    case = _open(api, child).json()
    assert case["received_at"] == case["opened_at"] == "2026-05-26T10:00:00Z"
    # From Tuesday 26th: Wed 27 ... Tue 2 June; the fifteenth is Tue 16 June.
    assert _due_dates(api, case["id"]) == {
        "lincs.s19.acknowledge": "2026-06-02",
        "lincs.s19.outcome": "2026-06-16",
    }
    assert _backdated(api, child) == []


def test_received_less_than_a_day_before_arrival_is_not_audited(api: Api) -> None:
    child = _child(api)
    case = _open(api, child, received_at="2026-05-25T11:00:00Z").json()
    assert case["received_at"] == "2026-05-25T11:00:00Z"
    # A bank holiday start counts from it: the first working day after it is Tuesday 26th.
    assert _due_dates(api, case["id"])["lincs.s19.acknowledge"] == "2026-06-01"
    assert _backdated(api, child) == []


@pytest.mark.parametrize(
    ("received_at", "says"),
    [
        ("2026-05-26T10:05:00Z", "is in the future"),
        ("2011-01-01T09:00:00Z", "is before the child's date of birth"),
        ("2026-05-22T14:00:00", "give the time with its offset"),
    ],
)
def test_an_impossible_received_at_is_refused_naming_the_field(
    api: Api, received_at: str, says: str
) -> None:
    child = _child(api)
    answer = _open(api, child, received_at=received_at)
    assert answer.status_code in (400, 422), answer.text
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == ["received_at"], problem
    assert says in problem["detail"], problem
    listed = api.client.get(
        "/api/v1/cases", headers=api.token("cases:read"), params={"child_id": child}
    ).json()
    assert listed["items"] == []


def test_a_portal_notice_delivered_late_counts_from_its_submission(api: Api) -> None:
    """Submitted on the Friday before the February half term, reaching the gateway on the
    Tuesday after the bank holiday in May (a portal backlog): the clocks are long overdue,
    counted from the school's submission."""
    notice = copy.deepcopy(json.loads((EXAMPLES / "section19_request.json").read_text()))
    notice["submitted_at"] = "2026-02-13T16:30:00Z"
    answer = api.client.post(
        "/api/v1/portal/notifications", headers=api.token("portal:write"), json=notice
    )
    assert answer.status_code == 201, answer.text
    outcome = answer.json()
    case = api.client.get(
        f"/api/v1/cases/{outcome['case_id']}", headers=api.token("cases:read")
    ).json()
    assert (case["received_at"], case["opened_at"]) == (
        "2026-02-13T16:30:00Z",
        "2026-05-26T10:00:00Z",
    )
    # Working days after Friday 13 February run through the half term: Mon 16 ... Fri 20.
    assert _due_dates(api, outcome["case_id"]) == {
        "lincs.s19.acknowledge": "2026-02-20",
        # Mon 16 Feb is the first; the fifteenth is Fri 6 March.
        "lincs.s19.outcome": "2026-03-06",
    }
    assert _backdated(api, outcome["child_id"]) == ["POST /api/v1/portal/notifications"]


def _ask_education(api: Api, received_at: str) -> tuple[str, str, Any]:
    """(child id, case id, the answer) for an EHC advice request keyed with ``received_at``."""
    child = _child(api)
    case = _open(api, child).json()
    body = {"case_id": case["id"], "advisers": ["education"], "received_at": received_at}
    return child, case["id"], api.client.post("/api/v1/ehcna", headers=api.token(), json=body)


def test_ehc_advice_keyed_late_is_due_six_weeks_from_the_request(api: Api) -> None:
    child, case_id, answer = _ask_education(api, "2026-05-20T09:00:00Z")
    assert answer.status_code == 201, answer.text
    (made,) = answer.json()["requests"]
    assert (made["requested_at"], made["due_at"][:10]) == ("2026-05-20T09:00:00Z", "2026-07-01")
    advice = _clocks(api, case_id)["lincs.advice.education"]
    assert (advice["started_at"], advice["due_at"][:10]) == ("2026-05-20T09:00:00Z", "2026-07-01")
    assert _backdated(api, child) == ["POST /api/v1/ehcna"]


def test_ehc_advice_cannot_be_asked_in_the_future(api: Api) -> None:
    _, case_id, answer = _ask_education(api, "2026-06-01T09:00:00Z")
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["received_at"]
    requests = api.client.get(
        f"/api/v1/cases/{case_id}/advice-requests", headers=api.token("cases:read")
    )
    assert requests.json() == []


def test_a_received_at_in_year_one_is_refused_not_a_500(api: Api) -> None:
    child = _child(api)
    answer = _open(api, child, received_at="0001-01-01T00:00:00Z")
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["received_at"]


def test_an_officer_s_off_roll_case_starts_no_section_19_request_clock(api: Api) -> None:
    child = _child(api)
    answer = _open(api, child, reason="otherwise", circumstances={"off_roll": True})
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert case["routing"]["rule_id"] == "lincs.cme.ewe"
    assert case["clocks"] == []
