"""Installing the project as a user would: the pinned uv, a wheel built offline, a clean venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def uv_command() -> list[str]:
    """The uv the Makefile pins (installed into the test venv from the lock)."""
    uv = Path(sys.executable).with_name("uv")
    return [str(uv)] if uv.exists() else [sys.executable, "-m", "uv"]


def build_wheel(out: Path) -> Path:
    """`pip wheel` of a copy of the checkout (the working tree stays clean), offline: the build
    backend comes from the test venv, not from the index."""
    src = out / "src"
    ignore = shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "*.egg-info", "build", ".*_cache")
    shutil.copytree(ROOT, src, symlinks=True, ignore=ignore)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("soc_observatory-*.whl")
    return wheel


def wheel_venv(tmp: Path) -> Path:
    """A fresh venv with the image lock (--no-deps, hashes) and the project's wheel (--no-deps),
    checked with `pip check`: the docker build stage's steps."""
    wheel = build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    lock = ROOT / "docker" / "requirements.lock"
    subprocess.run(
        [*pip, "install", "--no-deps", "--require-hashes", "-r", str(lock)], check=True, timeout=900
    )
    subprocess.run([*pip, "install", "--no-deps", str(wheel)], check=True, timeout=300)
    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    return venv
