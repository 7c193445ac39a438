"""``socobs kpi``: the Strategic Plan's objectives and KPIs (list, schema).

``socobs kpi list`` prints every KPI of the 24 objectives with its latest value, targets and
progress at a snapshot of the store (the computed KPIs read its region tables); ``--format csv``
or ``json`` for machines. ``socobs kpi schema --out catalogs/schemas`` refreshes the JSON Schema
of ``catalogs/kpis/objectives.yaml``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli._app import console
from pipeline.cli.options import Snapshot, Store, Var
from pipeline.cli.settings import work_paths

app = typer.Typer(help="The Strategic Plan's objectives and their KPIs.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _num(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    text = f"{v:.4g}"
    return f"{text} {unit}".strip() if unit and unit != "1" else text


def _progress(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.0f} %"


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**k, "facility": o["facility"]} for o in body["objectives"] for k in o["kpis"]]


@app.command("list")
def kpi_list(
    store: Store = None,
    snapshot: Snapshot = None,
    var: Var = None,
    objective: Annotated[
        str | None, typer.Option(help="Only this objective (A1 ... F3) or goal (A ... F).")
    ] = None,
    format: Annotated[Format, typer.Option(help="table (default), csv or json.")] = Format.table,
) -> None:
    """Every objective's KPIs: latest value, baseline, targets 2030/2050, progress, trend."""
    from pipeline.errors import PipelineError
    from pipeline.kpis.catalog import CODES
    from pipeline.kpis.computed import read_tables
    from pipeline.kpis.report import report

    want = objective.strip().upper() if objective else None
    if want is not None and want not in CODES and want not in tuple("ABCDEF"):
        raise PipelineError(
            f"--objective: expected an objective code (A1 ... F3) or a goal letter (A ... F), got "
            f"{(objective or '')[:40]!r}. Run `socobs kpi list` without it to see them all."
        )
    body = report(read_tables(store or work_paths(var).store, snapshot))
    if want is not None:
        body["objectives"] = [o for o in body["objectives"] if o["code"] == want or o["goal"] == want]
    if format is Format.json:
        print(json.dumps(body, ensure_ascii=False))
        return
    if format is Format.csv:
        from pipeline.kpis.export import listing_csv

        print(listing_csv(body), end="")
        return

    table = Table(
        "objective", "kpi", "unit", "baseline", "latest", "2030", "2050", "progress 2030", "trend/yr"
    )
    for k in _rows(body):
        base = k["baseline"] or {}
        latest = k["latest"] or {}
        t30, t50 = k["target_2030"] or {}, k["target_2050"] or {}
        slope = (k["trend"] or {}).get("slope_per_year")
        table.add_row(
            f"{k['objective']} ({k['facility']})",
            k["id"],
            k["unit"],
            _num(base.get("value")),
            f"{_num(latest.get('value'))} ({latest['date']})" if latest else "-",
            _num(t30.get("value")),
            _num(t50.get("value")),
            _progress(k["progress_2030"]),
            _num(slope),
        )
    console.print(table)
    console.print(f"{len(body['objectives'])} objectives, snapshot {body['snapshot_id']}", highlight=False)


@app.command("schema")
def kpi_schema(
    out: Annotated[
        Path | None, typer.Option(file_okay=False, help="Directory for kpis.schema.json (default: print it).")
    ] = None,
) -> None:
    """Print (or write to --out) the JSON Schema of catalogs/kpis/objectives.yaml."""
    from pipeline.kpis.catalog import schema, write_schema

    if out is None:
        print(json.dumps(schema(), ensure_ascii=False))
        return
    console.print(f"[green]wrote[/] {write_schema(out)}")
