"""The indicator job on what real soil products give, through the real path: small catalogs in
the products' encodings (tests/support/real_products.py) served by rustac, ingested with
``run_ingest``, indicators computed, and the API saying what could not be computed.

The expected numbers are computed here by hand from the written rasters: the four 1-degree
cells lie inside Kenya, symmetric about the equator, so they have equal areas and a region's
value is the plain mean of its valid cells.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import serve_catalog
from pipeline.store import open_repo
from tests.support import real_products as rp

pytestmark = pytest.mark.integration
CHANGE = ("soc_stock_change", "soc_change_rate", "soc_change_rate_permille", "progress_4p1000")


def _job(root: Path, sources: list[Path], start: int, end: int) -> JobSpec:
    return JobSpec(
        name="real",
        region=RegionSpec(bbox=rp.BBOX),
        sources=[str(s) for s in sources],
        grid=GridSpec(resolution=rp.RES),
        period=PeriodSpec(start=start, end=end),
        store=str(root / "repo"),
    )


def _build(root: Path, catalog: Path, source: Path, start: int, end: int) -> JobSpec:
    job = _job(root, [source], start, end)
    with serve_catalog(catalog) as srv:
        run_ingest(job, stac_url=srv.url)
    run_indicators(job.store, registry=root / "regions", cache_dir=root / "cache", chunks=(16, 16))
    return job


def _group(store: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(branch="main")
    return xr.open_zarr(s.store, group=group, consolidated=False, mask_and_scale=False).load()


def _has_group(store: str, group: str) -> bool:
    import zarr

    s = open_repo(store).readonly_session(branch="main")
    return group in zarr.open_group(s.store, mode="r")


@pytest.fixture(scope="module")
def stock_only(tmp_path_factory) -> dict:
    """gNATSGO-like: a float32 g C/m2 stock, one release (static), nothing else."""
    root = tmp_path_factory.mktemp("gnatsgo")
    raw = np.array([[4500.0, 6120.5], [np.nan, 3000.0]])  # g C/m2; NaN written as -9999
    cat = rp.gnatsgo(root / "catalog", 2020, raw)
    job = _build(root, cat, rp.gnatsgo_source(root / "gnatsgo.yaml"), 2020, 2020)
    return {"root": root, "job": job, "raw": raw}


def _soilgrids_layers(shift: int) -> dict[str, np.ndarray]:
    cell = np.arange(4).reshape(2, 2)
    soc = np.stack([np.full((2, 2), v) + 10 * cell + shift for v in (150, 100, 60)])  # dg/kg
    bdod = np.stack([np.full((2, 2), v) + 2 * cell for v in (120, 130, 140)])  # cg/cm3
    return {"soc": soc, "bdod": bdod}


def _hand_stock(soc_dgkg: np.ndarray, bdod_cgcm3: np.ndarray, thickness: list[float]) -> np.ndarray:
    """Sum over layers of soc [g/kg] x bdod [g/cm3] x (1 - 0) x thickness [cm] x 0.1 (t C/ha)."""
    s, b = soc_dgkg / 10.0, bdod_cgcm3 / 100.0
    return sum(s[k] * b[k] * thickness[k] * 0.1 for k in range(len(thickness)))


@pytest.fixture(scope="module")
def content_bdod(tmp_path_factory) -> dict:
    """SoilGrids-like soc + bdod, no cfvo, no quantiles, no land cover; 2015 and 2016."""
    root = tmp_path_factory.mktemp("soilgrids")
    years = {2015: _soilgrids_layers(0), 2016: _soilgrids_layers(5)}
    years[2015]["bdod"][0, 1, 1] = -32768  # no data: that cell has no 2015 stock and no change
    cat = rp.soilgrids(root / "catalog", years)
    job = _build(root, cat, rp.soilgrids_source(root / "soilgrids.yaml"), 2015, 2016)
    hand = {}
    for y, lay in years.items():
        st = _hand_stock(lay["soc"].astype(float), lay["bdod"].astype(float), [5, 10, 15])
        hand[y] = np.where(lay["bdod"][0] == -32768, np.nan, st)
    return {"root": root, "job": job, "hand": hand}


def _client(root: Path, store: str) -> Iterator[TestClient]:
    settings = Settings(store=store, registry=root / "regions", var=root / "var", poll_seconds=3600)
    with TestClient(create_app(settings)) as c:
        yield c


# ---- (1) a stock given directly, one release ------------------------------------------------


def test_direct_stock_maps_equal_the_input_converted(stock_only):
    ind = _group(stock_only["job"].store, "indicators")
    assert ind["epoch"].values.tolist() == [2020]  # the release's item year labels the one epoch
    want = stock_only["raw"] / 100.0  # g C/m2 -> t C/ha: 1 g/m2 = 1e4 g/ha = 0.01 t/ha
    np.testing.assert_allclose(ind["soc_stock"].isel(epoch=0).values, want, rtol=1e-6)
    assert np.isnan(ind["soc_stock"].values[0, 1, 0])  # -9999 is no data, not a stock
    for name in (*CHANGE, "trend_slope", "trend_p", "soc_stock_q05", "soc_stock_q95", "soc_clay_ratio"):
        assert np.isnan(ind[name].values).all(), name  # not available: NaN, never zero
    assert (ind["sh_class"].values == 255).all()
    na = ind.attrs["not_available"]
    assert ind.attrs["stock_method"] == "direct (soc_stock)"
    assert set(CHANGE) | {"trend_slope", "bounds", "soc_clay_ratio", "strata", "sdg15_3_1"} <= set(na)
    assert "1 epoch" in na["soc_stock_change"]


def test_direct_stock_tables(stock_only):
    t = _group(stock_only["job"].store, "tables").sel(epoch=2020)
    want = np.nanmean(stock_only["raw"]) / 100.0  # equal cell areas: the plain mean of valid cells
    for rid in ("KEN", "global"):
        row = t.sel(region=rid, stratum="all")
        assert float(row["soc_stock"]) == pytest.approx(want, rel=1e-6)
        for col in (*CHANGE, "soc_stock_q05", "soc_stock_total_q95", "trend_slope"):
            assert np.isnan(float(row[col])), col
    # no land cover: only "all" has values; the strata are unknown, not empty
    for stratum in ("cropland", "grassland", "tree_cover"):
        row = t.sel(region="KEN", stratum=stratum)
        assert np.isnan(float(row["soc_stock"])) and np.isnan(float(row["area_km2"]))


def test_no_land_cover_gives_stratum_all_only_and_no_sdg(stock_only):
    store = stock_only["job"].store
    assert not _has_group(store, "sdg")
    attrs = _group(store, "tables").attrs
    assert "landcover" in attrs["not_available"]["strata"]
    assert "land cover" in attrs["not_available"]["sdg15_3_1"]


def test_api_says_what_a_direct_stock_cannot_give(stock_only):
    root, store = stock_only["root"], stock_only["job"].store
    for c in _client(root, store):
        body = c.get("/v1/indicators").json()
        rows = {r["id"]: r for r in body["indicators"]}
        assert body["inputs"]["stock_method"] == "direct (soc_stock)"
        assert rows["soc_stock"]["not_available"] is None
        assert "quantiles" in rows["soc_stock"]["bounds_not_available"]
        assert "two" in rows["soc_stock_change"]["not_available"]
        assert "3 epochs" in rows["trend_slope"]["not_available"]
        assert rows["soc_stock"]["strata"] == ["all"]
        s = c.get("/v1/regions/KEN/indicators/soc_stock").json()
        assert s["series"][0]["value"] == pytest.approx(np.nanmean(stock_only["raw"]) / 100.0, rel=1e-6)
        assert s["series"][0]["lower"] is None and s["bounds_not_available"]
        ch = c.get("/v1/regions/KEN/indicators/progress_4p1000").json()
        assert [p["value"] for p in ch["series"]] == [None] and "not available" in ch["not_available"]
        rows = list(
            csv.DictReader(
                io.StringIO(
                    c.get("/v1/regions/KEN/indicators/progress_4p1000", params={"format": "csv"}).text
                )
            )
        )
        assert [r["progress_4p1000"] for r in rows] == [""] and rows[0]["not_available"] == ch[
            "not_available"
        ]
        stock_csv = c.get("/v1/regions/KEN/indicators/soc_stock", params={"format": "csv"}).text
        stock_rows = list(csv.DictReader(io.StringIO(stock_csv)))
        assert stock_rows[0]["not_available"] == "" and stock_rows[0]["lower"] == ""
        assert stock_rows[0]["bounds_not_available"] == s["bounds_not_available"] != ""
        crop = c.get("/v1/regions/KEN/indicators/soc_stock", params={"stratum": "cropland"}).json()
        assert crop["series"][0]["value"] is None and "cropland" in crop["not_available"]
        summ = c.get("/v1/regions/KEN/summary").json()
        assert summ["on_4p1000_path"] is None and "progress_4p1000" in summ["inputs"]["not_available"]
        status = c.get("/v1/status").json()
        assert status["indicator_inputs"]["stock_inputs"] == ["soc_stock"]
        sdg = c.get("/v1/regions/KEN/sdg15_3_1")
        assert sdg.status_code == 404 and sdg.headers["content-type"] == "application/problem+json"
        assert "needs land cover" in sdg.json()["detail"] and "socobs ingest" in sdg.json()["detail"]


def test_the_cli_prints_what_the_indicators_rest_on(stock_only):
    """``socobs indicators`` prints these lines after its commit: the stock's method, the
    assumptions, and what is not available, maps sharing a reason named together."""
    from pipeline.cli.indicators import input_notes

    store = stock_only["job"].store
    lines = input_notes(store, open_repo(store).lookup_branch("main"))
    assert lines[0] == "stock: direct (soc_stock) (from soc_stock)"
    assert any(ln.startswith("assumed: soc_stock: taken from the cube's soc_stock") for ln in lines)
    change = [ln for ln in lines if ln.startswith(f"not available ({', '.join(CHANGE)}): ")]
    assert len(change) == 1 and "not available: " not in change[0].split("): ", 1)[1]
    assert any(ln.startswith("not available (trend_slope, trend_p): the trend needs") for ln in lines)
    assert any(ln.startswith("not available (strata): only stratum 'all'") for ln in lines)


# ---- (2) content and bulk density without coarse fragments or quantiles, two epochs --------


def test_content_and_bulk_density_stock_equals_the_formula_with_cfvo_zero(content_bdod):
    ind = _group(content_bdod["job"].store, "indicators")
    hand = content_bdod["hand"]
    for y in (2015, 2016):
        np.testing.assert_allclose(ind["soc_stock"].sel(epoch=y).values, hand[y], rtol=1e-6)
    np.testing.assert_allclose(
        ind["soc_stock_change"].sel(epoch=2016).values, hand[2016] - hand[2015], rtol=1e-5
    )
    assert np.isnan(ind["soc_stock_q05"].values).all() and np.isnan(ind["soc_stock_q95"].values).all()
    assert ind.attrs["stock_method"] == "content x bulk density"
    assert any(a.startswith("cfvo: ") and "assumed 0" in a for a in ind.attrs["assumptions"])
    assert "bounds" in ind.attrs["not_available"] and "soc_stock_change" not in ind.attrs["not_available"]


def test_content_tables_and_api(content_bdod):
    hand = content_bdod["hand"]
    t = _group(content_bdod["job"].store, "tables")
    row = t.sel(region="KEN", stratum="all")
    for y in (2015, 2016):
        assert float(row["soc_stock"].sel(epoch=y)) == pytest.approx(np.nanmean(hand[y]), rel=1e-6)
    change = hand[2016] - hand[2015]  # over the cells with both stocks
    assert float(row["soc_stock_change"].sel(epoch=2016)) == pytest.approx(np.nanmean(change), rel=1e-5)
    assert np.isnan(float(row["soc_stock_q05"].sel(epoch=2016)))
    for c in _client(content_bdod["root"], content_bdod["job"].store):
        s = c.get("/v1/regions/KEN/indicators/soc_stock").json()
        assert [p["lower"] for p in s["series"]] == [None, None]
        assert "soc_q05" in s["bounds_not_available"]
        assert any("cfvo" in n for n in s["notes"])
        ch = c.get("/v1/regions/KEN/indicators/soc_stock_change").json()
        assert ch["not_available"] is None and ch["series"][1]["value"] == pytest.approx(
            np.nanmean(change), rel=1e-5
        )


# ---- (3) unusable input: one paragraph, exit 2, the store unchanged -------------------------


def test_content_without_bulk_density_is_refused_and_the_store_is_unchanged(tmp_path):
    years = {2015: _soilgrids_layers(0)}
    cat = rp.soilgrids(tmp_path / "catalog", years)
    src = rp.soilgrids_source(tmp_path / "soilgrids.yaml")
    doc = yaml.safe_load(src.read_text())
    del doc["variables"]["bdod"]
    src.write_text(yaml.safe_dump(doc))
    job = _job(tmp_path, [src], 2015, 2015)
    with serve_catalog(cat) as srv:
        run_ingest(job, stac_url=srv.url)
    job_file = tmp_path / "job.yaml"
    job_file.write_text(yaml.safe_dump(json.loads(job.model_dump_json())))
    repo = open_repo(job.store)
    before = [s.id for s in repo.ancestry(branch="main")]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "indicators", str(job_file)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert err.startswith("error: ") and "Traceback" not in err and "\n\n" not in err
    assert "soc without bdod" in err and "soc_stock_src" in err and "socobs ingest" in err
    assert [s.id for s in open_repo(job.store).ancestry(branch="main")] == before


# ---- point depths (OpenLandMap-like 0, 10, 30 cm), one epoch ---------------------------------


def test_point_depths_are_integrated_by_the_trapezoidal_rule(tmp_path):
    cell = np.arange(4).reshape(2, 2)
    soc = np.stack([np.full((2, 2), v) + cell for v in (6, 4, 2)])  # x 5 g/kg at 0, 10, 30 cm
    bdod = np.stack([np.full((2, 2), v) + cell for v in (110, 125, 140)])  # x 10 kg/m3
    cat = rp.openlandmap(tmp_path / "catalog", {2018: {"soc": soc, "bdod": bdod}})
    job = _build(tmp_path, cat, rp.openlandmap_source(tmp_path / "olm.yaml"), 2018, 2018)
    s, b = soc * 5.0, bdod * 10.0 / 1000.0  # g/kg, g/cm3
    # each property's interval mean is the mean of its end points (0-10 and 10-30 cm)
    want = sum(
        (s[k] + s[k + 1]) / 2 * (b[k] + b[k + 1]) / 2 * (d1 - d0) * 0.1
        for k, (d0, d1) in enumerate(((0, 10), (10, 30)))
    )
    ind = _group(job.store, "indicators")
    np.testing.assert_allclose(ind["soc_stock"].sel(epoch=2018).values, want, rtol=1e-6)
    assert np.isnan(ind["soc_stock_change"].values).all()  # one epoch: no change, not zero
    notes = ind.attrs["assumptions"]
    assert any(n.startswith("soc: ") and "[0.0, 10.0, 30.0]" in n and "trapezoidal" in n for n in notes)


def test_a_second_epoch_after_one_recomputes_every_epoch(tmp_path):
    """One epoch: change NaN. After `update` brings a second, the baseline's change is 0 and the
    new epoch's is the hand-computed difference (a full run: the stored maps meant "no change")."""
    from pipeline.ingest.job import run_update

    first = rp.soilgrids(tmp_path / "cat2015", {2015: _soilgrids_layers(0)})
    both = rp.soilgrids(tmp_path / "cat2016", {2015: _soilgrids_layers(0), 2016: _soilgrids_layers(5)})
    job = _job(tmp_path, [rp.soilgrids_source(tmp_path / "sg.yaml")], 2015, 2016)
    kw = {"registry": tmp_path / "regions", "cache_dir": tmp_path / "cache", "chunks": (16, 16)}
    with serve_catalog(first) as srv:
        run_ingest(job, stac_url=srv.url)
    one = run_indicators(job.store, **kw)
    assert one.computed_epochs == [2015]
    assert np.isnan(_group(job.store, "indicators")["soc_stock_change"].values).all()
    with serve_catalog(both) as srv:
        run_update(job, stac_url=srv.url)
    two = run_indicators(job.store, **kw)
    assert two.mode == "full" and two.computed_epochs == [2015, 2016]
    ind = _group(job.store, "indicators")
    l15, l16 = _soilgrids_layers(0), _soilgrids_layers(5)
    h15 = _hand_stock(l15["soc"].astype(float), l15["bdod"].astype(float), [5, 10, 15])
    h16 = _hand_stock(l16["soc"].astype(float), l16["bdod"].astype(float), [5, 10, 15])
    assert (ind["soc_stock_change"].sel(epoch=2015).values == 0).all()
    np.testing.assert_allclose(ind["soc_stock_change"].sel(epoch=2016).values, h16 - h15, rtol=1e-5)
    assert "soc_stock_change" not in ind.attrs["not_available"]
    assert run_indicators(job.store, **kw).mode == "up-to-date"


def test_with_every_input_nothing_is_assumed_or_missing(api_store):
    """The demo store (every input, three epochs): empty notes, every stratum, every indicator."""
    settings = Settings(store=api_store.store, registry=api_store.registry, poll_seconds=3600)
    with TestClient(create_app(settings)) as c:
        body = c.get("/v1/indicators").json()
        assert body["inputs"]["stock_method"] == "content x bulk density"
        assert body["inputs"]["assumptions"] == [] and body["inputs"]["not_available"] == {}
        assert all(
            r["not_available"] is None and r["bounds_not_available"] is None for r in body["indicators"]
        )
        assert body["indicators"][0]["strata"] == ["all", "cropland", "grassland", "tree_cover"]
        s = c.get("/v1/regions/europe/indicators/soc_stock", params={"stratum": "cropland"}).json()
        assert s["not_available"] is None and s["notes"] == []
        assert all(p["lower"] is not None for p in s["series"])


def test_a_static_stock_under_land_cover_epochs(tmp_path):
    """gNATSGO-like (one release, static) with WorldCover-like land cover for 2020 and 2021: the
    same stock every epoch, no change (NaN, not 0), no SDG (recorded), strata from the land cover."""
    raw = np.array([[4500.0, 6120.5], [np.nan, 3000.0]])
    codes = np.array([[40, 10], [30, 40]])  # cropland, tree cover / grassland, cropland
    cat_s = rp.gnatsgo(tmp_path / "cat_stock", 2020, raw)
    cat_l = rp.worldcover(tmp_path / "cat_lc", {2020: codes, 2021: codes})
    with serve_catalog(cat_s) as s_srv, serve_catalog(cat_l) as l_srv:
        src_s = rp.gnatsgo_source(tmp_path / "gnatsgo.yaml", stac_url=s_srv.url)
        src_l = rp.worldcover_source(tmp_path / "worldcover.yaml", stac_url=l_srv.url)
        job = _job(tmp_path, [src_s, src_l], 2020, 2021)
        run_ingest(job)
    run_indicators(job.store, registry=tmp_path / "regions", cache_dir=tmp_path / "cache", chunks=(16, 16))
    ind = _group(job.store, "indicators")
    assert ind["epoch"].values.tolist() == [2020, 2021]
    for e in (2020, 2021):
        np.testing.assert_allclose(ind["soc_stock"].sel(epoch=e).values, raw / 100.0, rtol=1e-6)
    for name in CHANGE:
        assert np.isnan(ind[name].values).all(), name
    na = ind.attrs["not_available"]
    assert "static source" in na["soc_stock_change"] and "sdg15_3_1" in na and "strata" not in na
    assert not _has_group(job.store, "sdg")
    t = _group(job.store, "tables").sel(region="KEN", epoch=2021)
    assert float(t["soc_stock"].sel(stratum="cropland")) == pytest.approx(
        (4500.0 + 3000.0) / 2 / 100, rel=1e-6
    )
    assert float(t["soc_stock"].sel(stratum="tree_cover")) == pytest.approx(61.205, rel=1e-6)
    assert np.isnan(float(t["soc_stock"].sel(stratum="grassland")))  # its one cell has no stock
    assert float(t["area_km2"].sel(stratum="grassland")) > 0  # but the stratum is there
