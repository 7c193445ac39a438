"""The indicator job on demo cubes ingested through the real STAC API: incremental updates,
overviews, reproducibility of past snapshots, exports and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from kernels.areas import grid_cell_areas
from pipeline.config import GridSpec, PeriodSpec
from pipeline.grid import Grid
from pipeline.indicators.export import export_tables
from pipeline.indicators.job import reproduce, run_indicators
from pipeline.indicators.registry import STATIC_MAPS
from pipeline.ingest.job import run_ingest, run_update
from pipeline.ingest.stac_server import serve_catalog
from pipeline.regions.hierarchy import load_regions
from pipeline.store import cube_log, open_cube, open_repo
from tests.support.demo import demo_job, subset_catalog

pytestmark = pytest.mark.integration
GROUPS = ("indicators", "tables", "overviews")


def _open(store: str, snapshot: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(snapshot_id=snapshot)
    # as stored: class maps as uint8 codes (decoded, their _FillValue would make them float/NaN)
    return xr.open_zarr(s.store, group=group, consolidated=False, mask_and_scale=False).load()


@pytest.fixture(scope="module")
def updated(tmp_path_factory) -> dict:
    """2015-2016 ingested, indicators; then 2017 published, update, indicators (incremental)."""
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    root = tmp_path_factory.mktemp("ind")
    full_cat = root / "catalog"
    make_demo_catalog(full_cat, DemoSpec(resolution=1.0, start_year=2015, end_year=2017, seed=5))
    partial = root / "partial"
    subset_catalog(full_cat, partial, 2017)
    job = demo_job(root / "repo", grid=GridSpec(resolution=1.0), period=PeriodSpec(start=2015, end=2017))
    kw = {"chunks": (32, 64), "registry": root / "registry", "cache_dir": root / "cache"}
    with serve_catalog(partial) as srv:
        run_ingest(job, stac_url=srv.url)
    first = run_indicators(job.store, **kw)
    with serve_catalog(full_cat) as srv:
        run_update(job, stac_url=srv.url)
    inc = run_indicators(job.store, **kw)
    again = run_indicators(job.store, **kw)
    full = run_indicators(job.store, force_full=True, **kw)
    return {"job": job, "first": first, "inc": inc, "again": again, "full": full, "kw": kw, "root": root}


def test_incremental_run_computes_only_the_new_epoch(updated):
    first, inc, again = updated["first"], updated["inc"], updated["again"]
    assert first.mode == "full" and first.computed_epochs == [2015, 2016]
    assert inc.mode == "incremental" and inc.computed_epochs == [2017]
    assert again.mode == "up-to-date" and again.snapshot_id is None
    # Older epochs' chunks are not rewritten: every updated chunk of every product is epoch index 2.
    diff = open_repo(updated["job"].store).diff(
        from_snapshot_id=first.snapshot_id, to_snapshot_id=inc.snapshot_id
    )
    touched = {p for p in diff.updated_chunks if p.startswith(tuple(f"/{g}" for g in GROUPS))}
    assert any(p.startswith("/overviews/") for p in touched) and "/indicators/soc_stock" in touched
    for path in touched:
        if path.endswith("/epoch"):
            continue  # the epoch coordinate itself grows (its chunk holds the new label)
        if path.rsplit("/", 1)[-1] in STATIC_MAPS:
            continue  # (y, x) maps, rewritten where the update's recomputed climatology changed them
            # (equal to a full recomputation: test_incremental_equals_full_recomputation_exactly)
        chunks = [list(c) for c in diff.updated_chunks[path]]
        # tables are (region, epoch, stratum); maps and 1-D epoch variables have epoch first
        idx = {c[1] if path.startswith("/tables/") and len(c) == 3 else c[0] for c in chunks}
        assert idx == {2}, (path, idx)


def test_incremental_equals_full_recomputation_exactly(updated):
    store, inc, full = updated["job"].store, updated["inc"], updated["full"]
    assert full.mode == "full"
    for group in ("indicators", "tables", "overviews/2"):
        a, b = _open(store, inc.snapshot_id, group), _open(store, full.snapshot_id, group)
        assert set(a.data_vars) == set(b.data_vars)
        for name in a.data_vars:
            if name == "input_snapshot":
                continue  # older rows name the snapshot they were computed from
            assert a[name].dtype == b[name].dtype
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=f"{group}/{name}")


def test_overviews_conserve_the_area_weighted_mean(updated):
    store, snap = updated["job"].store, updated["full"].snapshot_id
    base = _open(store, snap, "indicators")
    grid = Grid.of(open_cube(store))
    t = grid.transform
    ra = grid_cell_areas((t.a, t.b, t.c, t.d, t.e, t.f), grid.shape, geographic=True)
    factors = base.attrs["overview_factors"]
    assert factors == [2]  # 360 x 144 cells at 1 degree: one level brings it under 256
    ov = _open(store, snap, "overviews/2")
    assert ov.sizes["y"] == 72 and ov.sizes["x"] == 180
    for name in ("soc_stock", "soc_stock_change", "soc_clay_ratio", "trend_slope", "progress_4p1000"):
        for e in base["epoch"].values:
            v0 = base[name].sel(epoch=e).values.astype(np.float64)
            w0 = np.broadcast_to(ra[:, None], v0.shape) * np.isfinite(v0)
            if w0.sum() == 0:
                continue
            mean0 = np.nansum(v0 * w0) / w0.sum()
            # each coarse cell's weight: the valid area of its 2 x 2 block at level 0
            wk = w0.reshape(72, 2, 180, 2).sum(axis=(1, 3))
            vk = ov[name].sel(epoch=e).values.astype(np.float64)
            meank = np.nansum(vk * wk) / wk[np.isfinite(vk)].sum()
            np.testing.assert_allclose(meank, mean0, rtol=1e-6, err_msg=f"{name} {e}")
    cls = ov["sh_class"].values
    assert cls.dtype == np.uint8 and set(np.unique(cls)) <= {0, 1, 2, 3, 255}


def test_past_snapshot_is_reproduced_bit_for_bit(updated, tmp_path):
    store, first = updated["job"].store, updated["first"]
    rep = reproduce(
        store,
        first.input_snapshot,
        tmp_path / "again.zarr",
        registry=updated["kw"]["registry"],
        cache_dir=updated["kw"]["cache_dir"],
    )
    assert rep.input_snapshot == first.input_snapshot
    assert rep.compared_with == first.snapshot_id and rep.differences == []
    again = xr.open_zarr(tmp_path / "again.zarr", group="indicators", consolidated=False)
    assert again["epoch"].values.tolist() == [2015, 2016]


def test_exports_csv_parquet_geojson_and_stac(updated, tmp_path):
    store = updated["job"].store
    regions = load_regions()  # the shipped hierarchy: every row of it is exported
    n_all, n_countries = len(regions), int((regions.level == "country").sum())
    csv = export_tables(store, tmp_path / "t.csv", "csv")
    df = pd.read_csv(csv, keep_default_na=False, na_values=[""])
    assert len(df) == n_all * 3 * 4  # regions x epochs x strata
    assert {
        "region_id",
        "epoch",
        "stratum",
        "soc_stock_total",
        "input_snapshot",
        "source_latest",
        "snapshot_id",
    } <= set(df.columns)
    g = df[(df.region_id == "global") & (df.stratum == "all")]
    assert g.epoch.tolist() == [2015, 2016, 2017] and (g.soc_stock_total > 0).all()
    pq = pd.read_parquet(export_tables(store, tmp_path / "t.parquet", "parquet", level="country"))
    assert set(pq.level) == {"country"} and len(pq) == n_countries * 3 * 4
    gj = json.loads(export_tables(store, tmp_path / "t.geojson", "geojson", stratum="all").read_text())
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == n_all
    fra = next(f for f in gj["features"] if f["properties"]["region_id"] == "FRA")
    assert fra["geometry"]["type"] in ("Polygon", "MultiPolygon") and fra["properties"]["epoch"] == 2017
    stac = json.loads(export_tables(store, tmp_path / "c.json", "stac").read_text())
    assert stac["type"] == "Collection" and stac["summaries"]["soc:epochs"] == [2015, 2016, 2017]
    band = stac["assets"]["soc_stock"]["raster:bands"][0]
    assert band["unit"] == "t C/ha" and band["data_type"] == "float32"
    assert stac["assets"]["sh_class"]["raster:bands"][0]["nodata"] == 255
    import pystac

    col = pystac.Collection.from_dict(stac)  # parses as STAC (schema validation needs the internet)
    assert col.extent.temporal.intervals[0][0].year == 2015


def _socobs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, timeout=600
    )


def test_cli_indicators_and_bad_export_options(updated, tmp_path):
    job = updated["job"]
    job_file = tmp_path / "job.yaml"
    job_file.write_text(json.dumps(json.loads(job.model_dump_json())))
    kw = updated["kw"]
    args = ["--registry", str(kw["registry"]), "--cache", str(kw["cache_dir"])]
    first = _socobs("indicators", str(job_file), *args)  # may add the monthly signals (a commit)
    assert first.returncode == 0, first.stderr
    assert "up to date: the indicators already derive from" in first.stdout
    n = len(cube_log(job.store))
    out = _socobs("indicators", str(job_file), *args)
    assert out.returncode == 0, out.stderr
    assert "up to date: the indicators" in out.stdout and "committed" not in out.stdout
    out = _socobs(
        "indicators",
        str(job_file),
        "--snapshot",
        updated["first"].input_snapshot,
        "--output",
        str(tmp_path / "rep.zarr"),
        *args,
    )
    assert out.returncode == 0, out.stderr
    assert "identical" in out.stdout
    bad = _socobs(
        "export", "indicators", str(tmp_path / "x.csv"), "--store", job.store, "--stratum", "forest"
    )
    assert bad.returncode == 2 and "'forest' is not one of 'all', 'cropland'" in bad.stderr  # a real choice
    bad = _socobs("export", "indicators", str(tmp_path / "x.csv"), "--store", job.store, "--format", "xls")
    assert bad.returncode == 2 and "'xls' is not one of 'csv'" in bad.stderr
    assert n == len(cube_log(job.store))  # nothing above committed: up to date, --snapshot, exports
