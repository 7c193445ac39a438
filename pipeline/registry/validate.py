"""What the registry accepts: organisations and projects, checked before anything is written.

A project's geometry is a GeoJSON Point, Polygon or MultiPolygon in WGS84 degrees, valid
(shapely: no self-intersection), on land in the project's country (its Natural Earth geometry,
``catalogs/regions``, within ~5 km for coarse coastlines); its dates in order; its practices
ids of ``catalogs/practices.yaml``; its country an ISO 3166-1 alpha-3 code the observatory
knows; its organisation one the registry holds. Every refusal names the field at fault.
"""

from __future__ import annotations

import difflib
import functools
from datetime import date
from typing import Any, Literal

import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shapely import geometry as sg
from shapely.validation import explain_validity

from pipeline.assess.tables import SoilType
from pipeline.registry.db import RegistryError

Membership = Literal["member", "partner"]
Status = Literal["planned", "active", "completed", "cancelled"]
STATUSES: tuple[str, ...] = ("planned", "active", "completed", "cancelled")
LAND_TOLERANCE_DEG = 0.05  # ~5 km: Natural Earth's coastlines are generalised
MAX_VERTICES = 20_000


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    membership: Membership = Field(description="member or partner of the Initiative")
    type: str = Field(min_length=1, max_length=64, description="e.g. research, NGO, government, farmer org.")
    country: str = Field(min_length=3, max_length=3, description="ISO 3166-1 alpha-3")


class ProjectIn(BaseModel):
    """A project's properties (its geometry comes beside them: a GeoJSON Feature)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    organisation: int | str = Field(description="The organisation's id, or its exact name")
    country: str = Field(min_length=3, max_length=3, description="ISO 3166-1 alpha-3")
    start_date: date
    end_date: date
    practices: list[str] = Field(min_length=1, max_length=30, description="ids of GET /v1/practices")
    area_ha: float | None = Field(
        default=None, gt=0, le=1e9, description="Required for a Point; computed for a polygon"
    )
    soil_type: SoilType = Field(default="HAC", description="IPCC soil class (the cube cannot tell it)")
    status: Status = "planned"
    funding: str = Field(default="", max_length=2000)


def pydantic_error(exc: ValidationError, where: str = "") -> RegistryError:
    """One paragraph from pydantic's first error, naming its field."""
    e = exc.errors()[0]
    loc = [str(p) for p in e.get("loc", ())]
    got = e.get("input")
    shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {str(got)[:80]!r})"
    field = loc[-1] if loc else None
    allowed = (e.get("ctx") or {}).get("expected")
    return RegistryError(
        f"{where}{'.'.join(loc) or 'body'}: {e.get('msg', 'invalid')}{shown}. Expected the fields "
        "and values documented at /docs (projects: name, organisation, country, start_date <= "
        "end_date as YYYY-MM-DD, practices, geometry).",
        field=field,
        allowed=allowed,
    )


@functools.cache
def _countries() -> dict[str, tuple[str, str, Any]]:
    """ISO3 -> (name, region id, geometry) of the shipped countries."""
    from shapely import prepare

    from pipeline.regions.hierarchy import load_regions

    g = load_regions()
    out = {}
    for row in g[g["level"] == "country"].itertuples():
        prepare(row.geometry)
        out[str(row.region_id)] = (str(row.name), str(row.parent_id), row.geometry)
    return out


def check_country(code: str, field: str = "country") -> tuple[str, str]:
    """(code, region id) of an ISO3 country code (case-insensitive)."""
    countries = _countries()
    c = code.strip().upper()
    if c not in countries:
        close = difflib.get_close_matches(c, list(countries), n=5, cutoff=0.6)
        raise RegistryError(
            f"{field}: expected an ISO 3166-1 alpha-3 country code the observatory knows (GET "
            f"/v1/regions?level=country); got {code[:40]!r}. Did you mean {', '.join(close) or 'another code'}?",
            field=field,
            allowed=close or None,
        )
    return c, countries[c][1]


def check_practices(ids: list[str]) -> list[str]:
    from pipeline.assess.practices import load_practices

    known = [p.id for p in load_practices()]
    for i, pid in enumerate(ids):
        if pid not in known:
            close = difflib.get_close_matches(pid, known, n=5, cutoff=0.5)
            raise RegistryError(
                f"practices[{i}]: expected a practice id of the catalogue (catalogs/practices.yaml, "
                f"GET /v1/practices); got {pid[:80]!r}. Close ids: {', '.join(close) or 'none'}.",
                field="practices",
                allowed=known,
            )
    if len(set(ids)) != len(ids):
        raise RegistryError(
            f"practices: each practice once; got {ids}. Remove the repeated ids.", field="practices"
        )
    return ids


def _vertices(geom: Any) -> int:
    return int(shapely.get_num_coordinates(geom))


def parse_geometry(data: Any) -> Any:
    """A shapely geometry from GeoJSON (Point, Polygon, MultiPolygon), valid and in range."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in ("Point", "Polygon", "MultiPolygon"):
        raise RegistryError(
            f"geometry: expected a GeoJSON Point, Polygon or MultiPolygon in WGS84 degrees; got "
            f"{str(kind or type(data).__name__)[:40]!r}. Give the project's outline (or a point and area_ha).",
            field="geometry",
            allowed=["Point", "Polygon", "MultiPolygon"],
        )
    try:
        geom = sg.shape(data)
        coords = np.asarray(shapely.get_coordinates(geom))
    except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise RegistryError(
            f"geometry: the {kind}'s coordinates could not be read ({str(exc)[:120]}). Expected "
            "[lon, lat] pairs, a polygon's rings closed.",
            field="geometry",
        ) from None
    if geom.is_empty or coords.size == 0 or not np.isfinite(coords).all():
        raise RegistryError("geometry: expected coordinates; got an empty geometry.", field="geometry")
    if _vertices(geom) > MAX_VERTICES:
        raise RegistryError(
            f"geometry: at most {MAX_VERTICES} vertices; got {_vertices(geom)}. Simplify the outline.",
            field="geometry",
        )
    lon, lat = coords[:, 0], coords[:, 1]
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise RegistryError(
            "geometry: expected [lon, lat] in degrees (lon -180..180, lat -90..90); got coordinates "
            f"out of range (e.g. {coords[(np.abs(lon) > 180) | (np.abs(lat) > 90)][0].tolist()}). "
            "Check the order (GeoJSON is lon, lat) and the CRS (WGS84).",
            field="geometry",
        )
    if not geom.is_valid:
        raise RegistryError(
            f"geometry: expected a valid {kind} (rings that do not cross themselves or each other); "
            f"got an invalid one: {explain_validity(geom)[:150]}. Fix the outline (e.g. shapely's "
            "make_valid, or QGIS's Fix geometries).",
            field="geometry",
        )
    return geom


def area_ha(geom: Any) -> float:
    from pyproj import Geod

    a, _ = Geod(ellps="WGS84").geometry_area_perimeter(geom)
    return abs(float(a)) / 1e4


def check_on_land(geom: Any, country: str) -> None:
    """The geometry lies in ``country`` (within the tolerance); at sea or elsewhere: refused."""
    countries = _countries()
    name, _, shape = countries[country]
    if shape.distance(geom) <= LAND_TOLERANCE_DEG:
        return
    elsewhere = [c for c, (_, _, g) in countries.items() if g.distance(geom) <= LAND_TOLERANCE_DEG]
    pt = geom.representative_point()
    where = f"(around lon {pt.x:.3f}, lat {pt.y:.3f})"
    if elsewhere:
        raise RegistryError(
            f"geometry: expected a place in {country} ({name}); the geometry {where} lies in "
            f"{', '.join(elsewhere[:3])}. Fix the country or the coordinates (GeoJSON is lon, lat).",
            field="geometry",
        )
    raise RegistryError(
        f"geometry: expected a place on land in {country} ({name}); the geometry {where} is at sea "
        "(farther than ~5 km from any country's land). Check the coordinates (GeoJSON is lon, lat).",
        field="geometry",
    )


def check_dates(start: date, end: date) -> None:
    if end < start:
        raise RegistryError(
            f"end_date: expected a date on or after start_date ({start.isoformat()}); got "
            f"{end.isoformat()}. Swap the dates or fix the end.",
            field="end_date",
        )


def project_row(props: ProjectIn, geometry: Any, organisation_id: int) -> dict[str, Any]:
    """The checked column values of a project (without id, version, timestamps)."""
    import json

    country, _ = check_country(props.country)
    check_dates(props.start_date, props.end_date)
    practices = check_practices(props.practices)
    geom = parse_geometry(geometry)
    check_on_land(geom, country)
    if geom.geom_type == "Point":
        if props.area_ha is None:
            raise RegistryError(
                "area_ha: a project given as a Point needs its area in hectares (> 0); got none. "
                "Give area_ha, or the project's outline as a Polygon.",
                field="area_ha",
            )
        area = float(props.area_ha)
    else:
        area = area_ha(geom)
    c = geom.centroid if geom.geom_type != "Point" else geom
    return {
        "name": props.name,
        "organisation_id": organisation_id,
        "country": country,
        "geometry": json.dumps(sg.mapping(geom)),
        "area_ha": area,
        "centroid_lon": float(c.x),
        "centroid_lat": float(c.y),
        "start_date": props.start_date,
        "end_date": props.end_date,
        "practices": json.dumps(practices),
        "soil_type": props.soil_type,
        "status": props.status,
        "funding": props.funding,
    }
