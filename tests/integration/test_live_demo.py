"""Live mode, one cycle: a new year is published to the demo STAC API, ingested, turned into
indicators, and the running API shows it without a restart."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.demo.runner import live_round, run_demo, start_api
from pipeline.ingest.stac_server import free_port
from pipeline.store import open_cube

pytestmark = pytest.mark.integration
SPEC = DemoSpec(resolution=4.0, start_year=2015, end_year=2016, seed=21)


def test_one_live_cycle_reaches_the_api(tmp_path):
    var = tmp_path / "var"
    make_demo_catalog(var / "demo-catalog", SPEC)
    job_file = tmp_path / "job.yaml"
    job_file.write_text(
        yaml.safe_dump(
            {
                "name": "live",
                "region": {"bbox": [-180, -60, 180, 84]},
                "sources": ["demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"],
                "grid": {"crs": "EPSG:4326", "resolution": SPEC.resolution},
                "period": {"start": 2015, "end": 2016},
                "store": str(var / "store"),
            }
        )
    )
    lines: list[str] = []
    state = run_demo(var, job_file, free_port(), lines.append)
    api = None
    try:
        assert [ln.split()[0] for ln in lines] == ["catalog", "stac", "ingest", "indicators", "rothc"]
        api = start_api(state.store, var / "regions", free_port())
        before = httpx.get(f"{api.url}/v1/status").json()["snapshot_id"]
        assert httpx.get(f"{api.url}/v1/indicators").json()["indicators"][0]["epochs"] == [2015, 2016]
        r = live_round(state, job_file, var, SPEC)
        assert r.year == 2017 and r.indicators_snapshot is not None
        assert open_cube(state.store)["epoch"].values.tolist() == [2015, 2016, 2017]
        deadline = time.monotonic() + 30
        status = {}
        while time.monotonic() < deadline:
            status = httpx.get(f"{api.url}/v1/status").json()
            if status["snapshot_id"] == r.rothc_snapshot:  # the round's last commit
                break
            time.sleep(0.2)
        assert status["snapshot_id"] == r.rothc_snapshot != before
        assert status["input_snapshot"] == r.update_snapshot  # the indicators derive from the update
        assert status["newest_source_item"].startswith("2017-")
        assert httpx.get(f"{api.url}/v1/indicators").json()["indicators"][0]["epochs"] == [2015, 2016, 2017]
        summary = httpx.get(f"{api.url}/v1/regions/global/summary").json()
        assert summary["epoch"] == 2017
    finally:
        if api is not None:
            api.stop()
        state.server.stop()
