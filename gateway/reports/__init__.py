"""Reports for partnership boards: SLA figures on statutory clocks, and their renderings."""

from gateway.reports.sla_figures import (
    AgencyFigures,
    Breach,
    Figures,
    KindFigures,
    MonthFigures,
    SlaReport,
    case_pseudonym,
    sla_figures,
)
from gateway.reports.sla_render import render_csv, render_html, render_json

__all__ = [
    "AgencyFigures",
    "Breach",
    "Figures",
    "KindFigures",
    "MonthFigures",
    "SlaReport",
    "case_pseudonym",
    "render_csv",
    "render_html",
    "render_json",
    "sla_figures",
]
