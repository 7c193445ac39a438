"""The root ``socobs`` app, its consoles, progress bars and the small parsers commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from pipeline.errors import PipelineError, clip

app = typer.Typer(
    name="socobs",
    help="soc-observatory: soil organic carbon and soil health observatory. Working data (store, "
    "caches, region registry) live under --var (default: $SOCOBS_VAR, else ./var); paths in a job "
    "file are relative to the job file. Errors print one paragraph and exit 2 (1: an internal error, "
    "with the traceback in a log file, or on screen with --debug).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)
state = {"debug": False}


def version() -> str:
    """The installed package's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("soc-observatory")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"socobs {version()}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="On an internal error, print the full traceback.")
    ] = False,
) -> None:
    """The options before any command: --version, --debug."""
    state["debug"] = debug


def progress() -> Progress:
    """Progress bars on stderr (stdout stays for results)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
        console=err_console,
        disable=not err_console.is_terminal,  # bars are for people; logs and pipes get results only
    )


class Stages:
    """One rich progress bar per stage (search, write ...), driven by pipeline reports."""

    def __init__(self, prog: Progress) -> None:
        self.prog = prog
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, label: str, done: int, total: int) -> None:
        stage = label.split(" ", 1)[0]
        if stage not in self.tasks:
            self.tasks[stage] = self.prog.add_task(stage, total=total or None, label="")
        self.prog.update(self.tasks[stage], completed=done, total=total or None, label=label)


def parse_years(value: str) -> tuple[int, int]:
    """``START-END`` (or one year) as a pair of ints."""
    try:
        a, _, b = value.partition("-")
        return int(a), int(b or a)
    except ValueError:
        raise PipelineError(f"--years: expected START-END (e.g. 2015-2024), got {value!r}.") from None


def parse_bbox(value: str | None) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees; the whole globe when not given."""
    if value is None:
        return (-180.0, -90.0, 180.0, 90.0)
    try:
        w, s, e, n = (float(v) for v in value.split(","))
    except ValueError:
        raise PipelineError(
            f"--bbox: expected four numbers west,south,east,north (e.g. 33,-5,42,5), got {value!r}."
        ) from None
    return (w, s, e, n)


def interval(every: str) -> int:
    """``30s``, ``10m``, ``1h`` in seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    if not every or every[-1] not in units or not every[:-1].isdigit():
        raise PipelineError(f"--every: expected a number and s, m or h (e.g. 10m), got {every!r}.")
    return int(every[:-1]) * units[every[-1]]


def load_job_for(
    job_file: Path, var: Path | None, *, scheduler: str | None = None, store: str | None = None
) -> Any:
    """The job file, its paths resolved (relative to the job file; a missing store under VAR),
    with the command line's --scheduler / --store overriding its own."""
    from pipeline.cli.settings import work_paths
    from pipeline.config import load_job

    paths = work_paths(var)
    job = load_job(job_file, var=paths.var, default_store=paths.store)
    upd = {k: v for k, v in (("scheduler", scheduler), ("store", store)) if v}
    return job.model_copy(update=upd) if upd else job


def writable_store(uri: str) -> None:
    """Refuse a store this process cannot write, before any work."""
    from pipeline.store import check_writable

    check_writable(uri)


def out_dir(path: Path, option: str) -> Path:
    """``path`` for an output directory option: refused when it is an existing file."""
    if path.exists() and not path.is_dir():
        raise PipelineError(
            f"{option}: expected a directory (new or existing), got the file {clip(path)}. "
            f"Pass {option} with a directory path."
        )
    return path
