"""``socobs db``, ``socobs keys``, ``socobs registry``, ``socobs kpi record``: the registry of
members, partners and projects (issue #18).

The database is ``$SOCOBS_DATABASE_URL`` when set, else ``VAR/registry.sqlite``; every command
brings its schema up to date first (``socobs db upgrade`` does only that). Keys are printed once
and stored hashed. ``registry import`` checks every row before writing any (all or nothing).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli._app import console
from pipeline.cli.kpi import app as kpi_app
from pipeline.cli.options import Store, Var
from pipeline.cli.settings import work_paths

db_app = typer.Typer(help="The registry's database (SQLite under --var, or $SOCOBS_DATABASE_URL).")
keys_app = typer.Typer(help="API keys for the registry's write endpoints.", no_args_is_help=True)
registry_app = typer.Typer(help="Organisations and projects of the registry.", no_args_is_help=True)

Url = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the registry (default: $SOCOBS_DATABASE_URL, else VAR/registry.sqlite).",
    ),
]


def _url(var: Path | None, url: str | None) -> str:
    from pipeline.registry.db import database_url, upgrade

    chosen = database_url(work_paths(var).var, url)
    upgrade(chosen)
    return chosen


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli"


@db_app.command("upgrade")
def db_upgrade(var: Var = None, database_url: Url = None) -> None:
    """Bring the registry's schema to the newest revision (idempotent)."""
    from pipeline.registry.db import current_revision, redact

    url = _url(var, database_url)
    console.print(f"registry {redact(url)} at revision {current_revision(url)}", highlight=False)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "editor",
    note: Annotated[str, typer.Option(help="Whose key, what for (shown by keys list).")] = "",
    var: Var = None,
    database_url: Url = None,
) -> None:
    """Create a key and print it once (only its salted hash is stored)."""
    from pipeline.registry.keys import check_role, create_key

    check_role(role)
    key, info = create_key(_url(var, database_url), role, note, _who())
    print(key)
    typer.echo(
        f"key id {info.id} ({info.role}): send it as `Authorization: Bearer <key>`; it is not shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list(var: Var = None, database_url: Url = None) -> None:
    """Every key: id, prefix, role, note, created, revoked (never the key)."""
    from pipeline.registry.keys import list_keys

    table = Table("id", "prefix", "role", "note", "created", "revoked")
    for k in list_keys(_url(var, database_url)):
        table.add_row(str(k.id), k.prefix, k.role, k.note, k.created_at[:19], (k.revoked_at or "-")[:19])
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[int, typer.Argument(metavar="ID", help="The key's id (keys list).")],
    var: Var = None,
    database_url: Url = None,
) -> None:
    """Revoke a key: it stops working at once (its row stays, for the audit log)."""
    from pipeline.registry.keys import revoke_key

    info = revoke_key(_url(var, database_url), key_id, _who())
    console.print(f"key {info.id} ({info.role}) revoked at {info.revoked_at}", highlight=False)


@registry_app.command("import")
def registry_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="FILE.csv or FILE.geojson")],
    store: Store = None,
    var: Var = None,
    database_url: Url = None,
) -> None:
    """Import organisations (CSV) or projects (CSV, GeoJSON): every row checked, all or nothing;
    each project assessed ex-ante against the store's cube."""
    from pipeline.registry.assessment import ex_ante
    from pipeline.registry.importer import import_file

    url = _url(var, database_url)
    where = store or work_paths(var).store
    out = import_file(url, file, _who(), lambda row: ex_ante(row, where, None))
    extra = f", {out['assessed']} assessed ex-ante" if out["kind"] == "projects" else ""
    console.print(f"imported {out['imported']} {out['kind']}{extra} (ids {out['ids']})", highlight=False)


@registry_app.command("export")
def registry_export(
    what: Annotated[str, typer.Argument(help="projects (GeoJSON) or organisations (JSON)")],
    var: Var = None,
    database_url: Url = None,
) -> None:
    """Print the registry's projects or organisations."""
    from pipeline.registry import service
    from pipeline.registry.db import RegistryError

    url = _url(var, database_url)
    if what == "projects":
        print(json.dumps(service.list_projects(url), ensure_ascii=False))
    elif what == "organisations":
        print(json.dumps(service.list_organisations(url), ensure_ascii=False))
    else:
        raise RegistryError(f"expected projects or organisations; got {what[:40]!r}.", field="what")


@kpi_app.command("record")
def kpi_record(
    kpi_id: Annotated[str, typer.Argument(metavar="KPI_ID", help="A recorded KPI's id (socobs kpi list).")],
    value: Annotated[float, typer.Option(help="The value, in the KPI's unit.")],
    date: Annotated[str, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD.")],
    source: Annotated[str, typer.Option(help="Where the value comes from.")],
    note: Annotated[str, typer.Option(help="Anything a reader should know.")] = "",
    var: Var = None,
    database_url: Url = None,
) -> None:
    """Record an observation of a KPI in the registry (audited; recorded_by is this user)."""
    from pipeline.registry import service

    out = service.record_observation(
        _url(var, database_url),
        kpi_id,
        {"value": value, "date": date, "source": source, "note": note},
        _who(),
    )
    console.print(
        f"recorded {out['kpi_id']} = {out['value']:g} ({out['date']}), id {out['id']}", highlight=False
    )
