"""The Litestar application factory: one app per settings/store pair, so each test can make
its own against its own database."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from adapters.mis.readers import mis_readers
from adapters.mis.roll_returns import additions_reader, deletions_reader
from adapters.portal.reader import read_notification
from gateway import __version__
from gateway.api.advice import AdviceController, AssessmentController, SharingController
from gateway.api.api_reference import OfflineSwaggerUI, open_paths
from gateway.api.attendance import ChildAttendanceController, FeedController
from gateway.api.auth import (
    SECURITY_SCHEME,
    BearerAuthentication,
    json_body_guard,
    scope_guard,
)
from gateway.api.cases import CaseController
from gateway.api.children import ChildController
from gateway.api.deliveries import AuditController, ChildLinkController, DeliveryController
from gateway.api.deps import provide_pack, provide_store
from gateway.api.fhir import fhir_router
from gateway.api.health import live, ready
from gateway.api.metrics import metrics
from gateway.api.openapi_errors import GatewayOpenAPIConfig
from gateway.api.panels import PanelController
from gateway.api.portal import PortalController
from gateway.api.problems import exception_handlers
from gateway.api.providers import PlacementController, ProviderController
from gateway.api.reach_guard import reach_guard
from gateway.api.reports import ReportController
from gateway.api.request import GatewayRequest
from gateway.api.request_context import RequestContextMiddleware, add_request_id_header
from gateway.api.roll import RollController
from gateway.api.security_headers import add_security_headers
from gateway.api.sla import CaseClockController, ClockController
from gateway.intake.ports import FeedReader
from gateway.logs import configure_logging
from gateway.model.attendance import FeedFormat
from gateway.observability.http_metrics import http_metrics
from gateway.rules.pack import load_pack
from gateway.security.throttle import FailureThrottle
from gateway.settings import Settings, load_settings
from gateway.store.archive import ArchiveRules
from gateway.store.engine import make_engine
from gateway.store.unit_of_work import Store

SCHEMA_PATH = "/schema"
API_ROUTES = [
    AuditController,
    AdviceController,
    AssessmentController,
    SharingController,
    CaseController,
    ChildController,
    ChildAttendanceController,
    ChildLinkController,
    DeliveryController,
    FeedController,
    PanelController,
    PortalController,
    RollController,
    PlacementController,
    ProviderController,
    ClockController,
    CaseClockController,
    ReportController,
]


def openapi_config() -> OpenAPIConfig:
    return GatewayOpenAPIConfig(
        title="Section 19 interoperability gateway",
        version=__version__,
        description=(
            "Canonical case API of the Section 19 gateway. Every operation but the health "
            "checks needs a bearer token carrying the scope it names."
        ),
        path=SCHEMA_PATH,
        # Swagger UI served whole by the gateway (no CDN), and the document as JSON and YAML;
        # the other UIs Litestar offers load from CDNs and are left out.
        render_plugins=[OfflineSwaggerUI(), YamlRenderPlugin()],
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(
                    type="http", scheme="bearer", description="Token from `gateway client create`"
                )
            }
        ),
        use_handler_docstrings=True,
    )


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    *,
    logging: bool = True,
    feed_readers: dict[FeedFormat, FeedReader] | None = None,
) -> Litestar:
    settings = settings or load_settings()
    if logging:
        configure_logging(settings.log_level, settings.log_json)
    store = store or Store(make_engine(settings.database_url))
    pack = load_pack(settings.policy)  # a broken or unknown pack stops the service here
    if store.pack is None:
        store.pack = pack
    store.archive_rules = ArchiveRules.from_settings(settings)
    api = Router(
        path="/api/v1",
        route_handlers=API_ROUTES,
        guards=[scope_guard, json_body_guard, reach_guard],
        dependencies={
            "store": Provide(provide_store, sync_to_thread=False),
            "pack": Provide(provide_pack, sync_to_thread=False),
        },
    )
    app = Litestar(
        route_handlers=[live, ready, metrics, api, fhir_router(provide_store, provide_pack)],
        middleware=[
            http_metrics,  # outermost, so refusals are counted too
            RequestContextMiddleware,
            # The API reference's page holds no data; the document it loads needs a token.
            DefineMiddleware(
                BearerAuthentication, exclude=[r"^/health/", *open_paths(SCHEMA_PATH)]
            ),
        ],
        exception_handlers=exception_handlers,
        request_class=GatewayRequest,
        openapi_config=openapi_config(),
        state=State(
            {
                "store": store,
                "settings": settings,
                "pack": pack,
                "feed_readers": feed_readers if feed_readers is not None else mis_readers(),
                "portal_reader": read_notification,
                "roll_readers": {"deletions": deletions_reader, "additions": additions_reader},
                "auth_throttle": FailureThrottle(settings.auth_failures_per_minute, 60.0),
            }
        ),
        request_max_body_size=settings.max_request_bytes,
        before_send=[add_request_id_header, add_security_headers],
        logging_config=None,  # gateway.logs owns logging (redaction); Litestar must not reset it
        on_shutdown=[store.engine.dispose],
    )
    return app


def app_from_environment() -> Litestar:
    """The app as each of several `gateway serve --workers` processes builds it: settings
    from the same environment, logging set up in that process."""
    return create_app()
