"""SDG 15.3.1 in the indicator job, on a six-year demo cube (2015-2020) ingested from the demo
STAC server: the maps equal the kernels applied to the same inputs read independently, the
job writes one commit, the areas equal an exact zonal computation done here with shapely and
pyproj, and the roll-ups are consistent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
import xarray as xr
from pyproj import Geod

from kernels.sdg import land_cover_degradation, sdg15_3_1, soc_degradation, status, to_unccd
from kernels.sdg_productivity import productivity
from kernels.sdg_tables import NODATA, WATER
from pipeline.errors import PipelineError
from pipeline.indicators.sdg_periods import SdgSpec, default_periods, periods
from pipeline.store import BRANCH, CUBE, INDICATORS, SDG, open_repo
from tests.support.sdg_store import BOX, SdgStore, shared_sdg_indicators


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SdgStore:
    """The session's shared store, read only: the one job run here writes to a copy of it."""
    return shared_sdg_indicators(tmp_path_factory)


def _open(store: str, group: str, snapshot: str | None = None) -> xr.Dataset:
    repo = open_repo(store)
    s = repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch=BRANCH)
    return xr.open_zarr(s.store, group=group, consolidated=False, chunks=None, mask_and_scale=False).load()


def test_one_commit_holds_indicators_and_sdg(built: SdgStore) -> None:
    repo = open_repo(built.store)
    tip, parent = list(repo.ancestry(branch=BRANCH))[:2]
    assert tip.metadata["kind"] == "indicators"
    assert parent.metadata["kind"] != "indicators"  # the ingest commit: the job wrote one commit
    names = {p for p, _ in [(str(n), 0) for n in _group_names(built.store, tip.id)]}
    assert {INDICATORS, SDG} <= names
    assert SDG not in _group_names(built.store, parent.id)


def _group_names(store: str, snapshot: str) -> set[str]:
    import zarr

    root = zarr.open_group(open_repo(store).readonly_session(snapshot_id=snapshot).store, mode="r")
    return {str(n) for n, _ in root.groups()}


def test_maps_equal_the_kernels_on_the_same_inputs(built: SdgStore) -> None:
    sdg = _open(built.store, SDG)
    cube = _open(built.store, CUBE)
    maps = _open(built.store, INDICATORS)
    epochs = [int(e) for e in cube["epoch"].values]
    base, (rep,) = default_periods(epochs)
    assert [str(p) for p in sdg["period"].values] == [f"{base[0]}-{base[1]}", f"{rep[0]}-{rep[1]}"]
    # annual integrals, computed here by reshaping the 72 months into (years, 12)
    ndvi = cube["ndvi"].values.astype(np.float64)
    years = sorted({int(str(t)[:4]) for t in cube["time"].values})
    integrals = ndvi.reshape(len(years), 12, *ndvi.shape[1:]).sum(axis=1)
    lc = {e: cube["landcover"].sel(epoch=e).values for e in epochs}
    stock = {e: maps["soc_stock"].sel(epoch=e).values.astype(np.float64) for e in epochs}
    zone = maps["climate_zone"].values.astype(np.int64)
    length = base[1] - base[0]
    baseline_result = None
    for k, (kind, (a, b), ndvi_window) in enumerate(
        [("baseline", base, base), ("reporting", (base[1], rep[1]), (rep[1] - length, rep[1]))]
    ):
        unit_class = to_unccd(lc[a]).astype(np.int64)
        unit = zone * 8 + np.where(unit_class < 0, 7, unit_class)
        prod = productivity(
            integrals,
            years,
            unit,
            trajectory_period=ndvi_window,
            state_period=ndvi_window,
            performance_period=ndvi_window,
        ).productivity
        lcd = land_cover_degradation(lc[a], lc[b])
        socd = soc_degradation(stock[b], stock[a])
        result = sdg15_3_1(lcd, prod, socd)
        cls = to_unccd(lc[b])
        land = (cls != NODATA) & (cls != WATER)
        expected = {"sdg_land_cover": lcd, "sdg_productivity": prod, "sdg_soc": socd, "sdg_period": result}
        if kind == "baseline":
            baseline_result = np.where(land, result, NODATA)
            expected["sdg_15_3_1"] = result
        else:
            assert baseline_result is not None
            expected["sdg_15_3_1"] = status(baseline_result, np.where(land, result, NODATA).astype(np.int8))
        for name, want in expected.items():
            got = sdg[name].values[k]
            np.testing.assert_array_equal(got, np.where(land, want, NODATA), err_msg=f"{name} {kind}")
        assert (sdg["sdg_productivity"].values[k][land] != NODATA).any()  # NDVI present: computed
    assert sdg["sdg_15_3_1"].dtype == np.int8
    assert sdg["sdg_15_3_1"].attrs["flag_meanings"] == "degraded stable improved"
    repo = open_repo(built.store)
    decoded = xr.open_zarr(repo.readonly_session(branch=BRANCH).store, group=SDG, consolidated=False)
    # CF _FillValue -128: a CF reader masks exactly the no-data cells
    np.testing.assert_array_equal(decoded["sdg_15_3_1"].isnull().values, sdg["sdg_15_3_1"].values == NODATA)
    assert sdg["sdg_15_3_1"].attrs["grid_mapping"] == "spatial_ref"


def test_areas_equal_an_exact_zonal_computation(built: SdgStore) -> None:
    sdg = _open(built.store, SDG)
    x, y = sdg["x"].values, sdg["y"].values
    half = abs(float(x[1] - x[0])) / 2
    box = shapely.box(*BOX)
    geod = Geod(ellps="WGS84")
    row_km2 = np.array(
        [
            abs(
                geod.geometry_area_perimeter(
                    shapely.segmentize(shapely.box(0, yc - half, 2 * half, yc + half), 0.01)
                )[0]
            )
            / 1e6
            for yc in y
        ]
    )
    frac = np.zeros((y.size, x.size))
    for i, yc in enumerate(y):
        for j, xc in enumerate(x):
            cell = shapely.box(xc - half, yc - half, xc + half, yc + half)
            frac[i, j] = cell.intersection(box).area / cell.area
    weight = frac * row_km2[:, None]
    row = sdg.sel(region="SDG_BOX")
    checked = 0
    for k, period in enumerate(sdg["period"].values):
        layer = sdg["sdg_15_3_1"].values[k]
        land = layer != NODATA
        land |= sdg["sdg_land_cover"].values[k] != NODATA  # land cells with no data in the result
        for code, name in ((-1, "degraded"), (0, "stable"), (1, "improved")):
            want = float((weight * (layer == code)).sum())
            got = float(row["area_km2"].sel({"period": period, "layer": "sdg_15_3_1", "class": name}))
            np.testing.assert_allclose(got, want, rtol=1e-6)
            checked += want > 0
        land_area = float(row["land_area_km2"].sel(period=period))
        assert land_area >= float((weight * land).sum()) * (1 - 1e-6)
        shares = row["share"].sel(period=period, layer="sdg_15_3_1").values
        np.testing.assert_allclose(shares.sum(), 1.0, rtol=1e-12)
    assert checked >= 3  # the box holds degraded, stable and improved land somewhere


def test_parent_areas_are_the_sums_of_their_children(built: SdgStore) -> None:
    sdg = _open(built.store, SDG)
    ids = [str(r) for r in sdg["region"].values]
    parents = [str(p) for p in sdg["parent_id"].values]
    levels = [str(v) for v in sdg["level"].values]
    area = sdg["area_km2"].values
    tested = 0
    for i, rid in enumerate(ids):
        if levels[i] != "region":
            continue
        kids = [j for j, p in enumerate(parents) if p == rid and levels[j] == "country"]
        np.testing.assert_allclose(area[i], area[kids].sum(axis=0), rtol=1e-12, atol=1e-9)
        tested += 1
    countries = [j for j, lv in enumerate(levels) if lv == "country"]
    np.testing.assert_allclose(area[0], area[countries].sum(axis=0), rtol=1e-12, atol=1e-9)
    assert ids[0] == "global" and tested >= 5
    g = sdg.sel(region="global")
    for period in sdg["period"].values:
        degraded = float(g["share"].sel({"period": period, "layer": "sdg_15_3_1", "class": "degraded"}))
        print(
            f"global {period}: degraded share {degraded:.4f}, land {float(g['land_area_km2'].sel(period=period)):.0f} km2"
        )
        assert 0 < degraded < 1


def test_periods_are_checked_against_the_epochs() -> None:
    epochs = list(range(2015, 2025))
    assert default_periods(epochs) == ((2015, 2019), ((2020, 2024),))
    assert default_periods([2015, 2016, 2017]) == ((2015, 2016), ((2017, 2017),))
    assert default_periods([2015, 2016]) == ((2015, 2016), ())
    assert [p.label for p in periods([2015, 2016], SdgSpec())] == ["2015-2016"]
    rep = periods(epochs, SdgSpec())[1]
    assert (rep.lc_from, rep.lc_to, rep.ndvi_first, rep.ndvi_last) == (2019, 2024, 2020, 2024)
    for spec, words in (
        (SdgSpec(baseline=(2015, 2030)), "epoch of the cube"),
        (SdgSpec(baseline=(2018, 2016)), "first year < last year"),
        (SdgSpec(reporting=((2016, 2020),)), "after the baseline"),
    ):
        with pytest.raises(PipelineError, match=words):
            periods(epochs, spec)
    with pytest.raises(PipelineError, match="at least two epochs"):
        periods([2015], SdgSpec())


def test_without_ndvi_productivity_is_missing_not_zero() -> None:
    from pipeline.indicators.sdg import Grids, classify_grids, productivity_note_of

    base, rep = periods(list(range(2015, 2021)), SdgSpec())
    assert "no ndvi" in productivity_note_of(base, [], has_ndvi=False)
    assert "too few whole NDVI years" in productivity_note_of(base, [2015, 2016, 2017], has_ndvi=True)
    assert productivity_note_of(base, list(range(2015, 2021)), has_ndvi=True) == ""
    land = np.array([[True, True, False]])
    grids = [
        Grids(
            land,
            np.array([[0, -1, 0]], np.int8),
            np.array([[0, 0, 0]], np.int8),
            np.zeros((1, 3), np.int32),
            None,
            "x",
        )
        for _ in (base, rep)
    ]
    classify_grids([base, rep], grids, SdgSpec())
    for g in grids:
        np.testing.assert_array_equal(g.maps["sdg_productivity"], [[NODATA] * 3])
        np.testing.assert_array_equal(g.maps["sdg_period"], [[NODATA] * 3])  # missing="any"
    grids2 = [
        Grids(
            land,
            np.array([[0, -1, 0]], np.int8),
            np.array([[0, 0, 0]], np.int8),
            np.zeros((1, 3), np.int32),
            None,
            "x",
        )
        for _ in (base, rep)
    ]
    classify_grids([base, rep], grids2, SdgSpec(missing="degraded_wins"))
    np.testing.assert_array_equal(grids2[0].maps["sdg_period"], [[NODATA, -1, NODATA]])


def test_store_from_before_sdg_gets_it_in_a_commit_of_its_own(built: SdgStore, tmp_path: Path) -> None:
    import shutil

    import zarr

    from pipeline.indicators.job import run_indicators

    copy = str(tmp_path / "repo")
    shutil.copytree(built.store, copy)
    want = _open(copy, SDG)
    repo = open_repo(copy)
    session = repo.writable_session(BRANCH)
    del zarr.open_group(session.store, mode="r+")[SDG]  # as written before SDG 15.3.1 existed
    session.commit("drop sdg", metadata={"kind": "maintenance"})
    res = run_indicators(copy, registry=built.registry, cache_dir=built.cache, block=16)
    assert res.mode == "up-to-date" and res.snapshot_id is not None
    tip, parent = list(open_repo(copy).ancestry(branch=BRANCH))[:2]
    assert tip.metadata["kind"] == "sdg" and parent.message == "drop sdg"
    got = _open(copy, SDG)
    for name in ("sdg_15_3_1", "sdg_productivity", "area_km2", "share"):
        np.testing.assert_array_equal(got[name].values, want[name].values)
    again = run_indicators(copy, registry=built.registry, cache_dir=built.cache, block=16)
    assert again.snapshot_id is None  # nothing left to do: no commit
