"""What-if maps: ``/v1/whatif/{practice}`` (regional total) and its tiles, TileJSON and legend."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from observatory_api.deps import SettingsDep, SnapshotDep, epoch_index, json_response, public_base
from observatory_api.errors import BadParameter
from observatory_api.models import ERROR_RESPONSES, Colormap, LegendStop, TileJson
from observatory_api.render import legend
from observatory_api.routers.maps import TileCacheDep, png_tile
from observatory_api.services import maps
from observatory_api.services import whatif as service

router = APIRouter(tags=["what-if maps"], responses=ERROR_RESPONSES)

PracticePath = Annotated[str, Path(max_length=100, description="A practice id of GET /v1/practices")]
EpochQuery = Annotated[
    int | None, Query(description="Epoch of the measured stock and the land cover; default: the latest")
]
LandCoverQuery = Annotated[
    str | None,
    Query(
        max_length=64, description="Land-cover stratum the practice is applied to; default: the practice's"
    ),
]
ReferenceQuery = Annotated[
    str,
    Query(
        max_length=16,
        description="measured: the cell's stock / the 'from' factors (Tier 1 with measured reference); "
        "ipcc: the default SOC_REF of soil_type (Table 2.3)",
    ),
]
SoilQuery = Annotated[str | None, Query(max_length=16, description="Soil class, with reference=ipcc")]
RescaleQuery = Annotated[str | None, Query(description="min,max of the colour ramp", max_length=64)]


class ZoneFactors(BaseModel):
    code: int
    climate_zone: str
    factor_from: float | None
    factor_to: float | None
    soc_ref_t_c_ha: float | None = None


class WhatIfTotal(BaseModel):
    """A practice applied to every cell of a class in a region: Tier 1 dSOC summed over the region."""

    snapshot_id: str
    region_id: str
    region_name: str
    epoch: int
    practice: str
    name: str
    from_: dict[str, Any] = Field(alias="from")
    to: dict[str, Any]
    land_cover: str
    land_cover_codes: list[int]
    reference: str
    soil_type: str | None
    years: int
    unit: str
    method: str
    sign: str
    zones: list[ZoneFactors]
    delta_soc_t_c_yr: float = Field(description="sum of area x dSOC over the class's cells, t C/yr")
    delta_t_co2e_yr: float = Field(description="the same x 44/12, t CO2e/yr")
    area_ha: float = Field(description="area of the class's cells with a value (fractions x true areas)")
    delta_soc_t_c_ha_yr_mean: float | None = Field(description="area-weighted mean dSOC, t C/ha/yr")
    region_area_ha: float
    synthetic: bool


class WhatIfLegend(BaseModel):
    practice: str
    unit: str
    colormap: str
    stops: list[LegendStop]
    nodata: str


def _prepare(practice: str, land_cover: str | None, reference: str, soil_type: str | None) -> service.WhatIf:
    return service.prepare(practice, land_cover, reference, soil_type)


def _ramp(colormap: Colormap | None, rescale: str | None) -> tuple[str, tuple[float, float]]:
    cmap = colormap.value if colormap is not None else service.DEFAULT_COLORMAP
    if cmap not in maps.RAMP_COLORMAPS:
        raise BadParameter(
            f"colormap {cmap!r} is for classes; a what-if map is continuous ({service.UNIT}).",
            parameter="colormap",
            allowed=list(maps.RAMP_COLORMAPS),
        )
    return cmap, maps.parse_rescale(rescale, service.DEFAULT_RESCALE)


@router.get(
    "/v1/whatif/{practice}/tiles/{z}/{x}/{y}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 304: {"description": "Not modified"}},
)
def whatif_tile(
    snap: SnapshotDep,
    cache: TileCacheDep,
    practice: PracticePath,
    z: Annotated[int, Path(ge=0, le=maps.MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    epoch: EpochQuery = None,
    land_cover: LandCoverQuery = None,
    reference: ReferenceQuery = "measured",
    soil_type: SoilQuery = None,
    colormap: Annotated[Colormap | None, Query(description="A ramp; default brbg")] = None,
    rescale: RescaleQuery = None,
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """A 256 x 256 PNG of the Tier 1 dSOC (t C/ha/yr) of a practice applied to every cell of its
    land-cover class; transparent where it does not apply."""
    maps.check_tile(z, x, y)
    w = _prepare(practice, land_cover, reference, soil_type)
    k = epoch_index(snap, epoch)
    cmap, rs = _ramp(colormap, rescale)
    key = f"{snap.snapshot_id}/whatif/{w.key}/{snap.epochs[k]}/{z}/{x}/{y}/{cmap}/{rs[0]!r},{rs[1]!r}"
    return png_tile(
        snap, cache, key, if_none_match, lambda: service.render_tile(snap, w, z, x, y, k, cmap, rs)
    )


@router.get("/v1/whatif/{practice}/tilejson.json", response_model=TileJson)
def whatif_tilejson(
    request: Request,
    snap: SnapshotDep,
    settings: SettingsDep,
    practice: PracticePath,
    epoch: EpochQuery = None,
    land_cover: LandCoverQuery = None,
    reference: ReferenceQuery = "measured",
    soil_type: SoilQuery = None,
) -> Response:
    """TileJSON 3.0 of a what-if layer (its minzoom: the first zoom a tile reads a bounded window)."""
    w = _prepare(practice, land_cover, reference, soil_type)
    k = epoch_index(snap, epoch)
    params = {"epoch": snap.epochs[k], "land_cover": w.stratum, "reference": w.reference}
    if w.soil_type is not None:
        params["soil_type"] = w.soil_type
    body = service.tilejson(snap, w, k, public_base(request, settings), urlencode(params))
    return json_response(body, snap)


@router.get("/v1/whatif/{practice}/legend", response_model=WhatIfLegend)
def whatif_legend(
    snap: SnapshotDep,
    practice: PracticePath,
    colormap: Colormap | None = None,
    rescale: RescaleQuery = None,
) -> Response:
    """Colour stops (t C/ha/yr) of a what-if layer."""
    w = _prepare(practice, None, "measured", None)
    cmap, rs = _ramp(colormap, rescale)
    body = {"practice": w.practice.id, "unit": service.UNIT, "colormap": cmap, "stops": legend(cmap, rs)}
    return json_response({**body, "nodata": "transparent"}, snap)


@router.get("/v1/whatif/{practice}", response_model=WhatIfTotal, response_model_by_alias=True)
def whatif_total(
    snap: SnapshotDep,
    practice: PracticePath,
    region: Annotated[str, Query(max_length=100, description="A region id of GET /v1/regions")],
    land_cover: LandCoverQuery = None,
    epoch: EpochQuery = None,
    reference: ReferenceQuery = "measured",
    soil_type: SoilQuery = None,
) -> Response:
    """The regional total of a what-if map: Tier 1 dSOC of the practice applied to every cell of its
    land-cover class in the region, summed with exact coverage fractions and true cell areas
    (t C/yr, t CO2e/yr, area in ha and the per-hectare mean)."""
    w = _prepare(practice, land_cover, reference, soil_type)
    k = epoch_index(snap, epoch)
    key = ("whatif", w.key, region, k)
    body = snap.bodies.get(key)
    if body is None:
        body = orjson.dumps(service.regional_total(snap, w, region, k), option=orjson.OPT_SERIALIZE_NUMPY)
        snap.bodies.put(key, body)
    return Response(body, media_type="application/json", headers={"X-Snapshot-Id": snap.snapshot_id})
