"""The registry's side of the ex-post assessments: which projects are due at a snapshot, and
storing a result once.

A project with a polygon is due at a snapshot when it has no ex-post assessment for that
snapshot at its current version (a change of the project makes it due again). The result is
written only if the project is still at that version and nothing was written for the same
project, version and snapshot meanwhile, so a project is never assessed twice for one snapshot.
The computing itself is the API's (``observatory_api.services.expost``: the polygon against a
control, as ``POST /v1/aoi/assess``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pipeline.registry.assessment import Assessment
from pipeline.registry.db import session
from pipeline.registry.models import Project, ProjectAssessment
from pipeline.registry.service import store_assessment


@dataclass(frozen=True)
class Due:
    project_id: int
    version: int
    geometry: dict[str, Any]


def _done(s: Any, snapshot_id: str) -> set[tuple[int, int]]:
    q = select(ProjectAssessment.project_id, ProjectAssessment.project_version).where(
        ProjectAssessment.kind == "ex_post", ProjectAssessment.snapshot_id == snapshot_id
    )
    return {(int(a), int(b)) for a, b in s.execute(q)}


def due(url: str, snapshot_id: str, project_id: int | None = None) -> list[Due]:
    """The polygon projects (or the one ``project_id``) without an ex-post at ``snapshot_id``."""
    with session(url) as s:
        done = _done(s, snapshot_id)
        q = select(Project.id, Project.version, Project.geometry).order_by(Project.id)
        if project_id is not None:
            q = q.where(Project.id == project_id)
        out = []
        for pid, version, geometry in s.execute(q):
            geom = json.loads(geometry)
            if geom.get("type") in ("Polygon", "MultiPolygon") and (pid, version) not in done:
                out.append(Due(int(pid), int(version), geom))
        return out


def store(url: str, item: Due, a: Assessment) -> bool:
    """Write ``a`` for ``item`` unless the project changed or was deleted, or an ex-post for the
    same version and snapshot is there already; True when written."""
    with session(url) as s:
        p = s.get(Project, item.project_id)
        if p is None or p.version != item.version or (p.id, p.version) in _done(s, str(a.snapshot_id)):
            return False
        store_assessment(s, p, a)
        return True
