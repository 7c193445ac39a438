"""The shipped region hierarchy, and `socobs regions add` refusing each bad input."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from pipeline.errors import InputFileError, RegionError
from pipeline.regions import add_region_set, load_regions, shipped_regions_path
from pipeline.regions_build import REGIONS, build_regions, natural_earth_source


@pytest.fixture(scope="module")
def shipped() -> gpd.GeoDataFrame:
    return gpd.read_parquet(shipped_regions_path())


def test_shipped_file_is_small_and_complete(shipped):
    assert shipped_regions_path().stat().st_size < 10 * 1024 * 1024
    assert list(shipped.columns[:4]) == ["region_id", "name", "level", "parent_id"]
    assert shipped.geometry.name == "geometry"
    assert shipped.crs.to_epsg() == 4326
    assert shipped["region_id"].is_unique
    counts = shipped["level"].value_counts().to_dict()
    assert counts["global"] == 1 and counts["region"] == 6
    # Every Natural Earth admin-0 feature is a country row.
    with zipfile.ZipFile(natural_earth_source()) as zf:
        shp = next(n for n in zf.namelist() if n.endswith(".shp"))
    ne = gpd.read_file(f"zip://{natural_earth_source()}!{shp}")
    assert counts["country"] == len(ne) == 250
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


@pytest.mark.slow
def test_recipe_reproduces_the_shipped_file(shipped):
    rebuilt = build_regions()
    cols = ["region_id", "name", "level", "parent_id"]
    assert rebuilt[cols].astype(str).equals(shipped[cols].astype(str))


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
