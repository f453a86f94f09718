"""The SLA report opened in a real browser (headless Chromium, network off).

Parsing the HTML proves it is well-formed; only a browser proves the inline SVG is drawn the way
a board member will see it. Chromium comes from the Debian package ``chromium``; a machine
without it fails this test rather than skipping it, so CI cannot pass without looking.
"""

from __future__ import annotations

import pathlib
import struct
import subprocess
from html.parser import HTMLParser

import pytest

from gateway.reports import SlaReport, render_html, sla_figures
from tests.unit.reports.test_sla_figures import END, NOW, START, load_clocks

pytestmark = pytest.mark.browser

CHROMIUM = pathlib.Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1200, 2000
# Network off: no name resolves and every request goes to a proxy nobody listens on.
OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9")


def chromium(profile: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install the Debian package "
            "(apt-get update && apt-get install -y chromium)"
        )
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *OFFLINE,
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def screenshot(tmp_path: pathlib.Path, page: pathlib.Path, name: str) -> pathlib.Path:
    png = tmp_path / f"{name}.png"
    chromium(
        tmp_path / f"profile-{name}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.as_uri(),
    )
    return png


def png_size(png: pathlib.Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which the PNG signature is followed by."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class ChartShapes(HTMLParser):
    """Counts the shapes in each <svg> of a serialised DOM, keyed by the chart's title id."""

    def __init__(self) -> None:
        super().__init__()
        self.chart: str | None = None
        self.shapes: dict[str, dict[str, int]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.chart = (dict(attrs).get("aria-labelledby") or "").split(" ")[0]
            self.shapes[self.chart] = {}
        elif self.chart is not None:
            self.shapes[self.chart][tag] = self.shapes[self.chart].get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.chart = None


@pytest.fixture
def report() -> SlaReport:
    return sla_figures(load_clocks(), start=START, end=END, now=NOW)


@pytest.fixture
def report_page(tmp_path: pathlib.Path, report: SlaReport) -> pathlib.Path:
    page = tmp_path / "sla-report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


def test_chromium_draws_both_charts(
    tmp_path: pathlib.Path, report: SlaReport, report_page: pathlib.Path
) -> None:
    dom = chromium(tmp_path / "profile-dom", "--dump-dom", report_page.as_uri()).stdout
    shapes = ChartShapes()
    shapes.feed(dom)
    assert set(shapes.shapes) == {"compliance-title", "trend-title"}
    assert shapes.shapes["compliance-title"]["rect"] == len(report.agencies) == 3
    # months x (met on time, met late, overdue), plus the legend's three keys
    assert shapes.shapes["trend-title"]["rect"] == len(report.trend) * 3 + 3 == 9
    assert "script" not in shapes.shapes["compliance-title"]


def test_the_screenshot_is_a_full_page_with_something_on_it(
    tmp_path: pathlib.Path, report_page: pathlib.Path
) -> None:
    blank_page = tmp_path / "blank.html"
    blank_page.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    report_png = screenshot(tmp_path, report_page, "report")
    blank_png = screenshot(tmp_path, blank_page, "blank")
    assert png_size(report_png) == (WIDTH, HEIGHT)
    assert png_size(blank_png) == (WIDTH, HEIGHT)
    # A blank page compresses to a few kilobytes; text, tables and bars cannot.
    assert report_png.stat().st_size > 5 * blank_png.stat().st_size
