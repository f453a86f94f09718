"""The clock catalogues of Essex, Sutton and Lancashire run from the events on a case: recurring
reviews, minutes in school days, advice per adviser, the Next Steps Meeting and the 12-week
consent wait. The clock starts on Monday 5 January 2026, 09:00 (tests/support.ManualClock)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.sla.escalation import escalate
from gateway.store.schema import outbox
from tests.api.conftest import Api, Open
from tests.support import ManualClock, child_json


class Case:
    """One case driven through the API as an officer would."""

    def __init__(self, api: Api, reason: str, serial: int = 1) -> None:
        self.api, self.headers = api, api.token()
        child = api.client.post(
            "/api/v1/children", headers=self.headers, json=child_json(serial)
        ).json()
        body = {"child_id": child["id"], "reason": reason, "source": "school", "summary": "s"}
        self.id = api.client.post("/api/v1/cases", headers=self.headers, json=body).json()["id"]
        self.url = f"/api/v1/cases/{self.id}"

    def status(self, status: str) -> None:
        body = {"status": status, "reason": "moved on"}
        answer = self.api.client.post(f"{self.url}/status", headers=self.headers, json=body)
        assert answer.status_code == 200, answer.text

    def decide(self, outcome: str) -> None:
        body = {"outcome": outcome, "decided_by": "panel", "reason": "as minuted"}
        answer = self.api.client.post(f"{self.url}/decisions", headers=self.headers, json=body)
        assert answer.status_code == 200, answer.text

    def act(self, kind: str) -> None:
        body = {"kind": kind, "description": "done", "actor": "officer"}
        answer = self.api.client.post(f"{self.url}/actions", headers=self.headers, json=body)
        assert answer.status_code == 201, answer.text

    def clocks(self, kind: str) -> list[dict[str, Any]]:
        """This case's clocks of one kind, oldest first."""
        answer = self.api.client.get(
            "/api/v1/sla/clocks",
            headers=self.api.token("reports:read"),
            params={"case_id": self.id, "kind": kind},
        )
        assert answer.status_code == 200, answer.text
        return sorted(answer.json(), key=lambda c: c["started_at"])

    def states(self, kind: str) -> list[tuple[str, str]]:
        return [(c["state"], c["due_at"][:10]) for c in self.clocks(kind)]


def advance(api: Api, **delta: float) -> None:
    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    clock.advance(**delta)


def test_essex_reviews_recur_every_six_weeks_and_their_minutes_take_five_school_days(
    authority: Open,
) -> None:
    api = authority("essex")
    case = Case(api, "illness")
    case.status("awaiting_panel")
    case.decide("agreed")
    case.decide("provision_arranged")
    review = "essex.review.six_weekly"
    # Six weeks from Monday 5 January is Monday 16 February; week 12 is Monday 30 March.
    assert case.states(review) == [("running", "2026-02-16")]
    assert case.states("essex.week_twelve.professional_advice") == [("running", "2026-03-30")]

    advance(api, days=38)  # Thursday 12 February: the review is held
    case.act("review_meeting_held")
    # Met, and the next due six weeks after this meeting: Thursday 26 March.
    assert case.states(review) == [("met", "2026-02-16"), ("running", "2026-03-26")]
    # Five school days after Thursday 12 February, across the half term of the embedded term
    # dates (16-20 February, mappings/data/terms/2025.toml): Friday 13th, then 23rd-26th.
    assert case.states("essex.review.minutes") == [("running", "2026-02-26")]
    advance(api, days=15)  # Friday 27 February: a day late
    case.act("review_minutes_distributed")
    [minutes] = case.clocks("essex.review.minutes")
    assert (minutes["state"], minutes["met_at"][:10]) == ("met", "2026-02-27")

    case.decide("support_ended")  # cancels the running review and the week-12 advice
    assert [c["state"] for c in case.clocks(review)] == ["met", "cancelled"]
    assert case.states("essex.week_twelve.professional_advice") == [("cancelled", "2026-03-30")]


def test_sutton_times_each_advisers_six_weeks_separately(authority: Open) -> None:
    api = authority("sutton")
    case = Case(api, "otherwise")
    case.status("awaiting_panel")
    case.decide("assessment_agreed")  # asks all four advisers (the pack's outcome)
    # Monday 5 January + six weeks: Monday 16 February. Health is held: no sharing record.
    assert case.states("sutton.advice.social_care") == [("running", "2026-02-16")]
    assert case.states("sutton.advice.education") == [("running", "2026-02-16")]
    assert case.states("sutton.advice.educational_psychology") == [("running", "2026-02-16")]
    assert case.clocks("sutton.advice.health") == []  # not requested yet, so not timed

    advance(api, days=1)  # Tuesday 6 January: the family agrees to share with health
    child_id = api.client.get(case.url, headers=case.headers).json()["child_id"]
    shared = api.client.put(
        f"/api/v1/children/{child_id}/sharing/health",
        headers=case.headers,
        json={"agreed": True, "categories": ["identity", "send"], "source": "request form"},
    )
    assert shared.status_code == 200, shared.text
    assert case.states("sutton.advice.health") == [("running", "2026-02-17")]

    advance(api, days=42)  # Tuesday 17 February: social care answers a day late
    requests = api.client.get(f"{case.url}/advice-requests", headers=case.headers).json()
    social = next(r for r in requests if r["adviser"] == "social_care")
    answered = api.client.patch(
        f"/api/v1/advice-requests/{social['id']}",
        headers=case.headers,
        json={"status": "completed", "note": "Early Help Assessment attached in Mosaic"},
    )
    assert answered.status_code == 200, answered.text
    [met] = case.clocks("sutton.advice.social_care")
    assert (met["state"], met["agency"]) == ("met", "social_care")
    timeline = api.client.get(f"{case.url}/timeline", headers=case.headers).json()
    changes = [
        (e["detail"]["kind"], e["detail"]["change"])
        for e in timeline
        if e["detail"]["type"] == "clock_changed"
    ]
    assert ("sutton.advice.social_care", "met late") in changes
    assert case.states("sutton.advice.health") == [("running", "2026-02-17")]


@pytest.mark.parametrize("outcome", ["assessment_not_agreed", "plan_not_required"])
def test_sutton_offers_a_next_steps_meeting_within_two_weeks_of_either_no(
    authority: Open, outcome: str
) -> None:
    api = authority("sutton")
    case = Case(api, "otherwise")
    case.status("awaiting_panel")
    if outcome == "plan_not_required":
        case.decide("assessment_agreed")
        case.status("awaiting_panel")  # the assessment done, back to panel to decide on a plan
    case.decide(outcome)
    assert case.states("sutton.next_steps_meeting") == [("running", "2026-01-19")]
    case.status("closed")  # closing the case does not drop the meeting
    assert case.states("sutton.next_steps_meeting") == [("running", "2026-01-19")]
    case.act("next_steps_meeting_declined")  # optional for the family
    assert case.states("sutton.next_steps_meeting") == [("cancelled", "2026-01-19")]


def test_lancashire_waits_twelve_weeks_for_consent_before_a_strategy_discussion(
    authority: Open,
) -> None:
    api = authority("lancashire")
    case = Case(api, "otherwise")
    case.act("consent_refused")
    assert case.states("lancs.consent.strategy_discussion") == [("running", "2026-03-30")]
    case.act("consent_given")
    assert case.states("lancs.consent.strategy_discussion") == [("cancelled", "2026-03-30")]
    advance(api, weeks=1)
    case.act("consent_refused")  # refused again: a new wait from today
    assert case.states("lancs.consent.strategy_discussion") == [
        ("cancelled", "2026-03-30"),
        ("running", "2026-04-06"),
    ]


def test_a_breached_health_clock_is_told_to_health_as_well_as_mosaic(authority: Open) -> None:
    api = authority("sutton")
    case = Case(api, "otherwise")
    child_id = api.client.get(case.url, headers=case.headers).json()["child_id"]
    api.client.put(
        f"/api/v1/children/{child_id}/sharing/health",
        headers=case.headers,
        json={"agreed": True, "categories": ["identity"], "source": "request form"},
    )
    case.status("awaiting_panel")
    case.decide("assessment_agreed")
    advance(api, weeks=6, days=1)  # every adviser overdue
    assert escalate(api.store)[1] >= 4
    with api.store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(outbox.c.destination, outbox.c.payload).where(outbox.c.case_id == case.id)
        ).all()
    told: dict[str, set[str]] = {}
    for destination, payload in rows:
        body = payload if isinstance(payload, dict) else json.loads(payload)
        detail = (body.get("event") or {}).get("detail") or {}
        if detail.get("type") == "clock_changed" and detail["change"] == "breached":
            told.setdefault(detail["kind"], set()).add(destination)
    assert told["sutton.advice.health"] == {"mosaic", "nhs"}
    assert told["sutton.advice.social_care"] == {"mosaic"}
