"""The ``point`` group (``pipeline.indicators.point``): the indicator maps again, every layer of
a cell in one chunk per epoch, so a cold ``/v1/point`` reads a few chunks instead of one per
map and epoch. Written by the indicator job's tiles (full and incremental runs); the API's
answers from it equal its answers from the maps, cell for cell."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import zarr

from observatory_api.chunks import ChunkCache
from observatory_api.reader import load_snapshot
from observatory_api.services.maps import point
from observatory_api.settings import Settings
from pipeline import cf
from pipeline.config import GridSpec, PeriodSpec
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest, run_update
from pipeline.ingest.stac_server import serve_catalog
from pipeline.store import INDICATORS, POINT, open_repo
from tests.support.demo import demo_job, subset_catalog

pytestmark = pytest.mark.integration
RES = 3.0


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict:
    """2015-2016 ingested, indicators (full, 16 x 32 tiles); 2017 added, indicators (incremental)."""
    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    root = tmp_path_factory.mktemp("point")
    full_cat, partial = root / "catalog", root / "partial"
    make_demo_catalog(full_cat, DemoSpec(resolution=RES, start_year=2015, end_year=2017, seed=3))
    subset_catalog(full_cat, partial, 2017)
    job = demo_job(root / "repo", grid=GridSpec(resolution=RES), period=PeriodSpec(start=2015, end=2017))
    kw = {"chunks": (16, 32), "registry": root / "registry", "cache_dir": root / "cache"}
    with serve_catalog(partial) as srv:
        run_ingest(job, stac_url=srv.url)
    first = run_indicators(job.store, **kw)
    with serve_catalog(full_cat) as srv:
        run_update(job, stac_url=srv.url)
    inc = run_indicators(job.store, **kw)
    assert first.mode == "full" and inc.mode == "incremental"
    return {"store": job.store, "registry": root / "registry", "first": first, "inc": inc}


def _groups(store: str, snapshot: str) -> tuple[zarr.Group, zarr.Group]:
    root = zarr.open_group(open_repo(store).readonly_session(snapshot_id=snapshot).store, mode="r")
    maps, pt = root[INDICATORS], root[POINT]
    assert isinstance(maps, zarr.Group) and isinstance(pt, zarr.Group)
    return maps, pt


@pytest.mark.parametrize("run", ["first", "inc"])
def test_the_point_group_holds_every_map_bit_for_bit(store, run):
    maps, pt = _groups(store["store"], store[run].snapshot_id)
    epochs = np.asarray(maps["epoch"][:])
    assert np.array_equal(np.asarray(pt["epoch"][:]), epochs)
    layers, static = list(pt.attrs["layers"]), list(pt.attrs["static"])
    map_names = {n for n, a in maps.arrays() if a.ndim >= 2 and n not in cf.DERIVED}  # not the CF bounds
    assert sorted(layers + static) == sorted(map_names)
    values = np.asarray(pt["epoch_layers"][:])
    assert values.shape == (epochs.size, len(layers), *maps["soc_stock"].shape[1:])
    for j, name in enumerate(layers):
        m = np.asarray(maps[name][:])
        assert str(m.dtype) == pt.attrs["dtypes"][name]
        # float32 holds float32 and uint8 exactly: the very same numbers, NaN where NaN
        assert np.array_equal(values[:, j], m.astype(np.float32), equal_nan=True), name
    svalues = np.asarray(pt["static_layers"][:])
    for j, name in enumerate(static):
        assert np.array_equal(svalues[j], np.asarray(maps[name][:]).astype(np.float32), equal_nan=True), name


def test_the_incremental_run_writes_only_the_new_epochs_point_chunks(store):
    diff = open_repo(store["store"]).diff(
        from_snapshot_id=store["first"].snapshot_id, to_snapshot_id=store["inc"].snapshot_id
    )
    chunks = diff.updated_chunks[f"/{POINT}/epoch_layers"]
    assert chunks and {int(c[0]) for c in chunks} == {2}


def test_points_from_the_group_equal_points_from_the_maps(store):
    settings = Settings(store=store["store"], registry=store["registry"])
    snap = load_snapshot(settings)
    assert snap.point is not None
    from_maps = dataclasses.replace(snap, point=None, chunks=ChunkCache())
    lv = snap.base
    ny, nx = lv.shape
    checked = 0
    for row in range(0, ny, 2):
        for col in range(0, nx, 3):
            lat, lon = lv.y0 + (row + 0.5) * lv.dy, lv.x0 + (col + 0.5) * lv.dx
            a, b = point(snap, lat, lon), point(from_maps, lat, lon)
            assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), (row, col)
            checked += 1
    assert checked > 500
    # land and sea, classes and their no-data value all came up
    values = [v for body in [point(snap, 0.5, 20.5)] for m in body["maps"].values() for v in m["values"]]
    assert any(v is not None for v in values)


def test_a_cold_point_reads_one_chunk_per_epoch_and_one_for_the_static_maps(store):
    settings = Settings(store=store["store"], registry=store["registry"])
    snap = load_snapshot(settings)
    assert snap.point is not None and snap.point.static_values is not None
    point(snap, -1.29, 36.82)
    assert len(snap.chunks.lru) == len(snap.epochs) + 1
    from_maps = dataclasses.replace(snap, point=None, chunks=ChunkCache())
    point(from_maps, -1.29, 36.82)
    assert len(from_maps.chunks.lru) == sum(
        len(snap.epochs) if a.array.ndim == 3 else 1 for a in snap.base.arrays.values()
    )


def test_a_store_without_a_matching_point_group_is_read_from_the_maps(store, tmp_path):
    """A store written before the group existed, or one whose group does not hold the maps'
    layers, answers from the maps."""
    import shutil

    from pipeline.indicators.point import drop_point

    copy = tmp_path / "repo"
    shutil.copytree(store["store"], copy)
    repo = open_repo(str(copy))
    session = repo.writable_session("main")
    drop_point(session.store)
    session.commit("drop the point group")
    settings = Settings(store=str(copy), registry=store["registry"])
    snap = load_snapshot(settings)
    assert snap.point is None
    body = point(snap, -1.29, 36.82)
    ref = point(load_snapshot(Settings(store=store["store"], registry=store["registry"])), -1.29, 36.82)
    body.pop("snapshot_id"), ref.pop("snapshot_id")
    assert body == ref
