"""The API reference: Swagger UI at /schema and /schema/swagger, served whole by the gateway.

An authority's network often reaches no CDN, so the page loads Swagger UI's script and style
from /schema/assets (the release files as the swagger-ui-bundle-v2 package ships them) and
nothing from anywhere else. The UIs that Litestar can only load from a CDN (ReDoc, Stoplight
Elements, RapiDoc) are not offered.

The page and its assets hold no data and open without a token: a browser cannot send a bearer
token when it opens a page. The page asks for one, and its script fetches the OpenAPI
document with it (/schema/openapi.json still needs a token) and gives both to Swagger UI.
Nothing on the page is inline, so the gateway's Content-Security-Policy
(gateway/api/security_headers.py) applies to it unchanged; each file is named with its
digest, for Subresource Integrity and so that a cached copy is never the wrong one.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from swagger_ui_bundle import swagger_ui_path

from gateway.api.auth import SECURITY_SCHEME

if TYPE_CHECKING:
    from litestar import Request, Router

ASSET_ROUTE = "api_reference_asset"
# The files are named by digest in the page, so a browser may keep them a day.
ASSET_CACHE_CONTROL = "public, max-age=86400"
_OWN = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Asset:
    content: bytes
    media_type: str

    @functools.cached_property
    def integrity(self) -> str:
        return "sha384-" + base64.b64encode(hashlib.sha384(self.content).digest()).decode()

    @functools.cached_property
    def version(self) -> str:
        return hashlib.sha256(self.content).hexdigest()[:16]


@functools.cache
def assets() -> dict[str, Asset]:
    """Every file the page loads, by the name it is served under; nothing else is served."""
    files = {
        "swagger-ui-bundle.js": Path(str(swagger_ui_path)) / "swagger-ui-bundle.js",
        "swagger-ui.css": Path(str(swagger_ui_path)) / "swagger-ui.css",
        "api-reference.js": _OWN / "api-reference.js",
        "api-reference.css": _OWN / "api-reference.css",
    }
    return {
        name: Asset(path.read_bytes(), "text/javascript" if name.endswith(".js") else "text/css")
        for name, path in files.items()
    }


def open_paths(schema_path: str) -> list[str]:
    """Patterns of the page's paths, for the authentication middleware to let through (the
    assets' route says so itself)."""
    return [rf"^{re.escape(schema_path)}(/swagger)?/?$"]


class OfflineSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI, at the root of the OpenAPI router and at /swagger."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"])

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        files = assets()

        def url(name: str) -> str:
            asset_path = request.app.route_reverse(ASSET_ROUTE, file=name)
            return escape(f"{asset_path}?v={files[name].version}")

        def style(name: str) -> str:
            return f'<link rel="stylesheet" href="{url(name)}" integrity="{files[name].integrity}">'

        def script(name: str) -> str:
            return f'<script src="{url(name)}" integrity="{files[name].integrity}"></script>'

        title = escape(f"{openapi_schema['info']['title']}: API reference")
        spec_url = escape(self.get_openapi_json_route(request))
        page = f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
{style("swagger-ui.css")}
{style("api-reference.css")}
</head>
<body>
<form id="token-form" class="token-form" data-spec-url="{spec_url}"
      data-security-scheme="{SECURITY_SCHEME}">
<label for="token">Bearer token</label>
<input id="token" type="password" autocomplete="off" spellcheck="false" required>
<button type="submit">Load the API reference</button>
<p id="token-status" role="status">This page holds no data. The API reference needs a
client's bearer token (<code>gateway client create</code>); it stays in this page and is sent
only to this gateway.</p>
</form>
<div id="swagger-ui"></div>
{script("swagger-ui-bundle.js")}
{script("api-reference.js")}
</body>
</html>
"""
        return page.encode()

    def receive_router(self, router: Router) -> None:
        router.register(
            get(
                "/assets/{file:str}",
                name=ASSET_ROUTE,
                opt={"exclude_from_auth": True},
                include_in_schema=False,
                sync_to_thread=False,
            )(serve_asset)
        )


def serve_asset(file: FromPath[str]) -> Response[bytes]:
    asset = assets().get(file)
    if asset is None:
        raise NotFoundException(f"no asset {file!r}")
    return Response(
        asset.content,
        media_type=asset.media_type,
        headers={"Cache-Control": ASSET_CACHE_CONTROL},
    )
