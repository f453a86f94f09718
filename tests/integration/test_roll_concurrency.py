"""Two schools' deletion returns for one child arriving at the same moment open one enquiry,
and one return sent twice at once registers the child once (gateway/roll/returns.py locks the
child's UPN for the transaction)."""

from __future__ import annotations

import threading

import msgspec
import pytest
import sqlalchemy as sa

from adapters.mis.roll_returns import deletions_reader
from gateway.roll.returns import receive_returns
from gateway.rules.pack import load_pack
from gateway.store import Store, make_engine
from gateway.store.schema import cases, children
from tests.support import make_upn, officer


def _body(school: str, upn: str) -> bytes:
    return (
        f'[{{"school_urn": "{school}", "pupil": {{"upn": "{upn}"}}, '
        f'"ground": "moved_away", "deleted_on": "2026-01-05"}}]'
    ).encode()


@pytest.mark.postgres
@pytest.mark.parametrize("schools", [("119876", "120456"), ("119876", "119876")])
def test_returns_for_one_child_at_once_apply_in_turn(
    postgres_url: str, schools: tuple[str, str]
) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        names = "roll_changes, timeline_events, clocks, outbox, cases, audit_log, children"
        connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    store = Store(engine, pack=load_pack("lancashire"))
    upn = make_upn(42)
    start = threading.Barrier(len(schools))
    failures: list[BaseException] = []

    def send(school: str) -> None:
        start.wait()
        try:
            receive_returns(
                store,
                _body(school, upn),
                "application/json",
                deletions_reader,
                msgspec.structs.replace(officer(), schools=(school,)),  # the school's MIS
                store.pack,  # type: ignore[arg-type]
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(school,)) for school in schools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    with engine.connect() as connection:
        registered = connection.execute(
            sa.select(sa.func.count()).select_from(children).where(children.c.upn == upn)
        ).scalar()
        enquiries = connection.execute(
            sa.select(sa.func.count()).select_from(cases).where(cases.c.kind == "cme_enquiry")
        ).scalar()
    engine.dispose()
    assert (registered, enquiries) == (1, 1)
