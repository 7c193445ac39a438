"""The shipped region hierarchy (names, recipe, bounding boxes), and `socobs regions add`
refusing each bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from pipeline.errors import InputFileError, RegionError
from pipeline.regions.build import (
    NE_SHA256,
    REGIONS,
    natural_earth_source,
    read_countries,
    shapefile_encoding,
    verify_source,
)
from pipeline.regions.hierarchy import (
    add_region_set,
    load_regions,
    lon_cover,
    region_bboxes,
    shipped_regions_path,
)

NAMES = {"CIV": "Côte d'Ivoire", "CUW": "Curaçao", "ALA": "Åland", "STP": "São Tomé and Príncipe"}
AFRICA_LIMIT = (-26, -47, 64, 38)


@pytest.fixture(scope="module")
def shipped() -> gpd.GeoDataFrame:
    return gpd.read_parquet(shipped_regions_path())


def test_shipped_file_is_small_and_complete(shipped):
    assert shipped_regions_path().stat().st_size < 10 * 1024 * 1024
    assert list(shipped.columns[:4]) == ["region_id", "name", "level", "parent_id"]
    assert {"bbox", "main_bbox", "iso_official"} <= set(shipped.columns)
    assert shipped.geometry.name == "geometry"
    assert shipped.crs.to_epsg() == 4326
    assert shipped["region_id"].is_unique
    counts = shipped["level"].value_counts().to_dict()
    assert counts["global"] == 1 and counts["region"] == 6
    # Every Natural Earth admin-0 feature of the default edition (v5.1.1: 258) is a country row.
    ne = read_countries(natural_earth_source())
    assert counts["country"] == len(ne) == 258
    assert set(shipped.loc[shipped.level == "region", "region_id"]) == set(REGIONS)
    assert shapely.is_valid(shipped.geometry.values).all()


def test_every_country_has_a_parent(shipped):
    countries = shipped[shipped.level == "country"]
    parents = set(countries["parent_id"])
    assert parents <= set(REGIONS) | {"global"}
    # Only Antarctica hangs directly under global.
    assert countries.loc[countries.parent_id == "global", "region_id"].tolist() == ["ATA"]
    assert shipped.loc[shipped.region_id.isin(list(REGIONS)), "parent_id"].eq("global").all()


@pytest.mark.parametrize(
    ("rid", "parent", "official"),
    [
        ("FRA", "europe", True),  # ISO_A3 is -99 in Natural Earth, ISO_A3_EH is FRA
        ("NOR", "europe", True),
        ("KOS", "europe", False),  # no ISO code: Natural Earth's ADM0_A3
        ("SOL", "africa", False),  # Somaliland: in the default edition, not in the German one
        ("CLP", "latin_america_caribbean", False),  # Clipperton: ISO_A3_EH is France's
        ("USA", "northern_america", True),
        ("MEX", "latin_america_caribbean", True),
        ("KEN", "africa", True),
        ("AUS", "oceania", True),
    ],
)
def test_minus_99_rule_and_regions(shipped, rid, parent, official):
    row = shipped.set_index("region_id").loc[rid]
    assert row["parent_id"] == parent
    assert bool(row["iso_official"]) is official


# --- names ------------------------------------------------------------------------------------


def test_names_are_decoded_as_utf8():
    names = load_regions().set_index("region_id")["name"]
    for rid, name in NAMES.items():
        assert names[rid] == name
    assert not names.str.contains("Ã").any()  # the mark of UTF-8 read as Latin-1


def test_regions_list_prints_the_names(tmp_path):
    # From an empty directory, as a user runs it; bytes decoded as UTF-8 (what a terminal shows).
    cmd = [sys.executable, "-m", "pipeline.cli", "regions", "list", "--level", "country"]
    env = {**os.environ, "COLUMNS": "120"}
    out = subprocess.run(cmd, capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    text = out.stdout.decode("utf-8")
    lines = {ln.split()[1]: ln for ln in text.splitlines() if len(ln.split()) > 2}
    for rid, name in NAMES.items():
        assert f" {name} " in lines[rid]
    assert "Ã" not in text


def _zip_shapefile(tmp_path: Path, *, cpg: str | None) -> Path:
    """A two-feature Natural Earth-like shapefile, zipped, its .cpg replaced (or removed)."""
    gdf = gpd.GeoDataFrame(
        {
            "ADM0_A3": ["CIV", "STP"],
            "ISO_A3": ["CIV", "STP"],
            "ISO_A3_EH": ["CIV", "STP"],
            "NAME": ["Côte d'Ivoire", "São Tomé and Principe"],
            "NAME_EN": ["Ivory Coast", "São Tomé and Príncipe"],
            "REGION_UN": ["Africa", "Africa"],
            "SUBREGION": ["Western Africa", "Middle Africa"],
        },
        geometry=[box(-8, 4, -3, 10), box(6, 0, 7, 1)],
        crs="EPSG:4326",
    )
    shp = tmp_path / "t.shp"
    gdf.to_file(shp, encoding="UTF-8")
    out = tmp_path / "t.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for part in sorted(tmp_path.glob("t.*")):
            if part.suffix != ".cpg" and part != out:
                zf.write(part, part.name)
        if cpg is not None:
            zf.writestr("t.cpg", cpg)
    return out


def test_shapefile_without_cpg_is_read_as_utf8(tmp_path):
    src = _zip_shapefile(tmp_path, cpg=None)
    with zipfile.ZipFile(src) as zf:
        assert shapefile_encoding(zf, "t.shp") == "utf-8"
    assert read_countries(src)["NAME"].tolist() == ["Côte d'Ivoire", "São Tomé and Principe"]


def test_cpg_code_page_is_honoured(tmp_path):
    with zipfile.ZipFile(_zip_shapefile(tmp_path, cpg="1252")) as zf:
        assert shapefile_encoding(zf, "t.shp") == "cp1252"
    klingon = _zip_shapefile(tmp_path, cpg="KLINGON")
    with zipfile.ZipFile(klingon) as zf, pytest.raises(InputFileError, match="unknown code page 'KLINGON'"):
        shapefile_encoding(zf, "t.shp")


# --- the source and the recipe -------------------------------------------------------------------


def test_source_is_the_pinned_default_edition():
    src = natural_earth_source()
    verify_source(src)  # raises if any component differs
    with zipfile.ZipFile(src) as zf:
        assert sorted(zf.namelist()) == sorted(NE_SHA256)
        assert zf.read("ne_10m_admin_0_countries.cpg").strip() == b"UTF-8"
    readme = (src.parent / "README.md").read_text(encoding="utf-8")
    assert all(sha in readme for sha in NE_SHA256.values()) and "5.1.1" in readme


def test_a_changed_source_is_refused(tmp_path):
    bad = tmp_path / "ne.zip"
    with zipfile.ZipFile(natural_earth_source()) as zf, zipfile.ZipFile(bad, "w") as out:
        for name in zf.namelist():
            data = zf.read(name)
            out.writestr(name, data + b" " if name.endswith(".prj") else data)
    with pytest.raises(
        InputFileError, match=r"differ from Natural Earth 5\.1\.1: ne_10m_admin_0_countries\.prj"
    ):
        verify_source(bad)


@pytest.mark.slow
def test_recipe_reproduces_the_shipped_file(shipped, tmp_path):
    # The CLI, from an empty directory: the recipe needs nothing but the installed package.
    out = tmp_path / "rebuilt.parquet"
    cmd = [sys.executable, "-m", "pipeline.cli", "regions", "build", "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    rebuilt = gpd.read_parquet(out)
    cols = ["region_id", "name", "level", "parent_id", "iso_official"]
    assert rebuilt[cols].astype(str).equals(shipped[cols].astype(str))
    for col in ("bbox", "main_bbox"):
        assert np.array_equal(np.stack(rebuilt[col].to_numpy()), np.stack(shipped[col].to_numpy()))
    assert shapely.equals_exact(rebuilt.geometry.values, shipped.geometry.values, tolerance=0).all()


# --- bounding boxes ---------------------------------------------------------------------------


def _width(b) -> float:
    w, _, e, _ = b
    return e - w if w <= e else e - w + 360.0


def _covers(b, geom) -> bool:
    """Every vertex of ``geom`` lies in box ``b`` (on the longitude circle)."""
    w, s, _, n = b
    xy = shapely.get_coordinates(geom)
    x = (xy[:, 0] - w) % 360.0
    x[np.isclose(xy[:, 0], w, atol=1e-6) | np.isclose(x, 360.0, atol=1e-6)] = 0.0  # w itself (or w-360)
    return bool(
        (x <= _width(b) + 1e-6).all() and (xy[:, 1] >= s - 1e-6).all() and (xy[:, 1] <= n + 1e-6).all()
    )


def test_every_box_is_valid(shipped):
    for rid, bb, mb in zip(shipped.region_id, shipped.bbox, shipped["main_bbox"], strict=True):
        for b in (bb, mb):
            w, s, e, n = b
            assert -180 <= w <= 180 and -180 <= e <= 180 and -90 <= s < n <= 90, (rid, b)
        assert _width(mb) <= _width(bb) + 1e-9 and bb[1] <= mb[1] and mb[3] <= bb[3], rid


def test_boxes_cover_their_geometry(shipped):
    for rid, bb, geom in zip(shipped.region_id, shipped.bbox, shipped.geometry, strict=True):
        assert _covers(bb, geom), rid


@pytest.mark.parametrize("rid", ["FJI", "RUS", "NZL", "USA", "KIR"])
def test_antimeridian_countries_have_west_greater_than_east(shipped, rid):
    w, _, e, _ = shipped.set_index("region_id").loc[rid, "bbox"]
    assert w > e


def test_fiji_is_a_small_box_across_the_antimeridian(shipped):
    b = shipped.set_index("region_id").loc["FJI", "bbox"]
    assert b[0] > 170 and b[2] < -170 and _width(b) < 10


def test_main_boxes_leave_far_islands_out(shipped):
    rows = shipped.set_index("region_id")
    w, s, e, n = rows.loc["africa", "main_bbox"]
    lw, ls, le, ln = AFRICA_LIMIT
    assert lw <= w < e <= le and ls <= s < n <= ln
    assert _width(rows.loc["europe", "main_bbox"]) < 300  # not the globe (Russia's far east is in)
    fra = rows.loc["FRA", "main_bbox"]  # metropolitan France and Corsica, not Guiana or Reunion
    assert -6 < fra[0] < -4 and 9 < fra[2] < 10 and 41 < fra[1] < 42.5 and 51 < fra[3] < 51.2
    usa = rows.loc["USA", "main_bbox"]  # the contiguous states
    assert -125 < usa[0] < -124 and -67.5 < usa[2] < -66.5 and 24 < usa[1] < 25 and 49 < usa[3] < 49.5


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ([(-10, 10)], (-10, 10)),
        ([(170, 180), (-180, -170)], (170, -170)),  # one island cut by the antimeridian
        ([(-180, 180)], (-180, 180)),
        ([(0, 10), (100, 110), (-100, -90)], (-100, 110)),  # widest gap (150) holds 180
        ([(0, 10), (100, 110), (-170, -160)], (0, -160)),  # widest gap (160) is -160..0
        ([(-120, 0), (0, 120), (120, 180), (-180, -120)], (-180, 180)),  # no gap at all
    ],
)
def test_lon_cover(spans, expected):
    west, east = np.array(spans, dtype=float).T
    assert lon_cover(west, east) == expected


def test_boxes_of_hand_made_geometries():
    fiji_like = MultiPolygon([box(178, -17, 180, -16), box(-180, -18, -179, -17)])
    assert region_bboxes(fiji_like) == ([178, -18, -179, -16], [178, -18, -179, -16])
    # A 10 x 10 degree island and a 0.1 degree rock 50 degrees away: the rock is out of the main box.
    far = MultiPolygon([box(0, 0, 10, 10), box(60, 0, 60.1, 0.1)])
    assert region_bboxes(far) == ([0, 0, 60.1, 10], [0, 0, 10, 10])
    # Two equal islands far apart: each holds 50 %, both are main.
    pair = MultiPolygon([box(0, 0, 1, 1), box(30, 0, 31, 1)])
    assert region_bboxes(pair)[1] == [0, 0, 31, 1]
    assert region_bboxes(Polygon()) == (None, None)


def _kenya_units(tmp_path: Path, name: str = "units.gpkg", **overrides) -> Path:
    rows = {
        "code": ["KEN-01", "KEN-02"],
        "label": ["North", "South"],
        "country": ["KEN", "KEN"],
        "geometry": [box(36, 0, 38, 2), box(36, -2, 38, 0)],
    }
    rows.update(overrides)
    crs = rows.pop("crs", "EPSG:4326")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
    path = tmp_path / name
    gdf.to_file(path)
    return path


def add(path: Path, registry: Path, **kw):
    args = dict(registry=registry, id_field="code", name_field="label", parent_field="country")
    args.update(kw)
    return add_region_set(path, **args)


def test_add_geopackage_registers_subnational_units(tmp_path):
    registry = tmp_path / "reg"
    res = add(_kenya_units(tmp_path), registry)
    assert res.count == 2 and res.path.exists()
    allr = load_regions(registry).set_index("region_id")
    assert allr.loc["KEN-01", "level"] == "subnational"
    assert allr.loc["KEN-02", "parent_id"] == "KEN"


def test_add_reprojects_other_crs(tmp_path):
    g = gpd.GeoSeries([box(36, 0, 38, 2), box(36, -2, 38, 0)], crs="EPSG:4326").to_crs(3857)
    path = _kenya_units(tmp_path, geometry=list(g), crs="EPSG:3857")
    res = add(path, tmp_path / "reg")
    assert res.reprojected_from is not None and "3857" in res.reprojected_from
    got = load_regions(tmp_path / "reg").set_index("region_id").loc["KEN-01", "geometry"]
    assert got.bounds == pytest.approx((36, 0, 38, 2), abs=1e-6)


def test_added_sets_get_both_boxes(tmp_path):
    registry = tmp_path / "reg"
    add(_kenya_units(tmp_path), registry)
    stored = gpd.read_parquet(registry / "units.parquet").set_index("region_id")
    assert list(stored.loc["KEN-01", "bbox"]) == [36, 0, 38, 2]
    assert list(stored.loc["KEN-02", "main_bbox"]) == [36, -2, 38, 0]
    # A custom region across the antimeridian, with a far rock: west > east, the rock not main.
    taveuni = MultiPolygon(
        [box(179.5, -17, 180, -16.5), box(-180, -17, -179.5, -16.5), box(170, 0, 170.01, 0.01)]
    )
    path = tmp_path / "pacific.geojson"
    gpd.GeoDataFrame({"code": ["PAC"], "label": ["Pacific"]}, geometry=[taveuni], crs="EPSG:4326").to_file(
        path
    )
    add(path, registry, level="custom", parent_field=None)
    row = load_regions(registry).set_index("region_id").loc["PAC"]
    assert list(row["bbox"]) == [170, -17, -179.5, 0.01]
    assert list(row["main_bbox"]) == [179.5, -17, -179.5, -16.5]


def test_sets_registered_before_the_boxes_get_them_on_load(tmp_path):
    registry = tmp_path / "reg"
    registry.mkdir()
    old = gpd.GeoDataFrame(
        {
            "region_id": ["OLD-1"],
            "name": ["Old"],
            "level": ["custom"],
            "parent_id": ["global"],
            "iso_official": [False],
        },
        geometry=[box(10, 20, 11, 21)],
        crs="EPSG:4326",
    )
    old.to_parquet(registry / "old.parquet")
    row = load_regions(registry).set_index("region_id").loc["OLD-1"]
    assert list(row["bbox"]) == [10, 20, 11, 21] and list(row["main_bbox"]) == [10, 20, 11, 21]


BOWTIE = Polygon([(36, 0), (38, 2), (38, 0), (36, 2), (36, 0)])


@pytest.mark.parametrize(
    ("overrides", "kwargs", "error", "message"),
    [
        ({}, {"id_field": "nope"}, RegionError, "--id-field 'nope' is not a field"),
        ({}, {"name_field": "nope"}, RegionError, "--name-field 'nope' is not a field"),
        ({"code": ["A", "A"]}, {}, RegionError, "duplicate ids"),
        ({"country": ["KEN", "XXX"]}, {}, RegionError, "parents that do not exist: ['XXX']"),
        ({"code": ["FRA", "B"]}, {}, RegionError, "ids already registered: ['FRA']"),
        ({"geometry": [BOWTIE, box(36, -2, 38, 0)]}, {}, RegionError, "invalid geometries"),
        ({}, {"level": "country"}, RegionError, "--level: expected one of subnational, custom"),
        ({}, {"parent_field": None}, RegionError, "need a parent"),
    ],
)
def test_add_refuses_bad_input_and_writes_nothing(tmp_path, overrides, kwargs, error, message):
    registry = tmp_path / "reg"
    path = _kenya_units(tmp_path, **overrides)
    with pytest.raises(error) as exc:
        add(path, registry, **kwargs)
    assert message in str(exc.value)
    assert not registry.exists() or not any(registry.iterdir())


def test_add_missing_and_unreadable_files(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        add(tmp_path / "missing.gpkg", tmp_path / "reg")
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage")
    with pytest.raises(InputFileError, match="cannot read it as a vector file"):
        add(junk, tmp_path / "reg")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_add_file_without_crs_is_refused(tmp_path):
    # A shapefile written without a .prj has no CRS at all (GeoJSON always means WGS84).
    shp = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame(
        {"code": ["X1"], "label": ["x"], "country": ["KEN"]}, geometry=[box(36, 0, 37, 1)]
    ).to_file(shp)
    with pytest.raises(RegionError, match="declares no CRS"):
        add(shp, tmp_path / "reg")


def test_make_valid_repairs_and_replace_replaces(tmp_path):
    registry = tmp_path / "reg"
    path = _kenya_units(tmp_path, geometry=[BOWTIE, box(36, -2, 38, 0)])
    res = add(path, registry, make_valid=True)
    assert res.repaired == 1
    with pytest.raises(RegionError, match="already registered"):
        add(path, registry, make_valid=True)
    res2 = add(_kenya_units(tmp_path, name="units.gpkg"), registry, replace=True)
    assert res2.repaired == 0


def test_cli_refuses_bad_parent_with_exit_code_2(tmp_path):
    path = _kenya_units(tmp_path, country=["KEN", "ZZZ"])
    cmd = [sys.executable, "-m", "pipeline.cli", "regions", "add", str(path)]
    cmd += ["--id-field", "code", "--name-field", "label", "--parent-field", "country"]
    cmd += ["--registry", str(tmp_path / "r")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "parents that do not exist" in out.stderr and "Traceback" not in out.stderr
    good = _kenya_units(tmp_path, name="good.gpkg")
    cmd[5] = str(good)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "registered 2 subnational regions" in done.stdout
