"""Core benchmark: generate the large portfolio, then time `progress` for one partnership and quarter.

    .venv/bin/python -m benchmarks.bench_core [--scale 1.0] [--skip-postgres] [--rebuild] [--tiny]

Prints: generation time, `progress` time (in process, and as a whole CLI call), peak memory, on SQLite and on
a throwaway PostgreSQL; then `progress --all-partnerships` (the 10-partnership portfolio roll-up) the same way.
Goals: progress under 1 s on SQLite, peak memory under 300 MB; `progress --all-partnerships` under 2 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from benchmarks.common import OUT, TINY_SCALE, add_tiny, ensure_portfolio, peak_of, peak_rss_mb, postgres_server
from mou_tracker.db.engine import Database
from mou_tracker.domain.periods import Quarter
from mou_tracker.services import Services
from mou_tracker.services.indicators import IndicatorEngine

PERIOD = Quarter(2024, 2)
PARTNERSHIP = "PORT-05"


def measure_progress(url: str) -> dict[str, float]:
    db = Database(url)
    svc = Services(db, "bench", partnership=PARTNERSHIP)
    pid = svc.partnership_id
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        with db.reading() as s:
            result = IndicatorEngine(s, pid).progress(PERIOD)
        timings.append(time.perf_counter() - t0)
    assert len(result.indicators) == 12
    db.dispose()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.measure", "--db", url, "--partnership", PARTNERSHIP,
                          "progress", "--period", str(PERIOD), "--format", "json"],
                         capture_output=True, text=True, check=True)
    cli_s = time.perf_counter() - t0
    json.loads(out.stdout)
    return {"engine_first_s": timings[0], "engine_best_s": min(timings), "cli_s": cli_s,
            "cli_peak_mb": peak_of(out.stderr)}


def measure_portfolio(url: str) -> dict[str, float]:
    """`progress --all-partnerships`: in process (``Reader.portfolio``), then as a whole CLI call."""
    from mou_tracker.read import Reader

    db = Database(url)
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        with Reader(db, partnership=PARTNERSHIP) as reader:
            result = reader.portfolio(PERIOD)
        timings.append(time.perf_counter() - t0)
    db.dispose()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.measure", "--db", url, "progress", "--all-partnerships",
                          "--period", str(PERIOD), "--format", "json"], capture_output=True, text=True, check=True)
    cli_s = time.perf_counter() - t0
    data = json.loads(out.stdout)
    assert len(data["partnerships"]) == len(result.partnerships) and data["portfolio"]
    return {"partnerships": len(result.partnerships), "engine_first_s": timings[0], "engine_best_s": min(timings),
            "cli_s": cli_s, "cli_peak_mb": peak_of(out.stderr)}


def print_portfolio(label: str, r: dict[str, float]) -> None:
    print(f"{label} progress --all-partnerships ({r['partnerships']} partnerships) {PERIOD}: in process "
          f"{r['engine_first_s'] * 1000:.0f} ms first, {r['engine_best_s'] * 1000:.0f} ms best; whole CLI call "
          f"{r['cli_s']:.2f} s, peak {r['cli_peak_mb']:.0f} MB (goal < 2 s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--rebuild", action="store_true")
    add_tiny(ap)
    args = ap.parse_args()
    if args.tiny:
        args.scale = TINY_SCALE

    print(f"== core benchmark (scale {args.scale}) ==")
    path = OUT / f"portfolio-{args.scale}.db"
    gen = ensure_portfolio(f"sqlite:///{path}", path, args.scale, rebuild=args.rebuild)
    if gen is not None:
        print(f"sqlite   generation: {gen['seconds']:.1f} s, peak {gen['peak_mb']:.0f} MB, {gen['counts']}")
    else:
        print(f"sqlite   generation: reused {path}")
    r = measure_progress(f"sqlite:///{path}")
    print(f"sqlite   progress {PARTNERSHIP} {PERIOD}: engine {r['engine_first_s'] * 1000:.0f} ms first, "
          f"{r['engine_best_s'] * 1000:.0f} ms best; whole CLI call {r['cli_s']:.2f} s, peak {r['cli_peak_mb']:.0f} MB"
          f" (goal < 1 s, < 300 MB)")
    print_portfolio("sqlite  ", measure_portfolio(f"sqlite:///{path}"))
    if not args.skip_postgres:
        with postgres_server() as server:
            server.admin("CREATE DATABASE bench")
            url = server.url("bench")
            t0 = time.perf_counter()
            from benchmarks.portfolio import build_portfolio

            counts = build_portfolio(url, scale=args.scale)
            print(f"postgres generation: {time.perf_counter() - t0:.1f} s, {counts}")
            r = measure_progress(url)
            print(f"postgres progress {PARTNERSHIP} {PERIOD}: engine {r['engine_first_s'] * 1000:.0f} ms first, "
                  f"{r['engine_best_s'] * 1000:.0f} ms best; whole CLI call {r['cli_s']:.2f} s, "
                  f"peak {r['cli_peak_mb']:.0f} MB")
            print_portfolio("postgres", measure_portfolio(url))
    print(f"this process peak: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
