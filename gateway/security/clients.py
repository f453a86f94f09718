"""Creating, listing and revoking API clients (CLI and bootstrap)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import msgspec
import structlog

from gateway.errors import Conflict, InvalidInput
from gateway.model.client import ALL_SCOPES, Client, Scope
from gateway.security.tokens import new_token, token_hash
from gateway.store.unit_of_work import Store

log = structlog.get_logger("gateway.security")

LOCAL_ADMIN = "local-admin"
# Scopes that act across the authority whatever the row: admin routes (every delivery, every
# audit row) and the Children's Services Portal (it opens cases for any child). A bound
# client holding one would reach past its binding.
AUTHORITY_WIDE: tuple[Scope, ...] = ("admin", "portal:write")


def parse_scopes(text: str) -> tuple[Scope, ...]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in ALL_SCOPES]
    if unknown or not names:
        raise InvalidInput(
            f"unknown scope(s) {', '.join(unknown) or '(none given)'}; known: "
            + ", ".join(ALL_SCOPES),
            field="scopes",
        )
    return msgspec.convert(names, tuple[Scope, ...])


BOOTSTRAP_LIFETIME = dt.timedelta(days=30)


def create_client(
    store: Store,
    name: str,
    scopes: Sequence[Scope],
    expires_at: dt.datetime | None = None,
    *,
    organisations: Sequence[str] = (),
    schools: Sequence[str] = (),
    providers: Sequence[str] = (),
) -> tuple[Client, str]:
    """Returns the client and its token; the token is not recoverable afterwards."""
    _check_bindings(scopes, organisations, schools, providers)
    token = new_token()
    with store.unit_of_work() as uow:
        client = uow.clients.add(
            name, scopes, token_hash(token), uow.now, expires_at, organisations, schools, providers
        )
    return client, token


# A token a deployment supplies must be as hard to guess as one the gateway makes.
MIN_SUPPLIED_TOKEN_LENGTH = 32


def provision_client(
    store: Store,
    name: str,
    scopes: Sequence[Scope],
    token: str,
    expires_at: dt.datetime | None = None,
    *,
    organisations: Sequence[str] = (),
    schools: Sequence[str] = (),
    providers: Sequence[str] = (),
) -> str:
    """A client whose token the deployment holds (a Kubernetes Secret), made or brought up to
    date so that running it again changes nothing; only the token's hash is stored."""
    _check_bindings(scopes, organisations, schools, providers)
    if len(token) < MIN_SUPPLIED_TOKEN_LENGTH or not re.fullmatch(r"[\x21-\x7e]+", token):
        raise InvalidInput(
            f"a supplied token needs at least {MIN_SUPPLIED_TOKEN_LENGTH} printable characters "
            "and no spaces (e.g. `openssl rand -base64 32`)",
            field="token",
        )
    with store.unit_of_work() as uow:
        return uow.clients.provision(
            name, scopes, token_hash(token), uow.now, expires_at, organisations, schools, providers
        )


def prune_clients(store: Store, declared: Sequence[str]) -> list[str]:
    """Revoke the clients the deployment no longer declares; their tokens stop at once."""
    with store.unit_of_work() as uow:
        return uow.clients.prune(declared, uow.now)


def _check_bindings(
    scopes: Sequence[Scope],
    organisations: Sequence[str],
    schools: Sequence[str],
    providers: Sequence[str],
) -> None:
    wide = sorted(set(scopes) & set(AUTHORITY_WIDE))
    if wide and (organisations or schools or providers):
        raise InvalidInput(
            f"a client with {', '.join(wide)} cannot be bound to schools, organisations or "
            "providers: those scopes act authority-wide",
            field="scopes",
        )
    for provider in providers:
        if not re.fullmatch(r"[0-9]{6}|1[0-9]{7}", provider):
            raise InvalidInput(
                f"{provider!r} is neither a provider URN (6 digits) nor a UKPRN (1 and 7 digits)",
                field="providers",
            )
    for ods in organisations:
        if not re.fullmatch(r"[A-Z0-9]{3,10}", ods):
            raise InvalidInput(f"{ods!r} is not an ODS code", field="organisations")
    for urn in schools:
        if not re.fullmatch(r"[0-9]{6}", urn):
            raise InvalidInput(f"{urn!r} is not a school URN", field="schools")


def bootstrap_admin(store: Store) -> str | None:
    """On the first start of an empty store, an admin client so the API can be used at once.
    It expires after 30 days: a local convenience, not a deployment's credential. Two
    processes starting together make one; the other sees it and carries on."""
    token = new_token()
    try:
        with store.unit_of_work() as uow:
            if uow.clients.count() > 0:
                return None
            uow.clients.add(
                LOCAL_ADMIN, ALL_SCOPES, token_hash(token), uow.now, uow.now + BOOTSTRAP_LIFETIME
            )
    except Conflict:
        return None
    return token


def authenticate(store: Store, token: str) -> Client | None:
    with store.unit_of_work(read_only=True) as uow:
        client = uow.clients.by_token_hash(token_hash(token))
        if client is None or not client.active(uow.now):
            return None
    if client.bound and set(client.scopes) & set(AUTHORITY_WIDE):
        # Made before bound clients were refused these scopes: it is not let in until an
        # administrator splits it (client ensure, or a new client).
        log.warning("bound client with an authority-wide scope refused", client=client.name)
        return None
    return client
