"""Statutory clocks from events (Lincolnshire pack): started by a request, met by the
acknowledgement and the panel's outcome, paused and resumed, escalated when breached."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from gateway.sla.escalation import escalate
from gateway.store.schema import outbox
from tests.api.conftest import Api
from tests.support import ManualClock, child_json

CASES = "/api/v1/cases"


def open_case(api: Api, headers: dict[str, str], serial: int = 1) -> dict:  # type: ignore[type-arg]
    child = api.client.post("/api/v1/children", headers=headers, json=child_json(serial)).json()
    body = {"child_id": child["id"], "reason": "illness", "source": "school", "summary": "s"}
    return api.client.post(CASES, headers=headers, json=body).json()  # type: ignore[no-any-return]


def clocks(api: Api, **params: str) -> list[dict]:  # type: ignore[type-arg]
    headers = api.token("reports:read")
    return api.client.get("/api/v1/sla/clocks", headers=headers, params=params).json()  # type: ignore[no-any-return]


def test_a_request_starts_its_clocks_and_their_events_stop_them(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers)
    started = {c["kind"]: c for c in clocks(api, case_id=case["id"])}
    assert set(started) == {"lincs.s19.acknowledge", "lincs.s19.outcome"}
    # Monday 5 January 2026, 09:00: five working days is Monday 12th, fifteen Monday 26th.
    assert started["lincs.s19.acknowledge"]["due_at"].startswith("2026-01-12")
    assert started["lincs.s19.outcome"]["due_at"].startswith("2026-01-26")
    timeline = api.client.get(f"{CASES}/{case['id']}/timeline", headers=headers).json()
    changes = [e["detail"]["change"] for e in timeline if e["detail"]["type"] == "clock_changed"]
    assert changes == ["started", "started"]

    url = f"{CASES}/{case['id']}"
    for status in ("acknowledged", "awaiting_panel"):
        api.client.post(f"{url}/status", headers=headers, json={"status": status, "reason": "r"})
    decision = {"outcome": "agreed", "decided_by": "panel", "reason": "tuition"}
    assert api.client.post(f"{url}/decisions", headers=headers, json=decision).status_code == 200
    states = {c["kind"]: c["state"] for c in clocks(api, case_id=case["id"])}
    assert states == {"lincs.s19.acknowledge": "met", "lincs.s19.outcome": "met"}


def test_a_paused_clock_moves_its_due_date_by_the_pause(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, 2)
    [outcome] = clocks(api, case_id=case["id"], kind="lincs.s19.outcome")
    url = f"{CASES}/{case['id']}/clocks/{outcome['id']}"
    refused = api.client.post(f"{url}/pause", headers=headers, json={"reason": "holiday_season"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    paused = api.client.post(
        f"{url}/pause", headers=headers, json={"reason": "exceptional_personal_circumstances"}
    )
    assert paused.json()["state"] == "paused"
    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    clock.advance(days=7)  # a week: five working days
    resumed = api.client.post(f"{url}/resume", headers=headers).json()
    assert resumed["state"] == "running"
    assert resumed["due_at"].startswith("2026-02-02")  # 26 January + five working days


def test_a_breached_clock_is_escalated_once(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, 3)
    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    assert escalate(api.store, 5) == (1, 0)  # acknowledgement due within five working days
    clock.advance(days=8)  # Tuesday 13 January: the acknowledgement is late
    assert escalate(api.store, 5) == (0, 1)
    assert escalate(api.store, 5) == (0, 0)  # told once
    [late] = clocks(api, case_id=case["id"], kind="lincs.s19.acknowledge")
    assert late["breach_sent_at"] is not None
    with api.store.engine.connect() as connection:
        kinds = connection.execute(
            sa.select(outbox.c.kind).where(outbox.c.case_id == case["id"])
        ).scalars()
        assert list(kinds).count("case.clock_changed") == 4  # two started, due soon, breached


def test_worker_replicas_escalating_at_once_tell_each_breach_once(api: Api) -> None:
    """Two worker replicas run the escalation at the same moment: each breach is told once,
    not once per replica (the UPDATE that marks it told is conditional)."""
    headers = api.token()
    cases = [open_case(api, headers, serial) for serial in range(10, 22)]
    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    clock.advance(days=40)  # every acknowledgement and outcome clock is breached
    start = threading.Barrier(2)
    told: list[tuple[int, int]] = []

    def replica() -> None:
        start.wait()
        for _ in range(20):  # SQLite refuses a second writer for a moment: try again
            try:
                told.append(escalate(api.store, 5))
                return
            except sa.exc.OperationalError:
                time.sleep(0.05)

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(breached for _, breached in told) == 2 * len(cases)
    with api.store.engine.connect() as connection:
        breaches = connection.execute(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(
                outbox.c.kind == "case.clock_changed",
                outbox.c.destination == "mosaic",
                outbox.c.payload.cast(sa.Text).contains('"breached"'),
            )
        ).scalar_one()
    assert breaches == 2 * len(cases)


def test_the_board_report_counts_the_clocks_and_names_no_child(api: Api) -> None:
    headers = api.token()
    case = open_case(api, headers, 4)
    board = api.token("reports:read")
    params = {"from": "2026-01-01", "to": "2026-01-31"}
    figures = api.client.get(
        "/api/v1/reports/sla", headers=board, params=params | {"format": "json"}
    ).json()
    opened = sum(k["figures"]["opened"] for a in figures["agencies"] for k in a["kinds"])
    assert opened == 2  # acknowledgement and outcome
    html = api.client.get("/api/v1/reports/sla", headers=board, params=params)
    # The charset once (it was given twice: "text/html; charset=utf-8; charset=utf-8").
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "<svg" in html.text
    as_csv = api.client.get("/api/v1/reports/sla", headers=board, params=params | {"format": "csv"})
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    csv = as_csv.text
    for text in (html.text, csv):
        assert case["id"] not in text
        assert "Rowntree" not in text
    assert api.client.get("/api/v1/reports/sla", headers=headers | board, params=params)
    denied = api.client.get("/api/v1/reports/sla", headers=api.token("cases:read"), params=params)
    assert denied.status_code == 403
