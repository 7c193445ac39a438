"""Ex-ante impact assessment (IPCC 2019 Tier 1, issue 17) and the practice catalogue.

Tier 1 from the IPCC defaults is a pure function of the request; with a location (lat/lon) the
climate zone and the measured reference stock come from the snapshot being served
(``pipeline.assess.location.site_at``: one cell of the cube and of the indicator maps). Bad input
is a ``BadParameter`` (422 problem+json) naming the parameter and, for a name, the allowed values.
"""

from __future__ import annotations

from typing import Any

from observatory_api.errors import BadParameter
from pipeline.assess import AssessError, assess
from pipeline.assess.location import Site, site_at
from pipeline.assess.practices import practice_values, practices_at
from pipeline.assess.project import Project


def _bad(exc: AssessError) -> BadParameter:
    return BadParameter(str(exc), parameter=exc.parameter, allowed=exc.allowed)


def site(store: str, snapshot: str | None, lat: float, lon: float) -> Site:
    """The observatory's cell at (lat, lon) in the served snapshot."""
    if snapshot is None:
        raise BadParameter(
            "location: the observatory has no snapshot loaded yet, so nothing is known at a location; "
            "retry when /readyz answers 200, or give climate_zone instead.",
            parameter="location",
        )
    try:
        return site_at(store, lat, lon, snapshot)
    except AssessError as exc:
        raise _bad(exc) from None


def ex_ante(project: Project, store: str, snapshot: str | None) -> dict[str, Any]:
    """The whole result of ``pipeline.assess.assess`` (the same numbers as ``socobs assess``)."""
    where = project.location
    found = site(store, snapshot, where.lat, where.lon) if where is not None else None
    try:
        return assess(project, site=found)
    except AssessError as exc:
        raise _bad(exc) from None


def practices(
    climate_zone: str | None,
    soil_type: str,
    land_use: str | None,
    at: tuple[float, float] | None = None,
    store: str = "",
    snapshot: str | None = None,
) -> dict[str, Any]:
    """Every practice with its Tier 1 dSOC (t C/ha/yr, t CO2e/ha/yr, 95 % range) in the stratum;
    at a location, the stratum's zone from the cube and each change scaled to the measured stock."""
    try:
        if at is not None:
            found = site(store, snapshot, *at)
            if climate_zone is not None and climate_zone != found.climate_zone:
                found = Site(**{**found.as_dict(), "climate_zone": climate_zone})
            return practices_at(found, soil_type, land_use)
        if climate_zone is None:
            raise BadParameter(
                "climate_zone: expected a climate zone, or lat and lon to take it from the cube; got "
                "neither.",
                parameter="climate_zone",
            )
        return practice_values(climate_zone, soil_type, land_use)
    except AssessError as exc:
        raise _bad(exc) from None
