"""One pinned lock: uv.lock satisfies pyproject.toml and covers every supported Python; the
Makefile installs from it (frozen, never re-resolving) with the uv version the project pins."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from tests.support.install import ROOT, uv_command

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
MAKEFILE = (ROOT / "Makefile").read_text()


def test_lock_satisfies_pyproject():
    """`uv lock --check` fails when any constraint of pyproject.toml is not met by the lock;
    offline, so the answer never depends on what the index serves today."""
    r = subprocess.run(
        [*uv_command(), "lock", "--check", "--offline", "--python", sys.executable],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr


def test_lock_covers_every_supported_python():
    assert LOCK["requires-python"] == PYPROJECT["project"]["requires-python"] == ">=3.11"
    # a universal lock: one resolution whose markers span the supported versions, not one
    # interpreter's
    markers = " ".join(LOCK.get("resolution-markers", []))
    assert "python_full_version" in markers
    for name in ("numpy", "numba", "icechunk", "fastapi"):
        forks = [p for p in LOCK["package"] if p["name"] == name]  # one entry per forked version
        assert forks, name
        wheels = [w["url"].rsplit("/", 1)[1] for p in forks for w in p.get("wheels", [])]
        for tag in ("cp311", "cp312", "cp313"):
            assert any(tag in w or "py3-none" in w for w in wheels), f"{name} has no {tag} wheel in the lock"


def test_makefile_installs_frozen_with_the_pinned_uv():
    uv_pin = re.search(r"^UV_VERSION := (\S+)$", MAKEFILE, flags=re.M).group(1)
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert f"uv=={uv_pin}" in dev
    (locked_uv,) = [p["version"] for p in LOCK["package"] if p["name"] == "uv"]
    assert locked_uv == uv_pin
    sync_lines = [ln for ln in MAKEFILE.splitlines() if "uv sync" in ln]
    assert sync_lines and all("--frozen" in ln for ln in sync_lines)
    assert "pip install --quiet -e" not in MAKEFILE  # no unpinned resolution anywhere
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
