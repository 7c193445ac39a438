"""CF and rioxarray conventions on every spatial group the pipeline writes (``pipeline.cf``):
the CRS that rioxarray finds, x/y and time attributes, class-map flags and fill values, and
units that pint parses, checked on a store built by the real jobs (ingest, indicators with an
overview level, RothC)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pint
import pytest
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
import zarr
from pyproj import CRS

from pipeline import cf
from pipeline.config import GridSpec
from pipeline.indicators.job import run_indicators
from pipeline.indicators.registry import CLASS_NODATA, CLASSES, INDICATORS, TABLE_UNITS
from pipeline.ingest.stac_server import StacServer
from pipeline.ingest.units import CANONICAL
from pipeline.rothc.job import run_rothc_job
from pipeline.store import open_cube, open_repo, tip
from tests.support.demo import demo_job, shared_ingest
from tests.support.once import private_copy

GROUPS = ("cube", "indicators", "overviews/2", "tables", "rothc")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, stac_api: StacServer) -> str:
    """Every group: 1-degree demo grid (360 x 144 cells: one overview level), RothC on top."""
    root = tmp_path_factory.mktemp("cf")
    ingested = shared_ingest(tmp_path_factory, stac_api.url, 1.0)  # the session's; jobs run on a copy
    job = demo_job(private_copy(ingested, root / "repo"), grid=GridSpec(resolution=1.0))
    res = run_indicators(job.store, registry=root / "registry", cache_dir=root / "cache")
    assert res.overview_factors == [2]
    run_rothc_job(job, years=3)
    return job.store


def _raw(store: str, group: str) -> xr.Dataset:
    """A group as stored (no masking: class codes and their _FillValue attribute)."""
    session = open_repo(store).readonly_session(snapshot_id=tip(store))
    return xr.open_zarr(session.store, group=group, consolidated=False, mask_and_scale=False)


def _registry() -> pint.UnitRegistry:
    """pint's default registry plus the CF coordinate units, as cf-xarray defines them."""
    ureg = pint.UnitRegistry()
    ureg.define("degrees_east = degree = degree_E")
    ureg.define("degrees_north = degree = degree_N")
    return ureg


# ---- the module's own pieces --------------------------------------------------------------


def test_every_project_unit_gets_a_spelling_pint_parses_with_the_right_dimensions() -> None:
    ureg = pint.UnitRegistry()
    project = {*CANONICAL.values(), *TABLE_UNITS.values(), *(i.unit for i in INDICATORS), "t C/ha/yr"}
    for unit in project:
        ureg.parse_units(cf.udunits(unit))  # raises on a unit it cannot parse
    # "t C/ha" parses, but as tonne x coulomb per hectare: why the units are respelled
    assert ureg.parse_units("t C/ha").dimensionality != ureg.parse_units("kg/m^2").dimensionality
    assert ureg.parse_units(cf.udunits("t C/ha")).dimensionality == ureg.parse_units("kg/m^2").dimensionality
    rate = ureg.Quantity(1, cf.udunits("t C/ha/yr")).to("kg/m^2/s")
    assert rate.magnitude == pytest.approx(0.1 / (365.25 * 86400), rel=1e-3)
    assert ureg.Quantity(1, cf.udunits("g/cm3")).to("kg/m^3").magnitude == pytest.approx(1000.0)
    assert ureg.Quantity(1, cf.udunits("km2")).to("m^2").magnitude == pytest.approx(1e6)


def test_unit_attrs_keep_the_label_and_are_idempotent() -> None:
    a = cf.variable_attrs("soc_stock", {"units": "t C/ha"})
    assert a["units"] == "t/ha" and a["units_label"] == "t C/ha" and cf.label(a) == "t C/ha"
    assert cf.variable_attrs("soc_stock", a) == a  # a second pass changes nothing
    assert cf.variable_attrs("soc", {"units": "g/kg"}) == {
        "units": "g/kg",
        "long_name": cf.LONG_NAMES["soc"],
    }


def test_grid_mapping_round_trips_the_crs_and_projected_grids_get_projection_coordinates() -> None:
    gm = cf.grid_mapping("EPSG:4326")
    assert gm.attrs["grid_mapping_name"] == "latitude_longitude"
    assert CRS.from_cf(gm.attrs).to_epsg() == 4326
    assert CRS.from_wkt(gm.attrs["spatial_ref"]).to_epsg() == 4326
    x, y = cf.xy_attrs("EPSG:6933")
    assert (x["standard_name"], y["standard_name"]) == ("projection_x_coordinate", "projection_y_coordinate")
    assert x["units"] == y["units"] == "m"
    gm = cf.grid_mapping("EPSG:6933")
    assert gm.attrs["grid_mapping_name"] == "lambert_cylindrical_equal_area"
    assert CRS.from_cf(gm.attrs) == CRS.from_epsg(6933)


# ---- the groups the jobs wrote ------------------------------------------------------------


def test_open_cube_variables_have_the_crs(store: str) -> None:
    assert open_cube(store).soc.rio.crs.to_epsg() == 4326
    assert open_cube(store, group="indicators").soc_stock.rio.crs.to_epsg() == 4326
    assert open_cube(store, group="overviews/2").soc_stock.rio.crs.to_epsg() == 4326
    assert open_cube(store, group="rothc").seq_potential.rio.crs.to_epsg() == 4326
    assert open_cube(store, group="indicators").climate_zone.rio.crs.to_epsg() == 4326


@pytest.mark.parametrize("group", ["cube", "indicators", "overviews/2", "rothc"])
def test_spatial_groups_follow_cf(store: str, group: str) -> None:
    ds = _raw(store, group)
    gm = ds["spatial_ref"]
    assert gm.ndim == 0
    assert gm.attrs["grid_mapping_name"] == "latitude_longitude"
    assert CRS.from_wkt(gm.attrs["crs_wkt"]).to_epsg() == 4326
    assert CRS.from_wkt(gm.attrs["spatial_ref"]).to_epsg() == 4326
    spatial = [n for n, v in ds.data_vars.items() if {"y", "x"} <= set(v.dims)]
    assert spatial and all(ds[n].attrs.get("grid_mapping") == "spatial_ref" for n in spatial)
    assert ds["x"].attrs == {
        "standard_name": "longitude",
        "long_name": "longitude of the cell centre",
        "units": "degrees_east",
        "axis": "X",
    }
    assert ds["y"].attrs["standard_name"] == "latitude" and ds["y"].attrs["units"] == "degrees_north"
    assert ds["y"].attrs["axis"] == "Y" and ds["y"].attrs["long_name"]
    for name in spatial:  # every variable says what it is
        assert ds[name].attrs.get("long_name") or ds[name].attrs.get("standard_name"), name


def test_every_units_attribute_in_every_group_parses_with_pint(store: str) -> None:
    ureg = _registry()
    seen: dict[str, str] = {}
    session = open_repo(store).readonly_session(snapshot_id=tip(store))
    for group in GROUPS:
        for name, arr in zarr.open_group(session.store, path=group, mode="r").arrays():
            unit = arr.attrs.get("units")
            if unit is None or "since" in str(unit):  # encoded datetimes (xarray's own)
                continue
            try:
                ureg.parse_units(str(unit))
            except Exception as exc:  # report which attribute failed
                pytest.fail(f"{group}/{name}: units {unit!r} do not parse with pint ({exc})")
            seen[f"{group}/{name}"] = str(unit)
    # the walk covered every group, spatial and tabular, and the respelled units
    assert {k.split("/")[0] for k in seen} == {"cube", "indicators", "overviews", "tables", "rothc"}
    assert seen["indicators/soc_stock"] == "t/ha" and seen["tables/soc_stock_total"] == "Tg"
    assert seen["rothc/seq_potential"] == "t/ha/year" and seen["cube/bdod"] == "g/cm^3"


def test_units_label_keeps_the_project_strings(store: str) -> None:
    maps, tables, cube = _raw(store, "indicators"), _raw(store, "tables"), _raw(store, "cube")
    assert maps["soc_stock"].attrs["units_label"] == "t C/ha"
    assert maps["soc_change_rate_permille"].attrs["units_label"] == "permille/yr"
    assert tables["area_km2"].attrs["units_label"] == "km2"
    assert cf.label(cube["bdod"].attrs) == CANONICAL["bdod"]
    for name in CANONICAL:
        if name in cube:
            assert cf.label(cube[name].attrs) == CANONICAL[name], name


def test_class_maps_have_flags_and_fill_values(store: str) -> None:
    maps, cube = _raw(store, "indicators"), _raw(store, "cube")
    for name in ("sh_class", "climate_zone"):
        a = maps[name]
        codes = [c for c, _ in CLASSES[name]]
        assert list(a.attrs["flag_values"]) == codes
        assert a.attrs["flag_meanings"].split() == [n for _, n in CLASSES[name]]
        assert a.attrs["_FillValue"] == CLASS_NODATA and a.dtype == np.uint8
        values = set(np.unique(a.values).tolist())
        assert values <= {*codes, CLASS_NODATA} and values & set(codes)
    lc = cube["landcover"]
    assert lc.attrs["_FillValue"] == cf.WORLDCOVER_NODATA
    # every WorldCover-range code in the cube has a flag (the demo's sea cells hold 1, below 10)
    land = {v for v in np.unique(lc.values).tolist() if v >= 10}
    assert land and land <= set(lc.attrs["flag_values"])
    assert len(lc.attrs["flag_meanings"].split()) == len(lc.attrs["flag_values"])
    # decoded (xarray's default), the fill value is masked: what CF readers expect
    masked = open_cube(store, group="indicators")["sh_class"].isel(epoch=0).values
    assert np.array_equal(np.isnan(masked), maps["sh_class"].isel(epoch=0).values == CLASS_NODATA)


def test_standard_names_and_time_coordinates(store: str) -> None:
    cube, maps = _raw(store, "cube"), _raw(store, "indicators")
    assert maps["soc_stock"].attrs["standard_name"] == "soil_mass_content_of_carbon"
    assert cube["tas"].attrs["standard_name"] == "air_temperature"
    assert cube["pr"].attrs["standard_name"] == "lwe_precipitation_rate"
    assert "standard_name" not in cube["soc"].attrs  # CF has none: a long_name only
    assert (
        "climatology_period" in cube["month"].attrs
        and "mean within years" in cube["tas"].attrs["cell_methods"]
    )
    assert cube["time"].attrs["standard_name"] == "time" and cube["time"].attrs["axis"] == "T"
    assert cube["depth_top"].attrs["units"] == "cm"
    for ds in (cube, maps):
        assert ds["epoch"].attrs["long_name"].startswith("epoch")
    # the CF dates beside the integer coordinates (tests/pipeline/test_cf_time.py: every write path)
    for group in ("cube", "indicators", "overviews/2", "tables"):
        ds = open_cube(store, group=group)
        assert ds[cf.EPOCH_TIME].dt.year.values.tolist() == ds["epoch"].values.tolist(), group
        assert ds[cf.EPOCH_TIME].attrs["bounds"] == cf.EPOCH_BNDS and cf.EPOCH_BNDS in ds.variables
    assert cube["time"].attrs["bounds"] == cf.TIME_BNDS
    assert cube[cf.MONTH_TIME].attrs["climatology"] == cf.CLIMATOLOGY_BNDS


def test_every_variable_of_every_group_has_a_standard_or_long_name(store: str) -> None:
    for group in GROUPS:
        ds = _raw(store, group)
        for name, v in ds.data_vars.items():
            assert v.attrs.get("standard_name") or v.attrs.get("long_name"), f"{group}/{name}"
    assert (
        cf.variable_attrs("soc_stock_src", {"units": "t C/ha"})["standard_name"]
        == cf.STANDARD_NAMES["soc_stock"]
    )


def test_map_written_with_rio_to_raster_has_the_crs(store: str, tmp_path: Path) -> None:
    ind = open_cube(store, group="indicators")
    out = tmp_path / "stock.tif"
    ind.soc_stock.isel(epoch=-1).rio.to_raster(out)
    with rasterio.open(out) as src:
        assert src.crs is not None and src.crs.to_epsg() == 4326
        got: Any = src.read(1)
        bounds = src.bounds
    want = ind.soc_stock.isel(epoch=-1).values
    np.testing.assert_array_equal(got, want)
    x = ind["x"].values
    assert bounds.left == pytest.approx(x[0] - (x[1] - x[0]) / 2)
