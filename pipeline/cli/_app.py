"""The root ``socobs`` app, its consoles, progress bars and the small parsers commands share."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from pipeline.errors import PipelineError

app = typer.Typer(
    name="socobs",
    help="soc-observatory: soil organic carbon and soil health observatory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)


def progress() -> Progress:
    """Progress bars on stderr (stdout stays for results)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
        console=err_console,
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


def job_with(job: Any, scheduler: str | None, store: str | None) -> Any:
    """The job with the command line's --scheduler / --store overriding its own."""
    upd = {k: v for k, v in (("scheduler", scheduler), ("store", store)) if v}
    return job.model_copy(update=upd) if upd else job
