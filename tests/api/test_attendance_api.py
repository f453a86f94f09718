"""The attendance endpoints over HTTP: formats, 202 report, 400 with position, 415, scopes,
progress, child figures and the concern list."""

from __future__ import annotations

import datetime as dt

from gateway.intake.feed_applier import apply_queued
from gateway.rules.pack import load_pack
from tests.api.conftest import Api
from tests.attendance_support import SCHOOL, csv_feed, pattern_rows, school_days
from tests.support import make_upn

FEEDS = "/api/v1/attendance/feeds"
DAYS = school_days(dt.date(2025, 9, 1), 12)


def post_feed(  # type: ignore[no-untyped-def]
    api: Api, headers: dict[str, str], body: bytes, media: str = "text/csv", **params: str
):
    """POST a feed, then let the applier take it (a worker does so in a running gateway)."""
    response = api.client.post(
        FEEDS, headers={**headers, "content-type": media}, content=body, params=params
    )
    apply_queued(api.store)
    return response


def test_csv_and_json_feeds_are_accepted_with_a_report(api: Api) -> None:
    mis = api.mis()
    upn = make_upn(1)
    response = post_feed(api, mis, csv_feed(pattern_rows(upn, DAYS[:3], [("/", "\\")])))
    assert response.status_code == 202, response.text
    report = response.json()
    assert (report["status"], report["records_accepted"], report["records_rejected"]) == (
        "queued",
        3,
        0,
    )
    rows = [
        {"school_urn": SCHOOL, "upn": make_upn(2), "date": d.isoformat(), "am": "/", "pm": "Q9"}
        for d in DAYS[:2]
    ]
    import json

    response = post_feed(api, mis, json.dumps(rows).encode(), "application/json")
    assert response.status_code == 202
    assert response.json()["rejected"] == [
        {"locator": "$[0]", "field": "pm", "reason": "unknown register code 'Q9'"},
        {"locator": "$[1]", "field": "pm", "reason": "unknown register code 'Q9'"},
    ]

    progress = api.client.get(f"{FEEDS}/{report['id']}", headers=mis)
    assert progress.status_code == 200
    assert (progress.json()["status"], progress.json()["records_accepted"]) == ("completed", 3)
    other_mis = api.mis()
    assert api.client.get(f"{FEEDS}/{report['id']}", headers=other_mis).status_code == 404


def test_malformed_documents_are_400_with_the_position(api: Api) -> None:
    mis = api.mis()
    bad_xml = b"<CTfile><Header><DocumentName>Common Transfer File</Header></CTfile>"
    response = post_feed(api, mis, bad_xml, "application/xml")
    assert response.status_code == 400
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["position"].startswith("line 1")
    assert body["feed_id"]
    bad_header = post_feed(api, mis, b"urn,pupil\n1,2\n")
    assert bad_header.status_code == 400
    assert bad_header.json()["position"] == "line 1"


def test_unsupported_media_and_missing_scope(api: Api) -> None:
    mis = api.mis()
    response = post_feed(api, mis, b"x", "application/pdf")
    assert response.status_code == 415
    assert "text/csv" in response.json()["detail"]
    reader = api.token("cases:read")
    assert post_feed(api, reader, b"x").status_code == 403


def test_figures_and_concerns_are_readable(api: Api) -> None:
    mis, officer = api.mis(), api.token("cases:read")
    upn = make_upn(5)
    rows = pattern_rows(upn, DAYS[:10], [("/", "\\")] * 3 + [("O", "O")] * 2)  # 60 %
    assert post_feed(api, mis, csv_feed(rows)).status_code == 202
    concerns = api.client.get("/api/v1/attendance/concerns", headers=officer).json()
    by_kind = {c["kind"]: c for c in concerns["items"]}
    assert set(by_kind) == {"persistent_absence", "intensive_support"}  # 60 %: below 90 and 75
    concern = by_kind["persistent_absence"]
    assert concern["figures"]["rate"] == 0.6
    assert "001_639b4268f91a7abb.txt" in concern["policy_ref"]
    assert "upn" not in concern
    # Lincolnshire's pack routes neither threshold to a team (003): nothing opened.
    assert [(c["routing"], c["case_id"]) for c in by_kind.values()] == [(None, None)] * 2
    child_id = concern["child_id"]
    figures = api.client.get(f"/api/v1/children/{child_id}/attendance", headers=officer).json()
    [year] = figures["years"]
    assert (year["academic_year"], year["attendance_rate"], year["possible_sessions"]) == (
        2025,
        0.6,
        20,
    )
    timeline = api.client.get(f"/api/v1/children/{child_id}/timeline", headers=officer).json()
    assert [e["detail"]["type"] for e in timeline] == ["concern_raised", "concern_raised"]


def test_a_concern_says_which_team_leads_and_the_case_it_opened(api: Api) -> None:
    """Fifteen days off sick: Lincolnshire's medical threshold opens a case for the Pupil
    Reintegration Team (003 "Attendance and definitions"); the concern names both."""
    mis, officer = api.mis(), api.token("cases:read")
    days = school_days(dt.date(2025, 9, 1), 16)
    rows = pattern_rows(make_upn(6), days, [("I", "I")])
    sent = api.client.post(
        FEEDS, headers={**mis, "content-type": "text/csv"}, content=csv_feed(rows)
    )
    assert sent.status_code == 202, sent.text
    apply_queued(api.store, load_pack("lincolnshire"))  # as the worker does, with the pack
    concerns = api.client.get("/api/v1/attendance/concerns", headers=officer).json()["items"]
    [routed] = [c for c in concerns if c["case_id"] is not None]
    assert routed["routing"]["lead_team"] == "PRT"
    assert routed["routing"]["rule_id"] == "lincs.concern.medical"
    case = api.client.get(f"/api/v1/cases/{routed['case_id']}", headers=officer).json()
    assert (case["child_id"], case["lead_team"]) == (routed["child_id"], "PRT")
