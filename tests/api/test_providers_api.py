"""Provider registers and commissioning over the API (Lincolnshire pack): GIAS and the approved
list imported and searched, URNs checked against GIAS, provision commissioned only from an
approved provider for an agreed case, and the provider's returns counted like school marks."""

from __future__ import annotations

import pathlib
from typing import Any

import sqlalchemy as sa

from gateway.store import Store
from gateway.store.schema import outbox
from tests.api.conftest import Api
from tests.support import ManualClock, child_json

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures"
GIAS = (FIXTURES / "gias" / "edubasealldata_sample.csv").read_bytes()
APPROVED = (FIXTURES / "providers" / "approved_ap_sample.csv").read_bytes()
SCHOOL = "120501"  # Wragby Fen Primary School, Lincolnshire (925), open
CLOSED = "120503"  # Skellingthorpe Moor Junior School, closed 31 August 2019
CSV = {"Content-Type": "text/csv"}


def load_registers(api: Api, admin: dict[str, str]) -> dict[str, Any]:
    gias = api.client.post("/api/v1/providers/imports/gias", headers=admin | CSV, content=GIAS)
    assert gias.status_code == 200, gias.text
    listed = api.client.post(
        "/api/v1/providers/imports/approved", headers=admin | CSV, content=APPROVED
    )
    assert listed.status_code == 200, listed.text
    return {"gias": gias.json(), "approved": listed.json()}


def agreed_case(api: Api, headers: dict[str, str], serial: int = 1) -> dict[str, Any]:
    child = api.client.post(
        "/api/v1/children", headers=headers, json=child_json(serial, school_urn=SCHOOL)
    ).json()
    body = {"child_id": child["id"], "reason": "illness", "source": "school", "summary": "s"}
    case: dict[str, Any] = api.client.post("/api/v1/cases", headers=headers, json=body).json()
    url = f"/api/v1/cases/{case['id']}"
    api.client.post(
        f"{url}/status", headers=headers, json={"status": "awaiting_panel", "reason": "r"}
    )
    decided = api.client.post(
        f"{url}/decisions",
        headers=headers,
        json={"outcome": "agreed", "decided_by": "Section 19 panel", "reason": "medical evidence"},
    )
    assert decided.status_code == 200, decided.text
    return case


def commission(
    api: Api, headers: dict[str, str], case_id: str, provider_id: str, **fields: Any
) -> Any:
    """POST a placement: ten hours a week at the provider from Monday 12 January unless told."""
    body = {
        "provider_id": provider_id,
        "start_date": "2026-01-12",
        "hours_per_week": 10,
        "venue": "provider_site",
    } | fields
    return api.client.post(f"/api/v1/cases/{case_id}/placements", headers=headers, json=body)


def provider_named(api: Api, headers: dict[str, str], text: str) -> dict[str, Any]:
    found = api.client.get("/api/v1/providers", headers=headers, params={"q": text}).json()
    [provider] = found["providers"]
    return provider  # type: ignore[no-any-return]


def test_registers_import_idempotently_and_are_searchable(api: Api) -> None:
    admin = api.token()
    first = load_registers(api, admin)
    gias = first["gias"]
    assert (gias["rows"], gias["added"], gias["rejected"]) == (25, 25, 0)
    assert (first["approved"]["added"], first["approved"]["rejected"]) == (7, 0)
    again = api.client.post("/api/v1/providers/imports/gias", headers=admin | CSV, content=GIAS)
    assert again.json()["id"] == gias["id"]  # the same file: the first import's report

    closed = api.client.get(
        "/api/v1/providers", headers=admin, params={"status": "closed", "la_code": "925"}
    ).json()["establishments"]
    assert [(s["urn"], s["closed_on"]) for s in closed] == [(CLOSED, "2019-08-31")]
    tuition = api.client.get(
        "/api/v1/providers", headers=admin, params={"service": "one_to_one_tuition"}
    ).json()["providers"]
    assert {p["name"] for p in tuition} == {
        "Estuary Tuition Partnership",
        "Rivière Arts Therapy CIC",
    }
    by_urn = api.client.get("/api/v1/providers", headers=admin, params={"urn": SCHOOL}).json()
    assert by_urn["establishments"][0]["name"] == "Wragby Fen Primary School"

    bad = (FIXTURES / "gias" / "edubasealldata_bad_rows.csv").read_bytes()
    report = api.client.post("/api/v1/providers/imports/gias", headers=admin | CSV, content=bad)
    assert report.status_code == 200
    assert report.json()["rejected"] >= 4
    assert {"line", "field", "message"} <= set(report.json()["errors"][0])
    broken = (FIXTURES / "gias" / "broken.csv").read_bytes()
    refused = api.client.post("/api/v1/providers/imports/gias", headers=admin | CSV, content=broken)
    assert refused.status_code == 400
    assert "EstablishmentStatus (name)" in refused.json()["detail"]


def test_urns_are_checked_against_gias_once_it_is_loaded(api: Api) -> None:
    admin = api.token()
    mis = api.mis("999999", CLOSED)
    feed = f'[{{"school_urn": "999999", "upn": "{child_json(9)["identifiers"]["upn"]}", '
    feed += '"date": "2026-01-05", "am": "/", "pm": "\\\\"}]'
    before = api.client.post(
        "/api/v1/attendance/feeds", headers=mis | {"Content-Type": "application/json"}, content=feed
    )
    assert before.status_code == 202  # no register loaded yet: nothing to check against
    load_registers(api, admin)
    after = api.client.post(
        "/api/v1/attendance/feeds",
        headers=mis | {"Content-Type": "application/json"},
        content=feed.replace("2026-01-05", "2026-01-06"),
    )
    assert after.status_code == 400
    assert "999999 is not in the GIAS register" in after.json()["detail"]
    closed_feed = feed.replace("999999", CLOSED).replace("2026-01-05", "2026-01-07")
    refused = api.client.post(
        "/api/v1/attendance/feeds",
        headers=mis | {"Content-Type": "application/json"},
        content=closed_feed,
    )
    assert refused.status_code == 400
    assert "closed on 2019-08-31" in refused.json()["detail"]


def test_commissioning_needs_an_agreed_case_and_an_approved_provider(
    api: Api,
) -> None:
    admin = api.token()
    load_registers(api, admin)
    case = agreed_case(api, admin)
    tutor = provider_named(api, admin, "Estuary Tuition")
    unlisted = commission(api, admin, case["id"], "not-on-the-list")
    assert unlisted.status_code == 422
    assert unlisted.json()["errors"][0]["field"] == "provider_id"
    assert "approved list" in unlisted.json()["detail"]
    home = commission(api, admin, case["id"], tutor["id"], venue="home")
    assert home.status_code == 422  # at home only with the provider's risk assessment
    assert home.json()["errors"][0]["field"] == "risk_assessment_ref"

    other = api.client.post(
        "/api/v1/children", headers=admin, json=child_json(2, school_urn=SCHOOL)
    ).json()
    new_case = api.client.post(
        "/api/v1/cases",
        headers=admin,
        json={"child_id": other["id"], "reason": "illness", "source": "school", "summary": "s"},
    ).json()
    not_agreed = commission(api, admin, new_case["id"], tutor["id"])
    assert not_agreed.status_code == 422
    assert "agreed" in not_agreed.json()["detail"]


def test_a_placement_starts_its_reviews_tells_provider_and_school_and_counts_returns(
    api: Api,
) -> None:
    admin = api.token()
    load_registers(api, admin)
    case = agreed_case(api, admin, 3)
    tutor = provider_named(api, admin, "Estuary Tuition")
    made = commission(
        api,
        admin,
        case["id"],
        tutor["id"],
        hours_per_week=15,
        venue="home",
        risk_assessment_ref="RA-2026-014",
    )
    assert made.status_code == 201, made.text
    placement = made.json()
    assert placement["school_code"] == "K"  # an unregistered provider the authority arranged
    assert placement["review_dates"][:2] == ["2026-02-23", "2026-04-06"]
    moved = api.client.get(f"/api/v1/cases/{case['id']}", headers=admin).json()
    assert moved["status"] == "provision_arranged"
    reviews = api.client.get(
        "/api/v1/sla/clocks",
        headers=admin,
        params={"case_id": case["id"], "kind": "lincs.placement.review"},
    ).json()
    assert [(c["state"], c["due_at"][:10]) for c in reviews] == [("running", "2026-02-23")]
    with api.store.engine.connect() as connection:
        notices = (
            connection.execute(
                sa.select(outbox.c.destination).where(outbox.c.kind == "placement.notice")
            )
            .scalars()
            .all()
        )
    assert sorted(notices) == ["provider", "school"]

    register = api.client.get("/api/v1/placements/part-time-register", headers=admin).json()
    assert [(e["placement_id"], e["hours_per_week"]) for e in register] == [(placement["id"], 15.0)]

    clock: ManualClock = api.store.clock  # type: ignore[assignment]
    clock.advance(days=7)  # Monday 12 January
    returned = api.client.post(
        f"/api/v1/placements/{placement['id']}/attendance",
        headers=admin,
        json={"date": "2026-01-12", "am": "present", "pm": "absent", "absence_code": "I"},
    )
    assert returned.status_code == 202, returned.text
    [report] = returned.json()
    assert (report["school_urn"], report["records_accepted"]) == (SCHOOL, 1)
    from gateway.intake.feed_applier import apply_queued
    from gateway.rules.pack import load_pack

    apply_queued(api.store, load_pack("lincolnshire"))
    attendance = api.client.get(
        f"/api/v1/children/{case['child_id']}/attendance", headers=admin
    ).json()
    [year] = attendance["years"]
    # The morning at the provider counts as attendance (K); the afternoon's illness (I)
    # counts toward the illness threshold, as a school's own marks would.
    assert year["school_urn"] == SCHOOL
    assert (year["possible_sessions"], year["attended_sessions"]) == (2, 1)
    assert year["sessions_by_category"]["approved_education"] == 1
    assert year["illness_days"] == 0.5
    early = api.client.post(
        f"/api/v1/placements/{placement['id']}/attendance",
        headers=admin,
        json={"date": "2026-01-09", "am": "present", "pm": "present"},
    )
    assert early.status_code == 422
    assert early.json()["errors"][0]["field"] == "date"


def test_a_portal_notice_names_a_school_gias_knows(api: Api) -> None:
    import json

    admin = api.token()
    portal = api.token("portal:write")
    load_registers(api, admin)
    examples = pathlib.Path(__file__).parents[2] / "contracts" / "portal" / "examples"
    notice = json.loads((examples / "illness.json").read_text())
    notice["school"]["urn"] = "999999"
    refused = api.client.post("/api/v1/portal/notifications", headers=portal, json=notice)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "school.urn"

    notice["school"]["urn"] = CLOSED
    taken = api.client.post("/api/v1/portal/notifications", headers=portal, json=notice)
    assert taken.status_code == 201, taken.text  # a closed school's pupil still needs help
    case = api.client.get(f"/api/v1/cases/{taken.json()['case_id']}", headers=admin).json()
    flags = [
        e["detail"]["action"]["description"]
        for e in case["timeline"]
        if e["detail"].get("action", {}).get("kind") == "school_closed"
    ]
    assert len(flags) == 1
    assert "closed on 31 August 2019" in flags[0]


def test_a_dual_registered_pupils_return_marks_both_registers(api: Api) -> None:
    admin = api.token()
    load_registers(api, admin)
    case = agreed_case(api, admin, 4)
    academy = provider_named(api, admin, "Chelmer Co-operative")
    made = commission(
        api, admin, case["id"], academy["id"], start_date="2026-01-05", hours_per_week=25
    ).json()
    assert made["school_code"] == "D"
    reports = api.client.post(
        f"/api/v1/placements/{made['id']}/attendance",
        headers=admin,
        json={"date": "2026-01-05", "am": "present", "pm": "present"},
    ).json()
    assert [r["school_urn"] for r in reports] == [SCHOOL, "144470"]
    register = api.client.get("/api/v1/placements/part-time-register", headers=admin).json()
    assert register == []  # 25 hours is full time


def test_every_destination_the_gateway_writes_to_is_configured() -> None:
    """A message for a destination no worker knows would be dead-lettered and, since dead
    letters hold a child's later messages back, stall that child's notices."""
    import re

    from gateway.delivery.setup import destinations
    from gateway.settings import Settings
    from gateway.store import Store, make_engine

    root = pathlib.Path(__file__).parents[2]
    written = set()
    for source in (root / "gateway").rglob("*.py"):
        written |= set(re.findall(r'destination="([a-z_]+)"', source.read_text()))
        written |= set(re.findall(r"for destination in \\(([^)]*)\\)", source.read_text()))
    names = {n.strip().strip('"') for item in written for n in item.split(",") if n.strip()}
    import tomllib

    outbound = tomllib.loads((root / "mappings" / "data" / "outbound.toml").read_text())
    for table in outbound.values():
        for targets in table.values():
            names |= set(targets)
    from gateway.delivery.setup import NEEDS

    # Each is known (readiness names what it lacks), and development stands a log in for it.
    assert names - {"log"} and names <= set(NEEDS), names - set(NEEDS)
    development = Settings(log_unconfigured_destinations=True)
    configured = destinations(development, Store(make_engine("sqlite://")))
    assert names <= set(configured), names - set(configured)


def test_an_upload_over_its_limit_is_refused_as_it_streams(store: Store, database_url: str) -> None:
    from litestar.testing import TestClient

    from gateway.app import create_app
    from gateway.settings import Settings

    app = create_app(
        Settings(database_url=database_url, max_feed_bytes=1_000), store, logging=False
    )
    with TestClient(app) as client:
        small = Api(client, store)
        admin = small.token()
        gias = client.post("/api/v1/providers/imports/gias", headers=admin | CSV, content=GIAS)
        assert gias.status_code == 413
        assert gias.json()["title"] == "Payload too large"
        feed = client.post(
            "/api/v1/attendance/feeds",
            headers=admin | {"Content-Type": "text/csv"},
            content=b"school_urn,upn,date,am,pm\n" + b"x" * 2_000,
        )
        assert feed.status_code == 413
        assert "at most 1000 bytes" in feed.json()["detail"]


def test_an_ended_placement_stops_its_reviews_and_tells_provider_and_school(api: Api) -> None:
    admin = api.token()
    load_registers(api, admin)
    case = agreed_case(api, admin, 4)
    tutor = provider_named(api, admin, "Estuary Tuition")
    made = commission(api, admin, case["id"], tutor["id"])
    assert made.status_code == 201, made.text
    placement = made.json()
    url = f"/api/v1/placements/{placement['id']}/end"

    before_start = api.client.post(
        url, headers=admin, json={"last_day": "2026-01-09", "reason": "back to school"}
    )
    assert before_start.status_code == 422
    assert before_start.json()["errors"][0]["field"] == "last_day"

    ended = api.client.post(
        url,
        headers=admin,
        json={"last_day": "2026-02-06", "reason": "Returned to school full time"},
    )
    assert ended.status_code == 201, ended.text
    body = ended.json()
    assert (body["status"], body["ended_on"], body["end_reason"]) == (
        "ended",
        "2026-02-06",
        "Returned to school full time",
    )
    again = api.client.post(url, headers=admin, json={"last_day": "2026-02-06", "reason": "x"})
    assert again.status_code == 409

    reviews = api.client.get(
        "/api/v1/sla/clocks",
        headers=admin,
        params={"case_id": case["id"], "kind": "lincs.placement.review"},
    ).json()
    assert [c["state"] for c in reviews] == ["cancelled"]
    timeline = api.client.get(f"/api/v1/cases/{case['id']}/timeline", headers=admin).json()
    ending = [e for e in timeline if e["summary"].startswith("Provision from Estuary Tuition")]
    assert len(ending) == 1
    assert "last day Friday 6 February 2026" in ending[0]["summary"]
    with api.store.engine.connect() as connection:
        told = connection.execute(
            sa.select(outbox.c.destination, outbox.c.kind).where(
                outbox.c.case_id == case["id"],
                outbox.c.kind.in_(("placement.ended", "case.action_recorded")),
            )
        ).all()
    assert sorted(d for d, k in told if k == "placement.ended") == ["provider", "school"]
    register = api.client.get("/api/v1/placements/part-time-register", headers=admin).json()
    assert placement["id"] not in [e["placement_id"] for e in register]
    unknown = api.client.post(
        "/api/v1/placements/nope/end", headers=admin, json={"last_day": "2026-02-06", "reason": "x"}
    )
    assert unknown.status_code == 404


def test_only_an_authority_whose_policy_keeps_a_part_time_register_has_one(
    store: Store, database_url: str
) -> None:
    """Lincolnshire's policy asks schools to register pupils on "less than 25 hours'
    education" (003); Essex's says nothing of the kind, so the gateway keeps no such list."""
    from litestar.testing import TestClient

    from gateway.app import create_app
    from gateway.settings import Settings

    app = create_app(Settings(database_url=database_url, policy="essex"), store, logging=False)
    with TestClient(app) as client:
        essex = Api(client, store)
        answer = essex.client.get("/api/v1/placements/part-time-register", headers=essex.token())
    assert answer.status_code == 404
    assert "Essex County Council policy keeps no register" in answer.json()["detail"]
