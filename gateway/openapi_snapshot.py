"""The OpenAPI document as committed to contracts/openapi.json: stable text for diffing."""

from __future__ import annotations

import json

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import Store, make_engine


def render() -> str:
    # The document depends on routes only; an in-memory store keeps this side-effect free.
    app = create_app(Settings(), Store(make_engine("sqlite://")), logging=False)
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True) + "\n"
