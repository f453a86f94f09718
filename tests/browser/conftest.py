"""The gateway served on loopback and opened in Debian's Chromium through Playwright, with
every request to anything but 127.0.0.1 refused (an authority's network reaches no CDN), and
every Content-Security-Policy violation the page reports collected."""

from __future__ import annotations

import pathlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, Route, sync_playwright

from gateway.app import create_app
from gateway.model.client import ALL_SCOPES
from gateway.security.clients import create_client
from gateway.settings import Settings
from gateway.store import Store, make_engine
from gateway.store.migrate import upgrade
from tests.resilience.processes import free_port

CHROMIUM = pathlib.Path("/usr/bin/chromium")
LOOPBACK = "127.0.0.1"
# Each page records what its policy refused, for the test to read back.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Served:
    base: str
    token: str


@dataclass
class Offline:
    """A page whose requests off loopback were refused, listed in ``refused``."""

    page: Page
    refused: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__cspViolations")
        return violations


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'gateway.db'}"
    engine = make_engine(url)
    upgrade(engine)
    store = Store(engine)
    _, token = create_client(store, "browser", ALL_SCOPES)
    port = free_port()
    app = create_app(Settings(database_url=url), store, logging=False)
    server = uvicorn.Server(uvicorn.Config(app, host=LOOPBACK, port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield Served(f"http://{LOOPBACK}:{port}", token)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install the Debian package "
            "(apt-get update && apt-get install -y chromium)"
        )
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


@pytest.fixture
def offline(chromium: Browser) -> Iterator[Offline]:
    context = chromium.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    page = Offline(context.new_page())

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            page.refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    yield page
    context.close()
