"""The monthly job on a real store: maps and tables against numpy, a new month alone is an
update, the incremental run equals a full recompute, the CLI runs it after an update."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.config import GridSpec, PeriodSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import serve_catalog
from pipeline.monthly.job import MonthlyUnavailable, run_monthly
from pipeline.store import CUBE, MONTHLY, cube_log, open_cube, open_repo, tip
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration
RES = 4.0
SPEC = DemoSpec(resolution=RES, start_year=2015, end_year=2017, seed=7)
LAST = "2017-12"


def drop_month(src: Path, dst: Path, stamp: str) -> None:
    """A copy of the catalog without the NDVI item of ``stamp`` (not yet published)."""
    shutil.copytree(src, dst)
    col = dst / "demo-ndvi" / "collection.json"
    doc = json.loads(col.read_text())
    doc["links"] = [ln for ln in doc["links"] if f"demo-ndvi-{stamp}" not in ln.get("href", "")]
    col.write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("monthly")
    make_demo_catalog(root / "catalog", SPEC)
    drop_month(root / "catalog", root / "partial", LAST)
    job = demo_job(root / "repo", grid=GridSpec(resolution=RES), period=PeriodSpec(start=2015, end=2017))
    with serve_catalog(root / "partial") as srv:
        run_ingest(job, stac_url=srv.url)
    run_indicators(job.store, registry=root / "regions", cache_dir=root / "cache")
    first = run_monthly(job.store, registry=root / "regions", cache_dir=root / "cache")  # the CLI's tiles
    job_file = root / "job.yaml"
    job_file.write_text(yaml.safe_dump(json.loads(job.model_dump_json(exclude_none=True))))
    return {"root": root, "job": job, "first": first, "job_file": job_file}


def group(store: str, snapshot: str | None = None):
    return open_cube(store, snapshot, group=MONTHLY).load()


def test_full_run_maps_match_numpy(world):
    res, job = world["first"], world["job"]
    assert res.mode == "full" and res.baseline == (2015, 2016)
    assert res.months[0] == "2015-01" and res.months[-1] == "2017-11" and len(res.months) == 35
    g = group(job.store, res.snapshot_id)
    ndvi = open_cube(job.store, res.input_snapshot)["ndvi"].values.astype(np.float64)
    assert g["ndvi_anomaly"].shape == ndvi.shape and g["ndvi_anomaly"].dtype == np.float32
    assert (
        g["ndvi_anomaly"].attrs["grid_mapping"] == "spatial_ref" and g["ndvi_anomaly"].attrs["units"] == "1"
    )
    # March 2017 (t = 26): z against March 2015 and 2016; sample std (ddof=1)
    base = ndvi[[2, 14]]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(base, axis=0)
        std = np.nanstd(base, axis=0, ddof=1)
        z = (ndvi[26] - mean.astype(np.float32)) / std.astype(np.float32)
    ok = np.isfinite(z) & (std > 0)
    assert ok.sum() > 50
    np.testing.assert_allclose(g["ndvi_anomaly"].values[26][ok], z[ok], rtol=1e-4, atol=1e-5)
    # bare soil: share of NDVI < 0.2 over the 12 months Dec 2016 .. Nov 2017 (t = 23..34)
    win = ndvi[23:35]
    valid = np.isfinite(win).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        bare = np.where(valid > 0, (win < 0.2).sum(axis=0) / valid, np.nan)
    np.testing.assert_allclose(g["bare_soil_frequency"].values[34], bare, rtol=1e-6, equal_nan=True)
    assert 0 < np.nanmean(bare) < 1
    # cumulative productivity of Jan..Mar 2017 against the climatological Jan..Mar
    cur = ndvi[24:27].sum(axis=0)
    clim = g["ndvi_clim_mean"].values[:3].astype(np.float64).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(clim > 0, cur / clim, np.nan)
    np.testing.assert_allclose(g["productivity_ratio"].values[26], ratio, rtol=1e-5, equal_nan=True)


def test_tables_are_area_weighted_and_roll_up(world):
    from pipeline.grid import Grid
    from pipeline.indicators.tables import region_index

    res, job, root = world["first"], world["job"], world["root"]
    g = group(job.store, res.snapshot_id)
    ids = [str(r) for r in g["region"].values]
    idx = region_index(Grid.of(g), root / "cache", root / "regions")
    cov, areas = idx.countries, Grid.of(g).row_areas()
    # dense weights of one country from its exact coverage: interior cells 1, border fractions
    k = int(np.argmax(np.bincount(cov.labels[cov.labels >= 0].ravel())))  # the largest country
    w = (cov.labels == k).astype(np.float64)
    rows, cols = np.divmod(cov.border_cell, cov.shape[1])
    sel = cov.border_region == k
    np.add.at(w, (rows[sel], cols[sel]), cov.border_frac[sel])
    aw = w * areas[:, None]
    row = ids.index(idx.ids[idx.country_rows[k]])
    for t in (0, 20, 34):
        z = g["ndvi_anomaly"].values[t].astype(np.float64)
        ok = np.isfinite(z)
        want = (aw * np.where(ok, z, 0)).sum() / aw[ok].sum()
        assert g["region_ndvi_anomaly"].values[row, t] == pytest.approx(want, rel=1e-9)
        f = g["bare_soil_frequency"].values[t].astype(np.float64)
        okf = np.isfinite(f)
        assert g["region_bare_soil_frequency"].values[row, t] == pytest.approx(
            (aw * np.where(okf, f, 0)).sum() / aw[okf].sum(), rel=1e-9
        )
    assert g["region_area_km2"].values[row, 0] == pytest.approx(aw.sum() / 1e6, rel=1e-9)
    # a region's area is the sum of its countries' (roll-up), global the sum of everything
    parents = [str(p) for p in g["parent_id"].values]
    area = g["region_area_km2"].values[:, 0]
    for reg in ("africa", "europe"):
        kids = [i for i, p in enumerate(parents) if p == reg]
        assert kids and area[ids.index(reg)] == pytest.approx(area[kids].sum(), rel=1e-12)
    assert np.isfinite(g["region_ndvi_anomaly"].values[ids.index("global")]).all()


def test_a_new_month_alone_is_an_update_and_only_it_is_computed(world, capsys):
    from pipeline.cli import run

    job, root = world["job"], world["root"]
    before = tip(job.store)
    assert run_monthly(job.store, registry=root / "regions", cache_dir=root / "cache").mode == "up-to-date"
    assert tip(job.store) == before  # nothing committed
    with serve_catalog(root / "catalog") as srv:  # `socobs update`: the month, then its signals
        code = run(["update", str(world["job_file"]), "--stac", srv.url, "--var", str(root)])
    out = " ".join(capsys.readouterr().out.split())  # the console may wrap long lines
    assert code == 0, out
    assert "new months of ndvi" in out and "yearly indicators stay" in out
    assert f"monthly signals (incremental) for {LAST}" in out
    log = cube_log(job.store)
    assert [e.metadata.get("kind") for e in log[:3]] == ["monthly", "update", "monthly"]
    assert log[1].metadata.get("epochs") == []  # a new month alone is an update, with no epoch
    cube = open_cube(job.store)
    assert str(cube["time"].values[-1])[:7] == LAST and cube["time"].size == 36
    assert cube["epoch"].values.tolist() == [2015, 2016, 2017]  # no epoch rewritten or added
    inc = log[0]
    assert inc.metadata["mode"] == "incremental" and inc.metadata["months"] == [LAST]
    # no older chunk of the group was rewritten: the repository's diff touches only the new month
    diff = open_repo(job.store).diff(
        from_snapshot_id=world["first"].snapshot_id, to_snapshot_id=inc.snapshot_id
    )
    for path, chunks in diff.updated_chunks.items():
        if (
            path.startswith(f"/{MONTHLY}/ndvi_")
            or path.startswith(f"/{MONTHLY}/bare")
            or path.startswith(f"/{MONTHLY}/productivity")
        ):
            assert {int(next(iter(c))) for c in chunks} == {35}, path
        assert not path.startswith(f"/{MONTHLY}/ndvi_clim"), path
        assert not path.startswith(f"/{CUBE}/soc"), path
    full = run_monthly(job.store, registry=root / "regions", cache_dir=root / "cache", force_full=True)
    assert full.mode == "full" and len(full.months) == 36
    a, b = group(job.store, inc.snapshot_id), group(job.store, full.snapshot_id)
    assert a["time"].values.tolist() == b["time"].values.tolist()
    for name in b.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=str(name))


def test_tile_size_changes_no_map_and_tables_only_in_rounding(world):
    job, root = world["job"], world["root"]
    ref = group(job.store)
    one = run_monthly(
        job.store, registry=root / "regions", cache_dir=root / "cache", force_full=True, block=16
    )
    g = group(job.store, one.snapshot_id)
    for name in ("ndvi_anomaly", "bare_soil_frequency", "productivity_ratio", "ndvi_clim_std"):
        np.testing.assert_array_equal(g[name].values, ref[name].values)
    np.testing.assert_allclose(g["region_ndvi_anomaly"].values, ref["region_ndvi_anomaly"].values, rtol=1e-12)


def test_a_baseline_the_cube_does_not_hold_changes_nothing(world):
    job, root = world["job"], world["root"]
    before = tip(job.store)
    with pytest.raises(MonthlyUnavailable, match="baseline"):
        run_monthly(job.store, registry=root / "regions", cache_dir=root / "cache", baseline=(1990, 1999))
    assert tip(job.store) == before


def test_cli_bad_baseline_is_one_paragraph_exit_2(world, capsys):
    from pipeline.cli import run

    job, root, job_file = world["job"], world["root"], world["job_file"]
    before = tip(job.store)
    code = run(["indicators", str(job_file), "--monthly-baseline", "twenty", "--var", str(root / "var")])
    err = capsys.readouterr().err
    assert code == 2 and "--monthly-baseline" in err and "Traceback" not in err
    assert tip(job.store) == before
