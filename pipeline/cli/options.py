"""Options shared by several commands, declared once as ``Annotated`` types, and the choices of
choice options (checked against the pipeline's own tables in tests/pipeline/test_cli_options.py;
kept here so that ``--help`` and usage errors need no heavy import)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

JobArg = Annotated[
    Path,
    typer.Argument(
        metavar="JOB_FILE",
        help="Job file (YAML; schema: `socobs schema`). Paths in it are relative to the job file.",
    ),
]
Var = Annotated[
    Path | None,
    typer.Option(
        file_okay=False,
        help="Working data folder: the store, caches and region registry live under it "
        "(VAR/store, VAR/cache, VAR/regions). Default: $SOCOBS_VAR, else ./var.",
    ),
]
StoreOverride = Annotated[
    str | None,
    typer.Option(help="Store path or URI, overriding the job's (default: the job's, else VAR/store)."),
]
Store = Annotated[str | None, typer.Option(help="Store path or URI (default: VAR/store, or $SOCOBS_STORE).")]
Registry = Annotated[
    Path | None,
    typer.Option(
        file_okay=False,
        help="Directory of registered region sets (default: VAR/regions, or $SOCOBS_REGISTRY).",
    ),
]
Cache = Annotated[
    Path | None,
    typer.Option(file_okay=False, help="Coverage cache directory (default: VAR/cache, or $SOCOBS_CACHE)."),
]
Stac = Annotated[str | None, typer.Option(help="STAC API URL, overriding the job and sources.")]
Scheduler = Annotated[
    str | None, typer.Option(help="Dask scheduler (tcp://HOST:PORT); default a LocalCluster.")
]
Snapshot = Annotated[str | None, typer.Option(help="Snapshot id (default: latest).")]
Port = Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")]


class Level(StrEnum):
    """pipeline.regions.hierarchy.LEVELS"""

    global_ = "global"
    region = "region"
    country = "country"
    subnational = "subnational"
    custom = "custom"


class UserLevel(StrEnum):
    """pipeline.regions.hierarchy.USER_LEVELS"""

    subnational = "subnational"
    custom = "custom"


class Stratum(StrEnum):
    """pipeline.indicators.registry.STRATA"""

    all = "all"
    cropland = "cropland"
    grassland = "grassland"
    tree_cover = "tree_cover"


class ExportFormat(StrEnum):
    """pipeline.indicators.export.FORMATS"""

    csv = "csv"
    parquet = "parquet"
    geojson = "geojson"
    stac = "stac"


class CoverageMode(StrEnum):
    """pipeline.regions.zonal.CoverageMode"""

    exact = "exact"
    centre = "centre"


class Equilibrium(StrEnum):
    """pipeline.rothc.site.run_site's methods"""

    official = "official"
    exact = "exact"
