"""Children's Services Portal notification -> the gateway's canonical facts. Pure: no I/O.

A portal notification is "a notification only and not a referral" (Worcestershire 000 s.5(a)):
it becomes the child's details, the Section 19 ground, the flags the policy packs route on
(gateway.rules.engine.RoutingFacts) and a one-line summary an officer can read in a list.
Which ground each notification type is "by reason of" (Education Act 1996 s.19, quoted in 000
s.1 and 003 "Legal framework") is a table, so a reviewer can check it without reading code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import msgspec

from adapters.portal.notification import PortalNotification
from gateway.model.case import CaseReason, CaseSource
from gateway.model.child import ChildDetails, ChildIdentifiers, ChildName, EhcpStatus
from gateway.model.roll import Pupil, RollDeletion
from gateway.model.routing import NotificationType
from gateway.rules.engine import RoutingFacts
from gateway.rules.pack import ExclusionKind

# The s.19 ground each type stands for when the notifier states none. Attendance, part-time
# timetable and plain Section 19 notifications are "otherwise" until someone says why; an
# EHC-plan child who cannot attend is "otherwise" unless the notification carries illness
# details (see _reason).
REASON_BY_TYPE: dict[NotificationType, CaseReason] = {
    "illness": "illness",
    "suspension": "exclusion",
    "permanent_exclusion": "exclusion",
    "irregular_attendance": "otherwise",
    "continuous_absence": "otherwise",
    "part_time_timetable": "otherwise",
    "section19_request": "otherwise",
    "ehcp_unable_to_attend": "otherwise",
    "deletion_from_roll": "otherwise",
}
# 003 "Section 19: by reason of exclusion": suspensions fall to the school's governing board,
# permanent exclusions to the authority from the sixth school day; the packs route on which.
EXCLUSION_BY_TYPE: dict[NotificationType, ExclusionKind] = {
    "suspension": "suspension",
    "permanent_exclusion": "permanent",
}
# RoutingFacts.ehcp: a plan exists (issued) or is being drafted. 000 s.2: a child "who has an
# EHCP (or when the decision to issue a draft EHCP has been made)" goes to SEND.
# A plan in place is an issued one; a draft (or a decision to issue one) is `ehcp_draft`, so
# packs that treat drafts like plans (Worcestershire 000) say so, and the API agrees.
EHCP_IN_PLACE: frozenset[EhcpStatus] = frozenset({"issued"})
# 003 "Section 19: by reason of exclusion": "within 24 hours of the exclusion being issued".
EXCLUSION_NOTICE_WITHIN = dt.timedelta(hours=24)

LABELS: dict[NotificationType, str] = {
    "illness": "Illness",
    "suspension": "Suspension",
    "permanent_exclusion": "Permanent exclusion",
    "irregular_attendance": "Irregular attendance",
    "continuous_absence": "Continuous absence",
    "part_time_timetable": "Part-time timetable",
    "section19_request": "Section 19 request",
    "ehcp_unable_to_attend": "EHC plan, unable to attend",
    "deletion_from_roll": "Deletion from the admission register",
}
EHCP_WORDS: dict[EhcpStatus, str] = {
    "none": "no EHC plan",
    "requested": "EHC needs assessment requested",
    "assessing": "EHC needs assessment under way",
    "draft": "draft EHC plan",
    "issued": "EHC plan",
    "ceased": "EHC plan ceased",
}
_FLAGS = (
    ("special_school", "special school"),
    ("looked_after", "looked after"),
    ("open_to_social_care", "open to social care"),
    ("return_to_school_pathway", "return-to-school pathway"),
)


class PortalFacts(msgspec.Struct, kw_only=True, frozen=True):
    """What the intake needs from one notification: who, why, how to route it, whether it
    repeats one already received, and whether an exclusion was notified in time."""

    notification_id: str
    child: ChildDetails
    reason: CaseReason
    source: CaseSource
    summary: str  # one line: type, key figures, dates, school, flags
    notes: str  # the notifier's own words, kept whole
    routing: RoutingFacts
    # school URN | UPN | type | date submitted: the same school telling us the same thing about
    # the same child on the same day is one notification (a resubmitted form, a replayed hook).
    duplicate_key: str
    # When the school submitted it: the authority's receipt, which its clocks run from.
    submitted_at: dt.datetime
    # A deletion return sent through the portal: recorded as the MIS's would be (gateway/roll).
    deletion: RollDeletion | None = None
    exclusion_issued_at: dt.datetime | None = None
    exclusion_first_day: dt.date | None = None
    notice_received_at: dt.datetime | None = None
    notice_late: bool = False


def to_canonical(n: PortalNotification) -> PortalFacts:
    """Canonical facts for a notification from ``adapters.portal.parse_notification``.

    Identifiers were checked there; a PortalNotification built some other way with a bad UPN
    makes ChildIdentifiers raise gateway.model.child.InvalidField.
    """
    reason = _reason(n)
    issued_at = n.exclusion.issued_at if n.exclusion is not None else None
    return PortalFacts(
        notification_id=n.notification_id,
        child=_child(n),
        reason=reason,
        source="portal",
        summary=_summary(n),
        notes=_notes(n),
        routing=RoutingFacts(
            reason=reason,
            ehcp=n.ehcp.status in EHCP_IN_PLACE,
            ehcp_draft=n.ehcp.status == "draft" or n.ehcp.decision_to_issue_draft,
            linked_to_send=n.ehcp.linked_to_needs,
            exclusion=EXCLUSION_BY_TYPE.get(n.type),
            special_school=n.special_school,
            return_to_school_pathway=n.return_to_school_pathway,
            looked_after=n.looked_after,
            open_to_social_care=n.open_to_social_care,
            notification=n.type,
            illness_days=n.illness.days_absent if n.illness is not None else None,
            illness_consecutive=n.illness.consecutive if n.illness is not None else None,
            source="portal",
        ),
        duplicate_key=duplicate_key(n),
        submitted_at=n.submitted_at.astimezone(dt.UTC),
        deletion=_roll_deletion(n),
        exclusion_issued_at=issued_at,
        exclusion_first_day=n.exclusion.first_day if n.exclusion is not None else None,
        notice_received_at=n.submitted_at if issued_at is not None else None,
        notice_late=notice_late(n),
    )


def _roll_deletion(n: PortalNotification) -> RollDeletion | None:
    d = n.deletion_from_roll
    if d is None:
        return None
    return RollDeletion(
        school_urn=n.school.urn,
        pupil=Pupil(
            upn=n.child.upn,
            name=ChildName(given=n.child.given_name, family=n.child.family_name),
            date_of_birth=n.child.date_of_birth,
        ),
        ground=d.ground,
        deleted_on=d.deleted_on,
        destination_urn=d.destination_urn,
        notes=n.summary[:2000],
    )


def notice_late(n: PortalNotification) -> bool:
    """An exclusion notified more than 24 hours after it was issued (003 "Section 19: by reason
    of exclusion"). The notice arrives when the school submits it on the portal; exactly 24
    hours is still "within 24 hours"."""
    if n.exclusion is None:
        return False
    return n.submitted_at - n.exclusion.issued_at > EXCLUSION_NOTICE_WITHIN


def duplicate_key(n: PortalNotification) -> str:
    """The submission date is read in the offset the portal sent, which is how the school saw
    it; the portal sends every time in one convention, so a repeat gets the same key."""
    day = n.submitted_at.date().isoformat()
    return f"{n.school.urn}|{n.child.upn}|{n.type}|{day}"


def _reason(n: PortalNotification) -> CaseReason:
    """The ground the notifier states, where the type leaves it open (a Section 19 request's
    ``reason``; illness details on an EHC-plan notification), else the type's."""
    if n.section19_request is not None and n.section19_request.reason is not None:
        return n.section19_request.reason
    if n.illness is not None:
        return "illness"
    return REASON_BY_TYPE[n.type]


def _child(n: PortalNotification) -> ChildDetails:
    return ChildDetails(
        identifiers=ChildIdentifiers(upn=n.child.upn, nhs_number=n.child.nhs_number),
        name=ChildName(given=n.child.given_name, family=n.child.family_name),
        date_of_birth=n.child.date_of_birth,
        home_la=n.child.home_la,
        school_urn=n.school.urn,
        ehcp_status=n.ehcp.status,
        looked_after=n.looked_after,
    )


# --- the one-line summary ---------------------------------------------------------------------


def _days(value: float) -> str:
    return f"{value:g} day" if value == 1 else f"{value:g} days"


def _one_line(text: str) -> str:
    """Free text (a school's name, a requester's role) with its line breaks folded."""
    return " ".join(text.split())


def _at(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _illness(n: PortalNotification) -> str:
    if n.illness is None:
        return ""
    i = n.illness
    return ", ".join(
        [
            f"{_days(i.days_absent)} absent ({'consecutive' if i.consecutive else 'cumulative'})",
            "medical evidence" if i.medical_evidence else "no medical evidence",
            "individual health care plan" if i.individual_health_care_plan else "no IHCP",
        ]
    )


def _exclusion(n: PortalNotification) -> str:
    if n.exclusion is None:
        return ""
    e = n.exclusion
    length = f"{_days(e.days)} " if e.days is not None else ""
    waited = (n.submitted_at - e.issued_at).total_seconds() / 3600
    notice = (
        f"notice late: {waited:.0f} hours after issue (due within 24)"
        if notice_late(n)
        else "notified within 24 hours"
    )
    return f"{length}from {e.first_day.isoformat()}, issued {_at(e.issued_at)}, {notice}"


def _continuous_absence(n: PortalNotification) -> str:
    if n.continuous_absence is None:
        return ""
    c = n.continuous_absence
    return f"{c.days} continuous school days, last attended {c.last_attended.isoformat()}"


def _part_time(n: PortalNotification) -> str:
    if n.part_time_timetable is None:
        return ""
    p = n.part_time_timetable
    return f"{p.hours_per_week:g} hours a week since {p.started_on.isoformat()}"


def _section19_request(n: PortalNotification) -> str:
    if n.section19_request is None:
        return ""
    r = n.section19_request
    parts = [f"requested by {r.requester} ({_one_line(r.requester_role)})"]
    if r.reason is not None:
        parts.append(f"by reason of {r.reason}")
    if r.early_help_assessment:
        parts.append("Early Help Assessment attached")
    return ", ".join(parts)


def _deletion(n: PortalNotification) -> str:
    if n.deletion_from_roll is None:
        return ""
    d = n.deletion_from_roll
    where = f"to URN {d.destination_urn}" if d.destination_urn else "no destination school"
    return f"ground {d.ground or 'not given'}, deleted {d.deleted_on.isoformat()}, {where}"


def _no_figures(n: PortalNotification) -> str:
    return ""


# The key figures of each type, one function each (a table, like the reasons).
FIGURES: dict[NotificationType, Callable[[PortalNotification], str]] = {
    "illness": _illness,
    "suspension": _exclusion,
    "permanent_exclusion": _exclusion,
    "irregular_attendance": _no_figures,
    "continuous_absence": _continuous_absence,
    "part_time_timetable": _part_time,
    "section19_request": _section19_request,
    "ehcp_unable_to_attend": _illness,  # illness details, when the child is absent through illness
    "deletion_from_roll": _deletion,
}


def _flags(n: PortalNotification) -> list[str]:
    flags: list[str] = []
    if n.ehcp.status != "none":
        flags.append(EHCP_WORDS[n.ehcp.status])
    if n.ehcp.decision_to_issue_draft:
        flags.append("decision to issue a draft EHC plan")
    if n.ehcp.linked_to_needs:
        flags.append("linked to SEND")
    flags.extend(words for field, words in _FLAGS if getattr(n, field))
    return flags


def _summary(n: PortalNotification) -> str:
    """e.g. "Suspension: 3 days from 2025-11-18, issued 2025-11-17T13:30+00:00, notified
    within 24 hours; Lincoln Castle Academy (URN 137245), submitted 2025-11-17; open to social
    care"."""
    figures = FIGURES[n.type](n)
    head = f"{LABELS[n.type]}: {figures}" if figures else LABELS[n.type]
    submitted = n.submitted_at.date().isoformat()
    school = f"{_one_line(n.school.name)} (URN {n.school.urn}), submitted {submitted}"
    return "; ".join([head, school, *_flags(n)])


def _notes(n: PortalNotification) -> str:
    if n.section19_request is None:
        return n.summary
    request = n.section19_request
    return f"{n.summary}\n\nRequest ({request.requester_role}): {request.summary}"
