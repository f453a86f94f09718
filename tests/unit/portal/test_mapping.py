"""mappings/portal.py: each notification type's Section 19 ground and routing flags, the
duplicate key, and the 24-hour exclusion notice (003 "Section 19: by reason of exclusion")."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

import msgspec
import pytest

from adapters.portal import PortalNotification, parse_notification
from gateway.model.case import NewCase
from gateway.model.child import InvalidField
from gateway.rules.engine import RoutingFacts
from gateway.rules.pack import NotificationType
from mappings.portal import REASON_BY_TYPE, PortalFacts, to_canonical
from tests.unit.portal import body, example


def facts(document: dict[str, Any]) -> PortalFacts:
    return to_canonical(parse_notification(body(document)))


def test_every_notification_type_has_a_reason() -> None:
    assert set(REASON_BY_TYPE) == set(typing.get_args(NotificationType))


# The examples as the routing engine sees them (contracts/portal/examples/<name>.json).
EXPECTED_ROUTING: dict[str, RoutingFacts] = {
    "illness": RoutingFacts(
        reason="illness", notification="illness", illness_days=17.5, illness_consecutive=True
    ),
    "suspension": RoutingFacts(
        reason="exclusion",
        exclusion="suspension",
        open_to_social_care=True,
        notification="suspension",
    ),
    "permanent_exclusion": RoutingFacts(
        reason="exclusion",
        ehcp=True,
        linked_to_send=True,
        exclusion="permanent",
        special_school=True,
        looked_after=True,
        open_to_social_care=True,
        notification="permanent_exclusion",
    ),
    "irregular_attendance": RoutingFacts(reason="otherwise", notification="irregular_attendance"),
    "continuous_absence": RoutingFacts(reason="otherwise", notification="continuous_absence"),
    "part_time_timetable": RoutingFacts(
        reason="otherwise",
        linked_to_send=True,
        return_to_school_pathway=True,
        notification="part_time_timetable",
    ),
    # The request states its ground: illness (the CAMHS psychologist's request).
    "section19_request": RoutingFacts(reason="illness", notification="section19_request"),
    # A decision to issue a draft, no plan yet; absent through illness.
    "ehcp_unable_to_attend": RoutingFacts(
        reason="illness",
        ehcp_draft=True,
        linked_to_send=True,
        notification="ehcp_unable_to_attend",
        illness_days=9.0,
        illness_consecutive=True,
    ),
    "deletion_from_roll": RoutingFacts(reason="otherwise", notification="deletion_from_roll"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_ROUTING))
def test_each_example_routes_on_the_expected_facts(name: str) -> None:
    got = facts(example(name))
    expected = msgspec.structs.replace(EXPECTED_ROUTING[name], source="portal")
    assert got.routing == expected
    assert got.reason == expected.reason
    assert got.source == "portal"


@pytest.mark.parametrize(("stated", "reason"), [(None, "otherwise"), ("exclusion", "exclusion")])
def test_a_section19_request_takes_the_reason_it_states(stated: str | None, reason: str) -> None:
    document = example("section19_request")
    if stated is None:
        del document["section19_request"]["reason"]
    else:
        document["section19_request"]["reason"] = stated
    assert facts(document).reason == reason


def test_an_ehcp_notification_without_illness_details_is_otherwise() -> None:
    document = example("ehcp_unable_to_attend")
    del document["illness"]
    got = facts(document)
    assert got.reason == "otherwise"
    assert got.routing.illness_days is None


@pytest.mark.parametrize(
    ("status", "decided", "ehcp", "ehcp_draft"),
    [
        ("none", False, False, False),
        ("requested", False, False, False),
        ("assessing", True, False, True),
        ("draft", False, False, True),  # a draft is not yet a plan: packs route on ehcp_draft
        ("issued", False, True, False),
        ("ceased", False, False, False),
    ],
)
def test_ehcp_flags_follow_000_plan_or_decision_to_draft(
    status: str, decided: bool, ehcp: bool, ehcp_draft: bool
) -> None:
    document = example("irregular_attendance")
    document["ehcp"].update(status=status, decision_to_issue_draft=decided)
    routing = facts(document).routing
    assert (routing.ehcp, routing.ehcp_draft) == (ehcp, ehcp_draft)


def test_the_child_is_described_in_the_gateway_vocabulary() -> None:
    child = facts(example("permanent_exclusion")).child
    assert child.identifiers.upn == "H925400122008"
    assert child.identifiers.nhs_number == "9000000203"
    assert (child.name.given, child.name.family) == ("Kai", "Marsh")
    assert child.date_of_birth == dt.date(2010, 1, 30)
    assert (child.home_la, child.school_urn) == ("925", "120678")
    assert (child.ehcp_status, child.looked_after) == ("issued", True)


def test_the_facts_make_a_valid_new_case() -> None:
    for name in EXPECTED_ROUTING:
        got = facts(example(name))
        case = {
            "child_id": "c-1",
            "reason": got.reason,
            "source": got.source,
            "summary": got.summary,
            "school_urn": got.child.school_urn,
        }
        msgspec.convert(case, NewCase)  # applies NewCase's length limits, as the API would


def test_the_summary_is_one_line_with_the_key_figures() -> None:
    got = facts(example("suspension"))
    assert got.summary == (
        "Suspension: 3 days from 2025-11-18, issued 2025-11-17T13:30+00:00, notified within "
        "24 hours; Lincoln Castle Academy (URN 137245), submitted 2025-11-17; open to social care"
    )
    for name in EXPECTED_ROUTING:
        assert "\n" not in facts(example(name)).summary


def test_the_notifiers_words_are_kept_whole_in_notes() -> None:
    document = example("section19_request")
    got = facts(document)
    assert got.notes.startswith(document["summary"])
    assert got.notes.endswith(document["section19_request"]["summary"])
    assert facts(example("illness")).notes == example("illness")["summary"]


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_key_is_school_child_type_and_day() -> None:
    assert facts(example("illness")).duplicate_key == "116823|M885200124001|illness|2025-11-14"


def test_the_same_notification_later_that_day_has_the_same_key() -> None:
    first = example("illness")
    again = example("illness")
    again["submitted_at"] = "2025-11-14T16:59:00+00:00"
    again["notification_id"] = "CSP-2025-999999"
    again["summary"] = "Resubmitted with the consultant's letter."
    assert facts(first).duplicate_key == facts(again).duplicate_key


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("school", "urn"), "116824"),
        (("child", "upn"), "B885200124002"),
        (("submitted_at",), "2025-11-15T10:42:00+00:00"),
    ],
)
def test_a_different_school_child_or_day_is_a_different_notification(
    where: tuple[str, ...], value: str
) -> None:
    document = example("illness")
    target = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    assert facts(document).duplicate_key != facts(example("illness")).duplicate_key


def test_a_different_type_is_a_different_notification() -> None:
    illness = example("ehcp_unable_to_attend")
    other = example("ehcp_unable_to_attend")
    other["type"] = "illness"
    assert facts(illness).duplicate_key != facts(other).duplicate_key


# --- the 24-hour exclusion notice (003 "Section 19: by reason of exclusion") ---------------------


@pytest.mark.parametrize(
    ("after", "late"),
    [
        (dt.timedelta(minutes=5), False),
        (dt.timedelta(hours=23, minutes=59), False),
        (dt.timedelta(hours=24), False),  # "within 24 hours": the 24th hour is in time
        (dt.timedelta(hours=24, seconds=1), True),
        (dt.timedelta(days=3), True),
    ],
)
@pytest.mark.parametrize("name", ["suspension", "permanent_exclusion"])
def test_notice_is_late_only_after_24_hours(name: str, after: dt.timedelta, late: bool) -> None:
    document = example(name)
    issued = dt.datetime(2025, 11, 17, 13, 30, tzinfo=dt.UTC)
    document["exclusion"]["issued_at"] = issued.isoformat()
    document["exclusion"]["first_day"] = "2025-11-18"
    document["submitted_at"] = (issued + after).isoformat()
    got = facts(document)
    assert got.notice_late is late
    assert got.exclusion_issued_at == issued
    assert got.notice_received_at == issued + after
    assert ("notice late" in got.summary) is late


def test_notice_lateness_compares_instants_across_offsets() -> None:
    document = example("suspension")
    document["exclusion"]["issued_at"] = "2025-06-17T13:30:00+01:00"  # 12:30 UTC
    document["exclusion"]["first_day"] = "2025-06-18"
    document["submitted_at"] = "2025-06-18T13:00:00Z"  # 24.5 hours later
    assert facts(document).notice_late is True


def test_other_notifications_carry_no_exclusion_notice() -> None:
    got = facts(example("illness"))
    assert (got.exclusion_issued_at, got.notice_received_at, got.notice_late) == (
        None,
        None,
        False,
    )


def test_a_notification_built_around_the_parser_is_still_checked() -> None:
    parsed = parse_notification(body(example("illness")))
    forged: PortalNotification = msgspec.structs.replace(
        parsed, child=msgspec.structs.replace(parsed.child, upn="A885200124001")
    )
    with pytest.raises(InvalidField) as refused:
        to_canonical(forged)
    assert refused.value.field == "identifiers.upn"
