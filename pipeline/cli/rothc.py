"""``socobs rothc``: RothC v2.0.0 scenario maps from the cube, and the official site files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import console, load_job_for, out_dir, writable_store
from pipeline.cli.options import Equilibrium, JobArg, StoreOverride, Var

app = typer.Typer(help="The RothC v2.0.0 soil carbon model.", no_args_is_help=True)

# Same bound as pipeline.rothc.job.MAX_YEARS (not imported: --help stays free of numba).
MAX_YEARS = 2000


@app.command("run")
def rothc_run(
    job_file: JobArg,
    store: StoreOverride = None,
    years: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_YEARS,
            help="Length of the scenario runs in years (GSOCseq: 20). At most 2000: RothC is "
            "calibrated on decades to centuries, and the cost grows with the length.",
        ),
    ] = 20,
    block: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Side of the square tile modelled and written at a time, in cells (default: the chunks, at most 256).",
        ),
    ] = None,
    var: Var = None,
) -> None:
    """RothC sequestration-potential maps (BAU, +5/+10/+20 % input) from the cube, one commit."""
    from pipeline.rothc.job import run_rothc_job

    job = load_job_for(job_file, var, store=store)
    writable_store(job.store)
    t0 = time.perf_counter()
    res = run_rothc_job(job, years, block=block)
    console.print(
        f"[green]committed[/] {res.snapshot_id}: RothC scenarios for {res.pixels} pixels "
        f"(epoch {res.epoch}) in {time.perf_counter() - t0:.1f} s"
    )


@app.command("site")
def rothc_site(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUTS", exists=True, dir_okay=False, help="RothC v2.0.0 input files (official layout)."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(file_okay=False, help="Output directory (one subdirectory per file if several)."),
    ],
    equilibrium: Annotated[
        Equilibrium, typer.Option(help="official: stop as the official shell; exact: the fixed point.")
    ] = Equilibrium.official,
) -> None:
    """Run RothC on site files; write year_results.csv and month_results.csv (official columns)."""
    from pipeline.rothc.site import read_site, run_site, write_results

    out_dir(out, "--out")
    t0 = time.perf_counter()
    sites = [(path, read_site(path)) for path in inputs]  # every file parsed before anything is written
    for path, site in sites:
        result = run_site(site, method=equilibrium.value)
        target = out if len(inputs) == 1 else out_dir(out / path.stem, "--out")
        years, months = write_results(result, target)
        eq = result.year_rows[1]
        console.print(
            f"{path}: equilibrium SOC {eq[7]:.4f} t C/ha after {result.months_to_equilibrium:.0f} "
            f"months -> {years}, {months}"
        )
    console.print(f"{len(inputs)} site(s) in {time.perf_counter() - t0:.2f} s")
