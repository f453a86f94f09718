from __future__ import annotations

import re

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


def test_no_proxy_is_trusted_unless_named() -> None:
    assert load_settings({}).trusted_proxy_list == []
    named = load_settings({"GATEWAY_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,fd00::/8,"})
    assert named.trusted_proxy_list == ["10.0.0.0/8", "192.0.2.1", "fd00::/8"]


@pytest.mark.parametrize("proxies", ["10.0.0.1/8", "ingress-nginx", "*", "10.0.0.0/33"])
def test_a_proxy_that_is_not_an_address_or_a_network_names_the_variable(proxies: str) -> None:
    """uvicorn would read a bad address as a host name no connection has, trusting nothing
    without saying so, and `*` alone as every caller (0.0.0.0/0 says that, if it is meant)."""
    with pytest.raises(SettingsError, match=f"GATEWAY_TRUSTED_PROXIES: '{re.escape(proxies)}'"):
        load_settings({"GATEWAY_TRUSTED_PROXIES": f"192.0.2.1,{proxies}"})
