"""The Strategic Plan's objectives and KPIs as data, and the KPIs computed from a real store.

Computed KPIs are compared with the same numbers counted by hand (pandas) from the region tables
of the shared demo store (``api_store``, built through the real pipeline)."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from pipeline.errors import PipelineError
from pipeline.kpis.catalog import (
    CODES,
    KpiCatalogError,
    load_catalog,
    parse_catalog,
    read_catalog,
    schema,
    write_schema,
)
from pipeline.kpis.computed import TableView, compute_all, read_tables
from pipeline.kpis.report import decimal_year, report
from pipeline.store import BRANCH, TABLES, open_group, open_repo

OBJECTIVES = Path("catalogs/kpis/objectives.yaml")
REFERENCE = Path("/work/shared/reference/4p1000")


def _raw() -> dict:
    return yaml.load(OBJECTIVES.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---- the catalog ------------------------------------------------------------------------------


def test_the_24_objectives_in_order_each_with_a_kpi():
    cat = load_catalog()
    codes = [o.code for o in cat.objectives]
    assert codes == [
        f"{g}{n}" for g, count in zip("ABCDEF", (6, 4, 4, 4, 3, 3), strict=True) for n in range(1, count + 1)
    ]
    assert all(o.kpis for o in cat.objectives)
    assert all(o.facility in ("CF", "GF") for o in cat.objectives)
    ids = cat.kpi_ids
    assert len(ids) == len(set(ids))


def test_a1_baseline_names_28_of_196():
    cat = load_catalog()
    a1 = cat.objectives[0]
    assert "out of 196 countries' NDCs, only 28 specified SOC" in a1.baseline_2020
    kpi = a1.kpis[0]
    assert kpi.baseline is not None and kpi.baseline.value == 28 and kpi.baseline.out_of == 196
    share = a1.kpis[1]
    assert share.baseline is not None and share.baseline.value == pytest.approx(28 / 196, abs=1e-6)


def test_facilities_as_the_sources_give_them():
    by_code = {o.code: o.facility for o in load_catalog().objectives}
    # the plan's tables: "(CF)" / "(GF)" after each code of goals A, E, F
    assert by_code["A1"] == "CF" and by_code["A2"] == "GF" and by_code["A5"] == "GF" and by_code["A6"] == "CF"
    assert by_code["E1"] == by_code["E2"] == by_code["E3"] == "GF"
    assert by_code["F1"] == by_code["F2"] == by_code["F3"] == "CF"


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the shared reference texts are not on this machine")
def test_baselines_and_targets_are_quoted_as_written():
    texts = {
        "plan": _flat((REFERENCE / "strategic_plan_2022.txt").read_text(encoding="utf-8")),
        "task forces": _flat((REFERENCE / "task_forces_objectives.txt").read_text(encoding="utf-8")),
    }
    missing = []
    for o in load_catalog().objectives:
        text = texts[o.source.document]
        for field in ("description", "baseline_2020", "target_2030", "target_2050"):
            if _flat(getattr(o, field)) not in text:
                missing.append(f"{o.code}.{field}")
        for k in o.kpis:
            if k.baseline is not None and _flat(k.baseline.quote) not in text:
                missing.append(f"{k.id}.baseline.quote")
    assert missing == []


def test_committed_schema_matches_the_models_and_validates_the_file():
    committed = json.loads(Path("catalogs/schemas/kpis.schema.json").read_text(encoding="utf-8"))
    assert committed == schema(), "run `socobs kpi schema --out catalogs/schemas` to refresh it"
    jsonschema.Draft202012Validator.check_schema(committed)
    jsonschema.validate(_raw(), committed)  # an independent validator of the same file
    bad = _raw()
    bad["objectives"][0]["facility"] = "XF"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, committed)


def _broken(edit) -> str:
    data = _raw()
    edit(data)
    with pytest.raises(KpiCatalogError) as info:
        parse_catalog(data, "objectives.yaml")
    return str(info.value)


def test_bad_catalogs_are_refused_with_the_entry_named():
    msg = _broken(lambda d: d["objectives"].pop(3))
    assert "expected the 24 codes" in msg and "A4" in msg
    msg = _broken(lambda d: d["objectives"][1]["kpis"].append(copy.deepcopy(d["objectives"][1]["kpis"][0])))
    assert "a2_projects_supported: the id is used twice" in msg

    def computed_without_computation(d):
        d["objectives"][18]["kpis"][0].pop("computation")

    assert "E1.e1_mrv_operators: a computed KPI names its computation" in _broken(
        computed_without_computation
    )

    def unknown_computation(d):
        d["objectives"][18]["kpis"][0]["computation"] = "guess"

    assert "'guess' is not one of" in _broken(unknown_computation)

    def reversed_range(d):
        d["objectives"][1]["kpis"][0]["baseline"].update(low=10, high=5)

    assert "low 10 is above high 5" in _broken(reversed_range)

    def bad_date(d):
        d["objectives"][0]["kpis"][0]["observations"][0]["date"] = "last year"

    msg = _broken(bad_date)
    assert "observations.0.date" in msg and "'last year'" in msg
    msg = _broken(lambda d: d["objectives"][4]["kpis"][0].update(unit=None))
    assert "objectives.4.kpis.0.unit" in msg and "Fix them" in msg


def test_unreadable_catalog_files(tmp_path: Path):
    with pytest.raises(KpiCatalogError, match="no objectives file there"):
        read_catalog(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"objectives: [\n  - code: A1\n   oops")
    with pytest.raises(KpiCatalogError, match="expected the objectives file as UTF-8 YAML"):
        read_catalog(bad)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(KpiCatalogError, match="UTF-8 YAML"):
        read_catalog(bad)
    written = write_schema(tmp_path / "schemas")
    assert written.read_text(encoding="utf-8") == Path("catalogs/schemas/kpis.schema.json").read_text(
        encoding="utf-8"
    )
    with pytest.raises(KpiCatalogError, match="expected a directory this user can write"):
        write_schema(bad / "under-a-file")


# ---- computed KPIs on the demo store ----------------------------------------------------------


@pytest.fixture(scope="module")
def frame(api_store) -> tuple[str, pd.DataFrame]:
    """The snapshot id and the region tables as a long pandas frame (region, epoch, stratum)."""
    session = open_repo(api_store.store).readonly_session(branch=BRANCH)
    ds = open_group(session, TABLES)
    assert ds is not None
    cols = ["valid_area_km2", "progress_4p1000", "trend_sig_increase_share", "soc_change_rate_permille"]
    df = ds[cols].to_dataframe().reset_index()
    return str(session.snapshot_id), df


def test_computed_kpis_match_counts_by_hand(api_store, frame):
    sid, df = frame
    view = read_tables(api_store.store)
    assert view.snapshot_id == sid
    got = compute_all(view)
    country = df[(df["level"] == "country") & (df["stratum"] == "all")]
    with_data = country[country["valid_area_km2"] > 0].groupby("epoch").size()
    assert {v.epoch: v.value for v in got["countries_with_soc_data"]} == {
        e: float(with_data.get(e, 0)) for e in view.epochs
    }
    assert all((v.value or 0) > 0 for v in got["countries_with_soc_data"])  # the demo covers land
    rated = country.dropna(subset=["progress_4p1000"])
    on_path = rated[rated["progress_4p1000"] >= 1].groupby("epoch").size()
    expected = {e: (float(on_path.get(e, 0)) if e in set(rated["epoch"]) else None) for e in view.epochs}
    assert {v.epoch: v.value for v in got["countries_on_4p1000_path"]} == expected
    assert expected[view.epochs[0]] is None  # no rate at the baseline epoch
    glob = df[df["region"] == "global"].set_index(["epoch", "stratum"])
    for name, col, stratum in (
        ("cropland_significant_increase", "trend_sig_increase_share", "cropland"),
        ("global_soc_change_rate", "soc_change_rate_permille", "all"),
    ):
        for v in got[name]:
            hand = glob.loc[(v.epoch, stratum), col]
            assert (v.value is None and np.isnan(hand)) or v.value == pytest.approx(hand)
    assert any(v.value is not None for v in got["global_soc_change_rate"])
    assert all(v.snapshot_id == sid for vs in got.values() for v in vs)


def test_mrv_counts_from_the_catalog(api_store):
    systems = yaml.safe_load(Path("catalogs/mrv_systems.yaml").read_text(encoding="utf-8"))["systems"]
    got = compute_all(read_tables(api_store.store))
    assert got["mrv_systems"][0].value == len(systems)
    assert got["mrv_operators"][0].value == len({s["operator"] for s in systems})
    one = [{"id": "x", "operator": "Op"}, {"id": "y", "operator": "Op"}]
    view = read_tables(api_store.store)
    assert compute_all(view, one)["mrv_operators"][0].value == 1.0
    assert compute_all(view, one)["mrv_systems"][0].value == 2.0


def test_a_store_without_tables_is_refused(tmp_path: Path):
    open_repo(str(tmp_path / "repo"), create=True)
    with pytest.raises(PipelineError, match="no region tables") as info:
        read_tables(str(tmp_path / "repo"))
    assert "socobs indicators" in str(info.value)
    with pytest.raises(PipelineError, match="has no snapshot"):
        read_tables(str(tmp_path / "repo"), snapshot_id="0" * 20)


# ---- the report on a hand-made snapshot ------------------------------------------------------


def _view() -> TableView:
    """global, one region, three countries; epochs 2010, 2015, 2020; strata all, cropland, ..."""
    levels = ["global", "region", "country", "country", "country"]
    shape = (5, 3, 4)
    area = np.zeros(shape)
    area[2, :, 0] = 10.0
    area[3, 1:, 0] = 5.0  # data from 2015 on
    prog = np.full(shape, np.nan)
    prog[2, 1:, 0] = [1.5, 0.5]
    prog[3, 1:, 0] = [1.0, 2.0]
    sig = np.full(shape, np.nan)
    sig[0, 2, 1] = 0.25
    rate = np.full(shape, np.nan)
    rate[0, 1:, 0] = [1.0, 3.0]
    return TableView(
        snapshot_id="SNAP",
        written_at=datetime(2021, 6, 1, tzinfo=UTC),
        epochs=[2010, 2015, 2020],
        region_ids=["global", "r", "AAA", "BBB", "CCC"],
        levels=levels,
        tables={
            "valid_area_km2": area,
            "progress_4p1000": prog,
            "trend_sig_increase_share": sig,
            "soc_change_rate_permille": rate,
        },
    )


def _kpi(body: dict, kpi_id: str) -> dict:
    return next(k for o in body["objectives"] for k in o["kpis"] if k["id"] == kpi_id)


def test_report_series_latest_progress_and_trend():
    systems = [{"operator": f"op{i}"} for i in range(11)] + [{"operator": "op0"}]
    body = report(_view(), systems=systems)
    assert body["n_objectives"] == 24 and body["snapshot_id"] == "SNAP"
    data = _kpi(body, "e2_countries_with_soc_data")
    assert [(p["date"], p["value"]) for p in data["series"]] == [("2010", 1.0), ("2015", 2.0), ("2020", 2.0)]
    path = _kpi(body, "e2_countries_on_4p1000_path")
    assert [(p["epoch"], p["value"]) for p in path["series"]] == [(2015, 2.0), (2020, 1.0)]
    assert _kpi(body, "e2_cropland_significant_increase")["latest"]["value"] == 0.25
    rate = _kpi(body, "e2_global_soc_change_rate")
    assert (
        rate["trend"]["slope_per_year"] == pytest.approx((3.0 - 1.0) / 5)
        and rate["trend"]["direction"] == "increasing"
    )
    # E1: the recorded baseline (5 operators, 2020) and the count of the catalog at the snapshot
    ops = _kpi(body, "e1_mrv_operators")
    assert [p["value"] for p in ops["series"]] == [5.0, 11.0]
    assert ops["latest"]["snapshot_id"] == "SNAP" and ops["latest"]["date"] == "2021-06-01"
    assert ops["progress_2030"] == pytest.approx((11 - 5) / (20 - 5))
    x = [decimal_year(p["date"]) for p in ops["series"]]
    assert ops["trend"]["slope_per_year"] == pytest.approx(stats.linregress(x, [5.0, 11.0]).slope)
    # without a numeric baseline: latest / target; recorded KPIs without observations: nothing
    share = _kpi(body, "a1_ndcs_with_soc_share")
    assert share["progress_2050"] == 0.0  # the latest value is the baseline itself
    empty = _kpi(body, "a3_thematic_events")
    assert empty["latest"] is None and empty["progress_2030"] is None and empty["trend"] is None
    # F3: objectives with a KPI value: those with an observation in the file or a computed KPI
    hand = {
        o["code"]
        for o in _raw()["objectives"]
        for k in o["kpis"]
        if k["observations"]
        or not (
            k.get("computation") in (None, "objectives_with_kpi_value")
            or k["computation"].startswith("registry_")  # no value without a registry
        )
    }
    assert hand == {"A1", "B3", "C3", "E1", "E2", "F2"}
    assert _kpi(body, "f3_objectives_with_kpi_value")["latest"]["value"] == len(hand)


def test_decimal_years_put_a_year_at_its_middle():
    assert decimal_year("2019") == 2019.5
    assert decimal_year("2019-01") == pytest.approx(2019 + 0.5 / 12)
    assert decimal_year("2019-01-01") == 2019.0
    assert CODES[0] == "A1" and CODES[-1] == "F3" and len(CODES) == 24


# ---- socobs kpi ------------------------------------------------------------------------------


def _socobs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_cli_lists_the_kpis_of_a_store(api_store, frame, tmp_path: Path):
    sid, df = frame
    done = _socobs(
        "kpi", "list", "--store", api_store.store, "--objective", "e2", "--format", "json", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["snapshot_id"] == sid and [o["code"] for o in body["objectives"]] == ["E2"]
    latest = max(body["epochs"])
    countries = df[(df["level"] == "country") & (df["stratum"] == "all") & (df["epoch"] == latest)]
    data = body["objectives"][0]["kpis"][0]
    assert data["id"] == "e2_countries_with_soc_data"
    assert data["latest"]["value"] == float((countries["valid_area_km2"] > 0).sum())


def test_cli_refusals_are_one_paragraph(tmp_path: Path):
    done = _socobs("kpi", "list", "--store", str(tmp_path / "absent"), "--objective", "Z9", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--objective: expected an objective code" in done.stderr and "'Z9'" in done.stderr
    assert not (tmp_path / "absent").exists()  # reading never creates a store
