"""CF time coordinates on every group (``pipeline.cf``): the epochs', the monthly series', the
climatology's and the SDG periods' dates and bounds, checked on a store that went through every
write path: ingest (2015-2016), the indicator job (full), the monthly job (full), then 2017
published: ``socobs update`` (epochs and months appended), the indicator job (incremental: the
maps, overviews and tables grow) and the monthly job (incremental). Also: the integer ``epoch``
and ``month`` stay what readers select by, the API's reader and the CSV export answer as before,
rioxarray finds the CRS, every unit parses (pint or a CF time unit), every variable is named."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pint
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
import zarr

from pipeline import cf
from pipeline.config import GridSpec, PeriodSpec
from pipeline.demo.catalog import DemoSpec, make_demo_catalog
from pipeline.indicators.export import export_tables
from pipeline.indicators.job import run_indicators
from pipeline.indicators.registry import TABLE_UNITS
from pipeline.ingest.job import run_ingest, run_update
from pipeline.ingest.stac_server import serve_catalog
from pipeline.monthly.job import run_monthly
from pipeline.store import open_repo, tip
from tests.support.demo import demo_job, subset_catalog

pytestmark = pytest.mark.integration

EPOCH_GROUPS = ("cube", "indicators", "overviews/2", "tables")
ALL_GROUPS = (*EPOCH_GROUPS, "rothc", "sdg", "monthly")
YEARS = [2015, 2016, 2017]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """1-degree demo (one overview level); 2017 arrives after the first runs."""
    from pipeline.rothc.job import run_rothc_job

    root = tmp_path_factory.mktemp("cftime")
    full_cat = root / "catalog"
    make_demo_catalog(full_cat, DemoSpec(resolution=1.0, start_year=2015, end_year=2017, seed=5))
    partial = root / "partial"
    subset_catalog(full_cat, partial, 2017)
    job = demo_job(root / "repo", grid=GridSpec(resolution=1.0), period=PeriodSpec(start=2015, end=2017))
    kw: dict[str, Any] = {"registry": root / "registry", "cache_dir": root / "cache"}
    with serve_catalog(partial) as srv:
        run_ingest(job, stac_url=srv.url)
    first = run_indicators(job.store, chunks=(64, 128), **kw)
    m_first = run_monthly(job.store, **kw)
    with serve_catalog(full_cat) as srv:
        run_update(job, stac_url=srv.url)
    inc = run_indicators(job.store, chunks=(64, 128), **kw)
    m_inc = run_monthly(job.store, **kw)
    run_rothc_job(job, years=3)
    return {
        "store": job.store,
        "root": root,
        "job": job,
        "modes": (first.mode, inc.mode, m_first.mode, m_inc.mode),
        "factors": inc.overview_factors,
    }


def _group(store: str, group: str, **kw: Any) -> xr.Dataset:
    session = open_repo(store).readonly_session(snapshot_id=tip(store))
    return xr.open_zarr(session.store, group=group, consolidated=False, **kw).load()


def _day(d: date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "ns")


def _next_month(y: int, m: int) -> date:
    return date(y + m // 12, m % 12 + 1, 1)


# ---- the helpers alone ---------------------------------------------------------------------


def test_encoded_values_are_days_since_1970_of_the_documented_dates() -> None:
    t = cf.epoch_times([1970, 2000, 2024])
    want_mid = [(date(y, 7, 1) - date(1970, 1, 1)).days for y in (1970, 2000, 2024)]
    assert t[cf.EPOCH_TIME].tolist() == want_mid
    assert t[cf.EPOCH_BNDS].tolist() == [
        [(date(y, 1, 1) - date(1970, 1, 1)).days, (date(y + 1, 1, 1) - date(1970, 1, 1)).days]
        for y in (1970, 2000, 2024)
    ]
    c = cf.climatology_times(range(1, 13), (2001, 2010))
    dec = c[cf.CLIMATOLOGY_BNDS][11].tolist()  # December: to 1 January after the last year
    assert dec == [(date(2001, 12, 1) - date(1970, 1, 1)).days, (date(2011, 1, 1) - date(1970, 1, 1)).days]
    feb = c[cf.MONTH_TIME][1]
    assert feb == (date(2001, 2, 16) - date(1970, 1, 1)).days
    b = cf.month_bounds(np.array(["2024-02-01", "2023-12-01"], dtype="datetime64[ns]"))
    assert (b[:, 1] - b[:, 0]).tolist() == [29, 31]  # a leap February; December into January


def test_soc_stock_src_and_every_table_column_have_a_name_and_a_unit_pint_parses() -> None:
    ureg = pint.UnitRegistry()
    a = cf.variable_attrs("soc_stock_src", {"units": "t C/ha"})
    assert a["standard_name"] == "soil_mass_content_of_carbon" and a["long_name"]
    assert ureg.parse_units(a["units"]).dimensionality == ureg.parse_units("kg/m^2").dimensionality
    for name, unit in TABLE_UNITS.items():
        attrs = cf.variable_attrs(name, {"units": unit})
        assert attrs.get("standard_name") or attrs.get("long_name"), name
        ureg.parse_units(attrs["units"])


# ---- the groups the jobs wrote ---------------------------------------------------------------


def test_the_history_went_through_every_append_path(history: dict[str, Any]) -> None:
    assert history["modes"] == ("full", "incremental", "full", "incremental")
    assert history["factors"] == [2]


@pytest.mark.parametrize("group", EPOCH_GROUPS)
def test_epoch_time_decodes_to_the_epochs_years_with_the_years_as_bounds(
    history: dict[str, Any], group: str
) -> None:
    ds = _group(history["store"], group)
    assert ds["epoch"].values.tolist() == YEARS  # the integer coordinate is still the index
    t = ds[cf.EPOCH_TIME]
    assert t.dims == ("epoch",) and np.issubdtype(t.dtype, np.datetime64)
    assert t.attrs["standard_name"] == "time" and t.attrs["axis"] == "T"
    assert t.attrs["bounds"] == cf.EPOCH_BNDS
    np.testing.assert_array_equal(t.values, [_day(date(y, 7, 1)) for y in YEARS])
    b = ds[cf.EPOCH_BNDS]
    assert b.dims == ("epoch", cf.NV) and np.issubdtype(b.dtype, np.datetime64)
    np.testing.assert_array_equal(b.values[:, 0], [_day(date(y, 1, 1)) for y in YEARS])
    np.testing.assert_array_equal(b.values[:, 1], [_day(date(y + 1, 1, 1)) for y in YEARS])
    assert ((b.values[:, 0] <= t.values) & (t.values < b.values[:, 1])).all()
    assert ds.sel(epoch=2017)[cf.EPOCH_TIME].dt.year.item() == 2017  # selected by the integer year


@pytest.mark.parametrize("group", ["cube", "monthly"])
def test_monthly_series_have_the_months_as_bounds(history: dict[str, Any], group: str) -> None:
    ds = _group(history["store"], group)
    t = ds["time"].values
    assert t.size == 36 and pd.DatetimeIndex(t).year.max() == 2017  # 2017's months appended
    assert ds["time"].attrs["bounds"] == cf.TIME_BNDS
    b = ds[cf.TIME_BNDS].values
    stamps = pd.DatetimeIndex(t)
    np.testing.assert_array_equal(b[:, 0], [_day(date(s.year, s.month, 1)) for s in stamps])
    np.testing.assert_array_equal(b[:, 1], [_day(_next_month(s.year, s.month)) for s in stamps])
    assert ((b[:, 0] <= t) & (t < b[:, 1])).all()
    lengths = (b[:, 1] - b[:, 0]).astype("timedelta64[D]").astype(int)
    assert lengths.tolist() == [calendar.monthrange(s.year, s.month)[1] for s in stamps]


@pytest.mark.parametrize("group", ["cube", "monthly"])
def test_climatology_bounds_span_the_years_averaged(history: dict[str, Any], group: str) -> None:
    ds = _group(history["store"], group)
    raw = _group(history["store"], group, decode_times=False)
    if group == "cube":
        first, last = history["job"].period.start, history["job"].period.end
    else:
        first, last = (int(y) for y in ds.attrs["baseline"])
    assert ds["month"].values.tolist() == list(range(1, 13))
    t = ds[cf.MONTH_TIME]
    assert t.attrs["climatology"] == cf.CLIMATOLOGY_BNDS and t.attrs["standard_name"] == "time"
    assert "bounds" not in t.attrs  # CF 7.4: a climatological time has climatology, not bounds
    assert raw[cf.MONTH_TIME].attrs["units"] == raw[cf.CLIMATOLOGY_BNDS].attrs["units"]
    np.testing.assert_array_equal(t.values, [_day(date(first, m, 16)) for m in range(1, 13)])
    b = ds[cf.CLIMATOLOGY_BNDS].values
    np.testing.assert_array_equal(b[:, 0], [_day(date(first, m, 1)) for m in range(1, 13)])
    np.testing.assert_array_equal(b[:, 1], [_day(_next_month(last, m)) for m in range(1, 13)])
    assert ((b[:, 0] <= t.values) & (t.values < b[:, 1])).all()
    if group == "cube":  # CF 7.4: the statistics over the climatological time
        for name in ("tas", "pr", "pet"):
            assert ds[name].attrs["cell_methods"] == "time: mean within years time: mean over years"


def test_sdg_periods_have_dates_spanning_their_years(history: dict[str, Any]) -> None:
    ds = _group(history["store"], "sdg")
    b = ds[cf.PERIOD_BNDS].values
    first, last = ds["first_year"].values, ds["last_year"].values
    np.testing.assert_array_equal(b[:, 0], [_day(date(int(y), 1, 1)) for y in first])
    np.testing.assert_array_equal(b[:, 1], [_day(date(int(y) + 1, 1, 1)) for y in last])
    t = ds[cf.PERIOD_TIME].values
    assert ((b[:, 0] <= t) & (t < b[:, 1])).all()
    assert ds[cf.PERIOD_TIME].attrs["bounds"] == cf.PERIOD_BNDS


def _time_coords(da: xr.DataArray) -> list[str]:
    """What cf_xarray's ``da.cf["T"]`` finds: coordinates with standard_name time or axis T."""
    return [
        str(n)
        for n, c in da.coords.items()
        if c.attrs.get("standard_name") == "time" or c.attrs.get("axis") == "T"
    ]


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_each_variable_with_a_time_dimension_has_one_time_coordinate_with_bounds(
    history: dict[str, Any], group: str
) -> None:
    ds = _group(history["store"], group)
    assert not set(cf.DERIVED) & set(ds.data_vars)  # they read back as coordinates
    timed = [n for n, v in ds.data_vars.items() if {"epoch", "time", "month", "period"} & set(v.dims)]
    if group == "rothc":
        assert not timed  # scenarios over one horizon: no time dimension
        return
    assert timed
    for name in timed:
        found = _time_coords(ds[name])
        assert len(found) == 1, (name, found)
        t = ds[found[0]]
        edges = t.attrs.get("bounds") or t.attrs.get("climatology")
        assert edges in ds.variables and ds[edges].dims == (t.dims[0], cf.NV), name
        assert np.issubdtype(ds[edges].dtype, np.datetime64)
    try:
        import cf_xarray  # noqa: F401  (registers the .cf accessor; not in every venv)
    except ImportError:
        return
    for name in timed:  # pragma: no cover - only where cf_xarray is installed
        assert ds[name].cf["T"].name == _time_coords(ds[name])[0]
        assert _time_coords(ds[name])[0] in ds.cf.bounds or ds[_time_coords(ds[name])[0]].attrs.get(
            "climatology"
        )


@pytest.mark.parametrize("group", ["cube", "indicators", "overviews/2", "sdg", "monthly"])
def test_rioxarray_still_finds_the_crs(history: dict[str, Any], group: str) -> None:
    ds = _group(history["store"], group)
    spatial = [n for n, v in ds.data_vars.items() if {"y", "x"} <= set(v.dims)]
    assert spatial
    for name in spatial:
        assert ds[name].rio.crs.to_epsg() == 4326, name


def test_every_unit_parses_and_every_variable_is_named(history: dict[str, Any]) -> None:
    ureg = pint.UnitRegistry()
    ureg.define("degrees_east = degree")
    ureg.define("degrees_north = degree")
    session = open_repo(history["store"]).readonly_session(snapshot_id=tip(history["store"]))
    times = 0
    for group in ALL_GROUPS:
        ds = xr.open_zarr(session.store, group=group, consolidated=False, decode_times=False)
        for name, arr in zarr.open_group(session.store, path=group, mode="r").arrays():
            unit = arr.attrs.get("units")
            if unit is not None and " since " in str(unit):  # a CF time unit: it must decode
                times += 1
                decoded = xr.decode_cf(xr.Dataset({"v": ds.variables[name]}))["v"]
                assert np.issubdtype(decoded.dtype, np.datetime64), (group, name)
            elif unit is not None:
                ureg.parse_units(str(unit))
        for name, v in ds.data_vars.items():
            assert v.attrs.get("standard_name") or v.attrs.get("long_name"), f"{group}/{name}"
    assert times >= 10  # the cube alone has 7 (epoch and month dates, their bounds, time's)


# ---- existing readers answer as before ---------------------------------------------------------


def test_the_api_reader_and_the_csv_export_are_unchanged(history: dict[str, Any], tmp_path: Path) -> None:
    from observatory_api.reader import load_snapshot
    from observatory_api.settings import Settings

    store, root = history["store"], history["root"]
    snap = load_snapshot(Settings(store=store, registry=root / "registry"))
    tables = _group(store, "tables")
    assert snap.epochs == YEARS
    for col in ("soc_stock", "soc_stock_total", "area_km2"):
        np.testing.assert_array_equal(snap.tables[col], tables[col].values)
    assert not {cf.EPOCH_TIME, cf.EPOCH_BNDS} & set(snap.tables)
    out = export_tables(store, tmp_path / "t.csv", "csv", registry=root / "registry")
    df = pd.read_csv(out)
    first = ["region_id", "name", "level", "parent_id", "epoch", "stratum"]
    want = first + [c for c in TABLE_UNITS if c in tables] + ["input_snapshot", "source_latest"]
    assert list(df.columns)[: len(want)] == want  # then the export's snapshot id
    assert not [c for c in df.columns if "time" in c or "bnds" in c]
    assert sorted(df["epoch"].unique().tolist()) == YEARS


def test_an_update_of_a_cube_written_before_the_dates_leaves_it_readable(tmp_path: Path) -> None:
    """A cube without the derived time coordinates (as written before them) takes an update:
    the new epoch and months are appended, no derived coordinate is half-written."""
    from pipeline.store import open_cube

    catalog, partial = tmp_path / "catalog", tmp_path / "partial"
    make_demo_catalog(catalog, DemoSpec(resolution=4.0, start_year=2015, end_year=2016, seed=3))
    subset_catalog(catalog, partial, 2016)
    job = demo_job(tmp_path / "repo", period=PeriodSpec(start=2015, end=2016))
    with serve_catalog(partial) as srv:
        run_ingest(job, stac_url=srv.url)
    repo = open_repo(job.store)
    session = repo.writable_session("main")
    g = zarr.open_group(session.store, path="cube", mode="r+")
    for name in cf.DERIVED:
        if name in g:
            del g[name]
    for _, arr in g.arrays():  # what xarray wrote about them
        attrs = dict(arr.attrs)
        attrs.pop("bounds", None)
        attrs.pop("climatology", None)
        if "coordinates" in attrs:
            attrs["coordinates"] = " ".join(
                c for c in str(attrs["coordinates"]).split() if c not in cf.DERIVED
            )
        arr.attrs.clear()
        arr.attrs.update(attrs)
    if "coordinates" in g.attrs:
        g.attrs["coordinates"] = " ".join(
            c for c in str(g.attrs["coordinates"]).split() if c not in cf.DERIVED
        )
    session.commit("as written before the CF dates")
    before = open_cube(job.store)
    assert not set(cf.DERIVED) & set(before.variables) and before["epoch"].values.tolist() == [2015]
    with serve_catalog(catalog) as srv:
        assert run_update(job, stac_url=srv.url).epochs == [2016]
    after = open_cube(job.store).load()
    assert after["epoch"].values.tolist() == [2015, 2016] and after["time"].size == 24
    assert after["soc"].sizes["epoch"] == 2
    assert not set(cf.DERIVED) & set(after.variables)
    assert "bounds" not in after["time"].attrs and "climatology" not in after["month"].attrs
