"""The RothC scenario step on an ingested demo cube."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pipeline.errors import PipelineError
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.rothc.job import run_rothc_job
from pipeline.store import INDICATORS, cube_log, open_cube, open_repo
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration


def test_scenario_maps_are_written_in_one_commit(stac_api, tmp_path):
    job = demo_job(tmp_path / "repo")
    ingest = run_ingest(job, stac_url=stac_api.url)
    with pytest.raises(
        PipelineError, match=r"no indicator maps for data snapshot .* Run `socobs indicators JOB.yaml` first"
    ):
        run_rothc_job(job)  # the stock is the indicator job's: refused before it ran
    ind = run_indicators(job.store, registry=tmp_path / "reg", cache_dir=tmp_path / "cache")
    res = run_rothc_job(job)
    assert res.pixels > 100 and res.epoch == 2016
    log = cube_log(job.store)
    assert [e.snapshot_id for e in log[:3]] == [res.snapshot_id, ind.snapshot_id, ingest.snapshot_id]
    session = open_repo(job.store).readonly_session(snapshot_id=res.snapshot_id)
    maps = xr.open_zarr(session.store, group="rothc", consolidated=False)
    sp = maps["seq_potential"].values
    assert maps["scenario"].values.tolist() == ["+5%", "+10%", "+20%"]
    assert maps["seq_potential"].attrs["units_label"] == "t C/ha/yr"  # units: "t/ha/year" (CF)
    ok = np.isfinite(sp[0])
    assert ok.sum() == res.pixels
    assert np.all(sp[:, ok] > 0) and np.all(np.diff(sp[:, ok], axis=0) > 0)  # more input, more carbon
    lo, hi = maps["seq_potential_low"].values, maps["seq_potential_high"].values
    assert np.all(lo[:, ok] <= sp[:, ok] + 1e-6) and np.all(sp[:, ok] <= hi[:, ok] + 1e-6)
    assert maps.attrs["input_snapshot"] == ingest.snapshot_id
    # the pixels modelled are those with a stock in the indicator maps of that epoch (and the
    # other inputs): never one without
    stock = open_cube(job.store, ind.snapshot_id, group=INDICATORS)["soc_stock"].sel(epoch=2016).values
    assert np.all(np.isfinite(stock[ok]) & (stock[ok] > 0))


def test_cube_without_climate_is_refused(stac_api, tmp_path):
    job = demo_job(tmp_path / "repo", sources=["demo-soilgrids", "demo-worldcover"])
    run_ingest(job, stac_url=stac_api.url)
    with pytest.raises(PipelineError, match=r"the cube lacks \['tas', 'pr', 'pet'\]"):
        run_rothc_job(job)


def test_many_tiles_equal_one_tile_bit_for_bit(stac_api, tmp_path):
    job = demo_job(tmp_path / "repo")
    run_ingest(job, stac_url=stac_api.url)
    run_indicators(job.store, registry=tmp_path / "reg", cache_dir=tmp_path / "cache")
    many = run_rothc_job(job, years=5, block=4)  # 4 x 4-cell tiles
    one = run_rothc_job(job, years=5, block=10_000)
    assert many.pixels == one.pixels > 100
    repo = open_repo(job.store)
    a, b = (
        xr.open_zarr(
            repo.readonly_session(snapshot_id=r.snapshot_id).store, group="rothc", consolidated=False
        )
        for r in (many, one)
    )
    assert (
        set(a.data_vars)
        == set(b.data_vars)
        == {
            "seq_potential",
            "seq_potential_low",
            "seq_potential_high",
            "c_input_eq",
            "soc_bau_end",
        }
    )
    for name in a.data_vars:
        assert np.isfinite(a[name].values).sum() >= many.pixels
        np.testing.assert_array_equal(a[name].values, b[name].values)
