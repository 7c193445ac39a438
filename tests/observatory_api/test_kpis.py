"""GET /v1/kpis and /v1/kpis/{kpi_id}: the Strategic Plan's objectives and KPIs over the demo store.

Values are compared with counts by hand (pandas) from the store's region tables and with the
objectives file read as plain YAML; progress and trend are recomputed here from the answers'
own baselines, targets and series."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy import stats

from observatory_api.services import kpis as kpi_service
from pipeline.store import BRANCH, TABLES, open_group, open_repo

OBJECTIVES = yaml.safe_load(Path("catalogs/kpis/objectives.yaml").read_text(encoding="utf-8"))["objectives"]


def _decimal_year(date: str) -> float:
    parts = [int(p) for p in date.split("-")]
    if len(parts) == 1:
        return parts[0] + 0.5
    if len(parts) == 2:
        return parts[0] + (parts[1] - 0.5) / 12
    return parts[0] + (parts[1] - 1) / 12 + (parts[2] - 1) / 365.25


@pytest.fixture(scope="module")
def listing(client):
    r = client.get("/v1/kpis")
    assert r.status_code == 200, r.text
    return r


@pytest.fixture(scope="module")
def tables(api_store) -> tuple[str, pd.DataFrame]:
    session = open_repo(api_store.store).readonly_session(branch=BRANCH)
    ds = open_group(session, TABLES)
    assert ds is not None
    df = ds[["valid_area_km2", "progress_4p1000", "soc_change_rate_permille"]].to_dataframe().reset_index()
    return str(session.snapshot_id), df


def _kpis(body: dict) -> dict[str, dict]:
    return {k["id"]: k for o in body["objectives"] for k in o["kpis"]}


def test_every_objective_with_baselines_targets_and_kpis(listing):
    body = listing.json()
    assert listing.headers["x-snapshot-id"] == body["snapshot_id"]
    assert [o["code"] for o in body["objectives"]] == [o["code"] for o in OBJECTIVES]
    assert body["n_objectives"] == 24
    for got, want in zip(body["objectives"], OBJECTIVES, strict=True):
        for field in ("title", "facility", "baseline_2020", "target_2030", "target_2050"):
            assert got[field] == want[field], (want["code"], field)
        assert [k["id"] for k in got["kpis"]] == [k["id"] for k in want["kpis"]]
        assert all("latest" in k for k in got["kpis"])
    a1 = body["objectives"][0]
    assert "out of 196 countries' NDCs, only 28 specified" in a1["baseline_2020"]
    ndcs = a1["kpis"][0]
    assert ndcs["baseline"]["value"] == 28 and ndcs["baseline"]["out_of"] == 196
    assert ndcs["latest"]["value"] == 28 and ndcs["latest"]["date"] == "2019"
    assert "series" not in ndcs  # the series is at /v1/kpis/{kpi_id}


def test_computed_kpis_equal_counts_by_hand(listing, tables):
    sid, df = tables
    body = listing.json()
    assert body["snapshot_id"] == sid
    kpis = _kpis(body)
    latest = max(body["epochs"])
    now = df[(df["epoch"] == latest) & (df["stratum"] == "all")]
    countries = now[now["level"] == "country"]
    data = kpis["e2_countries_with_soc_data"]["latest"]
    assert data["value"] == float((countries["valid_area_km2"] > 0).sum())
    assert data["snapshot_id"] == sid and data["epoch"] == latest
    on_path = kpis["e2_countries_on_4p1000_path"]["latest"]["value"]
    assert on_path == float((countries["progress_4p1000"].dropna() >= 1).sum())
    rate = now[now["region"] == "global"]["soc_change_rate_permille"].item()
    assert kpis["e2_global_soc_change_rate"]["latest"]["value"] == pytest.approx(rate)
    systems = yaml.safe_load(Path("catalogs/mrv_systems.yaml").read_text(encoding="utf-8"))["systems"]
    assert kpis["e1_mrv_systems"]["latest"]["value"] == len(systems)
    assert kpis["e1_mrv_operators"]["latest"]["value"] == len({s["operator"] for s in systems})


def test_progress_and_trend_from_the_answers_own_numbers(listing, client):
    kpis = _kpis(listing.json())
    checked = 0
    for k in kpis.values():
        for year in (2030, 2050):
            target, got = k[f"target_{year}"], k[f"progress_{year}"]
            if target is None or k["latest"] is None:
                assert got is None
                continue
            base = (k["baseline"] or {}).get("value")
            value = k["latest"]["value"]
            want = value / target["value"] if base is None else (value - base) / (target["value"] - base)
            assert got == pytest.approx(want), (k["id"], year)
            checked += 1
    assert checked >= 2  # E1 operators (2030) and A1's share (2050) at least
    e1 = kpis["e1_mrv_operators"]
    assert e1["progress_2030"] == pytest.approx((e1["latest"]["value"] - 5) / (20 - 5))
    detail = client.get("/v1/kpis/e1_mrv_operators").json()
    pts = detail["series"]
    assert len(pts) >= 2 and pts[0]["value"] == 5 and pts[0]["recorded_by"] == "catalog"
    fit = stats.linregress([_decimal_year(p["date"]) for p in pts], [p["value"] for p in pts])
    assert detail["trend"]["slope_per_year"] == pytest.approx(fit.slope)
    assert detail["latest"] == pts[-1] and detail["objective"] == "E1"


def test_a_series_by_epoch_names_the_snapshot(client, tables):
    sid, df = tables
    r = client.get("/v1/kpis/e2_countries_with_soc_data")
    assert r.status_code == 200 and r.headers["x-snapshot-id"] == sid
    body = r.json()
    countries = df[(df["level"] == "country") & (df["stratum"] == "all")]
    by_hand = countries[countries["valid_area_km2"] > 0].groupby("epoch").size()
    assert [(p["epoch"], p["value"]) for p in body["series"]] == [
        (int(e), float(n)) for e, n in by_hand.items()
    ]
    assert all(p["snapshot_id"] == sid for p in body["series"])
    assert [p["date"] for p in body["series"]] == sorted(p["date"] for p in body["series"])


def test_csv_of_the_list_and_of_a_series(client, listing):
    body = listing.json()
    for r in (client.get("/v1/kpis?format=csv"), client.get("/v1/kpis", headers={"Accept": "text/csv"})):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.headers["x-snapshot-id"] == body["snapshot_id"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        kpis = _kpis(body)
        assert [row["kpi_id"] for row in rows] == list(kpis)
        for row in rows:
            k = kpis[row["kpi_id"]]
            assert row["snapshot_id"] == body["snapshot_id"]
            assert row["latest_value"] == ("" if k["latest"] is None else repr(k["latest"]["value"]))
            assert row["target_2030"] == ("" if k["target_2030"] is None else repr(k["target_2030"]["value"]))
    r = client.get("/v1/kpis/e2_global_soc_change_rate", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    series = client.get("/v1/kpis/e2_global_soc_change_rate").json()["series"]
    assert [float(row["value"]) for row in rows] == [p["value"] for p in series]
    assert {row["unit"] for row in rows} == {"permille/yr"}
    assert client.get("/v1/kpis?format=json", headers={"Accept": "text/csv"}).json() == body


def test_unknown_kpi_and_bad_format_are_problems(client):
    r = client.get("/v1/kpis/e2_global_soc")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert p["parameter"] == "kpi_id" and "e2_global_soc_change_rate" in p["allowed"]
    assert "GET /v1/kpis" in p["detail"]
    r = client.get("/v1/kpis", params={"format": "xml"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = client.get("/v1/kpis/" + "a" * 300)
    assert r.status_code == 422 and r.json()["status"] == 422
    r = client.get("/v1/kpis/%27%3B%20DROP%20TABLE%20kpis%3B--")
    assert r.status_code == 404 and "DROP TABLE" in r.json()["detail"]


def test_a_store_without_a_column_gives_no_value_not_an_error(client):
    snap = client.app.state.reader.current
    tables = {c: a for c, a in snap.tables.items() if c != "trend_sig_increase_share"}
    older = dataclasses.replace(snap, tables=tables, memo={})
    kpis = _kpis(kpi_service.listing(older))
    assert kpis["e2_cropland_significant_increase"]["latest"] is None
    assert kpis["e2_countries_with_soc_data"]["latest"] is not None
