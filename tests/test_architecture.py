"""The shape of the code, checked: the import contracts (layering), module sizes, no private
names across modules, the store's group names in one module, the API never writing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.install import ROOT

PACKAGES = ("kernels", "pipeline", "observatory_api")
GROUPS = {"cube", "indicators", "tables", "rothc", "overviews"}
READERS = {"open_zarr", "open_group", "_open_group", "to_zarr", "to_icechunk", "_arrays", "_level", "_append"}


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "catalogs" not in p.parts)


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def test_no_module_over_500_lines():
    big = {str(p.relative_to(ROOT)): n for p in sources() if (n := len(p.read_text().splitlines())) > 500}
    assert not big, big


def test_no_private_name_is_imported_across_modules():
    """A package may use its own private submodules (``from kernels.rothc import _jit`` inside
    kernels/rothc); nothing may reach into another module's private names."""
    found = []
    for p in sources():
        package = module_of(p) if p.name == "__init__.py" else module_of(p).rpartition(".")[0]
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                own_package = node.module == package
                found += [
                    f"{p.relative_to(ROOT)}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__") and not own_package
                ]
    assert not found, found


def test_store_group_names_live_in_the_store_module_only():
    found = []
    for p in sources():
        if p == ROOT / "pipeline" / "store.py":
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                args = [*node.args, *(k.value for k in node.keywords if k.arg in ("group", "path"))]
                if name in READERS and any(isinstance(a, ast.Constant) and a.value in GROUPS for a in args):
                    found.append(f"{p.relative_to(ROOT)}:{node.lineno}")
            first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else None
            if isinstance(first, ast.Constant) and str(first.value).startswith("overviews/"):
                found.append(f"{p.relative_to(ROOT)}:{node.lineno} (overview group)")
    assert not found, f"use pipeline.store's group constants: {found}"


def test_the_api_never_writes_to_the_store():
    writers = ("writable_session", "write_and_commit", "transaction(", ".commit(", "to_icechunk")
    found = [
        f"{p.relative_to(ROOT)}: {w}"
        for p in sources()
        if module_of(p).startswith("observatory_api")
        for w in writers
        if w in p.read_text()
    ]
    assert not found, found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_says_what_it_is(package):
    missing = [
        str(p.relative_to(ROOT))
        for p in (ROOT / package).rglob("*.py")
        if "catalogs" not in p.parts
        and ast.get_docstring(ast.parse(p.read_text())) is None
        and p.read_text().strip()
    ]
    assert not missing, missing


def test_readme_layout_matches_the_tree():
    """Every folder and module the README's layout names exists, and every pipeline subpackage,
    top-level pipeline module and observatory_api folder is named there."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    parent = ""
    named: set[str] = set()
    for line in block.splitlines():
        token = line.split()[0] if line.strip() else ""
        if not token.endswith(("/", ".py")):
            continue
        path = token if not line.startswith("  ") else parent + token
        if not line.startswith("  "):
            parent = token
        named.add(path.rstrip("/"))
        assert (ROOT / path).exists(), f"README layout names {path}, which does not exist"
    pipeline = ROOT / "pipeline"
    expected = {
        f"pipeline/{p.name}"
        for p in pipeline.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.stem not in ("__init__", "errors"))
    }
    expected |= {
        f"observatory_api/{p.name}"
        for p in (ROOT / "observatory_api").iterdir()
        if p.is_dir() and (p / "__init__.py").exists()
    }
    assert expected <= named, sorted(expected - named)


def test_the_formatter_formats():
    """A handful of `# fmt: skip` at most (aligned tables where they read better), not hundreds."""
    skips = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in [*sources(), *(ROOT / "tests").rglob("*.py"), *(ROOT / "notebooks").glob("*.py")]
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if line.rstrip().endswith("# fmt: skip")
    ]
    assert len(skips) <= 10, skips
