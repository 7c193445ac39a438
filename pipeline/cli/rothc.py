"""``socobs rothc``: RothC v2.0.0 scenario maps from the cube, and the official site files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import console, job_with
from pipeline.cli.options import JobArg, StoreOverride
from pipeline.errors import PipelineError

app = typer.Typer(help="The RothC v2.0.0 soil carbon model.", no_args_is_help=True)


@app.command("run")
def rothc_run(
    job_file: JobArg,
    store: StoreOverride = None,
    years: Annotated[int, typer.Option(help="Length of the scenario runs.")] = 20,
) -> None:
    """RothC sequestration-potential maps (BAU, +5/+10/+20 % input) from the cube, one commit."""
    from pipeline.config import load_job
    from pipeline.rothc_job import run_rothc_job

    job = job_with(load_job(job_file), None, store)
    t0 = time.perf_counter()
    res = run_rothc_job(job, years)
    console.print(
        f"[green]committed[/] {res.snapshot_id}: RothC scenarios for {res.pixels} pixels "
        f"(epoch {res.epoch}) in {time.perf_counter() - t0:.1f} s"
    )


@app.command("site")
def rothc_site(
    inputs: Annotated[list[Path], typer.Argument(help="RothC v2.0.0 input files (official layout).")],
    out: Annotated[Path, typer.Option(help="Output directory (one subdirectory per file if several).")],
    equilibrium: Annotated[
        str, typer.Option(help="official: stop as the official shell; exact: the fixed point.")
    ] = "official",
) -> None:
    """Run RothC on site files; write year_results.csv and month_results.csv (official columns)."""
    from pipeline.rothc_site import read_site, run_site, write_results

    if equilibrium not in ("official", "exact"):
        raise PipelineError(f"--equilibrium: expected 'official' or 'exact', got {equilibrium!r}.")
    t0 = time.perf_counter()
    for path in inputs:
        site = read_site(path)
        result = run_site(site, method=equilibrium)  # type: ignore[arg-type]
        target = out if len(inputs) == 1 else out / path.stem
        years, months = write_results(result, target)
        eq = result.year_rows[1]
        console.print(
            f"{path}: equilibrium SOC {eq[7]:.4f} t C/ha after {result.months_to_equilibrium:.0f} "
            f"months -> {years}, {months}"
        )
    console.print(f"{len(inputs)} site(s) in {time.perf_counter() - t0:.2f} s")
