"""Whatever arrives at the webhook, parse_notification returns a notification or raises
InvalidNotification with at least one (path, message): the API maps that to a refusal naming the
fields, and any other exception would be a server error the school cannot act on. A parsed
notification always maps (to_canonical raises nothing)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.portal import InvalidNotification, parse_notification
from mappings.portal import to_canonical
from tests.unit.portal import EXAMPLES, body, example

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json") if not p.stem.startswith("invalid_"))

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# Values near the contract's own: dates, times, codes and numbers that are nearly right.
plausible: st.SearchStrategy[Any] = st.sampled_from(
    [
        "2025-11-17", "2025-13-01", "2025-11-17T13:30:00Z", "2025-11-17T13:30:00",
        "2025-11-17T13:30:00.1234567891+01:00", "9434765919", "9434765918", "M885200124001",
        "885", "none", "issued", "draft", "suspension", "illness", "", 0, 0.5, 10, 10.0, 46, -1,
        1e308, True, False, None, [], {},
    ]
)  # fmt: skip


def parses_or_refuses(raw: bytes) -> None:
    errors: list[tuple[str, str]] = []
    try:
        facts = to_canonical(parse_notification(raw))
        assert "\n" not in facts.summary and "\r" not in facts.summary
    except InvalidNotification as refused:
        errors = refused.errors
        assert errors
    assert all(path and message for path, message in errors)
    assert errors == sorted(errors)


def paths_of(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths_of(value, (*prefix, key))
    return found


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes(raw: bytes) -> None:
    parses_or_refuses(raw)


@SETTINGS
@given(json_values)
def test_any_json_value(document: object) -> None:
    parses_or_refuses(json.dumps(document).encode())


@SETTINGS
@given(st.dictionaries(st.sampled_from(sorted(example("suspension"))), json_values, max_size=12))
def test_any_object_with_the_contracts_keys(document: dict[str, Any]) -> None:
    parses_or_refuses(body(document))


@SETTINGS
@given(st.sampled_from(NAMES), st.data())
def test_an_example_with_values_changed_or_removed(name: str, data: st.DataObject) -> None:
    document = example(name)
    for path in data.draw(st.lists(st.sampled_from(paths_of(document)), max_size=3)):
        parent: Any = document
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            if data.draw(st.booleans()):
                del parent[path[-1]]
            else:
                parent[path[-1]] = data.draw(plausible | json_values)
    parses_or_refuses(body(document))
