"""The indicator job over 2-D tiles: many small tiles (rows x columns), one tile covering the
grid, and tiles run on a multi-process dask cluster give the same bytes; and those equal the
whole-grid kernels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from kernels.overview import block_mean, block_mode
from pipeline.config import GridSpec, PeriodSpec
from pipeline.grid import Grid
from pipeline.indicators.job import open_inputs, run_indicators
from pipeline.indicators.registry import CLASS_MAPS, SH_CLASSES
from pipeline.indicators.tables import epoch_table, region_index
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import free_port, serve_catalog
from pipeline.store import cube_log, data_snapshot, open_repo
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration
EPOCHS = (2015, 2017)  # three epochs: the trend maps are computed, not NaN


def _group(store: str, snapshot: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(snapshot_id=snapshot)
    return xr.open_zarr(
        s.store, group=group, consolidated=False, chunks=None, mask_and_scale=False
    ).load()  # class codes as stored


def _groups(store: str, snapshot: str) -> dict[str, xr.Dataset]:
    maps = _group(store, snapshot, "indicators")
    out = {"indicators": maps, "tables": _group(store, snapshot, "tables")}
    for f in maps.attrs["overview_factors"]:
        out[f"overviews/{f}"] = _group(store, snapshot, f"overviews/{f}")
    return out


def _assert_identical(a: dict[str, xr.Dataset], b: dict[str, xr.Dataset]) -> None:
    assert a.keys() == b.keys()
    for group, ds in a.items():
        assert set(ds.variables) == set(b[group].variables), group
        for name in ds.variables:
            x, y = ds[name].values, b[group][name].values
            assert x.dtype == y.dtype and x.shape == y.shape, f"{group}/{name}"
            same = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
            assert same, f"{group}/{name} differs"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    root = tmp_path_factory.mktemp("chunked")
    make_demo_catalog(
        root / "catalog", DemoSpec(resolution=1.0, start_year=EPOCHS[0], end_year=EPOCHS[1], seed=11)
    )
    job = demo_job(
        root / "repo", grid=GridSpec(resolution=1.0), period=PeriodSpec(start=EPOCHS[0], end=EPOCHS[1])
    )
    with serve_catalog(root / "catalog") as srv:
        run_ingest(job, stac_url=srv.url)
    kw = {"chunks": (32, 64), "registry": root / "registry", "cache_dir": root / "cache"}
    blocks: dict[str, int] = {}

    def counter(key: str):  # the number of blocks each run reports
        return lambda stage, done, total: blocks.__setitem__(key, total)

    many = run_indicators(job.store, block=16, workers=2, report=counter("many"), **kw)
    one = run_indicators(job.store, force_full=True, block=4096, report=counter("one"), **kw)
    return {"job": job, "store": job.store, "many": many, "one": one, "blocks": blocks, "kw": kw}


def test_many_blocks_equal_one_block_bit_for_bit(demo):
    grid = Grid.of(open_inputs(demo["store"], demo["many"].input_snapshot))
    assert grid.shape[0] == 144 and demo["many"].overview_factors == [2]
    assert grid.shape[1] == 360
    assert demo["blocks"] == {"many": 6, "one": 1}  # tiles of 64 x 256: 3 rows x 2 columns, or one
    many = _groups(demo["store"], demo["many"].snapshot_id)
    one = _groups(demo["store"], demo["one"].snapshot_id)
    assert np.isfinite(many["indicators"]["trend_slope"].values[-1]).any()  # the trend is exercised
    _assert_identical(many, one)


def test_blocks_equal_the_whole_grid_kernels(demo):
    """Overviews: bit for bit the whole-grid block mean/mode. Tables: the whole-grid zonal
    reduction of the stored maps, up to the order of the float64 sums."""
    store, snap = demo["store"], demo["many"].snapshot_id
    got = _groups(store, snap)
    maps = got["indicators"]
    cube = open_inputs(store, demo["many"].input_snapshot)
    grid = Grid.of(cube)
    row_area = grid.row_areas()
    ov = got["overviews/2"]
    for name in ("soc_stock", "soc_change_rate", "sh_class"):
        for k in range(maps.sizes["epoch"]):
            a = maps[name].values[k]
            if name in CLASS_MAPS:
                level = block_mode(a, row_area, 2, len(SH_CLASSES), 255)
            else:
                level = block_mean(a, row_area, 2)[0].astype(np.float32)
            np.testing.assert_array_equal(ov[name].values[k], level)
    idx = region_index(grid, demo["kw"]["cache_dir"], demo["kw"]["registry"])
    baseline = maps["soc_stock"].values[0]
    for k, e in enumerate(maps["epoch"].values):
        layers = {str(n): maps[n].values[k] for n in maps.data_vars}
        layers["landcover"] = cube["landcover"].sel(epoch=e).values
        want = epoch_table(idx, layers, baseline, row_area)
        for name, col in want.items():
            np.testing.assert_allclose(
                got["tables"][name].values[:, k], col, rtol=1e-12, atol=1e-9, err_msg=name
            )


def test_blocks_on_a_multi_process_cluster_equal_the_local_run(demo):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_indicators(
            demo["store"], force_full=True, block=32, scheduler=cluster.scheduler_address, **demo["kw"]
        )
    assert remote.input_snapshot == data_snapshot(demo["store"]) and remote.snapshot_id is not None
    _assert_identical(
        _groups(demo["store"], remote.snapshot_id), _groups(demo["store"], demo["one"].snapshot_id)
    )


def _socobs(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "socobs")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=300)


def test_cli_block_and_scheduler_options(demo, tmp_path):
    job_file = tmp_path / "job.yaml"
    job_file.write_text(json.dumps(json.loads(demo["job"].model_dump_json())))
    args = [str(job_file), "--registry", str(demo["kw"]["registry"]), "--cache", str(demo["kw"]["cache_dir"])]
    n = len(cube_log(demo["store"]))
    bad = _socobs("indicators", *args, "--full", "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert bad.returncode == 2 and "did not answer" in bad.stderr and "Traceback" not in bad.stderr
    assert len(cube_log(demo["store"])) == n  # refused before any write
    ok = _socobs("indicators", *args, "--full", "--block", "16")
    assert ok.returncode == 0, ok.stderr
    new = cube_log(demo["store"])[0].snapshot_id
    _assert_identical(_groups(demo["store"], new), _groups(demo["store"], demo["one"].snapshot_id))
