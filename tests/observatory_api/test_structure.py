"""The API's shape: thin routers over services that know nothing of HTTP, no private names
imported across modules, and facts the answers state taken from the store."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import observatory_api
from observatory_api import Settings
from observatory_api.reader import load_snapshot
from observatory_api.services import maps

PACKAGE = Path(observatory_api.__file__).parent


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_private_name_is_imported_across_modules():
    bad = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0]
                in (
                    "observatory_api",
                    "pipeline",
                    "kernels",
                )
            ):
                bad += [
                    f"{path.name}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                bad.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert bad == []


def test_services_know_nothing_of_http():
    for path in sorted((PACKAGE / "services").glob("*.py")):
        tree = ast.parse(path.read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in names if m.split(".")[0] in ("fastapi", "starlette")}, path.name


def test_no_module_over_500_lines():
    assert {p.name: n for p in _modules() if (n := len(p.read_text().splitlines())) > 500} == {}


def test_attribution_says_synthetic_only_when_the_cube_records_it(api_store):
    snap = load_snapshot(Settings(store=api_store.store, registry=api_store.registry))
    assert snap.cube is not None and snap.cube.attrs["synthetic"] is True  # the demo cube says so
    assert "synthetic" in maps.attribution(snap)
    real = snap.cube.copy()
    real.attrs = {**real.attrs, "synthetic": False}
    provenance = {v: {**p, "synthetic": False} for v, p in snap.provenance.items()}
    measured = dataclasses.replace(snap, cube=real, provenance=provenance)
    assert "synthetic" not in maps.attribution(measured)
    assert "synthetic" not in maps.tilejson(measured, "soc_stock", 0, "https://x.org")["attribution"]
