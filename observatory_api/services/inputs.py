"""What the indicators were computed from, as the API says it: the indicator group's
provenance attributes written by the indicator job (``pipeline.indicators.inputs``).

A store written before the job recorded them (every input present) has no notes: nothing
assumed, everything available."""

from __future__ import annotations

from typing import Any

from observatory_api.reader import Snapshot
from pipeline.indicators.registry import STRATA


def notes(snap: Snapshot) -> dict[str, Any]:
    """Stock method, its inputs, the assumptions and what is not available (by indicator id)."""
    a = snap.attrs
    return {
        "stock_method": a.get("stock_method"),
        "stock_inputs": [str(v) for v in a.get("stock_inputs", [])],
        "assumptions": [str(v) for v in a.get("assumptions", [])],
        "not_available": {str(k): str(v) for k, v in dict(a.get("not_available", {})).items()},
    }


def not_available(snap: Snapshot, indicator: str, stratum: int = 0) -> str | None:
    """Why ``indicator`` of stratum index ``stratum`` has no values, or None when it has."""
    na = notes(snap)["not_available"]
    if stratum > 0 and "strata" in na:
        return f"stratum {STRATA[stratum]}: {na['strata']}"
    return na.get(indicator)


def bounds_not_available(snap: Snapshot) -> str | None:
    return notes(snap)["not_available"].get("bounds")


def strata(snap: Snapshot) -> list[str]:
    """The strata with values: only "all" without land cover."""
    return ["all"] if "strata" in notes(snap)["not_available"] else list(STRATA)
