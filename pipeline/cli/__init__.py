"""``socobs``: the command line of the observatory, one module per command group.

- ``_app``: the root app, consoles, progress bars, small parsers;
- ``options``: options several commands share (``--store``, ``--registry`` ...), declared once;
- ``settings``: defaults of working data, honouring ``SOCOBS_*`` like the API's settings;
- ``ingest`` (ingest, update, watch), ``indicators`` (+ ``export indicators``), ``rothc``,
  ``regions``, ``zonal``, ``cube``, ``stac``, ``demo`` (demo, demo-catalog), ``schema``.

Every user-facing failure prints one paragraph (what was expected, what was received, how to
fix it) and exits with code 2; no traceback for a user's mistake. Command modules import the
pipeline lazily, inside the commands, so ``--help`` and usage errors stay fast.
"""

from __future__ import annotations

import sys

import typer

from pipeline.cli import cube, demo, indicators, ingest, regions, rothc, schema, stac, zonal
from pipeline.cli._app import app, err_console
from pipeline.errors import PipelineError

app.add_typer(cube.app, name="cube")
app.add_typer(stac.app, name="stac")
app.add_typer(regions.app, name="regions")
app.add_typer(rothc.app, name="rothc")
app.add_typer(indicators.export_app, name="export")

__all__ = ["app", "main"]
_COMMAND_MODULES = (demo, ingest, schema, zonal)  # register their commands on import


def main() -> None:
    """Entry point: run the app, turning known errors into one clear paragraph and exit 2."""
    from kernels.errors import KernelInputError

    try:
        app(standalone_mode=False)
    except (PipelineError, KernelInputError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)
