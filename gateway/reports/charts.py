"""Inline SVG charts for the board's SLA report, drawn by hand.

Board papers are emailed, archived and printed in black and white, so the charts are plain SVG
text inside the HTML: no script, no fonts or images to fetch, and the same figures give the
same bytes (every coordinate goes through ``_n``). Black and greys carry the structure, one
accent colour carries the figure that matters, and text is 14 user units: 10.5pt when drawn
at its 680-unit width, which is what fits an A4 page inside 15mm margins without scaling.
Each chart is ``role="img"`` with a <title> and a <desc> stating its figures, because a
screen reader cannot read bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from gateway.model.clock import Agency
from gateway.reports.sla_figures import AgencyFigures, MonthFigures

SVG_NS = "http://www.w3.org/2000/svg"
INK = "#0b0c0c"
GRID = "#b1b4b6"
LIGHT = "#dddddd"
ACCENT = "#1d70b8"
FONT = 'font-family="Arial, Helvetica, sans-serif" font-size="14"'
WIDTH = 680

AGENCY_NAMES: dict[Agency, str] = {
    "health": "Health",
    "social_care": "Social care",
    "education": "Education",
    "educational_psychology": "Educational psychology",
    "local_authority": "Local authority",
    "school": "School",
    "provider": "Provider",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# (field of MonthFigures, legend text, fill): overdue carries the accent, it needs action.
_SERIES = (
    ("met_on_time", "Met on time", LIGHT),
    ("met_late", "Met late", INK),
    ("open_overdue", "Overdue, still open", ACCENT),
)


def agency_name(agency: Agency) -> str:
    return AGENCY_NAMES[agency]


def month_name(month: str) -> str:
    """ "2025-01" -> "Jan 2025", without the locale strftime would consult."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1]} {year}"


def compliance_chart(agencies: Sequence[AgencyFigures]) -> str:
    """Horizontal bars, one <rect> per agency (zero wide when nothing was decided), against
    gridlines every 25% and a solid 100% line, each bar labelled "% (on time of decided)"."""
    label_w, plot_w, row, bar_h, top = 180.0, 340.0, 36.0, 24.0, 12.0
    title = _title("compliance", "Compliance by agency", _compliance_desc(agencies))
    if not agencies:
        empty = _text(0, 24, "No clocks started in this period.")
        return "\n".join((_open("compliance", 36), title, empty, "</svg>"))
    axis_y = top + row * len(agencies)
    parts = [_open("compliance", axis_y + 52), title]
    for pct in (0, 25, 50, 75, 100):
        x = label_w + plot_w * pct / 100
        parts.append(_line(x, top - 6, x, axis_y, INK if pct in (0, 100) else GRID))
        parts.append(_text(x, axis_y + 20, f"{pct}%", anchor="middle"))
    caption = "Met on time, % of decided clocks"
    parts.append(_text(label_w + plot_w / 2, axis_y + 42, caption, anchor="middle"))
    for i, agency in enumerate(agencies):
        y = top + row * i
        width = plot_w * (agency.total.compliance_pct or 0.0) / 100
        parts.append(_text(label_w - 10, y + 17, agency_name(agency.agency), anchor="end"))
        parts.append(_rect(label_w, y, width, bar_h, ACCENT, stroke=False))
        parts.append(_text(label_w + width + 8, y + 17, _pct_label(agency), bold=True))
    parts.append("</svg>")
    return "\n".join(parts)


def trend_chart(trend: Sequence[MonthFigures]) -> str:
    """Grouped bars per month of start (met on time, met late, still overdue) over a count
    axis in round steps, with a legend; counts are written over bars wide enough to hold them."""
    left, right, top, plot_h = 56.0, 16.0, 52.0, 220.0
    base = top + plot_h
    step = _tick_step(max((getattr(m, f) for m in trend for f, _, _ in _SERIES), default=0))
    y_max = step * 4
    parts = [
        _open("trend", base + 52),
        _title("trend", "Clocks by month started", _trend_desc(trend)),
        *_legend(left),
    ]
    for tick in range(0, y_max + 1, step):
        y = base - plot_h * tick / y_max
        parts.append(_line(left, y, WIDTH - right, y, INK if tick == 0 else GRID))
        parts.append(_text(left - 8, y + 5, str(tick), anchor="end"))
    group_w = (WIDTH - left - right) / max(len(trend), 1)
    bar_w = min(32.0, group_w * 0.8 / len(_SERIES))
    for i, month in enumerate(trend):
        centre = left + group_w * (i + 0.5)
        for j, (field, _, fill) in enumerate(_SERIES):
            value: int = getattr(month, field)
            x, h = centre + bar_w * (j - len(_SERIES) / 2), plot_h * value / y_max
            parts.append(_rect(x, base - h, bar_w, h, fill))
            if bar_w >= 18:
                parts.append(_text(x + bar_w / 2, base - h - 6, str(value), anchor="middle"))
        name, year = month_name(month.month).split(" ")
        parts.append(_text(centre, base + 20, name, anchor="middle"))
        parts.append(_text(centre, base + 38, year, anchor="middle"))
    parts.append("</svg>")
    return "\n".join(parts)


def _open(prefix: str, height: float) -> str:
    return (
        f'<svg xmlns="{SVG_NS}" role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
        f'width="{WIDTH}" height="{_n(height)}" viewBox="0 0 {WIDTH} {_n(height)}" {FONT}>'
    )


def _title(prefix: str, title: str, desc: str) -> str:
    return (
        f'<title id="{prefix}-title">{escape(title)}</title>\n'
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>'
    )


def _legend(x: float) -> list[str]:
    parts = []
    for _, label, fill in _SERIES:
        parts.append(_rect(x, 12, 14, 14, fill))
        parts.append(_text(x + 20, 24, label))
        x += 40 + 8 * len(label)
    return parts


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    width = "2" if colour == INK else "1"
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{colour}" stroke-width="{width}"/>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, *, stroke: bool = True) -> str:
    outline = f' stroke="{INK}"' if stroke else ""
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"{outline}/>'
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{INK}"{weight}>'
        f"{escape(text)}</text>"
    )


def _pct_label(agency: AgencyFigures) -> str:
    f = agency.total
    decided = f.met_on_time + f.met_late + f.open_overdue
    if f.compliance_pct is None:
        return "no clocks decided"
    return f"{f.compliance_pct:.1f}% ({f.met_on_time} of {decided})"


def _compliance_desc(agencies: Sequence[AgencyFigures]) -> str:
    if not agencies:
        return "No clocks started in this period."
    rows = (f"{agency_name(a.agency)}: {_pct_label(a)}" for a in agencies)
    return "Clocks met on time as a share of clocks decided. " + "; ".join(rows) + "."


def _trend_desc(trend: Sequence[MonthFigures]) -> str:
    rows = (
        f"{month_name(m.month)}: {m.opened} started, {m.met_on_time} met on time, "
        f"{m.met_late} met late, {m.open_overdue} overdue"
        for m in trend
    )
    return "By month the clocks started. " + "; ".join(rows) + "."


def _tick_step(largest: int) -> int:
    """A round step so that four steps reach at least ``largest``."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000):
        if step * 4 >= largest:
            return step
    return -(-largest // 4)


def _n(value: float) -> str:
    return f"{value:.1f}"
