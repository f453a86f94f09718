"""The gateway's pages as a browser inside an authority's network gets them: served by the
gateway, under the Content-Security-Policy it sends, with nothing reachable off loopback."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Offline, Served

pytestmark = pytest.mark.browser


def test_the_board_report_renders_under_its_policy(served: Served, offline: Offline) -> None:
    page = offline.page
    page.set_extra_http_headers({"Authorization": f"Bearer {served.token}"})
    response = page.goto(f"{served.base}/api/v1/reports/sla?from=2025-09-01&to=2025-12-31")
    assert response is not None
    assert response.status == 200
    assert "style-src 'sha256-" in response.headers["content-security-policy"]
    assert page.locator("h1").inner_text().startswith("Statutory clocks: SLA report")
    # The inline style was allowed: the headings have their rule and the body its font.
    heading = page.evaluate("getComputedStyle(document.querySelector('h2')).borderBottomStyle")
    assert heading == "solid"
    assert "Arial" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert offline.csp_violations() == []
    # ...and the policy is enforced: a style the report did not ship is refused.
    page.evaluate(
        """() => { const s = document.createElement("style");
                   s.textContent = "h1 { color: rgb(255, 0, 0) }";
                   document.head.append(s); }"""
    )
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") != (
        "rgb(255, 0, 0)"
    )
    assert [v.split()[0] for v in offline.csp_violations()] == ["style-src-elem"]
    assert offline.refused == []


def test_the_api_reference_works_offline(served: Served, offline: Offline) -> None:
    page = offline.page
    document = httpx.get(
        f"{served.base}/schema/openapi.json",
        headers={"Authorization": f"Bearer {served.token}"},
    ).json()
    operations = sum(len(item) for item in document["paths"].values())

    response = page.goto(f"{served.base}/schema/swagger")  # a browser sends no token
    assert response is not None
    assert response.status == 200
    page.get_by_label("Bearer token").fill("s19_not-a-token")
    page.get_by_role("button", name="Load the API reference").click()
    expect(page.get_by_role("status")).to_contain_text("That token was refused")
    assert page.locator(".opblock").count() == 0

    page.get_by_label("Bearer token").fill(served.token)
    page.get_by_role("button", name="Load the API reference").click()
    expect(page.locator(".opblock")).to_have_count(operations, timeout=30_000)
    assert page.locator(".info .title").inner_text().startswith("Section 19 interoperability")
    assert page.locator("#operations-cases-list_cases").is_visible()

    # Swagger UI sends the token it was given: a request tried from the page is answered.
    operation = page.locator("#operations-cases-list_cases")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("200")
    body = operation.locator(".live-responses-table .response .response-col_description")
    expect(body).to_contain_text('"items"')

    assert offline.csp_violations() == []
    assert offline.refused == []  # nothing was even tried off loopback
