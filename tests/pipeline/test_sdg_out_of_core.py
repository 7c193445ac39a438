"""The SDG 15.3.1 pass out of core (``pipeline.indicators.sdg_scratch``): its maps and tables
equal bit for bit a whole-grid computation written here in plain numpy and the kernels (the
implementation it replaced: whole-grid percentile per land unit, whole-grid zonal sums), on
tiles of 16 cells and on one tile; its scratch directory is gone afterwards, also after an
error; a store without NDVI still gets missing productivity."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr

from kernels.sdg import land_cover_degradation, sdg15_3_1, soc_degradation, status, to_unccd
from kernels.sdg_productivity import productivity
from kernels.sdg_tables import NODATA, WATER
from kernels.zonal import AREA, rollup, zonal_stats
from pipeline.grid import Grid
from pipeline.indicators import sdg_scratch
from pipeline.indicators.sdg import run
from pipeline.indicators.sdg_periods import LAYERS, SdgSpec, periods
from pipeline.indicators.tables import RegionIndex, region_index
from pipeline.store import BRANCH, CUBE, INDICATORS, SDG, open_repo
from tests.support.sdg_store import SdgStore, sdg_indicators_copy

CHUNKS = (16, 16)  # the test store's chunks


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> SdgStore:
    """A copy of the session's shared store: the pass runs in uncommitted sessions of it, which
    still write chunks to its folder."""
    return sdg_indicators_copy(tmp_path_factory, "sdg-out-of-core")


def _read(session: Any, group: str) -> xr.Dataset:
    return xr.open_zarr(
        session.store, group=group, consolidated=False, chunks=None, mask_and_scale=False
    ).load()


def _index(built: SdgStore, grid: Grid) -> RegionIndex:
    return region_index(grid, built.cache, built.registry)


def _run(built: SdgStore, tile: int, spec: SdgSpec) -> xr.Dataset:
    """The pass into an uncommitted session of the tip (the store stays as it is)."""
    repo = open_repo(built.store)
    tip = _read(repo.readonly_session(branch=BRANCH), SDG)
    session = repo.writable_session(BRANCH)
    cube = _read(repo.readonly_session(branch=BRANCH), CUBE)
    idx = _index(built, Grid.of(cube))
    run(built.store, tip.attrs["input_snapshot"], session.store, idx, spec, CHUNKS, tile)
    return _read(session, SDG)


def _strata(layer: np.ndarray, land: np.ndarray) -> np.ndarray:
    out = np.full(layer.shape, 255, dtype=np.uint8)
    for k, code in enumerate((-1, 0, 1, NODATA)):
        out[land & (layer == code)] = k
    return out


def _table_rows(idx: RegionIndex, leaves: list[np.ndarray]) -> np.ndarray:
    out = np.zeros((len(idx.ids), *leaves[0].shape[1:]))
    out[idx.country_rows] = leaves[0]
    out[idx.region_rows] = rollup(leaves[0], idx.region_of_country, idx.region_rows.size)
    out[0] = rollup(leaves[0], np.zeros(len(idx.country_rows), np.int64), 1)[0]
    for acc, (_, r) in zip(leaves[1:], idx.user_sets, strict=True):
        out[r] = acc
    return out


def _reference(built: SdgStore, spec: SdgSpec) -> dict[str, np.ndarray]:
    """Maps (period, y, x) and ``area_km2`` / ``land_area_km2`` / ``share`` over the whole grid
    at once, as the SDG pass computed them before it went out of core."""
    session = open_repo(built.store).readonly_session(branch=BRANCH)
    cube, maps = _read(session, CUBE), _read(session, INDICATORS)
    epochs = [int(e) for e in cube["epoch"].values]
    ndvi = cube["ndvi"].values.astype(np.float64)
    years = sorted({int(str(t)[:4]) for t in cube["time"].values})
    integrals = ndvi.reshape(len(years), 12, *ndvi.shape[1:]).sum(axis=1)
    zone = maps["climate_zone"].values.astype(np.int32)
    grid = Grid.of(cube)
    idx = _index(built, grid)
    covs = [idx.countries, *[c for c, _ in idx.user_sets]]
    out: dict[str, list[np.ndarray]] = {n: [] for n in (*LAYERS, "area")}
    base = None
    for p in periods(epochs, spec):
        lc_a, lc_b = (cube["landcover"].sel(epoch=e).values for e in (p.lc_from, p.lc_to))
        st_a, st_b = (maps["soc_stock"].sel(epoch=e).values.astype(np.float64) for e in (p.lc_from, p.lc_to))
        cls_to, cls_from = to_unccd(lc_b), to_unccd(lc_a).astype(np.int32)
        land = (cls_to != NODATA) & (cls_to != WATER)
        unit = zone * 8 + np.where(cls_from < 0, 7, cls_from)
        w = (p.ndvi_first, p.ndvi_last)
        prod = productivity(
            integrals,
            years,
            unit,
            trajectory_period=w,
            state_period=w,
            performance_period=w,
            lookup=spec.lookup,
        ).productivity
        lcd = land_cover_degradation(lc_a, lc_b)
        socd = soc_degradation(st_b, st_a, threshold=spec.soc_threshold)
        layers = {
            "sdg_period": sdg15_3_1(lcd, prod, socd, missing=spec.missing),
            "sdg_land_cover": lcd,
            "sdg_productivity": prod,
            "sdg_soc": socd,
        }
        layers = {n: np.where(land, a, NODATA).astype(np.int8) for n, a in layers.items()}
        if base is None:
            base = layers["sdg_period"]
            layers["sdg_15_3_1"] = base
        else:
            layers["sdg_15_3_1"] = np.where(land, status(base, layers["sdg_period"]), NODATA).astype(np.int8)
        ones = np.where(land, np.float32(1.0), np.float32(np.nan))
        area = np.zeros((len(idx.ids), len(LAYERS), 4))
        for k, name in enumerate(LAYERS):
            st = _strata(layers[name], land)
            leaves = [
                zonal_stats(ones, c, grid.row_areas(), strata=st, n_strata=4, minmax=False, n_chunks=8)
                for c in covs
            ]
            area[:, k, :] = _table_rows(idx, leaves)[:, :4, AREA] / 1e6
            out[name].append(layers[name])
        out["area"].append(area)
    result = {n: np.stack(v) for n, v in out.items() if n != "area"}
    area = np.stack(out["area"], axis=1)
    land_area = area[:, :, 0, :].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(land_area[..., None, None] > 0, area / land_area[..., None, None], np.nan)
    return {**result, "area_km2": area, "land_area_km2": land_area, "share": share}


@pytest.mark.parametrize("spec", [SdgSpec(), SdgSpec(lookup="gpg1", missing="degraded_wins")])
def test_maps_and_tables_equal_the_whole_grid_computation(built: SdgStore, spec: SdgSpec) -> None:
    want = _reference(built, spec)
    assert (want["sdg_productivity"] != NODATA).any() and (want["sdg_productivity"] == -1).any()
    for tile in (16, 4096):  # 3 x 6 tiles, then one tile
        got = _run(built, tile, spec)
        for name in LAYERS:
            np.testing.assert_array_equal(got[name].values, want[name], err_msg=f"{name} tile {tile}")
            assert got[name].dtype == np.int8 and got[name].encoding["chunks"] == (1, *CHUNKS)
        for name in ("area_km2", "land_area_km2", "share"):
            np.testing.assert_array_equal(got[name].values, want[name], err_msg=f"{name} tile {tile}")
        assert (got["area_km2"].values > 0).any()


def _scratch_dirs(root: Path) -> list[Path]:
    return sorted(root.glob(f"{sdg_scratch.PREFIX}*"))


def test_the_scratch_directory_is_removed_also_after_an_error(
    built: SdgStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[list[Path]] = []
    files: list[int] = []
    real_areas = sdg_scratch.areas

    def spying(*args: Any) -> Any:
        seen.append(_scratch_dirs(tmp_path))
        files.append(sum(1 for f in seen[-1][0].rglob("*") if f.is_file()))
        return real_areas(*args)

    monkeypatch.setattr(sdg_scratch, "areas", spying)
    got = _run(built, 16, SdgSpec())
    assert len(seen) == 1 and len(seen[0]) == 1  # the pass used one scratch directory ...
    assert files[0] > 10 and not seen[0][0].exists()  # ... holding the intermediates, removed
    assert _scratch_dirs(tmp_path) == [] and got.sizes["period"] == 2

    def failing(*args: Any) -> Any:
        seen.append(_scratch_dirs(tmp_path))
        raise RuntimeError("disk full")

    monkeypatch.setattr(sdg_scratch, "areas", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        _run(built, 16, SdgSpec())
    assert len(seen[1]) == 1 and not seen[1][0].exists()
    assert _scratch_dirs(tmp_path) == []


def test_a_full_or_missing_temporary_disk_is_a_one_paragraph_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from pipeline.errors import PipelineError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "absent"))
    with pytest.raises(PipelineError, match=r"absent.*set TMPDIR"), sdg_scratch.scratch():
        pass
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(PipelineError, match="No space left"), sdg_scratch.scratch() as g:
        g.create_array("x", shape=(4,), dtype="i1")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert _scratch_dirs(tmp_path) == []
    with pytest.raises(OSError, match="other"), sdg_scratch.scratch():
        raise OSError(errno.EIO, "other")  # not about room: passed on as it is
