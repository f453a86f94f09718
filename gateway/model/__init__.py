"""The canonical vocabulary: the only types the core speaks."""

from gateway.model.case import (
    Case,
    CasePage,
    CaseReason,
    CaseStatus,
    CaseSummary,
    NewCase,
    StatusChange,
)
from gateway.model.child import Child, ChildDetails, ChildIdentifiers, ChildName, InvalidField
from gateway.model.client import ALL_SCOPES, Client, Scope
from gateway.model.delivery import Delivery, DeliveryDetail, OutboundMessage
from gateway.model.events import Action, Decision, Event, EventDetail

__all__ = [
    "ALL_SCOPES",
    "Action",
    "Case",
    "CasePage",
    "CaseReason",
    "CaseStatus",
    "CaseSummary",
    "Child",
    "ChildDetails",
    "ChildIdentifiers",
    "ChildName",
    "Client",
    "Decision",
    "Delivery",
    "DeliveryDetail",
    "Event",
    "EventDetail",
    "InvalidField",
    "NewCase",
    "OutboundMessage",
    "Scope",
    "StatusChange",
]
