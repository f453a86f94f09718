"""The API reference (Swagger UI) is served by the gateway itself, script and style included, so
it works inside an authority's network with no way out. The page holds nothing but the form
that asks for a token: the OpenAPI document it then loads still needs one."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from swagger_ui_bundle import swagger_ui_path

from tests.api.conftest import Api

PAGES = ["/schema", "/schema/swagger"]


class Page(HTMLParser):
    """The page's scripts and style sheets (with their integrity) and its inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: dict[str, str | None] = {}
        self.inline_scripts = 0
        self.inline_styles = 0
        self.inputs: list[dict[str, str | None]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.assets[str(found["src"])] = found.get("integrity")
        elif tag == "script" or tag == "style":
            self._in = tag
        elif tag == "link" and found.get("rel") in {"stylesheet", "icon"}:
            self.assets[str(found["href"])] = found.get("integrity")
        elif tag == "input":
            self.inputs.append(found)
        if any(name.startswith("on") or name == "style" for name, _ in attrs):
            self.inline_scripts += 1

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.inline_scripts += 1
        elif self._in == "style" and data.strip():
            self.inline_styles += 1

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


@pytest.mark.parametrize("path", PAGES)
def test_the_page_opens_without_a_token_and_holds_only_a_form(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = parse(response.text)
    assert [i.get("type") for i in page.inputs] == ["password"]
    assert page.inputs[0].get("name") is None  # never sent in a form submission or a URL
    assert page.inline_scripts == page.inline_styles == 0
    # Not a word of the OpenAPI document: that still needs a token.
    assert "/api/v1/cases" not in response.text
    assert "list_cases" not in response.text
    assert 'data-spec-url="/schema/openapi.json"' in response.text
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", PAGES)
def test_every_asset_comes_from_the_gateway(api: Api, path: str) -> None:
    page = parse(api.client.get(path).text)
    scripts = [src for src in page.assets if src.split("?")[0].endswith(".js")]
    assert any("/swagger-ui-bundle.js" in src for src in scripts)
    for url, integrity in page.assets.items():
        if url.startswith("data:"):
            continue
        assert url.startswith("/schema/assets/"), url  # no CDN, no other host
        asset = api.client.get(url)  # no token either
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cache-control"].startswith("public, max-age="), url
        kind = asset.headers["content-type"].split(";")[0]
        assert kind == ("text/javascript" if url.split("?")[0].endswith(".js") else "text/css")
        assert integrity is not None, url
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert integrity == f"sha384-{digest}", url
        assert "//cdn." not in asset.text and "unpkg.com" not in asset.text


def test_swagger_ui_is_the_released_distribution(api: Api) -> None:
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        served = api.client.get(f"/schema/assets/{name}")
        assert served.content == (swagger_ui_path / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/schema/assets/index.html",  # the distribution's demo page, which loads a pet shop
        "/schema/assets/swagger-initializer.js",
        "/schema/assets/..%2Fopenapi.json",
        "/schema/assets/%2E%2E/openapi.json",
        "/schema/assets/",
    ],
)
def test_only_the_pages_own_assets_are_served(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code in {401, 404}, path
    assert '"paths"' not in response.text and "list_cases" not in response.text


@pytest.mark.parametrize("ui", ["redoc", "elements", "rapidoc", "oauth2-redirect.html"])
def test_the_uis_that_need_a_cdn_are_gone(api: Api, ui: str) -> None:
    response = api.client.get(f"/schema/{ui}", headers=api.token())
    assert response.status_code == 404
    assert not re.search(r"jsdelivr|unpkg|googleapis", response.text)


def test_the_document_still_needs_a_token(api: Api) -> None:
    assert api.client.get("/schema/openapi.json").status_code == 401
    document = api.client.get("/schema/openapi.json", headers=api.token("cases:read"))
    assert document.json()["paths"]["/api/v1/cases"]["get"]["operationId"] == "list_cases"
    assert document.headers["cache-control"] == "no-store"
