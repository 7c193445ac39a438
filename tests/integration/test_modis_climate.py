"""MODIS 13Q1 NDVI and TerraClimate end to end, offline, through the real path: fixtures in the
products' encodings (tests/support/modis_climate_products.py) served by rustac, ``run_ingest``,
the indicator job (SDG 15.3.1 productivity from the NDVI), the RothC job on the climatology, and
the API.

Expected values are computed here from the written DNs: MODIS cells that lie wholly inside one
block of equal DNs of the sinusoidal window equal that DN x 0.0001 (which cells those are is
checked with pyproj); every cell equals a direct reprojection with rasterio of the decoded
composites (GDAL's average, the nodata skipped) averaged over the composites starting in the
month. TerraClimate cells are 3 x 3 pixels of the 1/24 degree grid exactly: the mean of their
decoded, unmasked pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from fastapi.testclient import TestClient
from pyproj import Transformer
from rasterio.transform import from_origin
from rasterio.warp import Resampling, reproject

from observatory_api import Settings, create_app
from pipeline.config import GridSpec, JobSpec, PeriodSpec, RegionSpec
from pipeline.indicators.job import run_indicators
from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import serve_catalog
from pipeline.rothc.job import run_rothc_job
from pipeline.store import open_repo
from tests.support import modis_climate_products as mc
from tests.support import real_products as rp

pytestmark = pytest.mark.integration

M_BBOX = (37.0, 0.025, 37.1, 0.125)  # 4 x 4 cells of 0.025 degree inside Kenya, in tile h21v08
M_RES = 0.025
M_YEARS = [2015, 2016, 2017, 2018, 2019]
BASE = {0: 3000, 1: 7000, 2: 3000, 3: 5000}  # quadrants NW, NE, SW, SE of the window
SLOPE = {0: 0, 1: -700, 2: 700, 3: 0}  # DN per year: NE declines, SW rises
CORNERS = {0: (0, 0), 1: (0, 3), 2: (3, 0), 3: (3, 3)}  # quadrant -> (row, col) of its corner cell


def _group(store: str, group: str) -> xr.Dataset:
    s = open_repo(store).readonly_session(branch="main")
    return xr.open_zarr(s.store, group=group, consolidated=False, mask_and_scale=False).load()


def _job(
    root: Path, sources: list[Path], bbox: tuple[float, ...], res: float, years: tuple[int, int]
) -> JobSpec:
    return JobSpec(
        name="modis-climate",
        region=RegionSpec(bbox=bbox),
        sources=[str(s) for s in sources],
        grid=GridSpec(resolution=res),
        period=PeriodSpec(start=years[0], end=years[1]),
        store=str(root / "repo"),
        chunks={"y": 16, "x": 16},
    )


def _client(root: Path, store: str) -> Iterator[TestClient]:
    settings = Settings(store=store, registry=root / "regions", var=root / "var", poll_seconds=3600)
    with TestClient(create_app(settings)) as c:
        yield c


# ---- MODIS 13Q1 NDVI ---------------------------------------------------------------------------


def _quadrants() -> np.ndarray:
    """Quadrant of every window pixel (by its centre): 0 NW, 1 NE, 2 SW, 3 SE, split at the
    sinusoidal position of the grid's middle (37.05 E, 0.075 N)."""
    xs, ys = mc.pixel_centres()
    to_sinu = Transformer.from_crs("EPSG:4326", mc.MODIS_SINU, always_xy=True)
    x_mid, y_mid = to_sinu.transform(37.05, 0.075)
    east = (xs >= x_mid)[None, :]
    south = (ys < y_mid)[:, None]
    return (2 * south + east).astype(int)


def _fill_pixels() -> np.ndarray:
    rows, cols = np.indices((mc.WINDOW[3], mc.WINDOW[2]))
    return (7 * cols + 3 * rows) % 11 == 0  # scattered fill in every composite (~9 % of pixels)


def _composite_dn(quad: np.ndarray, year: int, k: int) -> np.ndarray:
    dn = np.zeros(quad.shape, dtype=np.int16)
    for q in range(4):
        dn[quad == q] = BASE[q] + SLOPE[q] * (year - M_YEARS[0]) + 40 * (k % 4)
    dn[_fill_pixels()] = mc.NDVI_FILL
    if (year, k) == (2016, 0):  # the NE quadrant has no data in the first composite of 2016
        dn[quad == 1] = mc.NDVI_FILL
    return dn


def _cell_pixels_quadrants(quad: np.ndarray, row: int, col: int) -> set[int]:
    """Quadrants of every window pixel a grid cell overlaps (its edges densified with pyproj)."""
    w, n = M_BBOX[0] + col * M_RES, M_BBOX[3] - row * M_RES
    t = np.linspace(0, 1, 41)
    lons = np.concatenate([w + t * M_RES, np.full(41, w + M_RES), w + t * M_RES, np.full(41, w)])
    lats = np.concatenate([np.full(41, n), n - t * M_RES, np.full(41, n - M_RES), n - t * M_RES])
    xs, ys = Transformer.from_crs("EPSG:4326", mc.MODIS_SINU, always_xy=True).transform(lons, lats)
    a, _, x0, _, e, y0 = mc.modis_transform()
    c0, c1 = int(np.floor((min(xs) - x0) / a)), int(np.floor((max(xs) - x0) / a))
    r0, r1 = int(np.floor((max(ys) - y0) / e)), int(np.floor((min(ys) - y0) / e))
    assert c0 >= 0 and r0 >= 0 and c1 < quad.shape[1] and r1 < quad.shape[0]
    return {int(q) for q in np.unique(quad[r0 : r1 + 1, c0 : c1 + 1])}


@pytest.fixture(scope="module")
def modis(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("modis")
    quad = _quadrants()
    dns = []
    for year in M_YEARS:
        for k, (start, end) in enumerate(mc.composites([year])):
            dns.append((start, end, _composite_dn(quad, year, k)))
    ndvi_cat = mc.modis_ndvi(root / "modis", dns)
    ny = nx = 4
    lc = {y: {"map": (np.full((ny, nx), 30, dtype=np.uint8), 0.0)} for y in (2015, 2019)}
    lc_cat = mc.epoch_catalog(root / "lc", "esa-worldcover", lc, M_BBOX, M_RES)
    stock = {y: {"soc0_30": (np.full((ny, nx), 5000.0, dtype=np.float32), -9999.0)} for y in (2015, 2019)}
    stock_cat = mc.epoch_catalog(root / "stock", "gnatsgo-rasters", stock, M_BBOX, M_RES)
    with serve_catalog(ndvi_cat) as s1, serve_catalog(lc_cat) as s2, serve_catalog(stock_cat) as s3:
        # The shipped source definition, pointed at the local server. Its hrefs are local files
        # here: signing Planetary Computer's blob URLs (a `sign:` line) is tested elsewhere.
        text = (Path(__file__).parents[2] / "catalogs/sources/pc-modis-ndvi.yaml").read_text()
        text = text.replace("https://planetarycomputer.microsoft.com/api/stac/v1", s1.url)
        src = root / "modis.yaml"
        src.write_text("".join(ln for ln in text.splitlines(True) if not ln.startswith("sign:")))
        sources = [
            src,
            rp.worldcover_source(root / "lc.yaml", stac_url=s2.url),
            rp.gnatsgo_source(root / "stock.yaml", temporal="epoch", stac_url=s3.url),
        ]
        job = _job(root, sources, M_BBOX, M_RES, (2015, 2019))
        run_ingest(job)
    run_indicators(job.store, registry=root / "regions", cache_dir=root / "cache", chunks=(16, 16))
    yield {"root": root, "job": job, "dns": dns, "quad": quad}


def _months(dns: list) -> dict[str, list[int]]:
    """Composite indices by the month of their start (the month a composite counts for)."""
    out: dict[str, list[int]] = {}
    for i, (start, _, _) in enumerate(dns):
        out.setdefault(f"{start.year}-{start.month:02d}", []).append(i)
    return out


def test_fixture_is_modis_encoding(modis):
    dns = modis["dns"]
    assert len(dns) == 23 * len(M_YEARS)
    straddling = [(s, e) for s, e, _ in dns if (s.year, s.month) != (e.year, e.month)]
    assert len(straddling) >= 10  # e.g. 17 January - 1 February
    assert all(len(v) >= 1 for v in _months(dns).values()) and len(_months(dns)) == 12 * len(M_YEARS)
    import rasterio

    href = next((modis["root"] / "modis" / "data").glob("*.tif"))
    with rasterio.open(href) as f:
        assert f.dtypes[0] == "int16" and f.nodata == mc.NDVI_FILL
        assert f.crs.to_dict().get("proj") == "sinu" and f.crs.to_dict().get("R") == 6371007.181
        assert f.res[0] == pytest.approx(231.656358, abs=1e-6)


def test_ndvi_corner_cells_equal_the_scaled_dn(modis):
    """Cells wholly in one block of equal DN: the monthly value is the mean DN x 0.0001 of the
    composites starting in that month; fill is masked (the scattered -3000 pixels do not pull the
    mean down, and NE's fill-only composite of 1 January 2016 does not count)."""
    cube = _group(modis["job"].store, "cube")
    ndvi = cube["ndvi"]
    times = [str(t)[:7] for t in ndvi["time"].values.astype("datetime64[M]")]
    months = _months(modis["dns"])
    assert times == sorted(months)
    for q, (r, c) in CORNERS.items():
        assert _cell_pixels_quadrants(modis["quad"], r, c) == {q}  # the precondition, by pyproj
        for ti, key in enumerate(times):
            ks = [i for i in months[key] if not (q == 1 and key == "2016-01" and modis["dns"][i][0].day == 1)]
            year = int(key[:4])
            dn = [BASE[q] + SLOPE[q] * (year - 2015) + 40 * (_index_in_year(modis["dns"], i) % 4) for i in ks]
            assert float(ndvi.values[ti, r, c]) == pytest.approx(np.mean(dn) * 0.0001, rel=1e-6), (q, key)
    jan16 = times.index("2016-01")
    assert float(ndvi.values[jan16, 0, 3]) == pytest.approx((7000 - 700 + 40) * 0.0001, rel=1e-6)


def _index_in_year(dns: list, i: int) -> int:
    start = dns[i][0]
    return (start.timetuple().tm_yday - 1) // 16


def test_ndvi_every_cell_equals_a_direct_reprojection(modis):
    """Each composite decoded by hand (fill -> NaN, x 0.0001), reprojected with rasterio from the
    sinusoidal window onto the job's EPSG:4326 grid (average, NaN skipped), averaged per month.
    The pipeline reprojects the int16 DNs (rounded to a whole DN): within 1e-4."""
    cube = _group(modis["job"].store, "cube")
    ndvi = cube["ndvi"].values
    dst_transform = from_origin(M_BBOX[0], M_BBOX[3], M_RES, M_RES)
    per = []
    for _, _, dn in modis["dns"]:
        src = np.where(dn == mc.NDVI_FILL, np.nan, dn * 0.0001).astype(np.float64)
        dst = np.full((4, 4), np.nan)
        reproject(
            src,
            dst,
            src_transform=Affine(*mc.modis_transform()),
            src_crs=mc.MODIS_SINU,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs="EPSG:4326",
            dst_nodata=np.nan,
            resampling=Resampling.average,
        )
        per.append(dst)
    for ti, (_, idx) in enumerate(sorted(_months(modis["dns"]).items())):
        want = np.nanmean(np.stack([per[i] for i in idx]), axis=0)
        np.testing.assert_allclose(ndvi[ti], want, atol=1e-4)
    assert np.isfinite(ndvi).all()


def test_ndvi_provenance_names_the_composites(modis):
    cube = _group(modis["job"].store, "cube")
    import json

    prov = json.loads(cube.attrs["provenance"])["ndvi"]
    assert prov["source"] == "pc-modis-ndvi" and prov["collection"] == "modis-13Q1-061"
    assert prov["inputs"]["2015-01"]["items"] == [
        "MOD13Q1.A2015001.h21v08.061",
        "MOD13Q1.A2015017.h21v08.061",
    ]


def test_sdg_productivity_from_modis_ndvi(modis):
    """The indicator job derives SDG 15.3.1 land productivity from the MODIS months: present for
    every cell (five whole NDVI years), degraded where NDVI declines 0.07 a year, improved where
    it rises as much, stable where it is flat (each quadrant is 2 x 2 cells of the grid)."""
    sdg = _group(modis["job"].store, "sdg")
    prod = sdg["sdg_productivity"]
    assert prod.dims == ("period", "y", "x") and sdg["period"].values.tolist() == ["2015-2019"]
    want = np.zeros((4, 4), dtype=int)
    for q, (r, c) in CORNERS.items():
        rows, cols = slice(0, 2) if r == 0 else slice(2, 4), slice(0, 2) if c == 0 else slice(2, 4)
        want[rows, cols] = int(np.sign(SLOPE[q]))
    np.testing.assert_array_equal(prod.values[0], want)


def test_api_answers_sdg_from_modis(modis):
    for c in _client(modis["root"], modis["job"].store):
        resp = c.get("/v1/regions/KEN/sdg15_3_1")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["productivity_note"] is None and body["baseline"] == "2015-2019"
        prod = body["sub_indicators"]["productivity"]["classes"]
        # a quarter of the cells each degraded and improved (cells of nearly equal area)
        assert prod["degraded"]["share"] == pytest.approx(0.25, abs=1e-3)
        assert prod["improved"]["share"] == pytest.approx(0.25, abs=1e-3)
        assert prod["stable"]["share"] == pytest.approx(0.5, abs=1e-3) and prod["no_data"]["share"] == 0
        assert body["result"]["degraded"]["share"] == pytest.approx(0.25, abs=1e-3)


# ---- TerraClimate ----------------------------------------------------------------------------

C_BBOX = (37.0, 0.0, 37.25, 0.25)  # 2 x 2 cells of 0.125 degree = 3 x 3 TerraClimate pixels each
C_RES = 0.125
C_YEARS = (2018, 2019)
MARGIN = 1  # TerraClimate pixels written around the grid


def _tc_values(year: int) -> dict[str, np.ndarray]:
    """Physical values (12, 8, 8), rows north to south, the grid's pixels at [1:7, 1:7]."""
    m, j, i = np.indices((12, 8, 8)).astype(float)
    dy = year - 2018
    tmax = 24.0 + 0.5 * m + 0.13 * i - 0.07 * j + dy
    tmin = tmax - 10.0 - 0.3 * m + 0.05 * j
    ppt = 40.0 + 12.5 * m + 1.1 * i + 0.7 * j + 5 * dy
    pet = 110.0 + 3.3 * m + 0.4 * j - 2 * dy
    return {"tmax": tmax, "tmin": tmin, "ppt": ppt, "pet": pet}


@pytest.fixture(scope="module")
def climate(tmp_path_factory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("terraclimate")
    i0, j0 = mc.tc_window(C_BBOX[0] - MARGIN * mc.TC_RES, C_BBOX[3] + MARGIN * mc.TC_RES)
    dns = {y: {v: mc.tc_encode(v, a) for v, a in _tc_values(y).items()} for y in C_YEARS}
    dns[2019]["ppt"][2, 2, 2] = mc.TC_FILL  # March 2019, one pixel of cell (0, 0): no data
    dns[2018]["tmin"][6, 5, 5] = mc.TC_FILL  # July 2018, one pixel of cell (1, 1): no tmin
    tc_cat = mc.terraclimate(root / "tc", dns, i0, j0)
    soil: dict[int, dict[str, tuple[np.ndarray, float]]] = {
        2019: {
            "soc": (np.array([[150, 120], [90, 200]], dtype=np.int16), -32768.0),
            "soc_q05": (np.array([[110, 90], [60, 150]], dtype=np.int16), -32768.0),
            "soc_q95": (np.array([[190, 160], [130, 260]], dtype=np.int16), -32768.0),
            "bdod": (np.array([[120, 130], [140, 110]], dtype=np.int16), -32768.0),
            "clay": (np.array([[250, 300], [400, 150]], dtype=np.int16), -32768.0),
            "map": (np.array([[40, 30], [10, 40]], dtype=np.uint8), 0.0),
        }
    }
    soil_cat = mc.epoch_catalog(root / "soil", "soil-and-cover", soil, C_BBOX, C_RES)
    with serve_catalog(tc_cat) as s1, serve_catalog(soil_cat) as s2:
        src = root / "terraclimate.yaml"
        src.write_text(
            (Path(__file__).parents[2] / "catalogs/sources/terraclimate.yaml").read_text()
            + f"stac_url: {s1.url}\n"
        )
        layer = {"top": 0, "bottom": 30}
        # SoilGrids-like content with its 5 % and 95 % quantiles: RothC runs for the stock and its
        # bounds (without quantiles pipeline.rothc's bounds pass gets NaN stocks and refuses).
        variables = {
            "soc": {"unit": "dg/kg", "resampling": "nearest", "layers": [{"asset": "soc", **layer}]},
            "soc_q05": {"unit": "dg/kg", "resampling": "nearest", "layers": [{"asset": "soc_q05", **layer}]},
            "soc_q95": {"unit": "dg/kg", "resampling": "nearest", "layers": [{"asset": "soc_q95", **layer}]},
            "bdod": {"unit": "cg/cm3", "resampling": "nearest", "layers": [{"asset": "bdod", **layer}]},
            "clay": {"unit": "g/kg", "resampling": "nearest", "layers": [{"asset": "clay", **layer}]},
            "landcover": {"unit": "class", "resampling": "nearest", "layers": [{"asset": "map"}]},
        }
        soil_src = rp.source_yaml(
            root / "soil.yaml", "soil-fixture", "soil-and-cover", variables, "epoch", s2.url
        )
        job = _job(root, [src, soil_src], C_BBOX, C_RES, (2018, 2019))
        run_ingest(job)
    run_indicators(job.store, registry=root / "regions", cache_dir=root / "cache", chunks=(16, 16))
    yield {"root": root, "job": job, "dns": dns}


def _hand_climatology(dns: dict[int, dict[str, np.ndarray]], var: str) -> np.ndarray:
    """(12, 2, 2): per year, each cell the mean of its 3 x 3 decoded pixels (no data skipped),
    then the mean over the years; tas = (tmax + tmin) / 2 of the cell means."""

    def cells(v: str, year: int) -> np.ndarray:
        a = mc.tc_decode(v, dns[year][v])[:, MARGIN : MARGIN + 6, MARGIN : MARGIN + 6]
        return np.nanmean(a.reshape(12, 2, 3, 2, 3), axis=(2, 4))

    per_year = []
    for y in C_YEARS:
        if var == "tas":
            per_year.append((cells("tmax", y) + cells("tmin", y)) / 2)
        else:
            per_year.append(cells({"pr": "ppt", "pet": "pet"}[var], y))
    return np.mean(per_year, axis=0)


@pytest.mark.parametrize("var", ["tas", "pr", "pet"])
def test_climatology_equals_hand_computed(climate, var):
    cube = _group(climate["job"].store, "cube")
    got = cube[var]
    assert got.dims == ("month", "y", "x") and got["month"].values.tolist() == list(range(1, 13))
    np.testing.assert_allclose(got.values, _hand_climatology(climate["dns"], var), rtol=1e-5)


def test_fill_is_masked_not_decoded(climate):
    """The fill pixel of March 2019 is left out of its cell's mean: with it decoded as a number
    (-32768 x 0.1 + 3276.5 = -0.3 mm) the cell's mean would be lower."""
    cube = _group(climate["job"].store, "cube")
    dn = climate["dns"][2019]["ppt"][2, 1:4, 1:4]
    masked = np.nanmean(mc.tc_decode("ppt", dn))
    unmasked = np.mean(dn.astype(float) * 0.1 + 3276.5)
    other = np.mean(mc.tc_decode("ppt", climate["dns"][2018]["ppt"][2, 1:4, 1:4]))
    assert float(cube["pr"].values[2, 0, 0]) == pytest.approx((masked + other) / 2, rel=1e-5)
    assert abs((unmasked + other) / 2 - (masked + other) / 2) > 1.0


def test_climate_provenance_names_the_yearly_files(climate):
    import json

    cube = _group(climate["job"].store, "cube")
    prov = json.loads(cube.attrs["provenance"])["pr"]
    assert sorted(prov["inputs"]) == ["2018-01/2018-12", "2019-01/2019-12"]
    hrefs = prov["inputs"]["2019-01/2019-12"]["hrefs"]
    assert any(h.endswith("TerraClimate_ppt_2019.nc") for h in hrefs)


def test_rothc_runs_on_the_terraclimate_climatology(climate):
    result = run_rothc_job(climate["job"], years=20)
    assert result.pixels == 4 and result.epoch == 2019
    out = _group(climate["job"].store, "rothc")
    seq = out["seq_potential"].values
    assert np.isfinite(seq).all() and (seq > 0).all()  # more input, more carbon, every pixel
    assert np.isfinite(out["c_input_eq"].values).all() and (out["c_input_eq"].values > 0).all()
    assert out.attrs["epoch"] == 2019


def test_rothc_without_stock_quantiles_models_the_mean_and_leaves_the_bounds_nan(climate, tmp_path):
    """The same soil without its quantiles (a stock with no bounds, as gNATSGO, OpenLandMap or
    SoilGrids without its Q0.05/Q0.95 give): RothC models every pixel's mean stock exactly as
    with them, and its bound maps are NaN instead of the job failing."""
    root = climate["root"]
    layer = {"top": 0, "bottom": 30}
    variables = {
        v: {"unit": u, "resampling": "nearest", "layers": [{"asset": v, **layer}]}
        for v, u in (("soc", "dg/kg"), ("bdod", "cg/cm3"), ("clay", "g/kg"))
    }
    variables["landcover"] = {"unit": "class", "resampling": "nearest", "layers": [{"asset": "map"}]}
    with serve_catalog(root / "tc") as s1, serve_catalog(root / "soil") as s2:
        src = tmp_path / "terraclimate.yaml"
        src.write_text(
            (Path(__file__).parents[2] / "catalogs/sources/terraclimate.yaml").read_text()
            + f"stac_url: {s1.url}\n"
        )
        soil_src = rp.source_yaml(
            tmp_path / "soil.yaml", "soil-fixture", "soil-and-cover", variables, "epoch", s2.url
        )
        job = _job(tmp_path, [src, soil_src], C_BBOX, C_RES, (2018, 2019))
        run_ingest(job)
    run_indicators(job.store, registry=tmp_path / "regions", cache_dir=tmp_path / "cache", chunks=(16, 16))
    result = run_rothc_job(job, years=20)
    assert result.pixels == 4
    bare, full = _group(job.store, "rothc"), _group(climate["job"].store, "rothc")
    if "seq_potential_low" not in full or not np.isfinite(full["seq_potential_low"].values).all():
        run_rothc_job(climate["job"], years=20)
        full = _group(climate["job"].store, "rothc")
    np.testing.assert_array_equal(bare["seq_potential"].values, full["seq_potential"].values)
    np.testing.assert_array_equal(bare["c_input_eq"].values, full["c_input_eq"].values)
    assert (
        np.isnan(bare["seq_potential_low"].values).all() and np.isnan(bare["seq_potential_high"].values).all()
    )
    assert np.isfinite(full["seq_potential_low"].values).all()


def test_terraclimate_files_indexed_by_socobs_stac_index_ingest_the_same_climatology(climate, tmp_path):
    """The job file's own steps: the yearly NetCDFs indexed with ``socobs stac index`` (one item
    per year, an asset per variable keyed as the source names it, 12 bands with the files'
    packing), served, ingested: the same climatology as from the recorded catalog."""
    from pipeline.ingest.stac_index import build_index

    _, items = build_index([str(climate["root"] / "tc" / "data")], tmp_path / "index", "terraclimate")
    keys = {f"TerraClimate_{v}" for v in climate["dns"][C_YEARS[0]]}
    assert len(items) == len(C_YEARS) and all(set(i.assets) == keys for i in items)
    assert sorted(i.datetime.year if i.datetime else i.properties["start_datetime"][:4] for i in items) in (
        list(C_YEARS),
        [str(y) for y in C_YEARS],
    )
    ppt = items[0].assets["TerraClimate_ppt"].extra_fields["raster:bands"]
    scale, offset, _ = mc.TC_PACKING["ppt"]
    assert (
        len(ppt) == 12
        and ppt[0]["scale"] == pytest.approx(scale)
        and ppt[0]["offset"] == pytest.approx(offset)
    )
    with serve_catalog(tmp_path / "index") as s:
        src = tmp_path / "terraclimate.yaml"
        src.write_text(
            (Path(__file__).parents[2] / "catalogs/sources/terraclimate.yaml").read_text()
            + f"stac_url: {s.url}\n"
        )
        job = _job(tmp_path, [src], C_BBOX, C_RES, (2018, 2019))
        run_ingest(job)
    got, want = _group(job.store, "cube"), _group(climate["job"].store, "cube")
    for var in ("tas", "pr", "pet"):
        np.testing.assert_array_equal(got[var].values, want[var].values)


def test_multi_band_asset_outside_a_monthly_source_is_refused(climate, tmp_path):
    """Twelve bands in a per-epoch source: one paragraph naming the asset, nothing written."""
    from pipeline.errors import CatalogError

    store = climate["job"].store
    before = [s.id for s in open_repo(store).ancestry(branch="main")]
    src = tmp_path / "tc-epoch.yaml"
    text = (Path(__file__).parents[2] / "catalogs/sources/terraclimate.yaml").read_text()
    src.write_text(text.replace("temporal: monthly", "temporal: epoch"))
    tc_root = climate["root"] / "tc"
    with serve_catalog(tc_root) as s:
        job = _job(climate["root"], [src], C_BBOX, C_RES, (2018, 2019))
        with pytest.raises(CatalogError) as err:
            run_ingest(job, stac_url=s.url)
    msg = str(err.value)
    assert "12" in msg and "raster:bands" in msg and "monthly" in msg and "\n" not in msg
    assert [s.id for s in open_repo(store).ancestry(branch="main")] == before


def test_a_year_of_bands_on_an_item_not_spanning_the_year_is_refused(climate, tmp_path):
    """Twelve monthly bands on an item dated April-March: which month is band 1 cannot be told;
    refused in one paragraph naming the item and its dates."""
    import json
    import shutil

    from pipeline.errors import CatalogError

    cat = tmp_path / "tc"
    shutil.copytree(climate["root"] / "tc", cat)
    path = cat / "terraclimate" / "terraclimate-2019" / "terraclimate-2019.json"
    item = json.loads(path.read_text())
    item["properties"]["start_datetime"] = "2019-04-01T00:00:00Z"
    item["properties"]["end_datetime"] = "2020-03-31T23:59:59Z"
    path.write_text(json.dumps(item))
    src = tmp_path / "terraclimate.yaml"
    src.write_text((Path(__file__).parents[2] / "catalogs/sources/terraclimate.yaml").read_text())
    with serve_catalog(cat) as s:
        job = _job(tmp_path, [src], C_BBOX, C_RES, (2018, 2019))
        with pytest.raises(CatalogError) as err:
            run_ingest(job, stac_url=s.url)
    msg = str(err.value)
    assert "terraclimate-2019" in msg and "2019-04-01" in msg and "January" in msg and "\n" not in msg
    # nothing committed: the repository holds only its initial snapshot
    assert len(list(open_repo(str(tmp_path / "repo")).ancestry(branch="main"))) == 1
