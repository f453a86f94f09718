"""Typed settings, read once from ``GATEWAY_*`` environment variables.

Nothing else in the gateway reads ``os.environ``: tests build a ``Settings`` directly, and a
deployment sees every knob in one place.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any

import msgspec

PREFIX = "GATEWAY_"


class SettingsError(ValueError):
    """A ``GATEWAY_*`` variable that cannot be used; the message names it."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # SQLite file under ./var/ by default so `make run` needs nothing installed.
    database_url: str = "sqlite:///./var/gateway.db"
    host: str = "127.0.0.1"
    port: int = 8000
    # API processes `gateway serve` runs on one port (PostgreSQL only). One per pod is usual
    # on Kubernetes, where replicas scale; more uses the cores of a single larger host.
    web_concurrency: int = 1
    # With several processes, how long one may go without answering its supervisor's ping
    # before it is killed and replaced. uvicorn's 5 s default killed a process busy on its
    # first requests on a loaded host, dropping the requests it held: a hung process is rare,
    # a busy one is not.
    worker_healthcheck_seconds: int = 60
    # The authority whose Section 19 rules apply (mappings/policies/<policy>.toml).
    policy: str = "lincolnshire"
    log_level: str = "INFO"
    log_json: bool = True
    # Create a local admin client on first start and print its token once (`make run` sets
    # it; a deployment creates its clients explicitly).
    bootstrap_admin: bool = False
    # Delivery: attempts before a message is dead-lettered, and the persistent back-off.
    # 12 attempts at 30 s doubling to a 6-hour cap span about a day: an outage of hours waits.
    delivery_max_attempts: int = 12
    delivery_backoff_base_seconds: float = 30.0
    delivery_backoff_cap_seconds: float = 6 * 3600.0
    # Quick retries inside one attempt, for blips that last a second or two.
    delivery_inline_retries: int = 2
    delivery_inline_wait_seconds: float = 0.2
    # A claim older than this is taken back (a worker that died mid-send).
    delivery_lease_seconds: float = 300.0
    delivery_batch_size: int = 50
    worker_poll_seconds: float = 1.0
    # `gateway worker` answers /health/live and /metrics on this port when it is set (the
    # Helm chart sets 8001), on GATEWAY_HOST.
    worker_health_port: int | None = None
    # How long one reading of the store's figures serves /metrics scrapes (several replicas
    # scraped by several Prometheus servers then cost the database one set of counts).
    metrics_store_seconds: float = 5.0
    # How long `serve` lets in-flight requests finish after SIGTERM before closing them.
    shutdown_grace_seconds: float = 30.0
    # Clocks: how early "due soon" is sent, and how often the worker looks.
    clock_due_soon_working_days: int = 5
    escalation_every_seconds: float = 300.0
    # Development only (`make run` and `gateway demo` turn it on): a destination with no URL
    # or adapter is stood in for by a log line, and its messages settle as "logged" (never
    # "delivered"; replayable). Off, such messages stay pending until the destination is set.
    log_unconfigured_destinations: bool = False
    # Mosaic casenotes over SOAP (contracts/mosaic). Without a URL the casenotes wait in the
    # outbox under "mosaic", undelivered, and readiness says so.
    mosaic_url: str | None = None
    mosaic_wsdl: str | None = None  # default: contracts/mosaic/casenote.wsdl
    mosaic_username: str = "s19-gateway"
    mosaic_password: str = ""
    mosaic_timeout_seconds: float = 15.0
    # NHS advice requests as FHIR (BaRS-style message Bundles POSTed to <url>/$process-message).
    # Without a URL they wait in the outbox under "nhs", undelivered.
    nhs_fhir_url: str | None = None
    nhs_timeout_seconds: float = 15.0
    # Where this gateway's FHIR facade is reached from outside, named in each message so NHS
    # teams know where to answer (MessageHeader.source.endpoint).
    public_base_url: str = "http://127.0.0.1:8000"
    # UKRLP, the register of learning providers (SOAP, contracts/ukrlp); unset: no look-ups.
    ukrlp_url: str | None = None
    ukrlp_timeout_seconds: float = 15.0
    # Failed authentications one address, or one wrong token, may make in a minute before
    # further wrong tokens are refused (429). A right token is never refused.
    auth_failures_per_minute: int = 20
    # Proxies (IP addresses or CIDR networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto `serve` believes. Empty: none, and the failed-login throttle counts
    # the address that connected, whatever headers a caller writes.
    trusted_proxies: str = ""
    # Largest request body accepted, in bytes (feeds have their own limits later).
    max_request_bytes: int = 1_048_576
    # Largest attendance feed, in bytes; streamed to disk, never held whole in memory.
    max_feed_bytes: int = 200 * 1_048_576
    # A large feed being read with no progress for this long was cut off (its request's
    # process died, or its sender went away): the worker reads it again from its archive.
    # Progress is written every 50,000 records, a second or two apart.
    feed_parse_lease_seconds: float = 600.0
    # The raw archive's limits (gateway/store/archive.py): the bytes one client may have
    # archived per UTC day (a body past it is refused unarchived, 429), and the largest body
    # refused whole (not UTF-8, malformed, forbidden) that is kept whole; a larger one keeps
    # only its SHA-256, size and first KiB.
    archive_bytes_per_client_per_day: int = 2 * 1024**3
    archive_refused_whole_bytes: int = 1_048_576

    def __post_init__(self) -> None:
        self.trusted_proxy_list  # noqa: B018 (refused here, at start-up, not at the first request)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def trusted_proxy_list(self) -> list[str]:
        """GATEWAY_TRUSTED_PROXIES as uvicorn's forwarded_allow_ips. Checked here because
        uvicorn takes anything it cannot read as a host name, trusted by no one, silently."""
        proxies = []
        for item in (part.strip() for part in self.trusted_proxies.split(",")):
            if not item:
                continue
            try:
                if "/" in item:
                    ipaddress.ip_network(item)  # strict, as uvicorn reads it: no host bits
                else:
                    ipaddress.ip_address(item)
            except ValueError as exc:
                raise SettingsError(
                    f"GATEWAY_TRUSTED_PROXIES: {item!r} is not an IP address or a network ({exc})"
                ) from None
            proxies.append(item)
        return proxies


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment; ``overrides`` win (used by the CLI flags)."""
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(Settings):
        value = env.get(PREFIX + field.name.upper())
        if value is not None:
            raw[field.name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec names the field as `$.name`; turn it back into the variable a user set.
        message = str(exc)
        for field in msgspec.structs.fields(Settings):
            message = message.replace(f"`$.{field.name}`", PREFIX + field.name.upper())
        raise SettingsError(f"invalid setting: {message}") from exc
