"""The KPIs the observatory computes itself, from one store snapshot.

Read from the region tables the indicator job writes (``pipeline.store.TABLES``: region x epoch x
stratum, see ``pipeline.indicators.tables``), one value per epoch, each naming the snapshot:

    countries_with_soc_data        country rows with valid_area_km2 > 0 (stratum all)
    countries_on_4p1000_path       country rows with progress_4p1000 >= 1 (stratum all); None at an
                                   epoch where no country has a rate (the baseline epoch)
    cropland_significant_increase  trend_sig_increase_share of the global row, stratum cropland: the
                                   share of cropland area with a trend whose trend is a significant
                                   increase (the tables hold the share, not the cropland area itself)
    global_soc_change_rate         soc_change_rate_permille of the global row (stratum all)

and from the catalog of MRV systems (``catalogs/mrv_systems.yaml``), one value at the snapshot:

    mrv_systems                    systems in the catalog
    mrv_operators                  distinct operator names, as written

and from the registry of projects (``pipeline.registry.kpis``; no value without a registry or
before its first project), one value at the date it is counted:

    registry_projects_registered   projects registered
    registry_projects_assessed     projects with a successful ex-ante assessment (E3 tool)
    registry_projects_in_line      projects whose ex-ante verdict is in line with the vision
    registry_project_area_ha       area of the registered projects (ha)
    registry_expected_removals     expected removals, t CO2e/yr (sum of the ex-ante balances)
    registry_projects_observed     projects with an ex-post result (polygon vs control ring, E2)
    registry_observed_rate_difference  area-weighted project - control SOC change rate (E2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pipeline.errors import PipelineError, clip
from pipeline.indicators.registry import STRATA
from pipeline.paths import catalogs_dir

ALL = STRATA.index("all")
CROPLAND = STRATA.index("cropland")
TABLE_COLUMNS = ("valid_area_km2", "progress_4p1000", "trend_sig_increase_share", "soc_change_rate_permille")


@dataclass(frozen=True)
class TableView:
    """What the computed KPIs read of one snapshot: the region tables and their labels."""

    snapshot_id: str
    written_at: datetime | None
    epochs: list[int]
    region_ids: list[str]
    levels: list[str]
    tables: Mapping[str, np.ndarray]  # column -> (region, epoch, stratum)

    def rows(self, level: str) -> list[int]:
        return [i for i, lv in enumerate(self.levels) if lv == level]


@dataclass(frozen=True)
class Value:
    """One computed value: at an epoch of the snapshot's tables, or of the snapshot itself."""

    value: float | None
    date: str  # the epoch's year, or the snapshot's commit date
    snapshot_id: str
    epoch: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def read_tables(store: str, snapshot_id: str | None = None) -> TableView:
    """The region tables of a snapshot of ``store`` (default: the tip of main), read only."""
    import icechunk

    from pipeline.store import BRANCH, TABLES, open_group, open_repo

    repo = open_repo(store)
    try:
        session = (
            repo.readonly_session(snapshot_id=snapshot_id)
            if snapshot_id
            else repo.readonly_session(branch=BRANCH)
        )
    except (icechunk.IcechunkError, ValueError) as exc:
        raise PipelineError(
            f"the store {clip(store)} has no snapshot {clip(snapshot_id or BRANCH)} ({clip(exc, 150)}). "
            "Pass a snapshot id from `socobs cube log`, or leave it out for the latest."
        ) from None
    sid = str(session.snapshot_id)
    ds = open_group(session, TABLES, required=False)
    if ds is None:
        raise PipelineError(
            f"the snapshot {sid} of {clip(store)} has no region tables: the KPIs are computed from "
            "the indicator job's tables. Run `socobs indicators JOB.yaml` first."
        )
    written = repo.lookup_snapshot(sid).written_at
    return TableView(
        snapshot_id=sid,
        written_at=written,
        epochs=[int(e) for e in ds["epoch"].values],
        region_ids=[str(r) for r in ds["region"].values],
        levels=[str(v) for v in ds["level"].values],
        tables={c: np.asarray(ds[c].values) for c in TABLE_COLUMNS},
    )


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def countries_with_soc_data(view: TableView) -> list[Value]:
    rows = view.rows("country")
    area = view.tables["valid_area_km2"]
    out = []
    for k, e in enumerate(view.epochs):
        n = int(np.sum(area[rows, k, ALL] > 0)) if rows else 0
        out.append(Value(float(n), str(e), view.snapshot_id, e, {"countries": len(rows)}))
    return out


def countries_on_4p1000_path(view: TableView) -> list[Value]:
    rows = view.rows("country")
    prog = view.tables["progress_4p1000"]
    out = []
    for k, e in enumerate(view.epochs):
        p = prog[rows, k, ALL] if rows else np.array([])
        with_rate = int(np.isfinite(p).sum())
        value = float(np.sum(p[np.isfinite(p)] >= 1.0)) if with_rate else None
        out.append(Value(value, str(e), view.snapshot_id, e, {"countries_with_rate": with_rate}))
    return out


def _global_column(view: TableView, column: str, stratum: int) -> list[Value]:
    rows = view.rows("global")
    if not rows:
        return [Value(None, str(e), view.snapshot_id, e) for e in view.epochs]
    col = view.tables[column]
    return [
        Value(_finite(col[rows[0], k, stratum]), str(e), view.snapshot_id, e)
        for k, e in enumerate(view.epochs)
    ]


def cropland_significant_increase(view: TableView) -> list[Value]:
    return _global_column(view, "trend_sig_increase_share", CROPLAND)


def global_soc_change_rate(view: TableView) -> list[Value]:
    return _global_column(view, "soc_change_rate_permille", ALL)


def mrv_catalog(path: Path | None = None) -> list[dict[str, Any]]:
    """The systems of the MRV catalog (objective E1)."""
    p = path or catalogs_dir() / "mrv_systems.yaml"
    try:
        doc = yaml.load(p.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        systems = doc["systems"]
        if not isinstance(systems, list) or not all(isinstance(s, dict) for s in systems):
            raise TypeError("`systems` is not a list of mappings")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise PipelineError(
            f"{clip(p)}: expected the MRV-systems catalog (a `systems` list); could not read it "
            f"({clip(exc, 150)}). Restore the shipped file."
        ) from None
    return systems


def _snapshot_date(view: TableView) -> str:
    return view.written_at.date().isoformat() if view.written_at is not None else ""


def mrv_systems(view: TableView, systems: list[dict[str, Any]]) -> list[Value]:
    detail = {"catalog": "catalogs/mrv_systems.yaml"}
    return [Value(float(len(systems)), _snapshot_date(view), view.snapshot_id, None, detail)]


def mrv_operators(view: TableView, systems: list[dict[str, Any]]) -> list[Value]:
    names = {str(s.get("operator", "")).strip() for s in systems} - {""}
    detail = {"catalog": "catalogs/mrv_systems.yaml", "systems": len(systems)}
    return [Value(float(len(names)), _snapshot_date(view), view.snapshot_id, None, detail)]


TABLE_KPIS: dict[str, Callable[[TableView], list[Value]]] = {
    "countries_with_soc_data": countries_with_soc_data,
    "countries_on_4p1000_path": countries_on_4p1000_path,
    "cropland_significant_increase": cropland_significant_increase,
    "global_soc_change_rate": global_soc_change_rate,
}
CATALOG_KPIS: dict[str, Callable[[TableView, list[dict[str, Any]]], list[Value]]] = {
    "mrv_systems": mrv_systems,
    "mrv_operators": mrv_operators,
}


# computation name -> the figure of pipeline.registry.kpis.registry_kpis
REGISTRY_KPIS = {
    "registry_projects_registered": "projects_registered",
    "registry_projects_assessed": "projects_assessed",
    "registry_projects_in_line": "projects_in_line",
    "registry_project_area_ha": "project_area_ha",
    "registry_expected_removals": "expected_removals_t_co2e_yr",
    "registry_projects_observed": "projects_observed",
    "registry_observed_rate_difference": "observed_rate_difference_t_c_ha_yr",
}


def registry_values(view: TableView) -> dict[str, list[Value]]:
    """The registry's figures (none without a registry), dated the day they are counted."""
    from pipeline.registry.kpis import kpi_values

    figures = kpi_values()
    if figures is None:
        return {name: [] for name in REGISTRY_KPIS}
    today = datetime.now(UTC).date().isoformat()
    detail = {"catalog": "the registry of projects"}
    return {  # a figure with nothing to average (NaN: no project observed yet) has no value
        name: [Value(figures[k], today, view.snapshot_id, None, detail)] if math.isfinite(figures[k]) else []
        for name, k in REGISTRY_KPIS.items()
    }


def compute_all(view: TableView, systems: list[dict[str, Any]] | None = None) -> dict[str, list[Value]]:
    """Every computation of the snapshot but ``objectives_with_kpi_value`` (a roll-up of the
    others: ``pipeline.kpis.report``), by computation name."""
    cat = mrv_catalog() if systems is None else systems
    out = {name: f(view) for name, f in TABLE_KPIS.items()}
    out.update({name: f(view, cat) for name, f in CATALOG_KPIS.items()})
    out.update(registry_values(view))
    return out
