"""The RothC scenario step on an ingested demo cube."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from pipeline.errors import PipelineError
from pipeline.ingest import run_ingest
from pipeline.rothc_job import run_rothc_job
from pipeline.store import cube_log, open_repo
from tests.integration.test_ingest import demo_job

pytestmark = pytest.mark.integration


def test_scenario_maps_are_written_in_one_commit(stac_api, tmp_path):
    job = demo_job(tmp_path / "repo")
    ingest = run_ingest(job, stac_url=stac_api.url)
    res = run_rothc_job(job)
    assert res.pixels > 100 and res.epoch == 2016
    log = cube_log(job.store)
    assert log[0].snapshot_id == res.snapshot_id and log[1].snapshot_id == ingest.snapshot_id
    session = open_repo(job.store).readonly_session(snapshot_id=res.snapshot_id)
    maps = xr.open_zarr(session.store, group="rothc", consolidated=False)
    sp = maps["seq_potential"].values
    assert maps["scenario"].values.tolist() == ["+5%", "+10%", "+20%"]
    assert maps["seq_potential"].attrs["units"] == "t C/ha/yr"
    ok = np.isfinite(sp[0])
    assert ok.sum() == res.pixels
    assert np.all(sp[:, ok] > 0) and np.all(np.diff(sp[:, ok], axis=0) > 0)  # more input, more carbon
    lo, hi = maps["seq_potential_low"].values, maps["seq_potential_high"].values
    assert np.all(lo[:, ok] <= sp[:, ok] + 1e-6) and np.all(sp[:, ok] <= hi[:, ok] + 1e-6)
    assert maps.attrs["input_snapshot"] == ingest.snapshot_id


def test_cube_without_climate_is_refused(stac_api, tmp_path):
    job = demo_job(tmp_path / "repo", sources=["demo-soilgrids", "demo-worldcover"])
    run_ingest(job, stac_url=stac_api.url)
    with pytest.raises(PipelineError, match=r"the cube lacks \['tas', 'pr', 'pet'\]"):
        run_rothc_job(job)
