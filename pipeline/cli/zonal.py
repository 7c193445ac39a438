"""``socobs zonal``: statistics of a raster or a cube variable per region, one CSV row each."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console, err_console
from pipeline.cli.options import Cache, CoverageMode, Registry, Store, Var
from pipeline.cli.settings import work_paths
from pipeline.errors import PipelineError, clip

STATS = ("count", "sum", "mean", "min", "max", "area_mean", "area_sum")  # pipeline.regions.zonal.STAT_CHOICES


@app.command("zonal")
def zonal(
    raster: Annotated[
        Path | None,
        typer.Argument(metavar="RASTER", help="A single-band raster (GeoTIFF/COG); or use --variable."),
    ] = None,
    regions: Annotated[
        str, typer.Option(help="country, region, global, subnational, custom, or a vector file.")
    ] = "country",
    stats: Annotated[str, typer.Option(help=f"Comma-separated, from: {','.join(STATS)}.")] = (
        "count,mean,area_mean,area_sum"
    ),
    coverage: Annotated[
        CoverageMode, typer.Option(help="exact: fractional border cells; centre: cell centres.")
    ] = CoverageMode.exact,
    out: Annotated[
        Path | None, typer.Option(dir_okay=False, help="Output CSV (default: the CSV on stdout).")
    ] = None,
    band: Annotated[int, typer.Option(min=1, help="Band to read (1 = first).")] = 1,
    id_field: Annotated[str | None, typer.Option("--id-field", help="Id field of a vector file.")] = None,
    name_field: Annotated[
        str | None, typer.Option("--name-field", help="Name field of a vector file.")
    ] = None,
    registry: Registry = None,
    cache: Cache = None,
    variable: Annotated[
        str | None, typer.Option(help="A cube variable instead of a raster (e.g. soc).")
    ] = None,
    store: Store = None,
    epoch: Annotated[int | None, typer.Option(help="Epoch (year) of --variable.")] = None,
    depth: Annotated[
        int | None, typer.Option(min=0, help="Depth interval index of --variable (0 = top).")
    ] = None,
    month: Annotated[
        int | None, typer.Option(min=1, max=12, help="Month (1-12) of a climatology --variable.")
    ] = None,
    var: Var = None,
) -> None:
    """Zonal statistics of a raster per region, one CSV row per region (area_* use true cell areas, m2)."""
    wanted = [s.strip() for s in stats.split(",") if s.strip()]
    bad = [s for s in wanted if s not in STATS]
    if bad or not wanted:
        raise PipelineError(
            f"--stats: expected a comma-separated list from {','.join(STATS)}, got {clip(repr(stats))}. "
            "Pass e.g. --stats count,mean,area_mean."
        )
    if (variable is None) == (raster is None):
        raise PipelineError(
            "socobs zonal: expected either a RASTER file or --variable NAME (with --store), got "
            f"{'both' if raster is not None else 'neither'}. See `socobs zonal --help`."
        )
    from pipeline.regions.zonal import read_cube_variable, read_raster, region_set, zonal_table

    paths = work_paths(var)
    registry = registry or paths.registry
    t0 = time.perf_counter()
    if variable is not None:
        sel = {k: v for k, v in (("epoch", epoch), ("depth", depth), ("month", month)) if v is not None}
        values, grid = read_cube_variable(store or paths.store, variable, sel)
    else:
        assert raster is not None
        values, grid = read_raster(raster, band)
    leaves, level = region_set(regions, registry, id_field=id_field, name_field=name_field)
    table = zonal_table(values, grid, leaves, level, wanted, coverage.value, cache or paths.cache, registry)
    if out is None:
        table.to_csv(sys.stdout, index=False)
        err_console.print(f"{len(table)} regions in {time.perf_counter() - t0:.2f} s", highlight=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)
    console.print(f"[green]wrote[/] {out}: {len(table)} regions in {time.perf_counter() - t0:.2f} s")
