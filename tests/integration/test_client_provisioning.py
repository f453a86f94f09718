"""`gateway client ensure`: clients a deployment declares, with tokens it keeps in Secrets.
Run on every deploy, it changes only what the declaration changed, never prints a token, and
does not bring a revoked client back under the token it was revoked with."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from gateway.errors import Conflict, InvalidInput
from gateway.security.clients import (
    authenticate,
    create_client,
    provision_client,
    prune_clients,
)
from gateway.store import Store

TOKEN = "k" * 20 + "Zq9!x-Ty_7mR3pLw2Vb8"  # 40 printable characters
ROTATED = "r" * 20 + "Ab3$Nn8-Qx_1Lm5Ty7Ws"


def test_a_declared_client_is_made_once_and_then_left_alone(store: Store) -> None:
    assert provision_client(store, "nhs-team", ("nhs",), TOKEN, organisations=("RVR",)) == (
        "created"
    )
    assert provision_client(store, "nhs-team", ("nhs",), TOKEN, organisations=("RVR",)) == (
        "unchanged"
    )
    client = authenticate(store, TOKEN)
    assert client is not None
    assert (client.name, client.scopes, client.organisations) == ("nhs-team", ("nhs",), ("RVR",))


def test_a_changed_declaration_updates_scopes_bindings_and_token(store: Store) -> None:
    provision_client(store, "mis", ("attendance:write",), TOKEN, schools=("120456",))
    assert (
        provision_client(store, "mis", ("attendance:write",), ROTATED, schools=("120457",))
        == "updated"
    )
    assert authenticate(store, TOKEN) is None  # the old token stops working at once
    client = authenticate(store, ROTATED)
    assert client is not None
    assert client.schools == ("120457",)


def test_a_revoked_client_stays_revoked_until_its_token_is_rotated(store: Store) -> None:
    provision_client(store, "portal", ("portal:write",), TOKEN)
    with store.unit_of_work() as uow:
        uow.clients.revoke("portal", uow.now)
    with pytest.raises(Conflict, match="taken out of use"):
        provision_client(store, "portal", ("portal:write",), TOKEN)
    assert authenticate(store, TOKEN) is None
    assert provision_client(store, "portal", ("portal:write",), ROTATED) == "updated"
    assert authenticate(store, ROTATED) is not None


def test_a_token_rotated_away_never_works_again(store: Store) -> None:
    """A Secret reverted to the leaked token it replaced (a GitOps revert) is refused."""
    provision_client(store, "camhs", ("nhs",), TOKEN, organisations=("RVR",))
    provision_client(store, "camhs", ("nhs",), ROTATED, organisations=("RVR",))
    with pytest.raises(Conflict, match="taken out of use"):
        provision_client(store, "camhs", ("nhs",), TOKEN, organisations=("RVR",))
    assert authenticate(store, TOKEN) is None
    assert authenticate(store, ROTATED) is not None


def test_clients_no_longer_declared_are_revoked_and_hand_made_ones_kept(store: Store) -> None:
    provision_client(store, "portal", ("portal:write",), TOKEN)
    provision_client(store, "board", ("reports:read",), ROTATED)
    _, by_hand = create_client(store, "ops-admin", ("admin",))
    assert prune_clients(store, ["board"]) == ["portal"]
    assert authenticate(store, TOKEN) is None
    assert authenticate(store, ROTATED) is not None
    assert authenticate(store, by_hand) is not None
    assert prune_clients(store, ["board"]) == []  # once
    assert prune_clients(store, []) == ["board"]  # nothing declared: none kept
    assert authenticate(store, by_hand) is not None


def test_a_guessable_token_is_refused(store: Store) -> None:
    for weak in ("short", "x" * 31, "has a space in it and is long enough"):
        with pytest.raises(InvalidInput, match="at least 32 printable"):
            provision_client(store, "weak", ("metrics",), weak)
    assert authenticate(store, "x" * 31) is None


def test_the_command_reads_the_token_from_the_environment_and_never_prints_it(
    tmp_path: pathlib.Path,
) -> None:
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "SCRAPER_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "gateway"]
    subprocess.run([*command, "migrate"], env=env, check=True, capture_output=True)
    ensure = [
        *command,
        *("client", "ensure", "--name", "prometheus", "--scopes", "metrics"),
        *("--token-env", "SCRAPER_TOKEN"),
    ]
    first = subprocess.run(ensure, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(ensure, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.strip() == "client prometheus: created"
    assert second.stdout.strip() == "client prometheus: unchanged"
    for run in (first, second):
        assert TOKEN not in run.stdout + run.stderr
    missing = subprocess.run(
        [*ensure[:-1], "NOT_SET_ANYWHERE"], env=env, capture_output=True, text=True, check=False
    )
    assert missing.returncode != 0
    assert "NOT_SET_ANYWHERE is not set or empty" in missing.stderr
