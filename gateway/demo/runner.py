"""``gateway demo``: the whole gateway at work on a synthetic authority, in one process.

It serves the real application (``create_app``) on 127.0.0.1 from a fresh SQLite file, with the
loopback Mosaic and NHS services the integration tests use (``simulators/``) configured as its
destinations, so casenotes and advice Bundles cross real HTTP. Then it plays the script
(gateway/demo/script.py) through the public API with one least-privilege client per actor,
and between the script's steps runs the gateway's own machinery as ``gateway worker`` would:
the attendance applier, the delivery worker, the clock escalations. Only the clock is
simulated (gateway/demo/clock.py). When the script is done it prints where to look and keeps
serving, with the worker running, until interrupted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import IO, Any
from xml.sax.saxutils import escape

import uvicorn
from rich.console import Console

from gateway.app import create_app
from gateway.delivery.setup import build_worker
from gateway.delivery.worker import Worker
from gateway.demo import report, script
from gateway.demo.actors import (
    Administrator,
    Board,
    Ledger,
    NhsTeam,
    Officer,
    Portal,
    SchoolMis,
    StepRefused,
)
from gateway.demo.clock import DemoClock, in_england
from gateway.demo.synthetic import Authority, Pupil, build_authority
from gateway.demo.tally import Tally, tally
from gateway.intake.feed_applier import FeedApplier, apply_queued
from gateway.logs import configure_logging
from gateway.model.client import Scope
from gateway.rules.pack import PolicyPack, load_pack
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.sla.escalation import escalate
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade
from simulators import mosaic as mosaic_service
from simulators.mosaic import MosaicSimulator, running_mosaic
from simulators.nhs import NhsTeamSimulator, running_nhs_team

HOST = "127.0.0.1"
# The gateway's own machinery, at the end of each day played: what `gateway worker` does.
APPLY_AT = dt.time(16, 45)
DELIVER_AT = dt.time(17, 0)
ESCALATE_AT = dt.time(17, 30)


class DemoError(RuntimeError):
    """The demo cannot start or could not finish; the message says why."""


@dataclass(frozen=True)
class DemoOptions:
    policy: str = "lincolnshire"
    pupils: int = 3000
    port: int = 8000
    days: int = 10
    # Recreated on every run; ./var/demo-<policy>.db when not given.
    database: pathlib.Path | None = None
    # The gateway's structured logs go here (they would drown the console).
    log_file: pathlib.Path | None = None
    seed: int = script.SEED

    def database_path(self) -> pathlib.Path:
        return self.database or pathlib.Path("var") / f"demo-{self.policy}.db"


@dataclass
class DemoRun:
    """A played demo, still serving: what a caller (the CLI, a test) can look at."""

    options: DemoOptions
    base_url: str
    store: Store
    clock: DemoClock
    pack: PolicyPack
    authority: Authority
    mosaic: MosaicSimulator
    nhs: NhsTeamSimulator
    ledger: Ledger
    worker: Worker
    cast: dict[str, Pupil]
    case_ids: dict[str, str]
    leads: dict[str, report.Lead]
    days: list[tuple[str, Tally]] = field(default_factory=list)
    where_to_look: list[str] = field(default_factory=list)
    total: Tally = field(default_factory=Tally)
    seconds: float = 0.0


@contextmanager
def running_demo(options: DemoOptions, console: Console) -> Iterator[DemoRun]:
    """Play the demo and yield it while it keeps serving; everything stops on the way out."""
    started = time.monotonic()
    try:
        pack = load_pack(options.policy)
    except Exception as exc:  # PackError, or an unknown name
        raise DemoError(str(exc)) from exc
    if options.days < 1:
        raise DemoError("--days must be at least 1")
    _port_free(options.port)
    base_url = f"http://{HOST}:{options.port}"
    with ExitStack() as stack:
        if options.log_file is not None:
            options.log_file.parent.mkdir(parents=True, exist_ok=True)
            # Back to stderr once the file is closed, for whatever logs after the demo.
            stack.callback(configure_logging, "WARNING", True)
            log: IO[str] = stack.enter_context(options.log_file.open("w", encoding="utf-8"))
            configure_logging("INFO", True, stream=log)
        database = options.database_path()
        url = _fresh_database(database)
        clock = DemoClock(script.OPENING)
        store = Store(make_engine(url), clock, pack)
        stack.callback(store.engine.dispose)
        played = script.fortnight(options.days)
        try:
            authority = build_authority(options.pupils, options.seed, played[-1])
            cast = script.choose_cast(authority)
        except ValueError as exc:
            raise DemoError(str(exc)) from exc
        mosaic = stack.enter_context(running_mosaic(clock=clock.now))
        nhs = stack.enter_context(running_nhs_team())
        unknown = {cast[key].upn for key in script.UNKNOWN_TO_MOSAIC}
        for pupil in authority.pupils:
            if pupil.upn not in unknown:
                mosaic.add_person(pupil.mosaic_person_id, pupil.upn, pupil.nhs_number)
        settings = Settings(
            database_url=url,
            policy=options.policy,
            host=HOST,
            port=options.port,
            mosaic_url=mosaic.url,
            mosaic_username=mosaic_service.DEFAULT_USERNAME,
            mosaic_password=mosaic_service.DEFAULT_PASSWORD,
            nhs_fhir_url=nhs.base_url,
            public_base_url=base_url,
            delivery_inline_wait_seconds=0.05,
            # Providers and schools have no adapter: the demo logs their notices.
            log_unconfigured_destinations=True,
        )
        stack.enter_context(_serving(settings, store))
        ledger = Ledger()
        ods = script.team_ods(pack)
        actors = _actors(store, authority, base_url, ledger, ods)
        stack.callback(actors.close)
        worker = build_worker(settings, store)
        notes: list[str] = []
        play = script.Play(
            authority=authority,
            cast=cast,
            pack=pack,
            clock=clock,
            admin=actors.admin,
            officer=actors.officer,
            portal=actors.portal,
            nhs=actors.nhs,
            board=actors.board,
            schools=actors.schools,
            mosaic=mosaic,
            say=notes.append,
        )
        run = DemoRun(
            options=options,
            base_url=base_url,
            store=store,
            clock=clock,
            pack=pack,
            authority=authority,
            mosaic=mosaic,
            nhs=nhs,
            ledger=ledger,
            worker=worker,
            cast=cast,
            case_ids=play.case_ids,
            leads={},
        )
        _introduce(console, options, pack, authority, base_url, ods)
        _play(run, play, console, notes)
        run.leads = _leads(play)
        report.print_leads(console, pack.authority.name, run.leads)
        visitor = _token(store, "demo-visitor", ("cases:read", "reports:read", "admin"))
        run.where_to_look = report.where_to_look(_sights(run, play, visitor, actors.nhs))
        report.print_where_to_look(console, run.where_to_look)
        if errors := ledger.server_errors():
            console.print(f"[red]{len(errors)} answers were server errors (5xx)[/red]")
        run.seconds = time.monotonic() - started
        console.print(
            f"\nPlayed in {run.seconds:.0f} s. The store is {database}; the gateway's logs: "
            f"{options.log_file or 'not kept'}.",
            soft_wrap=True,
        )
        clock.run_on()
        stack.enter_context(_background(store, pack, worker))
        yield run


def _port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise DemoError(f"port {port} is in use: give another with --port") from exc


def _fresh_database(path: pathlib.Path) -> str:
    """A new SQLite file, migrated: the embedded default `make run` uses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        pathlib.Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@contextmanager
def _serving(settings: Settings, store: Store) -> Iterator[None]:
    """The application under uvicorn on a thread of this process, as `gateway serve` runs it
    (access logs are the gateway's own)."""
    app = create_app(settings, store, logging=False)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="demo-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DemoError(f"the gateway did not start on port {settings.port}")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _token(store: Store, name: str, scopes: tuple[Scope, ...], **bindings: Any) -> str:
    _, token = create_client(store, name, scopes, **bindings)
    return token


@dataclass(frozen=True)
class Actors:
    admin: Administrator
    officer: Officer
    portal: Portal
    nhs: NhsTeam
    board: Board
    schools: dict[str, SchoolMis]

    def close(self) -> None:
        for actor in (self.admin, self.officer, self.portal, self.nhs, self.board):
            actor.close()
        for mis in self.schools.values():
            mis.close()


def _actors(store: Store, authority: Authority, base_url: str, ledger: Ledger, ods: str) -> Actors:
    """One client per actor, each with the least its job needs (README "API": scopes)."""

    def token(name: str, *scopes: Scope, **bindings: Any) -> str:
        return _token(store, f"demo-{name}", scopes, **bindings)

    schools = {
        school.urn: SchoolMis(
            f"mis-{school.urn}",
            base_url,
            token(f"mis-{school.urn}", "attendance:write", schools=(school.urn,)),
            ledger,
            school.urn,
        )
        for school in authority.registered_schools()
    }
    return Actors(
        admin=Administrator("administrator", base_url, token("administrator", "admin"), ledger),
        officer=Officer(
            "s19-officer", base_url, token("s19-officer", "cases:read", "cases:write"), ledger
        ),
        portal=Portal("portal", base_url, token("portal", "portal:write"), ledger),
        nhs=NhsTeam(
            "nhs-team", base_url, token("nhs-team", "nhs", organisations=(ods,)), ledger, ods
        ),
        board=Board("board", base_url, token("board", "reports:read"), ledger),
        schools=schools,
    )


def _introduce(
    console: Console,
    options: DemoOptions,
    pack: PolicyPack,
    authority: Authority,
    base_url: str,
    ods: str,
) -> None:
    schools = authority.registered_schools()
    console.print(
        f"[bold]Section 19 gateway demo[/bold]: {authority.la_name} (synthetic, LA "
        f"{authority.la_code}), {len(authority.pupils):,} pupils in {len(schools)} schools, "
        f"under [bold]{pack.authority.name}[/bold]'s policy pack"
    )
    console.print(
        f"Serving {base_url}; Mosaic and the NHS team (ODS {ods}) are loopback services. "
        "Only the clock is simulated: it starts on Monday 1 December 2025.\n",
        highlight=False,
    )
    console.print(report.HEADER, style="bold", highlight=False, soft_wrap=True)


def _play(run: DemoRun, play: script.Play, console: Console, notes: list[str]) -> None:
    """Each day: its scripted steps and the gateway's machinery (the applier, the worker, the
    escalations), in the order of their times, then the day's line."""
    steps = [*script.script(run.options.days), *_machinery(run)]
    steps.sort(key=lambda s: (s.on, s.at))
    before = tally(run.store, run.mosaic, run.nhs)
    for on, todays in itertools.groupby(steps, key=lambda s: s.on):
        for step in todays:
            run.clock.set(in_england(on, step.at))
            try:
                step.run(play)
            except StepRefused as exc:
                raise DemoError(f"{on:%a %-d %b %Y} {step.at:%H:%M}, {step.what}: {exc}") from exc
        after = tally(run.store, run.mosaic, run.nhs)
        label = report.day_label(on, prologue=on < script.FIRST_DAY)
        run.days.append((label, after.since(before)))
        report.print_day(console, label, after.since(before), after, notes)
        notes.clear()
        before = after
    run.total = before


def _machinery(run: DemoRun) -> list[script.Step]:
    """What `gateway worker` does, at the end of every day played."""

    def apply(_: script.Play) -> None:
        while apply_queued(run.store, run.pack):
            pass

    def deliver(_: script.Play) -> None:
        run.worker.drain()

    def escalations(_: script.Play) -> None:
        escalate(run.store)
        run.worker.drain()

    days = sorted({s.on for s in script.script(run.options.days)})
    return [
        step
        for on in days
        for step in (
            script.Step(on, APPLY_AT, "attendance applier", apply),
            script.Step(on, DELIVER_AT, "delivery worker", deliver),
            script.Step(on, ESCALATE_AT, "clock escalations", escalations),
        )
    ]


def _leads(play: script.Play) -> dict[str, report.Lead]:
    leads: dict[str, report.Lead] = {}
    for role in script.ROLES:
        case_id = play.case_id(role.key)
        case = play.officer.case(case_id) if case_id is not None else None
        routing = (case or {}).get("routing") or {}
        leads[role.key] = report.Lead(
            label=role.label,
            lead_team=case["lead_team"] if case else None,
            rule_id=routing.get("rule_id"),
            status=case["status"] if case else None,
        )
    return leads


def _sights(run: DemoRun, play: script.Play, token: str, nhs: NhsTeam) -> report.Sights:
    notes = run.mosaic.notes
    reference = notes[0].source_reference if notes else "none"
    return report.Sights(
        base_url=run.base_url,
        token=token,
        nhs_token=nhs.token,
        ods=nhs.ods,
        case_id=play.case_ids["A"],
        report_from=script.OPENING.date(),
        report_to=script.fortnight(run.options.days)[-1],
        mosaic_url=run.mosaic.url,
        mosaic_envelope=_casenote_lookup(reference),
        casenotes=len(notes),
    )


def _casenote_lookup(reference: str) -> str:
    """A GetCasenoteByReference request as contracts/mosaic/casenote.wsdl defines it, with the
    loopback service's credentials (a stand-in's, never a real system's)."""
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:tns="{mosaic_service.TNS}" xmlns:wsse="{mosaic_service.WSSE_NS}">'
        "<soap:Header><wsse:Security><wsse:UsernameToken>"
        f"<wsse:Username>{mosaic_service.DEFAULT_USERNAME}</wsse:Username>"
        f'<wsse:Password Type="{mosaic_service.PASSWORD_TEXT}">'
        f"{mosaic_service.DEFAULT_PASSWORD}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></soap:Header>"
        "<soap:Body><tns:GetCasenoteByReferenceRequest>"
        f"<tns:sourceReference>{escape(reference)}</tns:sourceReference>"
        "</tns:GetCasenoteByReferenceRequest></soap:Body></soap:Envelope>"
    )


@contextmanager
def _background(store: Store, pack: PolicyPack, worker: Worker) -> Iterator[None]:
    """After the script, the worker keeps going as `serve --with-worker` runs it, so what a
    visitor sends is applied and delivered."""
    stop = threading.Event()
    applier = FeedApplier(store, pack, 0.5)

    def escalations() -> None:
        while not stop.wait(60):
            escalate(store)

    threads = [
        threading.Thread(target=worker.run, args=(stop, 0.5), name="demo-delivery", daemon=True),
        threading.Thread(target=applier.run, args=(stop,), name="demo-applier", daemon=True),
        threading.Thread(target=escalations, name="demo-escalation", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def serve_until_interrupted(console: Console) -> None:
    """Serve until Ctrl-C (SIGINT) or SIGTERM. The handlers are set here rather than relying
    on KeyboardInterrupt, which a process started in the background never gets."""
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    console.print("\nStill serving; Ctrl-C to stop.")
    try:
        stop.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    console.print("stopping")


def run(options: DemoOptions, *, exit_when_done: bool, console: Console | None = None) -> DemoRun:
    """The `gateway demo` command: play, point, and serve until interrupted (or not)."""
    console = console or Console()
    with running_demo(options, console) as played:
        if not exit_when_done:
            serve_until_interrupted(console)
    return played


__all__ = [
    "DemoError",
    "DemoOptions",
    "DemoRun",
    "run",
    "running_demo",
    "serve_until_interrupted",
]
