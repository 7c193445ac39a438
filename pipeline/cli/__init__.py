"""``socobs``: the command line of the observatory, one module per command group.

- ``_app``: the root app (``--version``, ``--debug``), consoles, progress bars, small parsers;
- ``options``: options several commands share (``--store``, ``--registry``, ``--var`` ...) and
  the choices of choice options, declared once;
- ``settings``: where working data live (``--var``, ``SOCOBS_*``), like the API's settings;
- ``_report``: how a failure is reported (one paragraph, exit 2; 1 and a log file for a bug);
- ``ingest`` (ingest, update, watch), ``indicators`` (+ ``export indicators``), ``rothc``,
  ``regions``, ``zonal``, ``cube``, ``stac``, ``demo`` (demo, demo-catalog), ``schema``,
  ``assess`` (ex-ante project balance, IPCC Tier 1).

Command modules import the pipeline lazily, inside the commands, so ``--help`` and usage errors
stay fast. Every guard (sizes, bounds, permissions) runs before any work or any write.
"""

from __future__ import annotations

import sys

import typer

from pipeline.cli import assess, cube, demo, indicators, ingest, kpi, regions, rothc, schema, stac, zonal
from pipeline.cli import registry as registry_cli
from pipeline.cli._app import app, err_console, state
from pipeline.errors import PipelineError

app.add_typer(cube.app, name="cube")
app.add_typer(stac.app, name="stac")
app.add_typer(regions.app, name="regions")
app.add_typer(rothc.app, name="rothc")
app.add_typer(indicators.export_app, name="export")
app.add_typer(kpi.app, name="kpi")  # + kpi record (registry_cli)
app.add_typer(registry_cli.db_app, name="db")
app.add_typer(registry_cli.keys_app, name="keys")
app.add_typer(registry_cli.registry_app, name="registry")

__all__ = ["app", "main", "run"]
_COMMAND_MODULES = (assess, demo, ingest, schema, zonal)  # register their commands on import


def _say(message: str) -> None:
    from rich.markup import escape

    from pipeline.cli._report import paragraph

    err_console.print(f"[bold red]error:[/] {escape(paragraph(message))}", highlight=False, soft_wrap=True)


def run(argv: list[str] | None = None) -> int:
    """Run ``socobs`` with ``argv`` (default: the process's) and return its exit code; every
    failure is reported as one paragraph on stderr (see ``pipeline.cli._report``)."""
    from pipeline.cli import _report

    args = list(sys.argv[1:] if argv is None else argv)
    state["debug"] = False
    try:
        app(args=args, prog_name="socobs", standalone_mode=False)
        return 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted", highlight=False)
        return 130
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed
            return 0
        if hasattr(exc, "ctx"):  # a usage error
            _say(_report.usage_message(exc, args))
        else:
            _say(f"{exc.format_message()} See `socobs --help`.")
        return 2
    except PipelineError as exc:
        _say(str(exc))
        return 2
    except OSError as exc:
        _say(_report.os_message(exc))
        return 2
    except MemoryError:
        _say(
            "ran out of memory. Expected a job that fits this machine: use a coarser resolution, "
            "a smaller region or smaller chunks, or a Dask cluster (--scheduler)."
        )
        return 2
    except Exception as exc:
        from kernels.errors import KernelInputError
        from pipeline.errors import permission_denied

        if isinstance(exc, KernelInputError):
            _say(str(exc))
            return 2
        if permission_denied(exc):
            _say(
                f"permission denied: {type(exc).__name__}: {exc}. Choose paths this user may write "
                "(e.g. another --var or --store) or fix their permissions."
            )
            return 2
        _say(_report.internal_message(exc, args, bool(state["debug"])))
        return 1


def main() -> None:
    """Entry point of ``socobs``."""
    sys.exit(run())
