"""A real uvicorn process serving a store while the pipeline commits to it: the API picks up each
new commit by itself, and no response mixes two snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
import xarray as xr

from pipeline.config import GridSpec, PeriodSpec
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest, run_update
from pipeline.ingest.stac_server import free_port, serve_catalog
from pipeline.store import open_repo, tip
from tests.support.api_store import RES
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration


def _wait(url: str, timeout: float = 240.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready")


def _epochs_at(store: str, snapshot: str) -> list[int]:
    s = open_repo(store).readonly_session(snapshot_id=snapshot)
    return [int(e) for e in xr.open_zarr(s.store, group="tables", consolidated=False)["epoch"].values]


def test_uvicorn_serves_new_commits_without_mixing_snapshots(api_store, tmp_path):
    job = demo_job(tmp_path / "repo", grid=GridSpec(resolution=RES), period=PeriodSpec(start=2015, end=2017))
    kw = {"registry": api_store.registry, "cache_dir": api_store.root / "cache"}
    with serve_catalog(api_store.partial) as srv:
        run_ingest(job, stac_url=srv.url)
    first = run_indicators(job.store, **kw)
    port = free_port()
    env = {**os.environ, "SOCOBS_POLL_SECONDS": "0.2"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "observatory_api",
            "--port",
            str(port),
            "--store",
            job.store,
            "--registry",
            str(api_store.registry),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    seen: list[tuple[str, str, list[int]]] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=base, timeout=10) as c:
            while not stop.is_set():
                r = c.get("/v1/indicators")
                body = r.json()
                seen.append(
                    (r.headers["X-Snapshot-Id"], body["snapshot_id"], body["indicators"][0]["epochs"])
                )
                s = c.get("/v1/regions/FRA/indicators/soc_stock").json()
                seen.append((s["snapshot_id"], s["snapshot_id"], [p["epoch"] for p in s["series"]]))

    try:
        _wait(f"{base}/readyz")
        assert httpx.get(f"{base}/v1/status").json()["snapshot_id"] == first.snapshot_id
        paris = {"lat": 48.3, "lon": 2.7}
        before = httpx.get(f"{base}/v1/point", params=paris).json()  # kept, then prepared anew
        t = threading.Thread(target=hammer)
        t.start()
        with serve_catalog(api_store.catalog) as srv:  # 2017 is published
            run_update(job, stac_url=srv.url)
        new = run_indicators(job.store, **kw)
        assert new.mode == "incremental"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(h == new.snapshot_id for h, _, _ in seen):
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        t.join(timeout=30)
        after = httpx.get(f"{base}/v1/point", params=paris).json()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert seen, out
    assert any(h == first.snapshot_id for h, _, _ in seen)
    assert seen[-1][0] == new.snapshot_id == tip(job.store)  # picked up without a restart
    truth: dict[str, list[int]] = {}
    for header, body, epochs in seen:
        assert header == body  # one request, one snapshot
        if header not in truth:
            truth[header] = _epochs_at(job.store, header)
        assert epochs == truth[header], (header, epochs)  # the data are that snapshot's
    assert truth[first.snapshot_id] == [2015, 2016] and truth[new.snapshot_id] == [2015, 2016, 2017]
    # the point answered after the commit (prepared before the swap) is the new snapshot's
    assert before["snapshot_id"] == first.snapshot_id and after["snapshot_id"] == new.snapshot_id
    assert after["maps"]["soc_stock"]["epochs"] == [2015, 2016, 2017]
    s = open_repo(job.store).readonly_session(snapshot_id=new.snapshot_id)
    stock = xr.open_zarr(s.store, group="indicators", consolidated=False)["soc_stock"]
    cell = stock.sel(y=after["cell"]["y"], x=after["cell"]["x"]).values.astype(float).tolist()
    got = after["maps"]["soc_stock"]["values"]
    assert [None if v != v else v for v in cell] == got  # NaN is null
    assert after["maps"]["soc_stock"]["values"][:2] == before["maps"]["soc_stock"]["values"]
    assert "Traceback" not in out
