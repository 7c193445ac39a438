"""One ex-post pass in-process, over the real demo store and an SQLite registry: a polygon the
snapshot cannot assess is stored as a failed assessment with the reason; a second pass at the
same snapshot computes nothing; a project changed since is due again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from observatory_api.reader import StoreReader
from observatory_api.services.expost import ExPost, assess_polygon
from observatory_api.settings import Settings
from pipeline.registry.assessment import Assessment
from pipeline.registry.db import session, upgrade
from pipeline.registry.kpis import registry_kpis
from pipeline.registry.models import Project
from pipeline.registry.service import create_organisation, create_project, get_assessment

LAND = {"type": "Polygon", "coordinates": [[[1.0, 46.0], [4.5, 46.2], [4.0, 48.5], [1.5, 48.0], [1.0, 46.0]]]}
SEA = {"type": "Polygon", "coordinates": [[[-30.0, 30.0], [-28.0, 30.0], [-28.0, 32.0], [-30.0, 30.0]]]}


def _skip_ex_ante(row: dict[str, Any]) -> Assessment:
    return Assessment("ex_ante", None, "test", "failed", {"error": "not computed in this test"})


def test_a_pass_stores_failures_with_the_reason_and_never_twice(api_store: Any, tmp_path: Path) -> None:
    settings = Settings(store=api_store.store, registry=api_store.registry, var=tmp_path)
    reader = StoreReader(settings)
    assert asyncio.run(reader.refresh())
    snap = reader.current
    sea = assess_polygon(snap, settings, SEA)
    assert sea.status == "failed" and "no cell with data" in sea.result["error"]
    huge = assess_polygon(
        snap, settings, {"type": "Polygon", "coordinates": [[[0, 0], [60, 0], [60, 40], [0, 0]]]}
    )
    assert huge.status == "failed" and "km2" in huge.result["error"]
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    upgrade(url)
    create_organisation(
        url, {"name": "Org", "membership": "member", "type": "NGO", "country": "FRA"}, "cli:t"
    )
    props = {
        "organisation": "Org",
        "country": "FRA",
        "start_date": "2020-01-01",
        "end_date": "2030-01-01",
        "practices": ["no_tillage"],
    }
    ids = [
        create_project(
            url,
            {"type": "Feature", "geometry": LAND, "properties": {**props, "name": n}},
            "cli:t",
            _skip_ex_ante,
        )["id"]
        for n in ("A", "B")
    ]
    with session(url) as s:  # B's outline moved out to sea behind the registry's back
        s.scalars(select(Project).where(Project.id == ids[1])).one().geometry = json.dumps(SEA)
    worker = ExPost(url, reader, settings)  # not started: passes run here, in this thread
    assert worker.run_pass() == 2
    a, b = (get_assessment(url, i, "ex_post") for i in ids)
    assert a is not None and a["status"] == "done" and a["snapshot_id"] == snap.snapshot_id
    assert b is not None and b["status"] == "failed" and "no cell with data" in b["result"]["error"]
    figures = registry_kpis(url)  # E2: the observed projects and their difference from the control
    assert figures["projects_observed"] == 1
    assert figures["observed_rate_difference_t_c_ha_yr"] == a["result"]["rate_difference"]
    assert worker.run_pass() == 0  # never twice for the same project, version and snapshot
    with session(url) as s:  # a change (a new version) makes the project due again
        s.scalars(select(Project).where(Project.id == ids[0])).one().name = "A2"
    assert worker.run_pass() == 1
