"""The API under mixed load while the pipeline commits, under adversarial AOI requests, and its
first /v1/point after a commit (issue 14's three speed lines).

- Mixed load: one uvicorn process; the load generator in a second process, 50 keep-alive
  connections for 30 s over summaries, series (JSON and CSV), rankings, points and tiles at
  zooms 0-8 (a few warm ones, many cold), while an indicator job (a full recompute, the
  heaviest commit) runs in a third process and commits. Every answer must name one snapshot
  (header and body agree) and a sample of answers is checked against the store's tables at
  the snapshot they name.
- Adversarial AOI: the most expensive requests within the limits (time, peak extra RSS of the
  server process sampled every 5 ms) and the cost of refusing those beyond them.
- Cold point: the first /v1/point after an incremental commit (a new epoch), at a cell a
  dashboard read before the commit, and at a cell never read.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import morecantile
import psutil

from tests.benchmarks.api import ApiProcess, BenchStore, tile_set
from tests.observatory_api.shapes import comb, polygon, spiral, star

JOB_DELAY = 4.0  # seconds of load before the indicator job starts
AFTER_SWAP = 10.0  # seconds of load after the API serves the job's commit (30 s at least in all)
LAND = [
    (2.35, 48.85),
    (36.8, -1.3),
    (-46.6, -23.5),
    (116.4, 39.9),
    (-87.6, 41.9),
    (77.2, 28.6),
    (-58.4, -34.6),
    (18.4, -33.9),
    (151.2, -33.9),
    (37.6, 55.8),
    (-99.1, 19.4),
    (3.4, 6.5),
]


def mixed_paths(base: str, seed: int = 1) -> tuple[list[str], list[str]]:
    """The requests of a dashboard crowd, shuffled; and the summary paths to verify."""
    rnd = random.Random(seed)
    regions = [
        r["region_id"] for r in httpx.get(f"{base}/v1/regions", params={"level": "country"}).json()["regions"]
    ]
    regions = ["global", "africa", "europe", "asia", *regions]
    inds = [
        "soc_stock",
        "soc_stock_change",
        "soc_change_rate",
        "progress_4p1000",
        "soc_clay_ratio",
        "sh_class",
    ]
    out: list[str] = []
    out += [f"/v1/regions/{r}/summary" for r in regions] * 3
    out += [f"/v1/regions/{rnd.choice(regions)}/indicators/{rnd.choice(inds)}" for _ in range(400)]
    out += [f"/v1/regions/{rnd.choice(regions)}/indicators/{rnd.choice(inds)}?format=csv" for _ in range(200)]
    out += [f"/v1/rankings/{i}?level={lv}" for i in inds for lv in ("country", "region")] * 10
    cells = [(lon + rnd.uniform(-3, 3), lat + rnd.uniform(-3, 3)) for lon, lat in LAND for _ in range(25)]
    out += [f"/v1/point?lat={lat:.3f}&lon={lon:.3f}" for lon, lat in cells]
    warm = [f"/v1/tiles/soc_stock/{z}/{x}/{y}.png" for z, x, y in tile_set()] * 8
    tms = morecantile.tms.get("WebMercatorQuad")
    cold = []
    for z in range(0, 9):
        for lon, lat in cells[:: max(1, 9 - z)]:
            t = tms.tile(lon, lat, z)
            cold.append(f"/v1/tiles/{rnd.choice(inds)}/{z}/{t.x}/{t.y}.png")
    out += warm + cold
    rnd.shuffle(out)
    return out, [f"/v1/regions/{r}/summary" for r in ("global", "europe", "FRA", "KEN", "BRA")]


def _verify(bs: BenchStore, recorded: list[list[str]]) -> int:
    """Answers whose value differs from the store's tables at the snapshot they name."""
    import xarray as xr

    from pipeline.store import open_repo

    repo = open_repo(bs.store)
    tables: dict[str, xr.Dataset] = {}
    bad = 0
    for path, snapshot, body in recorded:
        if snapshot not in tables:
            s = repo.readonly_session(snapshot_id=snapshot)
            tables[snapshot] = xr.open_zarr(s.store, group="tables", consolidated=False).load()
        doc = json.loads(body)
        row = tables[snapshot].sel(region=path.split("/")[3], stratum="all", epoch=doc["epoch"])
        want = float(row["soc_stock_total"])
        got = doc["values"]["soc_stock_total"]["value"]
        bad += not (got is not None and abs(got - want) <= 1e-9 * max(1.0, abs(want)))
    return bad


def bench_mixed(bs: BenchStore, seconds: float = 30.0, connections: int = 50) -> dict[str, Any]:
    """The mixed load while an indicator job (the year before the last, ingested just before
    the load) runs in another process and commits."""
    from pipeline.ingest.job import run_update
    from pipeline.ingest.stac_server import serve_catalog

    assert bs.but_last is not None
    with serve_catalog(bs.but_last) as srv:
        run_update(bs.job, stac_url=srv.url)  # new data in the cube; indicators not yet computed
    with ApiProcess(bs, poll_seconds=0.5) as api:
        paths, verify = mixed_paths(api.base)
        code = (
            "from pathlib import Path; from pipeline.indicators.job import run_indicators; "
            f"r = run_indicators({bs.store!r}, registry=Path({str(bs.registry)!r}), "
            f"cache_dir=Path({str(bs.cache)!r})); print(r.snapshot_id, r.mode)"
        )
        with tempfile.TemporaryDirectory() as tmp:
            pf, rec, stop = Path(tmp) / "paths.txt", Path(tmp) / "recorded.json", Path(tmp) / "stop"
            pf.write_text("\n".join(paths))
            load = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.benchmarks.loadgen",
                    api.base,
                    "--paths-file",
                    str(pf),
                    "--connections",
                    str(connections),
                    "--seconds",
                    str(seconds),
                    "--verify",
                    *verify,
                    "--record",
                    str(rec),
                    "--stop-file",
                    str(stop),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0 + JOB_DELAY)  # the load generator's warm-up second, then some load
            t_job = time.perf_counter()
            job = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
            job_s = time.perf_counter() - t_job
            committed = job.stdout.split()[-2] if job.returncode == 0 else None
            deadline = time.monotonic() + 120
            while (
                time.monotonic() < deadline
                and httpx.get(f"{api.base}/readyz").json()["snapshot_id"] != committed
            ):
                time.sleep(0.05)
            swapped_s = time.perf_counter() - t_job - job_s
            time.sleep(AFTER_SWAP)  # the answers of the new snapshot are measured too
            stop.touch()
            out, _ = load.communicate(timeout=900)
            res = json.loads(out.strip().splitlines()[-1])
            recorded = json.loads(rec.read_text())
    mode = job.stdout.split()[-1] if job.returncode == 0 else "failed: " + job.stderr[-300:]
    res.update(
        job_s=job_s,
        job_mode=mode,
        swap_after_commit_s=swapped_s,
        committed=committed,
        committed_during_load=committed in res["snapshots"],
        verified=len(recorded),
        wrong=_verify(bs, recorded),
        paths=len(paths),
    )
    return res


class RssPeak:
    """Peak RSS of a process, sampled every 5 ms while in a ``with`` block."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0

    def __enter__(self) -> RssPeak:
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def _chunked_refusal_s(base: str, total: int = 50 * 2**20) -> float:
    """Seconds from the first byte of a chunked body of ``total`` bytes to the server's answer."""
    import socket
    import urllib.parse

    u = urllib.parse.urlsplit(base)
    with socket.create_connection((u.hostname, u.port)) as s:
        s.settimeout(30)
        head = b"POST /v1/aoi/assess HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"%x\r\n" % 2**16 + b" " * 2**16 + b"\r\n"
        t0 = time.perf_counter()
        s.sendall(head)
        sent = 0
        s.setblocking(False)
        reply = b""
        while sent < total and b"\r\n\r\n" not in reply:
            try:
                s.send(chunk)
                sent += 2**16
            except BlockingIOError:
                time.sleep(0.0005)
            with contextlib.suppress(BlockingIOError):
                reply += s.recv(65536)
        took = time.perf_counter() - t0
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    return took


def bench_aoi(bs: BenchStore) -> dict[str, Any]:
    big_square = [(0, 40), (4.5, 40), (4.5, 44.3), (0, 44.3)]  # ~ 250 000 km2
    band = [(-20, 10), (60, 10), (60, 10.25), (-20, 10.25)]  # long and thin: a wide window
    holes = [
        [(x, y), (x + 0.1, y), (x + 0.1, y + 0.1), (x, y + 0.1)]
        for x in [0.2 + 0.15 * i for i in range(28)]
        for y in [40.2 + 0.12 * j for j in range(32)]
    ]  # 896 holes
    accepted = {
        "star 2 000 vertices": polygon(star(2_000)),
        "spiral 20 000": polygon(spiral(19_998)),
        "comb 20 000": polygon(comb(19_996)),
        "896 holes": polygon(big_square, holes),
        "250 000 km2 square": polygon(big_square),
        "thin band 80 degrees": polygon(band),
        "antimeridian": polygon([(179.5, 65), (-179.5, 65), (-179.5, 66), (179.5, 66)]),
    }
    refused = {
        "star 20 000 vertices": polygon(star(19_999)),
        "world": polygon([(-180, -90), (180, -90), (180, 90), (-180, 90)]),
        "10 000 parts": {
            "type": "MultiPolygon",
            "coordinates": [
                [[[i % 90, 40], [i % 90 + 1, 40], [i % 90, 41], [i % 90, 40]]] for i in range(10_000)
            ],
        },
        "1 000 000 km2": polygon([(0, 40), (10, 40), (10, 50), (0, 50)]),
    }
    out: dict[str, Any] = {"accepted": {}, "refused": {}}
    with (
        ApiProcess(bs, extra_env={"SOCOBS_CLIENT_REQUESTS_PER_MINUTE": "100000"}) as api,
        httpx.Client(base_url=api.base, timeout=60) as c,
    ):
        c.post("/v1/aoi/assess", json={"geometry": polygon([(0, 46), (1, 46), (1, 47)])})  # warm
        for name, geom in accepted.items():
            with RssPeak(api.pid) as rss:
                t0 = time.perf_counter()
                r = c.post("/v1/aoi/assess", json={"geometry": geom, "ring_km": 200})
                took = time.perf_counter() - t0
            out["accepted"][name] = {"status": r.status_code, "s": took, "extra_mb": rss.extra_mb}
        for name, geom in refused.items():
            body = json.dumps({"geometry": geom, "ring_km": 200}).encode()
            t0 = time.perf_counter()
            r = c.post("/v1/aoi/assess", content=body, headers={"content-type": "application/json"})
            out["refused"][name] = {"status": r.status_code, "s": time.perf_counter() - t0}
        deep = b"[" * 100_000 + b"]" * 100_000
        t0 = time.perf_counter()
        r = c.post("/v1/aoi/assess", content=deep[:999_000])
        out["refused"]["JSON nested 100 000 deep"] = {"status": r.status_code, "s": time.perf_counter() - t0}
        out["refused"]["50 MB chunked body"] = {"status": 413, "s": _chunked_refusal_s(api.base)}
    acc = out["accepted"].values()
    ref = out["refused"].values()
    out["max_accepted_s"] = max(x["s"] for x in acc)
    out["max_extra_mb"] = max(x["extra_mb"] for x in acc)
    out["max_refused_s"] = max(x["s"] for x in ref)
    out["all_ok"] = all(x["status"] == 200 for x in acc) and all(400 <= x["status"] < 500 for x in ref)
    return out


def bench_cold_point(bs: BenchStore) -> dict[str, Any]:
    """First /v1/point after an incremental commit (the held-back year ingested, then indicators)."""
    from pipeline.indicators.job import run_indicators
    from pipeline.ingest.job import run_update
    from pipeline.ingest.stac_server import serve_catalog

    seen = [(48.85, 2.35), (-1.3, 36.8), (-23.5, -46.6)]
    fresh = (41.9, -87.6)
    with ApiProcess(bs, poll_seconds=0.05) as api, httpx.Client(base_url=api.base, timeout=60) as c:
        t0 = time.perf_counter()
        c.get("/v1/point", params={"lat": seen[0][0], "lon": seen[0][1]})
        first_ever = time.perf_counter() - t0
        for lat, lon in seen[1:]:
            c.get("/v1/point", params={"lat": lat, "lon": lon})
        before = c.get("/readyz").json()["snapshot_id"]
        with serve_catalog(bs.catalog) as srv:
            run_update(bs.job, stac_url=srv.url)
        result = run_indicators(bs.store, registry=bs.registry, cache_dir=bs.cache)
        deadline = time.monotonic() + 120
        while c.get("/readyz").json()["snapshot_id"] != result.snapshot_id and time.monotonic() < deadline:
            time.sleep(0.01)
        t0 = time.perf_counter()
        r = c.get("/v1/point", params={"lat": seen[1][0], "lon": seen[1][1]})
        after_commit = time.perf_counter() - t0
        t0 = time.perf_counter()
        r2 = c.get("/v1/point", params={"lat": fresh[0], "lon": fresh[1]})
        never_read = time.perf_counter() - t0
    return {
        "mode": result.mode,
        "epochs_after": len(r.json()["maps"]["soc_stock"]["epochs"]),
        "first_ever_ms": first_ever * 1e3,
        "after_commit_ms": after_commit * 1e3,
        "never_read_ms": never_read * 1e3,
        "ok": r.status_code == 200 and r2.status_code == 200 and r.json()["snapshot_id"] != before,
    }


if __name__ == "__main__":
    from tests.benchmarks.api import bench_store

    w = Path(tempfile.mkdtemp())
    b = bench_store(w, res=float(os.environ.get("BENCH_RES", "0.5")))
    print(
        json.dumps(
            {"aoi": bench_aoi(b), "mixed": bench_mixed(b), "cold_point": bench_cold_point(b)}, indent=2
        )
    )


def hostile_rows(bs: BenchStore, results: dict[str, Any], quick: bool) -> list[tuple[str, str, str, bool]]:
    """Issue 14's three speed lines (run in this order: the AOI, then two commits)."""
    a = results["aoi"] = bench_aoi(bs)
    m = results["mixed"] = bench_mixed(bs, seconds=10 if quick else 30)
    c = results["cold_point"] = bench_cold_point(bs)
    ok = m["errors"] == 0 and m["mixed"] == 0 and m["wrong"] == 0 and m["committed_during_load"]
    return [
        (
            f"mixed load, {m['connections']:.0f} connections, {m['paths']} URLs, while a job commits",
            f"{m['rps']:.0f} req/s, p99 {m['p99_ms']:.0f} ms, {m['errors']:.0f} err, {m['mixed']:.0f} mixed, "
            f"{m['wrong']} wrong",
            ">= 1500/s, p99 <= 100 ms, 0 err",
            ok and m["rps"] >= 1500 and m["p99_ms"] <= 100,
        ),
        (
            "adversarial AOI: most expensive accepted (time; extra RSS)",
            f"{a['max_accepted_s'] * 1e3:.0f} ms; +{a['max_extra_mb']:.0f} MB",
            "<= 2 s; <= 300 MB",
            a["all_ok"] and a["max_accepted_s"] <= 2 and a["max_extra_mb"] <= 300,
        ),
        (
            "adversarial AOI: slowest refusal (star, world, parts, 50 MB chunked ...)",
            f"{a['max_refused_s'] * 1e3:.0f} ms",
            "<= 50 ms",
            a["all_ok"] and a["max_refused_s"] <= 0.05,
        ),
        (
            "cold /v1/point after a commit: a cell not asked before (one asked before)",
            f"{c['never_read_ms']:.1f} ms ({c['after_commit_ms']:.1f} ms); new process {c['first_ever_ms']:.0f} ms",
            "<= 50 ms",
            c["ok"] and c["never_read_ms"] <= 50,
        ),
    ]
