"""The demo's synthetic registry: seeded once (a second run adds nothing), clearly labelled,
organisations and projects in several countries, each project assessed ex-ante as the API does;
a fresh editor key at each start, the earlier demo keys revoked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pipeline.assess.practices import load_practices
from pipeline.demo.registry import LABEL, ORGANISATIONS, PROJECTS, demo_key, seed_registry
from pipeline.demo.runner import DemoState, registry_stage
from pipeline.registry.db import session
from pipeline.registry.keys import verify_key
from pipeline.registry.models import AuditEntry, Organisation, Project, ProjectAssessment
from pipeline.registry.service import get_assessment, list_projects
from pipeline.store import tip

pytestmark = pytest.mark.integration


def _counts(url: str) -> tuple[int, ...]:
    with session(url) as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Organisation, Project, ProjectAssessment, AuditEntry)
        )


def test_demo_registry_seeds_once_and_keys_rotate(api_store: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    snapshot = tip(api_store.store)
    done = seed_registry(url, api_store.store, snapshot)
    assert done.projects == done.total_projects == len(PROJECTS) >= 25
    assert _counts(url)[:3] == (len(ORGANISATIONS), len(PROJECTS), len(PROJECTS))
    with session(url) as s:
        orgs = list(s.scalars(select(Organisation)))
    assert all(o.name.endswith(LABEL) for o in orgs)
    assert {o.membership for o in orgs} == {"member", "partner"} and len({o.country for o in orgs}) >= 5
    features = list_projects(url)["features"]
    assert all(f["properties"]["name"].endswith(LABEL) for f in features)
    assert len({f["properties"]["country"] for f in features}) >= 8
    kinds = {f["geometry"]["type"] for f in features}
    assert kinds == {"Polygon", "Point"}
    known = {p.id for p in load_practices()}
    tier1 = {p.id for p in load_practices() if p.from_ is not None and p.to is not None}
    for f in features:
        props = f["properties"]
        assert set(props["practices"]) <= known
        a = get_assessment(url, f["id"], "ex_ante")
        assert a is not None
        if set(props["practices"]) & tier1:  # assessed as the API does: at the store's snapshot
            assert a["status"] == "done" and a["snapshot_id"] == snapshot, a
            assert a["summary"]["removals_t_co2e_per_yr"] is not None
        else:
            assert a["status"] == "failed" and "Tier 1" in a["result"]["error"]
    assert sum(f["properties"]["ex_ante"]["status"] == "done" for f in features) >= 25
    # a second run adds nothing: no organisation, project, assessment or audit entry
    before = _counts(url)
    again = seed_registry(url, api_store.store, snapshot)
    assert again.projects == 0 and _counts(url) == before
    # each start: a new editor key labelled demo; the earlier ones revoked
    k1, revoked1 = demo_key(url)
    k2, revoked2 = demo_key(url)
    one, two = verify_key(url, k1), verify_key(url, k2)
    assert one is None and two is not None and two.role == "editor" and two.note == "demo"
    assert revoked1 == [] and len(revoked2) == 1


def test_the_demo_stage_reuses_the_registry_and_prints_a_key(api_store: Any, tmp_path: Path) -> None:
    """The demo's registry stage on a seeded registry: no seeding, a live key printed, the
    previous one revoked (said in the printout)."""
    var = tmp_path / "var"
    url = f"sqlite:///{(var / 'registry.sqlite').resolve()}"
    var.mkdir()
    seed_registry(url, api_store.store, tip(api_store.store))
    before = _counts(url)[:3]
    lines: list[str] = []
    state = DemoState(server=None, store=api_store.store)  # type: ignore[arg-type]
    first = registry_stage(state, var, lines.append)
    second = registry_stage(state, var, lines.append)
    assert _counts(url)[:3] == before
    assert verify_key(url, first) is None and verify_key(url, second) is not None
    assert lines[0].split()[0] == "registry" and "reused" in lines[0]
    assert any("revoked" in ln for ln in lines[1:]), lines
    assert json.dumps(lines).count("synthetic demo") >= 2
