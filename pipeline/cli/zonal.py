"""``socobs zonal``: statistics of a raster or a cube variable per region, one CSV row each."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console
from pipeline.cli.options import Cache, Registry, Store
from pipeline.cli.settings import cli_settings
from pipeline.errors import PipelineError


@app.command("zonal")
def zonal(
    raster: Annotated[
        Path | None, typer.Argument(help="A single-band raster (GeoTIFF/COG); or use --variable.")
    ] = None,
    regions: Annotated[
        str, typer.Option(help="country, region, global, subnational, custom, or a vector file.")
    ] = "country",
    stats: Annotated[
        str, typer.Option(help="Comma-separated: count,sum,mean,min,max,area_mean,area_sum.")
    ] = "count,mean,area_mean,area_sum",
    coverage: Annotated[
        str, typer.Option(help="exact (fractional border cells) or centre (cell centres).")
    ] = "exact",
    out: Annotated[Path, typer.Option(help="Output CSV.")] = Path("zonal.csv"),
    band: Annotated[int, typer.Option(help="Band to read.")] = 1,
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
    depth: Annotated[int | None, typer.Option(help="Depth interval index of --variable (0 = top).")] = None,
    month: Annotated[int | None, typer.Option(help="Month (1-12) of a climatology --variable.")] = None,
) -> None:
    """Zonal statistics of a raster per region, one CSV row per region (area_* use true cell areas, m2)."""
    from pipeline.zonal import read_cube_variable, read_raster, region_set, zonal_table

    settings = cli_settings()
    registry = registry or settings.registry
    cache = cache or settings.cache / "coverage"
    t0 = time.perf_counter()
    if variable is not None:
        sel = {k: v for k, v in (("epoch", epoch), ("depth", depth), ("month", month)) if v is not None}
        values, grid = read_cube_variable(store or settings.store, variable, sel)
    elif raster is not None:
        values, grid = read_raster(raster, band)
    else:
        raise PipelineError("socobs zonal: give a RASTER file or --variable NAME (with --store).")
    leaves, level = region_set(regions, registry, id_field=id_field, name_field=name_field)
    wanted = [s.strip() for s in stats.split(",") if s.strip()]
    table = zonal_table(values, grid, leaves, level, wanted, coverage, cache, registry)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)
    console.print(f"[green]wrote[/] {out}: {len(table)} regions in {time.perf_counter() - t0:.2f} s")
