"""``make bench``: every benchmark, its figures and its goal, measured side by side in one run.

Usage: python -m tests.benchmarks [--only zonal,stock,theil-sen,whatif,rothc,indicators,api,assess,dashboard,monthly,ingest,scale] [--quick]
(ingest and scale are not in the default set: they take minutes to tens of minutes)
(--quick uses smaller sizes to check the harness; the goals refer to the full sizes).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numba

from tests.benchmarks.api import bench_load, bench_store, bench_tiles
from tests.benchmarks.api_hostile import hostile_rows
from tests.benchmarks.assess import bench_assess
from tests.benchmarks.assess import goal_rows as assess_rows
from tests.benchmarks.dashboard import bench_dashboard
from tests.benchmarks.dashboard import goal_rows as dashboard_rows
from tests.benchmarks.indicators import bench_indicators
from tests.benchmarks.ingest import bench_ingest
from tests.benchmarks.kernels import bench_stock, bench_theil_sen, bench_zonal
from tests.benchmarks.monthly import bench_monthly
from tests.benchmarks.monthly import goal_rows as monthly_rows
from tests.benchmarks.rothc import bench_rothc
from tests.benchmarks.scale import bench_scale
from tests.benchmarks.scale import goal_rows as scale_rows
from tests.benchmarks.whatif import bench_whatif
from tests.benchmarks.whatif import goal_rows as whatif_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--only", default="zonal,stock,theil-sen,whatif,rothc,indicators,api,assess,dashboard,monthly"
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=Path("var/bench/latest.json"))
    ap.add_argument(
        "--scale-resolutions",
        default="0.05,0.02,0.01",
        help="degrees, each 0.1 / an integer (--quick: 0.1,0.05)",
    )
    ap.add_argument("--scale-no-rothc", action="store_true", help="scale: ingest and indicators only")
    args = ap.parse_args()
    only = set(args.only.split(","))
    res = 0.1 if args.quick else 0.025
    print(f"machine: {platform.processor() or platform.machine()}, numba threads {numba.get_num_threads()}")
    results: dict[str, dict[str, float]] = {}
    rows: list[tuple[str, str, str, bool]] = []
    if "zonal" in only:
        z = results["zonal"] = bench_zonal(res, Path("var/cache/bench"))
        rows.append(
            (
                "zonal vs exactextract (area-weighted mean, countries)",
                f"{z['speedup_vs_exactextract']:.0f}x ({z['ours_s'] * 1e3:.1f} ms vs {z['exactextract_s']:.2f} s)",
                ">= 50x",
                z["speedup_vs_exactextract"] >= 50,
            )
        )
        rows.append(
            (
                "zonal vs bandwidth floor (read values + labels once)",
                f"{z['fraction_of_floor']:.2f} (floor {z['floor_s'] * 1e3:.1f} ms)",
                ">= 0.7",
                z["fraction_of_floor"] >= 0.7,
            )
        )
    if "stock" in only:
        s = results["stock"] = bench_stock(res)
        rows.append(
            (
                "SOC stock, 9 int16 layers vs bandwidth floor",
                f"{s['fraction_of_floor']:.2f} ({s['ours_s'] * 1e3:.1f} ms vs {s['floor_s'] * 1e3:.1f} ms)",
                ">= 0.7",
                s["fraction_of_floor"] >= 0.7,
            )
        )
    if "theil-sen" in only:
        t = results["theil_sen"] = bench_theil_sen(100_000 if args.quick else 1_000_000)
        rows.append(
            (
                "Theil-Sen, 20 epochs, vs scipy.stats.theilslopes loop",
                f"{t['speedup_vs_scipy']:.0f}x ({t['ours_us_per_pixel']:.2f} us vs "
                f"{t['scipy_us_per_pixel']:.0f} us per pixel)",
                ">= 500x",
                t["speedup_vs_scipy"] >= 500,
            )
        )
    if "whatif" in only:
        results["whatif"] = bench_whatif(args.quick)
        rows.extend(whatif_rows(results["whatif"]))
    if "rothc" in only:
        r = results["rothc"] = bench_rothc(100_000 if args.quick else 1_000_000)
        rows.append(("RothC pixel-months per second (2 cores)", f"{r['pixel_months_per_s']:.3g}", "-", True))
        rows.append(
            (
                f"GSOCseq-style run, {r['pixels']:.0f} pixels (eq + inverse + 4 x 240 months)",
                f"{r['gsocseq_run_s']:.1f} s",
                "< 60 s",
                r["gsocseq_run_s"] < 60,
            )
        )
        rows.append(
            (
                "RothC per pixel-month vs pyrothc",
                f"{r['speedup_vs_pyrothc']:.0f}x ({r['ours_ns_per_pixel_month']:.1f} ns vs "
                f"{r['pyrothc_us_per_pixel_month']:.0f} us)",
                ">= 1000x",
                r["speedup_vs_pyrothc"] >= 1000,
            )
        )
    if "indicators" in only:
        i = results["indicators"] = bench_indicators(1.0 if args.quick else 0.5)
        rows.append(
            (
                f"indicators: incremental (1 new epoch) / full ({i['epochs']:.0f} epochs, {i['regions']:.0f} regions)",
                f"{i['ratio']:.2f} ({i['incremental_s']:.1f} s vs {i['full_s']:.1f} s)",
                "<= 0.3",
                i["ratio"] <= 0.3,
            )
        )
    if "api" in only:
        import shutil
        import tempfile

        work = Path(tempfile.mkdtemp(prefix="socobs-bench-api-"))
        try:
            bs = bench_store(work, res=1.0 if args.quick else 0.5)
            store, registry = bs.store, bs.registry
            tl = results["tiles"] = bench_tiles(store, registry)
            ld = results["load"] = bench_load(store, registry, seconds=4 if args.quick else 10)
            hostile = hostile_rows(bs, results, args.quick)  # commits to the store: after the above
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows.append(
            (
                f"tiles z0-8 ({tl['tiles']:.0f}), ours vs rio-tiler XarrayReader, median",
                f"{tl['speedup_median']:.0f}x ({tl['ours_median_ms']:.1f} ms vs {tl['riotiler_median_ms']:.1f} ms)",
                ">= 3x",
                tl["speedup_median"] >= 3,
            )
        )
        rows.append(
            (
                "tiles p99 (ours; rio-tiler)",
                f"{tl['ours_p99_ms']:.1f} ms ({tl['riotiler_p99_ms']:.1f} ms)",
                "<= 50 ms",
                tl["ours_p99_ms"] <= 50,
            )
        )
        rows.append(
            (
                f"/summary under load, {ld['connections']:.0f} connections (uvicorn, 1 process)",
                f"{ld['rps']:.0f} req/s, p99 {ld['p99_ms']:.1f} ms, {ld['errors']:.0f} errors",
                ">= 1000/s, p99 <= 50 ms, 0 err",
                ld["rps"] >= 1000 and ld["p99_ms"] <= 50 and ld["errors"] == 0,
            )
        )
        rows.extend(hostile)
    if "assess" in only:
        results["assess"] = bench_assess(args.quick)
        rows.extend(assess_rows(results["assess"]))
    if "dashboard" in only:
        db = results["dashboard"] = bench_dashboard()
        rows.extend(dashboard_rows(db))
    if "monthly" in only:
        results["monthly"] = bench_monthly(args.quick)
        rows.extend(monthly_rows(results["monthly"]))
    if "scale" in only:
        scale_res = (0.1, 0.05) if args.quick else tuple(float(r) for r in args.scale_resolutions.split(","))
        sc = bench_scale(scale_res, rothc=not args.scale_no_rothc)
        results.update({f"scale_{k}": v for k, v in sc.items()})
        rows.extend(scale_rows(sc))
    if "ingest" in only:
        g = results["ingest"] = bench_ingest(0.5 if args.quick else 0.25)
        rows.append(
            (
                "ingest vs plain odc-stac load + to_zarr (same items, grid, chunks)",
                f"{g['ratio']:.2f} ({g['ingest_s']:.0f} s vs {g['plain_odc_to_zarr_s']:.0f} s)",
                "<= 1.2",
                g["ratio"] <= 1.2,
            )
        )
        rows.append(
            (
                "ingest peak RSS, region 4x larger, same chunking",
                f"{g['rss_growth'] * 100:+.0f} % ({g['rss_quarter_mib']:.0f} -> {g['rss_full_mib']:.0f} MiB)",
                "<= +20 %",
                g["rss_growth"] <= 0.2,
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"\n{'benchmark':<{width}}  {'measured':<44} {'goal':<30} met")
    for name, value, goal, met in rows:
        print(f"{name:<{width}}  {value:<44} {goal:<30} {'yes' if met else 'NO'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": args.quick, "results": results}, indent=2
        )
    )
    print(f"\nall figures: {args.json}")


if __name__ == "__main__":
    main()
