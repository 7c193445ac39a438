"""``POST /v1/assess/ex-ante`` and ``GET /v1/practices``: ex-ante carbon balance (objective E3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from observatory_api.deps import json_response
from observatory_api.errors import BadParameter
from observatory_api.jsonbody import parse_json
from observatory_api.models import ERROR_RESPONSES
from observatory_api.services import assess as service
from pipeline.assess.project import MAX_ACTIVITIES, MAX_DRAWS, Project
from pipeline.assess.tables import CLIMATE_ZONES, LAND_USES, SOIL_TYPES

router = APIRouter(tags=["impact assessment"], responses=ERROR_RESPONSES)

DESCRIPTION = f"""
Ex-ante SOC balance of a project, IPCC 2019 Refinement Tier 1 for mineral soils (Vol. 4 Ch. 2
Eq. 2.25: SOC = SOC_REF * F_LU * F_MG * F_I, 0-30 cm, linear change over 20 years; default
factors of Tables 2.3, 5.5 and 6.2, each cited in the answer). Balance = with-project minus
without-project; negative = removal (EX-ACT's sign); t C and t CO2e (x 44/12), per year and in
total, with a seeded Monte Carlo 95 % interval (IPCC Approach 2) and the "4 per 1000" verdict.

Minimal body: `{{"area_ha": 100, "climate_zone": "tropical_moist", "soil_type": "HAC", "years":
20, "baseline": {{...}}, "project": {{...}}}}`; or `activities: [...]` for several. Limits: years
1-100, area > 0 and <= 1e9 ha, at most {MAX_ACTIVITIES} activities, at most {MAX_DRAWS} draws.
Unknown names and combinations the tables do not define (a tillage factor for grassland) are
refused (422 naming the allowed values); organic soils are refused with the reason (Table 2.5).
Without `soil_type` the answer is the range over the soil classes Table 2.3 gives for the zone
(`soil_type_range`, `by_soil_type`). With a `location` (lat, lon): the climate zone from the
served snapshot, `reference: measured` for the measured stock, the soil-health (SOC/clay) check
in the verdict and `tier2`: the same scenario through RothC with the cell's climate and clay.
"""


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its ``#/$defs/...`` references inlined (the models are not
    recursive): OpenAPI tools resolve references into ``components``, and ReDoc refuses ``$defs``."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: dict[str, Any] = walk(schema)
    return out


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/v1/assess/ex-ante",
    description=DESCRIPTION,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(Project.model_json_schema())}},
        }
    },
)
def ex_ante(request: Request, raw: Annotated[bytes, Depends(raw_body)]) -> Response:
    try:
        project = Project.model_validate(parse_json(raw))
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    store, snap = _served(request)
    return json_response(service.ex_ante(project, store, snap))


def _served(request: Request) -> tuple[str, str | None]:
    loaded = request.app.state.reader.loaded
    return request.app.state.settings.store, loaded.snapshot_id if loaded is not None else None


@router.get("/v1/practices")
def practices(
    request: Request,
    soil_type: Annotated[
        str | None,
        Query(
            max_length=40,
            description=f"One of: {', '.join(SOIL_TYPES)}; without it, the answer per soil class "
            "plausible in the zone (by_soil_type) and each practice's range over them",
        ),
    ] = None,
    climate_zone: Annotated[
        str | None,
        Query(
            max_length=40,
            description=f"One of: {', '.join(CLIMATE_ZONES)}; or give lat and lon, or a region",
        ),
    ] = None,
    land_use: Annotated[
        str | None, Query(max_length=40, description=f"Only practices for: {', '.join(LAND_USES)}")
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude (WGS84 degrees)")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Longitude (WGS84 degrees)")] = None,
    region: Annotated[
        str | None, Query(max_length=100, description="A region id of GET /v1/regions (instead of lat/lon)")
    ] = None,
) -> Response:
    """The practice catalogue with each practice's Tier 1 dSOC for the stratum (t C/ha/yr and
    t CO2e/ha/yr, 95 % range), or the method a practice needs where Eq. 2.25 does not cover it.
    With `lat` and `lon`: the climate zone from the observatory's cube there (unless given) and,
    per practice, `local`: the change scaled to the measured 0-30 cm stock at that cell. With
    `region`: the climate zone covering the largest share of the region's area (`region`:
    `climate_zone_share`, every zone's share) and `local` scaled to the region's area-weighted
    mean measured stock at the first epoch. Without `soil_type`: as POST /v1/assess/ex-ante, the
    answer once per soil class Table 2.3 gives in the zone (`by_soil_type`, `soil_type_range`)."""
    if (lat is None) != (lon is None):
        raise BadParameter(
            f"lat, lon: expected both or neither; got lat={lat!r}, lon={lon!r}.",
            parameter="lat" if lat is None else "lon",
        )
    at = (lat, lon) if lat is not None and lon is not None else None
    if at is not None and region is not None:
        raise BadParameter(
            f"region: expected either lat and lon or a region, not both; got lat={lat!r}, lon={lon!r} "
            f"and region={region[:100]!r}. Leave out one of them.",
            parameter="region",
        )
    loaded = request.app.state.reader.loaded  # read once: the cell and the region see one snapshot
    store, snap_id = request.app.state.settings.store, loaded.snapshot_id if loaded is not None else None
    return json_response(
        service.practices(climate_zone, soil_type, land_use, at, store, snap_id, region=region, snap=loaded)
    )
