"""Casenotes reach a real SOAP service (simulators/mosaic.py on loopback) exactly once and in
order per child, through the outbox, whatever the service does: faults, timeouts, outages, a
crash between storing and answering, a child it does not know, two workers at once."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from adapters.mosaic.client import MosaicClient
from adapters.mosaic.destination import MosaicDestination
from gateway.cases import service
from gateway.delivery.admin import discard_delivery, list_deliveries, replay_delivery
from gateway.delivery.links import link_mosaic_person
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.model.case import NewCase
from gateway.model.child import Child
from gateway.model.events import Action
from gateway.rules.pack import load_pack
from gateway.store import Store
from gateway.store.engine import make_engine
from gateway.store.outbox import DeliveryFilter
from gateway.store.schema import outbox
from simulators.mosaic import MosaicSimulator, running_mosaic
from tests.support import ManualClock, child_details, officer

PACK = load_pack("lincolnshire")
POLICY = RetryPolicy(max_attempts=5, base_seconds=60, cap_seconds=3600, jitter=0)
OFFICER = officer("panel officer", "officer-1")


@pytest.fixture
def mosaic() -> Iterator[MosaicSimulator]:
    with running_mosaic(username="gw", password="secret") as simulator:
        yield simulator


@pytest.fixture
def cases_store(database_url: str, clock: ManualClock) -> Iterator[Store]:
    engine = make_engine(database_url)
    yield Store(engine, clock, PACK)
    engine.dispose()


def client_for(mosaic: MosaicSimulator, timeout: float = 5.0) -> MosaicClient:
    return MosaicClient(mosaic.url, "gw", "secret", timeout_seconds=timeout, wsdl=mosaic.wsdl_path)


def worker(store: Store, mosaic: MosaicSimulator, name: str = "w1", timeout: float = 5.0) -> Worker:
    destination = MosaicDestination(store, client_for(mosaic, timeout), PACK)
    return Worker(
        store,
        {"mosaic": destination},
        POLICY,
        lease=dt.timedelta(minutes=5),
        inline_retries=0,
        inline_wait_seconds=0,
        name=name,
        rng=random.Random(7),
        sleep=lambda _: None,
    )


def new_child(store: Store, serial: int) -> Child:
    with store.unit_of_work() as uow:
        return uow.children.add(child_details(serial), uow.now)


def open_case(store: Store, child: Child) -> str:
    new = NewCase(child_id=child.id, reason="illness", source="school", summary="Off since May")
    return service.open_case(store, new, OFFICER, PACK).id


def act(store: Store, case_id: str, kind: str) -> None:
    action = Action(kind=kind, description=f"{kind} done", actor="officer")
    service.record_action(store, case_id, action, OFFICER)


def mosaic_deliveries(store: Store, status: str | None = None) -> list[str]:
    page = list_deliveries(store, DeliveryFilter(destination="mosaic", status=status), None, 500)
    return [d.status for d in page.items]


def expected_references(store: Store, child: Child) -> list[str]:
    """The child's casenote references in the order the gateway wrote them."""
    with store.unit_of_work(read_only=True) as uow:
        query = (
            sa.select(outbox.c.idempotency_key)
            .where(outbox.c.destination == "mosaic", outbox.c.child_id == child.id)
            .order_by(outbox.c.position)
        )
        return list(uow.connection.execute(query).scalars())


def references_for(mosaic: MosaicSimulator, person_id: str) -> list[str]:
    return [n.source_reference for n in mosaic.notes if n.person_id == person_id]


def test_a_case_reaches_mosaic_as_casenotes_in_order_and_the_person_is_found_once(
    cases_store: Store, mosaic: MosaicSimulator
) -> None:
    child = new_child(cases_store, 1)
    mosaic.add_person("100001", upn=child.identifiers.upn)
    case_id = open_case(cases_store, child)
    act(cases_store, case_id, "acknowledgement_sent")

    worker(cases_store, mosaic).drain()

    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    assert references_for(mosaic, "100001") == expected_references(cases_store, child)
    assert len(mosaic.notes) >= 4  # opened, routed, clocks started, the action…
    kinds = [n.casenote_type for n in mosaic.notes]
    assert kinds[0] == "EDUCATION_REFERRAL"
    assert "ACTION" in kinds
    assert all(n.source_system == "S19-GATEWAY" for n in mosaic.notes)
    # Found by UPN once, then remembered on the child's record.
    assert mosaic.requests.count("FindPerson") == 1
    with cases_store.unit_of_work(read_only=True) as uow:
        found = uow.children.get(child.id)
    assert found is not None
    assert found.identifiers.mosaic_person_id == "100001"
    # The child's name never crosses into a casenote.
    assert not any(child.name.family in n.body for n in mosaic.notes)


def test_a_transient_fault_is_retried_after_back_off_and_stored_once(
    cases_store: Store, mosaic: MosaicSimulator, clock: ManualClock
) -> None:
    child = new_child(cases_store, 2)
    mosaic.add_person("100002", upn=child.identifiers.upn)
    open_case(cases_store, child)
    mosaic.fail_next(2, "UNAVAILABLE")  # the lookup, then the first casenote

    work = worker(cases_store, mosaic)
    work.drain()
    assert mosaic.notes == []
    assert "pending" in mosaic_deliveries(cases_store)
    clock.advance(minutes=2)
    work.drain()
    clock.advance(minutes=3)
    work.drain()
    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    references = references_for(mosaic, "100002")
    assert references == expected_references(cases_store, child)
    assert len(references) == len(set(references))


def test_a_dead_letter_holds_the_childs_later_casenotes_until_replayed_or_discarded(
    cases_store: Store, mosaic: MosaicSimulator
) -> None:
    child = new_child(cases_store, 3)
    mosaic.add_person("100003", upn=child.identifiers.upn)
    open_case(cases_store, child)
    mosaic.fail_next(1, "VALIDATION")  # the first casenote's lookup is refused for good

    worker(cases_store, mosaic).drain()
    [dead] = list_deliveries(cases_store, DeliveryFilter(status="dead"), None, 10).items
    assert "VALIDATION" in (dead.last_error or "")
    assert mosaic.notes == []  # the rest wait behind it: the record stays in order
    assert set(mosaic_deliveries(cases_store)) == {"dead", "pending"}

    replay_delivery(cases_store, dead.id)
    worker(cases_store, mosaic).drain()
    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    assert references_for(mosaic, "100003") == expected_references(cases_store, child)


def test_a_discarded_casenote_lets_the_rest_go(cases_store: Store, mosaic: MosaicSimulator) -> None:
    child = new_child(cases_store, 11)
    mosaic.add_person("100011", upn=child.identifiers.upn)
    open_case(cases_store, child)
    mosaic.fail_next(1, "VALIDATION")
    work = worker(cases_store, mosaic)
    work.drain()
    [dead] = list_deliveries(cases_store, DeliveryFilter(status="dead"), None, 10).items
    discarded = discard_delivery(cases_store, dead.id, "mapped wrongly; rewritten by hand", "admin")
    assert (discarded.status, discarded.history[-1].outcome) == ("discarded", "discarded")
    work.drain()
    expected = [r for r in expected_references(cases_store, child) if r != dead.idempotency_key]
    assert references_for(mosaic, "100011") == expected


def test_a_timeout_whose_request_was_stored_after_all_is_not_stored_twice(
    cases_store: Store, mosaic: MosaicSimulator, clock: ManualClock
) -> None:
    child = new_child(cases_store, 4)
    mosaic.add_person("100004", upn=child.identifiers.upn)
    with cases_store.unit_of_work() as uow:
        uow.children.set_mosaic_person(child.id, "100004", uow.now)
    open_case(cases_store, child)
    mosaic.delay_next(1, 1.5)  # the first casenote: answered after the client gave up

    work = worker(cases_store, mosaic, timeout=0.5)
    work.drain()
    tried = [d for d in list_deliveries(cases_store, DeliveryFilter(), None, 500).items]
    [first] = [d for d in tried if d.last_error]  # the others wait behind it, untried
    assert first.status == "pending"
    assert "in time" in (first.last_error or "")
    # Wait for the slow request to finish storing on the server side.
    deadline = threading.Event()
    for _ in range(40):
        if mosaic.notes:
            break
        deadline.wait(0.1)
    assert len(mosaic.notes) == 1  # stored although the client saw a timeout
    clock.advance(minutes=2)
    work.drain()
    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    references = references_for(mosaic, "100004")
    assert sorted(references) == sorted(set(references))
    assert references == expected_references(cases_store, child)


def test_a_crash_after_storing_but_before_answering_leaves_one_casenote(
    cases_store: Store, mosaic: MosaicSimulator, clock: ManualClock
) -> None:
    child = new_child(cases_store, 5)
    mosaic.add_person("100005", nhs_number=child.identifiers.nhs_number)  # found by NHS number
    open_case(cases_store, child)
    mosaic.crash_after_store_next(1)

    work = worker(cases_store, mosaic)
    work.drain()
    assert len(mosaic.notes) == 1
    clock.advance(minutes=2)
    work.drain()
    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    references = references_for(mosaic, "100005")
    assert len(references) == len(set(references))
    assert references == expected_references(cases_store, child)
    assert "GetCasenoteByReference" in mosaic.requests  # the duplicate was read back


def test_mosaic_down_for_hours_then_back_drains_everything_in_order(
    cases_store: Store, mosaic: MosaicSimulator, clock: ManualClock
) -> None:
    children = [new_child(cases_store, serial) for serial in (6, 7)]
    for number, child in enumerate(children):
        mosaic.add_person(f"20000{number}", upn=child.identifiers.upn)
        open_case(cases_store, child)
    mosaic.stop()
    work = worker(cases_store, mosaic)
    for _ in range(4):  # four attempts over a couple of hours, all refused
        work.drain()
        clock.advance(hours=1)
    assert mosaic_deliveries(cases_store, "delivered") == []
    assert mosaic_deliveries(cases_store, "dead") == []
    mosaic.start()
    for _ in range(20):
        clock.advance(hours=1)
        work.drain()
    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    for number, child in enumerate(children):
        assert references_for(mosaic, f"20000{number}") == expected_references(cases_store, child)


def test_a_child_waits_behind_its_own_retrying_casenote_while_others_go_on(
    cases_store: Store, mosaic: MosaicSimulator, clock: ManualClock
) -> None:
    slow, other = new_child(cases_store, 8), new_child(cases_store, 9)
    mosaic.add_person("300001", upn=slow.identifiers.upn)
    mosaic.add_person("300002", upn=other.identifiers.upn)
    for child in (slow, other):
        with cases_store.unit_of_work() as uow:
            person = "300001" if child is slow else "300002"
            uow.children.set_mosaic_person(child.id, person, uow.now)
    slow_case = open_case(cases_store, slow)
    open_case(cases_store, other)
    act(cases_store, slow_case, "acknowledgement_sent")
    mosaic.fail_for_person("300001", "UNAVAILABLE")

    work = worker(cases_store, mosaic)
    work.drain()
    assert references_for(mosaic, "300001") == []  # the first retries; the rest wait behind it
    assert references_for(mosaic, "300002") == expected_references(cases_store, other)
    mosaic.fail_for_person("300001", None)
    clock.advance(minutes=2)
    work.drain()
    assert references_for(mosaic, "300001") == expected_references(cases_store, slow)


def test_a_child_mosaic_does_not_know_is_parked_until_a_person_links_them(
    cases_store: Store, mosaic: MosaicSimulator
) -> None:
    child = new_child(cases_store, 10)
    case_id = open_case(cases_store, child)
    act(cases_store, case_id, "acknowledgement_sent")

    work = worker(cases_store, mosaic)
    work.drain()
    statuses = mosaic_deliveries(cases_store)
    assert statuses.count("parked") == 1  # the first; the rest wait behind it, unsent
    assert set(statuses) == {"parked", "pending"}
    [parked] = list_deliveries(cases_store, DeliveryFilter(status="parked"), None, 10).items
    assert parked.child_id == child.id
    assert "link the child" in (parked.last_error or "")
    assert child.identifiers.upn not in (parked.last_error or "")
    assert mosaic.notes == []

    mosaic.add_person("400001")  # known to Mosaic by its own id only
    released = link_mosaic_person(cases_store, child.id, "400001")
    assert released == 1
    work.drain()
    assert set(mosaic_deliveries(cases_store)) == {"delivered"}
    assert references_for(mosaic, "400001") == expected_references(cases_store, child)


def test_two_workers_at_once_deliver_each_casenote_once_and_in_order(
    database_url: str, clock: ManualClock, mosaic: MosaicSimulator
) -> None:
    """On PostgreSQL the claims race (SKIP LOCKED); on SQLite they are serialised."""
    seed = Store(make_engine(database_url), clock, PACK)
    children = [new_child(seed, 20 + n) for n in range(8)]
    for n, child in enumerate(children):
        mosaic.add_person(f"5000{n:02d}", upn=child.identifiers.upn)
        case_id = open_case(seed, child)
        for kind in ("acknowledgement_sent", "evidence_requested", "check_in_held"):
            act(seed, case_id, kind)
    stores = [Store(make_engine(database_url), clock, PACK) for _ in (1, 2)]
    workers = [worker(s, mosaic, name=f"w{n}") for n, s in enumerate(stores)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(mosaic_deliveries(seed)) == {"delivered"}
    references = [n.source_reference for n in mosaic.notes]
    assert len(references) == len(set(references))
    for n, child in enumerate(children):
        assert references_for(mosaic, f"5000{n:02d}") == expected_references(seed, child)
    for store in (seed, *stores):
        store.engine.dispose()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        ("502 Bad Gateway", b"<html><body>proxy error</body></html>", "MosaicUnreachable"),
        # A page that is XML but no SOAP fault: not Mosaic's own word, so tried again (up to
        # the last attempt) rather than given up on at once.
        ("400 Bad Request", b"<html><body>bad request</body></html>", "MosaicUnreachable"),
        ("404 Not Found", b"no such path", "MosaicRejected"),
        ("200 OK", b"", "MosaicUnreachable"),
        ("503 Service Unavailable", b"down for maintenance", "MosaicUnreachable"),
        ("401 Unauthorized", b"", "MosaicUnreachable"),
        # An answer carrying a DTD (entity expansion, external entities) is never parsed.
        (
            "200 OK",
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">'
            b'<!ENTITY y "&x;&x;&x;">]><e>&y;</e>',
            "MosaicUnreachable",
        ),
    ],
)
def test_answers_that_are_not_soap_are_sorted_into_retry_or_give_up(
    status: str, body: bytes, expected: str
) -> None:
    """A proxy's page, an empty answer, an expired password: never an unclassified error."""
    from adapters.mosaic import client as mosaic_client
    from simulators.soap_server import LoopbackServer

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        content_type = "text/html" if body.startswith(b"<html") else "text/plain"
        start_response(status, [("Content-Type", content_type)])  # type: ignore[operator]
        return [body]

    server = LoopbackServer(app)  # type: ignore[arg-type]
    server.start()
    try:
        url = f"http://127.0.0.1:{server.port}/mosaic"
        client = MosaicClient(url, "gw", "secret", timeout_seconds=5)
        with pytest.raises(mosaic_client.MosaicError) as raised:
            client.add_casenote(
                {
                    "personId": "1",
                    "casenoteType": "ACTION",
                    "eventDate": dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
                    "author": {"team": "PRT"},
                    "subject": "s",
                    "body": "b",
                    "sourceSystem": "S19-GATEWAY",
                    "sourceReference": "ref-1",
                }
            )
        assert type(raised.value).__name__ == expected
    finally:
        server.stop()
