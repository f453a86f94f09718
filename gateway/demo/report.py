"""What the demo prints: a line a day, the lead teams the pack chose, and where to look next.

The day line counts what landed (gateway/demo/tally.py), so a newcomer sees the gateway's
work, not the script's intentions. Nothing printed names a child: the cast are letters, the
lead-team table describes each role, and the tokens printed are the demo's own clients.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from gateway.demo.tally import Tally

HEADER = (
    f"{'day':<17}{'feeds':>6}{'records':>10}{'concerns':>9}{'cases':>6}{'decided':>8}"
    f"{'advice asked/answered':>22}{'Mosaic notes':>13}{'clocks met (late)':>18}{'breached':>9}"
)


def day_line(label: str, day: Tally, total: Tally) -> str:
    """One day's counts: the day's own, except the casenotes Mosaic holds (a running total)."""
    records = f"{day.records:,}"
    met = f"{day.clocks_met} ({day.clocks_met_late})"
    advice = f"{day.advice_asked}/{day.advice_answered}"
    return (
        f"{label:<17}{day.feeds:>6}{records:>10}{day.concerns:>9}{day.cases:>6}"
        f"{day.decisions:>8}{advice:>22}{total.casenotes_in_mosaic:>13}{met:>18}"
        f"{day.clocks_breached:>9}"
    )


def day_label(on: dt.date, prologue: bool) -> str:
    return f"{on:%a %-d %b %Y}" if prologue else f"{on:%a %-d %b}"


def print_day(console: Console, label: str, day: Tally, total: Tally, notes: Sequence[str]) -> None:
    console.print(day_line(label, day, total), highlight=False, markup=False, soft_wrap=True)
    for note in notes:
        console.print(f"    [dim]{note}[/dim]", highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class Lead:
    label: str
    lead_team: str | None
    rule_id: str | None
    status: str | None


def print_leads(console: Console, authority: str, leads: Mapping[str, Lead]) -> None:
    table = Table(
        title=f"Lead teams {authority} chose for the scripted children", title_justify="left"
    )
    table.add_column("child", min_width=22)
    table.add_column("lead team", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("case status")
    for key, lead in leads.items():
        table.add_row(
            f"{key}: {lead.label}",
            lead.lead_team or "-",
            lead.rule_id or "(no case: the pack opens none)",
            (lead.status or "-").replace("_", " "),
        )
    console.print(table)


@dataclass(frozen=True)
class Sights:
    """What the demo points at when it is done."""

    base_url: str
    token: str  # the visitor's: cases:read, reports:read, admin
    nhs_token: str
    ods: str
    case_id: str  # a case with a full story (an assessment answered on time)
    report_from: dt.date
    report_to: dt.date
    mosaic_url: str
    mosaic_envelope: str  # a GetCasenoteByReference request for one stored note
    casenotes: int


def where_to_look(sights: Sights) -> list[str]:
    """Ready-to-run shell lines: the first exports the variables the others use."""
    period = f"from={sights.report_from}&to={sights.report_to}"
    auth = '-H "Authorization: Bearer $TOKEN"'
    return [
        f"export GW={sights.base_url} TOKEN={sights.token} NHS_TOKEN={sights.nhs_token}",
        "# the cases, newest first",
        f'curl -s {auth} "$GW/api/v1/cases?limit=20"',
        "# one child's case, from referral to health advice met on time",
        f'curl -s {auth} "$GW/api/v1/cases/{sights.case_id}/timeline"',
        "# the outbox: what went to Mosaic and to the NHS team",
        f'curl -s {auth} "$GW/api/v1/admin/deliveries?destination=mosaic&limit=20"',
        f'curl -s {auth} "$GW/api/v1/admin/deliveries?destination=nhs"',
        "# statutory clocks, and the board's SLA report (JSON, and HTML to open in a browser)",
        f'curl -s {auth} "$GW/api/v1/sla/clocks?agency=health"',
        f'curl -s {auth} "$GW/api/v1/reports/sla?{period}&format=json"',
        f'curl -s {auth} "$GW/api/v1/reports/sla?{period}&format=html" -o sla-report.html',
        "# the NHS team's view through the FHIR facade",
        f'curl -s -H "Authorization: Bearer $NHS_TOKEN" '
        f'"$GW/fhir/R4/Task?owner=Organization/{sights.ods}"',
        f"# the Mosaic simulator holds {sights.casenotes} casenotes; one, read back over SOAP:",
        f"curl -s -H 'content-type: text/xml; charset=utf-8' "
        f"--data {shlex.quote(sights.mosaic_envelope)} {sights.mosaic_url}",
    ]


def print_where_to_look(console: Console, lines: Sequence[str]) -> None:
    console.print()
    console.print("[bold]Where to look[/bold] (paste into a shell):")
    for line in lines:
        style = "dim" if line.startswith("#") else None
        console.print(f"  {line}", style=style, highlight=False, markup=False, soft_wrap=True)


__all__ = [
    "HEADER",
    "Lead",
    "Sights",
    "day_label",
    "day_line",
    "print_day",
    "print_leads",
    "print_where_to_look",
    "where_to_look",
]
