"""The demo's registry: a clearly labelled SYNTHETIC set of organisations and projects, seeded
once, and a fresh editor key at each start.

Every name ends with "(synthetic demo)": none of these organisations or projects exists. The
projects are polygons (a few are points with an area) on land in eight countries, with practices
of ``catalogs/practices.yaml``; each is registered through the registry's own service
(validated, audited as ``cli:demo``) and assessed ex-ante as the API does (the E3 tool at the
store's newest snapshot). Seeding is idempotent: what is registered already (by name) is not
registered again, so a second run adds nothing and an interrupted one finishes the rest.

At each start :func:`demo_key` revokes the earlier demo keys (note ``demo``) and creates a new
editor key, printed once, for trying the write endpoints.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pipeline.registry import keys
from pipeline.registry.assessment import Assessment, ex_ante
from pipeline.registry.db import session, upgrade
from pipeline.registry.models import ApiKey, Organisation, Project
from pipeline.registry.service import create_organisation, create_project

LABEL = "(synthetic demo)"
WHO = "cli:demo"
KEY_NOTE = "demo"

# name, membership, type, country
ORGANISATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("Living Soils Institute", "member", "research", "FRA"),
    ("Sahel Soil Alliance", "member", "NGO", "SEN"),
    ("Rift Valley Farmers Cooperative", "partner", "farmer organisation", "KEN"),
    ("Cerrado Regenerative Network", "partner", "NGO", "BRA"),
    ("Deccan Dryland Institute", "member", "research", "IND"),
    ("Pampas Conservation Agriculture Group", "partner", "farmer organisation", "ARG"),
)

# organisation index, country, lon, lat, practices, half-size in degrees (0: a point)
PROJECTS: tuple[tuple[int, str, float, float, tuple[str, ...], float], ...] = (
    (0, "FRA", 2.4, 46.9, ("cover_crops", "reduced_tillage"), 0.15),
    (0, "FRA", 0.6, 47.4, ("no_tillage",), 0.12),
    (0, "FRA", 4.6, 45.2, ("agroforestry",), 0.1),
    (0, "FRA", 1.4, 44.1, ("compost_application",), 0.0),
    (0, "ESP", -3.9, 40.1, ("residue_retention",), 0.15),
    (0, "DEU", 10.2, 51.1, ("improved_rotations",), 0.12),
    (1, "SEN", -15.2, 14.6, ("integrated_soil_fertility_management",), 0.15),
    (1, "SEN", -14.1, 14.0, ("mulching",), 0.12),
    (1, "MAR", -6.1, 33.0, ("conservation_agriculture",), 0.12),
    (1, "MAR", -7.6, 32.1, ("residue_retention",), 0.0),
    (1, "ETH", 39.1, 9.1, ("terraces_erosion_control", "manure_application"), 0.12),
    (2, "KEN", 37.0, 0.4, ("improved_grazing",), 0.2),
    (2, "KEN", 35.4, 0.2, ("green_manure",), 0.1),
    (2, "KEN", 37.9, -1.6, ("grassland_restoration",), 0.18),
    (2, "ETH", 38.1, 7.4, ("agroforestry",), 0.0),
    (3, "BRA", -50.1, -15.2, ("no_tillage", "cover_crops"), 0.25),
    (3, "BRA", -47.2, -20.1, ("improved_grassland",), 0.2),
    (3, "BRA", -55.3, -12.1, ("cropland_to_grassland",), 0.2),
    (3, "BRA", -52.0, -18.0, ("conservation_agriculture",), 0.15),
    (4, "IND", 78.1, 22.1, ("residue_retention", "no_tillage"), 0.15),
    (4, "IND", 76.2, 18.2, ("integrated_soil_fertility_management",), 0.15),
    (4, "IND", 80.1, 25.2, ("compost_application",), 0.0),
    (4, "IND", 75.4, 23.6, ("mulching",), 0.12),
    (5, "ARG", -62.1, -34.1, ("no_tillage",), 0.25),
    (5, "ARG", -64.2, -31.2, ("cover_crops",), 0.2),
    (5, "ARG", -60.2, -33.1, ("reduced_tillage_cover_crops",), 0.15),
    (5, "USA", -98.1, 39.1, ("conservation_agriculture",), 0.2),
    (5, "USA", -93.2, 42.1, ("cover_crops",), 0.15),
    (4, "CHN", 105.1, 35.1, ("terraces_erosion_control",), 0.15),
    (0, "AUS", 146.2, -33.1, ("improved_grazing",), 0.2),
)
PLACES = {
    "FRA": "Centre",
    "ESP": "Meseta",
    "DEU": "Thuringia",
    "SEN": "Groundnut Basin",
    "MAR": "Chaouia",
    "ETH": "Highlands",
    "KEN": "Rift",
    "BRA": "Cerrado",
    "IND": "Deccan",
    "ARG": "Pampa",
    "USA": "Plains",
    "CHN": "Loess Plateau",
    "AUS": "Riverina",
}
STATUSES = ("active", "planned", "active", "completed")


@dataclass(frozen=True)
class Seeded:
    projects: int  # added by this run
    total_projects: int
    assessed: int  # ex-ante done (of those added)


def organisation_name(i: int) -> str:
    return f"{ORGANISATIONS[i][0]} {LABEL}"


def project_name(i: int) -> str:
    _, country, *_ = PROJECTS[i]
    return f"{PLACES[country]} soil carbon project {i + 1:02d} {LABEL}"


def _outline(lon: float, lat: float, half: float, seed: int) -> dict[str, Any]:
    """A convex heptagon around (lon, lat), its radius varied a little (valid, not self-crossing)."""
    rng = random.Random(seed)
    pts = []
    for k in range(7):
        a = 2 * math.pi * k / 7
        r = half * rng.uniform(0.75, 1.0)
        pts.append([round(lon + r * math.cos(a), 5), round(lat + r * math.sin(a), 5)])
    return {"type": "Polygon", "coordinates": [[*pts, pts[0]]]}


def project_feature(i: int) -> dict[str, Any]:
    org, country, lon, lat, practices, half = PROJECTS[i]
    start = 2018 + i % 6
    props: dict[str, Any] = {
        "name": project_name(i),
        "organisation": organisation_name(org),
        "country": country,
        "start_date": f"{start}-0{1 + i % 9}-01",
        "end_date": f"{start + 10 + i % 11}-12-31",
        "practices": list(practices),
        "status": STATUSES[i % len(STATUSES)],
        "funding": "synthetic demo: no real funding",
    }
    if half == 0:
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat]}
        props["area_ha"] = float(500 + 250 * i)
    else:
        geometry = _outline(lon, lat, half, i)
    return {"type": "Feature", "geometry": geometry, "properties": props}


def missing_projects(url: str) -> list[int]:
    """The indexes of the synthetic projects not registered yet (organisations seeded first)."""
    upgrade(url)
    with session(url) as s:
        have_orgs = set(s.scalars(select(Organisation.name)))
        have_projects = set(s.scalars(select(Project.name)))
    for i, (_, membership, kind, country) in enumerate(ORGANISATIONS):
        if organisation_name(i) not in have_orgs:
            data = {"name": organisation_name(i), "membership": membership, "type": kind, "country": country}
            create_organisation(url, data, WHO)
    return [i for i in range(len(PROJECTS)) if project_name(i) not in have_projects]


def seed_registry(url: str, store: str | None, snapshot: str | None = None) -> Seeded:
    """Register what is missing of the synthetic registry (see the module docstring)."""
    todo = missing_projects(url)

    def assessor(row: dict[str, Any]) -> Assessment:
        return ex_ante(row, store, snapshot)

    assessed = 0
    for i in todo:
        out = create_project(url, project_feature(i), WHO, assessor)
        assessed += out["assessment"]["status"] == "done"
    with session(url) as s:
        total = len(list(s.scalars(select(Project.id))))
    return Seeded(len(todo), total, assessed)


def demo_key(url: str) -> tuple[str, list[int]]:
    """A new editor key labelled ``demo`` (the plaintext, shown once), and the ids of the earlier
    demo keys it replaces (revoked)."""
    with session(url) as s:
        old = list(s.scalars(select(ApiKey.id).where(ApiKey.note == KEY_NOTE, ApiKey.revoked_at.is_(None))))
    for key_id in old:
        keys.revoke_key(url, key_id, who=WHO)
    plain, _ = keys.create_key(url, "editor", note=KEY_NOTE, who=WHO)
    return plain, old
