"""The registry's endpoints on SQLite and on a real PostgreSQL server: reads public, writes with
a key (401 / 403 / revoked), 201 with the ex-ante assessment, 409 on a stale version, 422 naming
the field, SQL-looking text kept as text, the audit log, CSV export, recorded KPI observations."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from observatory_api import Settings, create_app
from pipeline.assess import assess
from pipeline.assess.location import site_at
from pipeline.registry import keys
from pipeline.registry.assessment import ex_ante
from pipeline.registry.importer import import_file
from tests.support.api_store import ApiStore
from tests.support.postgres import PostgresServer, pg_server  # noqa: F401  (fixture)

ADMIN = "k" * 20
SQLI = "x'); DROP TABLE projects; --"


class Registry:
    def __init__(self, client: TestClient, url: str) -> None:
        self.client = client
        self.url = url
        self.editor = keys.create_key(url, "editor")[0]
        self.viewer = keys.create_key(url, "viewer")[0]
        self.admin = keys.create_key(url, "admin")[0]

    def h(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def reg(
    request: pytest.FixtureRequest, api_store: ApiStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    with pytest.MonkeyPatch.context() as mp:
        if request.param == "postgresql":
            server: PostgresServer = request.getfixturevalue("pg_server")
            mp.setenv("SOCOBS_DATABASE_URL", server.create_database(f"api_{id(request)}"))
        else:
            mp.delenv("SOCOBS_DATABASE_URL", raising=False)
        settings = Settings(
            var=tmp_path_factory.mktemp("var"),
            store=api_store.store,
            registry=api_store.registry,
            poll_seconds=3600,
            admin_api_key=ADMIN,
            client_requests_per_minute=100_000,
        )
        with TestClient(create_app(settings)) as c:
            r = Registry(c, c.app.state.registry_url)  # type: ignore[attr-defined]
            assert r.url.startswith(request.param)
            made = c.post(
                "/v1/organisations",
                json={"name": "INRAE", "membership": "member", "type": "research", "country": "FRA"},
                headers=r.h(r.editor),
            )
            assert made.status_code == 201, made.text
            yield r


def square(lon: float, lat: float, d: float = 0.1) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
    }


def feature(**props: Any) -> dict[str, Any]:
    geometry = props.pop("geometry", square(2.0, 47.0))
    base = {
        "name": "Beauce",
        "organisation": "INRAE",
        "country": "FRA",
        "start_date": "2025-01-01",
        "end_date": "2045-01-01",
        "practices": ["no_tillage", "cover_crops"],
    }
    return {"type": "Feature", "geometry": geometry, "properties": {**base, **props}}


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["detail"] and body["request_id"]
    return body


def counts(reg: Registry) -> tuple[int, int]:
    n = len(reg.client.get("/v1/projects").json()["features"])
    return n, reg.client.get("/v1/audit", headers=reg.h(reg.admin)).json()["total"]


def test_writes_need_a_live_key_of_the_right_role(reg: Registry) -> None:
    doomed, info = keys.create_key(reg.url, "editor")
    keys.revoke_key(reg.url, info.id)
    before = counts(reg)
    c = reg.client
    body = problem(c.post("/v1/projects", json=feature()), 401)
    assert body["title"] == "Unauthorized" and "Bearer" in body["detail"]
    assert "Bearer" in c.post("/v1/projects", json=feature()).headers["www-authenticate"]
    problem(c.post("/v1/projects", json=feature(), headers=reg.h("socobs_00000000_nope")), 401)
    problem(c.post("/v1/projects", json=feature(), headers={"Authorization": f"Basic {reg.editor}"}), 401)
    body = problem(c.post("/v1/projects", json=feature(), headers=reg.h(reg.viewer)), 403)
    assert (
        body["title"] == "Forbidden" and "editor" in body["detail"] and body["allowed"] == ["editor", "admin"]
    )
    problem(
        c.post(
            "/v1/organisations", json={"name": "Y", "membership": "member", "type": "x", "country": "FRA"}
        ),
        401,
    )
    problem(
        c.post(
            "/v1/kpis/a2_projects_supported/observations", json={"value": 1, "date": "2024", "source": "x"}
        ),
        401,
    )
    problem(c.post("/v1/projects", json=feature(), headers={"X-API-Key": doomed}), 401)
    assert counts(reg) == before
    assert c.get("/v1/organisations").status_code == 200  # reads are public


def test_post_project_201_with_its_ex_ante_assessment(reg: Registry) -> None:
    c = reg.client
    r = c.post("/v1/projects", json=feature(), headers=reg.h(reg.editor))
    assert r.status_code == 201, r.text
    body = r.json()
    pid = body["id"]
    assert r.headers["location"] == f"/v1/projects/{pid}" and r.headers["etag"] == '"1"'
    a = body["assessment"]
    assert a["status"] == "done" and a["kind"] == "ex_ante" and "Tier 1" in a["method"]
    snap = c.get("/v1/status").json()["snapshot_id"]
    assert a["snapshot_id"] == snap
    # the same project assessed by hand with the E3 tool: its centroid, its practices' states
    lon, lat = body["properties"]["centroid"]
    site = site_at(c.app.state.settings.store, lat, lon)  # type: ignore[attr-defined]
    by_hand = assess(
        {
            "soil_type": "HAC",
            "location": {"lat": lat, "lon": lon},
            "reference": "measured" if site.soc_stock_t_c_ha is not None else "ipcc_default",
            "years": 20,
            "area_ha": body["properties"]["area_ha"],
            "baseline": {"land_use": "cropland_annual", "management": "full_tillage", "input": "medium"},
            "project": {
                "land_use": "cropland_annual",
                "management": "no_tillage",
                "input": "high_without_manure",
            },
        },
        site=site,
    )
    assert a["result"]["balance_t_co2e"] == pytest.approx(by_hand["balance_t_co2e"], rel=1e-9)
    assert a["result"]["verdict"]["level"] == by_hand["verdict"]["level"]
    assert a["summary"]["removals_t_co2e_per_yr"] == pytest.approx(-by_hand["balance_t_co2e"] / 20)
    assert by_hand["balance_t_co2e"] < 0  # no-till + cover crops: a removal
    stored = c.get(f"/v1/projects/{pid}/assessment").json()
    assert stored["ex_ante"]["result"]["balance_t_co2e"] == a["result"]["balance_t_co2e"]
    # ex-post is computed in the background (tests/observatory_api/test_registry_expost.py)
    assert stored["ex_post"] is None or stored["ex_post"]["snapshot_id"] == snap
    listed = c.get("/v1/projects").json()
    assert listed["type"] == "FeatureCollection" and pid in [f["id"] for f in listed["features"]]


def test_concurrent_edits_409_with_the_current_version(reg: Registry) -> None:
    c, h = reg.client, reg.h(reg.editor)
    pid = c.post("/v1/projects", json=feature(name="Edited"), headers=h).json()["id"]
    first = c.patch(
        f"/v1/projects/{pid}", json={"properties": {"status": "active"}}, headers={**h, "If-Match": '"1"'}
    )
    assert first.status_code == 200, first.text
    assert first.json()["properties"]["version"] == 2 and first.headers["etag"] == '"2"'
    assert first.json()["assessment"]["project_version"] == 2
    second = c.patch(
        f"/v1/projects/{pid}", json={"properties": {"status": "cancelled"}, "version": 1}, headers=h
    )
    body = problem(second, 409)
    assert body["title"] == "Conflict" and body["current_version"] == 2 and second.headers["etag"] == '"2"'
    assert body["current"]["properties"]["status"] == "active"
    now = c.get(f"/v1/projects/{pid}")
    assert now.json()["properties"]["status"] == "active" and now.headers["etag"] == '"2"'
    problem(c.patch(f"/v1/projects/{pid}", json={"properties": {"status": "active"}}, headers=h), 428)
    assert (
        problem(c.patch(f"/v1/projects/{pid}", json={}, headers={**h, "If-Match": "yesterday"}), 422)[
            "parameter"
        ]
        == "If-Match"
    )
    problem(c.delete(f"/v1/projects/{pid}", headers={**h, "If-Match": '"1"'}), 409)
    assert c.delete(f"/v1/projects/{pid}?version=2", headers=h).status_code == 204
    problem(c.get(f"/v1/projects/{pid}"), 404)
    problem(c.get(f"/v1/projects/{pid}/assessment"), 404)


@pytest.mark.parametrize(
    ("change", "parameter", "words"),
    [
        (
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[2, 47], [2.1, 47.1], [2.1, 47], [2, 47.1], [2, 47]]],
                }
            },
            "geometry",
            "Self-intersection",
        ),
        ({"geometry": square(-35.0, 45.0)}, "geometry", "at sea"),
        ({"practices": ["no_tillage", "moon_dust"]}, "practices", "moon_dust"),
        ({"start_date": "2040-01-01", "end_date": "2030-01-01"}, "end_date", "start_date"),
        ({"country": "ZZZ"}, "country", "ZZZ"),
        ({"organisation": 9999}, "organisation", "9999"),
        ({"start_date": "soon"}, "start_date", "soon"),
    ],
)
def test_bad_projects_422_naming_the_field(
    reg: Registry, change: dict[str, Any], parameter: str, words: str
) -> None:
    before = counts(reg)
    body = problem(reg.client.post("/v1/projects", json=feature(**change), headers=reg.h(reg.editor)), 422)
    assert body["parameter"] == parameter and words in body["detail"]
    assert counts(reg) == before


def test_sql_looking_strings_are_text(reg: Registry) -> None:
    c, h = reg.client, reg.h(reg.editor)
    org = c.post(
        "/v1/organisations",
        json={"name": SQLI, "membership": "partner", "type": "'; --", "country": "KEN"},
        headers=h,
    )
    assert org.status_code == 201 and org.json()["name"] == SQLI and org.json()["region"] == "africa"
    r = c.post(
        "/v1/projects",
        json=feature(
            name=SQLI, organisation=SQLI, country="KEN", geometry=square(36.8, -1.3), funding="1 OR 1=1"
        ),
        headers=h,
    )
    assert r.status_code == 201, r.text
    back = c.get(f"/v1/projects/{r.json()['id']}").json()["properties"]
    assert back["name"] == SQLI and back["funding"] == "1 OR 1=1"
    rows = list(csv.DictReader(io.StringIO(c.get("/v1/projects?format=csv").text)))
    assert SQLI in [row["name"] for row in rows]
    assert len(c.get("/v1/projects").json()["features"]) == len(rows) > 0


def test_audit_log_is_for_admins_and_shows_each_change(reg: Registry) -> None:
    c, h = reg.client, reg.h(reg.editor)
    pid = c.post("/v1/projects", json=feature(name="Audited"), headers=h).json()["id"]
    c.patch(f"/v1/projects/{pid}", json={"properties": {"funding": "GEF"}}, headers={**h, "If-Match": '"1"'})
    c.delete(f"/v1/projects/{pid}", headers={**h, "If-Match": '"2"'})
    problem(c.get("/v1/audit"), 401)
    problem(c.get("/v1/audit", headers=h), 403)
    log = c.get("/v1/audit?limit=1000", headers=reg.h(reg.admin))
    assert log.status_code == 200
    mine = [e for e in log.json()["entries"] if e["table"] == "projects" and e["row_id"] == str(pid)]
    assert [e["action"] for e in mine] == ["delete", "update", "create"]  # newest first
    editor_id = keys.verify_key(reg.url, reg.editor).id  # type: ignore[union-attr]
    assert {e["who"] for e in mine} == {f"key:{editor_id}"}
    delete, update, create = mine
    assert create["before"] is None and create["after"]["name"] == "Audited"
    assert update["before"]["funding"] == "" and update["after"]["funding"] == "GEF"
    assert delete["before"]["funding"] == "GEF" and delete["after"] is None
    legacy = c.get("/v1/audit", headers={"X-API-Key": ADMIN})  # SOCOBS_ADMIN_API_KEY still works
    assert legacy.status_code == 200
    assert c.post("/v1/admin/refresh", headers={"X-API-Key": ADMIN}).status_code == 200


def test_csv_exports_read_back(reg: Registry, tmp_path: Path) -> None:
    c = reg.client
    c.post(
        "/v1/projects",
        json=feature(name="Exported", geometry={"type": "Point", "coordinates": [2.3, 47.2]}, area_ha=42.0),
        headers=reg.h(reg.editor),
    )
    orgs = c.get("/v1/organisations?format=csv")
    assert orgs.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(orgs.text)))
    assert [r["name"] for r in rows] == [
        o["name"] for o in c.get("/v1/organisations").json()["organisations"]
    ]
    projects = c.get("/v1/projects?format=csv").text
    path = tmp_path / "projects.csv"
    path.write_text(projects.replace("organisation_id", "organisation"))
    n = len(list(csv.DictReader(io.StringIO(projects))))
    out = import_file(
        reg.url,
        path,
        "test",
        lambda row: ex_ante(row, None, None),
    )
    assert out["imported"] == n
    features = c.get("/v1/projects").json()["features"]
    again = [f for f in features if f["properties"]["name"] == "Exported"]
    assert len(again) == 2 and again[0]["properties"]["area_ha"] == again[1]["properties"]["area_ha"] == 42.0


def test_kpi_observations(reg: Registry) -> None:
    c, h = reg.client, reg.h(reg.editor)
    r = c.post(
        "/v1/kpis/a2_projects_supported/observations",
        json={"value": 17, "date": "2025-06", "source": "call for projects 2025"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    editor_id = keys.verify_key(reg.url, reg.editor).id  # type: ignore[union-attr]
    assert r.json()["recorded_by"] == f"key:{editor_id}"
    listed = c.get("/v1/kpis/a2_projects_supported/observations").json()["observations"]
    assert r.json() in listed
    assert (
        problem(
            c.post(
                "/v1/kpis/e1_mrv_systems/observations",
                json={"value": 1, "date": "2025", "source": "x"},
                headers=h,
            ),
            422,
        )["parameter"]
        == "kpi_id"
    )
    problem(
        c.post("/v1/kpis/nope/observations", json={"value": 1, "date": "2025", "source": "x"}, headers=h), 404
    )
    assert (
        problem(
            c.post(
                "/v1/kpis/a2_projects_supported/observations",
                json={"value": 1, "date": "June", "source": "x"},
                headers=h,
            ),
            422,
        )["parameter"]
        == "date"
    )


def test_openapi_lists_the_registry(reg: Registry) -> None:
    paths = reg.client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/v1/projects"]) and {"get", "patch", "delete"} <= set(
        paths["/v1/projects/{project_id}"]
    )
    for p in (
        "/v1/organisations",
        "/v1/projects/{project_id}/assessment",
        "/v1/kpis/{kpi_id}/observations",
        "/v1/audit",
    ):
        assert p in paths


def test_an_unusable_registry_is_503_and_the_rest_is_served(api_store: ApiStore, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOCOBS_DATABASE_URL", f"sqlite:///{blocker}/registry.sqlite")
        settings = Settings(
            var=tmp_path, store=api_store.store, registry=api_store.registry, poll_seconds=3600
        )
        with TestClient(create_app(settings)) as c:
            body = problem(c.get("/v1/projects"), 503)
            assert "registry is unavailable" in body["detail"] and str(blocker) in body["detail"]
            problem(c.post("/v1/projects", json=feature(), headers={"X-API-Key": "socobs_0_x"}), 503)
            assert c.get("/v1/status").status_code == 200
            assert c.get("/v1/kpis").status_code == 200


def _kpi_latest(c: TestClient, kpi_id: str) -> float | None:
    kpis = {k["id"]: k for o in c.get("/v1/kpis").json()["objectives"] for k in o["kpis"]}
    latest = kpis[kpi_id]["latest"]
    return None if latest is None else float(latest["value"])


def test_a2_and_e3_kpis_count_the_registry(reg: Registry) -> None:
    c = reg.client
    before = _kpi_latest(c, "a2_projects_registered") or 0.0
    r = c.post("/v1/projects", json=feature(name="Counted"), headers=reg.h(reg.editor))
    assert r.status_code == 201
    features = c.get("/v1/projects").json()["features"]
    assert _kpi_latest(c, "a2_projects_registered") == len(features) == before + 1
    assessments = [c.get(f"/v1/projects/{f['id']}/assessment").json()["ex_ante"] for f in features]
    done = [a for a in assessments if a is not None and a["status"] == "done"]
    assert _kpi_latest(c, "a2_projects_assessed") == len(done)
    in_line = sum(a["result"]["verdict"]["in_line"] for a in done)
    assert _kpi_latest(c, "a2_projects_in_line") == in_line
    removals = sum(-a["result"]["balance_t_co2e"] / a["result"]["project"]["years"] for a in done)
    assert _kpi_latest(c, "e3_expected_removals") == pytest.approx(removals)
    assert _kpi_latest(c, "e3_project_area") == pytest.approx(
        sum(f["properties"]["area_ha"] for f in features)
    )
    detail = c.get("/v1/kpis/e3_expected_removals").json()
    assert detail["latest"]["source"].startswith("the registry of projects")


def test_key_checks_are_limited_per_client(api_store: ApiStore, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SOCOBS_DATABASE_URL", raising=False)
        settings = Settings(
            var=tmp_path,
            store=api_store.store,
            registry=api_store.registry,
            poll_seconds=3600,
            client_requests_per_minute=2,
        )
        with TestClient(create_app(settings)) as c:
            wrong = {"X-API-Key": "socobs_00000000_guess"}
            assert [c.post("/v1/projects", json=feature(), headers=wrong).status_code for _ in range(2)] == [
                401,
                401,
            ]
            body = problem(c.post("/v1/projects", json=feature(), headers=wrong), 429)
            assert "Retry-After" in c.post("/v1/projects", json=feature(), headers=wrong).headers
            assert "per minute" in body["detail"]
            assert c.get("/v1/projects").status_code == 200  # reads are not limited
