"""Shared benchmark helpers: where outputs go, the cached large portfolio, a throwaway PostgreSQL.

Every benchmark takes ``--tiny``: the same code paths at a scale that runs in seconds, in a temporary folder
(nothing cached, nothing reused), printing its figures and checking no goal. CI runs each one that way
(tests/test_benchmarks.py), so a benchmark that breaks fails the build; `make bench` runs them full size.
"""

from __future__ import annotations

import argparse
import atexit
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: ``--tiny`` on the command line (read at import, since OUT depends on it)
TINY = "--tiny" in sys.argv[1:]
#: the portfolio scale of a tiny run: 10 trainings and 250 attendances per partnership
TINY_SCALE = 0.005
if TINY:
    OUT = Path(tempfile.mkdtemp(prefix="mou-bench-tiny-"))
    atexit.register(shutil.rmtree, OUT, ignore_errors=True)
else:
    OUT = Path(__file__).resolve().parent / "out"
    OUT.mkdir(exist_ok=True)


def add_tiny(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--tiny", action="store_true",
                    help="run every step at a scale of seconds in a temporary folder (CI); no goal is checked")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_of(stderr: str) -> float:
    """The peak memory (MB) that `python -m benchmarks.measure ...` printed last on stderr."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("peak_rss_mb="):
            return float(line.split("=", 1)[1])
    raise ValueError(f"no peak memory line in: {stderr[-500:]}")


def ensure_portfolio(url: str, path: Path, scale: float = 1.0, *, rebuild: bool = False) -> dict[str, Any] | None:
    """Build the large portfolio into the SQLite file ``path`` unless a finished one is there already.

    Returns the generation figures when it built one, None when it reused the cached file."""
    from benchmarks.portfolio import build_portfolio

    done = path.with_suffix(".done")
    if done.exists() and path.exists() and not rebuild:
        return None
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"), done):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    counts = build_portfolio(url, scale=scale, progress=lambda m: print("  " + m, file=sys.stderr))
    seconds = time.perf_counter() - t0
    done.write_text(str(counts))
    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "counts": counts}


@contextmanager
def postgres_server() -> Iterator[Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.pgcluster import ThrowawayPostgres

    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.stop()
