"""The Children's Services Portal webhook: notifications schools (and, for Section 19 requests,
parents and professionals) submit about children who are not attending school (Worcestershire
CCAS, seed 000 s.5). ``parse_notification`` checks a body against contracts/portal and returns
Structs; ``mappings.portal`` turns them into the gateway's canonical facts.
"""

from adapters.portal.notification import (
    SCHEMA_PATH,
    ContinuousAbsence,
    Ehcp,
    Exclusion,
    Illness,
    InvalidNotification,
    PartTimeTimetable,
    PortalChild,
    PortalNotification,
    School,
    Section19Request,
    parse_notification,
)

__all__ = [
    "SCHEMA_PATH",
    "ContinuousAbsence",
    "Ehcp",
    "Exclusion",
    "Illness",
    "InvalidNotification",
    "PartTimeTimetable",
    "PortalChild",
    "PortalNotification",
    "School",
    "Section19Request",
    "parse_notification",
]
