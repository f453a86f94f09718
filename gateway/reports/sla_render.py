"""The SLA report as a board reads it: one HTML file, a CSV for analysts, JSON for machines.

The HTML is a single self-contained document (inline CSS and SVG, no script, no links out) so
it can be emailed, archived with the board papers and printed years later exactly as it was.
Every piece of text passes through ``html.escape`` because kind labels come from policy packs
that other people edit. The CSV is opened in spreadsheets, so a cell that a spreadsheet would
run as a formula is defused (OWASP "CSV injection").
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Sequence
from html import escape

import msgspec

from gateway.reports.charts import agency_name, compliance_chart, month_name, trend_chart
from gateway.reports.sla_figures import AgencyFigures, Figures, SlaReport

_CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.4;
  color: #0b0c0c; background: #fff; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 18pt; margin-bottom: 0.25rem; }
h2 { font-size: 14pt; margin-top: 2rem; border-bottom: 2px solid #0b0c0c; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.3rem 0.4rem; text-align: left;
  vertical-align: top; }
thead th { border-bottom: 2px solid #0b0c0c; }
tfoot th, tfoot td { border-top: 2px solid #0b0c0c; font-weight: bold; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
figure { margin: 1rem 0; }
svg { max-width: 100%; height: auto; }
@media print {
  body { font-size: 10pt; max-width: none; margin: 0; padding: 0; }
  h2 { break-after: avoid; }
  figure, table.keep { break-inside: avoid; }
  thead { display: table-header-group; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# The one inline style, as a Content-Security-Policy source: served, the report may use this
# style and nothing else (no script, no fetch), while its file stays self-contained.
STYLE_SOURCE = f"'sha256-{base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()}'"

_RULES = (
    "A clock is in this report when it started (by its UTC date) between the first and last "
    "day of the period, both included.",
    "Met on time: met at or before its due moment. Met late: met after it.",
    "Overdue: still running or paused and past its due moment when the report was made. "
    "Open, within time: still running or paused and not yet due.",
    "Compliance: met on time as a share of met on time, met late and overdue. Cancelled and "
    "open-within-time clocks are left out: they are not yet kept or broken.",
    "Days to meet: time from start to met, in days, over clocks met (on time or late). The "
    "90th percentile interpolates between the sorted values at 0.9 x (count - 1) "
    '(the "inclusive" method), so it never lies outside the values seen.',
    "Days late: from the due moment to when the clock was met, or to when the report was made "
    "for a clock still open.",
    "Case references are pseudonyms: the same for a case from one report to the next, "
    "but they name no child.",
)
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip
_FIGURE_HEADINGS = (
    "Opened", "Met on time", "Met late", "Overdue", "Open, within time", "Cancelled",
    "Median days to meet", "90th percentile days", "Compliance",
)  # fmt: skip
CSV_COLUMNS = (
    "period_start", "period_end", "agency", "kind", "label", "opened", "met_on_time",
    "met_late", "open_overdue", "open_within_time", "cancelled", "median_days_to_meet",
    "p90_days_to_meet", "compliance_pct",
)  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def render_html(report: SlaReport) -> str:
    """The whole report as one standalone HTML5 document."""
    period = f"{_day(report.start)} to {_day(report.end)}"
    body = [
        f"<h1>Statutory clocks: SLA report, {escape(period)}</h1>",
        f"<p>Clocks started {escape(period)}. Figures as at {escape(_moment(report.now))}.</p>",
        "<h2>Compliance by agency</h2>",
        f"<figure>{compliance_chart(report.agencies)}</figure>",
        _summary_table(report),
        "<h2>Month by month</h2>",
        f"<figure>{trend_chart(report.trend)}</figure>",
        _trend_table(report),
        "<h2>By agency and clock</h2>",
        *(_agency_table(agency) for agency in report.agencies),
        "" if report.agencies else "<p>No clocks started in this period.</p>",
        "<h2>Breaches</h2>",
        _breach_table(report),
        "<h2>How these figures are counted</h2>",
        "<ul>" + "".join(f"<li>{escape(rule)}</li>" for rule in _RULES) + "</ul>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8"/>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
        f"<title>SLA report, {escape(period)}</title>\n<style>{_CSS}</style>\n</head>\n"
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def render_csv(report: SlaReport) -> str:
    """One row per agency and clock kind, every figure; empty cells for "not applicable"."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for agency in report.agencies:
        for kind in agency.kinds:
            f = kind.figures
            row = (
                report.start.isoformat(), report.end.isoformat(), agency.agency, kind.kind,
                kind.label, f.opened, f.met_on_time, f.met_late, f.open_overdue,
                f.open_within_time, f.cancelled, f.median_days_to_meet, f.p90_days_to_meet,
                f.compliance_pct,
            )  # fmt: skip
            writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()


def render_json(report: SlaReport) -> bytes:
    return msgspec.json.encode(report)


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (Excel and LibreOffice hide it and treat the rest as text)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _summary_table(report: SlaReport) -> str:
    rows = [_figure_row(agency_name(a.agency), a.total) for a in report.agencies]
    return _table(
        "Every clock, by agency",
        ("Agency", *_FIGURE_HEADINGS),
        rows,
        footer=_figure_row("All agencies", report.total),
    )


def _agency_table(agency: AgencyFigures) -> str:
    rows = [_figure_row(kind.label, kind.figures) for kind in agency.kinds]
    return _table(
        agency_name(agency.agency),
        ("Clock", *_FIGURE_HEADINGS),
        rows,
        footer=_figure_row("All clocks", agency.total),
    )


def _trend_table(report: SlaReport) -> str:
    rows = [
        [(month_name(m.month), False)]
        + [(str(v), True) for v in (m.opened, m.met_on_time, m.met_late, m.open_overdue)]
        for m in report.trend
    ]
    headings = ("Month started", "Opened", "Met on time", "Met late", "Overdue")
    return _table("Clocks by the month they started", headings, rows)


def _breach_table(report: SlaReport) -> str:
    if not report.breaches:
        return "<p>No clock in this period was met late or is overdue.</p>"
    rows = [
        [
            (b.case_ref, False),
            (b.label, False),
            (agency_name(b.agency), False),
            (_moment(b.started), False),
            (_moment(b.due), False),
            (_moment(b.met) if b.met else "not yet met", False),
            (f"{b.days_late:.1f}", True),
        ]
        for b in report.breaches
    ]
    headings = ("Case reference", "Clock", "Agency", "Started", "Due", "Met", "Days late")
    caption = "Clocks met late or overdue, most days late first"
    return _table(caption, headings, rows, numbers_from=6, keep=False)


Cell = tuple[str, bool]  # (text, is a number: right-aligned)


def _figure_row(name: str, f: Figures) -> list[Cell]:
    numbers = (f.opened, f.met_on_time, f.met_late, f.open_overdue, f.open_within_time)
    return [
        (name, False),
        *((str(n), True) for n in (*numbers, f.cancelled)),
        (_optional(f.median_days_to_meet), True),
        (_optional(f.p90_days_to_meet), True),
        (_optional(f.compliance_pct, "%"), True),
    ]


def _table(
    caption: str,
    headings: Sequence[str],
    rows: Iterable[list[Cell]],
    *,
    numbers_from: int = 1,
    footer: list[Cell] | None = None,
    keep: bool = True,
) -> str:
    """A table whose first column names the row and whose columns from ``numbers_from`` on
    are right-aligned figures; ``keep`` keeps it on one printed page."""
    head = "".join(
        ('<th scope="col" class="num">' if i >= numbers_from else '<th scope="col">')
        + f"{escape(h)}</th>"
        for i, h in enumerate(headings)
    )
    parts = [
        '<table class="keep">' if keep else "<table>",
        f"<caption>{escape(caption)}</caption>",
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>",
        *(_row(row) for row in rows),
        "</tbody>",
    ]
    if footer is not None:
        parts.append(f"<tfoot>{_row(footer)}</tfoot>")
    parts.append("</table>")
    return "\n".join(parts)


def _row(cells: list[Cell]) -> str:
    (name, _), *rest = cells
    tds = "".join(('<td class="num">' if num else "<td>") + f"{escape(t)}</td>" for t, num in rest)
    return f'<tr><th scope="row">{escape(name)}</th>{tds}</tr>'


def _optional(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.1f}{unit}"


def _day(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _moment(moment: dt.datetime) -> str:
    """UTC, to the minute: clocks can be due at an hour (the "hours" calendar)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
