"""The ``climate_zone`` map layer of the indicator job: the IPCC zones of the cube's climatology,
bit for bit whatever the tile size, with class-mode overviews. (Incremental runs against a full
recomputation, this layer included: tests/integration/test_indicators_job.py.)"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xarray as xr

from kernels.areas import grid_cell_areas
from kernels.climate_zone import ZONES, climate_zone
from kernels.overview import block_mode
from pipeline.config import GridSpec
from pipeline.grid import Grid
from pipeline.indicators.job import run_indicators
from pipeline.ingest.stac_server import StacServer
from pipeline.store import open_cube, open_repo
from tests.support.demo import demo_job, shared_ingest
from tests.support.once import private_copy

pytestmark = pytest.mark.integration


def _group(store: str, snapshot: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(snapshot_id=snapshot)
    # as stored: class maps as uint8 codes (decoded, their _FillValue would make them float/NaN)
    return xr.open_zarr(s.store, group=group, consolidated=False, chunks=None, mask_and_scale=False).load()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, stac_api: StacServer) -> dict:
    root = tmp_path_factory.mktemp("cz")
    ingested = shared_ingest(tmp_path_factory, stac_api.url, 1.0)  # the session's; jobs run on a copy
    job = demo_job(private_copy(ingested, root / "repo"), grid=GridSpec(resolution=1.0))
    # 360 x 144: one overview level
    kw: dict[str, Any] = {"chunks": (32, 64), "registry": root / "registry", "cache_dir": root / "cache"}
    many = run_indicators(job.store, block=16, workers=2, **kw)
    one = run_indicators(job.store, force_full=True, block=4096, **kw)
    return {"store": job.store, "many": many, "one": one}


def test_layer_equals_the_kernel_on_the_cube_climatology(runs: dict) -> None:
    store, res = runs["store"], runs["one"]
    cube = open_cube(store, res.input_snapshot)  # read independently, with xarray
    tas, pr, pet = (
        cube[v].transpose("month", "y", "x").values.astype(np.float64) for v in ("tas", "pr", "pet")
    )
    want = climate_zone(tas, pr, pet)  # 1-12, 0 no data
    maps = _group(store, res.snapshot_id, "indicators")
    got = maps["climate_zone"]
    assert got.dims == ("y", "x") and got.dtype == np.uint8
    np.testing.assert_array_equal(got.values, np.where(want == 0, 255, want))
    assert len(np.unique(want[want > 0])) >= 4  # several zones: the comparison is not vacuous
    assert got.attrs["flag_values"] == list(range(1, 13))
    assert got.attrs["flag_meanings"].split() == list(ZONES)
    assert got.attrs["nodata"] == 255


def test_many_tiles_equal_one_tile_bit_for_bit(runs: dict) -> None:
    store = runs["store"]
    assert runs["many"].overview_factors == runs["one"].overview_factors == [2]
    for group in ("indicators", "overviews/2"):
        a = _group(store, runs["many"].snapshot_id, group)["climate_zone"].values
        b = _group(store, runs["one"].snapshot_id, group)["climate_zone"].values
        assert a.dtype == b.dtype == np.uint8
        np.testing.assert_array_equal(a, b, err_msg=group)


def test_overview_is_the_area_weighted_mode(runs: dict) -> None:
    store, snap = runs["store"], runs["one"].snapshot_id
    base = _group(store, snap, "indicators")["climate_zone"].values
    grid = Grid.of(open_cube(store))
    t = grid.transform
    ra = grid_cell_areas((t.a, t.b, t.c, t.d, t.e, t.f), grid.shape)
    ov = _group(store, snap, "overviews/2")["climate_zone"].values
    np.testing.assert_array_equal(ov, block_mode(base, ra, 2, 13, 255))
    # every coarse cell is one of the zones of its block (or no data when the block has none)
    for r, c in [(10, 20), (40, 100), (60, 150)]:
        block = base[2 * r : 2 * r + 2, 2 * c : 2 * c + 2]
        assert ov[r, c] in set(block.ravel().tolist())
