"""Ingestion through the real STAC API into a real Icechunk repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml

from pipeline.cf import label
from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec, load_job
from pipeline.errors import CatalogError, InputFileError, PipelineError, ServerError
from pipeline.ingest.job import run_ingest, run_update
from pipeline.ingest.stac_server import serve_catalog
from pipeline.ingest.units import CANONICAL, UnitError
from pipeline.store import StoreError, cube_log, open_cube, open_repo, tip
from tests.support.demo import demo_job, subset_catalog

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ingested(stac_api, tmp_path_factory) -> tuple[JobSpec, str]:
    store = tmp_path_factory.mktemp("store") / "repo"
    job = demo_job(store)
    res = run_ingest(job, stac_url=stac_api.url)
    assert res.committed
    return job, res.snapshot_id


def test_cube_has_every_canonical_variable_with_units_and_crs(ingested):
    job, sid = ingested
    ds = open_cube(job.store)
    assert ds.attrs["snapshot_id"] == sid
    expected = set(CANONICAL) - {"soc_stock", "soc_stock_src"}  # the demo gives content, not a stock
    assert set(ds.data_vars) == expected
    for name in expected:
        assert label(ds[name].attrs) == CANONICAL[name]  # units_label where the CF units differ
        assert ds[name].chunks is not None  # lazy, dask-backed
    assert "spatial_ref" in ds.coords and "WGS 84" in ds.attrs["crs"]
    assert ds["epoch"].values.tolist() == [2015, 2016]
    assert ds["month"].values.tolist() == list(range(1, 13))
    assert ds["ndvi"].sizes["time"] == 24
    assert ds["soc"].dims == ("epoch", "depth", "y", "x")
    assert ds["depth_top"].values.tolist() == [0, 5, 15]


def test_cube_values_are_the_source_values(ingested, demo_catalog):
    job, _ = ingested
    ds = open_cube(job.store)
    with rasterio.open(demo_catalog / "data/soilgrids/2016/soc_0-5cm_mean.tif") as src:
        dn = src.read(1)
        rows, cols = rasterio.transform.rowcol(src.transform, *np.meshgrid(ds.x.values, ds.y.values))
    ref = dn[np.asarray(rows), np.asarray(cols)].reshape(ds.y.size, ds.x.size)
    expected = np.where(ref == -32768, np.nan, ref * 0.1).astype(np.float32)
    got = ds["soc"].sel(epoch=2016).isel(depth=0).values
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    assert np.isfinite(got).sum() > 100


def test_provenance_names_items_hrefs_and_software(ingested):
    job, _ = ingested
    prov = json.loads(open_cube(job.store).attrs["provenance"])
    soc = prov["soc"]
    assert soc["source"] == "demo-soilgrids" and soc["software"].startswith("soc-observatory")
    assert soc["inputs"]["2016"]["items"] == ["demo-soilgrids-2016"]
    assert all(Path(h.removeprefix("file://")).exists() for h in soc["inputs"]["2016"]["hrefs"])
    assert len(prov["tas"]["inputs"]) == 24  # every month that went into the climatology
    assert cube_log(job.store)[0].message.startswith("ingest test")


def test_past_snapshot_and_export(ingested, tmp_path):
    job, sid = ingested
    out = tmp_path / "plain.zarr"
    from pipeline.store import export_cube

    export_cube(job.store, out, sid)
    import xarray as xr

    plain = xr.open_zarr(out, consolidated=False)
    np.testing.assert_array_equal(plain["soc"].values, open_cube(job.store, sid)["soc"].values)
    assert (out / "zarr.json").exists()


@pytest.fixture(scope="module")
def three_years(tmp_path_factory) -> Path:
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    root = tmp_path_factory.mktemp("three") / "catalog"
    make_demo_catalog(root, DemoSpec(resolution=6.0, start_year=2015, end_year=2017, seed=3))
    return root


def test_update_appends_a_new_epoch_and_leaves_old_chunks_alone(three_years, tmp_path):
    partial = tmp_path / "partial"
    subset_catalog(three_years, partial, 2017)
    job = demo_job(tmp_path / "repo", grid=GridSpec(resolution=6.0), period=PeriodSpec(start=2015, end=2017))
    with serve_catalog(partial) as srv:
        first = run_ingest(job, stac_url=srv.url)
    assert open_cube(job.store)["epoch"].values.tolist() == [2015, 2016]
    with serve_catalog(three_years) as srv:  # 2017 published
        upd = run_update(job, stac_url=srv.url)
        again = run_update(job, stac_url=srv.url)
    assert upd.committed and upd.epochs == [2017]
    assert not again.committed and again.snapshot_id == upd.snapshot_id  # nothing new: no commit
    cube = open_cube(job.store)
    assert cube["epoch"].values.tolist() == [2015, 2016, 2017]
    assert cube["ndvi"].sizes["time"] == 36
    assert "2017" in json.loads(cube.attrs["provenance"])["soc"]["inputs"]
    # Older epochs' chunks were not rewritten: the diff touches only epoch index 2.
    diff = open_repo(job.store).diff(from_snapshot_id=first.snapshot_id, to_snapshot_id=upd.snapshot_id)
    for path, chunks in diff.updated_chunks.items():
        if path.endswith(("/soc", "/bdod", "/landcover")):
            assert chunks and {next(iter(c)) for c in chunks} == {2}, (path, chunks)
    # And the appended cube equals a fresh ingestion of all three years.
    fresh = demo_job(
        tmp_path / "fresh", grid=GridSpec(resolution=6.0), period=PeriodSpec(start=2015, end=2017)
    )
    with serve_catalog(three_years) as srv:
        run_ingest(fresh, stac_url=srv.url)
    other = open_cube(fresh.store)
    for name in ("soc", "landcover", "ndvi", "tas"):
        np.testing.assert_array_equal(cube[name].values, other[name].values)


def test_unreachable_stac_api_is_retried_then_reported(tmp_path):
    from pipeline.ingest.stac_server import free_port

    job = demo_job(tmp_path / "repo")
    with pytest.raises(ServerError, match="did not answer after 4 attempts"):
        run_ingest(job, stac_url=f"http://127.0.0.1:{free_port()}")
    assert not (tmp_path / "repo").exists()


def test_5xx_is_retried_then_reported(tmp_path):
    import http.server
    import threading

    hits = []

    class Boom(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(503)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Boom)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ServerError, match="did not answer"):
            run_ingest(demo_job(tmp_path / "repo"), stac_url=f"http://127.0.0.1:{srv.server_address[1]}")
    finally:
        srv.shutdown()
    assert len(hits) == 4


def test_empty_search_and_region_outside_the_source(stac_api, tmp_path, ingested):
    job, sid = ingested
    with pytest.raises(CatalogError, match="found no items"):
        run_ingest(job.model_copy(update={"period": PeriodSpec(start=1990, end=1991)}), stac_url=stac_api.url)
    assert tip(job.store) == sid


def test_corrupt_asset_leaves_the_store_unchanged_and_a_rerun_completes(demo_catalog, tmp_path, ingested):
    job, _ = ingested
    broken = tmp_path / "broken"
    shutil.copytree(demo_catalog, broken)
    # The items point at the original files (absolute hrefs): re-point one collection's items.
    for item in (broken / "demo-worldcover").rglob("demo-worldcover-*.json"):
        doc = json.loads(item.read_text())
        doc["assets"]["map"]["href"] = doc["assets"]["map"]["href"].replace(str(demo_catalog), str(broken))
        item.write_text(json.dumps(doc))
    target = broken / "data/worldcover/landcover_2016.tif"
    target.write_bytes(b"not a tiff at all")
    job2 = job.model_copy(update={"store": str(tmp_path / "repo")})
    with serve_catalog(broken) as srv:
        run_ingest(job2.model_copy(update={"period": PeriodSpec(start=2015, end=2015)}), stac_url=srv.url)
        before = tip(job2.store)
        with pytest.raises(PipelineError, match="asset may be missing or corrupt"):
            run_ingest(job2, stac_url=srv.url)
        assert tip(job2.store) == before
        shutil.copy(demo_catalog / "data/worldcover/landcover_2016.tif", target)  # fix the cause
        assert run_ingest(job2, stac_url=srv.url).committed
    assert open_cube(job2.store)["epoch"].values.tolist() == [2015, 2016]


def test_region_that_does_not_intersect_the_source(tmp_path):
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    cat = tmp_path / "kenya"
    make_demo_catalog(
        cat, DemoSpec(resolution=1.0, start_year=2015, end_year=2015, bbox=(33, -5, 42, 5), monthly=False)
    )
    job = demo_job(
        tmp_path / "repo",
        sources=["demo-soilgrids"],
        region=RegionSpec(bbox=(0, 40, 10, 50)),
        period=PeriodSpec(start=2015, end=2015),
        grid=GridSpec(resolution=1.0),
    )
    with serve_catalog(cat) as srv, pytest.raises(CatalogError, match="region intersects the collection"):
        run_ingest(job, stac_url=srv.url)


def test_item_without_projection_is_refused(demo_catalog, tmp_path):
    cat = tmp_path / "noproj"
    shutil.copytree(demo_catalog, cat)
    for item in (cat / "demo-worldcover").rglob("*.json"):
        if item.name == "collection.json":
            continue
        doc = json.loads(item.read_text())
        for k in ("proj:code", "proj:shape", "proj:transform"):
            doc["properties"].pop(k, None)
        item.write_text(json.dumps(doc))
    with serve_catalog(cat) as srv, pytest.raises(CatalogError, match="no projection information"):
        run_ingest(demo_job(tmp_path / "repo", sources=["demo-worldcover"]), stac_url=srv.url)


def test_unknown_unit_and_bad_yaml_field(tmp_path):
    src = yaml.safe_load(Path("catalogs/sources/demo-ndvi.yaml").read_text())
    src["variables"]["ndvi"]["unit"] = "furlongs"
    p = tmp_path / "bad-source.yaml"
    p.write_text(yaml.safe_dump(src))
    from pipeline.config import load_source

    with pytest.raises(UnitError, match=r"unit 'furlongs' of 'ndvi'.*Known units for ndvi: 1\."):
        load_source(str(p))
    job = yaml.safe_load(Path("catalogs/jobs/demo.yaml").read_text())
    job["grid"]["resolution"] = -1
    jp = tmp_path / "job.yaml"
    jp.write_text(yaml.safe_dump(job))
    with pytest.raises(InputFileError, match=r"grid\.resolution: Input should be greater than 0 \(got -1\)"):
        load_job(jp)


def test_store_path_that_is_not_a_repository(tmp_path, stac_api):
    (tmp_path / "notrepo").mkdir()
    (tmp_path / "notrepo" / "thesis.docx").write_text("precious")
    with pytest.raises(StoreError, match="exists but is not an Icechunk repository"):
        run_ingest(demo_job(tmp_path / "notrepo"), stac_url=stac_api.url)
    assert [p.name for p in (tmp_path / "notrepo").iterdir()] == ["thesis.docx"]


def _cli(job_file: Path, stac: str, crash_at: int = 0) -> subprocess.CompletedProcess[str]:
    """`socobs ingest` in a process; ``crash_at``: SIGKILL at that write (tests.support.crash)."""
    runner = ["tests.support.crash", str(crash_at)] if crash_at else ["pipeline.cli"]
    cmd = [sys.executable, "-m", *runner, "ingest", str(job_file), "--stac", stac]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def test_sigkill_mid_write_leaves_last_commit_and_rerun_matches(stac_api, tmp_path):
    job = demo_job(tmp_path / "repo")
    jf = tmp_path / "job.yaml"
    jf.write_text(yaml.safe_dump(json.loads(job.model_dump_json())))
    first = _cli(jf, stac_api.url)
    assert first.returncode == 0, first.stderr
    before = tip(job.store)
    killed = _cli(jf, stac_api.url, crash_at=4)
    assert killed.returncode == -9, killed.stderr  # SIGKILL after the coordinates and two sources' variables
    assert "Traceback" not in killed.stderr
    assert tip(job.store) == before
    again = _cli(jf, stac_api.url)
    assert again.returncode == 0, again.stderr
    a, b = open_cube(job.store, before), open_cube(job.store)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_zonal_door_on_a_cube_variable(ingested, demo_catalog, tmp_path):
    import pandas as pd

    job, _ = ingested
    base = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "zonal",
        "--regions",
        "region",
        "--stats",
        "area_mean",
        "--cache",
        str(tmp_path / "c"),
    ]
    cube = subprocess.run(
        [
            *base,
            "--variable",
            "soc",
            "--store",
            job.store,
            "--epoch",
            "2016",
            "--depth",
            "0",
            "--out",
            str(tmp_path / "cube.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cube.returncode == 0, cube.stderr
    tif = subprocess.run(
        [
            *base,
            str(demo_catalog / "data/soilgrids/2016/soc_0-5cm_mean.tif"),
            "--out",
            str(tmp_path / "tif.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tif.returncode == 0, tif.stderr
    a, b = pd.read_csv(tmp_path / "cube.csv"), pd.read_csv(tmp_path / "tif.csv")
    assert len(a) == 6
    # The cube holds g/kg; the COG holds dg/kg integers (its scale lives in STAC, not in GDAL).
    np.testing.assert_allclose(a["area_mean"], 0.1 * b["area_mean"], rtol=1e-5)
    missing = subprocess.run(
        [*base, "--variable", "soc", "--store", job.store, "--out", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2 and "select ['epoch', 'depth']" in missing.stderr
