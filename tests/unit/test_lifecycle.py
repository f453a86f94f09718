"""The case lifecycle table (mappings/data/case_lifecycle.toml) against the model."""

from __future__ import annotations

import typing

import pytest

from gateway.cases.lifecycle import lifecycle
from gateway.errors import Conflict
from gateway.model.case import CaseStatus


def test_every_status_has_a_cited_entry_and_moves_only_to_known_statuses() -> None:
    table = lifecycle()
    known = set(typing.get_args(CaseStatus))
    assert set(table.statuses) == known
    for status in table.statuses.values():
        assert status.cite
        assert set(status.next) <= known


def test_panel_outcomes_follow_lincolnshire_step_4() -> None:
    panel = lifecycle().statuses["awaiting_panel"].next
    assert set(panel) == {"agreed", "not_agreed_at_this_time", "multi_agency_meeting", "not_agreed"}


def test_a_closed_case_goes_nowhere() -> None:
    with pytest.raises(Conflict, match="allowed next: none"):
        lifecycle().check_move("closed", "received")
