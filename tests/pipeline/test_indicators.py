"""The indicator job on a constructed cube whose every table value can be computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from pyproj import CRS, Geod
from scipy.stats import norm

from pipeline.errors import PipelineError
from pipeline.indicators.job import run_indicators
from pipeline.regions.hierarchy import add_region_set
from pipeline.store import open_repo, write_and_commit

EPOCHS = list(range(2015, 2021))  # six epochs
RES = 0.5
W, S, E, N = 10.0, 40.0, 20.0, 50.0
BD, CF, CLAY = 1.2, 0.1, 30.0
FACTOR = BD * (1 - CF) * 30 * 0.1  # stock (t C/ha) per g/kg of SOC over one 0-30 cm layer


def soc_of(epoch: int) -> float:
    return 20.0 + 1.0 * (epoch - 2015)  # a known linear trend of 1 g/kg/yr


def constructed_cube() -> xr.Dataset:
    ny, nx = int((N - S) / RES), int((E - W) / RES)
    y = N - RES * (np.arange(ny) + 0.5)
    x = W + RES * (np.arange(nx) + 0.5)
    shape = (len(EPOCHS), 1, ny, nx)
    soc = np.stack([np.full((1, ny, nx), soc_of(e), np.float32) for e in EPOCHS])
    lc = np.where(x[None, :] < 14.0, 40, 30).astype(np.uint8)  # cropland west of 14 E, grassland east
    lc = np.broadcast_to(lc, (len(EPOCHS), ny, nx)).copy()
    layer = ("epoch", "depth", "y", "x")
    prov = {
        v: {
            "source": "hand",
            "inputs": {
                str(e): {"items": [f"i{e}"], "datetimes": [f"{e}-06-30T00:00:00+00:00"]} for e in EPOCHS
            },
        }
        for v in ("soc", "soc_q05", "soc_q95", "bdod", "cfvo", "clay", "landcover")
    }
    ds = xr.Dataset(
        {
            "soc": (layer, soc, {"units": "g/kg", "source": "hand"}),
            "soc_q05": (layer, soc * np.float32(0.5), {"units": "g/kg", "source": "hand"}),
            "soc_q95": (layer, soc * np.float32(1.5), {"units": "g/kg", "source": "hand"}),
            "bdod": (layer, np.full(shape, BD, np.float32), {"units": "g/cm3", "source": "hand"}),
            "cfvo": (layer, np.full(shape, CF, np.float32), {"units": "1", "source": "hand"}),
            "clay": (layer, np.full(shape, CLAY, np.float32), {"units": "%", "source": "hand"}),
            "landcover": (("epoch", "y", "x"), lc, {"units": "class", "source": "hand-lc"}),
        },
        coords={
            "epoch": np.array(EPOCHS, dtype=np.int64),
            "y": y,
            "x": x,
            "depth_top": ("depth", [0.0]),
            "depth_bottom": ("depth", [30.0]),
            "spatial_ref": 0,
        },
        attrs={"crs": CRS.from_epsg(4326).to_wkt(), "provenance": json.dumps(prov)},
    )
    return ds


def geodesic_area_km2(w: float, s: float, e: float, n: float) -> float:
    """Area of a lon/lat box on the WGS84 ellipsoid by pyproj's Geod (edges densified so the
    geodesics follow the parallels): an independent reference for the kernels' cell areas."""
    box = shapely.segmentize(shapely.box(w, s, e, n), 0.001)
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(box)[0]) / 1e6


@pytest.fixture(scope="module")
def job_store(tmp_path_factory) -> tuple[str, Path, xr.Dataset]:
    root = tmp_path_factory.mktemp("hand")
    store = str(root / "repo")
    repo = open_repo(store, create=True)
    write_and_commit(repo, constructed_cube(), "hand-made cube", {"kind": "ingest"})
    # Custom regions, delivered in Web Mercator (the cube is EPSG:4326): reprojected, not refused.
    regions = gpd.GeoDataFrame(
        {"rid": ["R_HALF", "R_FAR"], "label": ["half cropland", "outside the cube"]},
        geometry=[shapely.segmentize(shapely.box(12, 42, 16, 46), 0.01), shapely.box(100, 0, 101, 1)],
        crs="EPSG:4326",
    ).to_crs("EPSG:3857")
    path = root / "projects.gpkg"
    regions.to_file(path)
    registry = root / "registry"
    add_region_set(path, registry=registry, level="custom", id_field="rid", name_field="label")
    res = run_indicators(store, chunks=(16, 16), registry=registry, cache_dir=root / "cache")
    assert res.mode == "full" and res.computed_epochs == EPOCHS
    tables = xr.open_zarr(
        open_repo(store).readonly_session(branch="main").store, group="tables", consolidated=False
    ).load()
    return store, registry, tables


def test_region_rows_equal_hand_computed_values(job_store):
    _, _, t = job_store
    r = t.sel(region="R_HALF")
    area = geodesic_area_km2(12, 42, 16, 46)
    crop_area = geodesic_area_km2(12, 42, 14, 46)
    base = FACTOR * soc_of(2015)
    for e in EPOCHS:
        row = r.sel(epoch=e)
        stock = FACTOR * soc_of(e)
        a, c = row.sel(stratum="all"), row.sel(stratum="cropland")
        np.testing.assert_allclose(float(a.valid_area_km2), area, rtol=1e-6)
        np.testing.assert_allclose(float(c.valid_area_km2), crop_area, rtol=1e-6)
        np.testing.assert_allclose(float(a.valid_fraction), 1.0, rtol=1e-9)
        for s in (a, c):
            np.testing.assert_allclose(float(s.soc_stock), stock, rtol=1e-6)
            np.testing.assert_allclose(float(s.soc_stock_q05), 0.5 * stock, rtol=1e-6)
            np.testing.assert_allclose(float(s.soc_stock_q95), 1.5 * stock, rtol=1e-6)
        # t/ha x km2: 1 km2 = 100 ha; Tg = 1e6 t
        np.testing.assert_allclose(float(a.soc_stock_total), stock * area * 100 / 1e6, rtol=1e-6)
        np.testing.assert_allclose(float(c.soc_stock_total), stock * crop_area * 100 / 1e6, rtol=1e-6)
        np.testing.assert_allclose(float(a.soc_stock_change), stock - base, rtol=1e-5, atol=1e-5)
        if e == 2015:
            assert np.isnan(float(a.soc_change_rate)) and np.isnan(float(a.progress_4p1000))
        else:
            np.testing.assert_allclose(float(a.soc_change_rate), FACTOR * 1.0, rtol=1e-5)
            np.testing.assert_allclose(float(a.soc_change_rate_permille), 1000 * FACTOR / base, rtol=1e-5)
            np.testing.assert_allclose(float(a.progress_4p1000), 1000 * FACTOR / base / 4, rtol=1e-5)
        ratio = (soc_of(e) / 10) / CLAY
        np.testing.assert_allclose(float(a.soc_clay_ratio), ratio, rtol=1e-6)
        degraded = ratio < 1 / 13
        assert float(a.sh_share_degraded) == (1.0 if degraded else 0.0)
        assert float(a.sh_share_moderate) == (0.0 if degraded else 1.0)
        n = e - 2014
        if n < 3:
            assert np.isnan(float(a.trend_slope)) and np.isnan(float(a.trend_sig_increase_share))
            continue
        np.testing.assert_allclose(float(a.trend_slope), FACTOR * 1.0, rtol=1e-5)
        s_stat, var = n * (n - 1) / 2, n * (n - 1) * (2 * n + 5) / 18
        p = 2 * norm.sf((s_stat - 1) / np.sqrt(var))  # Mann-Kendall, continuity-corrected
        assert float(a.trend_sig_increase_share) == (1.0 if p < 0.05 else 0.0)
        assert float(a.trend_sig_decrease_share) == 0.0
    # epochs 2019 (n = 5) and 2020 (n = 6) are the first with p < 0.05
    assert r.sel(stratum="all", epoch=2018).trend_sig_increase_share == 0.0
    assert r.sel(stratum="all", epoch=2019).trend_sig_increase_share == 1.0


def test_empty_stratum_and_region_outside_extent_are_reported(job_store):
    _, _, t = job_store
    tree = t.sel(region="R_HALF", stratum="tree_cover")
    assert (tree.valid_area_km2.values == 0).all() and np.isnan(tree.soc_stock.values).all()
    far = t.sel(region="R_FAR")
    assert str(far.level.values) == "custom"
    assert (far.valid_area_km2.values == 0).all() and (far.valid_fraction.values == 0).all()


def test_rows_carry_snapshot_and_source_datetime(job_store):
    store, _, t = job_store
    from pipeline.store import cube_log

    ingest = next(e.snapshot_id for e in cube_log(store) if e.metadata.get("kind") == "ingest")
    assert set(t.input_snapshot.values.tolist()) == {ingest}
    assert t.source_latest.sel(epoch=2017).item() == "2017-06-30T00:00:00+00:00"


def test_rollup_parents_are_sums_of_children(job_store):
    _, _, t = job_store
    a = t.sel(stratum="all")
    level, parent = a.level.values, a.parent_id.values
    countries = level == "country"
    for rid in a.region.values[level == "region"]:
        kids = countries & (parent == rid)
        for col in ("soc_stock_total", "valid_area_km2", "area_km2"):
            np.testing.assert_allclose(
                a[col].sel(region=rid).values,
                a[col].isel(region=kids).sum("region").values,
                rtol=1e-12,
                atol=1e-12,
            )
    for col in ("soc_stock_total", "valid_area_km2"):
        np.testing.assert_allclose(
            a[col].sel(region="global").values, a[col].isel(region=countries).sum("region").values, rtol=1e-12
        )
    # The cube covers parts of Italy, Croatia, Bosnia ... : those rows have data
    assert float(a.soc_stock_total.sel(region="ITA", epoch=2015)) > 0


def test_snapshot_without_the_needed_variables_is_refused(tmp_path):
    # Land cover and clay are optional (tests/integration/test_real_inputs.py); a stock is not.
    store = str(tmp_path / "repo")
    cube = constructed_cube().drop_vars(["bdod"])
    write_and_commit(open_repo(store, create=True), cube, "no bulk density", {"kind": "ingest"})
    with pytest.raises(
        PipelineError, match=r"cannot give a SOC stock: it has soc without bdod.*soc_stock_src"
    ):
        run_indicators(store, registry=tmp_path / "none")
