"""``socobs regions``: list, build and add region sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli._app import console
from pipeline.cli.options import Level, Registry, UserLevel, Var
from pipeline.cli.settings import work_paths

app = typer.Typer(help="The region hierarchy: list, build, add sets.", no_args_is_help=True)


@app.command("list")
def regions_list(
    level: Annotated[Level | None, typer.Option(help="Only this level.")] = None,
    registry: Registry = None,
    var: Var = None,
) -> None:
    """List the known regions (shipped and registered)."""
    from pipeline.regions.hierarchy import load_regions

    df = load_regions(registry or work_paths(var).registry)
    if level is not None:
        df = df[df["level"] == level.value]
    table = Table("region_id", "name", "level", "parent_id")
    for r in df.itertuples():
        table.add_row(str(r.region_id), str(r.name), str(r.level), str(r.parent_id or ""))
    console.print(table)
    console.print(f"{len(df)} regions")


@app.command("build")
def regions_build(
    out: Annotated[
        Path | None, typer.Option(dir_okay=False, help="Output GeoParquet (default: the shipped file).")
    ] = None,
) -> None:
    """Rebuild the shipped hierarchy from Natural Earth (the recipe of catalogs/regions)."""
    from pipeline.regions.build import build_regions, write_regions
    from pipeline.regions.hierarchy import shipped_regions_path

    path = write_regions(build_regions(), out or shipped_regions_path())
    console.print(f"[green]wrote[/] {path}")


@app.command("add")
def regions_add(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", exists=True, help="GeoPackage, GeoJSON, shapefile or GeoParquet."),
    ],
    id_field: Annotated[str, typer.Option("--id-field", help="Field with unique region ids.")],
    name_field: Annotated[str, typer.Option("--name-field", help="Field with region names.")],
    parent_field: Annotated[
        str | None, typer.Option("--parent-field", help="Field with each region's parent id.")
    ] = None,
    level: Annotated[UserLevel, typer.Option(help="Level of the new regions.")] = UserLevel.subnational,
    set_name: Annotated[
        str | None, typer.Option("--set", help="Name of the set (default: file stem).")
    ] = None,
    registry: Registry = None,
    make_valid: Annotated[
        bool, typer.Option("--make-valid", help="Repair invalid geometries instead of refusing.")
    ] = False,
    replace: Annotated[bool, typer.Option(help="Replace a set of the same name.")] = False,
    var: Var = None,
) -> None:
    """Register a vector file as sub-national or custom regions (validated, all or nothing)."""
    from pipeline.regions.hierarchy import add_region_set

    res = add_region_set(
        file,
        registry=registry or work_paths(var).registry,
        set_name=set_name,
        level=level.value,
        id_field=id_field,
        name_field=name_field,
        parent_field=parent_field,
        make_valid=make_valid,
        replace=replace,
    )
    msg = f"[green]registered[/] {res.count} {level.value} regions as {res.path}"
    if res.reprojected_from:
        msg += f" (reprojected from {res.reprojected_from} to EPSG:4326)"
    if res.repaired:
        msg += f" ({res.repaired} geometries repaired)"
    console.print(msg)
