"""tests/support/once.py, which builds the demo stores once per test session for both xdist
workers: real processes racing for the same build get one build between them, a build killed
half way is removed and redone (never taken for a finished one), and the shared folder is the
session's, not a worker's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.install import ROOT
from tests.support.once import session_dir

# A build that records who built, leaves a file half way, then (unless told to die there)
# finishes after a pause long enough for the other process to be waiting on the lock.
CHILD = """
import os, sys, time
from pathlib import Path
from tests.support.once import build_in

shared, mode = Path(sys.argv[1]), sys.argv[2]

def build(dest):
    if (dest / "value").exists():
        return (dest / "value").read_text()
    dest.mkdir()
    with (shared / "builds").open("a") as f:
        f.write(f"{os.getpid()}\\n")
    (dest / "half-way").write_text(mode)
    if mode == "die":
        os._exit(3)
    time.sleep(1.5)
    (dest / "value").write_text("built by " + str(os.getpid()))
    return (dest / "value").read_text()

print(build_in(shared, "thing", build))
"""


def _start(shared: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(shared), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _builds(shared: Path) -> list[str]:
    return (shared / "builds").read_text().split()


def test_racing_processes_share_one_build(tmp_path: Path) -> None:
    procs = [_start(tmp_path, "ok") for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    (builder,) = _builds(tmp_path)
    assert [o.strip() for o, _ in outs] == [f"built by {builder}"] * 2
    assert (tmp_path / "thing.done").exists()


def test_a_build_killed_half_way_is_redone(tmp_path: Path) -> None:
    dead = _start(tmp_path, "die")
    dead.communicate(timeout=120)
    assert dead.returncode == 3
    assert (tmp_path / "thing" / "half-way").read_text() == "die"
    assert not (tmp_path / "thing.done").exists()  # not taken for a finished build
    ok = _start(tmp_path, "ok")
    out, err = ok.communicate(timeout=120)
    assert ok.returncode == 0, err
    first, second = _builds(tmp_path)
    assert out.strip() == f"built by {second}" and first != second
    assert (tmp_path / "thing" / "half-way").read_text() == "ok"  # the dead build's folder went
    assert (tmp_path / "thing.done").exists()


def test_the_shared_folder_is_the_sessions(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert session_dir(tmp_path_factory) == base.parent / "shared"  # beside the workers' folders
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert session_dir(tmp_path_factory) == base / "shared"  # no xdist: the session's own folder
