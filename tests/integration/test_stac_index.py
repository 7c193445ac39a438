"""``socobs stac index`` on a folder of small COGs, served by ``socobs stac serve`` (a real rustac
process): pystac-client finds the items by bbox and date, ``odc.stac.load`` reads the very pixels
written, and raster:bands say how to scale them. Bad input exits 2 with one paragraph and writes
no catalog."""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import odc.stac
import pyproj
import pystac
import pystac_client
import pytest
import rasterio
import rasterio.shutil
from rasterio.transform import from_origin

pytestmark = pytest.mark.integration

SOCOBS = [sys.executable, "-m", "pipeline.cli"]
NODATA = -32768
# SoilGrids 2.0's CRS: Interrupted Goode Homolosine (no EPSG code)
IGH = "+proj=igh +lat_0=0 +lon_0=0 +datum=WGS84 +units=m +no_defs"
ORIGIN = (30.0, 2.0)  # west, north
RES = 0.05
SIZE = 48


def _socobs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SOCOBS, *args], capture_output=True, text=True, timeout=300, env=dict(os.environ))


def _values(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3000, size=(SIZE, SIZE)).astype(np.int16)
    a[:5, :7] = NODATA
    return a


def _write(
    path: Path, data: np.ndarray, *, crs: str = "EPSG:4326", transform: object = None, **tags: object
) -> None:
    profile = {
        "driver": "COG",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform or from_origin(*ORIGIN, RES, RES),
        "nodata": NODATA,
        "blocksize": 16,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.scales = (tags.get("scale", 1.0),)
        dst.offsets = (tags.get("offset", 0.0),)
        dst.units = (str(tags.get("unit", "")),)


# variable -> (scale, offset, unit); two years each
LAYERS = {"soc_0-5cm_mean": (0.1, 0.0, "g/kg"), "bdod_0-5cm_mean": (0.01, 0.5, "g/cm3")}
YEARS = (2015, 2016)


@pytest.fixture(scope="module")
def cogs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, int], np.ndarray]]:
    folder = tmp_path_factory.mktemp("cogs")
    written = {}
    for i, (name, (scale, offset, unit)) in enumerate(LAYERS.items()):
        for year in YEARS:
            data = _values(100 * i + year)
            sub = folder / str(year)  # a nested folder: searched recursively
            sub.mkdir(exist_ok=True)
            _write(sub / f"{name}_{year}.tif", data, scale=scale, offset=offset, unit=unit)
            written[(name, year)] = data
    return folder, written


@pytest.fixture(scope="module")
def served(
    cogs: tuple[Path, dict[tuple[str, int], np.ndarray]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    out = tmp_path_factory.mktemp("index") / "catalog"
    res = _socobs("stac", "index", str(cogs[0]), "--out", str(out), "--collection", "my-soil")
    assert res.returncode == 0, res.stderr
    assert "4 rasters into 2 items" in res.stdout
    proc = subprocess.Popen(
        [*SOCOBS, "stac", "serve", str(out), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the server is ready (or the command ended)
        assert first.startswith("serving STAC API at http://127.0.0.1:"), (
            first,
            proc.stderr and proc.stderr.read(),
        )
        yield first.split(" at ", 1)[1].split()[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_items_are_found_by_bbox_and_date(served: str) -> None:
    client = pystac_client.Client.open(served)
    inside = client.search(collections=["my-soil"], bbox=[31, 0, 31.5, 0.5])
    assert sorted(i.id for i in inside.items()) == ["my-soil-2015", "my-soil-2016"]
    outside = client.search(collections=["my-soil"], bbox=[-10, 40, -9, 41])
    assert list(outside.items()) == []
    one = list(client.search(collections=["my-soil"], datetime="2016-03-01/2016-04-01").items())
    assert [i.id for i in one] == ["my-soil-2016"]
    item = one[0]
    assert set(item.assets) == set(LAYERS)  # the year is not part of the asset key
    assert item.properties["proj:code"] == "EPSG:4326"
    assert item.properties["proj:shape"] == [SIZE, SIZE]
    assert item.properties["proj:transform"] == list(from_origin(*ORIGIN, RES, RES))[:6]
    assert item.bbox == pytest.approx([ORIGIN[0], ORIGIN[1] - SIZE * RES, ORIGIN[0] + SIZE * RES, ORIGIN[1]])
    for name, (scale, offset, unit) in LAYERS.items():
        (band,) = item.assets[name].extra_fields["raster:bands"]
        assert band == {
            "data_type": "int16",
            "nodata": NODATA,
            "scale": scale,
            "offset": offset,
            "unit": unit,
            "spatial_resolution": RES,
        }
        assert item.assets[name].href.startswith("file://")


def test_odc_stac_loads_the_written_pixels(
    served: str, cogs: tuple[Path, dict[tuple[str, int], np.ndarray]]
) -> None:
    client = pystac_client.Client.open(served)
    items = list(client.search(collections=["my-soil"], bbox=[29, -2, 34, 3]).items())
    ds = odc.stac.load(items, bands=list(LAYERS), chunks={})
    assert list(ds["time"].dt.year.values) == list(YEARS)
    for name in LAYERS:
        for k, year in enumerate(YEARS):
            got = ds[name].isel(time=k).values
            np.testing.assert_array_equal(got, cogs[1][(name, year)], err_msg=f"{name} {year}")
    # the physical values: DN * scale + offset where the DN is not nodata
    soc = ds["soc_0-5cm_mean"].isel(time=0)
    scale = items[0].assets["soc_0-5cm_mean"].extra_fields["raster:bands"][0]["scale"]
    valid = soc.values != NODATA
    np.testing.assert_allclose(
        (soc.values * scale)[valid], cogs[1][("soc_0-5cm_mean", 2015)][valid] * LAYERS["soc_0-5cm_mean"][0]
    )


def test_a_crs_without_epsg_code_and_a_given_date(tmp_path: Path) -> None:
    """SoilGrids' Homolosine grid: proj:wkt2 instead of an EPSG code, a lon/lat bbox around it."""
    folder = tmp_path / "igh"
    folder.mkdir()
    x0, y0, res = 3_000_000.0, 250_000.0, 250.0
    _write(folder / "ocs_0-30cm_mean.tif", _values(7), crs=IGH, transform=from_origin(x0, y0, res, res))
    out = tmp_path / "cat"
    res_ = _socobs(
        "stac", "index", str(folder / "ocs_0-30cm_mean.tif"), "--out", str(out), "--datetime", "2020"
    )
    assert res_.returncode == 0, res_.stderr
    item = pystac.read_file(out / "rasters" / "rasters-2020" / "rasters-2020.json")
    assert isinstance(item, pystac.Item)
    assert item.properties["proj:code"] is None
    assert pyproj.CRS.from_wkt(item.properties["proj:wkt2"]).equals(pyproj.CRS.from_proj4(IGH))
    assert item.properties["start_datetime"].startswith("2020-01-01")
    centre = pyproj.Transformer.from_crs(IGH, "EPSG:4326", always_xy=True).transform(
        x0 + SIZE * res / 2, y0 - SIZE * res / 2
    )
    assert item.bbox is not None
    w, s, e, n = item.bbox
    assert w < centre[0] < e and s < centre[1] < n
    assert e - w < 1 and n - s < 1  # 12 km of Homolosine, in degrees


def test_a_vrt_is_indexed_and_read(tmp_path: Path) -> None:
    """A GDAL VRT (SoilGrids publishes its layers as VRTs over COG tiles) becomes an asset
    without a media type (none is registered) whose raster:bands are the VRT's, and odc-stac
    reads the tiles' pixels through it."""
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    data = _values(3)
    _write(tiles / "tile.tif", data, scale=0.1, unit="g/kg")
    folder = tmp_path / "vrt"
    folder.mkdir()
    rasterio.shutil.copy(tiles / "tile.tif", folder / "soc_0-5cm_mean_2017.vrt", driver="VRT")
    out = tmp_path / "cat"
    res = _socobs("stac", "index", str(folder), "--out", str(out))
    assert res.returncode == 0, res.stderr
    item = pystac.read_file(out / "rasters" / "rasters-2017" / "rasters-2017.json")
    assert isinstance(item, pystac.Item)
    asset = item.assets["soc_0-5cm_mean"]
    assert asset.media_type is None and asset.roles == ["data"] and asset.href.endswith(".vrt")
    (band,) = asset.extra_fields["raster:bands"]
    assert (band["scale"], band["unit"], band["nodata"], band["data_type"]) == (0.1, "g/kg", NODATA, "int16")
    ds = odc.stac.load([item], bands=["soc_0-5cm_mean"])
    np.testing.assert_array_equal(ds["soc_0-5cm_mean"].isel(time=0).values, data)


def test_urls_are_indexed_and_read_over_http(tmp_path: Path) -> None:
    """Rasters given as URLs (a real HTTP server on a free port): read by GDAL over HTTP, the
    hrefs kept as given, and odc-stac reads the pixels from them."""
    folder = tmp_path / "web"
    folder.mkdir()
    data = _values(5)
    _write(folder / "soc_0-5cm_mean_2018.tif", data, scale=0.1, unit="g/kg")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/soc_0-5cm_mean_2018.tif"
        out = tmp_path / "cat"
        res = _socobs("stac", "index", url, "--out", str(out), "--collection", "web")
        assert res.returncode == 0, res.stderr
        item = pystac.read_file(out / "web" / "web-2018" / "web-2018.json")
        assert isinstance(item, pystac.Item)
        assert item.assets["soc_0-5cm_mean"].href == url
        ds = odc.stac.load([item], bands=["soc_0-5cm_mean"])
        np.testing.assert_array_equal(ds["soc_0-5cm_mean"].isel(time=0).values, data)
    finally:
        server.shutdown()
        server.server_close()


def _bad_folder(tmp_path: Path, case: str) -> Path:
    folder = tmp_path / case
    folder.mkdir()
    if case == "no-rasters":
        (folder / "notes.txt").write_text("no rasters here")
    elif case == "unreadable":
        _write(folder / "soc_2015.tif", _values(1))
        (folder / "bdod_2015.tif").write_bytes(b"not a tiff at all")
    elif case == "mixed-crs":
        _write(folder / "soc_2015.tif", _values(1))
        _write(
            folder / "bdod_2015.tif",
            _values(2),
            crs="EPSG:32737",
            transform=from_origin(5e5, 9.9e6, 100, 100),
        )
    elif case == "no-date":
        _write(folder / "soc.tif", _values(1))
    elif case == "same-key":
        _write(folder / "soc_2015.tif", _values(1))
        (folder / "again").mkdir()
        _write(folder / "again" / "soc_2015.tif", _values(2))
    return folder


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("no-rasters", "no rasters in this folder"),
        ("unreadable", "bdod_2015.tif: not a readable raster"),
        ("mixed-crs", "more than one CRS"),
        ("no-date", "no date in the file name"),
        ("same-key", "give the same asset key 'soc'"),
    ],
)
def test_bad_input_is_one_paragraph_and_writes_nothing(tmp_path: Path, case: str, says: str) -> None:
    folder = _bad_folder(tmp_path, case)
    out = tmp_path / "cat"
    res = _socobs("stac", "index", str(folder), "--out", str(out))
    assert res.returncode == 2, res.stderr
    assert says in " ".join(res.stderr.split())
    assert "Traceback" not in res.stderr and res.stderr.strip().startswith("error:")
    assert "Expected" in res.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cat")] == []  # no leftover


def test_a_folder_of_vrts_and_their_tiles_indexes_the_vrts(tmp_path: Path) -> None:
    """SoilGrids' layout: ``soc/soc_0-5cm_mean.vrt`` beside the folder of the tiles it reads. The
    tiles are the VRT's, not assets of their own (their names say nothing of the variable); a
    raster no VRT reads is still indexed."""
    folder = tmp_path / "soilgrids"
    tiles = folder / "soc" / "soc_0-5cm_mean" / "tileSG-001-001"
    tiles.mkdir(parents=True)
    data = _values(11)
    _write(tiles / "tileSG-001-001_1-1.tif", data)
    rasterio.shutil.copy(
        tiles / "tileSG-001-001_1-1.tif", folder / "soc" / "soc_0-5cm_mean.vrt", driver="VRT"
    )
    _write(folder / "ocs_0-30cm_mean.tif", _values(12))
    out = tmp_path / "cat"
    res = _socobs("stac", "index", str(folder), "--out", str(out), "--datetime", "2020")
    assert res.returncode == 0, res.stderr
    assert "indexed 2 rasters into 1 items" in " ".join(res.stdout.split())
    item = pystac.read_file(out / "rasters" / "rasters-2020" / "rasters-2020.json")
    assert isinstance(item, pystac.Item)
    assert sorted(item.assets) == ["ocs_0-30cm_mean", "soc_0-5cm_mean"]
    assert item.assets["soc_0-5cm_mean"].href.endswith("/soc/soc_0-5cm_mean.vrt")
    ds = odc.stac.load([item], bands=["soc_0-5cm_mean"])
    np.testing.assert_array_equal(ds["soc_0-5cm_mean"].isel(time=0).values, data)
