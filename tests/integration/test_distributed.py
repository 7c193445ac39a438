"""Ingestion on a real dask.distributed cluster: `dask scheduler` and `dask worker` processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.ingest.job import run_ingest
from pipeline.ingest.stac_server import free_port
from pipeline.store import open_cube
from tests.support.demo import demo_job

pytestmark = pytest.mark.integration


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def test_ingest_on_scheduler_and_worker_processes(stac_api, tmp_path):
    port = free_port()
    dask_bin = str(Path(sys.executable).parent / "dask")
    sched = subprocess.Popen(
        [dask_bin, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        _wait_port(port)
        worker = subprocess.Popen(
            [dask_bin, "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "2", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from distributed import Client

        with Client(f"tcp://127.0.0.1:{port}", timeout=30) as c:
            c.wait_for_workers(1, timeout=60)
        job = demo_job(tmp_path / "dist", scheduler=f"tcp://127.0.0.1:{port}")
        res = run_ingest(job, stac_url=stac_api.url)
        assert res.committed
        local = demo_job(tmp_path / "local")
        run_ingest(local, stac_url=stac_api.url)
        a, b = open_cube(job.store), open_cube(local.store)
        for name in a.data_vars:
            np.testing.assert_array_equal(a[name].values, b[name].values)
    finally:
        for p in (worker, sched):
            if p is not None:
                p.terminate()
                p.wait(30)
