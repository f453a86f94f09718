"""Health advice requests leave through the outbox as FHIR message Bundles to a loopback NHS
endpoint (simulators/nhs.py) that checks each one with fhir.resources: delivered once, retried
when the endpoint is busy, dead-lettered with its OperationOutcome when refused, parked when
the family has withdrawn agreement since the request was queued."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest

from adapters.nhs.destination import NhsDestination
from gateway.advice.progress import add_document, change, record_sharing
from gateway.advice.requests import start_assessment
from gateway.cases import service
from gateway.delivery.admin import list_deliveries
from gateway.delivery.retry_policy import RetryPolicy
from gateway.delivery.worker import Worker
from gateway.model.advice import AdviceChange, AssessmentRequest, SharingUpdate
from gateway.model.case import NewCase
from gateway.model.client import Client
from gateway.rules.pack import load_pack
from gateway.store import Store
from gateway.store.engine import make_engine
from gateway.store.outbox import DeliveryFilter
from simulators.nhs import NhsTeamSimulator, running_nhs_team
from tests.support import ManualClock, child_details, officer

PACK = load_pack("sutton")
OFFICER = officer("SEN officer", "officer-1")
POLICY = RetryPolicy(max_attempts=4, base_seconds=60, cap_seconds=600, jitter=0)


@pytest.fixture
def team() -> Iterator[NhsTeamSimulator]:
    with running_nhs_team() as simulator:
        yield simulator


@pytest.fixture
def sutton_store(database_url: str, clock: ManualClock) -> Iterator[Store]:
    engine = make_engine(database_url)
    yield Store(engine, clock, PACK)
    engine.dispose()


def worker(store: Store, team: NhsTeamSimulator, timeout: float = 5.0) -> Worker:
    destination = NhsDestination(
        store,
        team.base_url,
        PACK,
        facade_base_url="https://gateway.example",
        timeout_seconds=timeout,
    )
    return Worker(
        store,
        {"nhs": destination},
        POLICY,
        lease=dt.timedelta(minutes=5),
        inline_retries=0,
        name="w1",
        rng=random.Random(3),
        sleep=lambda _: None,
    )


def request_health_advice(store: Store, serial: int, *, share: bool = True) -> str:
    with store.unit_of_work() as uow:
        child = uow.children.add(child_details(serial), uow.now)
    if share:
        update = SharingUpdate(agreed=True, categories=["identity", "send"], source="form")
        record_sharing(store, child.id, "health", update, OFFICER, "test", PACK)
    new = NewCase(child_id=child.id, reason="otherwise", source="school", summary="Needs EHCNA")
    case = service.open_case(store, new, OFFICER, PACK)
    started = start_assessment(
        store, AssessmentRequest(case_id=case.id, advisers=["health"]), OFFICER, PACK
    )
    return started.requests[0].id


def nhs_statuses(store: Store) -> list[str]:
    page = list_deliveries(store, DeliveryFilter(destination="nhs"), None, 100)
    return [d.status for d in page.items]


def test_the_request_arrives_as_a_valid_message_bundle(
    sutton_store: Store, team: NhsTeamSimulator
) -> None:
    advice_id = request_health_advice(sutton_store, 1)
    worker(sutton_store, team).drain()
    assert nhs_statuses(sutton_store) == ["delivered"]
    [bundle] = team.received
    assert bundle["type"] == "message"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "MessageHeader"
    assert {"ServiceRequest", "Task", "Patient"} <= set(kinds)
    [request] = team.service_requests()
    assert request["id"] == advice_id
    assert request["occurrencePeriod"]["end"].startswith("2026-02-16")
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    nhs = [
        i["value"]
        for i in patient["identifier"]
        if i["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    ]
    assert nhs == [child_details(1).identifiers.nhs_number]
    assert "address" not in patient


def test_a_busy_endpoint_is_retried_and_a_lost_answer_is_not_sent_twice(
    sutton_store: Store, team: NhsTeamSimulator, clock: ManualClock
) -> None:
    request_health_advice(sutton_store, 2)
    team.fail_next(1, status=503, code="transient")
    work = worker(sutton_store, team)
    work.drain()
    assert nhs_statuses(sutton_store) == ["pending"]
    team.drop_next(1)  # stored, then the connection dropped before the answer
    clock.advance(minutes=2)
    work.drain()
    assert nhs_statuses(sutton_store) == ["pending"]
    clock.advance(minutes=3)
    work.drain()
    assert nhs_statuses(sutton_store) == ["delivered"]
    assert len(team.received) == 1  # the same Bundle id: the receiver kept one
    assert team.duplicates == 1


def test_a_refusal_is_dead_lettered_with_the_operation_outcome(
    sutton_store: Store, team: NhsTeamSimulator
) -> None:
    request_health_advice(sutton_store, 3)
    team.fail_next(1, status=400, code="invalid", diagnostics="performer is not a known service")
    worker(sutton_store, team).drain()
    where = DeliveryFilter(status="dead", destination="nhs")
    [dead] = list_deliveries(sutton_store, where, None, 10).items
    assert "400" in (dead.last_error or "")
    assert "performer is not a known service" in (dead.last_error or "")


def test_consent_withdrawn_after_queueing_parks_the_request(
    sutton_store: Store, team: NhsTeamSimulator
) -> None:
    advice_id = request_health_advice(sutton_store, 4)
    with sutton_store.unit_of_work() as uow:
        request = uow.advice.get(advice_id)
        assert request is not None
        child_id = request.child_id
    withdrawn = SharingUpdate(agreed=False, categories=[], source="phone call from parent")
    record_sharing(sutton_store, child_id, "health", withdrawn, OFFICER, "test", PACK)
    worker(sutton_store, team).drain()
    assert nhs_statuses(sutton_store) == ["parked"]
    where = DeliveryFilter(status="parked", destination="nhs")
    [parked] = list_deliveries(sutton_store, where, None, 10).items
    assert "declined" in (parked.last_error or "")
    assert team.received == []


def test_a_request_answered_at_the_facade_before_it_was_sent_is_not_sent(
    sutton_store: Store, team: NhsTeamSimulator
) -> None:
    """The NHS endpoint was down while the team found the request on the facade and answered
    it: the waiting message is settled without sending a request for work already done (it
    would name advice it does not carry, and the endpoint would refuse it for good)."""
    advice_id = request_health_advice(sutton_store, 5)
    nhs_team = Client(
        id="camhs",
        name="CAMHS",
        scopes=("nhs",),
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    accepted = AdviceChange(status="accepted")
    change(sutton_store, advice_id, accepted, nhs_team, PACK, by="performer")
    document = add_document(
        sutton_store,
        advice_id,
        content_type="text/plain",
        title="Health advice",
        data=b"Advice for the assessment.",
        author="Community paediatrics",
        caller=nhs_team,
    )
    done = AdviceChange(status="completed", documents=[document.id])
    change(sutton_store, advice_id, done, nhs_team, PACK, by="performer")
    worker(sutton_store, team).drain()
    assert nhs_statuses(sutton_store) == ["discarded"]  # settled, never shown as delivered
    assert team.received == []
    where = DeliveryFilter(status="discarded", destination="nhs")
    [settled] = list_deliveries(sutton_store, where, None, 10).items
    assert "completed through the FHIR facade" in (settled.last_error or "")
