"""`socobs cube gc`: a job killed mid-write leaves chunks no snapshot references; gc deletes
exactly those, and every kept snapshot reads bit-identical before and after."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pipeline.cli import run
from pipeline.store import CUBE, StoreError, cube_log, open_cube, tip
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration


def _ingest(job_file: Path, stac: str, crash_at: int = 0) -> subprocess.CompletedProcess[str]:
    runner = ["tests.support.crash", str(crash_at)] if crash_at else ["pipeline.cli"]
    cmd = [sys.executable, "-m", *runner, "ingest", str(job_file), "--stac", stac]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def _chunks(store: str) -> set[str]:
    return {str(p.relative_to(store)) for p in (Path(store) / "chunks").rglob("*") if p.is_file()}


def _digest(store: str, snapshot: str) -> str:
    ds = open_cube(store, snapshot, group=CUBE)
    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        h.update(name.encode())
        h.update(np.ascontiguousarray(ds[name].values).tobytes())
    return h.hexdigest()


def test_gc_deletes_a_killed_jobs_chunks_and_keeps_every_kept_snapshot(stac_api, tmp_path, capsys):
    job = demo_job(tmp_path / "repo")
    jf = tmp_path / "job.yaml"
    jf.write_text(yaml.safe_dump(json.loads(job.model_dump_json())))
    assert _ingest(jf, stac_api.url).returncode == 0
    assert _ingest(jf, stac_api.url).returncode == 0  # a second commit: two snapshots to keep
    store = job.store
    log = cube_log(store)
    snaps = [e.snapshot_id for e in log if e.metadata.get("kind")]  # not the empty root commit
    assert len(snaps) == 2
    digests = {s: _digest(store, s) for s in snaps}
    committed = _chunks(store)

    killed = _ingest(jf, stac_api.url, crash_at=4)
    assert killed.returncode == -9
    orphans = _chunks(store) - committed
    assert orphans, "the killed job wrote chunks before it died"
    assert tip(store) == snaps[0]

    assert run(["cube", "gc", "--store", store, "--grace", "0"]) == 0
    out = capsys.readouterr().out
    assert "expired 0 snapshots" in out and f"deleted {len(orphans)} chunks" in out
    assert _chunks(store) == committed  # exactly the orphans are gone
    assert [e.snapshot_id for e in cube_log(store)] == [e.snapshot_id for e in log]
    assert {s: _digest(store, s) for s in snaps} == digests

    # --keep 1: the older commit is expired (its own chunks with it), the newest reads the same
    assert run(["cube", "gc", "--store", store, "--grace", "0", "--keep", "1"]) == 0
    assert "expired 1 snapshots" in capsys.readouterr().out
    assert cube_log(store)[0].snapshot_id == snaps[0]
    assert _digest(store, snaps[0]) == digests[snaps[0]]
    assert len(_chunks(store)) < len(committed)  # the expired commit's own chunks are gone
    with pytest.raises(StoreError):
        _digest(store, snaps[1])


def test_gc_refuses_bad_input_and_leaves_the_store_alone(stac_api, tmp_path, capsys):
    job = demo_job(tmp_path / "repo")
    jf = tmp_path / "job.yaml"
    jf.write_text(yaml.safe_dump(json.loads(job.model_dump_json())))
    assert _ingest(jf, stac_api.url).returncode == 0
    before = _chunks(job.store)
    assert run(["cube", "gc", "--store", job.store, "--keep", "0"]) == 2
    assert "--keep" in capsys.readouterr().err
    assert run(["cube", "gc", "--store", str(tmp_path / "nothing")]) == 2
    assert _chunks(job.store) == before
