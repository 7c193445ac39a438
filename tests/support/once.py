"""Data built once per test session and shared by the pytest-xdist workers.

Under xdist every worker has its own ``basetemp`` (``<session basetemp>/popen-gwN``); their
parent is the session's own directory, so a build kept there is seen by both workers and by
no other session. The first worker to ask builds under an exclusive ``fcntl.flock`` on
``<name>.lock`` while the other waits on the lock; ``<name>.done`` is written only once the
build returned, so a build that crashed half way is removed and redone, never mistaken for a
finished one. Without xdist the directory is the session's ``basetemp``.

What is shared this way is read only. A test module that writes to it (runs a job, registers a
region set) takes its own copy (``private_copy``)."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pytest is only imported by the tests that pass a TempPathFactory
    import pytest


T = TypeVar("T")


def session_dir(factory: pytest.TempPathFactory) -> Path:
    """The directory shared by every worker of this test session."""
    base = factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"


def build_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """``build(<session dir>/name)``, run by one worker of the session at a time. ``build`` must
    return at once (with the same value) when called again on a finished build, as the demo
    builders do (their own ``done`` markers)."""
    return build_in(session_dir(factory), name, build)


def build_in(shared: Path, name: str, build: Callable[[Path], T]) -> T:
    """``build_once`` in the folder ``shared``."""
    shared.mkdir(parents=True, exist_ok=True)
    dest = shared / name
    with (shared / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        done = shared / f"{name}.done"
        if done.exists():
            return build(dest)
        if dest.exists():  # a build that crashed half way (its worker failed or was killed)
            shutil.rmtree(dest)
        out = build(dest)
        done.touch()
        return out


def private_copy(src: Path, dest: Path) -> Path:
    """A copy of a shared build for one test module that writes to it."""
    shutil.copytree(src, dest, symlinks=True)
    return dest
