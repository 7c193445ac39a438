"""Ex-ante impact assessment (IPCC 2019 Tier 1, issue 17) and the practice catalogue.

Tier 1 from the IPCC defaults is a pure function of the request; with a location (lat/lon) the
climate zone and the measured reference stock come from the snapshot being served
(``pipeline.assess.location.site_at``: one cell of the cube and of the indicator maps). With a
region (the practices), the region's zone is the climate zone covering the largest part of its
area (the ``climate_zone`` map reduced with the region's exact coverage fractions and true cell
areas, ``services.whatif.reduce_region``), and its measured stock the region table's area-weighted
mean 0-30 cm stock, stratum "all", at the first epoch. Bad input is a ``BadParameter`` (422
problem+json) naming the parameter and, for a name, the allowed values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kernels.climate_zone import ZONES
from kernels.zonal import AREA_TOTAL
from observatory_api.errors import BadParameter, NotFound
from observatory_api.reader import Snapshot
from observatory_api.services.maps import attribution
from observatory_api.services.whatif import ZONE_MAP, reduce_region
from pipeline.assess import AssessError, assess
from pipeline.assess.location import Site, site_at
from pipeline.assess.practices import practice_answer, practices_at
from pipeline.assess.project import Project
from pipeline.indicators.registry import STRATA

NO_ZONE = 255  # the climate_zone map's nodata


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


def region_zone(snap: Snapshot, region_id: str) -> dict[str, Any]:
    """The region's climate zones by area: each zone's share of the region's area that has a zone
    (exact coverage fractions x true cell areas), the largest first (ties: the lower code), and
    the share of the region's area with a zone. Memoised per snapshot (a small fact)."""
    key = ("practices_region_zone", region_id)
    memo = snap.memo.get(key)
    if memo is not None:
        return dict(memo)
    n_codes = len(ZONES) + 1  # codes 0..12; 255 (no zone) goes to the last slot
    if ZONE_MAP in snap.base.arrays:
        zones = snap.base.arrays[ZONE_MAP]

        def band(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
            strata = snap.chunks.window(zones, (), rows, cols).astype(np.uint8, copy=False)
            return np.ones(strata.shape, dtype=np.float32), strata

        stats = reduce_region(snap, region_id, band, n_strata=n_codes, what="a region's climate zone")
        areas = stats[:, AREA_TOTAL]
    else:
        areas = np.zeros(n_codes + 1)
    zoned = float(areas[1:n_codes].sum())
    total = float(areas.sum())
    order = sorted(range(1, n_codes), key=lambda c: (-areas[c], c))
    shares = [
        {"climate_zone": ZONES[c - 1], "code": c, "share": float(areas[c]) / zoned}
        for c in order
        if areas[c] > 0
    ]
    out = {
        "climate_zone_shares": shares,
        "zoned_area_share": zoned / total if total > 0 else 0.0,
        "has_zone_map": ZONE_MAP in snap.base.arrays,
    }
    snap.memo[key] = out
    return dict(out)


def region_place(snap: Snapshot, region_id: str, climate_zone: str | None) -> dict[str, Any]:
    """What the practices need of a region: its zone (the given one, else the largest by area),
    the shares behind it and its measured stock (table ``soc_stock``, stratum "all", first epoch)."""
    row = snap.row.get(region_id)
    if row is None or region_id not in snap.regions.index:
        close = [r for r in snap.region_ids if r.lower().startswith(region_id[:2].lower())][:10]
        raise NotFound(
            f"region: expected a region id of GET /v1/regions (search by name with ?q=); got "
            f"{region_id[:100]!r}, which is not one.",
            parameter="region",
            allowed=close or snap.region_ids[:10],
        )
    zone = region_zone(snap, region_id)
    shares = zone["climate_zone_shares"]
    if climate_zone is None and not shares:
        why = (
            "no climate_zone map in the store's indicators (indicator jobs of this version write it; "
            "run `socobs indicators JOB.yaml --full`)"
            if not zone["has_zone_map"]
            else "no cell of the region has a climate zone (no climatology there)"
        )
        raise BadParameter(
            f"region: expected a region whose climate zone the observatory can tell; {region_id!r} has "
            f"{why}. Give climate_zone (one of {', '.join(ZONES)}) with the region.",
            parameter="climate_zone",
            allowed=list(ZONES),
        )
    top = shares[0] if shares else None
    stock = float(snap.tables["soc_stock"][row, 0, STRATA.index("all")])
    return {
        "region_id": region_id,
        "name": snap.names[row],
        "climate_zone": climate_zone or (top["climate_zone"] if top else None),
        "climate_zone_from": "given" if climate_zone is not None else "largest share of the region's area",
        "climate_zone_share": next((z["share"] for z in shares if z["climate_zone"] == climate_zone), None)
        if climate_zone is not None
        else (top["share"] if top else None),
        **zone,
        "soc_stock_t_c_ha": stock if math.isfinite(stock) else None,
        "soc_stock_epoch": snap.epochs[0],
        "soc_stock_stratum": "all",
        "snapshot": snap.snapshot_id,
        "synthetic": attribution(snap).endswith("(synthetic demo data)"),
    }


def practices(
    climate_zone: str | None,
    soil_type: str | None,
    land_use: str | None,
    at: tuple[float, float] | None = None,
    store: str = "",
    snapshot: str | None = None,
    region: str | None = None,
    snap: Snapshot | None = None,
) -> dict[str, Any]:
    """Every practice with its Tier 1 dSOC (t C/ha/yr, t CO2e/ha/yr, 95 % range) in the stratum;
    at a location or in a region, the stratum's zone from the observatory (unless given) and each
    change scaled to the measured stock there; without soil_type, per plausible soil class."""
    try:
        if at is not None:
            found = site(store, snapshot, *at)
            if climate_zone is not None and climate_zone != found.climate_zone:
                found = Site(**{**found.as_dict(), "climate_zone": climate_zone})
            return practices_at(found, soil_type, land_use)
        if region is not None:
            if snap is None:
                raise BadParameter(
                    "region: the observatory has no snapshot loaded yet, so nothing is known of a "
                    "region; retry when /readyz answers 200, or give climate_zone instead.",
                    parameter="region",
                )
            place = region_place(snap, region, climate_zone)
            synthetic = ", synthetic demo data" if place["synthetic"] else ""
            source = (
                f"the region's area-weighted mean measured 0-30 cm stock (region {region}, stratum "
                f"all, epoch {place['soc_stock_epoch']}, snapshot {snap.snapshot_id}{synthetic})"
            )
            out = practice_answer(
                place["climate_zone"], soil_type, land_use, measured=place["soc_stock_t_c_ha"], source=source
            )
            out["region"] = place
            return out
        if climate_zone is None:
            raise BadParameter(
                "climate_zone: expected a climate zone, or lat and lon, or a region to take it from "
                "the observatory; got none of them.",
                parameter="climate_zone",
            )
        return practice_answer(climate_zone, soil_type, land_use)
    except AssessError as exc:
        raise _bad(exc) from None
