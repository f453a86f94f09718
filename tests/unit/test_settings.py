from __future__ import annotations

import pytest

from gateway.settings import SettingsError, load_settings


def test_environment_is_read_and_typed() -> None:
    settings = load_settings(
        {"GATEWAY_DATABASE_URL": "postgresql+psycopg://db/x", "GATEWAY_DELIVERY_MAX_ATTEMPTS": "3"}
    )
    assert settings.delivery_max_attempts == 3
    assert not settings.is_sqlite


def test_default_is_the_embedded_sqlite_store() -> None:
    settings = load_settings({})
    assert settings.is_sqlite and settings.database_url.endswith("var/gateway.db")


def test_a_bad_value_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_PORT"):
        load_settings({"GATEWAY_PORT": "eighty"})
