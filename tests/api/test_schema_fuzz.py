"""schemathesis, driven by the OpenAPI document, against the gateway served on loopback: on
every operation, whatever the generated input, no 5xx, and every answer is one the document
declares (its status code, its content type and its schema). Kept small per operation (the
suite must stay quick); the run is seeded so a failure can be repeated."""

from __future__ import annotations

import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.app import create_app
from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade
from tests.resilience.processes import free_port

SCHEMA = schemathesis.openapi.from_path(
    pathlib.Path(__file__).parents[2] / "contracts" / "openapi.json"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'gateway.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = Store(engine)
    _, token = create_client(store, "fuzz", ALL_SCOPES)
    port = free_port()
    settings_ = Settings(database_url=url, auth_failures_per_minute=100_000)
    app = create_app(settings_, store, logging=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_with_a_server_error(
    case: Any, served: tuple[str, dict[str, str]]
) -> None:
    base, headers = served
    response = case.call(base_url=base, headers=headers)
    case.validate_response(
        response,
        checks=(
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ),
    )
