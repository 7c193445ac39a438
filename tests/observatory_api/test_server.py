"""A real ``socobs-api`` process under hostile requests: a 50 MB chunked body, adversarial
polygons, 8 concurrent cold point reads, the store folder renamed and put back; its memory
stays bounded, its errors are problem+json, its access log is one JSON object per request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil
import pytest

from pipeline.ingest.stac_server import free_port
from tests.observatory_api.shapes import polygon, star

pytestmark = pytest.mark.integration
RSS_LIMIT = 1.5 * 2**30


class Server:
    def __init__(self, store: Path, registry: Path, log: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "SOCOBS_POLL_SECONDS": "0.2"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "observatory_api", "--port", str(self.port), "--store", str(store),
             "--registry", str(registry), *args],
            env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        )  # fmt: skip
        self.peak_rss = 0
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._sample, daemon=True)
        self._watch.start()
        deadline = time.monotonic() + 240  # a loaded 2-core machine: numba and icechunk start slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the API did not become ready: {log.read_text()[-2000:]}")

    def _sample(self) -> None:
        p = psutil.Process(self.proc.pid)
        while not self._stop.is_set():
            try:
                self.peak_rss = max(self.peak_rss, p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def access(self) -> list[dict]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("logger") == "observatory_api.access":
                out.append(doc)
        return out


@pytest.fixture()
def server(api_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(api_store.store, store)
    s = Server(store, api_store.registry, tmp_path / "api.log", "--log-level", "info")
    try:
        yield s, store
    finally:
        s.stop()


def _is_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def test_hostile_requests_against_a_real_server(server):
    s, _ = server
    with httpx.Client(base_url=s.base, timeout=60) as c:
        assert c.head("/healthz").status_code == 200

        def body():  # 50 MB, chunked (no Content-Length)
            for _ in range(50):
                yield b" " * 2**20

        t0 = time.monotonic()
        r = c.post("/v1/aoi/assess", content=body(), headers={"content-type": "application/json"})
        assert _is_problem(r, 413)["parameter"] == "body"
        assert time.monotonic() - t0 < 30
        _is_problem(c.post("/v1/aoi/assess", json={"geometry": polygon(star(19_999)), "ring_km": 200}), 413)
        world = polygon([(-180, -90), (180, -90), (180, 90), (-180, 90)])
        _is_problem(c.post("/v1/aoi/assess", json={"geometry": world}), 413)
        across = polygon([(179.5, 65), (-179.5, 65), (-179.5, 66), (179.5, 66)])
        assert c.post("/v1/aoi/assess", json={"geometry": across, "ring_km": 200}).status_code == 200
        _is_problem(c.get("/nope"), 404)
        _is_problem(c.put("/v1/point"), 405)

    def point(_: int) -> dict:
        with httpx.Client(base_url=s.base, timeout=60) as c:
            r = c.get("/v1/point", params={"lat": -1.3, "lon": 36.8})
            assert r.status_code == 200
            return r.json()

    with ThreadPoolExecutor(8) as ex:
        bodies = list(ex.map(point, range(8)))
    assert all(b == bodies[0] for b in bodies)
    assert s.peak_rss < RSS_LIMIT, s.peak_rss / 2**20
    metrics = httpx.get(f"{s.base}/metrics").text
    assert 'socobs_http_requests_total{method="GET",route="/v1/point",status="200"} 8.0' in metrics
    time.sleep(0.3)
    log = s.access()
    points = [x for x in log if x["route"] == "/v1/point" and x["method"] == "GET"]
    assert len(points) == 8 and len({x["request_id"] for x in points}) == 8
    assert all(x["status"] == 200 and x["snapshot"] == bodies[0]["snapshot_id"] for x in points)
    assert all(isinstance(x["duration_ms"], float) for x in points)
    assert any(x["status"] == 413 and x["route"] == "/v1/aoi/assess" for x in log)
    assert "Traceback" not in s.log.read_text()


def test_readyz_follows_the_store_folder(server):
    s, store = server
    with httpx.Client(base_url=s.base, timeout=30) as c:
        ready = c.get("/readyz").json()
        assert ready["status"] == "ready"
        moved = store.with_name("store-moved")
        store.rename(moved)
        try:
            time.sleep(1.2)  # past the readiness check's one-second reuse
            r = c.get("/readyz")
            body = _is_problem(r, 503)
            assert int(r.headers["retry-after"]) > 0 and str(store) not in r.text
            assert c.get("/healthz").status_code == 200  # alive
            cold = c.get("/v1/point", params={"lat": 48.3, "lon": 2.7})  # chunks never read before
            _is_problem(cold, 503)
            assert str(store) not in cold.text and "retry-after" in cold.headers
            status = c.get("/v1/status").json()
            assert status["last_error"] is None or str(store) not in status["last_error"]
            del body
        finally:
            moved.rename(store)
        time.sleep(1.2)
        assert c.get("/readyz").status_code == 200
        assert c.get("/v1/point", params={"lat": 48.3, "lon": 2.7}).status_code == 200
    assert "Traceback" not in s.log.read_text()


def test_log_level_warning_silences_the_access_log(api_store, tmp_path):
    s = Server(Path(api_store.store), api_store.registry, tmp_path / "quiet.log", "--log-level", "warning")
    try:
        assert httpx.get(f"{s.base}/v1/regions/FRA/summary").status_code == 200
    finally:
        s.stop()
    assert s.access() == []
    assert np.isfinite(s.peak_rss)
