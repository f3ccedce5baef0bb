"""Shared benchmark helpers: where outputs go, the cached large portfolio, a throwaway PostgreSQL."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
OUT.mkdir(exist_ok=True)


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
