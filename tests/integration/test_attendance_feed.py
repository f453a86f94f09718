"""Attendance feeds through the intake on both stores: archive first, per-record rejections,
replays, corrections, figures, and concerns raised once per crossing."""

from __future__ import annotations

import datetime as dt
import io
import pathlib
import zlib

import pytest
import sqlalchemy as sa

from adapters.mis.readers import mis_readers
from gateway.intake.attendance_feed import FeedRejected, FeedUpload, ingest_feed, spool_digest
from gateway.intake.attendance_queries import child_attendance
from gateway.intake.feed_applier import apply_queued
from gateway.model.attendance import FeedReport
from gateway.model.client import ALL_SCOPES, Client
from gateway.rules.pack import load_pack
from gateway.store import Store
from gateway.store.schema import (
    attendance_concerns,
    attendance_mark_changes,
    attendance_marks,
    inbound_archive,
    outbox,
    timeline_events,
)
from tests.attendance_support import SCHOOL, csv_feed, pattern_rows, school_days
from tests.support import START, child_details, make_upn

MIS = Client(id="mis-1", name="mis-school", scopes=ALL_SCOPES, created_at=START)
SEPT = school_days(dt.date(2025, 9, 1), 40)  # 1 Sep - 24 Oct 2025, autumn term


def send(store: Store, body: bytes, fmt: str = "csv", **upload: object) -> FeedReport:
    stream = io.BytesIO(body)
    sha256, size = spool_digest(stream)
    content_type = {"csv": "text/csv", "json": "application/json", "ctf": "application/xml"}[fmt]
    queued = ingest_feed(
        store,
        FeedUpload(format=fmt, content_type=content_type, sha256=sha256, size=size, **upload),  # type: ignore[arg-type]
        stream,
        mis_readers()[fmt],  # type: ignore[index]
        MIS,
    )
    if queued.duplicate_of is not None:
        return queued
    assert queued.status == "queued"
    apply_queued(store)
    with store.unit_of_work() as uow:
        return uow.attendance.feed_report(queued.id)


def count(store: Store, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with store.engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(table)
        for clause in where:
            query = query.where(clause)
        return int(connection.execute(query).scalar_one())


def test_a_clean_feed_is_archived_stored_and_summarised(store: Store) -> None:
    upn = make_upn(1)
    body = csv_feed(pattern_rows(upn, SEPT[:10], [("/", "\\")]))
    report = send(store, body)
    assert (report.status, report.records_received, report.records_accepted) == (
        "completed",
        10,
        10,
    )
    assert (report.period_start, report.period_end) == (SEPT[0], SEPT[9])
    assert report.school_urn == SCHOOL
    assert count(store, attendance_marks) == 10  # one row a day for the pupil
    with store.engine.connect() as connection:
        archived = connection.execute(sa.select(inbound_archive.c.body)).scalar_one()
    assert zlib.decompress(archived) == body  # exactly what was sent, kept


def test_bad_records_are_named_and_the_rest_go_on(store: Store) -> None:
    good, other = make_upn(1), make_upn(2)
    bad_upn = "A" + make_upn(3)[1:] if make_upn(3)[0] != "A" else "B" + make_upn(3)[1:]
    rows = [
        (SCHOOL, good, "2025-09-01", "/", "\\"),
        (SCHOOL, other, "2025-09-01", "Q9", "\\"),
        (SCHOOL, bad_upn, "2025-09-01", "/", "\\"),
        (SCHOOL, good, "2024-09-02", "/", "\\"),
        ("999999", good, "2025-09-03", "/", "\\"),
        (SCHOOL, good, "2026-02-30", "/", "\\"),
        (SCHOOL, good, "2026-03-01", "/", "\\"),
        (SCHOOL, good, "2025-09-01", "N", "N"),
    ]
    report = send(store, csv_feed(rows))
    assert (report.records_accepted, report.records_rejected) == (1, 7)
    assert [(r.locator, r.field, r.reason) for r in report.rejected] == [
        ("line 3", "am", "unknown register code 'Q9'"),
        ("line 4", "upn", "the UPN check letter does not match"),
        ("line 5", "date", "2024-09-02 is outside the academic year 2025/26"),
        ("line 6", "school_urn", "school URN '999999' is not the feed's school"),
        ("line 7", "date", "'2026-02-30' is not a date (YYYY-MM-DD)"),
        ("line 8", "date", "2026-03-01 is in the future"),
        ("line 9", "date", "a second record for this pupil and date"),
    ]


def test_the_same_feed_twice_changes_nothing_and_answers_with_the_first(store: Store) -> None:
    body = csv_feed(pattern_rows(make_upn(1), SEPT[:5], [("/", "\\")]))
    first = send(store, body)
    again = send(store, body)
    assert again.duplicate_of == first.id
    assert again.id == first.id
    assert count(store, attendance_marks) == 5
    assert count(store, inbound_archive) == 1


def test_a_corrected_mark_replaces_the_old_one_and_the_change_is_recorded(store: Store) -> None:
    upn = make_upn(1)
    with store.unit_of_work() as uow:  # registered before: CSV feeds add no children
        uow.children.add(child_details(1), uow.now)
    send(store, csv_feed(pattern_rows(upn, SEPT[:5], [("N", "N")])))
    # The school finds out the pupil was ill on day 2 and resends the week.
    corrected = pattern_rows(upn, SEPT[:5], [("N", "N")])
    corrected[1] = (SCHOOL, upn, SEPT[1].isoformat(), "I", "I")
    report = send(store, csv_feed(corrected))
    assert report.marks_changed == 1
    with store.engine.connect() as connection:
        change = connection.execute(sa.select(attendance_mark_changes)).one()._mapping
        mark = connection.execute(
            sa.select(attendance_marks.c.am).where(
                attendance_marks.c.date == SEPT[1], attendance_marks.c.upn == upn
            )
        ).scalar_one()
    assert (change["old_am"], change["new_am"], change["date"]) == ("N", "I", SEPT[1])
    assert mark == "I"
    child_id = _child_id(store, upn)
    [year] = child_attendance(store, child_id, MIS, "test").years
    assert year.sessions_by_category["unauthorised"] == 8
    assert year.illness_days == 1.0
    assert year.unexplained_absence_run_days == 3  # the illness day broke the run


def test_a_concern_is_raised_once_per_crossing_and_cleared_on_recovery(store: Store) -> None:
    upn = make_upn(1)
    # 10 days, one unexplained absence day in every 5: 80 % attendance.
    send(store, csv_feed(pattern_rows(upn, SEPT[:10], [("/", "\\")] * 4 + [("O", "O")])))
    child_id = _child_id(store, upn)
    assert _open_kinds(store) == {"persistent_absence"}
    send(store, csv_feed(pattern_rows(upn, SEPT[10:15], [("/", "\\")] * 4 + [("O", "O")])))
    assert count(store, attendance_concerns) == 1  # still below 90 %: not raised again
    send(store, csv_feed(pattern_rows(upn, SEPT[15:40], [("/", "\\")])))  # 94 % now
    assert _open_kinds(store) == set()
    assert count(store, attendance_concerns, attendance_concerns.c.status == "resolved") == 1
    with store.engine.connect() as connection:
        kinds = connection.execute(
            sa.select(timeline_events.c.kind)
            .where(timeline_events.c.child_id == child_id)
            .order_by(timeline_events.c.at)
        ).scalars()
        assert list(kinds) == ["concern_raised", "concern_resolved"]
        messages = connection.execute(sa.select(outbox.c.kind).order_by(outbox.c.kind)).scalars()
        assert list(messages) == ["child.concern_raised", "child.concern_resolved"]


def test_ten_continuous_days_of_unexplained_absence_cross_on_the_tenth(store: Store) -> None:
    upn = make_upn(1)
    send(store, csv_feed(pattern_rows(upn, SEPT[:30], [("/", "\\")])))
    send(store, csv_feed(pattern_rows(upn, SEPT[30:39], [("N", "N")])))
    assert "continuous_unexplained_absence" not in _open_kinds(store)
    send(store, csv_feed(pattern_rows(upn, SEPT[39:40], [("N", "N")])))
    assert "continuous_unexplained_absence" in _open_kinds(store)


def test_a_malformed_document_is_refused_whole_but_kept(store: Store) -> None:
    body = b"school,pupil,day\n120456,x,y\n"
    with pytest.raises(FeedRejected) as refused:
        send(store, body)
    assert refused.value.position == "line 1"
    assert count(store, attendance_marks) == 0
    assert count(store, inbound_archive) == 1
    with store.unit_of_work() as uow:
        assert uow.attendance.feed_report(refused.value.feed_id).status == "rejected"


def _child_id(store: Store, upn: str) -> str:
    with store.unit_of_work() as uow:
        child = uow.children.find("upn", upn)
    assert child is not None
    return child.id


def _open_kinds(store: Store) -> set[str]:
    with store.engine.connect() as connection:
        return set(
            connection.execute(
                sa.select(attendance_concerns.c.kind).where(attendance_concerns.c.status == "open")
            ).scalars()
        )


FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "ctf"


def test_a_ctf_records_who_the_pupils_are_and_keeps_only_the_feeds_school(store: Store) -> None:
    report = send(store, (FIXTURES / "ctf_two_schools.xml").read_bytes(), "ctf")
    assert report.school_urn == "120456"  # from the CTF header
    assert report.records_accepted == 2
    assert [(r.locator, r.field) for r in report.rejected] == [
        ("Pupil[1]/Attendance/YearData[2]/AttendanceMarks@2025-07-18", "school_urn")
    ]
    with store.unit_of_work() as uow:
        child = uow.children.find("upn", "Y925200126005")
    assert child is not None
    assert child.name is not None
    assert (child.name.given, child.name.family) == ("Idris", "Lockyer")
    assert child.date_of_birth == dt.date(2015, 2, 14)
    [year] = child_attendance(store, child.id, MIS, "test").years
    assert (year.academic_year, year.possible_sessions, year.attended_sessions) == (2025, 4, 4)


def test_an_older_ctf_maps_retired_codes_and_says_so(store: Store) -> None:
    report = send(store, (FIXTURES / "ctf19_gender.xml").read_bytes(), "ctf")
    assert report.records_rejected == 0
    assert "retired register codes mapped to their current meaning: H, J" in report.notes


def test_ctf_totals_that_disagree_with_the_marks_are_reported(store: Store) -> None:
    report = send(store, (FIXTURES / "ctf_totals_disagree.xml").read_bytes(), "ctf")
    assert any("totals say" in note and "the marks give" in note for note in report.notes)


def test_a_large_feed_shows_its_progress_while_it_is_read(store: Store) -> None:
    rows = pattern_rows(make_upn(1), SEPT[:12], [("/", "\\")])
    seen: list[tuple[str, int]] = []
    stream = io.BytesIO(csv_feed(rows))
    sha256, size = spool_digest(stream)

    def watch(records: int) -> None:
        with store.unit_of_work() as uow:  # another reader's view, mid-feed
            feed_id = uow.connection.execute(
                sa.select(sa.text("id")).select_from(sa.table("attendance_feeds"))
            ).scalar_one()
            report = uow.attendance.feed_report(feed_id)
        seen.append((report.status, report.records_received))

    ingest_feed(
        store,
        FeedUpload(format="csv", content_type="text/csv", sha256=sha256, size=size),
        stream,
        mis_readers()["csv"],
        MIS,
        on_progress=watch,
        progress_every=5,
    )
    assert seen == [("parsing", 5), ("parsing", 10), ("parsing", 12)]


def test_the_policy_pack_routes_concerns_a_sickness_return_opens_a_case(store: Store) -> None:
    pack = load_pack("lincolnshire")
    upn = make_upn(1)
    stream = io.BytesIO(csv_feed(pattern_rows(upn, SEPT[:16], [("I", "I")] * 15 + [("C2", "C2")])))
    sha256, size = spool_digest(stream)
    upload = FeedUpload(format="csv", content_type="text/csv", sha256=sha256, size=size)
    queued = ingest_feed(store, upload, stream, mis_readers()["csv"], MIS)
    apply_queued(store, pack)
    with store.engine.connect() as connection:
        concerns = {
            row.kind: row for row in connection.execute(sa.select(attendance_concerns)).all()
        }
    # Lincolnshire acts on sickness (15 days) and part-time timetables, not on intensive support.
    assert set(concerns) == {
        "medical_threshold",
        "part_time_timetable",
        "persistent_absence",
        "severe_absence",
    }
    medical = concerns["medical_threshold"]
    assert medical.routing["rule_id"] == "lincs.concern.medical"
    assert medical.case_id is not None
    part_time = concerns["part_time_timetable"]
    assert (part_time.routing["lead_team"], part_time.case_id) == ("PRT", None)
    with store.unit_of_work() as uow:
        case = uow.cases.get(medical.case_id)
    assert (case.reason, case.source, case.lead_team, case.panel) == (
        "illness",
        "attendance_feed",
        "PRT",
        "S19_PANEL",
    )
    with store.unit_of_work() as uow:
        report = uow.attendance.feed_report(queued.id)
    assert report.concerns_raised == 4
