"""``socobs export map INDICATOR --epoch E --out X.tif``: a valid Cloud-Optimized GeoTIFF (rio-cogeo's
validator) with the grid's CRS, nodata, tiles and overviews, whose pixels are the store's values
read independently with xarray; bad input exits 2 naming what is allowed, and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from rio_cogeo.cogeo import cog_validate

from pipeline.store import cube_log, open_repo
from tests.support.api_store import ApiStore


def _export(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pipeline.cli", "export", "map", *args, "--store", store]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


def _stored(store: str, name: str, snapshot: str | None = None) -> xr.DataArray:
    """The map as committed, read with xarray straight from the Icechunk session (codes, not masked)."""
    repo = open_repo(store)
    session = (
        repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch="main")
    )
    ds = xr.open_zarr(session.store, group="indicators", consolidated=False, mask_and_scale=False)
    return ds[name]


# epoch position: not the default (latest) where the map has data there; the trend needs 3 epochs
@pytest.mark.parametrize(
    ("name", "klass", "at"), [("soc_stock", False, 1), ("sh_class", True, 0), ("trend_slope", False, 2)]
)
def test_export_map_is_a_valid_cog_with_the_stores_pixels(
    api_store: ApiStore, tmp_path: Path, name: str, klass: bool, at: int
) -> None:
    stored = _stored(api_store.store, name)
    epoch = int(stored["epoch"].values[at])
    out = tmp_path / f"{name}.tif"
    res = _export(api_store.store, name, "--epoch", str(epoch), "--out", str(out))
    assert res.returncode == 0, res.stderr
    valid, errors, warnings = cog_validate(str(out))
    assert valid and not errors, (errors, warnings)
    want = stored.sel(epoch=epoch).values
    with rasterio.open(out) as src:
        assert src.crs is not None and src.crs.to_epsg() == 4326
        assert src.is_tiled and src.overviews(1), "tiled, with internal overviews"
        got = src.read(1)
        assert got.dtype == want.dtype
        if klass:
            assert src.nodata == 255
            np.testing.assert_array_equal(got, want)
            assert (want == 255).any() and (want != 255).any()  # both kinds of pixel are compared
        else:
            assert src.nodata is not None and np.isnan(src.nodata)
            np.testing.assert_array_equal(got, want)  # NaN where NaN, equal elsewhere
            assert np.isfinite(want).any()
        x, y = stored["x"].values, stored["y"].values
        assert src.transform.c == pytest.approx(x[0] - (x[1] - x[0]) / 2)
        assert src.transform.f == pytest.approx(y[0] - (y[1] - y[0]) / 2)
        assert src.tags(1)["epoch"] == str(epoch)


def test_export_map_default_epoch_and_static_map(api_store: ApiStore, tmp_path: Path) -> None:
    out = tmp_path / "cz.tif"
    assert _export(api_store.store, "climate_zone", "--out", str(out)).returncode == 0
    assert cog_validate(str(out))[0]
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), _stored(api_store.store, "climate_zone").values)
    out = tmp_path / "latest.tif"
    assert _export(api_store.store, "soc_stock", "--out", str(out)).returncode == 0
    stored = _stored(api_store.store, "soc_stock")
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), stored.isel(epoch=-1).values)


def test_export_map_from_a_snapshot(api_store: ApiStore, tmp_path: Path) -> None:
    snap = next(e.snapshot_id for e in cube_log(api_store.store) if e.metadata.get("kind") == "indicators")
    out = tmp_path / "snap.tif"
    res = _export(api_store.store, "soc_stock", "--epoch", "2015", "--out", str(out), "--snapshot", snap)
    assert res.returncode == 0, res.stderr
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(
            src.read(1), _stored(api_store.store, "soc_stock", snap).sel(epoch=2015).values
        )


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["nope", "--epoch", "2016"], ["INDICATOR", "soc_stock", "sh_class", "trend_p", "'nope'"]),
        (["soc_stock", "--epoch", "1999"], ["--epoch", "2015, 2016, 2017", "1999"]),
    ],
)
def test_bad_indicator_or_epoch_exits_2_naming_the_allowed_values(
    api_store: ApiStore, tmp_path: Path, args: list[str], names: list[str]
) -> None:
    out = tmp_path / "bad.tif"
    res = _export(api_store.store, *args, "--out", str(out))
    assert res.returncode == 2
    for n in names:
        assert n in res.stderr, (n, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a partial file
