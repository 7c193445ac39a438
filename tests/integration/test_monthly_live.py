"""Live mode, one monthly cycle: a new month of NDVI is published to the demo STAC API,
ingested, turned into monthly signals, and the running API (a real uvicorn process) shows it in
/v1/status and in the monthly series without a restart."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
import rasterio
import yaml

from pipeline.demo.catalog import DemoSpec, make_demo_catalog, publish_month
from pipeline.demo.runner import live_round, run_demo, start_api
from pipeline.ingest.stac_server import free_port
from pipeline.store import MONTHLY, open_cube

pytestmark = pytest.mark.integration
SPEC = DemoSpec(resolution=4.0, start_year=2015, end_year=2017, seed=23)


def test_a_published_month_equals_the_catalog_of_that_year(tmp_path):
    make_demo_catalog(tmp_path / "cat", SPEC)
    ids = publish_month(tmp_path / "cat", SPEC, 2018, 3)
    assert ids == ["demo-ndvi-2018-03"]
    year = DemoSpec(resolution=4.0, start_year=2015, end_year=2018, seed=23)
    make_demo_catalog(tmp_path / "ref", year)
    mine = tmp_path / "cat" / ".published" / "2018-03" / "data" / "ndvi_2018-03.tif"
    with (
        rasterio.open(mine) as a,
        rasterio.open(tmp_path / "ref" / "data" / "ndvi" / "ndvi_2018-03.tif") as b,
    ):
        assert a.transform == b.transform and a.nodata == b.nodata
        np.testing.assert_array_equal(a.read(1), b.read(1))
    with pytest.raises(Exception, match="already published"):
        publish_month(tmp_path / "cat", SPEC, 2018, 3)


def test_one_monthly_live_cycle_reaches_the_api(tmp_path):
    var = tmp_path / "var"
    make_demo_catalog(var / "demo-catalog", SPEC)
    job_file = tmp_path / "job.yaml"
    job_file.write_text(
        yaml.safe_dump(
            {
                "name": "live-monthly",
                "region": {"bbox": [-180, -60, 180, 84]},
                "sources": ["demo-soilgrids", "demo-worldcover", "demo-ndvi", "demo-climate"],
                "grid": {"crs": "EPSG:4326", "resolution": SPEC.resolution},
                "period": {"start": 2015, "end": 2017},
                "store": str(var / "store"),
            }
        )
    )
    lines: list[str] = []
    state = run_demo(var, job_file, free_port(), lines.append)
    api = None
    try:
        assert "monthly" in next(ln for ln in lines if ln.startswith("indicators"))
        api = start_api(state.store, var / "regions", free_port())
        before = httpx.get(f"{api.url}/v1/status").json()
        assert before["monthly"]["newest_month"] == "2017-12"
        assert before["monthly"]["baseline"] == [2015, 2017]
        series0 = httpx.get(f"{api.url}/v1/regions/global/indicators/ndvi_anomaly").json()
        assert [p["month"] for p in series0["series"]][-1] == "2017-12" and len(series0["series"]) == 36

        r = live_round(state, job_file, var, SPEC, unit="month")
        assert r.month == "2018-01" and r.monthly_snapshot is not None
        assert r.indicators_snapshot is None and r.rothc_snapshot is None  # no epoch is new
        cube = open_cube(state.store)
        assert cube["epoch"].values.tolist() == [2015, 2016, 2017]
        assert str(cube["time"].values[-1])[:7] == "2018-01"

        deadline = time.monotonic() + 30
        status: dict = {}
        while time.monotonic() < deadline:
            status = httpx.get(f"{api.url}/v1/status").json()
            if status["snapshot_id"] == r.monthly_snapshot:  # the round's last commit
                break
            time.sleep(0.2)
        assert status["snapshot_id"] == r.monthly_snapshot != before["snapshot_id"]
        assert status["monthly"]["newest_month"] == "2018-01" and status["monthly"]["months"] == 37
        assert status["monthly"]["input_snapshot"] == r.update_snapshot
        assert status["newest_source_item"].startswith("2018-01")

        stored = open_cube(state.store, r.monthly_snapshot, group=MONTHLY)
        ids = [str(x) for x in stored["region"].values]
        for region in ("global", "africa"):
            for signal in ("ndvi_anomaly", "bare_soil_frequency", "productivity_ratio"):
                body = httpx.get(f"{api.url}/v1/regions/{region}/indicators/{signal}").json()
                last = body["series"][-1]
                assert body["frequency"] == "monthly" and last["month"] == "2018-01"
                want = float(stored[f"region_{signal}"].values[ids.index(region), -1])
                assert last["value"] == pytest.approx(want, rel=1e-12)
                assert last["value"] is not None
        csv = httpx.get(f"{api.url}/v1/regions/global/indicators/bare_soil_frequency?format=csv")
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.strip().splitlines()[-1].startswith("global,2018-01,")
        # the yearly series door is unchanged
        yearly = httpx.get(f"{api.url}/v1/regions/global/indicators/soc_stock").json()
        assert [p["epoch"] for p in yearly["series"]] == [2015, 2016, 2017]
    finally:
        if api is not None:
            api.stop()
        state.server.stop()
