"""`gateway demo` does what it says: played in-process (300 pupils, the scripted fortnight)
under Lincolnshire's pack and Worcestershire's, it is checked where its effects landed: the
store, the Mosaic and NHS simulators, the board's report, the lines it printed."""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from rich.console import Console

from gateway.demo import script
from gateway.demo.runner import DemoOptions, DemoRun, running_demo
from gateway.reports.sla_figures import case_pseudonym
from gateway.store.schema import attendance_feeds, cases, clocks, outbox

PUPILS = 300
DAYS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Played:
    run: DemoRun
    printed: str


def play(policy: str, folder: pathlib.Path) -> Iterator[Played]:
    out = io.StringIO()
    options = DemoOptions(
        policy=policy,
        pupils=PUPILS,
        days=DAYS,
        port=free_port(),
        database=folder / f"demo-{policy}.db",
    )
    with running_demo(options, Console(file=out, width=120, color_system=None)) as run:
        yield Played(run, out.getvalue())


@pytest.fixture(scope="module")
def lincolnshire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    yield from play("lincolnshire", tmp_path_factory.mktemp("lincolnshire"))


@pytest.fixture(scope="module")
def worcestershire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    yield from play("worcestershire", tmp_path_factory.mktemp("worcestershire"))


def rows(run: DemoRun, query: Any) -> list[Any]:
    with run.store.unit_of_work(read_only=True) as uow:
        return list(uow.connection.execute(query))


def visitor_token(played: Played) -> str:
    [export] = [line for line in played.run.where_to_look if line.startswith("export ")]
    match = re.search(r"\bTOKEN=(\S+)", export)
    assert match is not None, export
    return match.group(1)


def test_casenotes_crossed_to_mosaic_one_per_delivered_outbox_row(lincolnshire: Played) -> None:
    run = lincolnshire.run
    delivered = rows(
        run,
        sa.select(outbox.c.idempotency_key).where(
            outbox.c.destination == "mosaic", outbox.c.status == "delivered"
        ),
    )
    notes = run.mosaic.notes
    assert len(notes) > 100
    assert len(notes) == len(delivered)
    assert {n.source_reference for n in notes} == {r.idempotency_key for r in delivered}
    # Every pupil but E is a Mosaic person. E's notes were parked until the administrator
    # linked E to the record social care opened, then followed, in order: none is left.
    [e_case] = rows(run, sa.select(cases.c.child_id).where(cases.c.id == run.case_ids["E"]))
    waiting = rows(
        run,
        sa.select(outbox.c.status).where(
            outbox.c.child_id == e_case.child_id, outbox.c.destination == "mosaic"
        ),
    )
    assert waiting and {r.status for r in waiting} == {"delivered"}
    e_person = script.mosaic_record_of_e(run.cast["E"])
    assert sum(1 for n in notes if n.person_id == e_person) == len(waiting)


def test_advice_bundles_crossed_to_the_nhs_team(lincolnshire: Played) -> None:
    run = lincolnshire.run
    bundles = run.nhs.received
    assert len(bundles) == 3  # health's requests for A, B and C
    for bundle in bundles:
        assert bundle["type"] == "message"
        header = bundle["entry"][0]["resource"]
        assert header["resourceType"] == "MessageHeader"
    patients = {
        identifier["value"]
        for bundle in bundles
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Patient"
        for identifier in entry["resource"]["identifier"]
    }
    assert {run.cast[k].nhs_number for k in ("A", "B", "C")} <= patients


def test_health_advice_met_on_time_met_late_and_breached_as_scripted(
    lincolnshire: Played,
) -> None:
    run = lincolnshire.run
    health = {
        row.case_id: row
        for row in rows(
            run,
            sa.select(clocks).where(clocks.c.agency == "health", clocks.c.kind.like("%advice%")),
        )
    }
    on_time, late, never = (health[run.case_ids[k]] for k in ("A", "B", "C"))
    assert on_time.state == "met" and on_time.met_at <= on_time.due_at
    assert on_time.breach_sent_at is None
    assert late.state == "met" and late.met_at > late.due_at
    assert late.breach_sent_at is not None  # told as breached before it was met
    assert never.state == "running" and never.met_at is None
    assert never.breach_sent_at is not None
    assert never.due_at < run.clock.now()


def test_the_board_report_shows_them(lincolnshire: Played) -> None:
    run = lincolnshire.run
    token = visitor_token(lincolnshire)
    answer = httpx.get(
        f"{run.base_url}/api/v1/reports/sla",
        params={"from": "2025-12-01", "to": "2026-01-23", "format": "json"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    [health] = [a for a in report["agencies"] if a["agency"] == "health"]
    total = health["total"]
    assert (total["met_on_time"], total["met_late"], total["open_overdue"]) == (1, 1, 1)
    breaches = {b["case_ref"]: b for b in report["breaches"] if b["agency"] == "health"}
    assert breaches[case_pseudonym(run.case_ids["B"])]["met"] is not None
    assert breaches[case_pseudonym(run.case_ids["C"])]["met"] is None
    assert case_pseudonym(run.case_ids["A"]) not in breaches
    # Lincolnshire's own promises: D's acknowledgement was late, G's sixth day was kept.
    kinds = {k["kind"]: k["figures"] for a in report["agencies"] for k in a["kinds"]}
    assert kinds["lincs.s19.acknowledge"]["met_late"] == 1
    assert kinds["lincs.exclusion.sixth_day"]["met_on_time"] == 1
    assert kinds["lincs.exclusion.notice"]["met_late"] == 1  # H's suspension, told late


def test_lead_teams_differ_between_packs_for_the_same_children(
    lincolnshire: Played, worcestershire: Played
) -> None:
    lincs, worcs = lincolnshire.run.leads, worcestershire.run.leads
    assert lincs.keys() == worcs.keys() == {r.key for r in script.ROLES}
    assert (lincs["I"].lead_team, lincs["I"].rule_id) == ("EWE", "lincs.otherwise.ewe")
    assert (worcs["I"].lead_team, worcs["I"].rule_id) == ("CCAS", "worcs.request.panel")
    assert (lincs["F"].lead_team, worcs["F"].lead_team) == ("SEND", "SEND")
    assert (lincs["G"].lead_team, worcs["G"].lead_team) == ("PRT", "CCAS")
    # D's sixteen days of illness open a case in Lincolnshire only (its concern route).
    assert (lincs["D"].lead_team, lincs["D"].rule_id) == ("PRT", "lincs.concern.medical")
    assert worcs["D"].lead_team is None
    differing = [k for k in lincs if lincs[k].lead_team != worcs[k].lead_team]
    assert len(differing) >= 5, differing
    # The same children: the synthetic authority does not depend on the pack.
    assert [p.upn for p in lincolnshire.run.authority.pupils] == [
        p.upn for p in worcestershire.run.authority.pupils
    ]
    for played, team in ((lincolnshire, "EWE"), (worcestershire, "CCAS")):
        assert re.search(rf"I: parent's request.*{team}", played.printed, re.DOTALL)


def test_no_server_errors_and_every_step_answered_as_expected(
    lincolnshire: Played, worcestershire: Played
) -> None:
    for played in (lincolnshire, worcestershire):
        exchanges = played.run.ledger.exchanges
        assert len(exchanges) > 100
        assert played.run.ledger.server_errors() == []
        assert all(e.status < 400 or e.status == 404 for e in exchanges)


def test_each_day_is_printed_with_what_landed(lincolnshire: Played) -> None:
    run = lincolnshire.run
    fortnight = [label for label, _ in run.days if not label.endswith("2025")]
    assert len(fortnight) == DAYS
    for label, _ in run.days:
        assert label in lincolnshire.printed
    schools = len(run.authority.registered_schools())
    [(feeds, records)] = rows(
        run, sa.select(sa.func.count(), sa.func.sum(attendance_feeds.c.records_accepted))
    )
    assert feeds == DAYS * schools == sum(day.feeds for _, day in run.days)
    assert records == sum(day.records for _, day in run.days)
    first = dict(run.days)["Mon 12 Jan"]
    assert first.records > PUPILS * 70  # the year to date, sent when the MIS connected
    assert dict(run.days)["Tue 13 Jan"].records == PUPILS
    assert run.total.casenotes_in_mosaic == len(run.mosaic.notes)
    assert run.total.clocks_breached >= 3  # B's and C's health advice, D's acknowledgement


def test_nothing_printed_names_a_child(lincolnshire: Played) -> None:
    printed = lincolnshire.printed
    for pupil in lincolnshire.run.authority.pupils:
        assert pupil.upn not in printed
        assert pupil.nhs_number not in printed
        assert f"{pupil.given} {pupil.family}" not in printed


def test_the_printed_lines_work(lincolnshire: Played, tmp_path: pathlib.Path) -> None:
    lines = lincolnshire.run.where_to_look
    assert all(line in lincolnshire.printed for line in lines)
    [export] = [line for line in lines if line.startswith("export ")]
    commands = [line for line in lines if line.startswith("curl ")]
    assert len(commands) >= 9
    token = visitor_token(lincolnshire)
    # Every gateway URL printed answers 200 to the printed token (the NHS team's its own).
    for command in commands:
        words = shlex.split(command)
        url = next(w for w in words if w.startswith(("$GW", "http")))
        if not url.startswith("$GW"):
            continue
        who = "$NHS_TOKEN" if "$NHS_TOKEN" in command else "$TOKEN"
        env = dict(re.findall(r"(\w+)=(\S+)", export))
        resolved = url.replace("$GW", env["GW"])
        answer = httpx.get(resolved, headers={"Authorization": f"Bearer {env[who[1:]]}"})
        assert answer.status_code == 200, (command, answer.text[:300])
        assert env["TOKEN"] == token
    # And run as printed, in a shell, they give what they say.
    for command in commands:
        done = subprocess.run(
            ["bash", "-c", f"set -e\n{export}\n{command}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ},
        )
        assert done.returncode == 0, (command, done.stderr)
        if "-o sla-report.html" in command:
            html = (tmp_path / "sla-report.html").read_text()
            assert "<html" in html and "Health advice returned within 6 weeks" in html
        elif "text/xml" in command:
            assert "GetCasenoteByReferenceResponse" in done.stdout
            assert "<tns:casenoteId>" in done.stdout or "casenoteId>" in done.stdout
        else:
            answer = json.loads(done.stdout)
            assert answer, command
            if "/timeline" in command:
                summaries = [e["summary"] for e in answer]
                assert "Clock met: Health advice returned within 6 weeks of the request" in (
                    summaries
                )
            if "destination=nhs" in command:
                # The advice requests went; a clock's escalation has no FHIR form of its own
                # and is settled as discarded with that reason, never shown as delivered.
                statuses = {(d["kind"], d["status"]) for d in answer["items"]}
                assert ("advice.health_requested", "delivered") in statuses
                assert {s for k, s in statuses if k == "advice.health_requested"} == {"delivered"}
                for d in answer["items"]:
                    if d["status"] != "delivered":
                        assert d["status"] == "discarded"
                        assert "no FHIR message of its own" in d["last_error"]


def test_the_command_runs_from_the_command_line(tmp_path: pathlib.Path) -> None:
    """`gateway demo` as a newcomer types it: a fresh store under ./var, the day lines, the
    lead-team table and where to look, then exits as asked."""
    port = free_port()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "demo",
            "--policy",
            "essex",
            "--pupils",
            "120",
            "--days",
            "3",
            "--port",
            str(port),
            "--exit-when-done",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Essex County Council" in done.stdout
    day_lines = re.findall(r"^(\w{3} \d+ Jan) ", done.stdout, re.MULTILINE)
    assert day_lines == ["Mon 12 Jan", "Tue 13 Jan", "Wed 14 Jan"]  # three days, as asked
    assert "Where to look" in done.stdout
    assert (tmp_path / "var" / "demo-essex.db").exists()
    log = (tmp_path / "var" / "demo-essex.log").read_text()
    assert '"casenote stored"' in log  # the gateway's logs went to the file, not the console
    assert '"level"' not in done.stdout
    # and carry no child's UPN (LA 990) or NHS number (the 999 range)
    assert not re.search(r"[A-Z]990\d{9}|\b999\d{7}\b", log)


def test_an_unknown_policy_is_refused_by_name(tmp_path: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--policy", "atlantis", "--exit-when-done"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "atlantis" in done.stderr


def test_without_exit_when_done_it_keeps_serving_until_interrupted(tmp_path: pathlib.Path) -> None:
    port = free_port()
    command = ["demo", "--pupils", "80", "--days", "1", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", *command],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "Still serving" in line:
                break
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready"}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=2)
