"""SoilGrids 2.0, OpenLandMap soil and OpenLandMap-soildb end to end, offline, the real path.

SoilGrids: a folder in ISRIC's layout and encoding (tests/support/soilgrids_olm_products.py:
VRTs over int16 Homolosine tiles, .vrt.ovr overviews) -> ``socobs stac index`` -> ``socobs stac
serve`` (rustac) -> the ingest with catalogs/sources/soilgrids.yaml and the job of
catalogs/jobs/kenya-soilgrids.yaml (on the test region and a one-degree grid) -> indicators ->
API. One release: the stock (with bounds, from content, density and coarse fragments), the
SOC/clay ratio, and change and trends "not available". With only ocs indexed the stock is ocs.

OpenLandMap's static 250 m soil: recorded item JSON of a static catalog (SOC content and bulk
density, one release each, point depths 0/10/30 cm) -> ``socobs stac serve`` -> the ingest with
catalogs/sources/openlandmap-soil.yaml and openlandmap-bulkdens.yaml -> the stock from point
depths (one epoch: change not available) -> API.

OpenLandMap-soildb, OpenLandMap's SOC time series: recorded item JSON in its layout (an item per
5-year period 2000-2022, int16 COGs x 10 kg/m3) -> ``socobs stac serve`` -> the ingest with
catalogs/sources/openlandmap-soildb.yaml and the job of catalogs/jobs/kenya-openlandmap.yaml
(SOC density 0-30 cm as the stock) -> indicators (stock per period, change, rates, trends) ->
API (no bounds, no SOC/clay: said, not invented).

Every expected number is computed here from the stored integers and the products' published
conversion factors; the four cells have equal areas, so a region's value is the plain mean of
its valid cells.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pystac
import pytest
import xarray as xr
import yaml
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from pipeline.config import load_job
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.paths import catalogs_dir
from pipeline.store import open_repo
from tests.support import soilgrids_olm_products as sg

pytestmark = pytest.mark.integration
SOCOBS = [sys.executable, "-m", "pipeline.cli"]
CHANGE = ("soc_stock_change", "soc_change_rate", "soc_change_rate_permille", "progress_4p1000")


def _socobs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SOCOBS, *args], capture_output=True, text=True, timeout=300, env=dict(os.environ))


@contextmanager
def _served(catalog: Path) -> Iterator[str]:
    """``socobs stac serve CATALOG --port 0`` (a real rustac) until the block ends; its URL."""
    proc = subprocess.Popen(
        [*SOCOBS, "stac", "serve", str(catalog), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving STAC API at http://127.0.0.1:"), (
            first,
            proc.stderr and proc.stderr.read(),
        )
        yield first.split(" at ", 1)[1].split()[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def _job_file(
    root: Path,
    shipped: str,
    sources: list[str] | None = None,
    bbox: tuple[float, ...] = sg.BBOX,
    res: float = sg.JOB_RES,
) -> Path:
    """The shipped job ``catalogs/jobs/SHIPPED.yaml`` on the test region ``bbox`` and a grid of
    ``res`` degrees (its sources, period and the rest as shipped), written under ``root``."""
    doc = yaml.safe_load((catalogs_dir() / "jobs" / f"{shipped}.yaml").read_text())
    doc["region"] = {"bbox": list(bbox)}
    doc["grid"] = {"crs": "EPSG:4326", "resolution": res}
    doc["store"] = str(root / "repo")
    doc["chunks"] = {"y": 16, "x": 16}
    if sources is not None:
        doc["sources"] = sources
    path = root / "job.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(root: Path, job_path: Path, url: str) -> str:
    job = load_job(job_path)
    run_ingest(job, stac_url=url)
    run_indicators(job.store, registry=root / "regions", cache_dir=root / "cache", chunks=(16, 16))
    return job.store


def _group(store: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(branch="main")
    return xr.open_zarr(s.store, group=group, consolidated=False, mask_and_scale=False).load()


def _client(root: Path, store: str) -> Iterator[TestClient]:
    settings = Settings(store=store, registry=root / "regions", var=root / "var", poll_seconds=3600)
    with TestClient(create_app(settings)) as c:
        yield c


# ---- SoilGrids 2.0 ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def soilgrids(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("soilgrids")
    data = sg.write_soilgrids(root / "data")
    catalog = root / "catalog"
    args = ["stac", "index", str(data), "--collection", "soilgrids", "--datetime", "2020"]
    res = _socobs(*args, "--license", "CC-BY-4.0", "--out", str(catalog))
    assert res.returncode == 0, res.stderr
    assert f"indexed {len(sg.sg_names())} rasters into 1 items" in " ".join(res.stdout.split())
    with _served(catalog) as url:
        store = _run(root, _job_file(root, "kenya-soilgrids"), url)
    return {"root": root, "catalog": catalog, "store": store}


def test_the_index_has_one_asset_per_map_and_no_tiles(soilgrids: dict) -> None:
    item = pystac.read_file(soilgrids["catalog"] / "soilgrids" / "soilgrids-2020" / "soilgrids-2020.json")
    assert isinstance(item, pystac.Item)
    assert sorted(item.assets) == sorted(sg.sg_names())  # the VRTs; their tiles are not assets
    assert item.properties["proj:code"] is None and "Goode" in item.properties["proj:wkt2"]
    assert item.properties["proj:transform"][0] == sg.SG_RES
    w, s, e, n = item.bbox or []
    assert w <= sg.BBOX[0] and s <= sg.BBOX[1] and e >= sg.BBOX[2] and n >= sg.BBOX[3]
    for key, asset in item.assets.items():
        assert asset.href.endswith(f"/{key.split('_')[0]}/{key}.vrt"), asset.href
        (band,) = asset.extra_fields["raster:bands"]
        assert (band["data_type"], band["nodata"], band["spatial_resolution"]) == ("int16", -32768, 250.0)


def test_soilgrids_stock_is_content_density_and_coarse_fragments(soilgrids: dict) -> None:
    ind = _group(soilgrids["store"], "indicators")
    assert ind["epoch"].values.tolist() == [2020]  # the release's date labels the one epoch
    want = sg.sg_stock("mean")
    assert np.isnan(want[1, 1]) and np.isfinite(want[0, 0])  # bdod 0-5 cm missing there
    # cell (0, 0) by hand: sum of soc/10 * bdod/100 * (1 - cfvo/1000) * thickness * 0.1
    assert want[0, 0] == pytest.approx(
        15.0 * 1.2 * 0.9 * 5 * 0.1 + 10.0 * 1.3 * 0.85 * 10 * 0.1 + 6.0 * 1.4 * 0.8 * 15 * 0.1
    )
    got = ind["soc_stock"].sel(epoch=2020).values
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(ind["soc_stock_q05"].sel(epoch=2020).values, sg.sg_stock("Q0.05"), rtol=1e-5)
    np.testing.assert_allclose(ind["soc_stock_q95"].sel(epoch=2020).values, sg.sg_stock("Q0.95"), rtol=1e-5)
    # SOC/clay: topsoil (0-30 cm, thickness-weighted) SOC % over clay %
    soc_top = (
        sum(sg.sg_value(f"soc_{d}_mean") / 10 * t for d, t in zip(sg.SG_DEPTHS, sg.SG_THICKNESS, strict=True))
        / 30
    )
    clay_top = (
        sum(
            sg.sg_value(f"clay_{d}_mean") / 10 * t for d, t in zip(sg.SG_DEPTHS, sg.SG_THICKNESS, strict=True)
        )
        / 30
    )
    np.testing.assert_allclose(
        ind["soc_clay_ratio"].sel(epoch=2020).values, soc_top / 10 / clay_top, rtol=1e-5
    )
    for name in (*CHANGE, "trend_slope", "trend_p"):
        assert np.isnan(ind[name].values).all(), name  # one release: not available, never zero
    assert ind.attrs["stock_method"] == "content x bulk density"
    assert not any(a.startswith("cfvo:") for a in ind.attrs["assumptions"])  # cfvo is given
    assert any(a.startswith("soc_stock_src: in the cube but not used") for a in ind.attrs["assumptions"])
    na = ind.attrs["not_available"]
    assert "bounds" not in na and "soc_clay_ratio" not in na
    assert "1 epoch" in na["soc_stock_change"] and "trend_slope" in na


def test_soilgrids_cube_holds_the_converted_units(soilgrids: dict) -> None:
    cube = _group(soilgrids["store"], "cube")
    assert "epoch" not in cube["soc"].dims  # one release: static
    assert cube["depth_top"].values.tolist() == [0, 5, 15] and cube["depth_bottom"].values.tolist() == [
        5,
        15,
        30,
    ]
    for var, name, factor in (
        ("soc", "soc", 0.1),
        ("bdod", "bdod", 0.01),
        ("cfvo", "cfvo", 0.001),
        ("clay", "clay", 0.1),
    ):
        for k, depth in enumerate(sg.SG_DEPTHS):
            raw = sg.sg_value(f"{name}_{depth}_mean").astype(float)
            want = np.where(raw == sg.SG_NODATA, np.nan, raw * factor)
            np.testing.assert_allclose(
                cube[var].isel(depth=k).values, want, rtol=1e-6, err_msg=f"{var} {depth}"
            )
    ocs = sg.sg_value("ocs_0-30cm_mean").astype(float)
    np.testing.assert_allclose(
        cube["soc_stock_src"].values, np.where(ocs == sg.SG_NODATA, np.nan, ocs), rtol=1e-6
    )


def test_soilgrids_api_gives_the_stock_and_says_change_is_not_available(soilgrids: dict) -> None:
    want = sg.sg_stock("mean")
    for c in _client(soilgrids["root"], soilgrids["store"]):
        body = c.get("/v1/indicators").json()
        rows = {r["id"]: r for r in body["indicators"]}
        assert body["inputs"]["stock_method"] == "content x bulk density"
        assert (
            rows["soc_stock"]["not_available"] is None and rows["soc_stock"]["bounds_not_available"] is None
        )
        assert "epoch" in rows["soc_stock_change"]["not_available"]
        assert rows["trend_slope"]["not_available"]
        s = c.get("/v1/regions/KEN/indicators/soc_stock").json()
        (point,) = s["series"]
        assert point["value"] == pytest.approx(np.nanmean(want), rel=1e-5)
        assert point["lower"] == pytest.approx(np.nanmean(sg.sg_stock("Q0.05")), rel=1e-5)
        ch = c.get("/v1/regions/KEN/indicators/soc_stock_change").json()
        assert [p["value"] for p in ch["series"]] == [None] and "not available" in ch["not_available"]


def test_only_ocs_indexed_gives_ocs_as_the_stock(tmp_path: Path) -> None:
    """Only ``ocs_0-30cm_mean`` indexed (a file, not the folder), soilgrids.yaml with its other
    variables dropped: the stock is ocs (t/ha), recorded as a direct stock without bounds. This
    one runs the whole chain through the CLI: ``socobs ingest`` and ``socobs indicators``."""
    data = sg.write_soilgrids(tmp_path / "data", names=["ocs_0-30cm_mean"])
    catalog = tmp_path / "catalog"
    vrt = data / "ocs" / "ocs_0-30cm_mean.vrt"
    res = _socobs(
        "stac", "index", str(vrt), "--collection", "soilgrids", "--datetime", "2020", "--out", str(catalog)
    )
    assert res.returncode == 0, res.stderr
    source = yaml.safe_load((catalogs_dir() / "sources" / "soilgrids.yaml").read_text())
    source["variables"] = {"soc_stock_src": source["variables"]["soc_stock_src"]}
    (tmp_path / "soilgrids-ocs.yaml").write_text(yaml.safe_dump(source))
    job_path = _job_file(tmp_path, "kenya-soilgrids", sources=["soilgrids-ocs.yaml"])
    var = tmp_path / "var"
    with _served(catalog) as url:
        done = _socobs("ingest", str(job_path), "--stac", url, "--var", str(var))
        assert done.returncode == 0, done.stderr
    done = _socobs("indicators", str(job_path), "--var", str(var))
    assert done.returncode == 0, done.stderr
    store = str(tmp_path / "repo")
    ind = _group(store, "indicators")
    ocs = sg.sg_value("ocs_0-30cm_mean").astype(float)
    want = np.where(ocs == sg.SG_NODATA, np.nan, ocs)
    assert np.isnan(want[1, 0]) and want[0, 1] == 43.0
    np.testing.assert_allclose(ind["soc_stock"].sel(epoch=2020).values, want, rtol=1e-6)
    assert ind.attrs["stock_method"] == "direct (soc_stock_src)"
    assert np.isnan(ind["soc_stock_q05"].values).all() and np.isnan(ind["soc_clay_ratio"].values).all()
    na = ind.attrs["not_available"]
    assert "quantiles" in na["bounds"] and "soc_clay_ratio" in na and "soc_stock_change" in na


# ---- OpenLandMap static 250 m soil (point depths) ---------------------------------------


@pytest.fixture(scope="module")
def openlandmap(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """organic.carbon_usda.6a1c and bulkdens.fineearth_usda.4a1h (one release each, point depths
    0/10/30 cm, dated 1950 for the period 1950-2017) through the Kenya job with those two sources
    and a period inside the releases' (a static release stands for its whole interval)."""
    root = tmp_path_factory.mktemp("openlandmap")
    catalog = sg.write_openlandmap(root / "catalog")
    job = _job_file(root, "kenya-openlandmap", sources=["openlandmap-soil", "openlandmap-bulkdens"])
    doc = yaml.safe_load(job.read_text())
    doc["period"] = {"start": 2000, "end": 2015}
    job.write_text(yaml.safe_dump(doc, sort_keys=False))
    with _served(catalog) as url:
        store = _run(root, job, url)
    return {"root": root, "store": store}


def test_openlandmap_stock_from_point_depths(openlandmap: dict) -> None:
    ind = _group(openlandmap["store"], "indicators")
    assert ind["epoch"].values.tolist() == [sg.OLM_RELEASE[0]]  # the releases' date labels the epoch
    want = sg.olm_stock()
    # cell (1, 0) by hand: soc 30, 20, 10 g/kg and bdod 1.20, 1.35, 1.50 g/cm3 at 0, 10, 30 cm
    # -> 25 g/kg x 1.275 g/cm3 x 10 cm + 15 g/kg x 1.425 g/cm3 x 20 cm, x 0.1
    assert want[1, 0] == pytest.approx(25 * 1.275 * 10 * 0.1 + 15 * 1.425 * 20 * 0.1)
    np.testing.assert_allclose(ind["soc_stock"].values[0], want, rtol=1e-5)
    assert np.isnan(ind["soc_stock"].values[0, 1, 1])  # 255 at 10 cm
    notes = ind.attrs["assumptions"]
    assert any(n.startswith("soc: ") and "trapezoidal" in n for n in notes)
    assert any(n.startswith("cfvo: ") and "assumed 0" in n for n in notes)
    na = ind.attrs["not_available"]
    assert "1 epoch" in na["soc_stock_change"] and "trend_slope" in na  # one release: no change
    for name in (*CHANGE, "trend_slope", "trend_p"):
        assert np.isnan(ind[name].values).all(), name


def test_openlandmap_api_stock_and_no_change(openlandmap: dict) -> None:
    for c in _client(openlandmap["root"], openlandmap["store"]):
        stock = c.get("/v1/regions/KEN/indicators/soc_stock").json()
        (point,) = stock["series"]
        assert point["value"] == pytest.approx(np.nanmean(sg.olm_stock()), rel=1e-5)
        assert any("trapezoidal" in n for n in stock["notes"])
        ch = c.get("/v1/regions/KEN/indicators/soc_stock_change").json()
        assert [p["value"] for p in ch["series"]] == [None] and "not available" in ch["not_available"]


def test_point_depths_product_of_interval_means_is_not_the_trapezoid_of_density(openlandmap: dict) -> None:
    """Evidence for issue #19 item 1 (point-depth stock): the cube holds interval means, and the
    stock is content x density of those means; the trapezoid of the carbon density at the
    points (kernels.stock.soc_stock_points) differs by h (s_top - s_bottom)(b_top - b_bottom) / 4
    per interval (x 0.1), whenever content and density both vary with depth. Cell (1, 0): soc
    30, 20, 10 g/kg and bdod 1.20, 1.35, 1.50 g/cm3 at 0, 10, 30 cm."""
    from kernels.stock import soc_stock_points

    ind = _group(openlandmap["store"], "indicators")
    cube_stock = float(ind["soc_stock"].values[0, 1, 0])
    assert cube_stock == pytest.approx(25 * 1.275 * 10 * 0.1 + 15 * 1.425 * 20 * 0.1, rel=1e-6)  # 74.625
    s, b = np.array([30.0, 20.0, 10.0]), np.array([1.20, 1.35, 1.50])
    trapezoid = float(soc_stock_points(s, b, np.zeros(3), [0, 10, 30]))
    # densities 36, 27, 15 g/dm3 x ... : (36 + 27) / 2 x 10 + (27 + 15) / 2 x 20, x 0.1
    assert trapezoid == pytest.approx((36 + 27) / 2 * 10 * 0.1 + (27 + 15) / 2 * 20 * 0.1)  # 73.5
    gap = sum(h * (s[k] - s[k + 1]) * (b[k] - b[k + 1]) / 4 * 0.1 for k, h in enumerate((10, 20)))
    assert trapezoid - cube_stock == pytest.approx(gap, abs=1e-4) and gap == pytest.approx(-1.125)


# ---- OpenLandMap-soildb: SOC density per 5-year period --------------------------------------


@pytest.fixture(scope="module")
def soildb(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("soildb")
    catalog = sg.write_soildb(root / "catalog")
    with _served(catalog) as url:
        store = _run(root, _job_file(root, "kenya-openlandmap", bbox=sg.DB_BBOX, res=sg.DB_JOB_RES), url)
    return {"root": root, "catalog": catalog, "store": store}


def _db_stocks() -> np.ndarray:
    return np.stack([sg.db_stock(k) for k in range(len(sg.DB_PERIODS))])


def test_soildb_items_and_files_carry_the_products_encoding(soildb: dict) -> None:
    import rasterio

    coll = soildb["catalog"] / sg.DB_COLLECTION
    ids = sorted(p.name for p in coll.iterdir() if p.is_dir())
    assert ids == [
        f"oc_iso.10694.1995.mg.cm3_{a}0101_{b}1231"
        for a, b in ((2000, 2005), (2005, 2010), (2010, 2015), (2015, 2020), (2020, 2022))
    ]
    item = pystac.read_file(coll / ids[1] / f"{ids[1]}.json")
    assert isinstance(item, pystac.Item)
    assert item.datetime is None
    assert item.properties["start_datetime"].startswith("2005-01-01")
    assert item.properties["end_datetime"].startswith("2010-12-31")
    assert sorted(item.assets) == sorted(
        f"oc_iso.10694.1995.mg.cm3_{s}_b0cm..30cm" for s in ("m_30m", "p16_120m", "p84_120m")
    )
    href = item.assets["oc_iso.10694.1995.mg.cm3_m_30m_b0cm..30cm"].href
    assert href.endswith(
        "oc_iso.10694.1995.mg.cm3_m_30m_b0cm..30cm_20050101_20101231_g_epsg.4326_v20250204.tif"
    )
    with rasterio.open(href) as src:
        assert (src.dtypes[0], src.nodata, src.scales[0], src.crs.to_epsg()) == ("int16", 32767, 0.1, 4326)
        assert src.res == pytest.approx((0.00025, 0.00025))
        assert src.read(1)[0, 0] == 305  # cell (0, 0) of the second period, stored x 10


def test_soildb_stock_per_period_is_the_density_over_0_30_cm(soildb: dict) -> None:
    ind = _group(soildb["store"], "indicators")
    # each period's start year is its epoch (2020-2022 -> 2020)
    assert ind["epoch"].values.tolist() == [2000, 2005, 2010, 2015, 2020]
    want = _db_stocks()
    # cell (0, 0) in 2000 by hand: 300 stored = 30.0 kg/m3 x 0.30 m = 9 kg/m2 = 90 t C/ha
    assert want[0, 0, 0] == pytest.approx(90.0)
    np.testing.assert_allclose(ind["soc_stock"].values, want, rtol=1e-5)
    assert np.isnan(ind["soc_stock"].sel(epoch=2010).values[1, 1])  # 32767: no data, not 3276.7
    assert ind.attrs["stock_method"] == "direct (soc_stock_src)"
    assert any(
        a.startswith("soc_stock: taken from the cube's soc_stock_src") for a in ind.attrs["assumptions"]
    )
    na = ind.attrs["not_available"]
    assert "direct stock without quantiles" in na["bounds"]
    assert "soc_clay_ratio" in na
    assert "soc_stock_change" not in na and "trend_slope" not in na
    assert np.isnan(ind["soc_stock_q05"].values).all() and np.isnan(ind["soc_stock_q95"].values).all()
    cube = _group(soildb["store"], "cube")
    assert cube["soc_stock_src"].dims[0] == "epoch"
    np.testing.assert_allclose(cube["soc_stock_src"].values.reshape(want.shape), want, rtol=1e-5)


def test_soildb_change_and_rates(soildb: dict) -> None:
    ind = _group(soildb["store"], "indicators")
    s = _db_stocks()
    for k, e in enumerate(sg.DB_EPOCHS):
        change = s[k] - s[0]
        np.testing.assert_allclose(ind["soc_stock_change"].sel(epoch=e).values, change, rtol=1e-4, atol=1e-4)
        if k == 0:
            continue
        rate = change / (e - 2000)
        np.testing.assert_allclose(ind["soc_change_rate"].sel(epoch=e).values, rate, rtol=1e-4, atol=1e-5)
        permille = rate / s[0] * 1000
        np.testing.assert_allclose(
            ind["soc_change_rate_permille"].sel(epoch=e).values, permille, rtol=1e-4, atol=1e-4
        )
        np.testing.assert_allclose(
            ind["progress_4p1000"].sel(epoch=e).values, permille / 4, rtol=1e-4, atol=1e-4
        )
    # by hand, 2000 -> 2020: (0, 0) +20 stored = +2 kg/m3 = +6 t C/ha, 0.3 t C/ha a year,
    # 0.3 / 90 x 1000 = 3.33 per mille a year; (1, 1) -40 stored = -12 t C/ha
    last = ind.sel(epoch=2020)
    assert float(last["soc_stock_change"].values[0, 0]) == pytest.approx(6.0, rel=1e-4)
    assert float(last["soc_change_rate"].values[0, 0]) == pytest.approx(0.3, rel=1e-4)
    assert float(last["soc_change_rate_permille"].values[0, 0]) == pytest.approx(10 / 3, rel=1e-4)
    assert float(last["soc_stock_change"].values[1, 1]) == pytest.approx(-12.0, rel=1e-4)
    assert float(last["soc_stock_change"].values[1, 0]) == 0.0


def test_soildb_trends_by_hand(soildb: dict) -> None:
    """Theil-Sen slope and Mann-Kendall p (continuity-corrected, ties corrected) at 2020 over the
    five periods, by hand. One stored unit is 0.1 kg/m3 x 0.30 m x 10 = 0.3 t C/ha."""
    ind = _group(soildb["store"], "indicators")
    slope = ind["trend_slope"].sel(epoch=2020).values
    p = ind["trend_p"].sel(epoch=2020).values
    u = 0.3
    # (0, 0): +5 units every 5 years: slope 1 unit a year; S = 10 of 10 pairs,
    # var(S) = 5*4*15/18, Z = (10 - 1)/sd
    assert slope[0, 0] == pytest.approx(1 * u, rel=1e-4)
    assert p[0, 0] == pytest.approx(math.erfc(9 / math.sqrt(5 * 4 * 15 / 18) / math.sqrt(2)), rel=1e-4)
    # (0, 1): shifts 0, +4, -4, +8, +4 at 0, 5, 10, 15, 20 years: pair slopes 4/5, -4/10,
    # 8/15, 4/20, -8/5, 4/10, 0/15, 12/5, 8/10, -4/5; median (4/20 + 4/10) / 2 = 0.3 units a
    # year; signs + - + + - + 0 + + -: S = 3; one tie of two (+4): var(S) = (300 - 2*1*9)/18
    assert slope[0, 1] == pytest.approx(0.3 * u, rel=1e-4)
    assert p[0, 1] == pytest.approx(math.erfc(2 / math.sqrt(282 / 18) / math.sqrt(2)), rel=1e-4)
    # (1, 1): no data in 2010, four periods left (2000, 2005, 2015, 2020), -10 units every 5
    # years: slope -2 units a year; S = -6, var(S) = 4*3*13/18, Z = (-6 + 1)/sd
    assert slope[1, 1] == pytest.approx(-2 * u, rel=1e-4)
    assert p[1, 1] == pytest.approx(math.erfc(5 / math.sqrt(4 * 3 * 13 / 18) / math.sqrt(2)), rel=1e-4)
    # (1, 0): constant: slope 0 and no test (every pair tied: var(S) = 0, p NaN)
    assert slope[1, 0] == 0 and np.isnan(p[1, 0])


def test_soildb_api_series_and_what_is_not_available(soildb: dict) -> None:
    s = _db_stocks()
    for c in _client(soildb["root"], soildb["store"]):
        body = c.get("/v1/indicators").json()
        rows = {r["id"]: r for r in body["indicators"]}
        assert body["inputs"]["stock_method"] == "direct (soc_stock_src)"
        for name in (*CHANGE, "trend_slope", "trend_p"):
            assert rows[name]["not_available"] is None, name
        assert rows["soc_stock"]["not_available"] is None
        assert "quantiles" in rows["soc_stock"]["bounds_not_available"]
        assert rows["soc_clay_ratio"]["not_available"]
        stock = c.get("/v1/regions/KEN/indicators/soc_stock").json()
        assert [p["epoch"] for p in stock["series"]] == list(sg.DB_EPOCHS)
        assert [p["value"] for p in stock["series"]] == pytest.approx([np.nanmean(x) for x in s], rel=1e-5)
        assert all(p["lower"] is None and p["upper"] is None for p in stock["series"])
        ch = c.get("/v1/regions/KEN/indicators/soc_stock_change").json()
        want = [np.nanmean(x - s[0]) for x in s]  # over the cells with both stocks
        assert [p["value"] for p in ch["series"]] == pytest.approx(want, rel=1e-4, abs=1e-4)
