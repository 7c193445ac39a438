"""The catalog of SOC / soil-health monitoring and MRV systems (objective E1)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from observatory_api.errors import BadParameter
from pipeline.paths import catalogs_dir

KINDS = ("remote sensing", "database", "sensor network", "model", "survey", "methodology")
SCALES = ("global", "regional", "national", "sub-national")


@lru_cache(maxsize=1)
def systems() -> tuple[dict[str, Any], ...]:
    """Every system of ``catalogs/mrv_systems.yaml``, read once per process."""
    doc = yaml.safe_load((catalogs_dir() / "mrv_systems.yaml").read_text())
    return tuple(doc["systems"])


def find_systems(kind: str | None, scale: str | None, q: str | None) -> dict[str, Any]:
    """The systems of one kind and scale whose name or operator contains ``q``."""
    if kind is not None and kind not in KINDS:
        raise BadParameter(f"kind {kind!r} is not a kind of system.", parameter="kind", allowed=list(KINDS))
    if scale is not None and scale not in SCALES:
        raise BadParameter(f"scale {scale!r} is not a scale.", parameter="scale", allowed=list(SCALES))
    needle = q.lower() if q else None
    out = [
        s
        for s in systems()
        if (kind is None or s["kind"] == kind)
        and (scale is None or s["scale"] == scale)
        and (needle is None or needle in (s["name"] + " " + s["operator"]).lower())
    ]
    return {"count": len(out), "systems": out}
