"""The gateway's pages as a browser inside an authority's network gets them: served by the
gateway, under the Content-Security-Policy it sends, with nothing reachable off loopback."""

from __future__ import annotations

import pytest

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
