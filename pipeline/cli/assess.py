"""``socobs assess PROJECT.yaml``: the ex-ante carbon balance of a project (IPCC Tier 1).

Prints a summary (stocks, balance in t CO2e with its 95 % interval, the 4 per 1000 verdict and
its reasons); ``--out result.json`` writes the whole result, ``--out result.csv`` the per-year
series and a total row. The same numbers as ``POST /v1/assess/ex-ante`` for the same project. A
project with a ``location`` reads the observatory's cube there (``--store``): the climate zone
when not given, and with ``reference: measured`` the measured baseline stock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app, console
from pipeline.cli.options import Store, Var
from pipeline.cli.settings import work_paths

OUT_SUFFIXES = (".json", ".csv")


@app.command("assess")
def assess(
    project_file: Annotated[
        Path,
        typer.Argument(
            metavar="PROJECT.yaml",
            exists=True,
            dir_okay=False,
            help="Project file (see catalogs/projects/example.yaml).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Write the result: .json (everything) or .csv (per-year series)."),
    ] = None,
    store: Store = None,
    var: Var = None,
) -> None:
    """Ex-ante SOC balance of a project: IPCC 2019 Tier 1 (Eq. 2.25), t CO2e, 4 per 1000 verdict."""
    from pipeline.assess.tables import AssessError

    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        raise AssessError(
            f"--out: expected a file name ending in .json or .csv; got {str(out)[:200]!r}. "
            "Name the output e.g. result.json (the whole result) or result.csv (the per-year series)."
        )
    import json
    import os

    from pipeline.assess import assess_file, result_csv

    # The store is read only when the project has a location (climate zone, measured reference).
    result = assess_file(project_file, store or str(work_paths(var).store))  # every check first
    if out is not None:
        text = result_csv(result) if out.suffix.lower() == ".csv" else json.dumps(result, indent=2) + "\n"
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    p = result["project"]
    if "soil_type_range" in result:
        rng = result["soil_type_range"]
        console.print(
            f"{p['name']}: {p['area_ha']:g} ha over {p['years']} years; {rng['note']}", highlight=False
        )
        for key in ("soc_ref_t_c_ha", "soc_project_t_c_ha", "delta_soc_t_c_ha_yr", "balance_t_co2e"):
            f = rng["figures"][key]
            console.print(
                f"{key}: {f['min']:.4g} ({f['min_soil_type']}) .. {f['max']:.4g} ({f['max_soil_type']})",
                highlight=False,
            )
        levels = ", ".join(f"{s} {lv}" for s, lv in rng["verdict_levels"].items())
        console.print(f"4 per 1000 by soil class: {levels}", highlight=False)
        if out is not None:
            console.print(f"[green]wrote[/] {out}")
        return
    unc = result["uncertainty"]
    v = result["verdict"]
    console.print(
        f"{p['name']}: {p['area_ha']:g} ha over {p['years']} years "
        f"({p['implementation_years']} implementation, {p['adoption']})",
        highlight=False,
    )
    console.print(
        f"SOC_REF {result['soc_ref_t_c_ha']:.2f} t C/ha; baseline {result['soc_baseline_t_c_ha']:.2f}, "
        f"without project {result['soc_without_project_t_c_ha']:.2f}, project "
        f"{result['soc_project_t_c_ha']:.2f} t C/ha; dSOC {result['delta_soc_t_c_ha_yr']:.4f} t C/ha/yr",
        highlight=False,
    )
    line = (
        f"balance {result['balance_t_co2e']:.1f} t CO2e ({result['balance_t_c']:.1f} t C; negative = removal)"
    )
    if unc.get("draws"):
        ci = unc["balance_t_co2e"]
        line += f", 95 % interval [{ci['p2_5']:.1f}, {ci['p97_5']:.1f}] ({unc['draws']} draws, seed {unc['seed']})"
    console.print(line, highlight=False)
    if result.get("location"):
        loc = result["location"]
        console.print(
            f"location ({loc['lat']:g}, {loc['lon']:g}): cell ({loc['cell_lat']:g}, {loc['cell_lon']:g}), "
            f"climate zone {loc['climate_zone']}, measured 0-30 cm stock {loc['soc_stock_t_c_ha']} t C/ha "
            f"(snapshot {loc['snapshot']}); {result['reference']}",
            highlight=False,
        )
    t2 = result.get("tier2") or {}
    if t2.get("available"):
        console.print(
            f"Tier 2 (RothC at the location): baseline {t2['soc_baseline_t_c_ha']:.2f}, with project "
            f"{t2['soc_with_project_end_t_c_ha']:.2f}, without {t2['soc_without_project_end_t_c_ha']:.2f} "
            f"t C/ha at the end; balance {t2['balance_t_co2e']:.1f} t CO2e",
            highlight=False,
        )
    console.print(f"4 per 1000: {v['level']} - " + "; ".join(v["reasons"]), highlight=False)
    if out is not None:
        console.print(f"[green]wrote[/] {out}")
