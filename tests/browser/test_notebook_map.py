"""Notebook 03's interactive map (notebooks/_map.py) in chromium, as Jupyter shows it: the
notebook's HTML output (an ``<iframe srcdoc>``) inside a page of another origin (a stand-in for
the notebook server, on another free port of 127.0.0.1), the API allowing that origin by CORS.
MapLibre GL comes from the API's vendored files, the tiles from its TileJSON, the legend from
its legend endpoint; nothing from any other host. Without CORS the map says how to fix it."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat
import numpy as np
import pytest
from PIL import Image

from notebooks._map import map_iframe, map_page
from pipeline.ingest.stac_server import free_port
from tests.browser.conftest import VIEWPORT, Api
from tests.browser.test_figures import agrees, ramp
from tests.support.api_store import ApiStore

pytestmark = pytest.mark.integration
SECOND = "soc_change_rate_permille"


class NotebookHost:
    """A page holding one notebook output, served from its own origin as Jupyter serves one."""

    def __init__(self) -> None:
        self.output = ""
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/":
                    self.send_error(404)
                    return
                body = (
                    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>notebook</title>'
                    '<link rel="icon" href="data:,">'
                    f"</head><body><main>{host.output}</main></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def host() -> Iterator[NotebookHost]:
    h = NotebookHost()
    yield h
    h.stop()


@pytest.fixture(scope="module")
def cors_api(
    api_store: ApiStore, host: NotebookHost, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """The API (reading the shared demo store) allowing the notebook host's origin by CORS."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOCOBS_CORS_ORIGINS", json.dumps([host.origin]))
        api = Api(api_store.store, api_store.registry, tmp_path_factory.mktemp("nbmap") / "api.log")
    yield api
    api.stop()


class Record:
    """Every request of the page and its frames, and its console errors."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url} {r.failure}"))
        page.on("response", lambda r: self.errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None)

    def foreign(self) -> list[str]:
        parts = [(u, urlsplit(u)) for u in self.urls]
        return [
            u for u, p in parts if p.scheme not in ("data", "blob", "about") and p.hostname != "127.0.0.1"
        ]


def open_map(browser: Any, host: NotebookHost, output: str) -> tuple[Any, Any, Record]:
    """Open the notebook host showing ``output``; wait until the map in its iframe is drawn
    (or says why not). Returns the browser context, the iframe's frame and the record."""
    host.output = output
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(60_000)
    rec = Record(page)
    page.goto(f"{host.origin}/")
    frame = page.wait_for_selector("iframe").content_frame()
    assert frame is not None
    wait_drawn(frame)
    return context, frame, rec


def wait_drawn(frame: Any) -> None:
    frame.wait_for_function("() => ['idle', 'error'].includes(document.body?.dataset.state)")


def ramp_share(frame: Any, stops: list[dict[str, Any]]) -> float:
    """The share of the map canvas's pixels with a colour of the legend's ramp."""
    png = frame.locator("#map canvas").screenshot()
    px = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    uniq, counts = np.unique(px, axis=0, return_counts=True)
    d = np.abs(uniq[:, None, :].astype(float) - ramp(stops)[None, :, :]).max(axis=2).min(axis=1)
    return float(counts[d <= 6].sum() / counts.sum())


def test_the_notebook_map_draws_the_api_tiles_and_legend_offline(
    browser: Any, host: NotebookHost, cors_api: Api, artifacts: Path
) -> None:
    context, frame, rec = open_map(browser, host, map_iframe(cors_api.base, ["soc_stock", SECOND]))
    try:
        assert frame.evaluate("document.body.dataset.state") == "idle", frame.inner_text("#error")
        assert frame.locator("#error").is_hidden()
        frame.page.screenshot(path=str(artifacts / "notebook-map.png"))
        for indicator in ("soc_stock", SECOND):
            if indicator != "soc_stock":
                frame.select_option("#indicator", indicator)
                wait_drawn(frame)
                assert frame.evaluate("document.body.dataset.state") == "idle", frame.inner_text("#error")
            legend = cors_api.json(f"/v1/tiles/{indicator}/legend")
            title = cors_api.json(f"/v1/tiles/{indicator}/tilejson.json")["name"]
            assert frame.get_attribute("#legend", "data-indicator") == indicator
            assert frame.inner_text("#legend figcaption") == f"{title} ({legend['unit']})"
            ticks = frame.locator("#legend .ticks span").all_inner_texts()
            agrees(ticks[0], legend["stops"][0]["value"], "")
            agrees(ticks[-1], legend["stops"][-1]["value"], "")
            # the borders alone are dark grey lines on a transparent canvas: the ramp's colours
            # come from the tiles
            share = ramp_share(frame, legend["stops"])
            assert share > 0.05, (indicator, share)
            tiles = [u for u in rec.urls if f"/v1/tiles/{indicator}/" in u and ".png?" in u]
            assert tiles and all(u.startswith(f"{cors_api.base}/") for u in tiles)
        assert f"{cors_api.base}/static/vendor/maplibre-gl/maplibre-gl.mjs" in rec.urls
        assert rec.errors == []
        assert rec.foreign() == []
    finally:
        context.close()


def test_without_cors_the_map_says_how_to_allow_the_notebook(
    browser: Any, host: NotebookHost, dashboard_api: Api
) -> None:
    """The dashboard's API allows no other origin: the page explains, with its own origin."""
    context, frame, rec = open_map(browser, host, map_iframe(dashboard_api.base))
    try:
        assert frame.evaluate("document.body.dataset.state") == "error"
        text = frame.inner_text("#error")
        assert dashboard_api.base in text and "MapLibre GL did not load" in text
        assert f"SOCOBS_CORS_ORIGINS='[\"{host.origin}\"]'" in text
        assert rec.foreign() == []
    finally:
        context.close()


def test_an_indicator_without_tiles_or_no_api_is_told_in_the_notebook(cors_api: Api) -> None:
    with pytest.raises(ValueError, match=r"'soc_stock_total' is not one .* e\.g\. 'soc_stock'"):
        map_page(cors_api.base, ["soc_stock", "soc_stock_total"])
    with pytest.raises(ValueError, match="at least one indicator"):
        map_page(cors_api.base, [])
    nobody = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RuntimeError, match=r"did not answer.*SOCOBS_API_URL"):
        map_page(nobody)
    page = map_page(cors_api.base + "/", ["soc_stock", SECOND])
    assert page.count('<option value="') == 2 and "//v1" not in page


def test_the_committed_notebook_shows_the_map() -> None:
    """``make notebooks`` kept the map cell's output: the iframe page, MapLibre from the API."""
    nb = nbformat.read(Path(__file__).parents[2] / "notebooks" / "03_api_reproduce.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "show_map(" in c.source]
    assert [o["output_type"] for o in cell.outputs] == ["execute_result"]  # no warning, no error
    shown = cell.outputs[0]["data"]["text/html"]
    assert shown.startswith('<div class="socobs-map"><iframe srcdoc="&lt;!doctype html&gt;')
    assert "/static/vendor/maplibre-gl/maplibre-gl.mjs" in shown and "https://" not in shown
