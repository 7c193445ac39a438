"""``socobs registry import FILE``: organisations or projects from a CSV or GeoJSON file, all or
nothing.

Every row is checked first, exactly as the API checks it (``validate``); the first bad row stops
the import, named by its line (CSV) or feature index (GeoJSON), and nothing is written. Then the
projects are assessed ex-ante and every row is written in one transaction with its audit entry.

CSV of organisations: ``name,membership,type,country``. CSV of projects: ``name,organisation,
country,start_date,end_date,practices`` (ids separated by ``;``) and ``geometry`` (GeoJSON text)
or ``lon,lat`` with ``area_ha``; optional ``area_ha,soil_type,status,funding``. The API's CSV
export of projects reads back in. GeoJSON: a FeatureCollection of project Features as
``POST /v1/projects`` takes them.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import clip
from pipeline.registry import service
from pipeline.registry.db import RegistryError, session
from pipeline.registry.models import Organisation, Project

MAX_BYTES = 50_000_000
ORG_FIELDS = ("name", "membership", "type", "country")
PROJECT_FIELDS = ("name", "organisation", "country", "start_date", "end_date", "practices")
OPTIONAL = ("area_ha", "soil_type", "status", "funding")


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RegistryError(
                f"{clip(path)}: at most {MAX_BYTES:,} bytes; got {path.stat().st_size:,}. Split the file.",
                field="file",
            )
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(
            f"{clip(path)}: expected a readable UTF-8 CSV or GeoJSON file; could not read it "
            f"({type(exc).__name__}: {clip(exc, 150)}).",
            field="file",
        ) from None


def _csv_project(row: dict[str, str]) -> dict[str, Any]:
    props: dict[str, Any] = {k: row[k] for k in PROJECT_FIELDS if k in row}
    org = (row.get("organisation") or row.get("organisation_id") or "").strip()
    props["organisation"] = int(org) if org.isdigit() else org
    props["practices"] = [p.strip() for p in (row.get("practices") or "").split(";") if p.strip()]
    for k in OPTIONAL:
        if (row.get(k) or "").strip():
            props[k] = row[k].strip()
    if "area_ha" in props and (row.get("geometry") or "").lstrip().startswith('{"type": "Polygon'):
        props.pop("area_ha")  # the export's computed area; the polygon gives it again
    if (row.get("geometry") or "").strip():
        try:
            geometry = json.loads(row["geometry"])
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"geometry: expected GeoJSON text; got {clip(row['geometry'], 60)!r} ({exc.msg}).",
                field="geometry",
            ) from None
    else:
        try:
            geometry = {"type": "Point", "coordinates": [float(row["lon"]), float(row["lat"])]}
        except (KeyError, TypeError, ValueError):
            raise RegistryError(
                "geometry: expected a `geometry` column (GeoJSON text) or `lon` and `lat` columns "
                "(degrees, with area_ha); got neither.",
                field="geometry",
            ) from None
    return {"type": "Feature", "geometry": geometry, "properties": props}


def read_rows(path: Path) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """("organisations" or "projects", [(where, data)]) from the file, not yet checked."""
    text = _read(path)
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(
                f"{clip(path)}: not valid JSON (line {exc.lineno}: {exc.msg}). Expected a GeoJSON "
                "FeatureCollection of projects.",
                field="file",
            ) from None
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise RegistryError(
                f"{clip(path)}: expected a GeoJSON FeatureCollection of projects; got "
                f"{clip(doc.get('type') if isinstance(doc, dict) else type(doc).__name__, 40)!r}.",
                field="file",
            )
        feats = doc.get("features") or []
        return "projects", [(f"feature {i}", f) for i, f in enumerate(feats)]
    if path.suffix.lower() != ".csv":
        raise RegistryError(
            f"{clip(path)}: expected a .csv or .geojson file; got {clip(path.suffix or 'no extension', 20)}.",
            field="file",
        )
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    kind = "organisations" if "membership" in header else "projects"
    need = ORG_FIELDS if kind == "organisations" else PROJECT_FIELDS
    missing = [
        c for c in need if c not in header and not (c == "organisation" and "organisation_id" in header)
    ]
    if missing:
        raise RegistryError(
            f"{clip(path)}: the CSV header lacks {', '.join(missing)}; expected {', '.join(need)} "
            f"(got {', '.join(header[:20]) or 'no header'}).",
            field=missing[0],
        )
    rows: list[tuple[str, dict[str, Any]]] = []
    for row in reader:
        where = f"line {reader.line_num} ({clip(row.get('name') or '', 60)!r})"
        try:
            data = {k: row[k] for k in ORG_FIELDS} if kind == "organisations" else _csv_project(row)
        except RegistryError as exc:
            raise RegistryError(f"{clip(path)}: {where}: {exc}", field=exc.field) from None
        rows.append((where, data))
    return kind, rows


def import_file(url: str, path: Path, who: str, assessor: service.Assessor) -> dict[str, Any]:
    """Import every row of ``path`` or none; returns what was written."""
    kind, rows = read_rows(path)
    if not rows:
        raise RegistryError(f"{clip(path)}: no rows to import.", field="file")
    checked: list[tuple[str, dict[str, Any]]] = []
    with session(url) as s:
        names: set[str] = set()
        for where, data in rows:
            try:
                if kind == "organisations":
                    row = service.organisation_row(data)
                    if row["name"] in names:
                        raise RegistryError(f"name: {row['name']!r} twice in the file.", field="name")
                    names.add(row["name"])
                else:
                    row = service.checked_project(s, data)
            except RegistryError as exc:
                raise RegistryError(
                    f"{clip(path)}: {where}: {exc} Nothing was imported; fix the row and import again.",
                    field=exc.field,
                    allowed=exc.allowed,
                ) from None
            checked.append((where, row))
    done = [assessor(r) for _, r in checked] if kind == "projects" else []
    ids: list[int] = []
    with session(url) as s:
        for i, (where, row) in enumerate(checked):
            try:
                if kind == "organisations":
                    ids.append(service.add_organisation(s, row, who).id)
                    continue
                now = datetime.now(UTC)
                p = Project(**row, created_at=now, updated_at=now)
                if s.get(Organisation, row["organisation_id"]) is None:
                    raise RegistryError("organisation: removed during the import.", field="organisation")
                s.add(p)
                s.flush()
                service.audit(s, who, "create", "projects", p.id, None, service.audit_state(p))
                service.store_assessment(s, p, done[i])
                ids.append(p.id)
            except RegistryError as exc:
                raise RegistryError(
                    f"{clip(path)}: {where}: {exc} Nothing was imported.", field=exc.field
                ) from None
    assessed = sum(a.status == "done" for a in done)
    return {"kind": kind, "imported": len(ids), "ids": ids, "assessed": assessed}
