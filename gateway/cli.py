"""``gateway`` command line: serve, worker, migrate, clients, deliveries, openapi.

Every command reads the same typed settings, so ``serve``, ``worker`` and ``migrate`` always
agree on the database.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import pathlib
import shutil
import signal
import sys
import tempfile
import threading
import time
import typing
from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.console import Console
from rich.table import Table

from gateway.errors import GatewayError
from gateway.logs import configure_logging
from gateway.model.delivery import DeliveryStatus
from gateway.rules.pack import PackError
from gateway.settings import Settings, SettingsError, load_settings
from gateway.store import Store, make_engine
from gateway.store.archive import ArchiveRules
from gateway.store.migrate import upgrade

if TYPE_CHECKING:
    from gateway.intake.feed_applier import FeedApplier

console = Console()


class Context(msgspec.Struct):
    settings: Settings

    def store(self) -> Store:
        rules = ArchiveRules.from_settings(self.settings)
        return Store(make_engine(self.settings.database_url), archive_rules=rules)


pass_context = click.make_pass_decorator(Context)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Section 19 interoperability gateway."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    configure_logging(settings.log_level, settings.log_json)
    ctx.obj = Context(settings=settings)


@main.command()
@pass_context
def migrate(ctx: Context) -> None:
    """Bring the database schema up to date."""
    upgrade(ctx.store().engine)
    click.echo("database is at the latest schema")


@main.command()
@click.option("--host", default=None, help="Interface to bind (GATEWAY_HOST).")
@click.option("--port", type=int, default=None, help="Port to bind (GATEWAY_PORT).")
@click.option(
    "--with-worker", is_flag=True, help="Also run the delivery worker and attendance applier."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="API processes sharing the port (GATEWAY_WEB_CONCURRENCY; PostgreSQL only).",
)
@pass_context
def serve(
    ctx: Context, host: str | None, port: int | None, with_worker: bool, workers: int | None
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from gateway.app import create_app
    from gateway.security.clients import LOCAL_ADMIN, bootstrap_admin

    settings = msgspec.structs.replace(
        ctx.settings,
        host=host or ctx.settings.host,
        port=port or ctx.settings.port,
        web_concurrency=workers or ctx.settings.web_concurrency,
    )
    if settings.web_concurrency > 1 and settings.is_sqlite:
        # SQLite takes one writer at a time: more processes would only queue and time out.
        raise click.ClickException("several API processes need PostgreSQL (GATEWAY_DATABASE_URL)")
    store = ctx.store()
    if settings.bootstrap_admin and (token := bootstrap_admin(store)):
        _announce_token(LOCAL_ADMIN, token)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the handler
    # it found: this one, so that the worker threads are stopped and their batch handed back
    # (below) before the process ends, instead of dying with messages claimed.
    terminated = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: terminated.set())
    scratch: str | None = None
    if with_worker:
        threads = _background_work(settings, store, stop)
    try:
        app = create_app(settings, store, logging=False)
    except PackError as exc:
        stop.set()
        raise click.ClickException(str(exc)) from exc
    try:
        # Access logs are our own (without query strings, which can carry identifiers).
        if settings.web_concurrency > 1:
            # Each process builds its own app (and pool) from the same environment, and keeps
            # its counters where every process's /metrics reads them all (a scrape reaches one
            # process at random).
            scratch = tempfile.mkdtemp(prefix="gateway-metrics-")
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", scratch)
            uvicorn.run(
                "gateway.app:app_from_environment",
                factory=True,
                workers=settings.web_concurrency,
                timeout_worker_healthcheck=settings.worker_healthcheck_seconds,
                host=settings.host,
                port=settings.port,
                access_log=False,
                log_config=None,
                timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
                **_forwarded_headers(settings),
            )
        else:
            uvicorn.run(
                app,
                host=settings.host,
                port=settings.port,
                access_log=False,
                log_config=None,
                timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
                **_forwarded_headers(settings),
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if terminated.is_set():
        # The exit status a supervisor expects from SIGTERM, now that the work is handed back.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)


def _forwarded_headers(settings: Settings) -> dict[str, Any]:
    """X-Forwarded-For and -Proto believed from GATEWAY_TRUSTED_PROXIES only. uvicorn's own
    default believes them from 127.0.0.1 (or FORWARDED_ALLOW_IPS), so a caller on the same
    host, or behind a local proxy that passes the header on, could name any address it
    liked; without trusted proxies the headers are not read at all."""
    proxies = settings.trusted_proxy_list
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


@main.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@pass_context
def worker(ctx: Context, once: bool) -> None:
    """Deliver outbox messages until stopped (SIGTERM finishes or releases the current batch)."""
    from gateway.delivery.setup import build_worker

    store = ctx.store()
    if once:
        click.echo(f"applied {_applier(ctx.settings, store).cycle()} attendance feed(s)")
        click.echo(f"delivered or settled {build_worker(ctx.settings, store).drain()} message(s)")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threads = _background_work(ctx.settings, store, stop)
    http = _worker_http(ctx.settings, store, threads)
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    if http is not None:
        http.shutdown()


def _worker_http(settings: Settings, store: Store, threads: list[threading.Thread]) -> Any:
    """The worker's probe and counters on GATEWAY_WORKER_HEALTH_PORT, when set."""
    if settings.worker_health_port is None:
        return None
    from gateway.observability.worker_http import WorkerProbe, serve_worker_http

    delivery = next(t for t in threads if t.name == "delivery")
    worker = getattr(delivery, "worker")  # noqa: B009 - set by _background_work
    probe = WorkerProbe(
        threads, lambda: worker.heartbeat, max(settings.delivery_lease_seconds, 60.0)
    )
    return serve_worker_http(settings.host, settings.worker_health_port, probe, store)


def _escalations(settings: Settings, store: Store, stop: threading.Event) -> None:
    """Clocks nearly due and breached, told once each (gateway/sla/escalation.py)."""
    import structlog

    from gateway.logs import error_fields
    from gateway.roll.off_roll import review_off_roll
    from gateway.sla.escalation import escalate

    log = structlog.get_logger("gateway.sla")
    while not stop.is_set():
        try:
            soon, breached = escalate(store, settings.clock_due_soon_working_days)
            if soon or breached:
                log.info("clock escalations", due_soon=soon, breached=breached)
            # Children off roll: the pack's thresholds in school days (001 1.4: 60 days).
            rerouted = review_off_roll(store)
            if rerouted:
                log.info("off-roll enquiries routed again", cases=rerouted)
        except Exception as exc:
            log.error("clock escalation failed", **error_fields(exc))
        stop.wait(settings.escalation_every_seconds)


def _applier(settings: Settings, store: Store) -> FeedApplier:
    """The attendance applier as the worker runs it (stalled feeds read again, then applied)."""
    from adapters.mis.readers import mis_readers
    from gateway.intake.feed_applier import FeedApplier
    from gateway.rules.pack import load_pack

    return FeedApplier(
        store,
        load_pack(settings.policy),
        settings.worker_poll_seconds,
        readers=mis_readers(),
        parse_lease_seconds=settings.feed_parse_lease_seconds,
    )


def _background_work(
    settings: Settings, store: Store, stop: threading.Event
) -> list[threading.Thread]:
    """The delivery worker and the attendance applier, each on its own thread."""
    from gateway.delivery.setup import build_worker

    delivery = build_worker(settings, store)
    applier = _applier(settings, store)
    runner = threading.Thread(
        target=delivery.run, args=(stop, settings.worker_poll_seconds), name="delivery"
    )
    runner.worker = delivery  # type: ignore[attr-defined] # read by the liveness probe
    threads = [
        runner,
        threading.Thread(target=applier.run, args=(stop,), name="attendance-applier"),
        threading.Thread(
            target=_escalations, args=(settings, store, stop), name="clock-escalation"
        ),
    ]
    for thread in threads:
        thread.daemon = True
        thread.start()
    return threads


@main.group()
def client() -> None:
    """API clients and their tokens."""


@client.command("create")
@click.option("--name", required=True, help="A name that says who the client is.")
@click.option("--scopes", required=True, help="Comma-separated, e.g. cases:read,cases:write")
@click.option("--expires-days", type=int, default=None, help="Token lifetime in days.")
@click.option("--ods", multiple=True, help="An NHS team's ODS code: it sees only its requests.")
@click.option(
    "--urn", multiple=True, help="A school's URN: it reaches only that school's children."
)
@click.option(
    "--provider",
    multiple=True,
    help="A provider's URN or UKPRN: it reaches only the children placed with it.",
)
@pass_context
def client_create(
    ctx: Context,
    name: str,
    scopes: str,
    expires_days: int | None,
    ods: tuple[str, ...],
    urn: tuple[str, ...],
    provider: tuple[str, ...],
) -> None:
    """Create a client and print its bearer token (shown this once only)."""
    from gateway.security.clients import create_client, parse_scopes

    store = ctx.store()
    expires = (
        store.clock.now() + dt.timedelta(days=expires_days) if expires_days is not None else None
    )
    created, token = _domain(
        lambda: create_client(
            store,
            name,
            parse_scopes(scopes),
            expires,
            organisations=ods,
            schools=urn,
            providers=provider,
        )
    )
    _announce_token(created.name, token)


@client.command("ensure")
@click.option("--name", required=True, help="A name that says who the client is.")
@click.option("--scopes", required=True, help="Comma-separated, e.g. nhs or portal:write")
@click.option(
    "--token-env",
    required=True,
    help="The environment variable holding the token (from a Secret); it is never printed.",
)
@click.option("--ods", multiple=True, help="An NHS team's ODS code: it sees only its requests.")
@click.option(
    "--urn", multiple=True, help="A school's URN: it reaches only that school's children."
)
@click.option(
    "--provider",
    multiple=True,
    help="A provider's URN or UKPRN: it reaches only the children placed with it.",
)
@pass_context
def client_ensure(
    ctx: Context,
    name: str,
    scopes: str,
    token_env: str,
    ods: tuple[str, ...],
    urn: tuple[str, ...],
    provider: tuple[str, ...],
) -> None:
    """Make a client exactly as declared, with a token the deployment supplies: created,
    updated (scopes, bindings, a rotated token) or left unchanged. Safe to run on every
    deploy (the Helm chart's migration Job does). Such a token does not expire: rotate it by
    changing the Secret and deploying."""

    from gateway.security.clients import parse_scopes, provision_client

    token = os.environ.get(token_env, "").strip()
    if not token:
        raise click.ClickException(f"{token_env} is not set or empty")
    store = ctx.store()
    result = _domain(
        lambda: provision_client(
            store,
            name,
            parse_scopes(scopes),
            token,
            organisations=ods,
            schools=urn,
            providers=provider,
        )
    )
    click.echo(f"client {name}: {result}")


@client.command("prune")
@click.option(
    "--keep", "keep", multiple=True, help="A client the deployment still declares (repeat)."
)
@pass_context
def client_prune(ctx: Context, keep: tuple[str, ...]) -> None:
    """Revoke the clients `client ensure` made that the deployment no longer declares (the
    Helm chart's migration Job runs it after provisioning). Clients made by hand are kept."""
    from gateway.security.clients import prune_clients

    dropped = prune_clients(ctx.store(), keep)
    click.echo(f"revoked: {', '.join(dropped)}" if dropped else "revoked: none")


@client.command("list")
@pass_context
def client_list(ctx: Context) -> None:
    """List clients (tokens are never shown again)."""
    with ctx.store().unit_of_work() as uow:
        clients = uow.clients.all()
    table = Table("name", "scopes", "bound to", "created", "expires", "revoked")
    for c in clients:
        bound = [f"ods:{o}" for o in c.organisations] + [f"urn:{u}" for u in c.schools]
        table.add_row(
            c.name,
            " ".join(c.scopes),
            " ".join(bound + [f"provider:{p}" for p in c.providers]) or "(authority-wide)",
            _when(c.created_at),
            _when(c.expires_at),
            _when(c.revoked_at),
        )
    console.print(table)


@client.command("revoke")
@click.argument("name")
@pass_context
def client_revoke(ctx: Context, name: str) -> None:
    """Revoke a client's token at once."""
    store = ctx.store()

    def revoke() -> Any:
        with store.unit_of_work() as uow:
            return uow.clients.revoke(name, uow.now)

    _domain(revoke)
    click.echo(f"revoked {name}")


@main.group()
def deliveries() -> None:
    """Outbound deliveries: inspect and replay."""


@deliveries.command("list")
@click.option("--status", type=click.Choice(typing.get_args(DeliveryStatus)))
@click.option("--destination", default=None)
@click.option("--limit", type=int, default=50)
@pass_context
def deliveries_list(ctx: Context, status: str | None, destination: str | None, limit: int) -> None:
    from gateway.delivery.admin import list_deliveries
    from gateway.store.outbox import DeliveryFilter

    page = list_deliveries(
        ctx.store(), DeliveryFilter(status=status, destination=destination), None, limit
    )
    table = Table("id", "destination", "kind", "status", "attempts", "child", "last error")
    for d in page.items:
        table.add_row(
            d.id,
            d.destination,
            d.kind,
            d.status,
            str(d.attempts),
            d.child_id or "",
            d.last_error or "",
        )
    console.print(table)


@deliveries.command("replay")
@click.argument("delivery_ids", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Replay every dead delivery.")
@click.option(
    "--all-logged",
    is_flag=True,
    help="Replay every delivery only logged by the development stand-in.",
)
@click.option("--destination", default=None, help="With --all-*: only this destination.")
@pass_context
def deliveries_replay(
    ctx: Context,
    delivery_ids: tuple[str, ...],
    all_dead: bool,
    all_logged: bool,
    destination: str | None,
) -> None:
    """Put dead, parked or only-logged deliveries back on the queue."""
    from gateway.delivery.admin import list_deliveries, replay_delivery
    from gateway.store.outbox import DeliveryFilter

    store = ctx.store()
    ids = list(delivery_ids)
    for status in [s for s, wanted in (("dead", all_dead), ("logged", all_logged)) if wanted]:
        where = DeliveryFilter(status=status, destination=destination)
        cursor: str | None = None
        while True:
            page = list_deliveries(store, where, cursor, 500)
            ids += [d.id for d in page.items]
            if not (cursor := page.next_cursor):
                break
    if not ids:
        raise click.UsageError("name delivery ids, or use --all-dead or --all-logged")
    for delivery_id in ids:
        _domain(lambda delivery_id=delivery_id: replay_delivery(store, delivery_id))
    click.echo(f"replayed {len(ids)} deliver{'y' if len(ids) == 1 else 'ies'}")


@deliveries.command("discard")
@click.argument("delivery_id")
@click.option("--reason", required=True, help="Why it will never be sent (kept with it).")
@pass_context
def deliveries_discard(ctx: Context, delivery_id: str, reason: str) -> None:
    """Give up on a dead or parked delivery so the child's later messages can go."""
    from gateway.delivery.admin import discard_delivery

    store = ctx.store()
    _domain(lambda: discard_delivery(store, delivery_id, reason, "cli"))
    click.echo(f"discarded {delivery_id}")


@deliveries.command("link-mosaic")
@click.argument("child_id")
@click.argument("person_id")
@pass_context
def deliveries_link_mosaic(ctx: Context, child_id: str, person_id: str) -> None:
    """Say which Mosaic person a child is, and send the casenotes parked for want of it."""
    from gateway.delivery.links import link_mosaic_person

    store = ctx.store()
    released = _domain(lambda: link_mosaic_person(store, child_id, person_id))
    click.echo(f"linked; {released} parked deliver{'y' if released == 1 else 'ies'} released")


@main.group()
def policy() -> None:
    """The authorities' Section 19 policy packs."""


@policy.command("check")
@click.argument("names", nargs=-1)
def policy_check(names: tuple[str, ...]) -> None:
    """Load and check packs (all of them by default); exits non-zero naming the fault."""
    from gateway.rules.pack import available_packs, load_pack

    for name in names or available_packs():
        try:
            pack = load_pack(name)
        except PackError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"{name}: {len(pack.teams)} teams, {len(pack.panels)} panels, "
            f"{len(pack.routes)} routes, {len(pack.concern_routes)} concern routes, "
            f"{len(pack.outcomes)} outcomes"
        )


@policy.command("facts")
@click.option("--out", type=click.Path(dir_okay=False), help="write to a file (Markdown)")
def policy_facts(out: str | None) -> None:
    """Every fact the packs' rules read, the rules reading it, and the doors it comes through."""
    from gateway.rules.facts import facts_table
    from gateway.rules.pack import available_packs, load_pack

    table = facts_table([load_pack(name) for name in available_packs()])
    if out is None:
        click.echo(table, nl=False)
    else:
        pathlib.Path(out).write_text(table, "utf-8")


@main.group()
def report() -> None:
    """Reports for partnership boards."""


@report.command("sla")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default=None)
@click.option("--out", type=click.Path(dir_okay=False, path_type=pathlib.Path), required=True)
@pass_context
def report_sla(
    ctx: Context, start: dt.datetime, end: dt.datetime, fmt: str | None, out: pathlib.Path
) -> None:
    """Write the SLA report for clocks started in a period (format from --out's extension)."""
    from gateway.reports.sla_service import sla_report

    chosen = fmt or {".csv": "csv", ".json": "json"}.get(out.suffix.lower(), "html")
    body = _domain(
        lambda: sla_report(ctx.store(), start.date(), end.date(), chosen)  # type: ignore[arg-type]
    )
    out.write_bytes(body)
    click.echo(f"wrote {out} ({len(body):,} bytes)")


@main.group("import")
def import_group() -> None:
    """Load files the way their senders would push them."""


_EXTENSIONS = {".xml": "ctf", ".csv": "csv", ".json": "json"}
_CONTENT_TYPES = {"ctf": "application/xml", "csv": "text/csv", "json": "application/json"}


@import_group.command("attendance")
@click.argument(
    "path", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path), required=False
)
@click.option(
    "--bulk",
    type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path),
    default=None,
    help="A directory of feeds, one file per school (an authority's day), instead of PATH.",
)
@click.option("--school-urn", default=None, help="The school the feed is from (CTF: its header).")
@click.option("--academic-year", type=int, default=None, help="e.g. 2025 for 2025/26.")
@click.option("--format", "fmt", type=click.Choice(["ctf", "csv", "json"]), default=None)
@pass_context
def import_attendance(
    ctx: Context,
    path: pathlib.Path | None,
    bulk: pathlib.Path | None,
    school_urn: str | None,
    academic_year: int | None,
    fmt: str | None,
) -> None:
    """Take an attendance feed from a file, as POST /api/v1/attendance/feeds would (or, with
    --bulk, every feed in a directory)."""
    if (path is None) == (bulk is None):
        raise click.UsageError("give a feed file, or --bulk DIRECTORY, not both")
    if bulk is not None:
        if school_urn or fmt:
            raise click.UsageError("with --bulk each file names its school and format")
        _import_bulk(ctx, bulk, academic_year)
        return
    assert path is not None
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from adapters.mis.readers import mis_readers
    from gateway.intake.attendance_feed import FeedRejected, ingest_feed
    from gateway.model.attendance import FeedFormat
    from gateway.model.client import ALL_SCOPES, Client
    from gateway.rules.pack import load_pack

    chosen = fmt or _EXTENSIONS.get(path.suffix.lower())
    if chosen is None:
        raise click.UsageError("say --format: the file's extension does not tell")
    feed_format = msgspec.convert(chosen, FeedFormat)
    store = ctx.store()
    operator = Client(id="cli", name="cli-import", scopes=ALL_SCOPES, created_at=store.clock.now())
    with path.open("rb") as raw:
        upload = _upload_of(raw, feed_format, school_urn, academic_year)
        size = upload.size
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("reading", total=size)
            tracked = _ReadTracker(raw, lambda done: bar.update(task, completed=done))

            def storing(_: int) -> None:
                if tracked.done >= size:
                    bar.update(task, description="storing and evaluating")

            try:
                report = ingest_feed(
                    store,
                    upload,
                    tracked,  # type: ignore[arg-type]
                    mis_readers()[feed_format],
                    operator,
                    on_progress=storing,
                )
            except FeedRejected as exc:
                raise click.ClickException(f"feed {exc.feed_id} rejected: {exc}") from exc
            except GatewayError as exc:  # the operator's daily archive budget, say
                raise click.ClickException(exc.detail) from exc
            bar.update(task, completed=size, description="applying")
            if report.duplicate_of is None:
                report = _applied(store, report.id, load_pack(ctx.settings.policy))
            bar.update(task, completed=size, description="done")
    if report.duplicate_of:
        click.echo(f"already received as feed {report.duplicate_of}: nothing changed")
    click.echo(
        f"feed {report.id}: {report.records_accepted} accepted, {report.records_rejected} "
        f"rejected, {report.marks_changed} corrected, {report.concerns_raised} concerns raised"
    )
    for rejected in report.rejected[:20]:
        click.echo(f"  {rejected.locator}: {rejected.field}: {rejected.reason}")
    if report.records_rejected > 20:
        click.echo(f"  ... and {report.records_rejected - 20} more (GET the feed for all)")
    for note in report.notes:
        click.echo(f"  note: {note}")


def _upload_of(
    raw: typing.BinaryIO, feed_format: str, school_urn: str | None, academic_year: int | None
) -> Any:
    """A file as the API would describe an upload of it (digest and size read once)."""
    from gateway.intake.attendance_feed import FeedUpload, spool_digest
    from gateway.model.attendance import FeedFormat

    sha256, size = spool_digest(raw)
    return FeedUpload(
        format=msgspec.convert(feed_format, FeedFormat),
        content_type=_CONTENT_TYPES[feed_format],
        sha256=sha256,
        size=size,
        school_urn=school_urn,
        academic_year=academic_year,
    )


def _import_bulk(ctx: Context, directory: pathlib.Path, academic_year: int | None) -> None:
    """A whole authority's day: every feed in DIRECTORY (one file per school, .xml CTF, .csv
    or .json; the school from each file's content), taken and applied with one progress bar.
    A file refused whole is reported and the others go on."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from adapters.mis.readers import mis_readers
    from gateway.intake.attendance_feed import FeedRejected, ingest_feed
    from gateway.intake.feed_applier import apply_queued
    from gateway.model.attendance import FeedFormat
    from gateway.model.client import ALL_SCOPES, Client
    from gateway.rules.pack import load_pack

    files = sorted(f for f in directory.iterdir() if f.suffix.lower() in _EXTENSIONS)
    if not files:
        raise click.UsageError(f"{directory} holds no .xml, .csv or .json feed")
    store = ctx.store()
    pack = load_pack(ctx.settings.policy)
    readers = mis_readers()
    operator = Client(id="cli", name="cli-import", scopes=ALL_SCOPES, created_at=store.clock.now())
    started = time.monotonic()
    accepted = rejected = 0
    queued: list[str] = []
    refused: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("taking feeds", total=len(files) * 2)
        for path in files:
            feed_format = msgspec.convert(_EXTENSIONS[path.suffix.lower()], FeedFormat)
            with path.open("rb") as raw:
                upload = _upload_of(raw, feed_format, None, academic_year)
                try:
                    report = ingest_feed(store, upload, raw, readers[feed_format], operator)
                except (FeedRejected, GatewayError) as exc:
                    refused.append(f"{path.name}: {exc}")
                    bar.advance(task, 2)
                    continue
            accepted += report.records_accepted
            rejected += report.records_rejected
            if report.duplicate_of is None:
                queued.append(report.id)
            else:
                bar.advance(task)
            bar.advance(task)
        bar.update(task, description="applying")
        waiting = set(queued)
        while waiting:
            if apply_queued(store, pack) == 0:
                time.sleep(0.2)
            with store.unit_of_work(read_only=True) as uow:
                done = {f for f in waiting if uow.attendance.feed_report(f).status != "queued"}
            bar.advance(task, len(done))
            waiting -= done
    seconds = time.monotonic() - started
    click.echo(
        f"{len(files)} file(s): {len(queued)} applied, {len(files) - len(queued) - len(refused)} "
        f"already received, {len(refused)} refused; {accepted} records accepted, {rejected} "
        f"rejected, in {seconds:.1f} s ({accepted / seconds if seconds else 0:,.0f} records/s)"
    )
    for line in refused:
        click.echo(f"  refused {line}")


def _applied(store: Store, feed_id: str, pack: Any) -> Any:
    """Run the applier here until this feed is applied (a worker may take it first)."""
    import time

    from gateway.intake.feed_applier import apply_queued

    while True:
        with store.unit_of_work(read_only=True) as uow:
            report = uow.attendance.feed_report(feed_id)
        if report.status != "queued":
            return report
        if apply_queued(store, pack) == 0:
            time.sleep(0.2)


@import_group.command("gias")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@pass_context
def import_gias(ctx: Context, path: pathlib.Path) -> None:
    """Load the GIAS establishment extract (CSV as DfE publishes it), as the admin API would."""
    from adapters.providers.gias import read_gias

    _import_register(ctx, path, "gias", read_gias)


@import_group.command("approved-providers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
@pass_context
def import_approved_providers(ctx: Context, path: pathlib.Path) -> None:
    """Load the authority's approved alternative-provision list (CSV)."""
    from adapters.providers.approved_list import read_approved_list

    _import_register(ctx, path, "approved_list", read_approved_list)


def _import_register(ctx: Context, path: pathlib.Path, source: str, read: Any) -> None:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    from gateway.intake.attendance_feed import spool_digest
    from gateway.model.client import ALL_SCOPES, Client
    from gateway.providers import imports

    store = ctx.store()
    operator = Client(id="cli", name="cli-import", scopes=ALL_SCOPES, created_at=store.clock.now())
    with path.open("rb") as raw:
        sha256, size = spool_digest(raw)
        _domain(
            lambda: imports.archive_file(store, source, "text/csv", raw, sha256, size, operator)
        )
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("importing", total=size)
            tracked = _ReadTracker(raw, lambda done: bar.update(task, completed=done))
            run = (
                imports.import_establishments if source == "gias" else imports.import_approved_list
            )
            try:
                report = run(store, read(tracked), sha256)
            except ValueError as exc:
                raise click.ClickException(f"{path.name}: {exc}") from exc
            bar.update(task, completed=size, description="done")
    click.echo(
        f"import {report.id}: {report.rows} rows, {report.added} added, {report.updated} "
        f"updated, {report.unchanged} unchanged, {report.rejected} rejected"
    )
    for error in report.errors[:20]:
        click.echo(f"  line {error.get('line')}: {error.get('field')}: {error.get('message')}")
    if report.rejected > 20:
        click.echo(f"  ... and {report.rejected - 20} more")


class _ReadTracker:
    """A file that reports how far it has been read (the progress bar's source)."""

    def __init__(self, raw: Any, report: Any) -> None:
        self._raw = raw
        self._report = report
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._raw.read(size)
        self.done = self._raw.tell()
        self._report(self.done)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        position: int = self._raw.seek(offset, whence)
        self.done = position
        return position

    def tell(self) -> int:
        position: int = self._raw.tell()
        return position

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@main.command()
@click.option(
    "--policy",
    default="lincolnshire",
    show_default=True,
    help="The authority's pack: lincolnshire, worcestershire, lancashire, essex or sutton.",
)
@click.option("--pupils", type=click.IntRange(min=50), default=3000, show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--days", type=click.IntRange(1, 30), default=10, show_default=True, help="School days."
)
@click.option("--exit-when-done", is_flag=True, help="Stop after the script instead of serving.")
def demo(policy: str, pupils: int, port: int, days: int, exit_when_done: bool) -> None:
    """Play a fortnight of a synthetic authority through the gateway, then keep serving it
    (a fresh ./var/demo-<policy>.db, loopback Mosaic and NHS services, a simulated clock)."""
    from gateway.demo.runner import DemoError, DemoOptions, run

    log_file = pathlib.Path("var") / f"demo-{policy}.log"
    options = DemoOptions(policy=policy, pupils=pupils, port=port, days=days, log_file=log_file)
    try:
        run(options, exit_when_done=exit_when_done, console=console)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option("--output", type=click.Path(dir_okay=False, path_type=pathlib.Path), default=None)
@pass_context
def openapi(ctx: Context, output: pathlib.Path | None) -> None:
    """Write the OpenAPI document (the snapshot in contracts/openapi.json)."""
    from gateway.openapi_snapshot import render

    text = render()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


def _announce_token(name: str, token: str) -> None:
    # Printed, not logged: logs are kept and shipped, this is shown once to one person.
    click.echo(
        f"\nClient {name!r} created. Its bearer token, shown this once only:\n\n  {token}\n\n"
        f'Use it as: curl -H "Authorization: Bearer {token}" ...\n'
    )


def _domain(call: Any) -> Any:
    try:
        return call()
    except GatewayError as exc:
        raise click.ClickException(exc.detail) from exc


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


__all__ = ["main"]
