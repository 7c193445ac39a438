"""Ex-post assessments with a real uvicorn process: a project registered with a key gets one at
the snapshot served; after the pipeline commits a new snapshot to the store, the API computes it
again at that snapshot (in the background), and its numbers are POST /v1/aoi/assess's answer for
the same polygon at that snapshot. Each project is assessed once per snapshot."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.ingest.stac_server import free_port
from pipeline.registry.db import database_url
from pipeline.registry.keys import create_key
from pipeline.rothc.job import run_rothc_job
from tests.support.api_store import RES
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration
POLYGON = {
    "type": "Polygon",
    "coordinates": [[[1.0, 46.0], [4.5, 46.2], [4.0, 48.5], [1.5, 48.0], [1.0, 46.0]]],
}


def _wait(fn: Any, what: str, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def api(api_store: Any, tmp_path: Path) -> Any:
    store = tmp_path / "repo"
    shutil.copytree(api_store.store, store)
    var = tmp_path / "var"
    var.mkdir()
    env = {**os.environ, "SOCOBS_POLL_SECONDS": "0.3", "SOCOBS_VAR": str(var)}
    env.pop("SOCOBS_DATABASE_URL", None)
    port = free_port()
    log = tmp_path / "api.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "observatory_api", "--port", str(port), "--store", str(store),
         "--registry", str(api_store.registry), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert proc.poll() is None, log.read_text()[-2000:]
            return False

    try:
        _wait(ready, "the API")
        yield base, store, database_url(var), log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ex_post_follows_each_new_snapshot(api: Any) -> None:
    base, store, url, log = api
    key, _ = create_key(url, "editor", note="test")  # the API migrated the database at start-up
    h = {"Authorization": f"Bearer {key}"}
    c = httpx.Client(base_url=base, timeout=60)
    org = {"name": "Test org", "membership": "member", "type": "research", "country": "FRA"}
    assert c.post("/v1/organisations", json=org, headers=h).status_code == 201
    props = {
        "organisation": "Test org",
        "country": "FRA",
        "start_date": "2020-01-01",
        "end_date": "2030-12-31",
        "practices": ["no_tillage"],
    }
    made = c.post(
        "/v1/projects",
        json={"type": "Feature", "geometry": POLYGON, "properties": {**props, "name": "Polygon"}},
        headers=h,
    )
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    point = c.post(
        "/v1/projects",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [2.5, 47.0]},
            "properties": {**props, "name": "Point", "area_ha": 100.0},
        },
        headers=h,
    )
    assert point.status_code == 201, point.text
    first = c.get("/v1/status").json()["snapshot_id"]

    def ex_post_at(snapshot: str) -> dict[str, Any] | None:
        a = c.get(f"/v1/projects/{pid}/assessment").json()["ex_post"]
        return a if a is not None and a["snapshot_id"] == snapshot else None

    at_first = _wait(lambda: ex_post_at(first), "the ex-post at the first snapshot")
    assert at_first["status"] == "done", at_first
    # the pipeline commits a new snapshot to the served store
    new = run_rothc_job(demo_job(store, grid={"resolution": RES}), years=3).snapshot_id
    _wait(lambda: c.get("/v1/status").json()["snapshot_id"] == new, "the API to serve the new snapshot")
    got = _wait(lambda: ex_post_at(new), "the ex-post at the new snapshot")
    assert got["status"] == "done" and got["kind"] == "ex_post" and "/v1/aoi/assess" in got["method"]
    truth = c.post("/v1/aoi/assess", json={"geometry": POLYGON})
    assert truth.status_code == 200 and truth.json()["snapshot_id"] == new
    expected = truth.json()
    for k in ("start_epoch", "end_epoch", "landcover_class", "project", "control", "rate_difference"):
        assert got["result"][k] == expected[k], k
    assert got["summary"]["rate_difference_t_c_ha_yr"] == expected["rate_difference"]
    # in the project's properties, with its ex-ante; the point project has no ex-post
    features = {f["id"]: f["properties"] for f in c.get("/v1/projects").json()["features"]}
    assert features[pid]["ex_post"]["snapshot_id"] == new
    assert features[pid]["ex_post"]["rate_t_c_ha_yr"] == expected["project"]["rate"]
    assert features[pid]["ex_ante"]["status"] == "done"
    assert features[pid]["organisation_name"] == "Test org"
    assert features[point.json()["id"]]["ex_post"] is None
    # never twice for one project, version and snapshot (passes run on writes, swaps, every 30 s)
    path = url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT project_id, project_version, snapshot_id, count(*) FROM project_assessments "
            "WHERE kind = 'ex_post' GROUP BY 1, 2, 3"
        ).fetchall()
    assert sorted(r[2] for r in rows) == sorted([first, new]) and all(r[3] == 1 for r in rows), rows
    assert "Traceback" not in log.read_text()
