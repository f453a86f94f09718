"""The portal port as the intake sees it: body in, canonical facts out, the adapter's
refusal turned into the core's error at this edge."""

from __future__ import annotations

from adapters.portal.notification import InvalidNotification, parse_notification
from gateway.intake.portal import InvalidNotificationBody
from mappings.portal import PortalFacts, to_canonical


def read_notification(body: bytes) -> PortalFacts:
    try:
        notification = parse_notification(body)
    except InvalidNotification as exc:
        raise InvalidNotificationBody(list(exc.errors)) from exc
    return to_canonical(notification)
