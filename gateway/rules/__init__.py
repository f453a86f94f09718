"""Section 19 rules: policy packs (data) and the engine that applies them."""

from gateway.model.routing import RoutingDecision
from gateway.rules.engine import RoutingFacts, concern_route, route
from gateway.rules.pack import PackError, PolicyPack, load_pack

__all__ = [
    "PackError",
    "PolicyPack",
    "RoutingDecision",
    "RoutingFacts",
    "concern_route",
    "load_pack",
    "route",
]
