"""Fixtures for the dashboard's browser tests: Debian's chromium (``make browser`` installs it;
its absence fails the tests, it never skips them), a real ``python -m observatory_api`` process
per store on a free port, and a page that records console errors, failed responses and any
request to a host other than the API's.

Headless chromium has no GPU here: ``--disable-gpu`` with ``--use-angle=swiftshader`` and
``--enable-unsafe-swiftshader`` gives MapLibre a software WebGL 2 (SwiftShader), which is
deterministic and needs no display.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import ViewportSize

from pipeline.ingest.stac_server import free_port
from tests.support.api_store import ApiStore

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
READY_S = 120.0


class Api:
    """``python -m observatory_api`` on a free port, polling its store every 0.5 s."""

    def __init__(self, store: str, registry: Path, log: Path) -> None:
        self.store = store
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "SOCOBS_POLL_SECONDS": "0.5"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "observatory_api", "--port", str(self.port), "--store", store,
             "--registry", str(registry), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        )  # fmt: skip
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        else:
            self.stop()
            raise AssertionError(f"the API did not become ready: {log.read_text()[-2000:]}")
        if self.proc.poll() is not None:
            raise AssertionError(f"the API exited: {log.read_text()[-2000:]}")
        # the basemap is simplified once per process; ask for it before any page times out on it
        httpx.get(f"{self.base}/v1/basemap/country.geojson", timeout=READY_S)

    def get(self, path: str, **params: Any) -> httpx.Response:
        r = httpx.get(f"{self.base}{path}", params=params, timeout=30)
        r.raise_for_status()
        return r

    def json(self, path: str, **params: Any) -> Any:
        return self.get(path, **params).json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def dashboard_api(api_store: ApiStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API on a copy of the demo store (the live test commits to it; the shared store stays
    as it is). Every test compares the page with the API's answers at that time."""
    root = tmp_path_factory.mktemp("dashboard-api")
    shutil.copytree(api_store.store, root / "repo")
    api = Api(str(root / "repo"), api_store.registry, root / "api.log")
    yield api
    api.stop()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go (printed at the end of the run with -s; kept by pytest's tmp dir)."""
    return tmp_path_factory.mktemp("dashboard-screenshots")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the session: Playwright's sync API keeps an asyncio
    loop running in the thread while it is open, and a later test module on the same xdist
    worker could then not call asyncio.run."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"The dashboard's browser tests need Debian's chromium at {CHROMIUM}, which is not "
            "installed. Run `make browser` (it installs the `chromium` package with apt-get) and "
            "run the tests again."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did that a clean page must not: console errors, uncaught exceptions,
    failed or refused requests, requests to another host."""

    host: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: self.errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
        page.on("request", self._request)

    def _request(self, r: Any) -> None:
        u = urlsplit(r.url)
        if u.scheme in ("data", "blob"):
            return
        if u.netloc != self.host:
            self.foreign.append(r.url)

    def check(self) -> None:
        assert self.errors == [], self.errors
        assert self.foreign == [], self.foreign


def open_page(browser: Any, api: Api) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(60_000)
    watch = Watch(f"127.0.0.1:{api.port}")
    watch.attach(page)
    return context, page, watch


@pytest.fixture
def page(browser: Any, dashboard_api: Api) -> Iterator[tuple[Any, Watch]]:
    context, pg, watch = open_page(browser, dashboard_api)
    yield pg, watch
    context.close()


def goto(page: Any, api: Api, route: str) -> None:
    """Open ``/#/route`` and wait until its page says it is drawn (main[data-ready=true])."""
    page.goto(f"{api.base}/#/{route}")
    wait_ready(page)


def wait_ready(page: Any) -> None:
    """Wait until the page for the current URL is drawn (or says why not)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "() => { const m = document.querySelector('main'); return m.dataset.route === location.hash"
            " && (m.dataset.ready === 'true' || m.dataset.ready === 'error'); }"
        )
    except PlaywrightTimeout:
        state = page.evaluate("() => [location.hash, {...document.querySelector('main').dataset}]")
        raise AssertionError(f"the page did not finish drawing: {state}") from None
    state = page.get_attribute("main", "data-ready")
    assert state == "true", page.inner_text("main")[:1000]
