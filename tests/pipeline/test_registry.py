"""The registry (pipeline.registry) on SQLite and on a real PostgreSQL server: migrations, keys
stored hashed, validation naming the field, optimistic locking, the audit log, SQL-looking text,
all-or-nothing imports."""

from __future__ import annotations

import json
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from pipeline.registry import db, keys, service
from pipeline.registry.assessment import Assessment, activities
from pipeline.registry.db import ConflictError, NotFoundError, RegistryError
from pipeline.registry.importer import import_file
from tests.support.postgres import pg_server, registry_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
SQLI = "Robert'); DROP TABLE projects;--"


def no_assessment(row: dict[str, Any]) -> Assessment:
    """An assessor that records that none was made (these tests are about the registry)."""
    return Assessment("ex_ante", None, "none (test)", "failed", {"error": "not assessed in this test"})


def square(lon: float, lat: float, d: float = 0.05) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def project(**props: Any) -> dict[str, Any]:
    geometry = props.pop("geometry", square(2.0, 47.0))
    base = {
        "name": "Beauce no-till",
        "organisation": "INRAE",
        "country": "FRA",
        "start_date": "2024-01-01",
        "end_date": "2034-01-01",
        "practices": ["no_tillage"],
    }
    return {"type": "Feature", "geometry": geometry, "properties": {**base, **props}}


@pytest.fixture
def url(registry_url: str) -> str:  # noqa: F811
    service.create_organisation(
        registry_url, {"name": "INRAE", "membership": "member", "type": "research", "country": "fra"}, "test"
    )
    return registry_url


def test_migrations_from_the_package_are_idempotent(url: str) -> None:
    assert db.migrations_dir().is_relative_to(Path(db.__file__).parent)
    assert db.upgrade(url) == db.current_revision(url) == "0001"
    assert {
        "organisations",
        "projects",
        "kpi_observations",
        "api_keys",
        "audit_log",
        "project_assessments",
    } <= set(db.tables(url))


def test_keys_are_stored_hashed_and_checked(url: str) -> None:
    key, info = keys.create_key(url, "editor", note="test")
    other, _ = keys.create_key(url, "viewer")
    secret = key.rsplit("_", 1)[-1]
    assert keys.verify_key(url, key) is not None and keys.verify_key(url, key).role == "editor"  # type: ignore[union-attr]
    assert keys.verify_key(url, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert keys.verify_key(url, "socobs_deadbeef_" + secret) is None  # right secret, wrong prefix
    assert keys.verify_key(url, "") is None
    with db.engine(url).connect() as conn:
        rows = [tuple(str(v) for v in r) for r in conn.execute(text("SELECT * FROM api_keys"))]
    dumped = " ".join(" ".join(r) for r in rows)
    assert secret not in dumped and key not in dumped and other.rsplit("_", 1)[-1] not in dumped
    hashes = [r[2] for r in rows]
    assert all(h.startswith("scrypt$") for h in hashes)
    assert hashes[0].split("$")[4] != hashes[1].split("$")[4]  # salted: each key its own salt
    if url.startswith("sqlite"):
        raw = Path(url.removeprefix("sqlite:///")).read_bytes()
        assert secret.encode() not in raw and info.prefix.encode() in raw
    keys.revoke_key(url, info.id)
    assert keys.verify_key(url, key) is None
    assert [k.revoked_at is not None for k in keys.list_keys(url)] == [True, False]
    with pytest.raises(NotFoundError):
        keys.revoke_key(url, 999)
    with pytest.raises(RegistryError) as e:
        keys.create_key(url, "owner")
    assert e.value.field == "role"


@pytest.mark.parametrize(
    ("change", "field", "words"),
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
        ({"geometry": square(-30.0, 40.0)}, "geometry", "at sea"),
        ({"geometry": square(-3.7, 40.4)}, "geometry", "ESP"),
        ({"geometry": {"type": "LineString", "coordinates": [[2, 47], [2.1, 47]]}}, "geometry", "Polygon"),
        ({"geometry": {"type": "Point", "coordinates": [2.3, 47.2]}}, "area_ha", "area"),
        ({"geometry": square(200.0, 47.0)}, "geometry", "range"),
        ({"practices": ["no_tillage", "magic_dust"]}, "practices", "magic_dust"),
        ({"practices": []}, "practices", "practices"),
        ({"start_date": "2030-01-01", "end_date": "2025-01-01"}, "end_date", "start_date"),
        ({"end_date": "2025-13-01"}, "end_date", "date"),
        ({"country": "XYZ"}, "country", "XYZ"),
        ({"organisation": "Nobody Inc."}, "organisation", "Nobody Inc."),
        ({"colour": "blue"}, "colour", "colour"),
    ],
)
def test_bad_projects_are_refused_naming_the_field(
    url: str, change: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(RegistryError) as e:
        service.create_project(url, project(**change), "test", no_assessment)
    assert e.value.field == field
    assert words in str(e.value)
    assert service.list_projects(url)["features"] == []
    assert [x["table"] for x in service.audit_log(url)["entries"]] == ["organisations"]


def test_point_with_area_and_sql_looking_text_round_trip(url: str) -> None:
    out = service.create_project(
        url,
        project(
            name=SQLI,
            funding="1; DELETE FROM audit_log",
            geometry={"type": "Point", "coordinates": [2.3, 47.2]},
            area_ha=120.5,
        ),
        "test",
        no_assessment,
    )
    back = service.get_project(url, out["id"])
    assert back["properties"]["name"] == SQLI
    assert back["properties"]["funding"] == "1; DELETE FROM audit_log"
    assert back["properties"]["area_ha"] == 120.5
    assert back["geometry"] == {"type": "Point", "coordinates": [2.3, 47.2]}
    assert len(service.audit_log(url)["entries"]) == 2  # nothing was deleted
    assert {"projects", "audit_log"} <= set(db.tables(url))


def test_polygon_area_is_geodesic(url: str) -> None:
    out = service.create_project(url, project(geometry=square(2.0, 47.0, 0.1)), "test", no_assessment)
    # 0.1 deg x 0.1 deg at 47 N on the WGS84 ellipsoid: 11.12 km x 7.59 km (by hand: R = 6371 km)
    import math

    by_hand = (
        (math.radians(0.1) * 6371.0) * (math.radians(0.1) * 6371.0 * math.cos(math.radians(47.05))) * 100
    )
    assert out["properties"]["area_ha"] == pytest.approx(by_hand, rel=0.01)


def test_update_needs_the_current_version_and_is_audited(url: str) -> None:
    p = service.create_project(url, project(), "key:1", no_assessment)
    pid = p["id"]
    up = service.update_project(url, pid, {"properties": {"status": "active"}}, 1, "key:2", no_assessment)
    assert up["properties"]["version"] == 2 and up["properties"]["status"] == "active"
    with pytest.raises(ConflictError) as e:
        service.update_project(url, pid, {"properties": {"status": "cancelled"}}, 1, "key:3", no_assessment)
    assert e.value.current_version == 2
    assert service.get_project(url, pid)["properties"]["status"] == "active"  # not lost, not overwritten
    with pytest.raises(ConflictError):
        service.delete_project(url, pid, 1, "key:3")
    service.delete_project(url, pid, 2, "key:2")
    with pytest.raises(NotFoundError):
        service.get_project(url, pid)
    log = service.audit_log(url)
    entries = [e for e in reversed(log["entries"]) if e["table"] == "projects"]
    assert [(e["action"], e["who"]) for e in entries] == [
        ("create", "key:1"),
        ("update", "key:2"),
        ("delete", "key:2"),
    ]
    create, update, delete = entries
    assert create["before"] is None and create["after"]["status"] == "planned"
    assert update["before"]["status"] == "planned" and update["after"]["status"] == "active"
    assert update["before"]["version"] == 1 and update["after"]["version"] == 2
    assert delete["before"]["status"] == "active" and delete["after"] is None


def test_concurrent_edits_one_wins_the_other_conflicts(url: str) -> None:
    pid = service.create_project(url, project(), "test", no_assessment)["id"]
    both_read = threading.Barrier(2, timeout=60)

    def slow(row: dict[str, Any]) -> Assessment:  # both edits have read version 1 before either writes
        both_read.wait()
        return no_assessment(row)

    results: dict[str, Any] = {}

    def edit(status: str) -> None:
        try:
            results[status] = service.update_project(
                url, pid, {"properties": {"status": status}}, 1, status, slow
            )
        except ConflictError as exc:
            results[status] = exc

    threads = [threading.Thread(target=edit, args=(s,)) for s in ("active", "cancelled")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    conflicts = [s for s, r in results.items() if isinstance(r, ConflictError)]
    winners = [s for s, r in results.items() if not isinstance(r, ConflictError)]
    assert len(conflicts) == 1 and len(winners) == 1
    assert results[conflicts[0]].current_version == 2
    now = service.get_project(url, pid)["properties"]
    assert now["status"] == winners[0] and now["version"] == 2


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text(
        "name,organisation,country,start_date,end_date,practices,lon,lat,area_ha\n" + "\n".join(rows) + "\n"
    )
    return path


def test_csv_import_is_all_or_nothing(url: str, tmp_path: Path) -> None:
    good = [
        "Loire cover crops,INRAE,FRA,2024-01-01,2030-12-31,cover_crops;no_tillage,0.5,47.3,250",
        f'"{SQLI}",INRAE,FRA,2023-05-01,2028-01-01,residue_retention,4.8,45.0,80',
    ]
    bad = "Atlantic farm,INRAE,FRA,2024-01-01,2030-01-01,no_tillage,-30.0,45.0,10"
    with pytest.raises(RegistryError) as e:
        import_file(url, _csv(tmp_path / "bad.csv", [*good, bad]), "cli:test", no_assessment)
    assert "line 4" in str(e.value) and "Atlantic farm" in str(e.value) and "at sea" in str(e.value)
    assert "Nothing was imported" in str(e.value)
    assert service.list_projects(url)["features"] == []
    assert all(x["table"] != "projects" for x in service.audit_log(url)["entries"])

    out = import_file(url, _csv(tmp_path / "good.csv", good), "cli:test", no_assessment)
    assert out["imported"] == 2
    names = [f["properties"]["name"] for f in service.list_projects(url)["features"]]
    assert names == ["Loire cover crops", SQLI]
    practices = service.list_projects(url)["features"][0]["properties"]["practices"]
    assert practices == ["cover_crops", "no_tillage"]


def test_geojson_and_organisation_imports(url: str, tmp_path: Path) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "name,membership,type,country\nCIRAD,member,research,FRA\nKenya Farmers,partner,farmer organisation,KEN\n"
    )
    assert import_file(url, orgs, "cli:test", no_assessment)["imported"] == 2
    assert [o["region"] for o in service.list_organisations(url)] == ["europe", "europe", "africa"]
    bad_orgs = tmp_path / "bad_orgs.csv"
    bad_orgs.write_text("name,membership,type,country\nA,member,x,FRA\nB,sponsor,x,FRA\n")
    with pytest.raises(RegistryError) as e:
        import_file(url, bad_orgs, "cli:test", no_assessment)
    assert "line 3" in str(e.value) and e.value.field == "membership"
    assert len(service.list_organisations(url)) == 3

    fc = {
        "type": "FeatureCollection",
        "features": [
            project(organisation="CIRAD"),
            project(name="Kenya", organisation="Kenya Farmers", country="KEN", geometry=square(36.8, -1.3)),
        ],
    }
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(fc))
    assert import_file(url, path, "cli:test", no_assessment)["imported"] == 2
    fc["features"].append(project(name="Wrong country", country="KEN"))
    path.write_text(json.dumps(fc))
    with pytest.raises(RegistryError) as e:
        import_file(url, path, "cli:test", no_assessment)
    assert "feature 2" in str(e.value) and "FRA" in str(e.value)
    assert len(service.list_projects(url)["features"]) == 2


def test_kpi_observations_only_for_recorded_kpis(url: str) -> None:
    o = service.record_observation(
        url, "a2_projects_supported", {"value": 12, "date": "2024", "source": SQLI}, "key:1"
    )
    assert service.list_observations(url, "a2_projects_supported") == [o]
    assert o["source"] == SQLI and o["recorded_by"] == "key:1"
    for kpi, data, field in [
        ("e2_countries_with_soc_data", {"value": 1, "date": "2024", "source": "x"}, "kpi_id"),
        ("a2_projects_supported", {"value": 1, "date": "24", "source": "x"}, "date"),
        ("a2_projects_supported", {"value": "many", "date": "2024", "source": "x"}, "value"),
        ("a2_projects_supported", {"value": 1, "date": "2024", "source": ""}, "source"),
    ]:
        with pytest.raises(RegistryError) as e:
            service.record_observation(url, kpi, data, "key:1")
        assert e.value.field == field
    with pytest.raises(NotFoundError):
        service.record_observation(url, "z9_nothing", {"value": 1, "date": "2024", "source": "x"}, "key:1")


def test_practices_become_tier1_states_by_the_catalogue() -> None:
    cat = {
        p["id"]: p for p in yaml.safe_load((ROOT / "catalogs" / "practices.yaml").read_text())["practices"]
    }
    acts, notes = activities(["no_tillage", "cover_crops", "agroforestry"], 300.0)
    assert len(acts) == 1 and acts[0]["area_ha"] == 300.0
    base = {"management": None, "input": None, **cat["no_tillage"]["from"]}
    assert acts[0]["baseline"] == base
    assert acts[0]["project"]["management"] == cat["no_tillage"]["to"]["management"]
    assert acts[0]["project"]["input"] == cat["cover_crops"]["to"]["input"]
    assert any(n.startswith("agroforestry: not counted") for n in notes)
    acts, notes = activities(["no_tillage", "cropland_to_grassland"], 300.0)
    assert [a["area_ha"] for a in acts] == [150.0, 150.0]
    assert acts[1]["project"]["land_use"] == cat["cropland_to_grassland"]["to"]["land_use"]


def test_years_from_dates_reach_the_assessment(url: str) -> None:
    seen: list[dict[str, Any]] = []

    def spy(row: dict[str, Any]) -> Assessment:
        seen.append(row)
        return no_assessment(row)

    service.create_project(url, project(), "test", spy)
    assert seen[0]["start_date"] == date(2024, 1, 1) and seen[0]["end_date"] == date(2034, 1, 1)
    assert json.loads(seen[0]["practices"]) == ["no_tillage"]
    assert seen[0]["centroid_lon"] == pytest.approx(2.025) and seen[0]["centroid_lat"] == pytest.approx(
        47.025
    )


def test_recorded_observations_by_kpi_for_the_report(url: str) -> None:
    from pipeline.registry.kpis import recorded_observations

    service.record_observation(
        url, "a2_projects_supported", {"value": 9, "date": "2023", "source": "s1"}, "k"
    )
    service.record_observation(
        url, "f2_available_budget", {"value": 500, "date": "2024", "source": "s2"}, "k"
    )
    service.record_observation(
        url, "a2_projects_supported", {"value": 12, "date": "2024", "source": "s3"}, "k"
    )
    got = recorded_observations(url)
    assert [o["value"] for o in got["a2_projects_supported"]] == [9.0, 12.0]
    assert got["f2_available_budget"][0]["source"] == "s2"
    assert set(got) == {"a2_projects_supported", "f2_available_budget"}
