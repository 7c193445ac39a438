"""``socobs schema``: the JSON Schemas of job files and source definitions.

Without ``--out`` the schemas are printed (one JSON document per line, job then source), so the
command writes nothing wherever the shell happens to be; ``--out DIR`` writes
``DIR/job.schema.json`` and ``DIR/source.schema.json`` (the repository keeps them in
``catalogs/schemas/``: ``socobs schema --out catalogs/schemas``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console


@app.command("schema")
def schema(
    out: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Directory for the JSON Schemas (default: print them)."),
    ] = None,
) -> None:
    """Print (or write to --out) the JSON Schemas of job files and source definitions."""
    if out is None:
        import json

        from pipeline.config import JobSpec, SourceDef

        for model in (JobSpec, SourceDef):
            print(json.dumps(model.model_json_schema()))
        return
    from pipeline.config import write_schemas

    for p in write_schemas(out):
        console.print(f"[green]wrote[/] {p}")
