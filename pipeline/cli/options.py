"""Options shared by several commands, declared once as ``Annotated`` types."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JobArg = Annotated[
    Path, typer.Argument(help="Job file (YAML); see catalogs/jobs/ and catalogs/schemas/job.schema.json.")
]
StoreOverride = Annotated[str | None, typer.Option(help="Store path or URI, overriding the job's.")]
Store = Annotated[str | None, typer.Option(help="Store path or URI (default: $SOCOBS_STORE or var/store).")]
Registry = Annotated[
    Path | None,
    typer.Option(help="Directory of registered region sets (default: $SOCOBS_REGISTRY or var/regions)."),
]
Cache = Annotated[
    Path | None, typer.Option(help="Coverage cache directory (default: $SOCOBS_CACHE or var/cache).")
]
Stac = Annotated[str | None, typer.Option(help="STAC API URL, overriding the job and sources.")]
Scheduler = Annotated[
    str | None, typer.Option(help="Dask scheduler (tcp://HOST:PORT); default a LocalCluster.")
]
Snapshot = Annotated[str | None, typer.Option(help="Snapshot id (default: latest).")]
