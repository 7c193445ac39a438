"""Bad input to every `socobs` command: exit code 2, one paragraph on stderr, no traceback, the
bad value or option named, and nothing changed (store, region registry, catalogs, the current
directory).

The table runs in-process through `pipeline.cli.run` (the function the `socobs` entry point
calls: argv in, exit code out), so 60 cases cost one set of imports; a subset runs as real
subprocesses of the entry point, from an empty temporary directory, as a user would.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pipeline import cli
from pipeline.paths import catalogs_dir

DATA = Path(__file__).parents[1] / "data"
SOCOBS = [sys.executable, "-m", "pipeline.cli"]
BILLION_LAUGHS = "\n".join(
    [
        'name: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)),
    ]
)


@dataclass(frozen=True)
class World:
    """Files the bad inputs point at; `watched` are hashed around every case."""

    root: Path
    store: Path
    registry: Path
    stac_catalog: Path
    job: Path
    afile: Path
    tif: Path
    watched: tuple[Path, ...]


def _tiny_cube(path: Path) -> None:
    """A real Icechunk store holding a small `soc` cube (epoch x depth x y x x)."""
    import xarray as xr
    from pyproj import CRS

    from pipeline.store import open_repo, write_and_commit

    y, x = np.arange(85.0, -95.0, -10.0), np.arange(-175.0, 185.0, 10.0)
    soc = np.full((2, 3, y.size, x.size), 12.5, dtype="float32")
    ds = xr.Dataset(
        {"soc": (("epoch", "depth", "y", "x"), soc, {"units": "g/kg"})},
        coords={
            "epoch": [2015, 2016],
            "depth_top": ("depth", [0.0, 5.0, 15.0]),
            "depth_bottom": ("depth", [5.0, 15.0, 30.0]),
            "y": y,
            "x": x,
        },
        attrs={"crs": CRS.from_epsg(4326).to_wkt()},
    )
    write_and_commit(open_repo(str(path), create=True), ds, "tiny cube for CLI tests", {"kind": "ingest"})


def _job(store: str, **grid: object) -> str:
    return json.dumps(
        {
            "name": "cli-test",
            "region": {"bbox": [-180, -60, 180, 84]},
            "sources": ["demo-soilgrids"],
            "grid": {"crs": "EPSG:4326", "resolution": 10.0, **grid},
            "period": {"start": 2015, "end": 2016},
            "store": store,
        }
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    import rasterio
    from rasterio.transform import from_origin

    root = tmp_path_factory.mktemp("cli-world")
    store, registry, stac_catalog = root / "store", root / "registry", root / "stac"
    _tiny_cube(store)
    registry.mkdir()
    (registry / "keep.txt").write_text("a registered set would live here\n")
    stac_catalog.mkdir()
    (stac_catalog / "catalog.json").write_text(
        json.dumps({"type": "Catalog", "id": "t", "description": "t", "stac_version": "1.0.0", "links": []})
    )
    (root / "job.yaml").write_text(_job("store"))  # relative: the store beside the job file
    (root / "crs.yaml").write_text(_job("store", crs="EPSG:999999"))
    (root / "tiny.yaml").write_text(_job("never-created", resolution=1e-7))
    (root / "negative.yaml").write_text(_job("store", resolution=-1))
    (root / "long-name.yaml").write_text(_job("store").replace('"cli-test"', '"' + "x" * 100_000 + '"'))
    (root / "laughs.yaml").write_text(BILLION_LAUGHS)
    (root / "latin1.yaml").write_bytes("name: Côte d'Ivoire\n".encode("latin-1"))
    (root / "latin1.dat").write_bytes("Côte\n".encode("latin-1") * 12)
    (root / "afile").write_text("not a directory\n")
    (root / "garbage.geojson").write_text("garbage{")
    (root / "full").mkdir()
    (root / "full" / "x").write_text("x")
    tif = root / "one-band.tif"
    profile = {"driver": "GTiff", "width": 36, "height": 18, "count": 1, "dtype": "float32"}
    with rasterio.open(tif, "w", **profile, crs="EPSG:4326", transform=from_origin(-180, 90, 10, 10)) as dst:
        dst.write(np.ones((18, 36), dtype="float32"), 1)
    cats = catalogs_dir()
    watched = (store, registry, stac_catalog, cats / "jobs", cats / "sources", cats / "schemas")
    return World(root, store, registry, stac_catalog, root / "job.yaml", root / "afile", tif, watched)


def tree_digest(path: Path) -> str:
    """A hash of every file name and content under ``path`` (a new, changed or removed file
    changes it)."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def assert_one_paragraph(stderr: str) -> None:
    text = stderr.strip()
    assert text, "nothing on stderr"
    assert "Traceback" not in text
    assert not re.search(r"\n\s*\n", text), f"more than one paragraph:\n{stderr}"


# (id, argv with {placeholders} for World paths, substrings the message must contain)
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("unknown-command", "frobnicate", ("frobnicate", "socobs --help")),
    ("unknown-root-option", "--bogus", ("--bogus",)),
    ("ingest-no-job", "ingest", ("JOB_FILE", "socobs ingest --help")),
    ("ingest-unknown-option", "ingest {job} --bogus", ("--bogus", "socobs ingest --help")),
    ("ingest-missing-job", "ingest {root}/missing.yaml", ("missing.yaml",)),
    ("ingest-job-is-dir", "ingest {root}/full", ("full", "job file")),
    ("ingest-unknown-crs", "ingest {root}/crs.yaml", ("grid.crs", "EPSG:999999")),
    ("ingest-not-utf8", "ingest {root}/latin1.yaml", ("latin1.yaml", "UTF-8")),
    ("ingest-billion-laughs", "ingest {root}/laughs.yaml", ("laughs.yaml", "aliases")),
    ("ingest-grid-too-large", "ingest {root}/tiny.yaml", ("1e-07", "cells", "SOCOBS_MAX_CELLS")),
    ("ingest-negative-resolution", "ingest {root}/negative.yaml", ("grid.resolution", "-1")),
    ("ingest-long-input-clipped", "ingest {root}/long-name.yaml", ("name", "…")),
    ("ingest-store-is-file", "ingest {job} --store {afile}", ("afile", "not a store")),
    ("ingest-var-is-file", "ingest {job} --var {afile}", ("--var", "afile")),
    ("update-no-job", "update", ("JOB_FILE",)),
    ("update-store-is-file", "update {job} --store {afile}", ("afile",)),
    ("watch-bad-interval", "watch {job} --every 10x", ("--every", "10x")),
    ("watch-negative-times", "watch {job} --times -1", ("--times", "-1")),
    ("indicators-store-is-file", "indicators {job} --store {afile}", ("afile",)),
    ("indicators-registry-is-file", "indicators {job} --registry {afile}", ("--registry", "afile")),
    ("indicators-output-is-file", "indicators {job} --snapshot S --output {afile}", ("--output", "afile")),
    ("export-bad-format", "export indicators {root}/o.csv --format xml --store {store}", ("--format", "xml")),
    ("export-bad-stratum", "export indicators {root}/o.csv --stratum desert", ("--stratum", "desert")),
    ("export-bad-level", "export indicators {root}/o.csv --level planet", ("--level", "planet")),
    ("export-bad-epoch", "export indicators {root}/o.csv --epoch abc", ("--epoch", "abc")),
    ("export-store-is-file", "export indicators {root}/o.csv --store {afile}", ("afile",)),
    ("export-no-subcommand-typo", "export indicatorz", ("indicatorz",)),
    ("rothc-years-too-many", "rothc run {job} --years 100000", ("--years", "100000", "2000")),
    ("rothc-years-zero", "rothc run {job} --years 0", ("--years", "0")),
    ("rothc-store-is-file", "rothc run {job} --store {afile}", ("afile",)),
    ("rothc-site-out-is-file", "rothc site {data}/rothc/RothC_input.dat --out {afile}", ("--out", "afile")),
    (
        "rothc-site-bad-equilibrium",
        "rothc site {data}/rothc/RothC_input.dat --out {root}/o --equilibrium approx",
        ("--equilibrium", "approx"),
    ),
    ("rothc-site-not-text", "rothc site {root}/latin1.dat --out {root}/o", ("latin1.dat", "UTF-8")),
    ("rothc-site-missing-file", "rothc site {root}/nope.dat --out {root}/o", ("nope.dat",)),
    ("zonal-band-not-int", "zonal --band abc", ("--band", "abc")),
    ("zonal-band-zero", "zonal {tif} --band 0", ("--band", "0")),
    ("zonal-band-beyond", "zonal {tif} --band 5", ("--band", "5")),
    ("zonal-depth-beyond", "zonal --variable soc --store {store} --epoch 2016 --depth 99", ("99", "--depth")),
    ("zonal-epoch-absent", "zonal --variable soc --store {store} --epoch 1999 --depth 0", ("1999",)),
    ("zonal-variable-absent", "zonal --variable ndvi --store {store}", ("ndvi",)),
    ("zonal-garbage-regions", "zonal {tif} --regions {root}/garbage.geojson", ("garbage.geojson",)),
    ("zonal-regions-long-name", "zonal {tif} --regions " + "y" * 5000, ("--regions", "…")),
    ("zonal-bad-coverage", "zonal {tif} --coverage both", ("--coverage", "both")),
    ("zonal-bad-stat", "zonal {tif} --stats mean,median", ("--stats", "median")),
    ("zonal-bad-month", "zonal --variable soc --store {store} --month 13", ("--month", "13")),
    ("zonal-nothing-to-read", "zonal", ("RASTER", "--variable")),
    ("zonal-out-is-dir", "zonal {tif} --out {root}/full", ("--out", "full")),
    ("regions-list-bad-level", "regions list --level planet", ("--level", "planet")),
    ("regions-list-registry-is-file", "regions list --registry {afile}", ("--registry", "afile")),
    (
        "regions-add-registry-is-file",
        "regions add {tif} --id-field a --name-field b --registry {afile}",
        ("--registry", "afile"),
    ),
    (
        "regions-add-garbage",
        "regions add {root}/garbage.geojson --id-field a --name-field b --registry {registry}",
        ("garbage.geojson",),
    ),
    ("regions-add-missing-file", "regions add {root}/none.gpkg --id-field a --name-field b", ("none.gpkg",)),
    ("regions-add-bad-level", "regions add {tif} --id-field a --name-field b --level country", ("--level",)),
    ("regions-add-no-fields", "regions add {tif}", ("--id-field",)),
    ("regions-build-out-is-dir", "regions build --out {root}/full", ("--out", "full")),
    ("cube-log-store-is-file", "cube log {afile}", ("afile", "not a store")),
    ("cube-log-no-store", "cube log {root}/nothing-here", ("nothing-here", "socobs ingest")),
    ("cube-export-store-is-file", "cube export {root}/copy --store {afile}", ("afile",)),
    ("cube-export-dest-not-empty", "cube export {root}/full --store {store}", ("full", "not empty")),
    ("cube-export-bad-snapshot", "cube export {root}/copy --store {store} --snapshot NOPE", ("NOPE",)),
    ("stac-serve-port-too-big", "stac serve {stac} --port 99999", ("--port", "99999")),
    ("stac-serve-port-not-int", "stac serve {stac} --port abc", ("--port", "abc")),
    ("demo-port-too-big", "demo --port 99999", ("--port", "99999")),
    ("demo-api-port-negative", "demo --api-port -5", ("--api-port", "-5")),
    ("demo-var-is-file", "demo --var {afile}", ("--var", "afile")),
    ("demo-catalog-dir-is-file", "demo-catalog {afile}", ("afile",)),
    ("demo-catalog-bad-resolution", "demo-catalog {root}/c --resolution 0", ("--resolution", "0")),
    ("demo-catalog-bad-years", "demo-catalog {root}/c --years 2020-abc", ("--years", "2020-abc")),
    ("demo-catalog-bad-bbox", "demo-catalog {root}/c --bbox 1,2,3", ("--bbox", "1,2,3")),
    ("schema-out-is-file", "schema --out {afile}", ("--out", "afile")),
]


def _argv(template: str, w: World) -> list[str]:
    subst = {
        "root": w.root,
        "job": w.job,
        "store": w.store,
        "registry": w.registry,
        "stac": w.stac_catalog,
        "afile": w.afile,
        "tif": w.tif,
        "data": DATA,
    }
    return [part.format(**{k: str(v) for k, v in subst.items()}) for part in template.split(" ")]


def test_the_table_is_large_and_covers_every_command():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)
    commands = {
        "ingest",
        "update",
        "watch",
        "indicators",
        "export",
        "rothc run",
        "rothc site",
        "zonal",
        "regions list",
        "regions add",
        "regions build",
        "cube log",
        "cube export",
        "stac serve",
        "demo",
        "demo-catalog",
        "schema",
    }
    used = {
        " ".join(t.split(" ")[:2])
        if t.split(" ")[0] in ("rothc", "regions", "cube", "stac")
        else t.split(" ")[0]
        for _, t, _ in CASES
    }
    assert commands <= used, commands - used


@pytest.mark.parametrize(("case", "template", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_paragraph_exit_2_and_changes_nothing(
    world, tmp_path, monkeypatch, capsys, case, template, needles
):
    monkeypatch.chdir(tmp_path)  # an empty current directory: nothing may be written there
    for name in ("SOCOBS_VAR", "SOCOBS_STORE", "SOCOBS_REGISTRY", "SOCOBS_CACHE", "SOCOBS_MAX_CELLS"):
        monkeypatch.delenv(name, raising=False)
    before = [tree_digest(p) for p in world.watched]
    code = cli.run(_argv(template, world))
    out, err = capsys.readouterr()
    assert code == 2, f"exit {code}\nstdout: {out}\nstderr: {err}"
    assert_one_paragraph(err)
    assert out == ""
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert len(err) < 2500  # the input is quoted, clipped, never echoed whole
    assert [tree_digest(p) for p in world.watched] == before
    assert list(tmp_path.iterdir()) == []
    assert not (world.root / "never-created").exists()  # the 1e-7 grid is refused before any write


def _socobs(*args: str, cwd: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()):
    return subprocess.run(
        [*prefix, *SOCOBS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


REAL_PROCESS_CASES = ["unknown-command", "ingest-no-job", "zonal-band-not-int", "ingest-billion-laughs"]


@pytest.mark.parametrize("case", REAL_PROCESS_CASES)
def test_the_entry_point_reports_the_same_way(world, tmp_path, case):
    template, needles = next((t, n) for c, t, n in CASES if c == case)
    before = [tree_digest(p) for p in world.watched]
    done = _socobs(*_argv(template, world), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert_one_paragraph(done.stderr)
    assert done.stderr.startswith("error: ")
    for needle in needles:
        assert needle in done.stderr
    assert [tree_digest(p) for p in world.watched] == before
    assert list(tmp_path.iterdir()) == []


def test_console_script_version_and_help(tmp_path):
    script = Path(sys.executable).parent / "socobs"
    cmd = [str(script)] if script.exists() else SOCOBS
    version = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"socobs {importlib.metadata.version('soc-observatory')}"
    bare = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert "Usage: socobs" in bare.stdout
    for command in ("ingest", "indicators", "zonal", "rothc", "regions", "demo"):
        assert command in bare.stdout
    choices = subprocess.run(
        [*cmd, "export", "indicators", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "csv|parquet|geojson|stac" in choices.stdout
    assert list(tmp_path.iterdir()) == []


def _read_only_prefix(tmp: Path) -> tuple[str, ...]:
    """How to run a process that may not write a chmod a-w folder: as a normal user directly; as
    root inside a new user namespace (`unshare --user`), where root's file capabilities do not
    apply to files owned by the real root."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("unshare") is None:
        pytest.skip("running as root without `unshare`: a read-only folder cannot be made")
    probe = tmp / "ro-probe"
    probe.mkdir()
    probe.chmod(0o555)
    try:
        done = subprocess.run(
            ["unshare", "--user", "touch", str(probe / "x")], capture_output=True, timeout=30
        )
    finally:
        probe.chmod(0o755)
    if done.returncode == 0 or "Permission denied" not in done.stderr.decode():
        pytest.skip("running as root and `unshare --user` cannot drop root's file permissions here")
    return ("unshare", "--user")


@pytest.mark.parametrize("command", ["indicators", "rothc run"])
def test_read_only_store_says_permission(world, tmp_path, command):
    prefix = _read_only_prefix(tmp_path)
    store = tmp_path / "ro" / "store"
    shutil.copytree(world.store, store)
    for p in [store, *store.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    before = tree_digest(store)
    try:
        done = _socobs(*command.split(), str(world.job), "--store", str(store), cwd=tmp_path, prefix=prefix)
    finally:
        for p in [store, *store.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert done.returncode == 2, done.stderr
    assert_one_paragraph(done.stderr)
    assert "permission denied" in done.stderr and str(store) in done.stderr
    assert "corrupt" not in done.stderr
    assert tree_digest(store) == before


def test_bad_environment_variable_is_named(world, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCOBS_MAX_CELLS", "lots")
    assert cli.run(["ingest", str(world.job)]) == 2
    _, err = capsys.readouterr()
    assert_one_paragraph(err)
    assert "SOCOBS_MAX_CELLS" in err and "lots" in err


def test_max_cells_is_overridable(world, tmp_path, monkeypatch, capsys):
    """The 10-degree job grid (18 x 36 cells) passes the default bound and not a bound of 100."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCOBS_MAX_CELLS", "100")
    assert cli.run(["ingest", str(world.job)]) == 2
    _, err = capsys.readouterr()
    assert_one_paragraph(err)
    assert re.search(r"\d+ x 36 = ", err) and "at most 100" in err


def test_an_internal_error_is_one_paragraph_and_a_traceback_file(world, tmp_path, monkeypatch, capsys):
    """A bug (here: cube_log made to fail the way a bug would) is reported as one paragraph,
    exit 1, with the traceback in a log file; --debug prints the traceback instead."""
    import pipeline.store

    def broken(uri: str) -> list:
        raise ZeroDivisionError("a bug in the code, not in the input")

    monkeypatch.setattr(pipeline.store, "cube_log", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli.run(["cube", "log", str(world.store)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_paragraph(err)
    assert "internal error" in err and "ZeroDivisionError" in err and "--debug" in err
    logs = list(tmp_path.glob("socobs-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    text = logs[0].read_text()
    assert "Traceback" in text and "a bug in the code" in text and "cube log" in text
    assert cli.run(["--debug", "cube", "log", str(world.store)]) == 1
    _, err = capsys.readouterr()
    assert "Traceback" in err and "ZeroDivisionError" in err
    assert len(list(tmp_path.glob("socobs-*.log"))) == 1  # --debug prints, writes no file


API_CASES = [
    (["--port", "99999"], {}, ("--port", "99999")),
    (["--port", "abc"], {}, ("--port", "abc")),
    (["--bogus"], {}, ("--bogus",)),
    (["--workers", "0"], {}, ("--workers",)),
    (["--log-level", "loud"], {}, ("--log-level", "loud")),
    ([], {"SOCOBS_POLL_SECONDS": "often"}, ("SOCOBS_POLL_SECONDS", "often")),
    ([], {"SOCOBS_ADMIN_API_KEY": "short"}, ("SOCOBS_ADMIN_API_KEY",)),
    ([], {"SOCOBS_CORS_ORIGINS": "not json"}, ("cors_origins",)),
    (["--store", "/nonexistent-folder/store"], {}, ("/nonexistent-folder/store",)),
    ([], {"SOCOBS_STORE": "/nonexistent-folder/store"}, ("SOCOBS_STORE", "/nonexistent-folder/store")),
]


@pytest.mark.parametrize(("args", "env", "needles"), API_CASES)
def test_api_bad_settings_are_one_paragraph(tmp_path, monkeypatch, capsys, args, env, needles):
    """`socobs-api`'s main, in-process (uvicorn is never reached: the settings are refused)."""
    from observatory_api.__main__ import main as api_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("SOCOBS_")})
    os.environ.update(env)
    with pytest.raises(SystemExit) as stop:
        api_main(args)
    assert stop.value.code == 2
    _, err = capsys.readouterr()
    assert_one_paragraph(err)
    for needle in needles:
        assert needle in err
    assert list(tmp_path.iterdir()) == []


def test_api_entry_point_refuses_a_bad_port(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "observatory_api", "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert_one_paragraph(done.stderr)
    assert "--port" in done.stderr and "99999" in done.stderr
