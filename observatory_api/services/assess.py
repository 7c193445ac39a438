"""Ex-ante impact assessment (IPCC 2019 Tier 1, issue 17) and the practice catalogue.

Pure functions of a request's data: no snapshot, no store (Tier 1 from the IPCC defaults; the
cube's climate zone, soil class and measured reference stock are later work). Bad input is a
``BadParameter`` (422 problem+json) naming the parameter and, for a name, the allowed values.
"""

from __future__ import annotations

from typing import Any

from observatory_api.errors import BadParameter
from pipeline.assess import AssessError, assess
from pipeline.assess.practices import practice_values
from pipeline.assess.project import Project


def _bad(exc: AssessError) -> BadParameter:
    return BadParameter(str(exc), parameter=exc.parameter, allowed=exc.allowed)


def ex_ante(project: Project) -> dict[str, Any]:
    """The whole result of ``pipeline.assess.assess`` (the same numbers as ``socobs assess``)."""
    try:
        return assess(project)
    except AssessError as exc:
        raise _bad(exc) from None


def practices(climate_zone: str, soil_type: str, land_use: str | None) -> dict[str, Any]:
    """Every practice with its Tier 1 dSOC (t C/ha/yr, t CO2e/ha/yr, 95 % range) in the stratum."""
    try:
        return practice_values(climate_zone, soil_type, land_use)
    except AssessError as exc:
        raise _bad(exc) from None
