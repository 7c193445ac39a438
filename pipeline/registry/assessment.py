"""A registered project's ex-ante assessment: the E3 tool (``pipeline.assess``) from the
project's practices and location.

The practices become Tier 1 states through the practice catalogue (``catalogs/practices.yaml``):
the practices that change the same land use are combined into one activity (the baseline is
their common "from" state; each practice sets the management or input it changes in the "to"
state), a practice that changes the land use is an activity of its own; the area is shared
equally between the activities. A practice Eq. 2.25 does not cover (``method`` in the
catalogue) is named in the notes, not counted. The location is the project's centroid: the
climate zone and, where the cube has it, the measured 0-30 cm stock (``reference: measured``)
come from the observatory's cube at the snapshot served; the soil class is the project's.
The accounting period is the project's duration in whole years (1-100).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.errors import PipelineError

METHOD = (
    "ex-ante, IPCC Tier 1 (2019 Refinement Vol. 4 Ch. 2 Eq. 2.25) by pipeline.assess: practices -> "
    "baseline/project states by catalogs/practices.yaml, climate zone (and measured reference stock "
    "where the cube has one) from the observatory's cube at the project's centroid"
)


@dataclass(frozen=True)
class Assessment:
    kind: str
    snapshot_id: str | None
    method: str
    status: str  # done | failed
    result: dict[str, Any]


def _years(start: date, end: date) -> int:
    return max(1, min(100, math.ceil((end - start).days / 365.25)))


def activities(practice_ids: list[str], area: float) -> tuple[list[dict[str, Any]], list[str]]:
    """Tier 1 activities from practice ids (see the module docstring), and the notes."""
    from pipeline.assess.practices import load_practices

    by_id = {p.id: p for p in load_practices()}
    groups: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for pid in practice_ids:
        pr = by_id[pid]
        if pr.from_ is None or pr.to is None:
            notes.append(f"{pid}: not counted at Tier 1 ({(pr.method or '')[:200]})")
            continue
        frm, to = pr.from_.model_dump(), pr.to.model_dump()
        key = frm["land_use"] if frm["land_use"] == to["land_use"] else f"{pid}:change"
        g = groups.setdefault(key, {"name": pid, "baseline": frm, "project": dict(frm), "ids": []})
        g["ids"].append(pid)
        if key.endswith(":change"):
            g["project"] = to
            continue
        for k, v in to.items():
            if v != frm.get(k):
                if g["project"].get(k) not in (frm.get(k), v):
                    notes.append(f"{pid}: sets {k} to {v}, over {g['project'][k]} of an earlier practice")
                g["project"][k] = v
    share = area / len(groups) if groups else 0.0
    acts = [
        {
            "name": "+".join(g["ids"]),
            "area_ha": share,
            "baseline": g["baseline"],
            "project": g["project"],
        }
        for g in groups.values()
    ]
    if len(acts) > 1:
        notes.append(f"the area is shared equally between {len(acts)} activities ({share:.1f} ha each)")
    return acts, notes


def ex_ante(row: dict[str, Any], store: str | None, snapshot: str | None) -> Assessment:
    """The ex-ante assessment of a checked project row (``validate.project_row``); a project the
    tool cannot assess (no Tier 1 practice, a place the cube does not cover) gets a ``failed``
    assessment saying why, and is registered all the same."""
    import json

    acts, notes = activities(json.loads(row["practices"]), float(row["area_ha"]))
    if not acts:
        return Assessment(
            "ex_ante",
            snapshot,
            METHOD,
            "failed",
            {"error": "none of the practices is covered by Tier 1 (Eq. 2.25)", "notes": notes},
        )
    try:
        from pipeline.assess import assess
        from pipeline.assess.location import site_at
        from pipeline.assess.project import parse_project

        if store is None:
            raise PipelineError("no store is set: the climate zone at the location comes from the cube")
        site = site_at(store, float(row["centroid_lat"]), float(row["centroid_lon"]), snapshot)
        project = parse_project(
            {
                "name": str(row["name"])[:200],
                "soil_type": row["soil_type"],
                "location": {"lat": row["centroid_lat"], "lon": row["centroid_lon"]},
                "reference": "measured" if site.soc_stock_t_c_ha is not None else "ipcc_default",
                "years": _years(row["start_date"], row["end_date"]),
                "activities": acts,
            }
        )
        result = assess(project, site=site)
    except PipelineError as exc:
        return Assessment("ex_ante", snapshot, METHOD, "failed", {"error": str(exc)[:1000], "notes": notes})
    result["notes"] = notes + list(result.get("notes", []))
    return Assessment("ex_ante", site.snapshot, METHOD, "done", result)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The figures the registry's KPIs and listings use, from a stored result (ex-ante: removals
    and verdict; ex-post: the polygon's and the control's rates and their difference)."""
    if "project" in result and "control" in result:
        return {
            "start_epoch": result.get("start_epoch"),
            "end_epoch": result.get("end_epoch"),
            "rate_t_c_ha_yr": result["project"].get("rate"),
            "control_rate_t_c_ha_yr": result["control"].get("rate"),
            "rate_difference_t_c_ha_yr": result.get("rate_difference"),
            "on_4p1000_path": result.get("on_4p1000_path"),
        }
    if "balance_t_co2e_per_yr" not in result:
        return {"removals_t_co2e_per_yr": None, "verdict": None}
    return {
        "removals_t_co2e_per_yr": -float(result["balance_t_co2e_per_yr"]),
        "verdict": (result.get("verdict") or {}).get("level"),
    }
